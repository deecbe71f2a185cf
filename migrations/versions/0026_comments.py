"""Comments on ideas: ``comments`` (a resident's, or the table's answer, hidden by the
moderators with a reason), ``comment_reports`` (one per person and comment),
``comment_mailings`` (how far an idea's author has been told of new comments) and the
account's opt-in ``users.mail_on_comments`` (off for everyone to begin with). The
downgrade drops them: comments exist only from this revision on.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

HIDDEN_REASONS = ("spam", "abuse", "personal_data", "off_topic", "other")


def upgrade():
    # A plain ADD COLUMN, also on SQLite: rebuilding ``users`` there would break the
    # triggers that refer to it (0017).
    op.add_column("users", sa.Column("mail_on_comments", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("as_table", sa.Boolean(), nullable=False),
        sa.Column("show_name", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.Column("hidden_reason", sa.Enum(*HIDDEN_REASONS, name="comment_hidden_reason",
                                           native_enum=False, create_constraint=True,
                                           length=13), nullable=True),
        sa.Column("hidden_note", sa.Text(), nullable=False),
        sa.CheckConstraint("length(body) > 0 AND length(body) <= 2000",
                           name=op.f("ck_comments_body_length")),
        sa.CheckConstraint("hidden_at IS NULL OR hidden_reason IS NOT NULL",
                           name=op.f("ck_comments_hidden_has_reason")),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_comments_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_comments_author_id_users")),
        sa.ForeignKeyConstraint(["hidden_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_comments_hidden_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        for column in ("proposal_id", "author_id", "created_at"):
            batch_op.create_index(batch_op.f(f"ix_comments_{column}"), [column], unique=False)
    op.create_table(
        "comment_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(reason) <= 500",
                           name=op.f("ck_comment_reports_reason_length")),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE",
                                name=op.f("fk_comment_reports_comment_id_comments")),
        sa.ForeignKeyConstraint(["reporter_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_comment_reports_reporter_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_reports")),
        sa.UniqueConstraint("comment_id", "reporter_id",
                            name="one_report_per_person"),
    )
    with op.batch_alter_table("comment_reports", schema=None) as batch_op:
        for column in ("comment_id", "reporter_id"):
            batch_op.create_index(batch_op.f(f"ix_comment_reports_{column}"), [column],
                                  unique=False)
    op.create_table(
        "comment_mailings",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("notified_up_to", sa.Integer(), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], ondelete="CASCADE",
                                name=op.f("fk_comment_mailings_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_comment_mailings")),
    )


def downgrade():
    op.drop_table("comment_mailings")
    op.drop_table("comment_reports")
    op.drop_table("comments")
    # SQLite (3.35 and later) drops a plain column in place, keeping the triggers.
    op.execute("ALTER TABLE users DROP COLUMN mail_on_comments")
