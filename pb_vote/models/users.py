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
    # None for a resident who signed in only through strong identification.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(5), default="fi")
    postal_code: Mapped[str | None] = mapped_column(String(10))
    is_city_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Strong identification (services.identity): a keyed hash of the person's stable
    # identifier (such as the personal identity code), never the identifier itself, so that
    # one person is one account whatever address or provider they use; and what the
    # provider verified that eligibility needs: the postal code of residence and the month
    # of birth (YYYY-MM), when it gave them.
    person_pseudonym: Mapped[str | None] = mapped_column(String(64), unique=True)
    verified_postal_code: Mapped[str | None] = mapped_column(String(10))
    birth_month: Mapped[str | None] = mapped_column(String(7))
    # Opted in on the account page: a mail (at most hourly per idea) on new comments.
    mail_on_comments: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())

    memberships: Mapped[list["TableMembership"]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol. The id kept in the session cookie is the login session's token,
    # not the user id, so signing out (deleting that row) really ends the session.
    login_session_token = None  # set on the loaded instance; not a column
    # Set on the loaded instance while its session waits for the staff second factor: the
    # person has given only a password, and counts as not signed in (no page, no action).
    second_factor_pending = False
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return not self.second_factor_pending

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
        return self.display_name or self.email or ""

    @property
    def is_identified(self) -> bool:
        """Whether this person signed in through strong identification."""
        return self.person_pseudonym is not None

    @property
    def home_postal_code(self) -> str | None:
        """The postal code eligibility follows: the verified one when the identity provider
        gave it, else the one the person stated."""
        return self.verified_postal_code or self.postal_code

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
    IDENTIFIED = "identified"  # through an OpenID Connect identity provider
    STAFF_PROVIDER = "staff_oidc"  # staff, through the city's own OpenID Connect provider


class LoginSession(db.Model):
    """A signed-in browser session. Only the SHA-256 of its token is stored."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    method: Mapped[SignInMethod] = mapped_column(string_enum(SignInMethod, "sign_in_method"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When this session passed the staff second factor; None: the password only (enough
    # only for those whom the second factor does not concern, see services.second_factor).
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

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
