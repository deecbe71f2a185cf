"""The reference for benchmarks/ballots.py: a bare Flask app that stores a row of the same
shape as a ballot with one SQL upsert, nothing else (no session, CSRF, checks or receipts).
Served by gunicorn: ``gunicorn 'benchmarks._bare_app:create_bare_app()'``."""

import json
import os
import secrets

from flask import Flask, request
from sqlalchemy import create_engine, text


def create_bare_app() -> Flask:
    """The bare harness."""
    app = Flask(__name__)
    url = os.environ["PB_VOTE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url, pool_pre_ping=True)

    @app.post("/vote")
    def vote():
        choices = dict.fromkeys(request.form.getlist("choice"), 1)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO bench_ballots (id, round_id, voter_key, choices) "
                    "VALUES (:id, 1, :key, :choices) ON CONFLICT (round_id, voter_key) "
                    "DO UPDATE SET choices = excluded.choices"
                ),
                {"id": secrets.token_hex(16), "key": request.form["voter"],
                 "choices": json.dumps(choices)},
            )
        return "", 303, {"Location": "/done"}

    return app
