"""Turnout counted by the database: ``turnout_counts`` holds, per round, channel and UTC
hour of the first vote, how many participations there are, kept by triggers on
``participations`` (insert, a channel overridden by paper, delete), so the staff's live
turnout reads a few hundred rows whatever the number of ballots. Each participation adds to
one of eight shards chosen at random, so votes at the same moment rarely wait for each
other's counter row. Existing participations are counted into shard 0.

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


def _change(dialect: str, row: str, step: int) -> str:
    """The statement adding ``step`` to the counter of the participation ``row`` (NEW or
    OLD)."""
    return (
        "INSERT INTO turnout_counts (round_id, channel, hour, shard, voters) "
        f"VALUES ({row}.round_id, {row}.channel, {_HOUR[dialect].format(row=row)}, "
        f"{_SHARD[dialect]}, {step}) "
        "ON CONFLICT (round_id, channel, hour, shard) "
        f"DO UPDATE SET voters = turnout_counts.voters + {step}"
    )


# An update counts only when it moves the participation to another channel or hour.
_MOVED = ("OLD.channel <> NEW.channel OR OLD.first_voted_at <> NEW.first_voted_at"
          " OR OLD.round_id <> NEW.round_id")


def _sqlite_triggers() -> list[str]:
    add, remove = _change("sqlite", "NEW", 1), _change("sqlite", "OLD", -1)
    return [
        f"CREATE TRIGGER turnout_on_insert AFTER INSERT ON participations BEGIN {add}; END",
        f"CREATE TRIGGER turnout_on_delete AFTER DELETE ON participations BEGIN {remove}; END",
        "CREATE TRIGGER turnout_on_update AFTER UPDATE ON participations "
        f"WHEN {_MOVED} BEGIN {remove}; {add}; END",
    ]


def _postgresql_triggers() -> list[str]:
    add, remove = _change("postgresql", "NEW", 1), _change("postgresql", "OLD", -1)
    return [
        f"""CREATE FUNCTION turnout_counted() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' THEN {remove}; END IF;
            IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN {add}; END IF;
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER turnout_on_insert_or_delete AFTER INSERT OR DELETE ON participations "
        "FOR EACH ROW EXECUTE FUNCTION turnout_counted()",
        "CREATE TRIGGER turnout_on_update AFTER UPDATE ON participations "
        f"FOR EACH ROW WHEN ({_MOVED}) EXECUTE FUNCTION turnout_counted()",
    ]


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
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER turnout_on_insert_or_delete ON participations")
        op.execute("DROP TRIGGER turnout_on_update ON participations")
        op.execute("DROP FUNCTION turnout_counted()")
    else:
        for name in ("turnout_on_insert", "turnout_on_delete", "turnout_on_update"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("turnout_counts")
