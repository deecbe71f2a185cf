"""Ballot secrecy against the database alone: with SQL access, a pg_dump, or a file copy of
the SQLite database with its write-ahead log taken while votes are cast over HTTP, nobody
learns what any ballot chose, so linking a ballot row to its participation (PostgreSQL's
xmin, the WAL's frame order, the dump's row order) links a voter to nothing readable."""

import itertools
import json
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pb_vote.models import ProposalStatus, RoundPhase, VoterEligibility
from pb_vote.services import voting
from tests import factories

VOTERS = 24
PROPOSALS = 9


def seed(scenario: dict) -> None:
    table = factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    coordinator = factories.user("coordinator@example.org", postal_code=None,
                                 role="coordinator", at=table)
    round_ = factories.round_(table, RoundPhase.VOTING, title="Keskusta votes",
                              voter_eligibility=VoterEligibility.CODES, approval_min=1,
                              approval_max=PROPOSALS)
    proposals = [factories.proposal(round_, title=f"Idea {n}", cost_cents=100_000,
                                    status=ProposalStatus.ACCEPTED).id
                 for n in range(PROPOSALS)]
    scenario.update(round=round_.id, proposals=proposals,
                    codes=voting.generate_codes(coordinator, round_, VOTERS))


def _ballot_of(number: int, proposals: list[int]) -> list[int]:
    """A different, recognisable set of choices for each voter."""
    subsets = [c for size in (1, 2, 3) for c in itertools.combinations(proposals, size)]
    return list(subsets[(number * 7) % len(subsets)])


def _normal_forms(chosen: list[int]) -> list[bytes]:
    """How the choices would look in plain text: the stored normal form, and a few other
    spellings an attacker might grep for."""
    as_dict = {str(pid): 1 for pid in sorted(chosen)}
    return [json.dumps(as_dict, separators=(",", ":")).encode(), json.dumps(as_dict).encode()]


def _vote(service, code: str, chosen: list[int]) -> int:
    voter = service.browser()
    round_id = service.scenario["round"]
    entered = voter.submit(f"/rounds/{round_id}/code", {"code": code})
    assert entered.status_code == 303, entered.status_code
    answer = voter.submit(f"/rounds/{round_id}/vote", [("choice", str(p)) for p in chosen])
    return answer.status_code


def _copy_while_voting(service, folder: Path, stop: threading.Event) -> list[bytes]:
    """What an attacker takes while the votes come in: copies of the SQLite file with its WAL,
    or pg_dump output. Returns every copy's bytes."""
    taken = []
    while not stop.is_set() or not taken:
        if service.kind == "sqlite":
            database = Path(make_url(service.database_url).database)
            copy = folder / f"copy-{len(taken)}"
            copy.mkdir()
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{database}{suffix}")
                if source.exists():
                    shutil.copyfile(source, copy / f"pb_vote.sqlite{suffix}")
            taken.append(b"".join(p.read_bytes() for p in sorted(copy.iterdir())))
        else:
            url = make_url(service.database_url)
            dump = subprocess.run(
                ["pg_dump", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                 "-U", url.username or "postgres", "--data-only", url.database],
                capture_output=True, check=True, timeout=120)
            taken.append(dump.stdout)
        stop.wait(0.05)
    return taken


@pytest.fixture(scope="module")
def voted(service, tmp_path_factory):
    """Every code holder votes over HTTP, in parallel, while an attacker copies the
    database; returns each voter's choices and the copies taken."""
    proposals = service.scenario["proposals"]
    ballots = [_ballot_of(n, proposals) for n in range(VOTERS)]
    stop = threading.Event()
    folder = tmp_path_factory.mktemp(f"copies-{service.kind}")
    with ThreadPoolExecutor(max_workers=9) as pool:
        copies = pool.submit(_copy_while_voting, service, folder, stop)
        answers = list(pool.map(lambda n: _vote(service, service.scenario["codes"][n],
                                                 ballots[n]), range(VOTERS)))
        stop.set()
        taken = copies.result()
    assert answers == [303] * VOTERS
    assert service.server_errors() == []
    return ballots, taken


def test_nothing_the_database_holds_tells_what_anyone_chose(service, voted):
    ballots, taken = voted
    assert len(taken) >= 1

    # Everything SQL can read, table by table, as an attacker with database access would.
    tables = [name for (name,) in service.sql(
        "SELECT name FROM sqlite_master WHERE type = 'table'" if service.kind == "sqlite"
        else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    readable = b"".join(repr(service.sql(f'SELECT * FROM "{name}"')).encode()
                        for name in tables)
    if service.kind == "sqlite":  # and the files as they are at rest now
        database = Path(make_url(service.database_url).database)
        taken.append(b"".join(Path(f"{database}{s}").read_bytes()
                              for s in ("", "-wal") if Path(f"{database}{s}").exists()))
    for chosen in ballots:
        for spelling in _normal_forms(chosen):
            assert spelling not in readable, spelling
            for copy in taken:
                assert spelling not in copy, spelling

    # Every sealed ballot of the round has the same length: size tells nothing either.
    lengths = service.sql("SELECT DISTINCT length(sealed) FROM ballots")
    assert len(lengths) == 1
    assert service.sql("SELECT count(*) FROM ballots")[0][0] == VOTERS


def test_what_the_storage_engine_links_is_unreadable(service, voted):
    if service.kind != "postgresql":
        pytest.skip("xmin is PostgreSQL's; SQLite's WAL is checked by the test above")
    ballots, _ = voted
    # Each participation shares its transaction id with the ballot written beside it.
    linked = service.sql(
        "SELECT p.voting_code_id, b.sealed FROM ballots b "
        "JOIN participations p ON b.xmin = p.xmin")
    assert linked  # the engine does link them...
    for _code, sealed in linked:  # ...to nothing anyone can read without the key
        for chosen in ballots:
            for spelling in _normal_forms(chosen):
                assert spelling not in bytes(sealed)
