"""Results notices are written by a background job in batches after the publication
commits: ``results_mailings`` keeps, for each publication, how far its notices have come
(the id of the last person told), so a job run again never tells anyone twice.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "results_mailings",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_up_to", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.CheckConstraint("notified >= 0 AND notified_up_to >= 0",
                           name=op.f("ck_results_mailings_counts_not_negative")),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"],
                                name=op.f("fk_results_mailings_publication_id_publications")),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_results_mailings_round_id_rounds")),
        sa.PrimaryKeyConstraint("publication_id", name=op.f("pk_results_mailings")),
    )
    with op.batch_alter_table("results_mailings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_results_mailings_round_id"), ["round_id"],
                              unique=False)


def downgrade():
    # The notices already written are in outgoing_mails; only the progress marks go.
    op.drop_table("results_mailings")
