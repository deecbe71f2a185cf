"""Comments on ideas: residents discuss a proposal, the table answers as the table, and
the table's members hide what breaks the rules."""

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum

COMMENT_MAX_LENGTH = 2000
REPORT_REASON_MAX_LENGTH = 500


class HiddenReason(enum.StrEnum):
    """Why the moderators hid a comment: shown in its place."""

    SPAM = "spam"
    ABUSE = "abuse"
    PERSONAL_DATA = "personal_data"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class Comment(db.Model):
    """One comment on a proposal. A comment ``as_table`` is shown as the table's answer,
    with the table's name; ``author_id`` still says which member wrote it (the audit trail
    has it too), but the public never sees that name."""

    __tablename__ = "comments"
    __table_args__ = (
        CheckConstraint(f"length(body) > 0 AND length(body) <= {COMMENT_MAX_LENGTH}",
                        name="body_length"),
        CheckConstraint("hidden_at IS NULL OR hidden_reason IS NOT NULL",
                        name="hidden_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    # Kept when the author deletes their account; the comment stays, unattributed.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    as_table: Mapped[bool] = mapped_column(Boolean, default=False)
    # The author chose to be shown by name (else "a resident").
    show_name: Mapped[bool] = mapped_column(Boolean, default=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default,
                                                 index=True)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    hidden_reason: Mapped[HiddenReason | None] = mapped_column(
        string_enum(HiddenReason, "comment_hidden_reason"))
    # The moderator's own words, for the audit trail and the table; never public.
    hidden_note: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped["Proposal"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship(foreign_keys=[author_id])  # noqa: F821
    reports: Mapped[list["CommentReport"]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", order_by="CommentReport.id")

    @property
    def is_hidden(self) -> bool:
        """Hidden by the moderators: its text is no longer shown to the public."""
        return self.hidden_at is not None

    def __repr__(self) -> str:
        return f"<Comment {self.id}>"


class CommentReport(db.Model):
    """A signed-in person's report of a comment to the table's moderators: one per person
    and comment."""

    __tablename__ = "comment_reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter_id", name="one_report_per_person"),
        CheckConstraint(f"length(reason) <= {REPORT_REASON_MAX_LENGTH}",
                        name="reason_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(REPORT_REASON_MAX_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)

    comment: Mapped[Comment] = relationship(back_populates="reports")


class CommentMailing(db.Model):
    """How far a proposal's author has been told of new comments: the id of the last
    comment a mail covered, and when it went (at most one mail per idea per hour)."""

    __tablename__ = "comment_mailings"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    notified_up_to: Mapped[int] = mapped_column(default=0)
    mailed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
