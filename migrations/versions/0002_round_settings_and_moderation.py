"""Round settings (eligibility, ballot, tally rule, categories) and proposal moderation.

Existing rows keep their data: new NOT NULL columns are filled with the defaults first.
Once voting has opened, a trigger refuses any change to the ballot and tally settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FROZEN_COLUMNS = (
    "budget_cents", "currency", "voter_eligibility", "ballot_kind", "approval_min",
    "approval_max", "knapsack_min_spend_percent", "points_total", "points_max_per_proposal",
    "tally_rule", "categories", "voting_open_at",
)
FROZEN_PHASES = "('voting', 'closed', 'published')"
FROZEN_MESSAGE = "round settings are frozen once voting has opened"


def _changed(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        cast = "::text" if column == "categories" else ""
        return f"NEW.{column}{cast} IS DISTINCT FROM OLD.{column}{cast}"
    return f"NEW.{column} IS NOT OLD.{column}"


def create_frozen_settings_trigger(dialect: str, columns=FROZEN_COLUMNS) -> None:
    """The database refuses to change a round's settings once voting has opened.
    Later migrations that add settings call this again with their longer column list."""
    changed = " OR ".join(_changed(column, dialect) for column in columns)
    if dialect == "postgresql":
        op.execute(f"""
            CREATE FUNCTION rounds_settings_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
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


def drop_frozen_settings_trigger(dialect: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS rounds_settings_frozen" +
               (" ON rounds" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS rounds_settings_frozen()")


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reviewed_cost_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("public_note", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("change_request", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("hidden_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_proposals_merged_into_id"), ["merged_into_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_proposals_merged_into_id_proposals"),
            "proposals", ["merged_into_id"], ["id"],
        )
    # Proposals accepted before reviewed costs existed keep their estimate as the reviewed cost.
    op.execute(
        "UPDATE proposals SET reviewed_cost_cents = estimated_cost_cents "
        "WHERE status = 'accepted' AND reviewed_cost_cents IS NULL"
    )
    op.execute(
        "UPDATE proposals SET rejection_reason = 'No reason was recorded.' "
        "WHERE status = 'rejected' AND rejection_reason IS NULL"
    )
    op.execute(
        "UPDATE proposals SET hidden_reason = 'No reason was recorded.' "
        "WHERE status = 'hidden' AND hidden_reason IS NULL"
    )
    # 0001 could mark a proposal merged without saying into what; the merge target cannot be
    # recovered, so such a proposal becomes rejected with a reason that says what happened.
    op.execute(
        "UPDATE proposals SET status = 'rejected', rejection_reason = "
        "'Merged with another proposal before merge targets were recorded.' "
        "WHERE status = 'merged'"
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.alter_column("public_note", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_proposals_reviewed_cost_positive"), "reviewed_cost_cents > 0"
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_accepted_has_reviewed_cost"),
            "status <> 'accepted' OR reviewed_cost_cents IS NOT NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_merged_has_target"),
            "status <> 'merged' OR merged_into_id IS NOT NULL",
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_rejected_has_reason"),
            "status <> 'rejected' OR length(rejection_reason) > 0",
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_hidden_has_reason"),
            "status <> 'hidden' OR length(hidden_reason) > 0",
        )
        batch_op.create_check_constraint(
            op.f("ck_proposals_not_merged_into_itself"), "merged_into_id <> id"
        )

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("categories", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(sa.Column(
            "voter_eligibility",
            sa.Enum("residents", "codes", "both", name="voter_eligibility", native_enum=False,
                    create_constraint=True),
            nullable=False, server_default="residents",
        ))
        batch_op.add_column(sa.Column(
            "ballot_kind",
            sa.Enum("approval", "knapsack", "points", name="ballot_kind", native_enum=False,
                    create_constraint=True),
            nullable=False, server_default="approval",
        ))
        batch_op.add_column(
            sa.Column("approval_min", sa.Integer(), nullable=True, server_default="1")
        )
        batch_op.add_column(
            sa.Column("approval_max", sa.Integer(), nullable=True, server_default="5")
        )
        batch_op.add_column(
            sa.Column("knapsack_min_spend_percent", sa.Integer(), nullable=True)
        )
        batch_op.add_column(sa.Column("points_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("points_max_per_proposal", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column(
            "tally_rule",
            sa.Enum("greedy", "mes", name="tally_rule", native_enum=False,
                    create_constraint=True),
            nullable=False, server_default="greedy",
        ))
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        for column in ("categories", "voter_eligibility", "ballot_kind", "approval_min",
                       "approval_max", "tally_rule"):
            batch_op.alter_column(column, server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_rounds_approval_limits"),
            "approval_min >= 1 AND approval_min <= approval_max",
        )
        batch_op.create_check_constraint(
            op.f("ck_rounds_knapsack_min_spend_range"),
            "knapsack_min_spend_percent BETWEEN 0 AND 100",
        )
        batch_op.create_check_constraint(
            op.f("ck_rounds_points_limits"),
            "points_total >= 1 AND points_max_per_proposal >= 1 "
            "AND points_max_per_proposal <= points_total",
        )
        batch_op.create_check_constraint(
            op.f("ck_rounds_approval_settings_present"),
            "ballot_kind <> 'approval' OR (approval_min IS NOT NULL AND approval_max IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            op.f("ck_rounds_points_settings_present"),
            "ballot_kind <> 'points' OR "
            "(points_total IS NOT NULL AND points_max_per_proposal IS NOT NULL)",
        )
    create_frozen_settings_trigger(dialect)


def downgrade():
    dialect = op.get_bind().dialect.name
    drop_frozen_settings_trigger(dialect)
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        for name in ("approval_limits", "knapsack_min_spend_range", "points_limits",
                     "approval_settings_present", "points_settings_present",
                     "voter_eligibility", "ballot_kind", "tally_rule"):
            batch_op.drop_constraint(op.f(f"ck_rounds_{name}"), type_="check")
        for column in ("tally_rule", "points_max_per_proposal", "points_total",
                       "knapsack_min_spend_percent", "approval_max", "approval_min",
                       "ballot_kind", "voter_eligibility", "categories"):
            batch_op.drop_column(column)
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        for name in ("reviewed_cost_positive", "accepted_has_reviewed_cost", "merged_has_target",
                     "rejected_has_reason", "hidden_has_reason", "not_merged_into_itself"):
            batch_op.drop_constraint(op.f(f"ck_proposals_{name}"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_proposals_merged_into_id_proposals"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_proposals_merged_into_id"))
        for column in ("merged_into_id", "hidden_reason", "change_request", "rejection_reason",
                       "public_note", "reviewed_cost_cents", "link"):
            batch_op.drop_column(column)
