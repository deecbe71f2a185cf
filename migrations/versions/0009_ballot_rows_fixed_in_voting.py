"""Once voting has opened, no proposal joins or leaves the ballot by any path: the database
refuses to insert an accepted proposal into a round that is voting, closed or published, or to
delete one from it (0006 already refuses to change a status or a reviewed cost there). The
service never does either; this makes the fixed ballot, which the voting code keeps in memory,
a guarantee of the database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MESSAGE = "the ballot is fixed once voting has opened"
PHASES = "('voting', 'closed', 'published')"


def _fixed(row: str) -> str:
    return (f"{row}.status = 'accepted' AND "
            f"(SELECT phase FROM rounds WHERE id = {row}.round_id) IN {PHASES}")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION proposals_ballot_rows_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'INSERT' AND {_fixed('NEW')} THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              IF TG_OP = 'DELETE' AND {_fixed('OLD')} THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              IF TG_OP = 'DELETE' THEN
                RETURN OLD;
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""CREATE TRIGGER proposals_ballot_rows_fixed BEFORE INSERT OR DELETE
                      ON proposals FOR EACH ROW EXECUTE FUNCTION proposals_ballot_rows_fixed()""")
    else:
        for event, row in (("INSERT", "NEW"), ("DELETE", "OLD")):
            op.execute(f"""
                CREATE TRIGGER proposals_ballot_fixed_{event.lower()} BEFORE {event}
                ON proposals WHEN {_fixed(row)}
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER proposals_ballot_rows_fixed ON proposals")
        op.execute("DROP FUNCTION proposals_ballot_rows_fixed()")
    else:
        for event in ("insert", "delete"):
            op.execute(f"DROP TRIGGER proposals_ballot_fixed_{event}")
