"""Budget rounds: one table's yearly budget, from ideas to published results."""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum


class RoundPhase(enum.StrEnum):
    """Where a round is in its life. Allowed transitions live in the rounds service."""

    DRAFT = "draft"
    PROPOSALS = "proposals"
    REVIEW = "review"
    VOTING = "voting"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def is_public(self) -> bool:
        """Draft rounds are seen by staff only; every other phase is public."""
        return self is not RoundPhase.DRAFT


class Round(db.Model):
    """A budget round of one partnership table."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("budget_cents > 0", name="budget_positive"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        CheckConstraint("proposals_open_at < proposals_close_at", name="proposal_window_order"),
        CheckConstraint("proposals_close_at <= voting_open_at", name="review_before_voting"),
        CheckConstraint("voting_open_at < voting_close_at", name="voting_window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("partnership_tables.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Helsinki")
    phase: Mapped[RoundPhase] = mapped_column(
        string_enum(RoundPhase, "round_phase"), default=RoundPhase.DRAFT, index=True
    )
    proposals_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposals_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=created_at_default, onupdate=created_at_default
    )

    table: Mapped["Table"] = relationship(back_populates="rounds")  # noqa: F821
    proposals: Mapped[list["Proposal"]] = relationship(  # noqa: F821
        back_populates="round", order_by="Proposal.id"
    )

    def __repr__(self) -> str:
        return f"<Round {self.id} {self.phase.value}>"
