"""Proposals: the ideas residents, table members and the city put forward in a round."""

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum
from pb_vote.models.texts import LocalText


class ProposalOrigin(enum.StrEnum):
    """Who initiated a proposal: shown publicly, so no table becomes a rubber stamp."""

    RESIDENT = "resident"
    MEMBER = "member"
    CITY = "city"


class ProposalStatus(enum.StrEnum):
    """Where a proposal stands in moderation."""

    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MERGED = "merged"
    WITHDRAWN = "withdrawn"
    HIDDEN = "hidden"


class Proposal(db.Model):
    """An idea put forward in a round."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint("estimated_cost_cents > 0", name="estimated_cost_positive"),
        CheckConstraint("length(title) > 0", name="title_not_empty"),
        CheckConstraint("reviewed_cost_cents > 0", name="reviewed_cost_positive"),
        CheckConstraint(
            "status <> 'accepted' OR reviewed_cost_cents IS NOT NULL",
            name="accepted_has_reviewed_cost",
        ),
        CheckConstraint(
            "status <> 'merged' OR merged_into_id IS NOT NULL", name="merged_has_target"
        ),
        CheckConstraint(
            "status <> 'rejected' OR (rejection_reason IS NOT NULL "
            "AND length(rejection_reason) > 0)",
            name="rejected_has_reason",
        ),
        CheckConstraint(
            "status <> 'hidden' OR (hidden_reason IS NOT NULL AND length(hidden_reason) > 0)",
            name="hidden_has_reason",
        ),
        CheckConstraint("merged_into_id <> id", name="not_merged_into_itself"),
        CheckConstraint("language IN ('fi', 'sv', 'en')", name="language_known"),
        CheckConstraint("status <> 'accepted' OR NOT short_of_supports",
                        name="accepted_not_short_of_supports"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    # Kept when the author deletes their account; the proposal stays, unattributed.
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    origin: Mapped[ProposalOrigin] = mapped_column(string_enum(ProposalOrigin, "proposal_origin"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    estimated_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    category: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str | None] = mapped_column(String(500))
    # The language the author wrote in: proposals are shown as written, never translated.
    language: Mapped[str] = mapped_column(String(2), default="fi", server_default="fi")
    reviewed_cost_cents: Mapped[int | None] = mapped_column(BigInteger)
    # Public: a note shown with an accepted proposal, and the reason for a rejection.
    public_note: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # Shown to the author only: what to change.
    change_request: Mapped[str | None] = mapped_column(Text)
    # Kept for the record, never shown publicly.
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    status: Mapped[ProposalStatus] = mapped_column(
        string_enum(ProposalStatus, "proposal_status"), default=ProposalStatus.SUBMITTED
    )
    # Review started with fewer supports than the round's threshold: it is off the ballot
    # unless a moderator accepts it with a reason (which clears this).
    short_of_supports: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=created_at_default, onupdate=created_at_default
    )

    round: Mapped["Round"] = relationship(back_populates="proposals")  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821
    merged_into: Mapped["Proposal | None"] = relationship(
        remote_side=[id], back_populates="merged_in"
    )
    merged_in: Mapped[list["Proposal"]] = relationship(
        back_populates="merged_into", order_by="Proposal.id"
    )
    # Every image, removed ones too (their reasons are shown to the author).
    images: Mapped[list["ProposalImage"]] = relationship(  # noqa: F821
        back_populates="proposal", order_by="ProposalImage.id", passive_deletes=True
    )

    @property
    def is_public(self) -> bool:
        """Hidden and withdrawn proposals are not shown to the public."""
        return self.status not in (ProposalStatus.HIDDEN, ProposalStatus.WITHDRAWN)

    def text_in(self, field: str, language: str) -> LocalText:
        """``field`` as the author wrote it, in the proposal's language (whatever
        ``language`` the page speaks)."""
        return LocalText(getattr(self, field) or "", self.language)

    @property
    def shown_images(self) -> list:
        """The images not removed by a moderator, in the order they were added."""
        return [image for image in self.images if image.removed_at is None]

    @property
    def cost_cents(self) -> int | None:
        """The cost that counts: the reviewed cost once there is one, else the estimate."""
        return self.reviewed_cost_cents or self.estimated_cost_cents

    def __repr__(self) -> str:
        return f"<Proposal {self.id}>"
