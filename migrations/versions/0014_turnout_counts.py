"""Turnout counted by the database: ``turnout_counts`` holds, per round, channel and UTC
hour of the first vote, how many participations there are, kept by triggers on
``participations`` (insert, a channel overridden by paper, delete), so the staff's live
turnout reads a few hundred rows whatever the number of ballots. Each statement adds to one
of eight shards chosen at random, so votes at the same moment rarely wait for each other's
counter row. Existing participations are counted into shard 0. PostgreSQL counts per
statement (transition tables), SQLite per row.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SHARDS = 8

# The hour a participation's first vote fell in, in UTC, as each dialect stores times
# (SQLite: text as SQLAlchemy writes it; PostgreSQL: timestamptz).
_HOUR = {
    "sqlite": "strftime('%Y-%m-%d %H:00:00.000000', {row}.first_voted_at)",
    "postgresql": "date_trunc('hour', {row}.first_voted_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}
_SHARD = {
    "sqlite": f"abs(random()) % {SHARDS}",
    "postgresql": f"floor(random() * {SHARDS})::integer",
}


def _sqlite_change(row: str, step: int) -> str:
    """SQLite, per row: add ``step`` to the counter of the participation ``row`` (NEW or
    OLD). SQLite updates a row in place, so many in one transaction stay cheap."""
    return (
        "INSERT INTO turnout_counts (round_id, channel, hour, shard, voters) "
        f"VALUES ({row}.round_id, {row}.channel, {_HOUR['sqlite'].format(row=row)}, "
        f"{_SHARD['sqlite']}, {step}) "
        "ON CONFLICT (round_id, channel, hour, shard) "
        f"DO UPDATE SET voters = turnout_counts.voters + {step}"
    )


# An update counts only when it moves the participation to another channel or hour.
_MOVED = ("OLD.channel <> NEW.channel OR OLD.first_voted_at <> NEW.first_voted_at"
          " OR OLD.round_id <> NEW.round_id")


def _sqlite_triggers() -> list[str]:
    add, remove = _sqlite_change("NEW", 1), _sqlite_change("OLD", -1)
    return [
        f"CREATE TRIGGER turnout_on_insert AFTER INSERT ON participations BEGIN {add}; END",
        f"CREATE TRIGGER turnout_on_delete AFTER DELETE ON participations BEGIN {remove}; END",
        "CREATE TRIGGER turnout_on_update AFTER UPDATE ON participations "
        f"WHEN {_MOVED} BEGIN {remove}; {add}; END",
    ]


# PostgreSQL counts once per statement, from its transition tables: an import of 200,000
# participations in one transaction then updates a counter row once per statement, where
# a row trigger updated it once per participation, each update walking the row's versions
# made earlier in the same transaction (quadratic: the import never finished). The changes
# are summed per counter before they are written, so no row is hit twice by one statement.
_PG_HOUR = _HOUR["postgresql"].format(row="changed")
_PG_COUNT = f"""
    INSERT INTO turnout_counts (round_id, channel, hour, shard, voters)
    SELECT round_id, channel, hour, {_SHARD["postgresql"]}, sum(step) FROM (
        SELECT round_id, channel, {_PG_HOUR} AS hour, step FROM ({{changes}}) AS changed
    ) AS counted GROUP BY round_id, channel, hour HAVING sum(step) <> 0
    ON CONFLICT (round_id, channel, hour, shard)
    DO UPDATE SET voters = turnout_counts.voters + excluded.voters"""
_PG_CHANGES = {
    "INSERT": "SELECT round_id, channel, first_voted_at, 1 AS step FROM arrived",
    "DELETE": "SELECT round_id, channel, first_voted_at, -1 AS step FROM departed",
    "UPDATE": "SELECT o.round_id, o.channel, o.first_voted_at, -1 AS step"
              " FROM departed o JOIN arrived n ON n.id = o.id WHERE"
              " (o.round_id, o.channel, o.first_voted_at)"
              " IS DISTINCT FROM (n.round_id, n.channel, n.first_voted_at)"
              " UNION ALL SELECT n.round_id, n.channel, n.first_voted_at, 1"
              " FROM departed o JOIN arrived n ON n.id = o.id WHERE"
              " (o.round_id, o.channel, o.first_voted_at)"
              " IS DISTINCT FROM (n.round_id, n.channel, n.first_voted_at)",
}
_PG_TABLES = {"INSERT": "NEW TABLE AS arrived", "DELETE": "OLD TABLE AS departed",
              "UPDATE": "OLD TABLE AS departed NEW TABLE AS arrived"}


def _postgresql_triggers() -> list[str]:
    statements = []
    for event, changes in _PG_CHANGES.items():
        name = f"turnout_on_{event.lower()}"
        statements += [
            f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {_PG_COUNT.format(changes=changes)}; RETURN NULL; END $$""",
            f"CREATE TRIGGER {name} AFTER {event} ON participations "
            f"REFERENCING {_PG_TABLES[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "turnout_counts",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("voters", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_turnout_counts_round_id_rounds")),
        sa.PrimaryKeyConstraint("round_id", "channel", "hour", "shard",
                                name=op.f("pk_turnout_counts")),
    )
    op.execute(
        "INSERT INTO turnout_counts (round_id, channel, hour, shard, voters) "
        f"SELECT round_id, channel, {_HOUR[dialect].format(row='participations')}, 0, "
        "count(*) FROM participations GROUP BY 1, 2, 3"
    )
    for statement in (_postgresql_triggers() if dialect == "postgresql"
                      else _sqlite_triggers()):
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for event in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER turnout_on_{event}" + (" ON participations" if postgresql
                                                        else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION turnout_on_{event}()")
    op.drop_table("turnout_counts")
