"""The service's own pages (about, contact, privacy notice, accessibility statement) as
the city admin writes them: every save is a new version, kept with who saved it and when.

A page in a language shows its latest version's text; a version without a text (``body``
NULL) means "back to the built-in text" (the translated template). No version at all also
means the built-in text. Versions are never changed or deleted (database triggers refuse
it), so the history is the record of what each page said when.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default

SERVICE_PAGES = ("about", "contact", "privacy", "accessibility")
PAGE_TEXT_MAX_CHARS = 40_000  # a long privacy notice is about 8,000


class ServicePageVersion(db.Model):
    """One saved text of one service page in one language (``body`` NULL: the built-in
    text again)."""

    __tablename__ = "service_page_versions"
    __table_args__ = (
        CheckConstraint("page IN ('about', 'contact', 'privacy', 'accessibility')",
                        name="page_known"),
        CheckConstraint("language IN ('fi', 'sv', 'en')", name="language_known"),
        CheckConstraint(f"body IS NULL OR length(body) <= {PAGE_TEXT_MAX_CHARS}",
                        name="body_not_too_long"),
        Index("ix_service_page_versions_page_language", "page", "language", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    body: Mapped[str | None] = mapped_column(Text)  # Markdown, as the admin wrote it
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    saved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    saved_by: Mapped["User | None"] = relationship()  # noqa: F821

    @property
    def is_built_in(self) -> bool:
        """Whether this version went back to the built-in text."""
        return self.body is None

    def __repr__(self) -> str:
        return f"<ServicePageVersion {self.page} {self.language} {self.id}>"
