"""Counting attempts that guessing could abuse (voting codes, staff passwords), per bucket
and per who, stored only as hashes and forgotten after a day.

An attempt is counted *before* it is checked, and checked only when the count allows it:
``admit`` counts it with one conditional insert (made only while fewer than the limit are
counted), serialised per who, and the caller commits that at once, before checking. So
parallel attempts see each other's counts, and a burst of any size gets at most the limit
checked. An attempt that turns out right is taken back (``take_back``): only wrong ones
count against the limit.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, literal, select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import RateLimitEvent
from pb_vote.services.locking import named_lock

_events = RateLimitEvent.__table__


def _hashed(who: str) -> str:
    return hashlib.sha256(who.encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """An attempt counted and allowed to be checked: the rows that count it."""

    event_ids: tuple[int, ...]


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` by ``who`` in ``bucket`` within ``window``."""

    bucket: str
    who: str
    attempts: int
    window: timedelta


def _count_if_under(limit: Limit, now: datetime) -> int | None:
    """Insert one attempt for ``limit.who`` only while fewer than ``limit.attempts`` are
    counted within the window; the new row's id, or None when the limit is reached."""
    key_hash = _hashed(limit.who)
    counted = select(func.count()).select_from(_events).where(
        _events.c.bucket == limit.bucket,
        _events.c.key_hash == key_hash,
        _events.c.occurred_at > now - limit.window,
    ).scalar_subquery()
    row = select(
        literal(limit.bucket, _events.c.bucket.type),
        literal(key_hash, _events.c.key_hash.type),
        bindparam("now", now, type_=_events.c.occurred_at.type),
    ).where(counted < limit.attempts)
    return db.session.execute(
        insert(_events).from_select(["bucket", "key_hash", "occurred_at"], row)
        .returning(_events.c.id)
    ).scalar_one_or_none()


def admit(*limits: Limit) -> Attempt | None:
    """Count one attempt against every limit, or against none: the attempt, or None when
    one of them is already reached (nothing is counted then). Forgets attempts older than a
    day. Flushes; the caller commits at once, before checking the attempt."""
    # One who at a time (PostgreSQL: an advisory lock per key, taken in one order; SQLite:
    # its write lock), so two attempts at once cannot both count under the limit.
    for name in sorted({f"rate_limit:{limit.bucket}:{_hashed(limit.who)}" for limit in limits}):
        named_lock(name)
    now = clock.utcnow()
    counted = []
    for limit in limits:
        event_id = _count_if_under(limit, now)
        if event_id is None:
            take_back(Attempt(tuple(counted)))
            return None
        counted.append(event_id)
    db.session.execute(_events.delete().where(_events.c.occurred_at < now - timedelta(days=1)))
    return Attempt(tuple(counted))


def take_back(attempt: Attempt) -> None:
    """Uncount an attempt that turned out right (a wrong one stays counted)."""
    if attempt.event_ids:
        db.session.execute(_events.delete().where(_events.c.id.in_(attempt.event_ids)))


def forget_attempts(bucket: str, who: str) -> None:
    """Forget ``who``'s counted attempts (after they proved who they are another way)."""
    db.session.execute(
        RateLimitEvent.__table__.delete().where(
            RateLimitEvent.bucket == bucket,
            RateLimitEvent.key_hash == _hashed(who),
        )
    )


CODE_WINDOW = timedelta(minutes=15)


def admit_code_attempt(address: str, browser: str, per_address: int,
                       per_browser: int) -> Attempt | None:
    """Count a voting code typed in this browser, against the browser and against everyone
    behind this network address, before the code is looked up: the attempt, or None when
    wrong codes from either reached their limit in the last 15 minutes. The browser's limit
    stops one person guessing; the address's, set much higher, stops a browser that drops
    its cookie, without locking out a whole Speak-out event behind one shared Wi-Fi address.
    Commit at once; a right code is then taken back (``take_back``)."""
    return admit(Limit("voting_code_browser", browser, per_browser, CODE_WINDOW),
                 Limit("voting_code", address, per_address, CODE_WINDOW))
