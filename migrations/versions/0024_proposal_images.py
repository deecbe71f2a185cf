"""Images of proposals (``proposal_images``): the re-encoded renditions live in the image
store (a folder, or an S3 bucket), named by their content; the table keeps their key,
widths, size, alt text and a moderator's removal. A new table: nothing existing moves. The
downgrade drops the table (the files stay in the store, unreferenced).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "proposal_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("widths", sa.String(length=100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=False),
        sa.Column("alt_language", sa.String(length=2), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("length(alt_text) > 0",
                           name=op.f("ck_proposal_images_alt_text_not_empty")),
        sa.CheckConstraint("width > 0 AND height > 0",
                           name=op.f("ck_proposal_images_size_positive")),
        sa.CheckConstraint("length(widths) > 0",
                           name=op.f("ck_proposal_images_widths_not_empty")),
        sa.CheckConstraint("alt_language IN ('fi', 'sv', 'en')",
                           name=op.f("ck_proposal_images_alt_language_known")),
        sa.CheckConstraint(
            "removed_at IS NULL OR (removed_reason IS NOT NULL AND length(removed_reason) > 0)",
            name=op.f("ck_proposal_images_removed_has_reason")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"],
                                name=op.f("fk_proposal_images_proposal_id_proposals"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["added_by_id"], ["users.id"],
                                name=op.f("fk_proposal_images_added_by_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["removed_by_id"], ["users.id"],
                                name=op.f("fk_proposal_images_removed_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_images")),
    )
    with op.batch_alter_table("proposal_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_images_proposal_id"), ["proposal_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_images_key"), ["key"], unique=False)


def downgrade():
    with op.batch_alter_table("proposal_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_images_key"))
        batch_op.drop_index(batch_op.f("ix_proposal_images_proposal_id"))
    op.drop_table("proposal_images")
