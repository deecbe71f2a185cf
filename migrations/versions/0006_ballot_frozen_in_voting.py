"""Once voting has opened, the ballot is fixed: the database refuses to change which
proposals are on it or their reviewed costs (status and reviewed_cost_cents of a proposal in
a round that is voting, closed or published).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MESSAGE = "the ballot is fixed once voting has opened"
LOCKED = "SELECT phase FROM rounds WHERE id = OLD.round_id"
PHASES = "('voting', 'closed', 'published')"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION proposals_ballot_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF ({LOCKED}) IN {PHASES} AND (
                  NEW.status IS DISTINCT FROM OLD.status
                  OR NEW.reviewed_cost_cents IS DISTINCT FROM OLD.reviewed_cost_cents
                  OR NEW.round_id IS DISTINCT FROM OLD.round_id) THEN
                RAISE EXCEPTION '{MESSAGE}';
              END IF;
              RETURN NEW;
            END $$""")
        op.execute("""CREATE TRIGGER proposals_ballot_fixed BEFORE UPDATE ON proposals
                      FOR EACH ROW EXECUTE FUNCTION proposals_ballot_fixed()""")
    else:
        op.execute(f"""
            CREATE TRIGGER proposals_ballot_fixed BEFORE UPDATE ON proposals
            WHEN ({LOCKED}) IN {PHASES} AND (NEW.status IS NOT OLD.status
                 OR NEW.reviewed_cost_cents IS NOT OLD.reviewed_cost_cents
                 OR NEW.round_id IS NOT OLD.round_id)
            BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER proposals_ballot_fixed ON proposals")
        op.execute("DROP FUNCTION proposals_ballot_fixed()")
    else:
        op.execute("DROP TRIGGER proposals_ballot_fixed")
