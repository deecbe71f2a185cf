"""The task queue: counts, mail, the notices residents asked for (results, ideas open,
voting open, the reminder) and the phase clock run in workers, never in a request.

Huey (https://huey.readthedocs.io) is a small, long-maintained task queue with one API over
several storages: ``SqliteHuey`` keeps the queue in a file next to the embedded SQLite
database, so the demo and a one-machine installation need no extra server, and
``RedisHuey`` lets any number of app machines and workers share one queue in production
(``TASK_QUEUE``); its immediate mode runs a task in the caller, which the tests use. Celery
or RQ would need a broker even for the demo.

This module only wires the jobs (``pb_vote.jobs``) to the queue. The queue carries ids, never
state: a count, a publication's notices and mail live in their database rows, so a task
lost with a worker is found again (:func:`sweep`, every minute and when a worker starts) or
its work done by the next pass. A count and a publication's notices are handed to the queue
by the request that committed them; new mail, and the notices of a phase move or a due
reminder, once the transaction that stored them commits (:func:`init_app` listens for the
commit). The periodic tasks try failed mail again and run the phase clock (with the
reminders), replacing the cron jobs of ``flask send-mail`` and ``flask advance-phases``
wherever a worker runs. All are safe in several places at once (phase moves lock their
round, counts and mail are claimed, a publication's notices are locked batch by batch).

Workers: ``huey_consumer pb_vote.worker.huey`` (``make run`` starts one for the demo).
"""

import functools
import logging
import os
from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import event

from pb_vote import jobs, mail
from pb_vote.extensions import db
from pb_vote.services import notices
from pb_vote.services.ballot_box import VoteKeys

log = logging.getLogger(__name__)
EXTENSION = "pb_vote_tasks"


def make_queue(setting: str, instance_path: str) -> Huey:
    """The Huey instance ``TASK_QUEUE`` names."""
    if setting == "immediate":
        return MemoryHuey("pb_vote", immediate=True)
    if setting.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("pb_vote", url=setting)
    if setting == "sqlite" or setting.startswith("sqlite:///"):
        path = setting.removeprefix("sqlite:///") if setting != "sqlite" else os.path.join(
            instance_path, "tasks.sqlite")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteHuey("pb_vote", filename=path)
    raise ValueError(f"TASK_QUEUE must be 'sqlite', 'sqlite:///PATH', 'redis://...' or "
                     f"'immediate', not {setting!r}")


def _in_app(app: Flask, job: Callable) -> Callable:
    @functools.wraps(job)
    def run(*args, **kwargs):
        with app.app_context():
            return job(*args, **kwargs)
    return run


def count_job(count_id: int) -> bool:
    """Run one count (``jobs.run_count``)."""
    app = current_app._get_current_object()
    return jobs.run_count(app, count_id, VoteKeys.from_config(app.config))


def sweep() -> list[int]:
    """Hand out again the counts and the results mailings that a dead worker or a lost
    task left behind; returns the counts' ids."""
    ids = jobs.revive_stale()
    for count_id in ids:
        enqueue_count(count_id)
    for publication_id in notices.stalled_mailings():
        enqueue_results_mail(publication_id)
    for round_id, kind in notices.stalled_round_mailings():
        enqueue_round_notices(round_id, kind)
    return ids


def _deliver_after_commit(session) -> None:
    """After a commit that stored mail, hand its delivery to the queue (an SQLAlchemy
    ``after_commit`` hook: the mail exists by now, and a rollback never gets here). A queue
    that cannot be reached is logged and costs nothing else: the minute's pass sends it.
    Likewise the notices a phase move (or the clock) stored: their job is handed out."""
    planned = notices.planned_mailings(session)
    if has_app_context() and EXTENSION in current_app.extensions:
        for round_id, kind in sorted(planned):
            enqueue_round_notices(round_id, kind)
    if not mail.mail_queued(session) or not has_app_context():
        return
    app = current_app._get_current_object()
    if EXTENSION not in app.extensions or app.config["MAIL_DELIVERY"] != "background":
        return
    try:
        app.extensions[EXTENSION]["tasks"]["deliver_mail"]()
    except Exception:  # the mail stays stored; the periodic send_mail task sends it
        log.exception("could not hand new mail to the task queue")


def _forget_mail_on_rollback(session) -> None:
    mail.mail_queued(session)
    notices.planned_mailings(session)


def init_app(app: Flask) -> None:
    """Create the queue ``TASK_QUEUE`` names, register the tasks on it, and have mail sent
    after the commit that stored it (``MAIL_DELIVERY``: ``background``, the default, or
    ``queue``: only the minute's task and ``flask send-mail`` send)."""
    if app.config["MAIL_DELIVERY"] not in ("background", "queue"):
        raise ValueError(f"MAIL_DELIVERY must be 'background' or 'queue', not "
                         f"{app.config['MAIL_DELIVERY']!r}")
    queue = make_queue(str(app.config["TASK_QUEUE"]), app.instance_path)
    tasks = {name: queue.task(name=name)(_in_app(app, job)) for name, job in (
        ("count", count_job), ("deliver_mail", jobs.deliver_mail),
        ("mail_results", jobs.mail_results), ("mail_round_notices", jobs.mail_round_notices))}
    every_minute = crontab(minute="*")
    for name, job in (("sweep", sweep), ("advance_phases", jobs.advance_phases),
                      ("send_mail", jobs.send_mail),
                      ("comment_mail", jobs.mail_comment_news)):
        tasks[name] = queue.periodic_task(every_minute, name=name)(_in_app(app, job))
    queue.on_startup(name="sweep_on_start")(_in_app(app, sweep))
    app.extensions[EXTENSION] = {"queue": queue, "tasks": tasks}
    for name, hook in (("after_commit", _deliver_after_commit),
                       ("after_rollback", _forget_mail_on_rollback)):
        if not event.contains(db.session, name, hook):  # one listener for every app
            event.listen(db.session, name, hook)


def queue_of(app: Flask) -> Huey:
    """The app's Huey instance (what ``huey_consumer`` runs)."""
    return app.extensions[EXTENSION]["queue"]


def enqueue_count(count_id: int) -> None:
    """Hand a committed count to the queue (in immediate mode it runs now). A queue that
    cannot be reached is logged, not raised: the count is stored, and the sweep (or its
    page, once it looks lost) hands it out again."""
    try:
        current_app.extensions[EXTENSION]["tasks"]["count"](count_id)
    except Exception:
        log.exception("could not hand count %s to the task queue", count_id)


def enqueue_results_mail(publication_id: int) -> None:
    """Hand a committed publication's notices to the queue (in immediate mode they are
    written now). A queue that cannot be reached is logged: the sweep hands them out once
    the mailing looks stalled."""
    try:
        current_app.extensions[EXTENSION]["tasks"]["mail_results"](publication_id)
    except Exception:
        log.exception("could not hand the notices of publication %s to the task queue",
                      publication_id)


def enqueue_round_notices(round_id: int, kind: str) -> None:
    """Hand a committed round mailing (ideas open, voting open, the reminder) to the queue
    (in immediate mode its notices are written now). A queue that cannot be reached is
    logged: the sweep hands it out once the mailing looks stalled."""
    try:
        current_app.extensions[EXTENSION]["tasks"]["mail_round_notices"](round_id, kind)
    except Exception:
        log.exception("could not hand the %s notices of round %s to the task queue", kind,
                      round_id)
