"""Supports of ideas before review: ``proposal_supports`` (one per person and idea, by a
unique key), the round's ``supports_enabled`` and ``support_threshold`` (frozen once voting
opens, as the other settings: the trigger of 0021 gets the two columns), and
``proposals.short_of_supports``, set when review starts on an idea below the threshold (a
CHECK keeps such an idea off the ballot: a moderator's override clears it first).

Every existing round keeps its meaning: supports off, no threshold, no idea short. The
columns are added in place (copying rounds or proposals on SQLite would drop their
triggers); the downgrade drops them and the supports.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

FROZEN_PHASES = "('voting', 'closed', 'published')"
FROZEN_MESSAGE = "round settings are frozen once voting has opened"
SETTINGS_FROZEN_BY_0021 = (
    "budget_cents", "currency", "voter_eligibility", "ballot_kind", "approval_min",
    "approval_max", "knapsack_min_spend_percent", "points_total", "points_max_per_proposal",
    "tally_rule", "categories", "voting_open_at", "paper_conflict_rule", "resident_check",
    "min_voter_age",
)
FROZEN_COLUMNS = (*SETTINGS_FROZEN_BY_0021, "supports_enabled", "support_threshold")


def _changed(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        cast = "::text" if column == "categories" else ""
        return f"NEW.{column}{cast} IS DISTINCT FROM OLD.{column}{cast}"
    return f"NEW.{column} IS NOT OLD.{column}"


def _frozen_settings_trigger(dialect: str, columns) -> None:
    """Write the trigger that refuses changes to ``columns`` once voting has opened (the
    one of 0003 and 0021, with other columns)."""
    op.execute("DROP TRIGGER IF EXISTS rounds_settings_frozen" +
               (" ON rounds" if dialect == "postgresql" else ""))
    changed = " OR ".join(_changed(column, dialect) for column in columns)
    if dialect == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION rounds_settings_frozen() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.phase IN {FROZEN_PHASES} AND ({changed}) THEN
                RAISE EXCEPTION '{FROZEN_MESSAGE}';
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""CREATE TRIGGER rounds_settings_frozen BEFORE UPDATE ON rounds
                      FOR EACH ROW EXECUTE FUNCTION rounds_settings_frozen()""")
    else:
        op.execute(f"""
            CREATE TRIGGER rounds_settings_frozen BEFORE UPDATE ON rounds
            WHEN OLD.phase IN {FROZEN_PHASES} AND ({changed})
            BEGIN SELECT RAISE(ABORT, '{FROZEN_MESSAGE}'); END""")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("ALTER TABLE rounds ADD COLUMN supports_enabled BOOLEAN DEFAULT 0 NOT NULL")
        op.execute("ALTER TABLE rounds ADD COLUMN support_threshold INTEGER "
                   "CONSTRAINT ck_rounds_support_threshold_positive "
                   "CHECK (support_threshold >= 1)")
        op.execute("ALTER TABLE proposals ADD COLUMN short_of_supports BOOLEAN DEFAULT 0 "
                   "NOT NULL CONSTRAINT ck_proposals_accepted_not_short_of_supports "
                   "CHECK (status <> 'accepted' OR NOT short_of_supports)")
    else:
        op.add_column("rounds", sa.Column("supports_enabled", sa.Boolean(),
                                          server_default=sa.false(), nullable=False))
        op.add_column("rounds", sa.Column("support_threshold", sa.Integer(), nullable=True))
        op.create_check_constraint(op.f("ck_rounds_support_threshold_positive"), "rounds",
                                   "support_threshold >= 1")
        op.add_column("proposals", sa.Column("short_of_supports", sa.Boolean(),
                                             server_default=sa.false(), nullable=False))
        op.create_check_constraint(op.f("ck_proposals_accepted_not_short_of_supports"),
                                   "proposals",
                                   "status <> 'accepted' OR NOT short_of_supports")
    _frozen_settings_trigger(dialect, FROZEN_COLUMNS)
    op.create_table(
        "proposal_supports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_proposal_supports_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_proposal_supports_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_supports")),
        sa.UniqueConstraint("proposal_id", "user_id", name="one_support_per_person"),
    )
    with op.batch_alter_table("proposal_supports", schema=None) as batch_op:
        for column in ("proposal_id", "user_id"):
            batch_op.create_index(batch_op.f(f"ix_proposal_supports_{column}"), [column],
                                  unique=False)


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_table("proposal_supports")
    _frozen_settings_trigger(dialect, SETTINGS_FROZEN_BY_0021)
    if dialect == "postgresql":
        op.drop_constraint(op.f("ck_proposals_accepted_not_short_of_supports"), "proposals",
                           type_="check")
        op.drop_constraint(op.f("ck_rounds_support_threshold_positive"), "rounds",
                           type_="check")
    # SQLite (3.35 and later) drops a plain column in place, keeping the triggers.
    op.execute("ALTER TABLE proposals DROP COLUMN short_of_supports")
    op.execute("ALTER TABLE rounds DROP COLUMN support_threshold")
    op.execute("ALTER TABLE rounds DROP COLUMN supports_enabled")
