"""Voting codes come in recorded batches: ``voting_code_batches`` keeps, for each sheet of
slips, who generated it, when, how many codes and in which languages, and whether it was
voided (a sheet that never printed cannot be shown again: its codes are stored hashed).
``voting_codes.voided_at`` marks the codes a void stopped; the codes point at their batch.
Existing batches are recorded from their codes (languages unknown: an empty list).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BATCH_FK = "fk_voting_codes_round_id_voting_code_batches"


def upgrade():
    op.create_table(
        "voting_code_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("count > 0", name=op.f("ck_voting_code_batches_count_positive")),
        sa.CheckConstraint("voided_at IS NULL OR void_reason IS NOT NULL",
                           name=op.f("ck_voting_code_batches_void_has_reason")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_voting_code_batches_created_by_id_users")),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_voting_code_batches_round_id_rounds")),
        sa.ForeignKeyConstraint(["voided_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_voting_code_batches_voided_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_code_batches")),
        sa.UniqueConstraint("round_id", "number", name="one_batch_number_per_round"),
    )
    with op.batch_alter_table("voting_code_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voting_code_batches_round_id"), ["round_id"],
                              unique=False)
    # The batches made so far, from their codes: who made them is in the audit trail only.
    op.execute(
        "INSERT INTO voting_code_batches (round_id, number, count, languages, created_at) "
        "SELECT round_id, batch, count(*), '[]', min(created_at) FROM voting_codes "
        "GROUP BY round_id, batch"
    )
    with op.batch_alter_table("voting_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(op.f(BATCH_FK), "voting_code_batches",
                                    ["round_id", "batch"], ["round_id", "number"])


def downgrade():
    # The old schema cannot tell a voided code from a working one: refuse rather than bring
    # the codes of a voided sheet back to life.
    voided = op.get_bind().execute(sa.text(
        "SELECT count(*) FROM voting_code_batches WHERE voided_at IS NOT NULL"
    )).scalar_one()
    if voided:
        raise RuntimeError(f"{voided} voting-code batches are voided; the old schema cannot "
                           "keep their codes from working")
    with op.batch_alter_table("voting_codes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(BATCH_FK), type_="foreignkey")
        batch_op.drop_column("voided_at")
    with op.batch_alter_table("voting_code_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voting_code_batches_round_id"))
    op.drop_table("voting_code_batches")
