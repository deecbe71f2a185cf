"""The background jobs: what a task worker runs (``pb_vote.tasks`` puts them on the queue).

The services flush and never commit; a job, like a view or a command, owns its
transactions. It runs in an app context of its own and commits as it goes: a claim must be
seen by the other workers before a long count starts, and a count's progress while it runs.
Each job is safe to run twice, or in several workers at once, because what it does is
decided by conditional updates and locks in the database, never by the queue: the queue only
carries ids, and a task it loses is found again by :func:`revive_stale`.
"""

import threading
from datetime import timedelta

from flask import Flask, current_app

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.mail import deliver_due, forget_given_up
from pb_vote.models import Count, CountStatus, NoticeKind, Round
from pb_vote.notifications import new_comments_on_idea, results_published, round_notices
from pb_vote.services import comments, counting, notices
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.results import ResultsError
from pb_vote.services.rounds import advance_all

HEARTBEAT_EVERY = 10.0  # seconds; well inside counting.STALE_AFTER
NOTICES_PER_BATCH = 500  # results notices written in one transaction


def claim_count(count_id: int) -> str | None:
    """Take a count for this worker and commit the claim (``counting.claim``)."""
    token = counting.claim(count_id)
    db.session.commit()
    return token


def _held(count_id: int, token: str, **values) -> bool:
    """Update the count while this worker holds it, and commit; False once it lost it."""
    held = counting.update_held(count_id, token, **values)
    db.session.commit()
    return held


class _Heartbeat(threading.Thread):
    """Beats on the claimed count while the count runs (the tally is one long call)."""

    def __init__(self, app: Flask, count_id: int, token: str) -> None:
        super().__init__(name=f"pb_vote-count-{count_id}", daemon=True)
        self.app, self.count_id, self.token = app, count_id, token
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            while not self.stopped.wait(HEARTBEAT_EVERY):
                if not _held(self.count_id, self.token, heartbeat_at=clock.utcnow()):
                    return


def run_count(app: Flask, count_id: int, keys: VoteKeys) -> bool:
    """Claim the count, run it, store the outcome (in an app context of ``app``). Returns
    whether this worker finished it."""
    token = claim_count(count_id)
    if token is None:
        return False
    heartbeat = _Heartbeat(app, count_id, token)
    heartbeat.start()
    try:
        count = db.session.get(Count, count_id)
        round_ = db.session.get(Round, count.round_id)

        def on_progress(percent: int) -> None:
            _held(count_id, token, progress=percent, heartbeat_at=clock.utcnow())

        try:
            outcome = counting.count_outcome(round_, keys, frozenset(count.excluded),
                                             on_progress)
        except ResultsError as refused:
            db.session.rollback()
            return _held(count_id, token, status=CountStatus.FAILED, error=refused.code,
                         finished_at=clock.utcnow(), claim=None)
        return _held(count_id, token, **outcome)
    finally:
        heartbeat.stopped.set()
        heartbeat.join()


def revive_stale() -> list[int]:
    """The counts a dead worker or a lost task left behind, to hand to the queue again
    (``counting.stale_counts``, committed)."""
    ids = counting.stale_counts()
    db.session.commit()
    return ids


def advance_phases() -> int:
    """The phase clock: catch every open round up with its schedule, and store the
    reminders that are due (``VOTING_REMINDER_HOURS_BEFORE_CLOSE``); their commit hands
    the notices of both to the queue."""
    moved = advance_all()
    notices.plan_due_reminders(clock.utcnow(), timedelta(
        hours=float(current_app.config["VOTING_REMINDER_HOURS_BEFORE_CLOSE"])))
    db.session.commit()
    return len(moved)


def deliver_mail() -> int:
    """Send the queued mail that is due (after a transaction that queued some committed);
    returns how many were sent. Senders claim each message, so several at once are safe."""
    return deliver_due().sent


def send_mail() -> int:
    """The minute's pass: send what is due (messages to try again, and any that no task
    was handed), then forget the ones given up a week ago."""
    sent = deliver_due().sent
    forget_given_up()
    return sent


def mail_results(publication_id: int) -> int:
    """Write the notices of a publication to the people who asked (``services.notices``),
    ``NOTICES_PER_BATCH`` at a time, each batch in its own transaction with its mail, until
    nobody is left; returns how many this run told. Each commit hands the batch's mail to
    the queue. Run again, or twice at once, it goes on where the last batch stopped."""
    told = 0
    while True:
        mailing = notices.hold_mailing(publication_id)
        if mailing is None or mailing.finished_at is not None:
            db.session.rollback()
            return told
        batch = notices.next_batch(mailing, NOTICES_PER_BATCH)
        if batch.people:
            results_published(db.session.get(Round, mailing.round_id), batch.people)
        notices.mark_told(mailing, batch)
        db.session.commit()
        told += len(batch.people)


def mail_round_notices(round_id: int, kind: str) -> int:
    """Write the notices of ``kind`` (ideas open, voting open, the reminder) of a round to
    the residents of its area who opted in (``services.notices``), ``NOTICES_PER_BATCH``
    at a time, each batch in its own transaction with its mail and its ``sent_notices``
    rows, until nobody is left; returns how many this run told. A round that has moved on
    meanwhile gets none. Run again, or twice at once, it goes on where the last batch
    stopped, and the key of ``sent_notices`` tells nobody twice."""
    kind = NoticeKind(kind)
    told = 0
    while True:
        mailing = notices.hold_round_mailing(round_id, kind)
        if mailing is None or mailing.finished_at is not None:
            db.session.rollback()
            return told
        round_ = db.session.get(Round, round_id)
        if not notices.still_due(round_, kind, clock.utcnow()):
            notices.finish(mailing)
            db.session.commit()
            return told
        batch = notices.next_round_batch(mailing, round_, NOTICES_PER_BATCH)
        fresh = notices.record_sent(mailing, batch.people)
        if fresh:
            round_notices(round_, kind, fresh)
        notices.mark_told(mailing, batch, len(fresh))
        db.session.commit()
        told += len(fresh)


def mail_comment_news() -> int:
    """Tell the authors who asked of new comments on their ideas: one mail per idea, at
    most hourly, each in its own transaction with its mark (``services.comments``); run
    every minute. Returns how many mails it queued."""
    queued = 0
    for proposal_id in comments.ideas_with_news(clock.utcnow()):
        now = clock.utcnow()
        news = comments.hold_news(proposal_id, now)
        if news is None:
            db.session.rollback()
            continue
        new_comments_on_idea(news.proposal, news.comments)
        comments.mark_told(news, now)
        db.session.commit()
        queued += 1
    return queued
