"""A rejected or hidden proposal must have a reason: NULL no longer slips through the check
(a CHECK that evaluates to NULL passes, so ``length(NULL) > 0`` let NULL reasons in).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHECKS = {
    "rejected_has_reason": ("rejection_reason", "rejected"),
    "hidden_has_reason": ("hidden_reason", "hidden"),
}


def upgrade():
    # Rows that slipped in keep their status and get a reason that says what happened.
    for column, status in CHECKS.values():
        op.execute(f"UPDATE proposals SET {column} = 'No reason was recorded.' "
                   f"WHERE status = '{status}' AND ({column} IS NULL OR {column} = '')")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        for name, (column, status) in CHECKS.items():
            batch_op.drop_constraint(op.f(f"ck_proposals_{name}"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_proposals_{name}"),
                f"status <> '{status}' OR ({column} IS NOT NULL AND length({column}) > 0)",
            )


def downgrade():
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        for name, (column, status) in CHECKS.items():
            batch_op.drop_constraint(op.f(f"ck_proposals_{name}"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_proposals_{name}"), f"status <> '{status}' OR length({column}) > 0"
            )
