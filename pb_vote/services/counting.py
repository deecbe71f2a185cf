"""Counts as background jobs: the coordinator asks for a count, a worker runs it, publishing
publishes what it stored.

A count of a city-size round (60,000 ballots through equal shares with its completion) takes
longer than a web request may, so the request only stores a ``Count`` row (queued) and the
task queue (``pb_vote.tasks``) hands its id to a worker (``pb_vote.jobs.run_count``), which
claims the row, opens the sealed ballots, runs the round's rule and the other rule, and
stores the outcome with what it was computed from: the number of ballots and a digest of
their sealed content, of the proposals on the ballot and of the exclusions. Publishing
compares that digest with the ballots of the moment and refuses when anything changed.

Never lost, never twice at once: a worker takes a count with a conditional update (the
``claim``), keeps a heartbeat on it while it counts, and writes the outcome only while it
still holds the claim. A count whose worker died (no heartbeat for ``STALE_AFTER``) or that
fell out of the queue is found by :func:`stale_counts` and handed out again (every minute
and when a worker starts, and when its page is opened), up to ``MOST_ATTEMPTS`` times.

Like every service, these functions flush and never commit: the job commits each step.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import or_, select, update

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import Count, CountStatus, Round, User
from pb_vote.services import files
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.results import (
    Preview,
    ResultsError,
    fingerprint,
    latest_count,
    preview,
    receipt_set,
    with_selected,
)
from pb_vote.tally import format_pabulib

STALE_AFTER = timedelta(seconds=60)
HEARTBEAT_EVERY = 10.0  # seconds; well inside STALE_AFTER
MOST_ATTEMPTS = 3  # a count that killed its worker this often is failed, not retried
UNFINISHED = (CountStatus.QUEUED, CountStatus.RUNNING)


def request_count(actor: User | None, round_: Round,
                  excluded: frozenset[int] = frozenset()) -> tuple[Count, bool]:
    """Ask for a count of a closed (or published) round without ``excluded``; returns the
    count and whether it is new (the caller commits, then hands a new one to the queue). An
    unfinished count with the same exclusions is returned rather than started twice."""
    if not round_.phase.countable:
        raise ResultsError("not_closed")
    current = latest_count(round_)
    if (current is not None and current.status in UNFINISHED
            and set(current.excluded) == set(excluded)):
        return current, False
    count = Count(round_id=round_.id, excluded=sorted(excluded),
                  requested_by_id=actor.id if actor else None, status=CountStatus.QUEUED,
                  attempts=0, progress=0)
    db.session.add(count)
    db.session.flush()
    record_event(actor, "results.count_requested", "round", round_.id,
                 table_id=round_.table_id, details={"count": count.id,
                                                    "excluded": sorted(excluded)})
    return count, True


def _outcome(round_: Round, keys: VoteKeys, excluded: frozenset[int],
             on_progress: Callable[[int], None]) -> tuple[dict, tuple[int, str]]:
    """Count once, reading the fingerprint before and after: a ballot that changed during
    the count (a paper entry voided meanwhile) makes it count again."""
    for _ in range(MOST_ATTEMPTS):
        before = fingerprint(round_, excluded)
        on_progress(10)
        view = preview(round_, keys, excluded, on_progress=on_progress)
        if fingerprint(round_, excluded) == before:
            return stored_outcome(view), before
    raise ResultsError("ballots_changing")


def stored_outcome(view: Preview) -> dict:
    """What a count keeps of a preview: all that the page shows and a publication freezes
    (the .pb file stored once per content, flushed)."""
    pb = format_pabulib(with_selected(view.election, view.result)).encode()
    return {"result": view.result_in_cents(), "comparison": view.comparison(),
            "ballots_file_id": files.store(pb).id}


def count_now(actor: User | None, round_: Round, keys: VoteKeys,
              excluded: frozenset[int] = frozenset()) -> Count:
    """Count in this process and return the finished count (flushes; for the command line,
    the demo and tests: a web request asks for one with :func:`request_count`)."""
    count, _ = request_count(actor, round_, excluded)
    started = clock.utcnow()
    for name, value in {**count_outcome(round_, keys, excluded, lambda _percent: None),
                        "started_at": started, "attempts": 1}.items():
        setattr(count, name, value)
    db.session.flush()
    return count


def claim(count_id: int) -> str | None:
    """Take a count for one worker (flushes; the job commits at once, so that other workers
    see it); None when it is finished, or another worker holds it and is alive. A stale
    claim is taken over."""
    now = clock.utcnow()
    token = secrets.token_hex(16)
    taken = db.session.execute(
        update(Count).where(
            Count.id == count_id, Count.attempts < MOST_ATTEMPTS,
            or_(Count.status == CountStatus.QUEUED,
                (Count.status == CountStatus.RUNNING) & (Count.heartbeat_at < now - STALE_AFTER)))
        .values(status=CountStatus.RUNNING, claim=token, heartbeat_at=now, started_at=now,
                attempts=Count.attempts + 1, progress=0)
    ).rowcount == 1
    return token if taken else None


def update_held(count_id: int, token: str, **values) -> bool:
    """Update the count while the worker with ``token`` holds it (flushes); False once that
    worker lost the claim."""
    return db.session.execute(
        update(Count).where(Count.id == count_id, Count.claim == token,
                            Count.status == CountStatus.RUNNING).values(**values)
    ).rowcount == 1


def count_outcome(round_: Round, keys: VoteKeys, excluded: frozenset[int],
                  on_progress: Callable[[int], None]) -> dict:
    """What a finished count stores (its outcome, what it was computed from, status done):
    the values for :func:`update_held`. Raises ``ResultsError`` when the round cannot be
    counted (a worker stores that as a failed count)."""
    outcome, (ballots, digest) = _outcome(round_, keys, excluded, on_progress)
    # What publishing will store, stored now by the job (the .pb file already is): the
    # receipt set, kept once per content, so the publish request only finds it.
    receipt_set(round_)
    return {**outcome, "ballot_count": ballots, "digest": digest,
            "status": CountStatus.DONE, "progress": 100, "claim": None,
            "finished_at": clock.utcnow()}


def stale_counts() -> list[int]:
    """The counts to hand to the queue again (flushes): queued ones the queue may have lost
    and running ones whose worker stopped beating; one that failed its workers
    ``MOST_ATTEMPTS`` times is marked failed instead."""
    limit = clock.utcnow() - STALE_AFTER
    stale = (((Count.status == CountStatus.QUEUED) & (Count.requested_at < limit))
             | ((Count.status == CountStatus.RUNNING) & (Count.heartbeat_at < limit)))
    db.session.execute(update(Count).where(stale, Count.attempts >= MOST_ATTEMPTS).values(
        status=CountStatus.FAILED, error="worker_lost", claim=None,
        finished_at=clock.utcnow()))
    return list(db.session.execute(select(Count.id).where(stale)).scalars())


def is_stale(count: Count) -> bool:
    """Whether an unfinished count looks lost (its page then hands it out again)."""
    limit = clock.utcnow() - STALE_AFTER
    if count.status is CountStatus.QUEUED:
        return count.requested_at < limit
    return count.status is CountStatus.RUNNING and (count.heartbeat_at or limit) <= limit
