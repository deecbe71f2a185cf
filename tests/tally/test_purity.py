"""pb_vote/tally is pure: standard library, itself, and numpy for exact integer counting in large
elections, nothing else (checked on the source, not at run time, so an import hidden in a
function or behind a condition is caught too)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import pb_vote.tally

TALLY_DIR = Path(pb_vote.tally.__file__).parent
FILES = sorted(TALLY_DIR.rglob("*.py"))
# The one array library, and only where it counts voters per budget class (mes.py).
ALLOWED = {"mes.py": {"numpy"}}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in a file; relative imports count as ours."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "pb_vote.tally" if node.level else node.module or ""))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", ""))
            in ("__import__", "import_module")
        ):
            found.append((node.lineno, "<dynamic import>"))
    return found


def test_the_scan_sees_every_file():
    assert {p.name for p in FILES} >= {"__init__.py", "model.py", "rules.py", "mes.py", "cli.py"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_tally_imports_only_the_standard_library_and_itself(path):
    bad = []
    for line, module in imported_modules(path):
        top = module.split(".")[0]
        if module == "pb_vote.tally" or module.startswith("pb_vote.tally."):
            continue
        if top in sys.stdlib_module_names or top in ALLOWED.get(path.name, set()):
            continue
        bad.append(f"{path.name}:{line} imports {module}")
    assert not bad, "pb_vote/tally must stay pure: " + "; ".join(bad)


def test_the_scan_catches_forbidden_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import flask\nfrom sqlalchemy import select\nfrom pb_vote.models import x\n"
                      "def f():\n    import pabutools\n")
    modules = [m for _, m in imported_modules(sample)]
    assert modules == ["flask", "sqlalchemy", "pb_vote.models", "pabutools"]


def test_the_tally_and_its_command_load_without_the_web_stack():
    """``import pb_vote.tally`` (and so ``pb-vote tally``) imports no Flask or SQLAlchemy:
    the package ``pb_vote`` itself defers them to ``create_app``."""
    import subprocess

    probe = ("import sys, pb_vote.tally, pb_vote.tally.cli; "
             "print(sorted(m for m in ('flask', 'sqlalchemy', 'werkzeug') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
