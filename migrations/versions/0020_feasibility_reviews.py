"""Reviewing proposals beyond moderation: ``feasibility_requests`` keeps the cost and
feasibility opinions asked of city departments (the contact, the question, the hash of the
one-time answer link and its expiry, and the answer once given); ``review_notes`` keeps the
reviewers' internal notes on a proposal. Both are new tables: the downgrade drops them (the
audit trail keeps who asked, answered and noted what).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feasibility_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feasibility", sa.Enum("feasible", "with_changes", "not_feasible",
                                         name="feasibility", native_enum=False,
                                         create_constraint=True), nullable=True),
        sa.Column("estimated_cost_cents", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.CheckConstraint("language IN ('fi', 'sv', 'en')",
                           name=op.f("ck_feasibility_requests_language_known")),
        sa.CheckConstraint(
            "(answered_at IS NULL AND feasibility IS NULL AND estimated_cost_cents IS NULL) "
            "OR (answered_at IS NOT NULL AND feasibility IS NOT NULL)",
            name=op.f("ck_feasibility_requests_answer_complete")),
        sa.CheckConstraint("estimated_cost_cents IS NULL OR estimated_cost_cents >= 0",
                           name=op.f("ck_feasibility_requests_estimated_cost_not_negative")),
        sa.CheckConstraint("length(contact_email) > 0 AND length(contact_name) > 0",
                           name=op.f("ck_feasibility_requests_contact_named")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"],
                                name=op.f("fk_feasibility_requests_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_feasibility_requests_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feasibility_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_feasibility_requests_token_hash")),
    )
    with op.batch_alter_table("feasibility_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feasibility_requests_proposal_id"),
                              ["proposal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feasibility_requests_requested_by_id"),
                              ["requested_by_id"], unique=False)
    op.create_table(
        "review_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(body) > 0", name=op.f("ck_review_notes_body_not_empty")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_review_notes_author_id_users")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"],
                                name=op.f("fk_review_notes_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_notes")),
    )
    with op.batch_alter_table("review_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_notes_author_id"), ["author_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_review_notes_proposal_id"), ["proposal_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("review_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_notes_proposal_id"))
        batch_op.drop_index(batch_op.f("ix_review_notes_author_id"))
    op.drop_table("review_notes")
    with op.batch_alter_table("feasibility_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feasibility_requests_requested_by_id"))
        batch_op.drop_index(batch_op.f("ix_feasibility_requests_proposal_id"))
    op.drop_table("feasibility_requests")
