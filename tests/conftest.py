"""Shared fixtures. Every test that takes ``app`` runs on SQLite, and again on PostgreSQL
when PB_VOTE_TEST_DATABASE_URL is set (``.ci/run`` sets it); otherwise those runs skip.

The schema is built by the migrations (never by ``create_all``), once per session and
database: SQLite tests get a copy of the migrated file, PostgreSQL tests truncate after use.
"""

import os
import re
import shutil
import smtplib

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from pb_vote import create_app
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.services import accounts
from tests import factories

POSTGRES_URL_VARIABLE = "PB_VOTE_TEST_DATABASE_URL"
TEST_BALLOT_KEY = "dGVzdC1vbmx5LWJhbGxvdC1rZXktMzItYnl0ZXMhISE="
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
TEST_SECOND_FACTOR_KEY = "dGVzdC1vbmx5LXNlY29uZC1mYWN0b3Ita2V5LTMyISE="
# The service's own hasher and the hash it checks unknown addresses against, taken before
# cheap_password_hashing swaps them (tests/services/test_passwords.py checks their strength).
PRODUCTION_PASSWORD_HASHER = accounts.PASSWORD_HASHER
PRODUCTION_DUMMY_HASH = accounts._DUMMY_HASH


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Staff passwords are hashed and checked with argon2id at its cheapest in tests: the
    production cost (about 0.3 s for each hash and each check) would be paid on every staff
    sign-in. argon2 checks a hash with the parameters written in it, so the hash that unknown
    addresses are checked against is remade cheaply too."""
    cheap = PasswordHasher.from_parameters(CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "PASSWORD_HASHER", cheap)
        patch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a real password"))
        yield cheap


class ClosingClient(FlaskClient):
    """A test client that closes every response, as a real server does once it has sent
    it, so that a response's own clean-up has run on return."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def base_test_config(database_url: str) -> dict:
    """The configuration every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "BALLOT_SECRET": "test-ballot-secret-that-is-long-enough-9876543210",
        "BALLOT_KEYS": [TEST_BALLOT_KEY],
        # Staff who set up a second factor give it; nobody must (tests/views/
        # test_second_factor.py and the browser journey test the "required" mode).
        "STAFF_SECOND_FACTOR": "optional",
        "SECOND_FACTOR_KEYS": [TEST_SECOND_FACTOR_KEY],
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        # A count asked for on a page, and new mail once its transaction commits, run at
        # once, in the request (tests only): mail is delivered by the time a page answers.
        "TASK_QUEUE": "immediate",
        "SERVER_NAME": "pb.test",
        "PUBLIC_BASE_URL": "http://pb.test",  # trusted hosts: pb.test only
        "SESSION_COOKIE_SECURE": False,
        # Tests read English unless they choose a language (the service's default is fi).
        "BABEL_DEFAULT_LOCALE": "en",
    }


def _migrate(database_url: str) -> None:
    app = create_app(base_test_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory):
    """A SQLite file migrated to the latest revision, to copy for each test."""
    path = tmp_path_factory.mktemp("schema") / "template.sqlite"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres_url():
    """The PostgreSQL test database, migrated once per session (or a skip)."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"PostgreSQL run skipped: set {POSTGRES_URL_VARIABLE} (.ci/run does)")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(url)
    return url


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        names = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        quoted = ", ".join(f'"{name}"' for name in names)
        if quoted:
            connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty database of each kind for one test."""
    if request.param == "sqlite":
        path = tmp_path / "pb_vote.sqlite"
        shutil.copy(request.getfixturevalue("migrated_sqlite_file"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("migrated_postgres_url")
        yield url
        _truncate_postgres(url)


@pytest.fixture
def app(database_url, tmp_path):
    """The application on a fresh database (its images in a folder of its own); no
    context is pushed."""
    application = create_app({**base_test_config(database_url),
                              "IMAGE_FOLDER": str(tmp_path / "images")})
    application.test_client_class = ClosingClient
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    """An application context, for tests of services and models."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def mailbox(app):
    """The mail the app sent during the test."""
    return outbox(app)


class AuthActions:
    """Sign in and out through the real pages."""

    def __init__(self, app, client):
        self._app = app
        self._client = client

    def staff(self, email: str, password: str = factories.STAFF_PASSWORD):
        """Sign in with a password; returns the response."""
        return self._client.post(
            "/staff/sign-in", data={"email": email, "password": password}
        )

    def request_link(self, email: str):
        """Ask for a sign-in link; returns the link from the mail, or None."""
        before = len(outbox(self._app))
        self._client.post("/sign-in", data={"email": email})
        new = outbox(self._app)[before:]
        return link_in(new[-1].body) if new else None

    def resident(self, email: str):
        """Sign in by emailed link, the whole way; returns the final response."""
        link = self.request_link(email)
        assert link, "no sign-in link was mailed"
        self._client.get(link)
        return self._client.post("/sign-in/confirm")

    def sign_out(self):
        return self._client.post("/sign-out")


def link_in(body: str) -> str:
    """The first URL in a mail body, as a path for the test client."""
    match = re.search(r"https?://[^/\s]+(/\S*)", body)
    assert match, f"no link in mail: {body!r}"
    return match.group(1)


@pytest.fixture
def auth(app, client):
    return AuthActions(app, client)


class FrozenClock:
    """A controllable clock: ``clock.now`` is what the service sees; ``advance`` moves it."""

    def __init__(self, start):
        self.now = start

    def advance(self, **delta):
        from datetime import timedelta

        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, moment):
        self.now = moment
        return moment


@pytest.fixture
def frozen_clock(monkeypatch):
    """Freeze the service's clock (``pb_vote.clock.utcnow``) at the current time."""
    from pb_vote import clock as clock_module

    frozen = FrozenClock(clock_module.utcnow().replace(microsecond=0))
    monkeypatch.setattr(clock_module, "utcnow", lambda: frozen.now)
    return frozen


class FakeSMTP:
    """Stands in for smtplib.SMTP: records connections and messages; ``failing`` refuses."""

    failing = False
    connections: list["FakeSMTP"] = []

    def __init__(self, host, port, timeout=None):
        if FakeSMTP.failing:
            raise ConnectionRefusedError(111, "Connection refused")
        self.host, self.sent, self.closed = host, [], False
        FakeSMTP.connections.append(self)

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message):
        self.sent.append(message)

    def quit(self):
        self.closed = True

    def close(self):
        self.closed = True


@pytest.fixture
def smtp(app, monkeypatch):
    """Mail goes to FakeSMTP; returns the class (its ``connections`` and ``failing``)."""
    app.config["MAIL_SERVER"] = "mail.example.org"
    FakeSMTP.failing, FakeSMTP.connections = False, []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP
