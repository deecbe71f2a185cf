"""Emailed one-time links and login sessions.

A link carries an itsdangerous-signed token ``{"e": email, "n": nonce}`` that expires after a
configured age; the nonce is stored and marked used on first use, so a link works once.
Login sessions are rows keyed by the SHA-256 of a random token kept in the session cookie:
deleting the row ends the session even if someone kept a copy of the cookie.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import LoginSession, OneTimeNonce, SignInMethod, TokenPurpose, User
from pb_vote.services.accounts import normalize_email
from pb_vote.services.second_factor import Policy
from pb_vote.services.second_factor import pending as second_factor_pending


class LinkError(ServiceError):
    """A one-time link could not be used. ``email`` is known when the link was genuine."""

    code = "link_invalid"

    def __init__(self, email: str | None = None):
        super().__init__(type(self).code, email=email)
        self.email = email


class LinkInvalid(LinkError):
    """The link was not issued by us (or was mangled)."""


class LinkExpired(LinkError):
    """The link is older than its allowed age."""

    code = "link_expired"


class LinkUsed(LinkError):
    """The link was already used once."""

    code = "link_used"


@dataclass(frozen=True)
class LinkClaims:
    """What a valid link says."""

    email: str
    nonce: str
    purpose: TokenPurpose


def _serializer(secret_key: str, purpose: TokenPurpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"pb_vote.{purpose.value}")


def recent_link_count(email: str, purpose: TokenPurpose, within: timedelta) -> int:
    """How many links of this purpose were issued to ``email`` in the last ``within``."""
    return db.session.execute(
        select(func.count())
        .select_from(OneTimeNonce)
        .where(
            OneTimeNonce.email == normalize_email(email),
            OneTimeNonce.purpose == purpose,
            OneTimeNonce.created_at > clock.utcnow() - within,
        )
    ).scalar_one()


def issue_link_token(secret_key: str, email: str, purpose: TokenPurpose) -> str:
    """Store a fresh nonce and return the signed token to put in an emailed link."""
    nonce = secrets.token_urlsafe(24)
    email = normalize_email(email)
    db.session.add(OneTimeNonce(nonce=nonce, purpose=purpose, email=email))
    db.session.flush()
    return _serializer(secret_key, purpose).dumps({"e": email, "n": nonce})


def read_link_token(
    secret_key: str, token: str, purpose: TokenPurpose, max_age_seconds: int
) -> LinkClaims:
    """Check a token's signature, age and nonce without using it up."""
    serializer = _serializer(secret_key, purpose)
    try:
        payload = serializer.loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        # The signature is genuine, only old: the address can prefill the new-link form.
        _, payload = serializer.loads_unsafe(token)
        email = payload.get("e") if isinstance(payload, dict) else None
        raise LinkExpired(email) from None
    except BadSignature:
        raise LinkInvalid() from None
    if not isinstance(payload, dict) or not {"e", "n"} <= payload.keys():
        raise LinkInvalid()
    stored = db.session.get(OneTimeNonce, payload["n"])
    if stored is None or stored.purpose != purpose or stored.email != payload["e"]:
        raise LinkInvalid()
    if stored.used_at is not None:
        raise LinkUsed(stored.email)
    return LinkClaims(email=stored.email, nonce=stored.nonce, purpose=purpose)


def use_link_token(
    secret_key: str, token: str, purpose: TokenPurpose, max_age_seconds: int
) -> LinkClaims:
    """Check a token and mark it used, atomically: of two concurrent uses, one wins."""
    claims = read_link_token(secret_key, token, purpose, max_age_seconds)
    result = db.session.execute(
        update(OneTimeNonce)
        .where(OneTimeNonce.nonce == claims.nonce, OneTimeNonce.used_at.is_(None))
        .values(used_at=clock.utcnow())
    )
    if result.rowcount != 1:
        raise LinkUsed(claims.email)
    return claims


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_login_session(user: User, method: SignInMethod, days: int, *,
                       passed_second_factor: bool = False,
                       lasts: timedelta | None = None) -> str:
    """Start a login session for ``user`` (which passed the staff second factor now, when
    ``passed_second_factor``), lasting ``days`` (or ``lasts``); return the token for the
    session cookie."""
    token = secrets.token_urlsafe(32)
    now = clock.utcnow()
    db.session.add(
        LoginSession(
            token_hash=_token_hash(token),
            user=user,
            method=method,
            created_at=now,
            expires_at=now + (lasts or timedelta(days=days)),
            second_factor_at=now if passed_second_factor else None,
        )
    )
    user.last_sign_in_at = now
    db.session.flush()
    user.login_session_token = token
    return token


def load_login_session(token: str, policy: Policy | None = None) -> User | None:
    """The user of a live login session, or None when it ended or expired. Under ``policy``,
    a session still waiting for its second factor gives a user marked
    ``second_factor_pending`` (who counts as not signed in)."""
    login_session = db.session.get(LoginSession, _token_hash(token),
                                   options=[joinedload(LoginSession.user)])
    if login_session is None or login_session.expires_at <= clock.utcnow():
        return None
    user = login_session.user
    user.login_session_token = token
    user.second_factor_pending = policy is not None and second_factor_pending(
        user, login_session, policy)
    return user


def method_of(token: str) -> SignInMethod | None:
    """How the login session of ``token`` was opened, or None when there is none."""
    return db.session.scalar(select(LoginSession.method)
                             .where(LoginSession.token_hash == _token_hash(token)))


def end_login_session(token: str) -> None:
    """End one login session (sign out)."""
    db.session.execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))


def end_all_login_sessions(user: User) -> None:
    """End every session of ``user`` (after a password change, say)."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
