"""The configured OpenID Connect identity providers, as clients of Authlib's Flask
integration: discovery from the issuer, the authorization code flow with PKCE (S256), state
and nonce kept in the session, and the ID token's signature (the provider's JWKS) and
claims (issuer, audience, expiry, nonce) checked by Authlib. One registry per app, so that
apps with other providers (tests) never share clients."""

from dataclasses import dataclass

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import get_locale

EXTENSION = "pb_vote_identity_providers"
DISCOVERY = "/.well-known/openid-configuration"
TIMEOUT_SECONDS = 10  # each call to a provider: discovery, token, keys, userinfo


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
        oauth.register(
            name,
            client_id=settings["client_id"],
            client_secret=settings["client_secret"],
            server_metadata_url=settings["issuer"].rstrip("/") + DISCOVERY,
            client_kwargs={"scope": settings.get("scope") or "openid",
                           "code_challenge_method": "S256",
                           "default_timeout": TIMEOUT_SECONDS},
        )
    app.extensions[EXTENSION] = oauth


def settings_of(name: str) -> dict | None:
    """The configuration of provider ``name``, or None when there is no such provider."""
    return (current_app.config.get("IDENTITY_PROVIDERS") or {}).get(name)


def client(name: str):
    """Authlib's client for provider ``name``, or None."""
    if settings_of(name) is None:
        return None
    return current_app.extensions[EXTENSION].create_client(name)


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
