"""Counting attempts that guessing could abuse (voting codes, staff passwords), per bucket
and per who, stored only as hashes and forgotten after a day."""

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import RateLimitEvent


def _hashed(who: str) -> str:
    return hashlib.sha256(who.encode()).hexdigest()


def too_many_attempts(bucket: str, who: str, limit: int, window: timedelta) -> bool:
    """Whether ``who`` (hashed) already made ``limit`` counted attempts within ``window``."""
    since = clock.utcnow() - window
    count = db.session.execute(
        select(func.count()).select_from(RateLimitEvent).where(
            RateLimitEvent.bucket == bucket,
            RateLimitEvent.key_hash == _hashed(who),
            RateLimitEvent.occurred_at > since,
        )
    ).scalar_one()
    return count >= limit


def count_attempt(bucket: str, who: str) -> None:
    """Count one attempt by ``who`` (stored hashed), and forget attempts older than a day."""
    db.session.add(RateLimitEvent(bucket=bucket,
                                  key_hash=_hashed(who)))
    db.session.execute(
        RateLimitEvent.__table__.delete().where(
            RateLimitEvent.occurred_at < clock.utcnow() - timedelta(days=1)
        )
    )
    db.session.flush()


def forget_attempts(bucket: str, who: str) -> None:
    """Forget ``who``'s counted attempts (after they proved who they are another way)."""
    db.session.execute(
        RateLimitEvent.__table__.delete().where(
            RateLimitEvent.bucket == bucket,
            RateLimitEvent.key_hash == _hashed(who),
        )
    )


CODE_WINDOW = timedelta(minutes=15)


def code_entry_stopped(address: str, browser: str, per_address: int, per_browser: int) -> bool:
    """Whether wrong voting codes from this browser, or from everyone behind this network
    address, reached their limit in the last 15 minutes. The browser's limit stops one
    person guessing; the address's, set much higher, stops a browser that drops its cookie,
    without locking out a whole Speak-out event behind one shared Wi-Fi address."""
    return (too_many_attempts("voting_code_browser", browser, per_browser, CODE_WINDOW)
            or too_many_attempts("voting_code", address, per_address, CODE_WINDOW))


def count_wrong_code(address: str, browser: str) -> None:
    """Count one wrong voting code against the browser and against the address."""
    count_attempt("voting_code_browser", browser)
    count_attempt("voting_code", address)
