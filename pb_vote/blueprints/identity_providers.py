"""The configured OpenID Connect identity providers, as clients of Authlib's Flask
integration: discovery from the issuer, the authorization code flow with PKCE (S256), state
and nonce kept in the session, and the ID token's signature (the provider's JWKS) and
claims (issuer, audience, expiry, nonce) checked by Authlib. One registry per app, so that
apps with other providers (tests) never share clients.

The city's own provider for staff (``STAFF_IDENTITY_PROVIDER``: Entra ID or similar) is a
client of the same registry under the name ``STAFF``, which no resident provider can take
(their names are identifiers), so the residents' sign-in page never offers it."""

from dataclasses import dataclass

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import get_locale

EXTENSION = "pb_vote_identity_providers"
DISCOVERY = "/.well-known/openid-configuration"
TIMEOUT_SECONDS = 10  # each call to a provider: discovery, token, keys, userinfo
STAFF = "city-staff"
STAFF_SCOPE = "openid email profile"


@dataclass(frozen=True)
class OfferedProvider:
    """A provider as the sign-in page offers it."""

    name: str
    label: str


def init_app(app: Flask) -> None:
    """Register a client for every provider in ``IDENTITY_PROVIDERS`` (nothing is fetched
    until someone signs in)."""
    oauth = OAuth(app)
    for name, settings in (app.config.get("IDENTITY_PROVIDERS") or {}).items():
        _register(oauth, name, settings, "openid")
    if app.config.get("STAFF_IDENTITY_PROVIDER"):
        _register(oauth, STAFF, app.config["STAFF_IDENTITY_PROVIDER"], STAFF_SCOPE)
    app.extensions[EXTENSION] = oauth


def _register(oauth: OAuth, name: str, settings: dict, default_scope: str) -> None:
    oauth.register(
        name,
        client_id=settings["client_id"],
        client_secret=settings["client_secret"],
        server_metadata_url=settings["issuer"].rstrip("/") + DISCOVERY,
        client_kwargs={"scope": settings.get("scope") or default_scope,
                       "code_challenge_method": "S256",
                       "default_timeout": TIMEOUT_SECONDS},
    )


def settings_of(name: str) -> dict | None:
    """The configuration of provider ``name``, or None when there is no such provider."""
    return (current_app.config.get("IDENTITY_PROVIDERS") or {}).get(name)


def client(name: str):
    """Authlib's client for provider ``name``, or None."""
    if settings_of(name) is None:
        return None
    return current_app.extensions[EXTENSION].create_client(name)


def staff_settings() -> dict | None:
    """The configuration of the city's staff provider, or None when there is none."""
    return current_app.config.get("STAFF_IDENTITY_PROVIDER") or None


def staff_client():
    """Authlib's client for the city's staff provider, or None."""
    if staff_settings() is None:
        return None
    return current_app.extensions[EXTENSION].create_client(STAFF)


def staff_label() -> str | None:
    """The staff provider's name in the user's language, or None when there is none."""
    settings = staff_settings()
    return None if settings is None else _label(STAFF, settings)


def label_of(name: str) -> str:
    """Provider ``name``'s name in the user's language (resident or staff provider)."""
    if name == STAFF:
        return staff_label() or name
    return _label(name, settings_of(name) or {})


def _label(name: str, settings: dict) -> str:
    label = settings.get("label") or name
    if isinstance(label, dict):
        language = str(get_locale())
        return label.get(language) or label.get("fi") or next(iter(label.values()), name)
    return str(label)


def offered() -> list[OfferedProvider]:
    """The providers to offer beside the emailed link, in configuration order."""
    return [OfferedProvider(name, _label(name, settings))
            for name, settings in (current_app.config.get("IDENTITY_PROVIDERS") or {}).items()]
