"""Counts: a round's tally, asked for by its coordinator and run as a background job."""

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum


class CountStatus(enum.StrEnum):
    """Where a count is: waiting for a worker, being counted, finished, or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Count(db.Model):
    """One count of a round's ballots (without the ``excluded`` proposals), with what it was
    computed from and, once done, its outcome as a publication would freeze it.

    A worker claims the row before counting (``claim``, ``heartbeat_at``), so one count never
    runs twice at once; a claim whose worker stopped beating is taken over. ``digest`` is the
    SHA-256 of the ballots' sealed content, the proposals on the ballot with their costs, the
    rule and the exclusions: publishing compares it with the ballots of that moment and
    refuses when anything changed.
    """

    __tablename__ = "counts"
    __table_args__ = (
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    status: Mapped[CountStatus] = mapped_column(string_enum(CountStatus, "count_status"),
                                                default=CountStatus.QUEUED)
    excluded: Mapped[list] = mapped_column(JSON, default=list)
    # A plain number, as in publications: deleting an account must not touch a count.
    requested_by_id: Mapped[int | None]
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)
    ballot_count: Mapped[int | None]
    digest: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict | None] = mapped_column(JSON)
    comparison: Mapped[dict | None] = mapped_column(JSON)
    # The anonymized ballots' .pb file the count stored; counts before migration 0018 hold
    # its text instead (ballots_pb).
    ballots_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    ballots_pb: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(500))
