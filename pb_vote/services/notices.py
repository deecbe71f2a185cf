"""Telling people that a round's results are out: who is told, and how far the telling has
come.

The notices of a publication go to the authors of the round's proposals and to the voters
who asked for them, each once. Publishing stores a ``ResultsMailing`` (:func:`plan_notices`);
a background job (``pb_vote.jobs.mail_results``) then takes the people in batches, in the
order of their ids: it holds the mailing (:func:`hold_mailing`), reads the next batch
(:func:`next_batch`), queues its mail and moves the mailing past it (:func:`mark_told`), all
in one transaction. A job run again, or two at once, goes on where the last batch stopped.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import Participation, Proposal, Publication, User
from pb_vote.models.mail import ResultsMailing
from pb_vote.services.locking import locked

# A mailing that has not moved for this long lost its job (a dead worker, a lost task).
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Batch:
    """The next people to tell, and the id the mailing moves to once they are told."""

    people: list[User]
    up_to: int


def plan_notices(publication: Publication) -> ResultsMailing:
    """Record that the people who asked are to be told of ``publication`` (flushes; in the
    publication's transaction, so the notices are due exactly when it exists)."""
    mailing = ResultsMailing(publication_id=publication.id, round_id=publication.round_id)
    db.session.add(mailing)
    db.session.flush()
    return mailing


def hold_mailing(publication_id: int) -> ResultsMailing | None:
    """The mailing of a publication, locked until this transaction ends (any other job
    on it waits), read afresh; None when there is none."""
    found = locked(select(ResultsMailing).where(
        ResultsMailing.publication_id == publication_id))
    return found[0] if found else None


def next_batch(mailing: ResultsMailing, size: int) -> Batch:
    """The next ``size`` people of the mailing's round to tell, after the last one told.

    Each source is read in id order from where the mailing stands, so a batch costs the
    same whatever the number of people before it (participations are indexed by round and
    person); a person who is both author and voter comes once.
    """
    after, round_id = mailing.notified_up_to, mailing.round_id
    authors = db.session.execute(
        select(Proposal.author_id).distinct()
        .where(Proposal.round_id == round_id, Proposal.author_id > after)
        .order_by(Proposal.author_id).limit(size)).scalars()
    voters = db.session.execute(
        select(Participation.user_id)
        .where(Participation.round_id == round_id, Participation.user_id > after,
               Participation.notify_results.is_(True))
        .order_by(Participation.user_id).limit(size)).scalars()
    ids = sorted({*authors, *voters})[:size]
    if not ids:
        return Batch([], after)
    people = list(db.session.execute(
        select(User).where(User.id.in_(ids)).order_by(User.id)).scalars())
    return Batch(people, ids[-1])  # an account deleted meanwhile is passed over


def mark_told(mailing: ResultsMailing, batch: Batch) -> None:
    """Move the mailing past ``batch`` (flushes); an empty batch finishes it."""
    now = clock.utcnow()
    mailing.progressed_at = now
    if batch.up_to == mailing.notified_up_to:  # nobody left after the last one told
        mailing.finished_at = now
    mailing.notified_up_to = batch.up_to
    mailing.notified += len(batch.people)
    db.session.flush()


def stalled_mailings(now: datetime | None = None) -> list[int]:
    """The publications whose mailing is unfinished and has not moved for ``STALE_AFTER``:
    their job is to be handed out again."""
    limit = (now or clock.utcnow()) - STALE_AFTER
    moved = func.coalesce(ResultsMailing.progressed_at, ResultsMailing.requested_at)
    return list(db.session.execute(
        select(ResultsMailing.publication_id)
        .where(ResultsMailing.finished_at.is_(None), moved < limit)
        .order_by(ResultsMailing.publication_id)).scalars())
