"""Fixtures for the tally tests: the shared Pabulib files (skipped when absent) and caches."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

from pb_vote.tally.model import Election
from pb_vote.tally.pabulib import read_pabulib

REPO_ROOT = Path(__file__).resolve().parents[2]
PABULIB_DIR_VARIABLE = "PB_VOTE_PABULIB_DIR"


def pabulib_dir() -> Path:
    """Where the shared Pabulib files are: $PB_VOTE_PABULIB_DIR or ../shared/pabulib."""
    configured = os.environ.get(PABULIB_DIR_VARIABLE)
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "pabulib"


def shared_path(name: str) -> Path:
    """Path of one shared file; skips the test when it is not there."""
    path = pabulib_dir() / name
    if not path.is_file():
        pytest.skip(f"shared Pabulib file {name} not found in {pabulib_dir()} "
                    f"(set {PABULIB_DIR_VARIABLE})")
    return path


@cache
def _read(path: str) -> Election:
    return read_pabulib(path)


def shared_election(name: str) -> Election:
    """The parsed shared file, read once per session."""
    return _read(str(shared_path(name)))


@pytest.fixture
def pabulib_files() -> list[Path]:
    """Every shared .pb file, its ``hard/`` folder too (skips when the folder is absent)."""
    files = sorted(pabulib_dir().glob("*.pb")) + sorted(pabulib_dir().glob("hard/*.pb"))
    if not files:
        pytest.skip(f"no shared Pabulib files in {pabulib_dir()} (set {PABULIB_DIR_VARIABLE})")
    return files
