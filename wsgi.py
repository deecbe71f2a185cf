"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from pb_vote import create_app

app = create_app()
