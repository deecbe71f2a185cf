"""Ballot throughput: the full app under gunicorn on PostgreSQL, many concurrent voters
casting and changing ballots, beside a bare Flask + SQL upsert of the same row shape measured
in the same run. Not a test: run it on demand.

    .venv/bin/python benchmarks/ballots.py [--voters 300] [--changes 3] [--concurrency 32]

Needs PostgreSQL (default postgresql://postgres@127.0.0.1:5432; a database
``pb_vote_bench`` is created or emptied). The two take turns, slice by slice. Prints
ballots/s, p50/p95/p99 latency of the vote POST and errors for both, the CPU time each ballot
cost in gunicorn, in PostgreSQL and in the load generator (a figure that other work on the
machine does not skew), and the throughput ratio. Targets: ratio >= 0.80, p95 < 100 ms, zero
errors.

The middle reference, "bare Flask + pb_vote's SQL", runs the very statement pb_vote sends for
a code holder's vote. It is not imported from the service (whose internals may change shape
at any time) but recorded: before the servers start, one real vote is cast through the
public ``voting.cast_ballot`` and the one statement it sent is caught with SQLAlchemy's
``before_cursor_execute`` event (the SQL text and the parameters as the driver got them),
then rolled back; the bare app sends that text to the driver unchanged, with its own
per-voter values. So the harness measures what pb_vote runs today, whatever the service's
code looks like, and refuses to start when the statement no longer fits.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRETS = {
    "PB_VOTE_SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghij",
    "PB_VOTE_BALLOT_SECRET": "benchmark-ballot-secret-0123456789-abcdefgh",
    "PB_VOTE_BALLOT_KEYS": "YmVuY2htYXJrLWJhbGxvdC1rZXktMzItYnl0ZXMtLSE=",
    "PB_VOTE_SECOND_FACTOR_KEYS": "YmVuY2htYXJrLXNlY29uZC1mYWN0b3Ita2V5LTMyISE=",
    "PB_VOTE_SESSION_COOKIE_SECURE": "false",
    "PB_VOTE_PUBLIC_BASE_URL": "http://127.0.0.1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reset_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def seed(database_url: str, voters: int) -> tuple[int, list[int], list[str], int, list[int],
                                                 dict]:
    """Migrate, and create a round in voting with ten proposals and ``voters`` codes, and a
    twin round with its own codes for the same-writes harness. Returns the round's id, its
    proposals and codes, the twin's id, its codes' ids, and pb_vote's statement for a vote
    (see :func:`capture_cast_statement`)."""
    os.environ.update(SECRETS)
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from pb_vote import create_app
    from pb_vote.extensions import db
    from pb_vote.models import ProposalStatus, RoundPhase, VoterEligibility, VotingCode
    from pb_vote.services.voting import generate_codes
    from tests import factories

    app = create_app({"DATABASE_URL": database_url, "CODE_ATTEMPTS_PER_15_MINUTES": 10**6})
    with app.app_context():
        upgrade()
        table = factories.table()
        admin = factories.user("admin@example.org", city_admin=True)
        round_, twin = (
            factories.round_(table, RoundPhase.VOTING, approval_min=1, approval_max=3,
                             voter_eligibility=VoterEligibility.CODES)
            for _ in "ab"
        )
        proposals = [factories.proposal(round_, title=f"Idea {n}", cost_cents=100_000,
                                        status=ProposalStatus.ACCEPTED).id
                     for n in range(10)]
        codes = generate_codes(admin, round_, voters)
        generate_codes(admin, twin, voters)
        twin_proposal = factories.proposal(twin, title="Twin idea", cost_cents=100_000,
                                           status=ProposalStatus.ACCEPTED).id
        twin_codes = list(db.session.scalars(
            select(VotingCode.id).where(VotingCode.round_id == twin.id).order_by(VotingCode.id)))
        db.session.execute(text(
            "CREATE TABLE bench_ballots (id varchar(32) PRIMARY KEY, round_id integer NOT NULL,"
            " voter_key varchar(64) NOT NULL, choices json NOT NULL,"
            " UNIQUE (round_id, voter_key))"))
        db.session.commit()
        round_id, twin_id = round_.id, twin.id
        statement = capture_cast_statement(twin_id, twin_codes[0], twin_proposal)
        db.engine.dispose()
    return round_id, proposals, codes, twin_id, twin_codes, statement


def capture_cast_statement(round_id: int, code_id: int, proposal_id: int) -> dict:
    """The SQL text and parameters pb_vote sends the database for a code holder's vote in
    ``round_id`` (in an app context): one real vote, cast through the service as a request
    does once the round's rules are known, seen by SQLAlchemy's ``before_cursor_execute``
    event, then rolled back. The per-voter values are left out (the harness makes its own);
    every other value must be plain, to travel as JSON."""
    from flask import current_app
    from sqlalchemy import event

    from benchmarks._bare_app import PER_VOTER
    from pb_vote.extensions import db
    from pb_vote.models import VoteChannel
    from pb_vote.services import voting
    from pb_vote.services.ballot_box import VoteKeys

    def cast():
        voting.cast_ballot(VoteKeys.from_config(current_app.config), round_id,
                           voting.Voter(voting_code_id=code_id), VoteChannel.CODE,
                           {proposal_id: 1})

    cast()  # the round's rules are now known, as in a busy round
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        cast()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
        db.session.rollback()
    if len(sent) != 1:
        raise RuntimeError(f"a vote sent {len(sent)} statements, not one: {sent}")
    [(sql, parameters)] = sent
    sealed = parameters["sealed"]
    sealed_length = len(getattr(sealed, "obj", sealed))  # psycopg wraps bytes in Binary
    kept = {name: None if name in PER_VOTER else value for name, value in parameters.items()}
    if odd := [name for name, value in kept.items()
               if not isinstance(value, str | int | bool | None)]:
        raise RuntimeError(f"per-voter values {odd} in pb_vote's ballot statement: update "
                           "benchmarks/_bare_app.py's PER_VOTER")
    return {"sql": sql, "parameters": kept, "sealed_length": sealed_length}


def start_gunicorn(target: str, port: int, database_url: str, workers: int, threads: int):
    env = {**os.environ, **SECRETS, "PB_VOTE_DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads",
         str(threads), "--worker-class", "gthread", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", target],
        cwd=ROOT, env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn did not start for {target}")


def request(port: int, method: str, path: str, body: str | None = None, cookie: str = ""):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read().decode()
    set_cookie = response.getheader("Set-Cookie") or ""
    connection.close()
    return response.status, data, set_cookie


def session_of(set_cookie: str, fallback: str) -> str:
    match = re.search(r"(session=[^;]+)", set_cookie)
    return match.group(1) if match else fallback


def prepare_voter(port: int, round_id: int, code: str) -> tuple[str, str]:
    """Enter a code like a voter would; return the session cookie and its CSRF token."""
    _, page, set_cookie = request(port, "GET", f"/rounds/{round_id}/code")
    cookie = session_of(set_cookie, "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "code": code})
    status, _, set_cookie = request(port, "POST", f"/rounds/{round_id}/code", body, cookie)
    if status != 303:
        raise RuntimeError(f"code entry failed: {status}")
    return session_of(set_cookie, cookie), token


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process ended
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_use(server: subprocess.Popen) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn ``server`` (master and workers), by every
    PostgreSQL process, and by this load generator (Linux /proc; zeros elsewhere)."""
    if not Path("/proc/self/stat").exists():
        return {"server": 0.0, "postgresql": 0.0, "load": 0.0}
    parents, names = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            names[int(entry.name)] = stat[stat.index("(") + 1 : stat.rindex(")")]
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree = {server.pid} | {pid for pid, parent in parents.items() if parent == server.pid}
    return {
        "server": sum(_cpu_seconds(pid) for pid in tree),
        "postgresql": sum(_cpu_seconds(pid) for pid, name in names.items()
                          if name.startswith("postgres")),
        "load": time.process_time(),
    }


def run_load(jobs, send, concurrency: int):
    latencies, errors = [], []
    lock = threading.Lock()

    def one(job):
        start = time.perf_counter()
        try:
            status = send(job)
        except Exception as error:
            status = repr(error)
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)
            if status != 303:
                errors.append(status)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - began, latencies, errors


def run_slice(jobs, send, concurrency: int, server: subprocess.Popen, totals: dict):
    """Run one slice of jobs, adding its time, latencies, errors and CPU to ``totals``."""
    before = cpu_use(server)
    seconds, latencies, errors = run_load(jobs, send, concurrency)
    after = cpu_use(server)
    totals["seconds"] += seconds
    totals["latencies"] += latencies
    totals["errors"] += errors
    for key in before:
        totals["cpu"][key] += after[key] - before[key]


def describe(name: str, totals: dict) -> float:
    latencies, errors = totals["latencies"], totals["errors"]
    rate = len(latencies) / totals["seconds"]
    cuts = statistics.quantiles(latencies, n=100)
    print(f"{name:<22} {rate:8.1f} ballots/s   p50 {cuts[49] * 1000:6.1f} ms   "
          f"p95 {cuts[94] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms   "
          f"errors {len(errors)}{' ' + str(errors[:3]) if errors else ''}")
    cpu = {key: value * 1000 / len(latencies) for key, value in totals["cpu"].items()}
    print(f"{'':<22} CPU per ballot: gunicorn {cpu['server']:.2f} ms, PostgreSQL "
          f"{cpu['postgresql']:.2f} ms, load generator {cpu['load']:.2f} ms")
    return rate


def sealing_cost(proposals: list[int], repeats: int = 20_000) -> float:
    """Milliseconds of CPU to seal one ballot of three choices in a round of ``proposals``
    (AES-256-GCM, padded to the round's one length), measured in this process."""
    from pb_vote.services.ballot_box import Keyring, sealed_size

    keyring = Keyring.from_config(SECRETS["PB_VOTE_BALLOT_KEYS"])
    size = sealed_size(proposals, 1)
    ballot = {str(pid): 1 for pid in sorted(proposals)[:3]}
    started = time.process_time()
    for number in range(repeats):
        keyring.seal(ballot, round_id=1, voter_key=f"v{number}", size=size)
    return (time.process_time() - started) * 1000 / repeats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=300)
    parser.add_argument("--changes", type=int, default=3, help="ballots per voter")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--slices", type=int, default=3,
                        help="turns each of the two takes (alternating)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    options = parser.parse_args()

    database_url = reset_database(options.postgres, "pb_vote_bench")
    round_id, proposals, codes, twin_id, twin_codes, statement = seed(database_url,
                                                                       options.voters)
    os.environ["PB_VOTE_BENCH_CAST_STATEMENT"] = json.dumps(statement)
    rng = random.Random(7)
    jobs = [(voter, tuple(rng.sample(proposals, rng.randint(1, 3))))
            for _ in range(options.changes) for voter in range(options.voters)]
    rng.shuffle(jobs)

    app_port, bare_port = free_port(), free_port()
    app = start_gunicorn("pb_vote:create_app()", app_port, database_url, options.workers,
                         options.threads)
    bare = start_gunicorn("benchmarks._bare_app:create_bare_app()", bare_port, database_url,
                          options.workers, options.threads)
    try:
        with ThreadPoolExecutor(max_workers=options.concurrency) as pool:
            voters = list(pool.map(lambda code: prepare_voter(app_port, round_id, code), codes))

        def send_app(job):
            voter, chosen = job
            cookie, token = voters[voter]
            body = urllib.parse.urlencode([("csrf_token", token)] +
                                          [("choice", str(pid)) for pid in chosen])
            return request(app_port, "POST", f"/rounds/{round_id}/vote", body, cookie)[0]

        def send_bare(job):
            voter, chosen = job
            body = urllib.parse.urlencode([("voter", f"v{voter}")] +
                                          [("choice", str(pid)) for pid in chosen])
            return request(bare_port, "POST", "/vote", body)[0]

        def send_same_writes(job):
            voter, chosen = job
            body = urllib.parse.urlencode([("round", twin_id), ("code_id", twin_codes[voter])] +
                                          [("choice", str(pid)) for pid in chosen])
            return request(bare_port, "POST", "/vote-same-writes", body)[0]

        senders = [(send_bare, bare), (send_same_writes, bare), (send_app, app)]
        for send, _ in senders:  # warm all up alike
            run_load(jobs[:50], send, options.concurrency)
        # They take turns, slice by slice, so that other work on the machine weighs on all
        # alike.
        totals = [{"seconds": 0.0, "latencies": [], "errors": [],
                   "cpu": {"server": 0.0, "postgresql": 0.0, "load": 0.0}} for _ in senders]
        for k in range(options.slices):
            for (send, server), total in zip(senders, totals, strict=True):
                run_slice(jobs[k::options.slices], send, options.concurrency, server, total)
    finally:
        for process in (app, bare):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    print(f"{len(jobs)} ballot POSTs ({options.voters} voters x {options.changes}, each change "
          f"replacing the last), concurrency {options.concurrency}, gunicorn "
          f"{options.workers} workers x {options.threads} threads, {os.cpu_count()} cores, "
          f"in {options.slices} alternating slices each")
    bare_rate = describe("bare Flask + upsert", totals[0])
    same_writes_rate = describe("bare + pb_vote's SQL", totals[1])
    app_rate = describe("pb_vote", totals[2])
    print(f"ratio pb_vote / bare: {app_rate / bare_rate:.2f} (target >= 0.80)")
    print(f"for comparison, pb_vote / bare with pb_vote's SQL: "
          f"{app_rate / same_writes_rate:.2f} (the cost of the web layer alone)")
    seal = sealing_cost(proposals)
    server = totals[2]["cpu"]["server"] * 1000 / len(totals[2]["latencies"])
    print(f"sealing a ballot: {seal * 1000:.1f} µs of CPU, {seal / server:.1%} of pb_vote's "
          f"gunicorn CPU per ballot ({server:.2f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
