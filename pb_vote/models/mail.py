"""Outgoing mail, kept until it is sent."""

from datetime import datetime

from sqlalchemy import String, Text
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
