"""Entry point for task workers: ``huey_consumer pb_vote.worker.huey`` (as ``wsgi.py`` is
gunicorn's). It builds the app from the same configuration as the web processes."""

from pb_vote import create_app
from pb_vote.tasks import queue_of

app = create_app()
huey = queue_of(app)
