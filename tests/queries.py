"""The SQL statements the app sends: for tests that a page reads only what it shows, and
that its cost does not grow with the ballots."""

import contextlib
import re

from sqlalchemy import event

from pb_vote.extensions import db


@contextlib.contextmanager
def statements(app):
    """Every SQL statement the app sends (on any connection) while the block runs."""
    heard: list[str] = []

    def hear(conn, cursor, statement, parameters, context, executemany):
        heard.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hear)
    try:
        yield heard
    finally:
        event.remove(engine, "before_cursor_execute", hear)


def touching(heard: list[str], name: str) -> list[str]:
    """The statements that name the table or column ``name``."""
    return [s for s in heard if re.search(rf"\b{name}\b", s)]
