"""Partnership tables: the regional groups that each hold a yearly budget."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default
from pb_vote.models.texts import Translated


class Table(Translated, db.Model):
    """A regional partnership table with its area (postal codes). Its name and description
    are in its main language, with translations (see models/texts.py)."""

    __tablename__ = "partnership_tables"
    __table_args__ = (
        CheckConstraint("main_language IN ('fi', 'sv')", name="main_language_known"),
    )
    TRANSLATED = ("name", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    main_language: Mapped[str] = mapped_column(String(2), default="fi", server_default="fi")
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # Residents of the area entitled to vote, when the table records it (for turnout shares).
    eligible_residents: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    # Set when the table was retired: it takes no new rounds and is not offered to
    # residents; its rounds and published results stay.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area: Mapped[list["TablePostalCode"]] = relationship(
        back_populates="table",
        cascade="all, delete-orphan",
        order_by="TablePostalCode.postal_code",
    )
    memberships: Mapped[list["TableMembership"]] = relationship(  # noqa: F821
        back_populates="table", cascade="all, delete-orphan"
    )
    rounds: Mapped[list["Round"]] = relationship(  # noqa: F821
        back_populates="table", order_by="Round.id.desc()"
    )

    @property
    def postal_codes(self) -> list[str]:
        """The postal codes of the table's area, sorted."""
        return [row.postal_code for row in self.area]

    @postal_codes.setter
    def postal_codes(self, codes: list[str]) -> None:
        wanted = sorted(set(codes))
        kept = [row for row in self.area if row.postal_code in wanted]
        present = {row.postal_code for row in kept}
        self.area = kept + [TablePostalCode(postal_code=c) for c in wanted if c not in present]

    @property
    def is_retired(self) -> bool:
        """Whether the table has been retired (see ``retired_at``)."""
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<Table {self.slug}>"


class TablePostalCode(db.Model):
    """One postal code belonging to a table's area: to one table's at most (a unique
    index), and, while a round of the table is in voting, fixed (database triggers, see
    migration 0022)."""

    __tablename__ = "table_postal_codes"

    table_id: Mapped[int] = mapped_column(
        ForeignKey("partnership_tables.id", ondelete="CASCADE"), primary_key=True
    )
    postal_code: Mapped[str] = mapped_column(String(10), primary_key=True, index=True,
                                             unique=True)
    # Residents of this postal code area entitled to vote, when recorded (turnout by area).
    eligible_residents: Mapped[int | None]

    table: Mapped[Table] = relationship(back_populates="area")
