"""Staff second factor: a TOTP secret (sealed under a key from configuration) and
single-use recovery codes (only their SHA-256 is stored)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default


class SecondFactor(db.Model):
    """A person's authenticator app. It takes effect once ``confirmed_at`` is set (the first
    code typed); until then it is an enrolment in progress."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # AES-256-GCM under SECOND_FACTOR_KEYS, bound to the user (see services.second_factor).
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step (Unix time // 30) of the last code accepted: a code works once, and no
    # code of an earlier step works after it.
    last_used_step: Mapped[int | None] = mapped_column(Integer)


class RecoveryCode(db.Model):
    """One single-use code that stands in for the authenticator app (lost phone)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
