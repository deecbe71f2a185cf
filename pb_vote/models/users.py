"""People: residents and staff, their memberships of tables, and their sign-in state."""

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum

LANGUAGES = ("fi", "sv", "en")


class MembershipRole(enum.StrEnum):
    """A person's role at one partnership table."""

    MEMBER = "member"
    COORDINATOR = "coordinator"


class User(db.Model):
    """A person with an account: a resident, or staff when they hold a role."""

    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, which makes the unique key case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("language IN ('fi', 'sv', 'en')", name="language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(5), default="fi")
    postal_code: Mapped[str | None] = mapped_column(String(10))
    is_city_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Opted in on the account page: a mail (at most hourly per idea) on new comments.
    mail_on_comments: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())

    memberships: Mapped[list["TableMembership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol. The id kept in the session cookie is the login session's token,
    # not the user id, so signing out (deleting that row) really ends the session.
    login_session_token = None  # set on the loaded instance; not a column
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str | None:
        return self.login_session_token

    @property
    def is_staff(self) -> bool:
        """Whether this account holds any staff role (and so signs in with a password)."""
        return self.is_city_admin or bool(self.memberships)

    def role_at(self, table_id: int) -> MembershipRole | None:
        """This person's role at the given table, if any."""
        for membership in self.memberships:
            if membership.table_id == table_id:
                return membership.role
        return None

    @property
    def name_or_email(self) -> str:
        """What to call this person on their own pages."""
        return self.display_name or self.email

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class TableMembership(db.Model):
    """A person's role (member or coordinator) at a partnership table."""

    __tablename__ = "table_memberships"
    __table_args__ = (UniqueConstraint("user_id", "table_id", name="one_role_per_table"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    table_id: Mapped[int] = mapped_column(
        ForeignKey("partnership_tables.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[MembershipRole] = mapped_column(string_enum(MembershipRole, "membership_role"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)

    user: Mapped[User] = relationship(back_populates="memberships")
    table: Mapped["Table"] = relationship(back_populates="memberships")  # noqa: F821


class SignInMethod(enum.StrEnum):
    """How a login session was opened."""

    LINK = "link"
    PASSWORD = "password"


class LoginSession(db.Model):
    """A signed-in browser session. Only the SHA-256 of its token is stored."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[SignInMethod] = mapped_column(string_enum(SignInMethod, "sign_in_method"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class TokenPurpose(enum.StrEnum):
    """What a one-time emailed link is for."""

    SIGN_IN = "sign_in"
    SET_PASSWORD = "set_password"


class OneTimeNonce(db.Model):
    """The stored half of an emailed one-time link: the link works while ``used_at`` is null."""

    __tablename__ = "one_time_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(string_enum(TokenPurpose, "token_purpose"))
    email: Mapped[str] = mapped_column(String(254), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
