"""Outgoing mail is queued in the database and sent after the response (or by
``flask send-mail``), so a slow or failing mail server never fails or slows a vote.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outgoing_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
    )
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outgoing_mails_next_attempt_at"),
                              ["next_attempt_at"], unique=False)


def downgrade():
    # Mail still waiting would be lost: refuse rather than drop it.
    connection = op.get_bind()
    waiting = connection.execute(sa.text("SELECT count(*) FROM outgoing_mails")).scalar_one()
    if waiting:
        raise RuntimeError(f"{waiting} outgoing mails are still waiting; send them first "
                           "(flask send-mail)")
    op.drop_table("outgoing_mails")
