"""A participation may outlive its person: deleting an account that has voted keeps the
participation (it counts in the turnout) with neither person nor code, where the old check
(exactly one of the two) made the deletion fail.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ck_participations_person_or_code"


def upgrade():
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_="check")
        batch_op.create_check_constraint(op.f(NAME), "user_id IS NULL OR voting_code_id IS NULL")


def downgrade():
    # The old check cannot hold the participations of deleted accounts: refuse rather than
    # drop them from the turnout.
    orphans = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM participations WHERE user_id IS NULL AND voting_code_id IS NULL"
    )).scalar_one()
    if orphans:
        raise RuntimeError(f"{orphans} participations belong to deleted accounts; the old "
                           "schema cannot hold them")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(NAME), type_="check")
        batch_op.create_check_constraint(op.f(NAME),
                                         "(user_id IS NULL) <> (voting_code_id IS NULL)")
