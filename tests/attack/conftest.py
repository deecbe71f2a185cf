"""Attacks on the running service: gunicorn in its production configuration (CSRF on,
several workers, real sockets), on SQLite and on PostgreSQL, driven by parallel real HTTP
requests. Each test module seeds its own world with ``seed(scenario)`` (a module-level
function using ``tests.factories``) and gets a fresh database and server.

The PostgreSQL runs use a database of their own beside the suite's
(``<test database>_attack``), so they never disturb the other tests.
"""

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pb_vote import create_app
from pb_vote.extensions import db
from tests.conftest import POSTGRES_URL_VARIABLE, TEST_SECOND_FACTOR_KEY, base_test_config

requests = pytest.importorskip("requests", reason="the attack tests need requests")

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "attack-secret-key-that-is-long-enough-0123456789abcdef"
BALLOT_SECRET = "attack-ballot-secret-that-is-long-enough-9876543210fedcba"
BALLOT_KEY = "YXR0YWNrLXRlc3QtYmFsbG90LWtleS0zMi1ieXRlcyE="
WORKERS = 3
THREADS = 4


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _fresh_postgres_database(base_url: str, suffix: str) -> str:
    url = make_url(base_url)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


class Browser:
    """One visitor: a cookie jar, and forms sent with the CSRF token of the page they are
    on, as a browser would. Every answer is kept, so a test can say none was a 5xx."""

    def __init__(self, service: "LiveService"):
        self.service = service
        self.http = requests.Session()
        self.answers: list[requests.Response] = []

    def get(self, path: str, **options) -> "requests.Response":
        return self._keep(self.http.get(self.service.url + path, allow_redirects=False,
                                        timeout=60, **options))

    def post(self, path: str, data: dict | list | None = None, **options):
        return self._keep(self.http.post(self.service.url + path, data=data,
                                         allow_redirects=False, timeout=60, **options))

    def token(self, path: str) -> str:
        """The CSRF token of the form on ``path``."""
        page = self.get(path)
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', page.text)
        assert found, f"no form on {path} ({page.status_code})"
        return found.group(1)

    def submit(self, form_path: str, data: dict | list, to: str | None = None, **options):
        """Send a form as the page ``form_path`` would (to ``to``, default the same path)."""
        token = self.token(form_path)
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        return self.post(to or form_path, [("csrf_token", token), *fields], **options)

    def sign_in_staff(self, email: str, password: str) -> None:
        answer = self.submit("/staff/sign-in", {"email": email, "password": password})
        assert answer.status_code in (302, 303), answer.status_code

    def sign_in_resident(self, email: str) -> None:
        """The whole emailed-link sign-in: ask, read the mail from the database, confirm."""
        before = self.service.mail_count(email)
        self.submit("/sign-in", {"email": email})
        mail = self.service.mails(email)[before:]
        assert mail, f"no sign-in mail to {email}"
        path = urlsplit(re.search(r"https?://\S+", mail[-1].body).group(0))
        self.get(f"{path.path}?{path.query}")
        answer = self.submit("/sign-in/confirm", {})
        assert answer.status_code in (302, 303), answer.status_code

    def _keep(self, answer):
        self.answers.append(answer)
        return answer

    def server_errors(self) -> list[str]:
        return [f"{a.request.method} {a.url}: {a.status_code}" for a in self.answers
                if a.status_code >= 500]


@dataclass
class LiveService:
    """gunicorn serving pb_vote on ``url``, and the app of the same database for looking
    at it from the inside (``inside()`` pushes its context)."""

    kind: str
    url: str
    database_url: str
    app: object
    log: Path
    scenario: dict = field(default_factory=dict)
    browsers: list[Browser] = field(default_factory=list)
    environment: dict = field(default_factory=dict)  # the module's SERVICE_ENVIRONMENT

    def browser(self) -> Browser:
        made = Browser(self)
        self.browsers.append(made)
        return made

    def inside(self):
        return self.app.app_context()

    def sql(self, statement: str, **values) -> list:
        with self.inside():
            rows = db.session.execute(text(statement), values).all()
            db.session.rollback()
            return rows

    def flask(self, *args: str, **environment: str) -> subprocess.CompletedProcess:
        """``flask --app pb_vote ARGS`` on this service's database and configuration (and
        ``environment``), as cron would run it; returns the finished process."""
        env = _environment(self.database_url, self.log.parent, self.url,
                           {**self.environment, **environment})
        return subprocess.run([sys.executable, "-m", "flask", "--app", "pb_vote", *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    def mails(self, recipient: str | None = None) -> list:
        """Queued mail (the service runs with MAIL_DELIVERY=queue), oldest first."""
        where = "WHERE recipient = :to" if recipient else ""
        return self.sql(f"SELECT recipient, subject, body FROM outgoing_mails {where} "
                        "ORDER BY id", to=recipient)

    def mail_count(self, recipient: str) -> int:
        return len(self.mails(recipient))

    def server_errors(self) -> list[str]:
        """Every 5xx any browser got, and every traceback gunicorn logged."""
        found = [error for b in self.browsers for error in b.server_errors()]
        logged = self.log.read_text(errors="replace") if self.log.exists() else ""
        if "Traceback" in logged:
            found.append(logged[logged.index("Traceback"):][:3000])
        return found


def _environment(database_url: str, instance: Path, url: str, extra: dict) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PB_VOTE_", "FLASK_"))}
    env.update({
        "PB_VOTE_DATABASE_URL": database_url,
        "PB_VOTE_SECRET_KEY": SECRET_KEY,
        "PB_VOTE_BALLOT_SECRET": BALLOT_SECRET,
        "PB_VOTE_BALLOT_KEYS": BALLOT_KEY,
        # As in the other tests: a second factor only for staff who set one up (modules
        # that attack the "required" mode set it in SERVICE_ENVIRONMENT).
        "PB_VOTE_STAFF_SECOND_FACTOR": "optional",
        "PB_VOTE_SECOND_FACTOR_KEYS": TEST_SECOND_FACTOR_KEY,
        "PB_VOTE_INSTANCE_PATH": str(instance),
        "PB_VOTE_PUBLIC_BASE_URL": url,  # and so the only trusted host is 127.0.0.1
        # Plain http on loopback: the cookies cannot be Secure here.
        "PB_VOTE_SESSION_COOKIE_SECURE": "false",
        "PB_VOTE_MAIL_DELIVERY": "queue",
        "PB_VOTE_BABEL_DEFAULT_LOCALE": "en",
        # A count asked for on the results page runs in that request (tests/results has the
        # test with a real task worker).
        "PB_VOTE_TASK_QUEUE": "immediate",
    })
    env.update(extra)
    return env


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            requests.get(url + "/", timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):
    """A fresh database seeded by the module's ``seed(scenario)``, served by gunicorn."""
    folder = tmp_path_factory.mktemp(f"attack-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{folder / 'pb_vote.sqlite'}"
    else:
        base = os.environ.get(POSTGRES_URL_VARIABLE)
        if not base:
            pytest.skip(f"PostgreSQL run skipped: set {POSTGRES_URL_VARIABLE} (.ci/run does)")
        database_url = _fresh_postgres_database(base, "attack")
    config = base_test_config(database_url)
    del config["SERVER_NAME"]
    app = create_app({**config, "SECRET_KEY": SECRET_KEY, "BALLOT_SECRET": BALLOT_SECRET,
                      "BALLOT_KEYS": [BALLOT_KEY]})
    scenario: dict = {}
    with app.app_context():
        upgrade()
        seed = getattr(request.module, "seed", None)
        if seed is not None:
            seed(scenario)
        db.session.commit()
        db.engine.dispose()
    port = free_port()
    log = folder / "gunicorn.log"
    extra = getattr(request.module, "SERVICE_ENVIRONMENT", {})
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--threads",
             str(THREADS), "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5",
             "wsgi:app"],
            cwd=ROOT, env=_environment(database_url, folder, url, extra), stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(url, process, log)
        yield LiveService(request.param, url, database_url, app, log, scenario,
                          environment=extra)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if request.param == "postgresql":
            _drop_postgres_database(database_url)
