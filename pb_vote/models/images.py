"""Images of proposals: what a park bench or a crossing looks like, next to the words.

Only re-encoded renditions are ever stored (never the uploaded bytes), each named by its
content: ``<key>-<width>.webp``, where ``key`` is the SHA-256 of the largest rendition.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default

IMAGE_SUFFIX = ".webp"
IMAGE_CONTENT_TYPE = "image/webp"


class ProposalImage(db.Model):
    """One picture of a proposal, in a few widths, with its alt text; a moderator's removal
    keeps the row (who, when, why: the author is shown the reason) and drops the files."""

    __tablename__ = "proposal_images"
    __table_args__ = (
        CheckConstraint("length(alt_text) > 0", name="alt_text_not_empty"),
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint("length(widths) > 0", name="widths_not_empty"),
        CheckConstraint("alt_language IN ('fi', 'sv', 'en')", name="alt_language_known"),
        CheckConstraint(
            "removed_at IS NULL OR (removed_reason IS NOT NULL AND length(removed_reason) > 0)",
            name="removed_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    # SHA-256 (hex) of the largest rendition: the files' names start with it.
    key: Mapped[str] = mapped_column(String(64), index=True)
    # The widths made, ascending, separated by commas ("480,960,1600").
    widths: Mapped[str] = mapped_column(String(100))
    # The size of the largest rendition, in pixels.
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt_text: Mapped[str] = mapped_column(Text)
    alt_language: Mapped[str] = mapped_column(String(2))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    removed_reason: Mapped[str | None] = mapped_column(Text)

    proposal: Mapped["Proposal"] = relationship(back_populates="images")  # noqa: F821

    @property
    def width_list(self) -> list[int]:
        """The widths made, ascending."""
        return [int(part) for part in self.widths.split(",")]

    def file_name(self, width: int) -> str:
        """The stored file of the rendition ``width`` pixels wide."""
        return f"{self.key}-{width}{IMAGE_SUFFIX}"

    def height_at(self, width: int) -> int:
        """The height of the rendition ``width`` pixels wide."""
        return max(1, round(self.height * width / self.width))

    @property
    def file_names(self) -> list[str]:
        """Every stored file of this image."""
        return [self.file_name(width) for width in self.width_list]

    @property
    def is_removed(self) -> bool:
        """Removed by a moderator: no longer shown, its files gone."""
        return self.removed_at is not None

    def __repr__(self) -> str:
        return f"<ProposalImage {self.id} of proposal {self.proposal_id}>"
