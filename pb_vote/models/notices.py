"""Notices residents ask for: what they opted in to, and which round notices went to whom."""

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum


class NoticeKind(enum.StrEnum):
    """A kind of notice a resident may ask for (each opted in to on its own)."""

    IDEAS_OPEN = "ideas_open"  # a round of their area takes ideas
    VOTING_OPEN = "voting_open"  # voting opens in their area
    VOTING_REMINDER = "voting_reminder"  # voting closes soon, and they have not voted
    RESULTS = "results"  # results are published


# The notices written by a round mailing (results have their own, per publication).
ROUND_NOTICE_KINDS = (NoticeKind.IDEAS_OPEN, NoticeKind.VOTING_OPEN, NoticeKind.VOTING_REMINDER)


class NoticePreference(db.Model):
    """What a person said about one kind of notice: ``subscribed`` on the account page, or
    off there or by an unsubscribe link. No row means they said nothing: no area notices
    (consent is asked, never assumed), while the results of a round they proposed an idea
    in or asked for when voting still come, until they say off."""

    __tablename__ = "notice_preferences"
    __table_args__ = (
        # The subscribers of a kind in id order: how a mailing walks through them.
        Index("ix_notice_preferences_kind_subscribed_user", "kind", "subscribed", "user_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(string_enum(NoticeKind, "notice_kind"),
                                             primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)


class RoundMailing(db.Model):
    """The notices of one round and kind (ideas open, voting open, the reminder), to be
    written or written: one row per round and kind (its key), stored with the phase move
    (or by the clock, for the reminder); a background job then writes the notices in
    batches, in the order of the people's ids, as ``ResultsMailing`` does for results.
    ``notified_up_to`` is the id of the last person a batch looked at."""

    __tablename__ = "round_mailings"
    __table_args__ = (
        CheckConstraint("notified >= 0 AND notified_up_to >= 0", name="counts_not_negative"),
        CheckConstraint("kind <> 'results'", name="kind_of_a_round"),
    )

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(string_enum(NoticeKind, "notice_kind"),
                                             primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    progressed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_up_to: Mapped[int] = mapped_column(default=0)
    notified: Mapped[int] = mapped_column(default=0)


class SentNotice(db.Model):
    """That one person was sent the notice of one round and kind: the key makes it once,
    whatever job (a retry, two workers) writes it. Deleted with the account."""

    __tablename__ = "sent_notices"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(string_enum(NoticeKind, "notice_kind"),
                                             primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
