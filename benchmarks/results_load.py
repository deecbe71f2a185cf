"""Results pages under load at 200,000 ballots, beside the demo's results page (issue 15
§6). Not a test: run it on demand.

    .venv/bin/python benchmarks/results_load.py [--voters 200005] [--seconds 10]
    .venv/bin/python benchmarks/results_load.py --file ../shared/pabulib/Poland_Warszawa_2026.pb

Builds on ``results_day.py`` (same database set-up, production gunicorn and Huey worker,
same HTTP coordinator). In a fresh database ``pb_vote_results_load`` it loads the demo
(``flask seed-demo``: its published round is the reference), then imports a round with
``flask import-pabulib``: a synthetic approval file (``--voters`` ballots over
``--projects`` projects, grown with a seeded RNG from Warszawa 2026's votes, written to a
temporary folder; see ``synthetic_file``) or ``--file``. Imported
ballots carry no receipt (the importer says so), so the benchmark stores one receipt per
ballot in ``ballot_receipts`` with SQL, as casting a ballot would (a code of the service's
alphabet, its SHA-256, a random pseudonym), and keeps some codes for the verify form.

Over HTTP, as the coordinator: count (Huey worker), publish, then count again without one
funded proposal and publish that as a correction; the rows and bytes each table gained
with the correction are measured in SQL. Then ``--clients`` threads, each with its own
connection, load each page for ``--seconds``: the demo's results page (first and last, the
reference is their mean), the round's results page, the verify page empty and with a
counted receipt, the receipts, the ``.pb`` file, the CSV, the staff's turnout page, and a
revalidated receipts download (If-None-Match, for information). Downloads are read as
sent (gzip, not decoded). Printed for each: pages/s, p50, p95, bytes, CPU per page of the
gunicorn workers, of PostgreSQL and of the client, and the ratio to the demo; then a
Markdown table with whether each meets the target: within 2x of the demo's pages/s and
p95 under 100 ms.
"""

import argparse
import hashlib
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import requests
from results_day import (
    BIN,
    COORDINATOR,
    ROOT,
    SETUP,
    Browser,
    Forms,
    Memory,
    ResultsDay,
    Service,
    children,
    ensure_redis,
    form_data,
    free_port,
    machine,
    production_environment,
    reset_database,
    revision,
    run,
    stop_on_sigterm,
)

PABULIB = Path(os.environ.get("PB_VOTE_PABULIB_DIR", ROOT.parent / "shared" / "pabulib"))
DATABASE = "pb_vote_results_load"
TABLE = "results-load"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # pb_vote.services.codes
KEPT_CODES = 200  # receipt codes the verify clients type
RATIO_LIMIT = 2.0  # each page's pages/s within 2x of the demo's results page
P95_LIMIT = 0.100  # seconds
# What a correction may add: the tables it writes and the rows they may gain.
CORRECTION_TABLES = ("publications", "receipt_sets", "published_receipts", "stored_files",
                     "stored_file_slices", "counts", "audit_events", "ballots",
                     "participations", "ballot_receipts")


# --- the round -----------------------------------------------------------------------------

def synthetic_file(path: Path, base: Path, voters: int, projects: int, seed: int) -> None:
    """A Pabulib approval file of ``voters`` votes over ``projects`` projects grown from a
    real city's (``base``, an approval file): its votes repeated in turn, and projects added
    (costs 50k-2M) up to ``projects``, one of them added to 30% of the votes (seeded).
    Votes drawn at random instead make equal shares' add-one search take minutes (over
    200 s at 20,000 votes); a city's votes count as a city's do."""
    rng = random.Random(seed)
    lines = base.read_text().splitlines()
    projects_at, votes_at = lines.index("PROJECTS"), lines.index("VOTES")
    columns = lines[projects_at + 1].split(";")
    cost_at, name_at = columns.index("cost"), columns.index("name")
    rows = [line.split(";") for line in lines[projects_at + 2:votes_at]]
    vote_at = lines[votes_at + 1].split(";").index("vote")
    votes = [line.split(";")[vote_at] for line in lines[votes_at + 2:] if line]
    kept = ("description", "country", "unit", "instance", "budget", "vote_type",
            "date_begin", "date_end", "currency", "language")
    added = [str(900_000 + number) for number in range(max(0, projects - len(rows)))]
    with path.open("w") as out:
        out.write("META\nkey;value\n")
        for line in lines[2:projects_at]:
            if line.split(";", 1)[0] in kept:
                out.write(line + "\n")
        out.write(f"num_projects;{len(rows) + len(added)}\nnum_votes;{voters}\n"
                  "rule;greedy\ncomment;grown by benchmarks/results_load.py\n"
                  "PROJECTS\nproject_id;cost;name\n")
        for row in rows:
            out.write(f"{row[0]};{row[cost_at]};{row[name_at]}\n")
        for number in added:
            out.write(f"{number};{rng.randrange(50, 2000) * 1000};Added project {number}\n")
        out.write("VOTES\nvoter_id;vote\n")
        for voter in range(voters):
            vote = votes[voter % len(votes)]
            if added and rng.random() < 0.3:
                vote += "," + rng.choice(added)
            out.write(f"{voter + 1};{vote}\n")


def sql(database_url: str):
    import psycopg

    return psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


def add_receipts(database_url: str, round_id: int, seed: int) -> list[str]:
    """One receipt per ballot of the round, stored as casting it would; some codes."""
    rng = random.Random(seed)
    kept = []
    with sql(database_url) as connection:
        ballots = connection.execute("SELECT count(*) FROM ballots WHERE round_id = %s",
                                     (round_id,)).fetchone()[0]
        with connection.cursor().copy("COPY ballot_receipts (receipt_hash, round_id, "
                                      "receipt_key) FROM STDIN") as copy:
            for number in range(ballots):
                code = "".join(rng.choices(CODE_ALPHABET, k=16))
                if number % max(1, ballots // KEPT_CODES) == 0:
                    kept.append("-".join(code[i:i + 4] for i in range(0, 16, 4)))
                copy.write_row((hashlib.sha256(code.encode()).hexdigest(), round_id,
                                f"{rng.getrandbits(256):064x}"))
    return kept


def table_sizes(database_url: str) -> dict[str, tuple[int, int]]:
    """Rows and bytes (with indexes and TOAST) of the tables a correction may write."""
    sizes = {}
    with sql(database_url) as connection:
        for name in CORRECTION_TABLES:
            rows = connection.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
            size = connection.execute("SELECT pg_total_relation_size(%s)",
                                      (name,)).fetchone()[0]
            sizes[name] = (rows, size)
    return sizes


# --- the load ------------------------------------------------------------------------------

@dataclass
class Page:
    label: str
    path: str
    method: str = "GET"
    staff: bool = False  # opened with the coordinator's cookies
    receipts: list[str] | None = None  # POST the verify form with these codes
    revalidate: bool = False  # send the ETag of a first download (If-None-Match)
    reference: bool = False  # the demo's results page
    informative: bool = False  # measured, no target
    times: list[float] = field(default_factory=list)
    statuses: set = field(default_factory=set)
    sizes: list[int] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # ms per page
    problem: str = ""

    def rate(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if len(self.times) < 2:
            return self.times[0] if self.times else 0.0
        return statistics.quantiles(self.times, n=100, method="inclusive")[int(q * 100) - 1]


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total


class Load:
    def __init__(self, base: str, coordinator: Browser, service: Service, database_url: str,
                 clients: int, seconds: float):
        self.base = base
        self.cookies = coordinator.http.cookies
        self.service = service
        self.database_url = database_url
        self.clients = clients
        self.seconds = seconds
        self.tick = os.sysconf("SC_CLK_TCK")

    def session(self, page: Page) -> tuple[requests.Session, list, dict]:
        """A client's connection, and what it sends for ``page``."""
        http = requests.Session()
        http.headers["Accept-Language"] = "en"
        http.headers["Accept-Encoding"] = "gzip"
        if page.staff:
            http.cookies.update(self.cookies)
        data, headers = None, {}
        if page.receipts is not None:
            form = next(f for f in Forms(self.plain(http, http.get(self.base + page.path)).text)
                        .forms if f["method"] == "post")
            data = [(k, v) for k, v in form_data(form) if k != "receipt"]
        if page.revalidate:
            headers["If-None-Match"] = http.get(self.base + page.path).headers["ETag"]
        return http, data, headers

    @staticmethod
    def plain(http: requests.Session, answer: requests.Response) -> requests.Response:
        """``answer``, after letting ``http`` send its Secure cookies back over plain http,
        as ``Browser`` does (the session cookie comes again with answers)."""
        for cookie in http.cookies:
            cookie.secure = False
        return answer

    def postgres_pids(self) -> list[int]:
        with sql(self.database_url) as connection:
            pids = [row[0] for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid()", (DATABASE,))]
        return pids

    def measure(self, page: Page) -> None:
        barrier = threading.Barrier(self.clients + 1)
        lock = threading.Lock()
        deadline = [0.0]

        def client(number: int) -> None:
            http, data, headers = self.session(page)
            made = []
            for _ in range(2):  # warm: the connection, the worker's caches
                self.one(http, page, data, headers, number)
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                made.append(self.one(http, page, data, headers, number))
            with lock:
                for seconds, status, size, outcome in made:
                    page.times.append(seconds)
                    page.statuses.add(status)
                    page.sizes.append(size)
                    if outcome and not page.problem:
                        page.problem = outcome

        threads = [threading.Thread(target=client, args=(n,)) for n in range(self.clients)]
        for thread in threads:
            thread.start()
        database = self.postgres_pids()
        deadline[0] = time.perf_counter() + self.seconds
        gunicorn = children(self.service.gunicorn.pid)
        before = (cpu_ticks(gunicorn), cpu_ticks(database), time.process_time())
        started = time.perf_counter()
        barrier.wait()
        for thread in threads:
            thread.join()
        page.seconds = time.perf_counter() - started
        database = sorted(set(database) | set(self.postgres_pids()))
        after = (cpu_ticks(gunicorn), cpu_ticks(database), time.process_time())
        count = max(1, len(page.times))
        page.cpu = {
            "gunicorn": (after[0] - before[0]) / self.tick / count * 1000,
            "postgres": (after[1] - before[1]) / self.tick / count * 1000,
            "client": (after[2] - before[2]) / count * 1000,
        }

    def one(self, http: requests.Session, page: Page, data, headers, number: int):
        """One request, read to its last byte as sent: (seconds, status, bytes, problem)."""
        if page.receipts is not None:
            code = page.receipts[(number + len(page.times)) % len(page.receipts)]
            data = [*data, ("receipt", code)]
        started = time.perf_counter()
        try:
            answer = http.request(page.method, self.base + page.path, data=data,
                                  headers=headers, stream=True, allow_redirects=False,
                                  timeout=120)
            body = b"".join(answer.raw.stream(1 << 16, decode_content=False))
            status = self.plain(http, answer).status_code
        except requests.RequestException as error:
            return time.perf_counter() - started, type(error).__name__, 0, str(error)[:80]
        seconds = time.perf_counter() - started
        problem = ""
        if status != (304 if page.revalidate else 200):
            problem = f"answered {status} {answer.headers.get('Location', '')}".strip()
        elif page.receipts is not None and b"flash-success" not in body:
            problem = "the receipt was not found"
        return seconds, status, len(body), problem


def print_page(page: Page, reference: float) -> None:
    ratio = reference / page.rate() if page.rate() else float("inf")
    statuses = "/".join(sorted(map(str, page.statuses)))
    size = statistics.median(page.sizes or [0])
    print(f"  {page.label:<30} {len(page.times):>5} x {statuses:<4}"
          f" {page.rate():7.1f} pages/s  p50 {page.quantile(0.5) * 1000:6.1f} ms  "
          f"p95 {page.quantile(0.95) * 1000:6.1f} ms  {size:>10,.0f}"
          f" bytes  CPU/page gunicorn {page.cpu['gunicorn']:5.1f} ms, postgres "
          f"{page.cpu['postgres']:5.1f} ms, client {page.cpu['client']:5.1f} ms  "
          f"x{ratio:.2f} of the demo" + (f"  PROBLEM: {page.problem}" if page.problem else ""),
          flush=True)


def verdict(page: Page, reference: float) -> str:
    if page.reference:
        return "reference"
    why = []
    if page.problem:
        why.append(page.problem)
    ratio = reference / page.rate() if page.rate() else float("inf")
    if ratio > RATIO_LIMIT:
        why.append(f"{ratio:.1f}x slower than the demo")
    if page.quantile(0.95) >= P95_LIMIT:
        why.append(f"p95 {page.quantile(0.95) * 1000:.0f} ms")
    if page.informative:
        return "no target" + (f" ({'; '.join(why)})" if why else "")
    return "met" if not why else "not met: " + "; ".join(why)


def markdown(pages: list[Page], reference: float, clients: int) -> str:
    lines = [f"| page ({clients} clients) | bytes sent | pages/s | p50 | p95 | CPU/page "
             "gunicorn + postgres | slower than the demo | target |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for page in pages:
        ratio = reference / page.rate() if page.rate() else float("inf")
        lines.append(
            f"| {page.label} | {statistics.median(page.sizes or [0]):,.0f} | "
            f"{page.rate():.1f} | {page.quantile(0.5) * 1000:.1f} ms | "
            f"{page.quantile(0.95) * 1000:.1f} ms | {page.cpu['gunicorn']:.1f} + "
            f"{page.cpu['postgres']:.1f} ms | {ratio:.2f}x | {verdict(page, reference)} |")
    return "\n".join(lines)


def correction_table(before: dict, after: dict) -> str:
    lines = ["| table | rows before | rows added by the correction | bytes added |",
             "|---|---:|---:|---:|"]
    for name in CORRECTION_TABLES:
        (rows, size), (rows_after, size_after) = before[name], after[name]
        lines.append(f"| {name} | {rows:,} | {rows_after - rows:,} | "
                     f"{size_after - size:,} |")
    return "\n".join(lines)


# --- the run -------------------------------------------------------------------------------

def publish_round(day: ResultsDay, name: str, round_id: int) -> bool:
    if not day.count(name, round_id):
        return False
    form = day.preview(name, round_id)
    return form is not None and day.publish(name, round_id, form)


def correct_round(day: ResultsDay, name: str, round_id: int, excluded: str) -> bool:
    """Count without ``excluded`` (a proposal id) and publish that as a correction."""
    page = day.coordinator.get(f"/manage/rounds/{round_id}/results", "GET results")
    form = Forms(page.text).form_with("action", "count")
    box = next((f["name"] for f in (form or {}).get("fields", [])
                if f.get("type") == "checkbox" and f.get("value") == excluded), None)
    if box is None:
        print(f"  no box to leave out proposal {excluded} on the count form")
        return False
    if not day.count(name, round_id, extra=((box, excluded),),
                     title=f"count without proposal {excluded}"):
        return False
    page = day.coordinator.get(f"/manage/rounds/{round_id}/results", "GET results")
    form = Forms(page.text).form_with("action", "correct")
    if form is None:
        print("  no correction form after the count")
        return False
    step = day.begin(name, "publish the correction")
    data = [(k, "Proposal cannot be carried out (results-load benchmark)."
             if k.endswith("reason") else v) for k, v in form_data(form, tick=True)]
    answer = day.coordinator.post(f"/manage/rounds/{round_id}/results", "POST correct", data)
    ok = answer is not None and answer.status_code == 303
    if not ok:
        step.problems.append("the correction was refused: "
                             + " ".join(Forms(answer.text).errors if answer is not None
                                        else [])[:200])
    day.end(step)
    return ok


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voters", type=int, default=200_005)
    parser.add_argument("--projects", type=int, default=150)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--base", default=str(PABULIB / "Poland_Warszawa_2026.pb"),
                        help="the approval file the synthetic round is grown from")
    parser.add_argument("--file", help="import this Pabulib file instead of a synthetic one")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10, help="per page")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--count-timeout", type=float, default=1200)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    day_options = SimpleNamespace(repeats=1, poll=1.0, count_timeout=options.count_timeout)

    print(f"# results pages under load, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
          f"{machine()}\n{revision()}", flush=True)
    ensure_redis(options.redis)
    database_url = reset_database(options.postgres, DATABASE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="pb_vote_results_load_"))
    environment = production_environment(database_url, options.redis, base, str(logs))
    flask = [str(BIN / "flask"), "--app", "pb_vote"]
    service = memory = None
    ok = False
    try:
        run([*flask, "db", "upgrade"], environment)
        run([*flask, "seed-demo", "--force"], environment)
        with sql(database_url) as connection:
            demo_round = connection.execute(
                "SELECT id FROM rounds WHERE lower(phase::text) = 'published' ORDER BY id "
                "LIMIT 1").fetchone()[0]
        password = secrets.token_urlsafe(18)
        run([sys.executable, "-c", SETUP, TABLE, COORDINATOR, password], environment)
        if options.file:
            source = Path(options.file)
        else:
            source = logs / f"synthetic_{options.voters}.pb"
            started = time.perf_counter()
            synthetic_file(source, Path(options.base), options.voters, options.projects,
                           options.seed)
            print(f"synthetic file: {options.voters:,} votes over {options.projects} "
                  f"projects, {source.stat().st_size:,} bytes, "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
        output, seconds, peak = run([*flask, "import-pabulib", str(source), "--table",
                                     TABLE], environment)
        round_id = int(re.search(r"round (\d+):", output).group(1))
        print(f"import: {output.strip().splitlines()[-1]} ({seconds:.1f} s, "
              f"peak {peak:.0f} MB)", flush=True)
        started = time.perf_counter()
        codes = add_receipts(database_url, round_id, options.seed)
        print(f"receipts stored for the imported ballots in {time.perf_counter() - started:.1f}"
              f" s; demo's published round {demo_round}, benchmark round {round_id}",
              flush=True)

        service = Service(environment, port, logs)
        memory = Memory({"gunicorn": service.gunicorn.pid, "huey": service.huey.pid})
        day = ResultsDay(day_options, service, memory, base)
        day.sign_in(password)
        name = source.stem
        if not publish_round(day, name, round_id):
            raise SystemExit("the round could not be counted and published")
        selected = requests.get(f"{base}/api/v1/rounds/{round_id}/results",
                                timeout=60).json()["selected"]
        before = table_sizes(database_url)
        if not correct_round(day, name, round_id, str(selected[0])):
            raise SystemExit("the correction could not be published")
        after = table_sizes(database_url)
        print(f"\nWhat the correction (without proposal {selected[0]}) added:\n"
              f"{correction_table(before, after)}\n", flush=True)

        results = f"/rounds/{round_id}/results"
        api = f"/api/v1/rounds/{round_id}"
        pages = [
            Page("demo results page (first)", f"/rounds/{demo_round}/results",
                 reference=True),
            Page("results page", results),
            Page("verify page, empty", f"/rounds/{round_id}/verify"),
            Page("verify with a receipt", f"/rounds/{round_id}/verify", method="POST",
                 receipts=codes),
            Page("receipts download", f"{api}/receipts"),
            Page("ballots .pb", f"{api}/ballots.pb"),
            Page("results CSV", f"{api}/results.csv"),
            Page("staff turnout page", f"/manage/rounds/{round_id}/turnout", staff=True),
            Page("receipts, revalidated (304)", f"{api}/receipts", revalidate=True,
                 informative=True),
            Page("demo results page (last)", f"/rounds/{demo_round}/results",
                 reference=True),
        ]
        print(f"{options.clients} clients, {options.seconds:g} s per page "
              f"(load {' '.join(f'{x:.2f}' for x in os.getloadavg())}):", flush=True)
        load = Load(base, day.coordinator, service, database_url, options.clients,
                    options.seconds)
        for page in pages:
            load.measure(page)
            first = pages[0].rate()
            print_page(page, first)
        reference = statistics.mean(p.rate() for p in pages if p.reference)
        print(f"\nReference: the demo's results page, {reference:.1f} pages/s (mean of "
              f"{pages[0].rate():.1f} and {pages[-1].rate():.1f}); load after "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
        print(markdown(pages, reference, options.clients) + "\n")
        ok = all(verdict(p, reference) in ("met", "reference") for p in pages
                 if not p.informative)
        print(f"Targets (each page within {RATIO_LIMIT:g}x of the demo's results page, p95 "
              f"under {P95_LIMIT * 1000:.0f} ms at {options.clients} clients): "
              f"{'met' if ok else 'NOT met'}.")
    finally:
        if memory is not None:
            memory.stop()
        if service is not None:
            service.stop()
        if not options.keep:
            reset_database(options.postgres, DATABASE, create=False)
        import redis

        number = int(options.redis.rsplit("/", 1)[1])
        redis.Redis.from_url(options.redis.rsplit("/", 1)[0] + f"/{number}").flushdb()
    if ok:
        shutil.rmtree(logs, ignore_errors=True)
    else:
        print(f"gunicorn's and the Huey worker's logs: {logs}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
