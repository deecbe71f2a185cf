"""Outgoing mail, kept until it is sent, and the results notices still to write."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default


class OutgoingMail(db.Model):
    """A message waiting to be sent, or one that could not be sent yet.

    It is written in the same transaction as what it tells about (a vote, a publication, a
    moderation decision), so it exists exactly when that happened; it is sent after the
    response or by ``flask send-mail``, and deleted once sent. ``attempts`` counts tries;
    ``next_attempt_at`` is when the next one may start (a sender claims a message by moving it
    forward, so two senders never send the same message at once).
    """

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default,
                                                      index=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # A notice a person asked for carries its one-click unsubscribe address (RFC 8058:
    # sent as the List-Unsubscribe header, with List-Unsubscribe-Post).
    unsubscribe_url: Mapped[str | None] = mapped_column(String(1000))


class ResultsMailing(db.Model):
    """The notices of one publication to the people who asked for them, still to be
    written or written: a row is stored with the publication, and a background job then
    queues the notices in batches, in the order of the people's ids.

    ``notified_up_to`` is the id of the last person a batch told: the batch moves it in the
    transaction that queues its mail, under a lock on this row, so a job run again (or two
    at once) goes on after it and never tells anyone twice. ``finished_at`` is set once
    nobody is left; an unfinished mailing that stopped moving is handed out again.
    """

    __tablename__ = "results_mailings"
    __table_args__ = (
        CheckConstraint("notified >= 0 AND notified_up_to >= 0", name="counts_not_negative"),
    )

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"),
                                                primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    progressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_up_to: Mapped[int] = mapped_column(default=0)
    notified: Mapped[int] = mapped_column(default=0)
