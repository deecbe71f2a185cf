"""The task queue: counts, mail and the phase clock run in workers, never in a request.

Huey (https://huey.readthedocs.io) is a small, long-maintained task queue with one API over
several storages: ``SqliteHuey`` keeps the queue in a file next to the embedded SQLite
database, so the demo and a one-machine installation need no extra server, and
``RedisHuey`` lets any number of app machines and workers share one queue in production
(``TASK_QUEUE``); its immediate mode runs a task in the caller, which the tests use. Celery
or RQ would need a broker even for the demo.

The queue only carries ids: the state of a count lives in its database row
(``services.counting``), so a task lost with a worker is found again and handed out anew
(:func:`sweep`, every minute and when a worker starts). What each task does is in
``pb_vote.jobs``; this module only wires the jobs to the queue. The periodic tasks replace the cron
jobs of ``flask advance-phases`` and ``flask send-mail`` wherever a worker runs; both are
safe to run in several places at once (phase moves lock their round, mail is claimed).

Workers: ``huey_consumer pb_vote.worker.huey`` (``make run`` starts one for the demo).
"""

import functools
import logging
import os
from collections.abc import Callable

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

from pb_vote import jobs
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
    """Hand out again the counts that a dead worker or a lost task left behind."""
    ids = jobs.revive_stale()
    for count_id in ids:
        enqueue_count(count_id)
    return ids


def send_mail() -> int:
    """Send the queued mail that is due (retries; new mail is sent after its request)."""
    from pb_vote.mail import deliver_due, forget_given_up

    report = deliver_due()
    forget_given_up()
    return report.sent


def init_app(app: Flask) -> None:
    """Create the queue ``TASK_QUEUE`` names and register the tasks on it."""
    queue = make_queue(str(app.config["TASK_QUEUE"]), app.instance_path)
    tasks = {"count": queue.task(name="count")(_in_app(app, count_job))}
    every_minute = crontab(minute="*")
    for name, job in (("sweep", sweep), ("advance_phases", jobs.advance_phases),
                      ("send_mail", send_mail)):
        tasks[name] = queue.periodic_task(every_minute, name=name)(_in_app(app, job))
    queue.on_startup(name="sweep_on_start")(_in_app(app, sweep))
    app.extensions[EXTENSION] = {"queue": queue, "tasks": tasks}


def queue_of(app: Flask) -> Huey:
    """The app's Huey instance (what ``huey_consumer`` runs)."""
    return app.extensions[EXTENSION]["queue"]


def enqueue_count(count_id: int) -> None:
    """Hand a committed count to the queue (in immediate mode it runs now)."""
    current_app.extensions[EXTENSION]["tasks"]["count"](count_id)
