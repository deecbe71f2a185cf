"""Results day: real cities' elections imported into pb_vote, then counted, previewed,
published and read under gunicorn with the README's production settings on PostgreSQL
(issue 14 §3). Not a test: run it on demand.

    .venv/bin/python benchmarks/results_day.py [--files NAME.pb ...] [--repeats 5]

Drops and creates the database ``pb_vote_results_day`` beside ``--postgres``, migrates it
(``flask db upgrade``), creates a table and its coordinator, and imports each Pabulib file
with ``flask import-pabulib``. Then it serves the app as the README's "Running in
production" says (``gunicorn --workers 4 ... wsgi:app`` and ``huey_consumer
pb_vote.worker.huey --workers 2`` on Redis, secrets, ``PUBLIC_BASE_URL`` and Secure cookies
as in production) and, as the coordinator over real HTTP, asks for each round's count,
follows its progress page until it is done, opens the preview, publishes, and opens every
results page and export a visitor can open, ``--repeats`` times each.

Everything after the import goes through HTTP only, and pages are read by their structure
(forms, the ``<progress>`` element), never by the service's code, so changes inside the
service do not break the benchmark. Printed for every request: status, p50 and max time,
bytes; for every step: its time, the peak memory (VmHWM, reset at each step's start) of the
largest gunicorn worker and of the Huey worker, worker timeouts in gunicorn's log, and
whether it meets the targets: no request over 2 s, no worker timeout, no 5xx, and the
results page and exports under 1 s.
"""

import argparse
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_FILES = ["Poland_Krakow_2024.pb", "Poland_Warszawa_2026.pb", "Hungary_Budapest_2024.pb"]
DATABASE = "pb_vote_results_day"
TABLE = "results-day"
COORDINATOR = "coordinator@results-day.example.org"
REQUEST_LIMIT = 2.0  # seconds, every request
RESULTS_LIMIT = 1.0  # seconds, the results page and the exports
# A well-formed receipt code that no ballot has (imported ballots carry no receipts): the
# verify page still looks it up in the publication.
UNKNOWN_RECEIPT = "2345-6789-ABCD-EFGH"


# --- the machine ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except OSError:
        memory = 0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{platform.node()}: {os.cpu_count()} cores ({model}), {memory} MB RAM, "
            f"Linux {platform.release()}, Python {platform.python_version()}, load {load}")


def revision() -> str:
    """The commit measured, and whether the working tree differs from it."""
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 cwd=ROOT, capture_output=True, text=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {commit}" + (f" (+ {len(changed)} changed files)" if changed else "")


def _proc_status(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Memory:
    """Peak resident memory per step of the gunicorn workers and the Huey worker: each
    process's VmHWM, reset at a step's start (``/proc/PID/clear_refs``), with a sampler of
    VmRSS every 0.2 s as the fallback where the reset is not allowed."""

    def __init__(self, roles: dict[str, int]):
        self.roles = roles  # role -> parent pid (the gunicorn master, the Huey consumer)
        self.sampled: dict[int, int] = {}
        self.reset_works = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def pids(self, role: str) -> list[int]:
        parent = self.roles[role]
        workers = children(parent)
        return workers if role == "gunicorn" else [parent, *workers]

    def _sample(self):
        while not self._stop.wait(0.2):
            for role in self.roles:
                for pid in self.pids(role):
                    rss = _proc_status(pid, "VmRSS")
                    self.sampled[pid] = max(self.sampled.get(pid, 0), rss)

    def start_step(self) -> dict[str, float]:
        """Reset the peaks; the largest resident size of each role now (MB)."""
        self.sampled = {}
        now = {role: max((_proc_status(pid, "VmRSS") for pid in self.pids(role)),
                         default=0) / 1024 for role in self.roles}
        for role in self.roles:
            for pid in self.pids(role):
                try:
                    Path(f"/proc/{pid}/clear_refs").write_text("5")
                except OSError:
                    self.reset_works = False
        return now

    def peak_mb(self, role: str) -> float:
        """The largest peak of one process of ``role`` since the step started."""
        peaks = [max(_proc_status(pid, "VmHWM") if self.reset_works else 0,
                     self.sampled.get(pid, 0)) for pid in self.pids(role)]
        return max(peaks, default=0) / 1024

    def stop(self):
        self._stop.set()


# --- the steps and what they measured ------------------------------------------------------

@dataclass
class Request:
    label: str
    status: int | str
    seconds: float
    size: int


@dataclass
class Step:
    round_name: str
    name: str
    limit: float = REQUEST_LIMIT  # what each request of the step must stay under
    seconds: float = 0.0
    requests: list[Request] = field(default_factory=list)
    gunicorn_mb: float = 0.0
    huey_mb: float = 0.0
    huey_start_mb: float = 0.0  # what the Huey worker held already (Python keeps freed memory)
    own_mb: float = 0.0  # a subprocess's own peak (the import)
    timeouts: int = 0
    problems: list[str] = field(default_factory=list)

    def slowest(self) -> float:
        return max((r.seconds for r in self.requests), default=0.0)

    def errors(self) -> list[Request]:
        return [r for r in self.requests if not isinstance(r.status, int) or r.status >= 500]

    def verdict(self) -> str:
        """``yes``, or ``no`` with why (no target for a step without requests)."""
        why = list(self.problems)
        if not self.requests and not why:
            return "no target (not a request)"
        if self.timeouts:
            why.append(f"{self.timeouts} worker timeout(s)")
        if bad := self.errors():
            why.append(f"{len(bad)} failed request(s): {bad[0].label} {bad[0].status}")
        if self.requests and self.slowest() >= self.limit:
            slow = max(self.requests, key=lambda r: r.seconds)
            why.append(f"{slow.label} took {slow.seconds:.2f} s (limit {self.limit:g} s)")
        return "yes" if not why else "no: " + "; ".join(why)


# --- pages ---------------------------------------------------------------------------------

class Forms(HTMLParser):
    """The forms of a page with their fields, and its links, as a browser would see them."""

    def __init__(self, page: str):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self.progress: str | None = None
        self.errors: list[str] = []
        self._in_error = 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "",
                               "method": (attrs.get("method") or "get").lower(),
                               "fields": []})
        elif tag in ("input", "button", "textarea", "select") and self.forms:
            self.forms[-1]["fields"].append(attrs | {"tag": tag})
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "progress":
            self.progress = attrs.get("value", "")
        if "error-summary" in (attrs.get("class") or "") or self._in_error:
            self._in_error += 1

    def handle_endtag(self, tag):
        if self._in_error and tag in ("div", "section", "ul", "p", "li", "a", "h2"):
            self._in_error -= 1

    def handle_data(self, data):
        if self._in_error and data.strip():
            self.errors.append(data.strip())

    def form_with(self, name: str, value: str) -> dict | None:
        for form in self.forms:
            if any(f.get("name") == name and f.get("value") == value for f in form["fields"]):
                return form
        return None


def form_data(form: dict, tick: bool = False) -> list[tuple[str, str]]:
    """What a browser sends for ``form``: hidden and text fields, checked boxes (every box
    when ``tick``, as a coordinator ticking "I have checked"), its submit button."""
    data = []
    for spec in form["fields"]:
        name, kind = spec.get("name"), (spec.get("type") or "text").lower()
        if not name:
            continue
        if kind == "checkbox":
            if tick or "checked" in spec:
                data.append((name, spec.get("value") or "y"))
        elif spec["tag"] != "select":  # hidden, text, the submit button
            data.append((name, spec.get("value") or ""))
    return data


class Browser:
    """A visitor's browser: a cookie jar (the service's cookies are Secure, as in
    production; this jar sends them back over the benchmark's plain http, as the proxy's
    TLS would carry them), every request timed and kept in the current step."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Accept-Language"] = "en"
        self.step: Step | None = None

    def send(self, method: str, path: str, label: str, data=None) -> requests.Response | None:
        started = time.perf_counter()
        try:
            answer = self.http.request(method, urljoin(self.base, path), data=data,
                                       allow_redirects=False, timeout=120)
            status, size = answer.status_code, len(answer.content)
        except requests.RequestException as error:  # a killed worker closes the connection
            answer, status, size = None, type(error).__name__, 0
        seconds = time.perf_counter() - started
        for cookie in self.http.cookies:
            cookie.secure = False
        if self.step is not None:
            self.step.requests.append(Request(label, status, seconds, size))
        return answer

    def get(self, path: str, label: str):
        return self.send("GET", path, label)

    def post(self, path: str, label: str, data):
        return self.send("POST", path, label, data)


# --- the service ---------------------------------------------------------------------------

def reset_database(admin_url: str, name: str, create: bool = True) -> str:
    import psycopg

    with psycopg.connect(admin_url.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis(url: str) -> None:
    """Redis answers at ``url``'s host, started as .ci/run does if not; the queue's earlier
    keys in its database are removed (a fresh database reuses count ids)."""
    match = re.match(r"redis://([^:/]+):(\d+)/(\d+)$", url)
    if not match:
        raise SystemExit(f"--redis must look like redis://127.0.0.1:6379/11, not {url!r}")
    host, port, number = match.group(1), int(match.group(2)), int(match.group(3))
    if not redis_answers(host, port):
        print("Redis does not answer; starting it as .ci/run does")
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1",
                        "--port", str(port), "--save", "", "--appendonly", "no",
                        "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"],
                       check=True)
        for _ in range(50):
            if redis_answers(host, port):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("Redis did not start")
    import redis

    client = redis.Redis(host=host, port=port, db=number)
    stale = list(client.scan_iter("huey*pbvote*")) + list(client.scan_iter("huey*pb_vote*"))
    if stale:
        client.delete(*stale)


def production_environment(database_url: str, queue: str, base_url: str,
                           instance: str) -> dict[str, str]:
    """The README's production settings: own secrets and ballot key, the public address
    (its host is the one trusted host), PostgreSQL, the Redis queue; no SMTP server (mail
    is logged), and an instance folder of its own (no instance/config.py of the tree)."""
    import base64

    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PB_VOTE_", "FLASK_"))}
    return environment | {
        "PB_VOTE_SECRET_KEY": secrets.token_urlsafe(48),
        "PB_VOTE_BALLOT_SECRET": secrets.token_urlsafe(48),
        "PB_VOTE_BALLOT_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PB_VOTE_SECOND_FACTOR_KEYS": base64.urlsafe_b64encode(
            secrets.token_bytes(32)).decode(),
        # The coordinator signs in with the password only: the second step is not measured.
        "PB_VOTE_STAFF_SECOND_FACTOR": "optional",
        "PB_VOTE_PUBLIC_BASE_URL": base_url,
        "PB_VOTE_DATABASE_URL": database_url,
        "PB_VOTE_TASK_QUEUE": queue,
        "PB_VOTE_INSTANCE_PATH": instance,
        "PYTHONPATH": str(ROOT),
    }


SETUP = """
import sys
from pb_vote import create_app
from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Table, TableMembership
from pb_vote.services import accounts

app = create_app()
with app.app_context():
    table = Table(slug=sys.argv[1], name="Results day",
                  description="Real cities' elections, replayed from Pabulib.")
    table.postal_codes = []
    db.session.add(table)
    db.session.flush()
    user, _ = accounts.get_or_create_resident(sys.argv[2], "en")
    accounts.set_password(user, sys.argv[3])
    db.session.add(TableMembership(user=user, table=table, role=MembershipRole.COORDINATOR))
    db.session.commit()
"""


def run(command: list[str], environment: dict) -> tuple[str, float, float]:
    """Run ``command`` to its end; its output, wall time and peak memory (MB, its own)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output}")
    return output, seconds, usage.ru_maxrss / 1024


class Service:
    """gunicorn and the Huey worker as the README starts them, with their logs."""

    def __init__(self, environment: dict, port: int, logs: Path):
        self.logs = logs
        self.gunicorn_log = logs / "gunicorn.log"
        self.huey_log = logs / "huey.log"
        # README, "Running in production".
        self.gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}",
             "wsgi:app"], cwd=ROOT, env=environment,
            stdout=self.gunicorn_log.open("w"), stderr=subprocess.STDOUT)
        self.huey = subprocess.Popen(
            [str(BIN / "huey_consumer"), "pb_vote.worker.huey", "--workers", "2"],
            cwd=ROOT, env=environment, stdout=self.huey_log.open("w"),
            stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.gunicorn.poll() is not None or self.huey.poll() is not None:
                self.stop()
                raise SystemExit("gunicorn or the Huey worker stopped at start:\n"
                                 + self.gunicorn_log.read_text() + self.huey_log.read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                if len(children(self.gunicorn.pid)) >= 4:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit("gunicorn did not start:\n" + self.gunicorn_log.read_text())
        self.settle()

    def settle(self) -> None:
        """Wait until every worker has loaded the app (gunicorn loads it in each worker
        after binding): until the processes use no more CPU, as before real traffic."""
        def cpu() -> float:
            total = 0
            for pid in [*children(self.gunicorn.pid), self.huey.pid]:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                total += int(fields[11]) + int(fields[12])
            return total

        last, quiet = cpu(), 0
        for _ in range(120):
            time.sleep(0.5)
            now = cpu()
            quiet = quiet + 1 if now - last <= 2 else 0  # clock ticks in half a second
            last = now
            if quiet >= 3:
                return

    def task_failures(self) -> list[str]:
        """The Huey worker's failed tasks so far (their last line)."""
        lines = self.huey_log.read_text(errors="replace").splitlines()
        failures = []
        for number, line in enumerate(lines):
            if "Unhandled exception in task" in line:
                after = [x for x in lines[number + 1:number + 40] if x and not x[0].isspace()
                         and not x.startswith(("Traceback", "["))]
                failures.append(after[0] if after else line)
        return failures

    def timeouts(self) -> int:
        """Worker timeouts (and workers killed for memory) in gunicorn's log so far."""
        text = self.gunicorn_log.read_text(errors="replace")
        return text.count("WORKER TIMEOUT") + text.count("was sent SIGKILL")

    def stop(self):
        for process in (self.gunicorn, self.huey):
            if process.poll() is None:
                process.terminate()
        for process in (self.gunicorn, self.huey):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- results day ---------------------------------------------------------------------------

class ResultsDay:
    def __init__(self, options, service: Service, memory: Memory, base: str):
        self.options = options
        self.service = service
        self.memory = memory
        self.base = base
        self.steps: list[Step] = []
        self.coordinator = Browser(base)
        self.visitor = Browser(base)

    def begin(self, round_name: str, name: str, limit: float = REQUEST_LIMIT) -> Step:
        step = Step(round_name, name, limit)
        step.timeouts = -self.service.timeouts()
        self.steps.append(step)
        self.coordinator.step = self.visitor.step = step
        step.huey_start_mb = self.memory.start_step()["huey"]
        step.seconds = -time.perf_counter()
        return step

    def end(self, step: Step) -> None:
        step.seconds += time.perf_counter()
        step.timeouts += self.service.timeouts()
        step.gunicorn_mb = self.memory.peak_mb("gunicorn")
        step.huey_mb = self.memory.peak_mb("huey")
        self.coordinator.step = self.visitor.step = None
        report(step)

    def sign_in(self, password: str) -> None:
        step = self.begin("-", "staff sign-in")
        page = self.coordinator.get("/staff/sign-in", "GET /staff/sign-in")
        form = page is not None and next(
            (f for f in Forms(page.text).forms
             if any(x.get("name") == "password" for x in f["fields"])), None)
        if not form:
            raise SystemExit("no password form on /staff/sign-in")
        data = dict(form_data(form)) | {"email": COORDINATOR, "password": password}
        answer = self.coordinator.post("/staff/sign-in", "POST /staff/sign-in", data)
        self.end(step)
        if answer is None or answer.status_code != 303:
            raise SystemExit(f"the coordinator could not sign in: "
                             f"{answer.status_code if answer is not None else 'no answer'}")

    def count(self, name: str, round_id: int, extra: tuple = (),
              title: str = "count (ask, poll until done)") -> bool:
        """Ask for a count (with ``extra`` fields, such as proposals to leave out) and
        follow its page until it is done; whether it is."""
        path = f"/manage/rounds/{round_id}/results"
        step = self.begin(name, title)
        page = self.coordinator.get(path, "GET preview page (before)")
        form = page is not None and Forms(page.text).form_with("action", "count")
        if not form:
            step.problems.append("no count form on the coordinator's results page")
            self.end(step)
            return False
        answer = self.coordinator.post(path, "POST count", [*form_data(form), *extra])
        if answer is None or answer.status_code != 303:
            step.problems.append(f"asking for a count answered "
                                 f"{answer.status_code if answer is not None else 'nothing'}")
            self.end(step)
            return False
        deadline = time.monotonic() + self.options.count_timeout
        done, last = False, None
        failed_before = len(self.service.task_failures())
        while time.monotonic() < deadline:
            if failures := self.service.task_failures()[failed_before:]:
                step.problems.append(f"the Huey worker's task failed: {failures[0]}")
                break
            page = self.coordinator.get(path, "GET progress page")
            if page is None or page.status_code >= 500:
                time.sleep(self.options.poll)
                continue
            seen = Forms(page.text)
            if seen.progress is None:
                done = bool(seen.form_with("action", "publish")
                            or seen.form_with("action", "correct"))
                if not done:
                    step.problems.append("the count ended without a result: "
                                         + " ".join(seen.errors)[:200])
                break
            if seen.progress != last:
                last = seen.progress
                print(f"    {time.perf_counter() + step.seconds:6.1f} s: {last} % "
                      f"(Refresh: {page.headers.get('Refresh', 'none')})", flush=True)
            time.sleep(self.options.poll)
        else:
            step.problems.append(f"not done after {self.options.count_timeout} s")
        self.end(step)
        return done

    def preview(self, name: str, round_id: int) -> dict | None:
        """Open the coordinator's preview several times; the publish form it shows."""
        step = self.begin(name, "preview")
        form = None
        for _ in range(self.options.repeats):
            page = self.coordinator.get(f"/manage/rounds/{round_id}/results", "GET preview")
            if page is not None and page.status_code == 200:
                form = Forms(page.text).form_with("action", "publish") or form
        self.end(step)
        return form

    def publish(self, name: str, round_id: int, form: dict) -> bool:
        step = self.begin(name, "publish")
        answer = self.coordinator.post(f"/manage/rounds/{round_id}/results", "POST publish",
                                       form_data(form, tick=True))
        ok = answer is not None and answer.status_code == 303
        if not ok:
            shown = Forms(answer.text).errors if answer is not None else []
            step.problems.append("publishing was refused: " + " ".join(shown)[:200])
        self.end(step)
        return ok

    def read_results(self, name: str, round_id: int) -> None:
        """Every results page and export a visitor can open, then the staff's pages."""
        step = self.begin(name, "results pages and exports", RESULTS_LIMIT)
        results = f"/rounds/{round_id}/results"
        pages = {
            "results page": results,
            "publication 1": f"{results}/1",
            "verify page": f"/rounds/{round_id}/verify",
            "results JSON": f"/api/v1/rounds/{round_id}/results",
            "results CSV": f"/api/v1/rounds/{round_id}/results.csv",
            "receipts": f"/api/v1/rounds/{round_id}/receipts",
            "ballots .pb": f"/api/v1/rounds/{round_id}/ballots.pb",
        }
        first = self.visitor.get(results, "GET results page")
        if first is not None and first.status_code == 200:
            known = set(pages.values())
            for link in Forms(first.text).links:  # anything the page offers besides
                if (link.startswith((f"/rounds/{round_id}/", f"/api/v1/rounds/{round_id}/"))
                        and link.split("?")[0] not in known):
                    pages[f"linked {link}"] = link
                    known.add(link)
        for label, path in pages.items():
            for _ in range(self.options.repeats - (label == "results page")):
                self.visitor.get(path, f"GET {label}")
        verify = self.visitor.get(pages["verify page"], "GET verify page")
        form = verify is not None and next(
            (f for f in Forms(verify.text).forms if f["method"] == "post"), None)
        if form:
            data = [(k, v) for k, v in form_data(form) if k != "receipt"]
            for _ in range(self.options.repeats):
                self.visitor.post(pages["verify page"], "POST verify with a receipt",
                                  [*data, ("receipt", UNKNOWN_RECEIPT)])
        else:
            step.problems.append("no receipt form on the verify page")
        self.end(step)
        step = self.begin(name, "round and staff pages")
        for label, path in (("round page", f"/rounds/{round_id}"),
                            ("table page", f"/tables/{TABLE}")):
            for _ in range(self.options.repeats):
                self.visitor.get(path, f"GET {label}")
        for label, path in (("staff turnout", f"/manage/rounds/{round_id}/turnout"),
                            ("coordinator results", f"/manage/rounds/{round_id}/results")):
            for _ in range(self.options.repeats):
                self.coordinator.get(path, f"GET {label}")
        self.end(step)


def report(step: Step) -> None:
    print(f"  [{step.round_name}] {step.name}: {step.seconds:.1f} s, gunicorn worker peak "
          f"{step.gunicorn_mb:.0f} MB, Huey worker peak {step.huey_mb:.0f} MB"
          + (f" (held {step.huey_start_mb:.0f} MB at the start)" if step.huey_start_mb else "")
          + (f", own peak {step.own_mb:.0f} MB" if step.own_mb else "")
          + f", worker timeouts {step.timeouts}", flush=True)
    groups: dict[str, list[Request]] = {}
    for made in step.requests:
        groups.setdefault(made.label, []).append(made)
    for label, made in groups.items():
        times = [r.seconds for r in made]
        statuses = sorted({str(r.status) for r in made})
        print(f"    {label:<34} x{len(made):<3} {'/'.join(statuses):<7} "
              f"p50 {statistics.median(times) * 1000:7.1f} ms  max {max(times) * 1000:7.1f} ms"
              f"  {max(r.size for r in made):>9,} bytes")
    print(f"    meets the target: {step.verdict()}", flush=True)


def table(steps: list[Step]) -> str:
    lines = ["| round | step | time | requests | slowest | gunicorn worker peak | "
             "Huey worker peak | target met |", "|---|---|---:|---:|---:|---:|---:|---|"]
    for step in steps:
        slowest = f"{step.slowest():.2f} s" if step.requests else ""
        own = f" (import {step.own_mb:.0f} MB)" if step.own_mb else ""
        held = f" (from {step.huey_start_mb:.0f})" if step.huey_start_mb else ""
        lines.append(f"| {step.round_name} | {step.name} | {step.seconds:.1f} s | "
                     f"{len(step.requests)} | {slowest} | {step.gunicorn_mb:.0f} MB{own} | "
                     f"{step.huey_mb:.0f} MB{held} | {step.verdict()} |")
    return "\n".join(lines)


def stop_on_sigterm(number, frame):
    raise SystemExit(f"stopped by signal {number}")  # so that the servers stop, the database goes


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=os.environ.get("PB_VOTE_PABULIB_DIR",
                                                        str(ROOT.parent / "shared" / "pabulib")))
    parser.add_argument("--files", nargs="+", default=DEFAULT_FILES)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11",
                        help="the task queue (its Redis database is the benchmark's)")
    parser.add_argument("--repeats", type=int, default=5, help="times each page is opened")
    parser.add_argument("--poll", type=float, default=1.0,
                        help="seconds between two looks at a count's progress page")
    parser.add_argument("--count-timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    paths = [Path(options.dir) / name for name in options.files]
    if missing := [str(p) for p in paths if not p.is_file()]:
        raise SystemExit(f"missing: {', '.join(missing)}")

    print(f"# results day, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n{machine()}\n"
          f"{revision()}", flush=True)
    ensure_redis(options.redis)
    database_url = reset_database(options.postgres, DATABASE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = Path(tempfile.mkdtemp(prefix="pb_vote_results_day_"))
    environment = production_environment(database_url, options.redis, base, str(logs))
    flask = [str(BIN / "flask"), "--app", "pb_vote"]
    steps: list[Step] = []
    service = memory = None
    try:
        run([*flask, "db", "upgrade"], environment)
        password = secrets.token_urlsafe(18)
        run([sys.executable, "-c", SETUP, TABLE, COORDINATOR, password], environment)
        rounds = []
        for path in paths:
            name = path.stem
            output, seconds, peak = run([*flask, "import-pabulib", str(path), "--table",
                                         TABLE], environment)
            round_id = int(re.search(r"round (\d+):", output).group(1))
            step = Step(name, "import (flask import-pabulib)", seconds=seconds, own_mb=peak)
            steps.append(step)
            print(f"  [{name}] {output.strip().splitlines()[-1]}")
            report(step)
            rounds.append((name, round_id))

        service = Service(environment, port, logs)
        memory = Memory({"gunicorn": service.gunicorn.pid, "huey": service.huey.pid})
        day = ResultsDay(options, service, memory, base)
        day.steps = steps
        day.sign_in(password)
        for name, round_id in rounds:
            print(f"\n## {name} (round {round_id})", flush=True)
            if not day.count(name, round_id):
                continue
            form = day.preview(name, round_id)
            if form is None:
                day.steps[-1].problems.append("no publish form on the preview")
                continue
            if day.publish(name, round_id, form):
                day.read_results(name, round_id)
    finally:
        if memory is not None:
            memory.stop()
        if service is not None:
            service.stop()
        if not options.keep:
            reset_database(options.postgres, DATABASE, create=False)
    print(f"\n{table(steps)}\n")
    met = all(step.verdict() in ("yes", "no target (not a request)") for step in steps)
    print(f"Targets (no request over {REQUEST_LIMIT:g} s, no worker timeout or 5xx, results "
          f"page and exports under {RESULTS_LIMIT:g} s): {'met' if met else 'NOT met'}.")
    if memory is not None and not memory.reset_works:
        print("(VmHWM could not be reset per step: peaks are sampled every 0.2 s.)")
    if met:
        shutil.rmtree(logs, ignore_errors=True)
    else:
        print(f"gunicorn's and the Huey worker's logs: {logs}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
