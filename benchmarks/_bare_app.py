"""The references for benchmarks/ballots.py: a bare Flask app with no session, CSRF, checks or
receipts code. ``/vote`` stores a row of the same shape as a ballot with one SQL upsert;
``/vote-same-writes`` runs pb_vote's own statement for a code holder's vote (participation,
ballot, receipt and the code's use, behind the open-round check), with values made up here.
Served by gunicorn: ``gunicorn 'benchmarks._bare_app:create_bare_app()'``.

pb_vote's statement is not imported from the service (its internals may change shape at
any time): ``ballots.py`` casts one real vote through ``voting.cast_ballot`` while the
round's rules are known, as a voter's request does, records the one statement pb_vote sent
the database (SQLAlchemy's ``before_cursor_execute`` event, so the very SQL text and the
parameters psycopg received), rolls it back, and hands both to this app in
``PB_VOTE_BENCH_CAST_STATEMENT`` (JSON). Here that text is sent to the driver as it is;
only the values that differ per voter are made up (:data:`PER_VOTER`). Should pb_vote's
statement take other values that are not plain (bytes, say), or drop one of these, the
harness refuses to start rather than measure something else.
"""

import json
import os
import secrets
from datetime import UTC, datetime

from flask import Flask, request
from sqlalchemy import create_engine, text

# The parameters of pb_vote's statement that differ from one code holder's vote to the next;
# the others (the round, the channel, the conflict rule's answers...) are kept as captured.
PER_VOTER = ("voting_code_id", "now", "ballot_id", "voter_key", "sealed", "receipt_hash",
             "receipt_key")


def create_bare_app() -> Flask:
    """The bare harness."""
    app = Flask(__name__)
    url = os.environ["PB_VOTE_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url, pool_pre_ping=True)
    captured = json.loads(os.environ["PB_VOTE_BENCH_CAST_STATEMENT"])
    same_writes, kept = captured["sql"], captured["parameters"]
    sealed_length = captured["sealed_length"]
    if missing := set(PER_VOTER) - set(kept):
        raise RuntimeError(f"pb_vote's ballot statement no longer takes {sorted(missing)}; "
                           "update PER_VOTER")

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
            **kept, "voting_code_id": code_id, "now": datetime.now(UTC),
            "ballot_id": secrets.token_hex(16), "voter_key": f"voter-{code_id}",
            # Bytes of a sealed ballot's length: the reference runs the SQL, not the seal.
            "sealed": secrets.token_bytes(sealed_length),
            "receipt_hash": f"receipt-{code_id}", "receipt_key": f"receipt-key-{code_id}",
        }
        with engine.begin() as connection:
            if connection.exec_driver_sql(same_writes, values).first() is None:
                return "closed", 409
        return "", 303, {"Location": "/done"}

    return app
