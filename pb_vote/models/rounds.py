"""Budget rounds: one table's yearly budget, from ideas to published results."""

import enum
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime, created_at_default, string_enum
from pb_vote.models.texts import LocalText, Translated, other_languages, pick


class RoundPhase(enum.StrEnum):
    """Where a round is in its life. Allowed transitions live in the rounds service."""

    DRAFT = "draft"
    PROPOSALS = "proposals"
    REVIEW = "review"
    VOTING = "voting"
    CLOSED = "closed"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def is_public(self) -> bool:
        """Draft rounds are seen by staff only; every other phase is public."""
        return self is not RoundPhase.DRAFT

    @property
    def settings_editable(self) -> bool:
        """Settings may still be edited: before voting opens, unless cancelled."""
        return self in _SETTINGS_EDITABLE

    @property
    def settings_frozen(self) -> bool:
        """Voting has opened (and the round was not cancelled): a database trigger refuses
        any change to the ballot and tally settings."""
        return self in _SETTINGS_FROZEN

    @property
    def moderation_open(self) -> bool:
        """Proposals can be submitted by staff and moderated: ideas are collected or
        reviewed."""
        return self in _MODERATION_OPEN

    @property
    def follows_schedule(self) -> bool:
        """The schedule moves the round on by itself (drafts wait for their coordinator;
        closed, published and cancelled rounds wait for a person or are final)."""
        return self in _FOLLOWS_SCHEDULE

    @property
    def voting_over(self) -> bool:
        """Voting has ended for good: closed, published or cancelled."""
        return self in _VOTING_OVER

    @property
    def countable(self) -> bool:
        """Voting has closed and was not cancelled: the ballots can be counted."""
        return self in _COUNTABLE


_P = RoundPhase
_SETTINGS_EDITABLE = frozenset({_P.DRAFT, _P.PROPOSALS, _P.REVIEW})
_SETTINGS_FROZEN = frozenset({_P.VOTING, _P.CLOSED, _P.PUBLISHED})
_MODERATION_OPEN = frozenset({_P.PROPOSALS, _P.REVIEW})
_FOLLOWS_SCHEDULE = frozenset({_P.PROPOSALS, _P.REVIEW, _P.VOTING})
_VOTING_OVER = frozenset({_P.CLOSED, _P.PUBLISHED, _P.CANCELLED})
_COUNTABLE = frozenset({_P.CLOSED, _P.PUBLISHED})


class VoterEligibility(enum.StrEnum):
    """Who may vote in a round."""

    RESIDENTS = "residents"  # signed-in people whose home postal code is in the table's area
    CODES = "codes"  # holders of voting codes handed out by the table
    BOTH = "both"


class ResidentCheck(enum.StrEnum):
    """How a round's residents must have signed in to vote."""

    ANY = "any"  # by emailed link (with a stated postal code) or by strong identification
    IDENTIFIED = "identified"  # by strong identification only (services.identity)


class BallotKind(enum.StrEnum):
    """The form of the ballot."""

    APPROVAL = "approval"  # pick at least ``approval_min`` and at most ``approval_max``
    KNAPSACK = "knapsack"  # pick proposals whose costs fit the budget
    POINTS = "points"  # distribute ``points_total`` points, at most ``points_max_per_proposal``


class TallyRule(enum.StrEnum):
    """How the votes become funded projects (computed by pb_vote.tally)."""

    GREEDY = "greedy"  # most support first, skip what no longer fits
    MES = "mes"  # Method of Equal Shares, completed


class PaperConflictRule(enum.StrEnum):
    """Which ballot stands when one voting code is used both online and on paper."""

    ONLINE_WINS = "online_wins"  # the online ballot stands; the paper entry is refused
    PAPER_WINS = "paper_wins"  # the paper ballot replaces the online one


# Columns that may not change once voting has opened; a database trigger enforces it.
FROZEN_SETTINGS = (
    "budget_cents",
    "currency",
    "voter_eligibility",
    "ballot_kind",
    "approval_min",
    "approval_max",
    "knapsack_min_spend_percent",
    "points_total",
    "points_max_per_proposal",
    "tally_rule",
    "paper_conflict_rule",
    "categories",
    "voting_open_at",
    "resident_check",
    "min_voter_age",
    "supports_enabled",
    "support_threshold",
)


class Round(Translated, db.Model):
    """A budget round of one partnership table. Its title, description and categories are in
    the table's main language, with translations (see models/texts.py); the categories'
    translations sit in ``translations["categories"]`` = {main name: {language: name}}, apart
    from the frozen ``categories``, so they can be mended while people vote."""

    __tablename__ = "rounds"
    __table_args__ = (
        CheckConstraint("budget_cents > 0", name="budget_positive"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        CheckConstraint("proposals_open_at < proposals_close_at", name="proposal_window_order"),
        CheckConstraint("proposals_close_at <= voting_open_at", name="review_before_voting"),
        CheckConstraint("voting_open_at < voting_close_at", name="voting_window_order"),
        CheckConstraint(
            "approval_min >= 1 AND approval_min <= approval_max", name="approval_limits"
        ),
        CheckConstraint(
            "knapsack_min_spend_percent BETWEEN 0 AND 100", name="knapsack_min_spend_range"
        ),
        CheckConstraint(
            "points_total >= 1 AND points_max_per_proposal >= 1 "
            "AND points_max_per_proposal <= points_total",
            name="points_limits",
        ),
        CheckConstraint(
            "ballot_kind <> 'approval' OR (approval_min IS NOT NULL AND approval_max IS NOT NULL)",
            name="approval_settings_present",
        ),
        CheckConstraint("min_voter_age BETWEEN 1 AND 120", name="min_voter_age_range"),
        CheckConstraint("support_threshold >= 1", name="support_threshold_positive"),
        CheckConstraint(
            "ballot_kind <> 'points' OR "
            "(points_total IS NOT NULL AND points_max_per_proposal IS NOT NULL)",
            name="points_settings_present",
        ),
    )

    TRANSLATED = ("title", "description")

    id: Mapped[int] = mapped_column(primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("partnership_tables.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    translations: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Helsinki")
    phase: Mapped[RoundPhase] = mapped_column(
        string_enum(RoundPhase, "round_phase"), default=RoundPhase.DRAFT, index=True
    )
    categories: Mapped[list] = mapped_column(JSON, default=list)
    voter_eligibility: Mapped[VoterEligibility] = mapped_column(
        string_enum(VoterEligibility, "voter_eligibility"), default=VoterEligibility.RESIDENTS
    )
    # Residents who vote: by either sign-in, or strongly identified only; and the age they
    # must have reached by the close of voting (checked on strongly identified residents
    # whose provider gave a date of birth; None: no minimum).
    resident_check: Mapped[ResidentCheck] = mapped_column(
        string_enum(ResidentCheck, "resident_check"), default=ResidentCheck.ANY,
        server_default=ResidentCheck.ANY.value)
    min_voter_age: Mapped[int | None]
    # Residents may support ideas while the round takes them (services.supports); with a
    # threshold, an idea short of that many supports when review starts does not reach it.
    supports_enabled: Mapped[bool] = mapped_column(Boolean, default=False,
                                                   server_default=false())
    support_threshold: Mapped[int | None]
    ballot_kind: Mapped[BallotKind] = mapped_column(
        string_enum(BallotKind, "ballot_kind"), default=BallotKind.APPROVAL
    )
    # No column defaults: a knapsack or points round stores none of these (a default would
    # fill them in whenever they are None); approval rounds must set both (a CHECK says so).
    approval_min: Mapped[int | None]
    approval_max: Mapped[int | None]
    knapsack_min_spend_percent: Mapped[int | None]
    points_total: Mapped[int | None]
    points_max_per_proposal: Mapped[int | None]
    tally_rule: Mapped[TallyRule] = mapped_column(
        string_enum(TallyRule, "tally_rule"), default=TallyRule.GREEDY
    )
    # When one voting code is used online and on paper: which ballot stands.
    paper_conflict_rule: Mapped[PaperConflictRule] = mapped_column(
        string_enum(PaperConflictRule, "paper_conflict_rule"),
        default=PaperConflictRule.ONLINE_WINS,
    )
    proposals_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposals_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=created_at_default)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=created_at_default, onupdate=created_at_default
    )

    table: Mapped["Table"] = relationship(back_populates="rounds")  # noqa: F821
    proposals: Mapped[list["Proposal"]] = relationship(  # noqa: F821
        back_populates="round", order_by="Proposal.id"
    )

    @property
    def settings_frozen(self) -> bool:
        """Ballot and tally settings may not change once voting has opened."""
        return self.phase.settings_frozen

    @property
    def main_language(self) -> str:
        """The language the round's texts are written in: its table's."""
        return self.table.main_language

    def category_texts(self, name: str) -> dict[str, str]:
        """Category ``name`` (as stored, in the main language) in every language it has."""
        given = ((self.translations or {}).get("categories") or {}).get(name) or {}
        texts = {language: text for language, text in given.items() if (text or "").strip()}
        return {**texts, self.main_language: name}

    def category_in(self, name: str, language: str) -> LocalText:
        """Category ``name`` in ``language``, or in the main language when untranslated."""
        return pick(self.category_texts(name), language, self.main_language)

    def set_category_translations(self, names: dict[str, list[str]]) -> None:
        """Translate the categories in order: ``names[language][n]`` is the ``n``-th
        category's name in that language (a blank or missing one is no translation)."""
        translated = {}
        for position, name in enumerate(self.categories or []):
            texts = {language: names[language][position].strip()
                     for language in other_languages(self.main_language)
                     if position < len(names.get(language, []))
                     and names[language][position].strip()}
            if texts:
                translated[name] = texts
        kept = {k: v for k, v in (self.translations or {}).items() if k != "categories"}
        self.translations = {**kept, **({"categories": translated} if translated else {})}

    def missing_languages(self, fields=None) -> dict[str, list[str]]:
        """As for any translated model, with "categories" when a category lacks a name in
        that language."""
        missing = super().missing_languages(fields)
        for language in other_languages(self.main_language):
            if any(language not in self.category_texts(name) for name in self.categories or []):
                missing.setdefault(language, []).append("categories")
        return missing

    @property
    def zone(self) -> ZoneInfo:
        """The round's time zone, in which its dates are shown and entered."""
        return ZoneInfo(self.time_zone)

    def __repr__(self) -> str:
        return f"<Round {self.id} {self.phase.value}>"
