"""Deciding from the latest state: the locks a use case takes before it reads what it
decides from, so two requests at once never both act on the same state.

PostgreSQL locks the rows it reads (``SELECT ... FOR UPDATE``, or ``FOR SHARE`` where
others may hold them alongside) and, for what is not one row (the end of the audit chain, a
rate-limit key), takes an advisory lock; both last until the transaction ends. SQLite has a
single writer: taking its write lock first (``BEGIN IMMEDIATE``) makes the transaction wait
for any other writer, every read after it sees the latest commit, and nobody else writes
until it ends. Either way the caller's commit or rollback releases the lock.
"""

import hashlib

from sqlalchemy import Select, text

from pb_vote.extensions import db


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def write_lock() -> None:
    """SQLite: hold the database's write lock from now until this transaction ends (nothing
    to do when the transaction has already written, and so holds it). PostgreSQL: nothing;
    it locks rows instead."""
    if _dialect() != "sqlite":
        return
    connection = db.session.connection()
    # The driver opens a transaction only at the first write, which takes the lock; before
    # that, reads run on their own and the lock is taken here.
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def locked(statement: Select, *, share: bool = False) -> list:
    """Execute ``statement`` so that the rows it reads are the latest and stay as read until
    this transaction ends: PostgreSQL locks them (``FOR UPDATE``, or ``FOR SHARE`` with
    ``share``, which blocks writers only), SQLite takes its write lock first. Returns what
    it read (the first column of each row); ORM objects among them are refreshed from the
    database, also when the session already held them."""
    if _dialect() == "sqlite":
        write_lock()
    else:
        statement = statement.with_for_update(read=share)
    return list(db.session.execute(statement.execution_options(populate_existing=True))
                .scalars())


def named_lock(name: str) -> None:
    """Hold a lock on ``name`` until this transaction ends: a PostgreSQL advisory lock (one
    per name), SQLite's write lock."""
    if _dialect() == "sqlite":
        write_lock()
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
