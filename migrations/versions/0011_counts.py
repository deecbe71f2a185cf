"""Counts run as background jobs: a ``counts`` row records each count a coordinator asked
for (status, progress, what it was computed from, the outcome); publishing publishes a
stored count instead of counting inside the request. Participations get the channel
``import`` (rounds replayed from a Pabulib file).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CHANNEL_CHECK = "ck_participations_vote_channel"


def _channels(*values: str) -> str:
    return "channel IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade():
    op.create_table(
        "counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("queued", "running", "done", "failed", name="count_status",
                                    native_enum=False, create_constraint=True, length=7),
                  nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("ballot_count", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("comparison", sa.JSON(), nullable=True),
        sa.Column("ballots_pb", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.CheckConstraint("progress BETWEEN 0 AND 100",
                           name=op.f("ck_counts_progress_percent")),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_counts_round_id_rounds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counts")),
    )
    with op.batch_alter_table("counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counts_round_id"), ["round_id"], unique=False)
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHANNEL_CHECK), type_="check")
        batch_op.create_check_constraint(
            op.f(CHANNEL_CHECK), _channels("online", "code", "paper", "import"))


def downgrade():
    imported = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM participations WHERE channel = 'import'")).scalar_one()
    if imported:
        raise RuntimeError(f"{imported} participations were imported from Pabulib files; "
                           "the old schema cannot hold them")
    with op.batch_alter_table("participations", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHANNEL_CHECK), type_="check")
        batch_op.create_check_constraint(op.f(CHANNEL_CHECK),
                                         _channels("online", "code", "paper"))
    op.drop_table("counts")
