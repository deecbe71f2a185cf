"""Notices residents opt in to: when a round of their area takes ideas, when voting opens,
a reminder before voting closes, when results are published. ``notice_preferences`` keeps
what each person said about each kind; ``round_mailings`` how far the notices of a round
and kind have come; ``sent_notices`` who was sent which (its key makes each notice once).
``outgoing_mails.unsubscribe_url`` carries a notice's one-click unsubscribe address into
its List-Unsubscribe header. The downgrade drops them: the preferences are lost with it.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

KINDS = ("ideas_open", "voting_open", "voting_reminder", "results")


def _kind():
    return sa.Enum(*KINDS, name="notice_kind", native_enum=False, create_constraint=True)


def upgrade():
    op.create_table(
        "notice_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_notice_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notice_preferences")),
    )
    with op.batch_alter_table("notice_preferences", schema=None) as batch_op:
        batch_op.create_index("ix_notice_preferences_kind_subscribed_user",
                              ["kind", "subscribed", "user_id"], unique=False)
    op.create_table(
        "round_mailings",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("progressed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_up_to", sa.Integer(), nullable=False),
        sa.Column("notified", sa.Integer(), nullable=False),
        sa.CheckConstraint("notified >= 0 AND notified_up_to >= 0",
                           name=op.f("ck_round_mailings_counts_not_negative")),
        sa.CheckConstraint("kind <> 'results'", name=op.f("ck_round_mailings_kind_of_a_round")),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_round_mailings_round_id_rounds")),
        sa.PrimaryKeyConstraint("round_id", "kind", name=op.f("pk_round_mailings")),
    )
    op.create_table(
        "sent_notices",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", _kind(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"],
                                name=op.f("fk_sent_notices_round_id_rounds")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_sent_notices_user_id_users")),
        sa.PrimaryKeyConstraint("round_id", "kind", "user_id", name=op.f("pk_sent_notices")),
    )
    with op.batch_alter_table("sent_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sent_notices_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unsubscribe_url", sa.String(length=1000), nullable=True))


def downgrade():
    with op.batch_alter_table("outgoing_mails", schema=None) as batch_op:
        batch_op.drop_column("unsubscribe_url")
    op.drop_table("sent_notices")
    op.drop_table("round_mailings")
    op.drop_table("notice_preferences")
