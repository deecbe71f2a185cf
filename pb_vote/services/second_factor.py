"""The staff second factor: TOTP codes from an authenticator app (pyotp, RFC 6238: six
digits, 30-second steps, one step either side allowed for a phone's clock), and ten
single-use recovery codes.

Who needs it is the ``Policy`` (configuration): in "required" mode everyone who can publish
results or give roles (city admins, coordinators; members when the city says so), in
"optional" mode whoever enrolled, in "off" mode nobody. A login session opened with a
password records when it passed the second factor (``LoginSession.second_factor_at``);
until then a person it concerns counts as not signed in (``User.second_factor_pending``,
set by :func:`pending`), so no page and no permission check lets them act.

Secrets at rest are sealed with AES-256-GCM under a key from configuration
(``SECOND_FACTOR_KEYS``, rotated like the ballot keys), bound to their user: the database
alone cannot make a code. Recovery codes are 16 random symbols (about 79 bits, the voting
codes' alphabet): only their SHA-256 is stored; a slow hash like argon2 protects secrets
people choose, and these are too random to search. A TOTP code works once: its time step
is stored, and the database accepts only a later step (so two requests with one code get
one success). Every enrolment, recovery-code use, renewal and reset is audited.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import LoginSession, MembershipRole, RecoveryCode, SecondFactor, User
from pb_vote.services import codes, rate_limits
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_box import KEY_ID_BYTES, key_id, parse_keys

RECOVERY_CODE_COUNT = 10
VALID_WINDOW = 1  # steps either side of now: a code lives 60 to 90 seconds
ATTEMPT_WINDOW = rate_limits.CODE_WINDOW  # 15 minutes
_WRONG_CODES = "staff_second_factor"
_VERSION = 1
_NONCE_BYTES = 12


class SecondFactorKeyError(Exception):
    """A sealed secret cannot be opened: its key is not configured, or it was altered."""


@dataclass(frozen=True)
class Policy:
    """Who must give a second factor: ``mode`` is "required", "optional" or "off"."""

    mode: str
    members_too: bool = False

    @classmethod
    def from_config(cls, config) -> "Policy":
        """The policy of an application's configuration."""
        return cls(config["STAFF_SECOND_FACTOR"], bool(config["STAFF_SECOND_FACTOR_FOR_MEMBERS"]))

    @property
    def enabled(self) -> bool:
        """Whether anyone can enrol and be asked (not "off")."""
        return self.mode != "off"

    def required_for(self, user: User) -> bool:
        """Whether ``user`` may not act without a second factor (enrolled or not yet)."""
        if self.mode != "required":
            return False
        if user.is_city_admin or any(m.role is MembershipRole.COORDINATOR
                                     for m in user.memberships):
            return True
        return self.members_too and bool(user.memberships)

    def applies_to(self, user: User) -> bool:
        """Whether a sign-in of ``user`` asks for a second factor (or its enrolment).
        Residents never: only staff can enrol."""
        return self.enabled and user.is_staff and (self.required_for(user)
                                                   or is_enrolled(user))


@dataclass(frozen=True)
class SecretKeys:
    """The keyring of SECOND_FACTOR_KEYS: the first seals, every key opens what it sealed."""

    keys: tuple[bytes, ...]

    @classmethod
    def from_config(cls, config) -> "SecretKeys":
        """The keyring of an application's configuration."""
        return cls(tuple(parse_keys(config["SECOND_FACTOR_KEYS"], "second-factor key")))

    @staticmethod
    def _associated(user_id: int) -> bytes:
        return f"pb_vote totp secret v{_VERSION}|user:{user_id}".encode()

    def seal(self, user_id: int, secret: str) -> bytes:
        """``secret`` sealed for ``user_id``: version | key id | nonce | ciphertext+tag."""
        key = self.keys[0]
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, secret.encode(), self._associated(user_id))
        return bytes([_VERSION]) + key_id(key) + nonce + sealed

    def open(self, user_id: int, sealed: bytes) -> str:
        """The secret sealed for ``user_id`` (SecondFactorKeyError when it cannot open)."""
        sealed = bytes(sealed)
        wanted = sealed[1 : 1 + KEY_ID_BYTES]
        nonce = sealed[1 + KEY_ID_BYTES : 1 + KEY_ID_BYTES + _NONCE_BYTES]
        body = sealed[1 + KEY_ID_BYTES + _NONCE_BYTES :]
        for key in self.keys:
            if sealed[:1] == bytes([_VERSION]) and key_id(key) == wanted:
                try:
                    return AESGCM(key).decrypt(nonce, body, self._associated(user_id)).decode()
                except InvalidTag:
                    break
        raise SecondFactorKeyError("the second-factor secret does not open with any key")


def _factor(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def is_enrolled(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator app."""
    factor = _factor(user)
    return factor is not None and factor.confirmed_at is not None


def pending(user: User, login_session: LoginSession, policy: Policy) -> bool:
    """Whether ``login_session`` still waits for ``user``'s second factor."""
    return login_session.second_factor_at is None and policy.applies_to(user)


def enrolment_secret(user: User, keys: SecretKeys) -> str:
    """The secret of the enrolment in progress (started now when there is none), to show as
    a QR code and as text. Not in effect until :func:`confirm_enrolment`. Flushes."""
    factor = _factor(user)
    if factor is not None and factor.confirmed_at is not None:
        raise ValueError("already enrolled")
    if factor is None:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        try:
            with db.session.begin_nested():
                db.session.add(SecondFactor(user_id=user.id,
                                            secret_sealed=keys.seal(user.id, secret)))
            return secret
        except IntegrityError:  # the same page opened twice at once: the other one's
            factor = db.session.get(SecondFactor, user.id, populate_existing=True)
    return keys.open(user.id, factor.secret_sealed)


def forget_enrolment(user: User) -> None:
    """Drop an unconfirmed enrolment (its secret was never in effect). Flushes."""
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id,
                                                  SecondFactor.confirmed_at.is_(None)))
    db.session.flush()


def provisioning_uri(user: User, secret: str, issuer: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def format_secret(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, typed: str, now: datetime) -> int | None:
    code = "".join(typed.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(user: User, step: int, *, confirming: bool) -> bool:
    """Record ``step`` as used, only when it is later than the last one (and, when
    ``confirming``, only while the enrolment is unconfirmed): True for the one that wins."""
    done = SecondFactor.confirmed_at.is_(None) if confirming else (
        SecondFactor.confirmed_at.is_not(None))
    values = {"last_used_step": step}
    if confirming:
        values["confirmed_at"] = clock.utcnow()
    result = db.session.execute(
        update(SecondFactor)
        .where(SecondFactor.user_id == user.id, done,
               or_(SecondFactor.last_used_step.is_(None), SecondFactor.last_used_step < step))
        .values(**values)
    )
    return result.rowcount == 1


def admit_attempt(user: User, attempts_allowed: int) -> rate_limits.Attempt | None:
    """Count a code typed for ``user`` (app or recovery code) before it is checked: the
    attempt, or None when ``attempts_allowed`` wrong ones were typed in the last 15 minutes.
    The caller commits at once, before checking, so parallel guesses count each other."""
    return rate_limits.admit(
        rate_limits.Limit(_WRONG_CODES, str(user.id), attempts_allowed, ATTEMPT_WINDOW))


def confirm_enrolment(user: User, keys: SecretKeys, typed: str,
                      attempt: rate_limits.Attempt) -> list[str] | None:
    """Put the enrolment in effect with its first code: the new recovery codes (to show
    once), or None when the code is wrong (the attempt stays counted). Audited. Flushes."""
    factor = _factor(user)
    if factor is None or factor.confirmed_at is not None:
        return None
    step = _matching_step(keys.open(user.id, factor.secret_sealed), typed, clock.utcnow())
    if step is None or not _use_step(user, step, confirming=True):
        return None
    rate_limits.take_back(attempt)
    record_event(user, "second_factor.enrolled", "user", user.id)
    return _new_codes(user)


def check_code(user: User, keys: SecretKeys, typed: str,
               attempt: rate_limits.Attempt) -> bool:
    """Whether ``typed`` is a current code of ``user``'s app not used before (then it is
    used up, and the attempt taken back). Flushes."""
    factor = _factor(user)
    if factor is None or factor.confirmed_at is None:
        return False
    step = _matching_step(keys.open(user.id, factor.secret_sealed), typed, clock.utcnow())
    if step is None or not _use_step(user, step, confirming=False):
        return False
    rate_limits.take_back(attempt)
    return True


def use_recovery_code(user: User, typed: str, attempt: rate_limits.Attempt) -> bool:
    """Whether ``typed`` is an unused recovery code of ``user`` (then it is used up, which
    is audited with how many are left, and the attempt taken back). Flushes."""
    if not is_enrolled(user) or not codes.looks_like_code(typed):
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == codes.code_hash(typed),
               RecoveryCode.used_at.is_(None))
        .values(used_at=clock.utcnow())
    )
    if result.rowcount != 1:
        return False
    rate_limits.take_back(attempt)
    record_event(user, "second_factor.recovery_code_used", "user", user.id,
                 details={"left": recovery_codes_left(user)})
    return True


def recovery_codes_left(user: User) -> int:
    """How many of ``user``'s recovery codes are unused."""
    return db.session.execute(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def _new_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    made = [codes.new_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=codes.code_hash(code))
                       for code in made)
    db.session.flush()
    return [codes.format_code(code) for code in made]


def renew_recovery_codes(user: User) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones (the old stop working); returns
    them, to show once. Audited. Flushes."""
    if not is_enrolled(user):
        raise ValueError("not enrolled")
    made = _new_codes(user)
    record_event(user, "second_factor.recovery_codes_renewed", "user", user.id)
    return made


class ResetRefused(ValueError):
    """A reset that is not allowed: of oneself (``own``), or without a reason."""


def reset(actor: User | None, user: User, reason: str) -> None:
    """Remove ``user``'s second factor and recovery codes (a lost phone), on a city admin's
    word (``actor``; None: the system, from the command line) with a reason (audited);
    every session of ``user`` ends, so the next sign-in enrols again. Not of oneself:
    another admin must do it."""
    reason = reason.strip()
    if actor is not None and actor.id == user.id:
        raise ResetRefused("own")
    if not reason:
        raise ResetRefused("reason")
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    db.session.flush()
    record_event(actor, "second_factor.reset", "user", user.id,
                 details={"reason": reason})
