"""Accounts: residents created on first sign-in, staff with passwords, profile changes."""

import re
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    LANGUAGES,
    LoginSession,
    MembershipRole,
    SignInMethod,
    Table,
    TableMembership,
    User,
)
from pb_vote.services import rate_limits, voting
from pb_vote.services.audit import record_event
from pb_vote.services.locking import locked

PASSWORD_HASHER = PasswordHasher()  # argon2id with argon2-cffi's current recommended cost
# A hash to verify against when the account does not exist, so timing does not tell.
_DUMMY_HASH = PASSWORD_HASHER.hash("not a real password")
POSTAL_CODE_PATTERN = re.compile(r"^\d{5}$")
MIN_PASSWORD_LENGTH = 12
# Wrong staff passwords are counted per address over this window (see admit_staff_attempt).
STAFF_PASSWORD_WINDOW = timedelta(minutes=15)
_WRONG_PASSWORDS = "staff_password"


def normalize_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower-cased."""
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account with this address (any case), or None."""
    return db.session.execute(
        select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


def get_or_create_resident(email: str, language: str = "fi") -> tuple[User, bool]:
    """The account for ``email``, created (as a resident) when missing; and whether it is new."""
    user = find_user_by_email(email)
    if user is not None:
        return user, False
    user = User(email=normalize_email(email), language=language if language in LANGUAGES else "fi")
    db.session.add(user)
    db.session.flush()
    return user, True


def set_password(user: User, password: str) -> None:
    """Store an argon2id hash of ``password``."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password shorter than {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = PASSWORD_HASHER.hash(password)
    # A new password (chosen by mail link, or given by the command line) lifts the wait.
    rate_limits.forget_attempts(_WRONG_PASSWORDS, user.email)


def admit_staff_attempt(email: str, attempts_allowed: int) -> rate_limits.Attempt | None:
    """Count a password attempt for this address before the password is checked: the
    attempt, or None when the address already had ``attempts_allowed`` wrong passwords
    within STAFF_PASSWORD_WINDOW (then even the right one is refused; the same for addresses
    without an account, so the answer reveals nothing). Flushes; the caller commits at once,
    before ``authenticate_staff``, so that parallel guesses count each other."""
    return rate_limits.admit(rate_limits.Limit(
        _WRONG_PASSWORDS, normalize_email(email), attempts_allowed, STAFF_PASSWORD_WINDOW))


def authenticate_staff(email: str, password: str,
                       attempt: rate_limits.Attempt) -> User | None:
    """The staff account matching email and password, or None. ``attempt`` is this try,
    counted by ``admit_staff_attempt``: a wrong password leaves it counted, the right one
    takes it back. Upgrades old hashes. Flushes; the caller commits."""
    user = find_user_by_email(email)
    stored = user.password_hash if user is not None and user.password_hash else None
    try:
        PASSWORD_HASHER.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if stored is None:
        return None
    rate_limits.take_back(attempt)
    if PASSWORD_HASHER.check_needs_rehash(stored):
        user.password_hash = PASSWORD_HASHER.hash(password)
    return user


class OpenVoteHolds(ServiceError):
    """Refused while ``details["round"]`` (which the person voted in) is open: deleting the
    account would let a new account with the same address vote again (``deleting_during_
    vote``), and moving out of the table's area would let them vote in a second table's round
    at the same time (``moving_out_during_vote``)."""


def update_profile(user: User, *, display_name: str, language: str, postal_code: str) -> None:
    """Change what a person may change about themselves (raises OpenVoteHolds for a postal
    code outside the area of an open round they voted in)."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}")
    postal_code = postal_code.strip()
    if postal_code and not POSTAL_CODE_PATTERN.match(postal_code):
        raise ValueError("postal code must be five digits")
    # A vote at the same moment holds the account (FOR SHARE): wait for it, then see it.
    locked(select(User).where(User.id == user.id))
    left = voting.open_round_left_by_moving(user, postal_code, clock.utcnow())
    if left is not None:
        raise OpenVoteHolds("moving_out_during_vote", round=left)
    user.display_name = display_name.strip()
    user.language = language
    user.postal_code = postal_code or None
    db.session.flush()


def delete_account(user: User) -> None:
    """Delete an account. Its proposals stay, without an author, and its participations in
    the turnout, without a person; its sessions end. Raises OpenVoteHolds while a round it
    voted in is open."""
    locked(select(User).where(User.id == user.id))  # a vote at the same moment goes first
    if open_votes := voting.open_rounds_voted_in(user, clock.utcnow()):
        raise OpenVoteHolds("deleting_during_vote", round=open_votes[0])
    if user.is_staff:
        record_event(user, "account.deleted", "user", user.id)
    db.session.delete(user)
    db.session.flush()


def grant_membership(
    actor: User, user: User, table: Table, role: MembershipRole
) -> TableMembership:
    """Give ``user`` a role at ``table`` (or change it). Sessions opened by emailed link end:
    staff must sign in with a password."""
    membership = db.session.execute(
        select(TableMembership).where(
            TableMembership.user_id == user.id, TableMembership.table_id == table.id
        )
    ).scalar_one_or_none()
    previous = membership.role.value if membership else None
    if membership is None:
        membership = TableMembership(user=user, table=table, role=role)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.method == SignInMethod.LINK
        )
    )
    db.session.flush()
    record_event(
        actor,
        "membership.granted",
        "user",
        user.id,
        table_id=table.id,
        details={"role": role.value, "previous_role": previous},
    )
    return membership


def revoke_membership(actor: User, membership: TableMembership) -> None:
    """Remove a person's role at a table."""
    record_event(
        actor,
        "membership.revoked",
        "user",
        membership.user_id,
        table_id=membership.table_id,
        details={"role": membership.role.value},
    )
    db.session.delete(membership)
    db.session.flush()


def make_city_admin(user: User, actor: User | None = None) -> None:
    """Give ``user`` the city-admin flag (audited)."""
    user.is_city_admin = True
    db.session.flush()
    record_event(actor, "user.made_city_admin", "user", user.id)


def login_session_expiry(days: int):
    """When a login session opened now ends."""
    return clock.utcnow() + timedelta(days=days)
