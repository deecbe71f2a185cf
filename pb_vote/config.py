"""Configuration defaults.

Order of precedence (later wins): the defaults here, ``instance/config.py``,
``PB_VOTE_*`` environment variables (``PB_VOTE_SECRET_KEY``, ``PB_VOTE_DATABASE_URL``, ...),
then the ``test_config`` mapping given to :func:`pb_vote.create_app`.
"""

import os
from urllib.parse import urlsplit

from werkzeug.sansio.utils import host_is_trusted

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # refused outside development
DEFAULT_BALLOT_SECRET = "dev-only-ballot-secret"  # refused outside development
# A published key, so refused outside development (pb_vote.services.ballot_box.new_key()).
DEFAULT_BALLOT_KEY = "ZGV2LW9ubHktYmFsbG90LWtleS1ub3Qtc2VjcmV0ISE="
DEFAULT_PERSON_SECRET = "dev-only-person-secret"  # refused outside development
# The same for the key that seals staff TOTP secrets.
DEFAULT_SECOND_FACTOR_KEY = "ZGV2LW9ubHktc2Vjb25kLWZhY3Rvci1rZXktbm90LSE="
SECOND_FACTOR_MODES = ("required", "optional", "off")

DEFAULTS: dict[str, object] = {
    # "production" (the default: strict) or "development" (what `make run` uses).
    "ENV_NAME": "production",
    "SECRET_KEY": DEFAULT_SECRET_KEY,
    # Keys the pseudonyms of ballots and receipts: HMAC(BALLOT_SECRET, voter, round). Keep it
    # apart from the database and from SECRET_KEY; losing it only stops vote changes.
    "BALLOT_SECRET": DEFAULT_BALLOT_SECRET,
    # The keys that seal what each ballot chose (AES-256-GCM): the first seals new ballots,
    # the others still open the ballots they sealed (key rotation). Kept in configuration,
    # never in the database, and backed up apart from it: without its key a round's ballots
    # cannot be counted. A list, or a string of keys separated by commas.
    "BALLOT_KEYS": [DEFAULT_BALLOT_KEY],
    # Strong identification of residents through OpenID Connect providers (Suomi.fi
    # e-Identification, a bank-ID broker of the Finnish Trust Network, ...), by name:
    # {"suomifi": {"issuer": "https://...", "client_id": "...", "client_secret": "...",
    #   "label": {"fi": "Suomi.fi-tunnistus", "sv": "...", "en": "..."},
    #   "scope": "openid profile", "person_claim": "hetu",
    #   "postal_code_claim": "address.postal_code", "birthdate_claim": "birthdate"}}.
    # See docs/strong-identification.md. Empty: residents sign in by emailed link only.
    "IDENTITY_PROVIDERS": {},
    # Keys the pseudonym of an identified person: HMAC(PERSON_SECRET, person identifier).
    # Never change it once people have signed in (they would become new people); keep it
    # apart from the database.
    "PERSON_SECRET": DEFAULT_PERSON_SECRET,
    # Staff may also sign in through the city's own OpenID Connect provider (Entra ID or
    # similar), offered on /staff/sign-in beside the password:
    # {"issuer": "https://login.microsoftonline.com/<tenant>/v2.0", "client_id": "...",
    #  "client_secret": "...", "label": "Lahden kaupunki", "scope": "openid email profile",
    #  "email_claim": "email", "mfa_acr_values": []}.
    # It maps the work address to an EXISTING staff account (roles stay with the city admin,
    # given to that address on /admin); it never creates an account. "email_claim" "email"
    # counts only with email_verified true; another claim ("preferred_username" or "upn" on
    # Entra ID, where the tenant owns the names) is taken as the directory gives it.
    "STAFF_IDENTITY_PROVIDER": {},
    # Whether the provider's own multi-factor sign-in counts as the staff second factor: an
    # ID token whose amr lists "mfa" (or whose acr is one of "mfa_acr_values") skips the
    # TOTP step. Off: the TOTP step applies as after a password.
    "STAFF_PROVIDER_TRUSTED_MFA": False,
    # Wrong voting codes allowed in 15 minutes per browser, and per network address (hashed)
    # for all browsers behind it. Codes carry 79 random bits, so this is a brake, not the
    # defence; a Speak-out event's shared Wi-Fi needs room for many people's typos.
    "CODE_ATTEMPTS_PER_BROWSER_PER_15_MINUTES": 10,
    "CODE_ATTEMPTS_PER_15_MINUTES": 300,
    # Wrong staff passwords allowed per email address in 15 minutes; then that address is
    # refused (even with the right password) until the window passes or a new password is
    # set by mail link. argon2 makes each guess slow; this caps how many there can be.
    "STAFF_PASSWORD_ATTEMPTS_PER_15_MINUTES": 10,
    # Staff second factor (an authenticator app's TOTP codes, and recovery codes):
    # "required": city admins and coordinators (who can publish results and give roles;
    # members too when STAFF_SECOND_FACTOR_FOR_MEMBERS) enrol at their first sign-in and
    # give a code at every sign-in; "optional": staff who enrolled give one; "off": nobody.
    "STAFF_SECOND_FACTOR": "required",
    "STAFF_SECOND_FACTOR_FOR_MEMBERS": False,
    # Seal the TOTP secrets at rest (AES-256-GCM), as BALLOT_KEYS seal ballots: the first
    # seals, the others still open (rotation). Without it no one can give a code: keep a
    # copy apart from the database backups (a city admin can reset a second factor).
    "SECOND_FACTOR_KEYS": [DEFAULT_SECOND_FACTOR_KEY],
    # Wrong codes (app or recovery) allowed per account in 15 minutes, counted before each
    # check like passwords; then even the right code waits.
    "SECOND_FACTOR_ATTEMPTS_PER_15_MINUTES": 5,
    # The name authenticator apps show beside the codes; None: the host of PUBLIC_BASE_URL.
    "SECOND_FACTOR_ISSUER": None,
    # Comments on ideas per person: at most this many in 10 minutes, and this many seconds
    # between two (counted before the comment is stored, so parallel requests cannot pass).
    "COMMENTS_PER_10_MINUTES": 5,
    "COMMENT_INTERVAL_SECONDS": 20,
    # How many reverse proxies set X-Forwarded-For/-Proto in front of the app (0: none).
    "PROXY_COUNT": 0,
    # The anonymized ballots (.pb) of a round with fewer ballots are withheld, for secrecy.
    "RESULTS_MIN_BALLOTS": 10,
    # The statistics after a round show no group smaller than this: such a figure reads
    # "fewer than 10", and another is held back with it so that it cannot be worked out.
    "STATISTICS_MIN_CELL": 10,
    # Flask-Caching keeps the rendered body of each publication's results page (per
    # language), since a publication never changes: in each app process by default; set
    # CACHE_TYPE "RedisCache" and CACHE_REDIS_URL to share one cache between app machines.
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": 300,
    "CACHE_THRESHOLD": 200,
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
    # "background": once the transaction that queued mail commits, a task on the task queue
    # sends it (and the queue's task of every minute tries failed messages again); "queue":
    # only that minute's task and `flask send-mail` (from cron or as a service) send.
    "MAIL_DELIVERY": "background",
    "MAIL_MAX_ATTEMPTS": 8,  # tries over about a day, then the message is given up
    # The reminder before voting closes goes this many hours before the close, to the
    # residents who asked for it and have not voted yet (none when the window is shorter).
    "VOTING_REMINDER_HOURS_BEFORE_CLOSE": 48,
    # The task queue (Huey) that runs counts, mail retries and the phase clock: "sqlite" (a
    # file in the instance folder; "sqlite:///path" for another), "redis://host:6379/0"
    # (production: every app machine and worker shares it), or "immediate" (tests: a task
    # runs in the caller, at once). Workers: huey_consumer pb_vote.worker.huey
    "TASK_QUEUE": "sqlite",
    # Sign-in links.
    "SIGN_IN_LINK_MAX_AGE_SECONDS": 15 * 60,
    "SIGN_IN_LINKS_PER_EMAIL_PER_HOUR": 5,
    "PASSWORD_LINK_MAX_AGE_SECONDS": 24 * 60 * 60,
    "LOGIN_SESSION_DAYS": 14,
    # How long a city department's one-time link to answer a reviewer's question works.
    "OPINION_LINK_DAYS": 30,
    # The address people use, e.g. https://pb.example.fi (a path prefix is allowed): every
    # link in mail and on the voting-code sheet is built on it, never on the request's Host.
    # Required outside development.
    "PUBLIC_BASE_URL": None,
    # Host names the service answers for (others get 400); None means the host of
    # PUBLIC_BASE_URL (and localhost in development). A name starting with a dot allows its
    # subdomains. An environment variable may list them with commas.
    "TRUSTED_HOSTS": None,
    # Requests larger than this get 413 (a form never needs more).
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 512 * 1024,
    # Images of proposals. A form that uploads one may send up to IMAGE_MAX_UPLOAD_BYTES
    # (every other request keeps MAX_CONTENT_LENGTH); larger ones get a 413 page.
    "IMAGES_PER_PROPOSAL": 3,
    "IMAGE_MAX_UPLOAD_BYTES": 10 * 1024 * 1024,
    # Refused above this many pixels (width times height), before decoding: a small file
    # can unpack to gigabytes (a "decompression bomb").
    "IMAGE_MAX_PIXELS": 40_000_000,
    # The widths made of each image (never wider than the upload), and their WebP quality.
    "IMAGE_WIDTHS": [480, 960, 1600],
    "IMAGE_QUALITY": 80,
    # A ballot of at most this many proposals shows their thumbnails; a longer one (a
    # capital's) stays within its page budget without them: each is one link away.
    "IMAGE_BALLOT_THUMBNAILS_MAX": 60,
    # Where the renditions are kept: "local" (IMAGE_FOLDER, by default the instance
    # folder's images/) or "s3" (an S3-compatible bucket shared by several app machines:
    # IMAGE_S3_BUCKET, optionally IMAGE_S3_ENDPOINT_URL, IMAGE_S3_REGION and
    # IMAGE_S3_PREFIX; credentials as boto3 finds them, e.g. AWS_ACCESS_KEY_ID).
    "IMAGE_STORAGE": "local",
    "IMAGE_FOLDER": None,
    "IMAGE_S3_BUCKET": None,
    "IMAGE_S3_ENDPOINT_URL": None,
    "IMAGE_S3_REGION": None,
    "IMAGE_S3_PREFIX": "images/",
    # Who runs the service: the contact page, the privacy notice and the accessibility
    # statement name them (the city is the controller of the personal data). CITY_NAME
    # None: the pages say "the city"; DATA_PROTECTION_EMAIL None: CITY_CONTACT_EMAIL.
    "CITY_NAME": None,
    "CITY_CONTACT_EMAIL": "osallistuva.budjetointi@example.org",
    "CITY_CONTACT_PHONE": None,
    "CITY_POSTAL_ADDRESS": None,
    "DATA_PROTECTION_EMAIL": None,
    # The city's main language (fi or sv): the service's own pages (about, contact,
    # privacy, accessibility) that a city admin has written in it are shown in it to readers
    # of a language the admin has not written them in, marked as such.
    "CITY_MAIN_LANGUAGE": "fi",
    # The day the accessibility statement was last reviewed (YYYY-MM-DD).
    "ACCESSIBILITY_STATEMENT_DATE": "2026-12-01",
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
    """Refuse to run outside development with the default secret key, or in debug mode.
    Only ``ENV_NAME = "development"`` relaxes this: no debug or testing switch does (tests
    set their own secrets), so production never runs on the published development key."""
    if settings.get("ENV_NAME") == "development":
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
    if debug:
        raise ConfigurationError(
            "Debug mode (FLASK_DEBUG, PB_VOTE_DEBUG) is for development only: unset it, "
            "or set PB_VOTE_ENV_NAME=development for local use."
        )


DEVELOPMENT_HOSTS = ("localhost", "127.0.0.1")


PROVIDER_REQUIRED = ("issuer", "client_id", "client_secret", "person_claim")


def check_identity_providers(settings) -> None:
    """Refuse an identity provider without its issuer, client or person claim, and, outside
    development, providers without a PERSON_SECRET of their own."""
    providers = settings.get("IDENTITY_PROVIDERS") or {}
    if not isinstance(providers, dict):
        raise ConfigurationError("PB_VOTE_IDENTITY_PROVIDERS must map names to settings.")
    for name, provider in providers.items():
        if not str(name).isidentifier():
            raise ConfigurationError(f"Identity provider name {name!r}: use letters, digits "
                                     "and _ only.")
        missing = [key for key in PROVIDER_REQUIRED if not (provider or {}).get(key)]
        if missing:
            raise ConfigurationError(f"Identity provider {name!r} lacks {', '.join(missing)}.")
    if not providers or settings.get("ENV_NAME") == "development":
        return
    secret = str(settings.get("PERSON_SECRET") or "")
    if secret == DEFAULT_PERSON_SECRET or len(secret) < 32 or secret in (
            str(settings.get("SECRET_KEY")), str(settings.get("BALLOT_SECRET"))):
        raise ConfigurationError(
            "Set PB_VOTE_PERSON_SECRET to a random value of at least 32 characters, apart "
            "from the other secrets, before configuring identity providers.")


def check_staff_identity_provider(settings) -> None:
    """Refuse a staff provider without its issuer or client, or with an unusable claim."""
    provider = settings.get("STAFF_IDENTITY_PROVIDER") or {}
    if not isinstance(provider, dict):
        raise ConfigurationError("PB_VOTE_STAFF_IDENTITY_PROVIDER must be a mapping of "
                                 "settings.")
    if not provider:
        return
    missing = [key for key in PROVIDER_REQUIRED[:3] if not provider.get(key)]
    if missing:
        raise ConfigurationError(f"The staff identity provider lacks {', '.join(missing)}.")
    if not isinstance(provider.get("email_claim", "email"), str) or not isinstance(
            provider.get("mfa_acr_values", []), list):
        raise ConfigurationError("The staff identity provider's email_claim must be a claim "
                                 "name and its mfa_acr_values a list.")


def check_public_address(settings) -> None:
    """Check ``PUBLIC_BASE_URL`` (required outside development) and store it without a
    trailing slash; set ``TRUSTED_HOSTS`` (Flask refuses other hosts with 400) to the
    configured list, or else to the public address's host (and localhost in development)."""
    development = settings.get("ENV_NAME") == "development"
    base = (settings.get("PUBLIC_BASE_URL") or "").strip()
    if not base and not development:
        raise ConfigurationError(
            "Set PB_VOTE_PUBLIC_BASE_URL to the address people use (for example "
            "https://pb.example.fi): links in mail are built on it, never on the request's "
            "Host; or PB_VOTE_ENV_NAME=development for local use."
        )
    host = None
    if base:
        parts = urlsplit(base)
        if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username
                or parts.password or parts.query or parts.fragment):
            raise ConfigurationError(
                f"PB_VOTE_PUBLIC_BASE_URL must be like https://pb.example.fi, not {base!r}."
            )
        host = parts.hostname
        settings["PUBLIC_BASE_URL"] = base.rstrip("/")
    trusted = settings.get("TRUSTED_HOSTS")
    if isinstance(trusted, str):
        trusted = [name.strip() for name in trusted.split(",") if name.strip()]
    if trusted is None:
        trusted = ([host] if host else []) + (list(DEVELOPMENT_HOSTS) if development else [])
    elif not trusted:
        # Werkzeug reads an empty list as "every host": never let it mean that.
        raise ConfigurationError("PB_VOTE_TRUSTED_HOSTS lists no host; leave it unset to "
                                 "trust only the host of PB_VOTE_PUBLIC_BASE_URL.")
    elif host and not host_is_trusted(host, trusted):
        raise ConfigurationError(
            f"PB_VOTE_TRUSTED_HOSTS must include {host}, the host of PB_VOTE_PUBLIC_BASE_URL "
            "(the links in mail lead there)."
        )
    settings["TRUSTED_HOSTS"] = list(trusted)


def check_ballot_keys(settings) -> None:
    """Refuse malformed ballot keys anywhere, and the published development key outside
    development."""
    from pb_vote.services.ballot_box import parse_keys

    try:
        keys = parse_keys(settings.get("BALLOT_KEYS"))
    except ValueError as problem:
        raise ConfigurationError(
            f"PB_VOTE_BALLOT_KEYS: {problem}. Make one with: python -c \"import base64, "
            f"secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())\""
        ) from None
    if settings.get("ENV_NAME") != "development" and parse_keys(DEFAULT_BALLOT_KEY)[0] in keys:
        raise ConfigurationError(
            "PB_VOTE_BALLOT_KEYS holds the published development key: set your own key "
            "(and keep a copy apart from the database backups)."
        )


def check_city_language(settings) -> None:
    """Refuse a ``CITY_MAIN_LANGUAGE`` other than Finnish or Swedish (Finland's national
    languages, in which a city writes its own pages first)."""
    if settings.get("CITY_MAIN_LANGUAGE") not in ("fi", "sv"):
        raise ConfigurationError(
            f"PB_VOTE_CITY_MAIN_LANGUAGE must be fi or sv, not "
            f"{settings.get('CITY_MAIN_LANGUAGE')!r}.")


def check_second_factor(settings) -> None:
    """Refuse an unknown STAFF_SECOND_FACTOR mode, malformed second-factor keys anywhere, and
    the published development key outside development (unless the second factor is off)."""
    from pb_vote.services.ballot_box import parse_keys

    mode = settings.get("STAFF_SECOND_FACTOR")
    if mode not in SECOND_FACTOR_MODES:
        raise ConfigurationError(
            f"PB_VOTE_STAFF_SECOND_FACTOR must be one of {', '.join(SECOND_FACTOR_MODES)}, "
            f"not {mode!r}."
        )
    try:
        keys = parse_keys(settings.get("SECOND_FACTOR_KEYS"), "second-factor key")
    except ValueError as problem:
        raise ConfigurationError(
            f"PB_VOTE_SECOND_FACTOR_KEYS: {problem}. Make one with: python -c \"import "
            f"base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32))"
            f".decode())\""
        ) from None
    if (settings.get("ENV_NAME") != "development" and mode != "off"
            and parse_keys(DEFAULT_SECOND_FACTOR_KEY)[0] in keys):
        raise ConfigurationError(
            "PB_VOTE_SECOND_FACTOR_KEYS holds the published development key: set your own "
            "key (and keep a copy apart from the database backups)."
        )


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
