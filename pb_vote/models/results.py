"""Published results: numbered, immutable publications of a round's tally."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default


class Publication(db.Model):
    """One publication of a round's results. Never updated or deleted (database triggers
    refuse it): a correction is a new publication with the next number and a stated reason.

    It freezes everything the public pages and the open data show: the tally with every
    project's reason, the comparison with the other rule, turnout, the shuffled receipt
    hashes, and the anonymized ballots as a Pabulib file.
    """

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("round_id", "number", name="one_number_per_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    number: Mapped[int]
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    # A plain number, not a foreign key: deleting an account must not rewrite a publication.
    published_by_id: Mapped[int | None]
    rule: Mapped[str] = mapped_column(String(40))
    tie_break: Mapped[str] = mapped_column(String(20))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    ballot_count: Mapped[int]
    excluded: Mapped[list] = mapped_column(JSON, default=list)
    result: Mapped[dict] = mapped_column(JSON)
    comparison: Mapped[dict] = mapped_column(JSON)
    turnout: Mapped[dict] = mapped_column(JSON)
    receipts: Mapped[list] = mapped_column(JSON)
    ballots_pb: Mapped[str] = mapped_column(Text)
