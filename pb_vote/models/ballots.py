"""Votes, kept so that who voted and what they voted are apart.

``Participation`` says who voted (a person or a voting code), how and when. ``Ballot`` holds
what was chosen, sealed (``services.ballot_box``: AES-256-GCM under a key that lives in
configuration, never in the database, padded to one length per round), under a random id and
a pseudonymous ``voter_key`` = HMAC(ballot secret, voter, round): the key lets the latest
ballot replace an earlier one, and cannot be joined to a person without the secret. The
storage engine can still pair a ballot row with the participation written in the same
transaction (PostgreSQL's ``xmin``, SQLite's WAL frames): what it pairs is unreadable.
Ballots carry no timestamps and, on SQLite, no rowid. ``BallotReceipt`` rows hold the hashes
of receipt codes under a second pseudonym, so receipts cannot be joined to ballots either.
"""

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum


class VoteChannel(enum.StrEnum):
    """How a ballot arrived."""

    ONLINE = "online"  # a signed-in resident of the area
    CODE = "code"  # online, with a voting code
    PAPER = "paper"  # a paper ballot entered by a table member, with the slip's code
    IMPORT = "import"  # read from a Pabulib file (flask import-pabulib), to replay an election


class Participation(db.Model):
    """That someone voted in a round: who (person or code), how, and when. Never what."""

    __tablename__ = "participations"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", name="one_participation_per_person"),
        UniqueConstraint("round_id", "voting_code_id", name="one_participation_per_code"),
        # A person or a code, never both; neither once the person deleted their account
        # (the participation still counts in the turnout).
        CheckConstraint("user_id IS NULL OR voting_code_id IS NULL", name="person_or_code"),
        # One ballot per strongly identified person per round, however they voted (their
        # account, or a voting code typed while identified): services.identity.person_key.
        Index("one_participation_per_identified_person", "round_id", "person_key",
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    voting_code_id: Mapped[int | None] = mapped_column(ForeignKey("voting_codes.id"))
    channel: Mapped[VoteChannel] = mapped_column(string_enum(VoteChannel, "vote_channel"))
    first_voted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    last_voted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    # A resident may ask for a mail when the results are published.
    notify_results: Mapped[bool] = mapped_column(default=False)
    # A signed-in resident's home postal code and account language when they first voted
    # here, written by a database trigger (migration 0017), for the statistics after the
    # round; None for codes and paper. Kept when the person moves; cleared (by a trigger)
    # when the account is deleted.
    postal_code: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str | None] = mapped_column(String(5))
    # HMAC(BALLOT_SECRET, person pseudonym, round) of a strongly identified voter; kept when
    # the account is deleted, so the same person cannot vote again with a new account.
    person_key: Mapped[str | None] = mapped_column(String(64))


class TurnoutCount(db.Model):
    """How many participations of a round first voted by a channel in one UTC hour, kept by
    the database's triggers on ``participations`` (migration 0014), spread over a few shards
    so that simultaneous votes rarely wait on one row: sum the shards. Written only by the
    triggers."""

    __tablename__ = "turnout_counts"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    shard: Mapped[int] = mapped_column(primary_key=True)
    voters: Mapped[int]


class Ballot(db.Model):
    """What one voter chose in a round: their latest ballot."""

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("round_id", "voter_key", name="one_ballot_per_voter"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    voter_key: Mapped[str] = mapped_column(String(64))
    # The sealed normal form: approval and knapsack {"<proposal id>": 1, ...}; points
    # {"<proposal id>": points}. Only services.ballot_box opens it, with the key.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class BallotReceipt(db.Model):
    """The hash of a voter's current receipt code, under its own pseudonym."""

    __tablename__ = "ballot_receipts"
    __table_args__ = (
        UniqueConstraint("round_id", "receipt_key", name="one_receipt_per_voter"),
        {"sqlite_with_rowid": False},
    )

    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    receipt_key: Mapped[str] = mapped_column(String(64))


class VotingCodeBatch(db.Model):
    """Voting codes generated together, for one sheet of slips in the chosen languages.

    The codes are shown once, as the answer to the request that made them: a batch whose
    sheet never printed is voided (with a reason), and its codes unused by then stop
    working (``VotingCode.voided_at``); a ballot already cast with one of them stays.
    """

    __tablename__ = "voting_code_batches"
    __table_args__ = (
        UniqueConstraint("round_id", "number", name="one_batch_number_per_round"),
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint("voided_at IS NULL OR void_reason IS NOT NULL", name="void_has_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    number: Mapped[int]  # 1, 2, ... within the round: VotingCode.batch
    count: Mapped[int]
    # The slips' languages, such as ["fi", "sv"]; empty for batches made before they were kept.
    languages: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(Text)

    created_by: Mapped["User | None"] = relationship(  # noqa: F821
        foreign_keys=[created_by_id])
    voided_by: Mapped["User | None"] = relationship(foreign_keys=[voided_by_id])  # noqa: F821


class VotingCode(db.Model):
    """A printed voting code, stored only as its SHA-256. Usable for one ballot in one round."""

    __tablename__ = "voting_codes"
    __table_args__ = (
        ForeignKeyConstraint(["round_id", "batch"],
                             ["voting_code_batches.round_id", "voting_code_batches.number"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    batch: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the code's batch was voided before the code was used: it no longer works.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateLimitEvent(db.Model):
    """A counted attempt (such as a wrong voting code), keyed by a hash of who tried."""

    __tablename__ = "rate_limit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(40))
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default,
                                                  index=True)
