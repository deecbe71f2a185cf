"""The application factory and its configuration sources."""

import sqlite3

import pytest
from sqlalchemy import text

from pb_vote import create_app
from pb_vote.config import ConfigurationError, database_uri
from pb_vote.extensions import db
from tests.conftest import TEST_BALLOT_KEY, TEST_SECOND_FACTOR_KEY


def test_defaults_refuse_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("PB_VOTE_SECRET_KEY", raising=False)
    monkeypatch.delenv("PB_VOTE_ENV_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="PB_VOTE_SECRET_KEY"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_a_missing_or_shared_ballot_secret_is_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("PB_VOTE_ENV_NAME", raising=False)
    database = f"sqlite:///{tmp_path}/x.sqlite"
    with pytest.raises(ConfigurationError, match="PB_VOTE_BALLOT_SECRET"):
        create_app({"SECRET_KEY": "k" * 40, "DATABASE_URL": database})
    with pytest.raises(ConfigurationError, match="must differ"):
        create_app({"SECRET_KEY": "k" * 40, "BALLOT_SECRET": "k" * 40, "DATABASE_URL": database})


@pytest.mark.parametrize("keys, problem", [
    (None, "published development key"),  # the default
    ("", "no ballot key"),
    ("c2hvcnQ", "32 bytes"),
])
def test_outside_development_ballot_keys_must_be_real(tmp_path, keys, problem):
    config = {"SECRET_KEY": "k" * 40, "BALLOT_SECRET": "b" * 40,
              "PUBLIC_BASE_URL": "https://pb.example.fi",
              "SECOND_FACTOR_KEYS": [TEST_SECOND_FACTOR_KEY],
              "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}
    if keys is not None:
        config["BALLOT_KEYS"] = keys
    with pytest.raises(ConfigurationError, match=problem):
        create_app(config)
    create_app({**config, "BALLOT_KEYS": TEST_BALLOT_KEY})  # a real key starts


def test_short_secret_key_is_refused_too(tmp_path):
    with pytest.raises(ConfigurationError):
        create_app({"SECRET_KEY": "short", "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"})


def test_environment_variables_override_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PB_VOTE_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PB_VOTE_BALLOT_SECRET", "b" * 40)
    monkeypatch.setenv("PB_VOTE_BALLOT_KEYS", TEST_BALLOT_KEY)
    monkeypatch.setenv("PB_VOTE_SECOND_FACTOR_KEYS", TEST_SECOND_FACTOR_KEY)
    monkeypatch.setenv("PB_VOTE_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite")
    monkeypatch.setenv("PB_VOTE_MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("PB_VOTE_PUBLIC_BASE_URL", "https://pb.example.fi")
    app = create_app()
    assert app.config["SECRET_KEY"] == "s" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")
    assert app.config["MAIL_SERVER"] == "smtp.example.org"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_instance_config_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "SECRET_KEY = 'from-the-instance-folder-0123456789abcdef'\n"
        "BALLOT_SECRET = 'ballots-from-the-instance-folder-0123456789'\n"
        f"BALLOT_KEYS = ['{TEST_BALLOT_KEY}']\n"
        f"SECOND_FACTOR_KEYS = ['{TEST_SECOND_FACTOR_KEY}']\n"
        "MAIL_SENDER = 'instance@example.org'\nMAIL_PORT = 2525\n"
        "PUBLIC_BASE_URL = 'https://pb.example.fi'\n"
    )
    monkeypatch.setenv("PB_VOTE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PB_VOTE_MAIL_PORT", "465")
    app = create_app()
    assert app.instance_path == str(tmp_path)
    assert app.config["SECRET_KEY"] == "from-the-instance-folder-0123456789abcdef"
    assert app.config["MAIL_SENDER"] == "instance@example.org"
    assert app.config["MAIL_PORT"] == 465
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/pb_vote.sqlite"


def test_development_configuration_relaxes_cookies_and_keeps_mail(monkeypatch, tmp_path):
    monkeypatch.setenv("PB_VOTE_ENV_NAME", "development")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["DEV_MAILBOX"] is True


def test_production_has_no_development_mailbox(monkeypatch, tmp_path):
    monkeypatch.setenv("PB_VOTE_SECRET_KEY", "p" * 40)
    monkeypatch.setenv("PB_VOTE_BALLOT_SECRET", "q" * 40)
    monkeypatch.setenv("PB_VOTE_BALLOT_KEYS", TEST_BALLOT_KEY)
    monkeypatch.setenv("PB_VOTE_SECOND_FACTOR_KEYS", TEST_SECOND_FACTOR_KEY)
    monkeypatch.setenv("PB_VOTE_PUBLIC_BASE_URL", "https://pb.example.fi")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite"})
    assert not app.config.get("DEV_MAILBOX")
    assert app.test_client().get("/dev/mail", base_url="https://pb.example.fi").status_code == 404


@pytest.mark.parametrize(
    ("configured", "expected_prefix"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/a.sqlite", "sqlite:////tmp/a.sqlite"),
    ],
)
def test_database_urls_use_psycopg_3(configured, expected_prefix):
    assert database_uri(configured, "/nowhere") == expected_prefix


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    assert database_uri(None, str(tmp_path)) == f"sqlite:///{tmp_path}/pb_vote.sqlite"


# These two are about one database each: they take only that kind, instead of skipping the
# other kind's run.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_connections_enforce_foreign_keys_and_use_wal(app):
    with app.app_context():
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        with pytest.raises(Exception, match="FOREIGN KEY"):
            db.session.execute(
                text("INSERT INTO table_memberships (user_id, table_id, role, created_at) "
                     "VALUES (999, 999, 'member', '2026-01-01')")
            )
    assert sqlite3.sqlite_version_info >= (3, 35)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_goes_through_psycopg_3(app):
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"
        assert db.session.execute(text("SELECT 1")).scalar() == 1
