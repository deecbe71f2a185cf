"""Reviewing proposals beyond moderation: opinions asked of a city department on a
proposal's cost and feasibility, and the reviewers' internal notes (never public)."""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum


class Feasibility(enum.StrEnum):
    """A department's verdict on a proposal."""

    FEASIBLE = "feasible"
    WITH_CHANGES = "with_changes"
    NOT_FEASIBLE = "not_feasible"


class FeasibilityRequest(db.Model):
    """A reviewer asks a named contact of a city department for a cost and feasibility
    opinion on a proposal. The contact answers once, without an account, through a link
    whose random token is stored only as its SHA-256 (``token_hash``) and stops working at
    ``expires_at``. An answered request has its verdict, and its answer is never changed."""

    __tablename__ = "feasibility_requests"
    __table_args__ = (
        CheckConstraint("length(contact_email) > 0 AND length(contact_name) > 0",
                        name="contact_named"),
        CheckConstraint("estimated_cost_cents IS NULL OR estimated_cost_cents >= 0",
                        name="estimated_cost_not_negative"),
        CheckConstraint(
            "(answered_at IS NULL AND feasibility IS NULL AND estimated_cost_cents IS NULL) "
            "OR (answered_at IS NOT NULL AND feasibility IS NOT NULL)",
            name="answer_complete"),
        CheckConstraint("language IN ('fi', 'sv', 'en')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    contact_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320))
    question: Mapped[str] = mapped_column(Text, default="")
    # The language of the mail to the contact.
    language: Mapped[str] = mapped_column(String(2), default="fi")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feasibility: Mapped[Feasibility | None] = mapped_column(
        string_enum(Feasibility, "feasibility"))
    estimated_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    answer: Mapped[str] = mapped_column(Text, default="")

    proposal: Mapped["Proposal"] = relationship()  # noqa: F821
    requested_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def answered(self) -> bool:
        """Whether the contact has answered."""
        return self.answered_at is not None


class ReviewNote(db.Model):
    """A reviewer's internal note on a proposal: for the table's staff only, never on a
    public page, in public data or in anything residents get."""

    __tablename__ = "review_notes"
    __table_args__ = (CheckConstraint("length(body) > 0", name="body_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)

    proposal: Mapped["Proposal"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821
