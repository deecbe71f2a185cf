"""Strong identification of residents (OpenID Connect, services.identity).

An account may be a strongly identified person: ``users.person_pseudonym`` (unique) is a
keyed hash of the provider's stable person identifier, with the postal code of residence
and the month of birth the provider verified; such an account may have no email address
(``users.email`` becomes nullable). A participation of an identified person records
``person_key`` (a per-round pseudonym of the person), unique per round, so one person casts
one ballot per round however they sign in. A round says how its residents must have
signed in (``resident_check``: ``any``, as every round so far, or ``identified``) and may
set a minimum age (``min_voter_age``); both are frozen once voting opens, as the other
settings. The statistics trigger of 0017 records the verified postal code when there is
one.

Every existing round keeps its meaning: ``resident_check`` is ``any`` (residents by email
link, and identified residents, who are residents too) and no minimum age.

Columns of rounds and participations are added in place (copying those tables would drop
their triggers on SQLite); users is copied on SQLite to drop NOT NULL from its email, with
the participation trigger that reads it dropped and written again around the copy. The
downgrade gives an identified account without an address a placeholder one
(``identified-<id>@pb-vote.invalid``) and keeps every row.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

FROZEN_PHASES = "('voting', 'closed', 'published')"
FROZEN_MESSAGE = "round settings are frozen once voting has opened"
# The frozen settings as migration 0003 left them, and as this one extends them.
SETTINGS_FROZEN_BY_0003 = (
    "budget_cents", "currency", "voter_eligibility", "ballot_kind", "approval_min",
    "approval_max", "knapsack_min_spend_percent", "points_total", "points_max_per_proposal",
    "tally_rule", "categories", "voting_open_at", "paper_conflict_rule",
)
FROZEN_COLUMNS = (*SETTINGS_FROZEN_BY_0003, "resident_check", "min_voter_age")


def _changed(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        cast = "::text" if column == "categories" else ""
        return f"NEW.{column}{cast} IS DISTINCT FROM OLD.{column}{cast}"
    return f"NEW.{column} IS NOT OLD.{column}"


def _frozen_settings_trigger(dialect: str, columns) -> None:
    """Write the trigger that refuses changes to ``columns`` once voting has opened (the
    one of 0003, with other columns)."""
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


def _area_trigger(dialect: str, postal_code: str) -> None:
    """Write 0017's trigger that records a voting resident's area, reading ``postal_code``
    (an expression over users)."""
    if dialect == "postgresql":
        op.execute(f"""CREATE OR REPLACE FUNCTION participation_area() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT {postal_code}, language INTO NEW.postal_code, NEW.language
    FROM users WHERE id = NEW.user_id;
    RETURN NEW;
END $$""")
        return
    op.execute("DROP TRIGGER IF EXISTS participation_area_on_insert")
    op.execute(
        "CREATE TRIGGER participation_area_on_insert AFTER INSERT ON participations "
        "WHEN NEW.user_id IS NOT NULL AND NEW.postal_code IS NULL BEGIN "
        "UPDATE participations SET "
        f"postal_code = (SELECT {postal_code} FROM users WHERE id = NEW.user_id), "
        "language = (SELECT language FROM users WHERE id = NEW.user_id) "
        "WHERE id = NEW.id; END")


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS participation_area_on_insert")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=True)
        batch_op.add_column(sa.Column("person_pseudonym", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("verified_postal_code", sa.String(length=10),
                                      nullable=True))
        batch_op.add_column(sa.Column("birth_month", sa.String(length=7), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_person_pseudonym"),
                                          ["person_pseudonym"])
    _area_trigger(dialect, "COALESCE(verified_postal_code, postal_code)")

    op.add_column("participations", sa.Column("person_key", sa.String(length=64),
                                              nullable=True))
    op.create_index("one_participation_per_identified_person", "participations",
                    ["round_id", "person_key"], unique=True)

    if dialect == "sqlite":
        op.execute("ALTER TABLE rounds ADD COLUMN resident_check VARCHAR(10) DEFAULT 'any' "
                   "NOT NULL CONSTRAINT ck_rounds_resident_check "
                   "CHECK (resident_check IN ('any', 'identified'))")
        op.execute("ALTER TABLE rounds ADD COLUMN min_voter_age INTEGER "
                   "CONSTRAINT ck_rounds_min_voter_age_range "
                   "CHECK (min_voter_age BETWEEN 1 AND 120)")
    else:
        op.add_column("rounds", sa.Column("resident_check", sa.String(length=10),
                                          server_default="any", nullable=False))
        op.create_check_constraint(op.f("ck_rounds_resident_check"), "rounds",
                                   "resident_check IN ('any', 'identified')")
        op.add_column("rounds", sa.Column("min_voter_age", sa.Integer(), nullable=True))
        op.create_check_constraint(op.f("ck_rounds_min_voter_age_range"), "rounds",
                                   "min_voter_age BETWEEN 1 AND 120")
    _frozen_settings_trigger(dialect, FROZEN_COLUMNS)

    # A login session opened through an identity provider.
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_login_sessions_sign_in_method"), type_="check")
        batch_op.alter_column("method", existing_type=sa.String(length=8),
                              type_=sa.String(length=10))
        batch_op.create_check_constraint(
            batch_op.f("ck_login_sessions_sign_in_method"), "method IN ('link', 'password', 'identified')")


def downgrade():
    dialect = op.get_bind().dialect.name
    op.execute("DELETE FROM login_sessions WHERE method = 'identified'")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_login_sessions_sign_in_method"), type_="check")
        batch_op.alter_column("method", existing_type=sa.String(length=10),
                              type_=sa.String(length=8))
        batch_op.create_check_constraint(
            batch_op.f("ck_login_sessions_sign_in_method"), "method IN ('link', 'password')")

    _frozen_settings_trigger(dialect, SETTINGS_FROZEN_BY_0003)
    if dialect == "postgresql":
        op.drop_constraint(op.f("ck_rounds_min_voter_age_range"), "rounds", type_="check")
        op.drop_constraint(op.f("ck_rounds_resident_check"), "rounds", type_="check")
    op.drop_column("rounds", "min_voter_age")
    op.drop_column("rounds", "resident_check")

    op.drop_index("one_participation_per_identified_person", table_name="participations")
    op.drop_column("participations", "person_key")

    op.execute("UPDATE users SET email = 'identified-' || id || '@pb-vote.invalid' "
               "WHERE email IS NULL")
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS participation_area_on_insert")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_person_pseudonym"), type_="unique")
        batch_op.drop_column("birth_month")
        batch_op.drop_column("verified_postal_code")
        batch_op.drop_column("person_pseudonym")
        batch_op.alter_column("email", existing_type=sa.String(length=254), nullable=False)
    _area_trigger(dialect, "postal_code")
