"""Published results: numbered, immutable publications of a round's tally, the receipt sets
they point to, and the files they offer, stored in slices.

A publication row holds only what its pages show (the summary, every project's figures,
turnout); the receipt hashes and the files live in their own tables, written once and shared
by every publication of the same content, so that reading a page costs what the page shows
and a correction adds only what changed.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default


class StoredFile(db.Model):
    """An immutable file kept in the database in numbered slices of ``slice_size`` bytes,
    twice: as it is (``identity``) and as a raw DEFLATE stream ended by a sync flush
    (``deflate``), so a response can stream either one slice at a time and wrap the second
    in a gzip header and trailer, with more bytes after it if the response needs them.
    Stored once per content (``digest``, the SHA-256 of the bytes)."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    deflated_size: Mapped[int] = mapped_column(BigInteger)
    crc32: Mapped[int] = mapped_column(BigInteger)  # of the bytes as they are (gzip trailer)
    slice_size: Mapped[int]


class FileSlice(db.Model):
    """One slice of a stored file in one encoding (``identity`` or ``deflate``)."""

    __tablename__ = "stored_file_slices"
    __table_args__ = ({"sqlite_with_rowid": False},)

    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), primary_key=True)
    encoding: Mapped[str] = mapped_column(String(8), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ReceiptSet(db.Model):
    """The receipt hashes of a round's counted ballots, as one or more publications froze
    them: stored once per set of ballots (``digest``: SHA-256 of the sorted hashes), each
    hash a row of ``published_receipts`` (one index lookup checks a receipt), and the
    shuffled list as the stored file behind the receipts download."""

    __tablename__ = "receipt_sets"
    __table_args__ = (UniqueConstraint("round_id", "digest", name="one_set_per_content"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    receipt_count: Mapped[int]
    # The receipts download without its last bytes: {"hash":...,"receipts":[...]
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))


class PublishedReceipt(db.Model):
    """One receipt hash in a receipt set."""

    __tablename__ = "published_receipts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    receipt_set_id: Mapped[int] = mapped_column(ForeignKey("receipt_sets.id"),
                                                primary_key=True)
    receipt_hash: Mapped[str] = mapped_column(String(64), primary_key=True)


class Publication(db.Model):
    """One publication of a round's results. Never updated or deleted (database triggers
    refuse it): a correction is a new publication with the next number and a stated reason.

    It freezes everything the public pages and the open data show: the tally with every
    project's reason, the comparison with the other rule and turnout (the figures: pages
    that do not show them leave them unread, ``services.results.FIGURES``), and points to
    the receipt set of its ballots and to the anonymized ballots as a stored Pabulib file.
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
    receipt_set_id: Mapped[int] = mapped_column(ForeignKey("receipt_sets.id"), index=True)
    ballots_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))

    @property
    def ballots_pb(self) -> str:
        """The whole Pabulib file as text. Reads every slice: for tests and scripts, never
        for a page (the download streams it)."""
        return b"".join(db.session.execute(
            select(FileSlice.data).where(FileSlice.file_id == self.ballots_file_id,
                                         FileSlice.encoding == "identity")
            .order_by(FileSlice.number)
        ).scalars()).decode()
