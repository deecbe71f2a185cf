"""Configuration defaults.

Order of precedence (later wins): the defaults here, ``instance/config.py``,
``PB_VOTE_*`` environment variables (``PB_VOTE_SECRET_KEY``, ``PB_VOTE_DATABASE_URL``, ...),
then the ``test_config`` mapping given to :func:`pb_vote.create_app`.
"""

import os

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # refused outside development
DEFAULT_BALLOT_SECRET = "dev-only-ballot-secret"  # refused outside development

DEFAULTS: dict[str, object] = {
    # "production" (the default: strict) or "development" (what `make run` uses).
    "ENV_NAME": "production",
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    # Keys the pseudonyms of ballots and receipts: HMAC(BALLOT_SECRET, voter, round). Keep it
    # apart from the database and from SECRET_KEY; losing it only stops vote changes.
    "BALLOT_SECRET": DEFAULT_BALLOT_SECRET,
    # Wrong voting codes allowed in 15 minutes per browser, and per network address (hashed)
    # for all browsers behind it. Codes carry 79 random bits, so this is a brake, not the
    # defence; a Speak-out event's shared Wi-Fi needs room for many people's typos.
    "CODE_ATTEMPTS_PER_BROWSER_PER_15_MINUTES": 10,
    "CODE_ATTEMPTS_PER_15_MINUTES": 300,
    # Wrong staff passwords allowed per email address in 15 minutes; then that address is
    # refused (even with the right password) until the window passes or a new password is
    # set by mail link. argon2 makes each guess slow; this caps how many there can be.
    "STAFF_PASSWORD_ATTEMPTS_PER_15_MINUTES": 10,
    # How many reverse proxies set X-Forwarded-For/-Proto in front of the app (0: none).
    "PROXY_COUNT": 0,
    # The anonymized ballots (.pb) of a round with fewer ballots are withheld, for secrecy.
    "RESULTS_MIN_BALLOTS": 10,
    # None means the SQLite file instance/pb_vote.sqlite.
    "DATABASE_URL": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    # Mail: SMTP when MAIL_SERVER is set, otherwise written to the log.
    "MAIL_SERVER": None,
    "MAIL_PORT": 587,
    "MAIL_USE_TLS": True,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_SENDER": "pb_vote <no-reply@localhost>",
    # "background": a sender thread in each process sends queued mail as soon as the request
    # is done, and tries failed messages again; "after_response": the request's own thread
    # sends it once the server has sent the response (tests use it, as their client closes
    # every response); "queue": only `flask send-mail` sends (from cron or as a service).
    "MAIL_DELIVERY": "background",
    "MAIL_MAX_ATTEMPTS": 8,  # tries over about a day, then the message is given up
    # Sign-in links.
    "SIGN_IN_LINK_MAX_AGE_SECONDS": 15 * 60,
    "SIGN_IN_LINKS_PER_EMAIL_PER_HOUR": 5,
    "PASSWORD_LINK_MAX_AGE_SECONDS": 24 * 60 * 60,
    "LOGIN_SESSION_DAYS": 14,
    # Public base URL used in mails when there is no request (CLI); e.g. https://pb.example.fi
    "BASE_URL": None,
    # Requests larger than this get 413 (a form never needs more).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,
    "BABEL_DEFAULT_LOCALE": "fi",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Helsinki",
    "LANGUAGES": ["fi", "sv", "en"],
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
}

DEVELOPMENT_OVERRIDES: dict[str, object] = {
    "SESSION_COOKIE_SECURE": False,
    # Mail is also kept in memory and shown on /dev/mail so the demo works without SMTP.
    "DEV_MAILBOX": True,
}


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete; the message says what to set."""


def check_secrets(settings, *, debug: bool) -> None:
    """Refuse to run outside development, debug or testing with the default secret key."""
    relaxed = debug or settings.get("TESTING") or settings.get("ENV_NAME") == "development"
    if relaxed:
        return
    for key, default in (("SECRET_KEY", DEFAULT_SECRET_KEY),
                         ("BALLOT_SECRET", DEFAULT_BALLOT_SECRET)):
        secret = settings.get(key)
        if not secret or secret == default or len(str(secret)) < 32:
            raise ConfigurationError(
                f"Set PB_VOTE_{key} to a random value of at least 32 characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))"), '
                "or PB_VOTE_ENV_NAME=development for local use."
            )
    if settings.get("BALLOT_SECRET") == settings.get("SECRET_KEY"):
        raise ConfigurationError("PB_VOTE_BALLOT_SECRET must differ from PB_VOTE_SECRET_KEY.")


def database_uri(database_url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: the configured one (PostgreSQL through psycopg 3), or SQLite in
    the instance folder."""
    if not database_url:
        os.makedirs(instance_path, exist_ok=True)
        return "sqlite:///" + os.path.join(instance_path, "pb_vote.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url
