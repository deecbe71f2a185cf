"""The references for benchmarks/ballots.py: a bare Flask app with no session, CSRF, checks or
receipts code. ``/vote`` stores a row of the same shape as a ballot with one SQL upsert;
``/vote-same-writes`` runs pb_vote's own statement for a code holder's vote (participation,
ballot, receipt and the code's use, behind the open-round check), with values made up here.
Served by gunicorn: ``gunicorn 'benchmarks._bare_app:create_bare_app()'``."""

import json
import os
import secrets
from datetime import UTC, datetime

from flask import Flask, request
from sqlalchemy import create_engine, text


def create_bare_app() -> Flask:
    """The bare harness."""
    from pb_vote.services.voting import postgresql_cast_statement

    app = Flask(__name__)
    url = os.environ["PB_VOTE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url, pool_pre_ping=True)
    same_writes = postgresql_cast_statement("voting_code_id")

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

    @app.post("/vote-same-writes")
    def vote_same_writes():
        code_id = int(request.form["code_id"])
        values = {
            "round_id": int(request.form["round"]), "user_id": None, "code_id": code_id,
            "channel": "code", "now": datetime.now(UTC), "notify": False,
            "may_repeat": True, "may_override": False, "ballot_id": secrets.token_hex(16),
            "voter_key": f"voter-{code_id}", "receipt_hash": f"receipt-{code_id}",
            "receipt_key": f"receipt-key-{code_id}",
            "choices": dict.fromkeys(request.form.getlist("choice"), 1),
        }
        with engine.begin() as connection:
            if connection.execute(same_writes, values).first() is None:
                return "closed", 409
        return "", 303, {"Location": "/done"}

    return app
