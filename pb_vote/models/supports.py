"""Supports: before review, residents of a table's area back the ideas they want reviewed
(a round may ask for a number of supports before an idea reaches review)."""

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default


class ProposalSupport(db.Model):
    """One person's support of one idea. Only counts are ever shown: who supported is kept
    for the one-per-person rule, and goes with the account when it is deleted."""

    __tablename__ = "proposal_supports"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id", name="one_support_per_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)

    def __repr__(self) -> str:
        return f"<ProposalSupport {self.id}>"
