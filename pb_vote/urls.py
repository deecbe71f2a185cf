"""Absolute links to the service (in mail, on the voting-code sheet's QR code, in open
data), always on its configured public address, ``PUBLIC_BASE_URL``: never on the Host a
request came with, which its sender chooses (issue 13: a password link mailed to an
attacker's host gave them the account)."""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for
from werkzeug.routing import MapAdapter

# Where links lead in development when no public address is set and there is no request to
# take one from (`flask` commands): the address `make run` serves.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def public_adapter() -> MapAdapter:
    """The app's URL map bound to the public address (the development one when unset)."""
    parts = urlsplit(current_app.config.get("PUBLIC_BASE_URL") or DEVELOPMENT_BASE_URL)
    return current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                    url_scheme=parts.scheme)


def public_url(endpoint: str, **values) -> str:
    """The absolute address of ``endpoint`` on the public address. Only in development,
    where ``PUBLIC_BASE_URL`` may be unset (create_app requires it elsewhere), does a
    request's own address stand in; TRUSTED_HOSTS keeps that to localhost."""
    if not current_app.config.get("PUBLIC_BASE_URL") and has_request_context():
        return url_for(endpoint, _external=True, **values)
    return public_adapter().build(endpoint, values, force_external=True)
