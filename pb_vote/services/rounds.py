"""Budget rounds: settings, and the phase lifecycle in one place.

draft -> proposals -> review -> voting -> closed -> published, and cancelled from any phase
before published. The schedule moves a round forward by server time (UTC) even when nobody
clicks: ``sync_phase`` runs on every request that reads a round and from the cron-able
``flask --app pb_vote advance-phases``. A coordinator can also move a phase by hand.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    BallotKind,
    PaperConflictRule,
    Proposal,
    ProposalStatus,
    ResidentCheck,
    Round,
    RoundPhase,
    Table,
    TallyRule,
    User,
    VoterEligibility,
)
from pb_vote.services import notices, supports
from pb_vote.services.audit import record_event
from pb_vote.services.locking import locked

P = RoundPhase
ALLOWED_TRANSITIONS: dict[RoundPhase, frozenset[RoundPhase]] = {
    P.DRAFT: frozenset({P.PROPOSALS, P.CANCELLED}),
    P.PROPOSALS: frozenset({P.REVIEW, P.CANCELLED}),
    P.REVIEW: frozenset({P.VOTING, P.CANCELLED}),
    P.VOTING: frozenset({P.CLOSED, P.CANCELLED}),
    P.CLOSED: frozenset({P.PUBLISHED, P.CANCELLED}),
    P.PUBLISHED: frozenset(),
    P.CANCELLED: frozenset(),
}
MAX_CATEGORIES = 20
# The lifecycle's way forward (cancelled is the way out).
NEXT_PHASE = {P.DRAFT: P.PROPOSALS, P.PROPOSALS: P.REVIEW, P.REVIEW: P.VOTING,
              P.VOTING: P.CLOSED, P.CLOSED: P.PUBLISHED}


class RoundError(ServiceError):
    """A round operation was refused."""


@dataclass
class RoundSettings:
    """Everything a coordinator sets for a round. Times are aware UTC datetimes."""

    title: str
    budget_cents: int
    proposals_open_at: datetime
    proposals_close_at: datetime
    voting_open_at: datetime
    voting_close_at: datetime
    description: str = ""
    time_zone: str = "Europe/Helsinki"
    categories: list[str] = field(default_factory=list)
    voter_eligibility: VoterEligibility = VoterEligibility.RESIDENTS
    ballot_kind: BallotKind = BallotKind.APPROVAL
    approval_min: int | None = 1
    approval_max: int | None = 5
    knapsack_min_spend_percent: int | None = None
    points_total: int | None = None
    points_max_per_proposal: int | None = None
    tally_rule: TallyRule = TallyRule.GREEDY
    paper_conflict_rule: PaperConflictRule = PaperConflictRule.ONLINE_WINS
    resident_check: ResidentCheck = ResidentCheck.ANY
    min_voter_age: int | None = None
    supports_enabled: bool = False
    support_threshold: int | None = None
    # The texts in the languages besides the table's main one, as Round.translations keeps
    # them: {"title": {language: text}, "description": {...}, "categories": {name: {...}}}.
    translations: dict = field(default_factory=dict)

    @classmethod
    def of(cls, round_: Round) -> "RoundSettings":
        """The current settings of a round."""
        return cls(**{name: getattr(round_, name) for name in cls.__dataclass_fields__})


TIME_FIELDS = ("proposals_open_at", "proposals_close_at", "voting_open_at", "voting_close_at")


def _same_minute(first: datetime, second: datetime) -> bool:
    return first.replace(second=0, microsecond=0) == second.replace(second=0, microsecond=0)


def check_settings(
    settings: RoundSettings, now: datetime, previous: RoundSettings | None = None
) -> list[tuple[str, str]]:
    """Problems with ``settings`` as (field, code) pairs; empty when they are sound.

    Times already in the past are refused unless they are unchanged from ``previous``
    (a round whose proposal window is open may keep its start date); a time in the current
    minute counts as now, as forms give times to the minute. Every problem is reported at
    once; a value that is missing (None: a form could not read it) is "required", and the
    checks that compare it with another value are left out.
    """
    problems: list[tuple[str, str]] = []
    if not (settings.title or "").strip():
        problems.append(("title", "required"))
    if settings.budget_cents is None:
        problems.append(("budget", "required"))
    elif settings.budget_cents <= 0:
        problems.append(("budget", "not_positive"))
    this_minute = now.replace(second=0, microsecond=0)
    for name in TIME_FIELDS:
        value = getattr(settings, name)
        unchanged = previous is not None and getattr(previous, name) == value
        if value is None:
            problems.append((name, "required"))
        elif value < this_minute and not unchanged:
            problems.append((name, "in_past"))
    for first, then, name, code, strict in (
        ("proposals_open_at", "proposals_close_at", "proposals_close_at",
         "ends_before_start", True),
        ("proposals_close_at", "voting_open_at", "voting_open_at",
         "voting_before_proposals_end", False),
        ("voting_open_at", "voting_close_at", "voting_close_at", "ends_before_start", True),
    ):
        start, end = getattr(settings, first), getattr(settings, then)
        if start is not None and end is not None and (end <= start if strict else end < start):
            problems.append((name, code))
    if settings.supports_enabled and settings.voter_eligibility is VoterEligibility.CODES:
        problems.append(("supports_enabled", "supports_need_residents"))
    if settings.support_threshold is not None and settings.support_threshold < 1:
        problems.append(("support_threshold", "threshold_not_positive"))
    if len(settings.categories) > MAX_CATEGORIES:
        problems.append(("categories", "too_many"))
    if settings.ballot_kind is BallotKind.APPROVAL:
        problems += _limits(settings, "approval_min", "approval_max", "approval_limits",
                            lambda low, high: low >= 1 and high >= low)
    elif settings.ballot_kind is BallotKind.POINTS:
        problems += _limits(settings, "points_total", "points_max_per_proposal",
                            "points_limits", lambda total, per: 1 <= per <= total)
    elif settings.knapsack_min_spend_percent is not None and not (
        0 <= settings.knapsack_min_spend_percent <= 100
    ):
        problems.append(("knapsack_min_spend_percent", "percent_range"))
    return problems


def _limits(settings: RoundSettings, first: str, second: str, code: str,
            sound) -> list[tuple[str, str]]:
    """The problems of a pair of ballot limits: each one missing, or the pair unsound."""
    values = getattr(settings, first), getattr(settings, second)
    missing = [(name, "required") for name, value in zip((first, second), values, strict=True)
               if value is None]
    if missing:
        return missing
    return [] if sound(*values) else [(second, code)]


def _apply(round_: Round, settings: RoundSettings) -> dict:
    # Settings of other ballot kinds are cleared first, so the stored round says one thing
    # and a form that sends their defaults does not count as a change.
    if settings.ballot_kind is not BallotKind.APPROVAL:
        settings.approval_min = settings.approval_max = None
    if settings.ballot_kind is not BallotKind.POINTS:
        settings.points_total = settings.points_max_per_proposal = None
    if settings.ballot_kind is not BallotKind.KNAPSACK:
        settings.knapsack_min_spend_percent = None
    if not settings.supports_enabled:
        settings.support_threshold = None
    changed = {}
    for name in RoundSettings.__dataclass_fields__:
        value = getattr(settings, name)
        if name == "categories":
            value = list(value)
        elif name == "translations":
            value = dict(value)
        if getattr(round_, name) != value:
            changed[name] = value
        # Set even when equal: on a new round an unset attribute would take its column
        # default (approval limits on a knapsack round, say).
        setattr(round_, name, value)
    return changed


def create_round(actor: User, table: Table, settings: RoundSettings) -> Round:
    """Create a draft round for ``table`` (audited). A retired table takes no new round
    (``table_retired``)."""
    # The table's row as it is now (retiring it holds the row until it commits).
    locked(select(Table).where(Table.id == table.id), share=True)
    if table.retired_at is not None:
        raise RoundError("table_retired")
    problems = check_settings(settings, clock.utcnow())
    if problems:
        raise RoundError("invalid_settings", problems=problems)
    round_ = Round(table=table, phase=RoundPhase.DRAFT)
    _apply(round_, settings)
    db.session.add(round_)
    db.session.flush()
    record_event(actor, "round.created", "round", round_.id, table_id=table.id,
                 details={"title": round_.title, "budget_cents": round_.budget_cents})
    return round_


def check_change(round_: Round, settings: RoundSettings, now: datetime) -> list[tuple[str, str]]:
    """The problems of changing ``round_``'s settings to ``settings`` (see check_settings).
    Forms show times to the minute: a time given back in the same minute is unchanged, and
    is set back to the stored one."""
    previous = RoundSettings.of(round_)
    for name in TIME_FIELDS:
        given, stored = getattr(settings, name), getattr(previous, name)
        if given is not None and stored is not None and _same_minute(given, stored):
            setattr(settings, name, stored)
    problems = check_settings(settings, now, previous=previous)
    # The supports are fixed when review starts: the threshold applied then stays the one
    # the round shows.
    if round_.phase not in (RoundPhase.DRAFT, RoundPhase.PROPOSALS) and (
            settings.supports_enabled != previous.supports_enabled
            or (settings.supports_enabled
                and settings.support_threshold != previous.support_threshold)):
        problems.append(("supports_enabled", "supports_fixed"))
    return problems


def update_round(actor: User, round_: Round, settings: RoundSettings) -> list[str]:
    """Change a round's settings before voting opens (audited); returns the changed names.
    The round is held from the check to the commit, so it cannot open for voting (and its
    settings freeze) in between."""
    hold_round(round_)
    if not round_.phase.settings_editable:
        raise RoundError("settings_frozen")
    problems = check_change(round_, settings, clock.utcnow())
    if problems:
        raise RoundError("invalid_settings", problems=problems)
    changed = _apply(round_, settings)
    db.session.flush()
    if changed:
        record_event(actor, "round.updated", "round", round_.id, table_id=round_.table_id,
                     details={"changed": sorted(changed)})
    return sorted(changed)


def set_translations(actor: User, round_: Round, translations: dict) -> bool:
    """Give ``round_`` its texts in the languages besides its table's main one, as
    ``Round.translations`` keeps them (audited). Allowed in any phase: no vote depends on
    them. Returns whether anything changed."""
    translations = {key: value for key, value in translations.items() if value}
    if (round_.translations or {}) == translations:
        return False
    round_.translations = translations
    db.session.flush()
    record_event(actor, "round.translated", "round", round_.id, table_id=round_.table_id,
                 details={"translated": sorted(translations)})
    return True


def accepted_count(round_: Round) -> int:
    """How many proposals are on the ballot."""
    return db.session.execute(
        select(func.count()).select_from(Proposal).where(
            Proposal.round_id == round_.id, Proposal.status == ProposalStatus.ACCEPTED
        )
    ).scalar_one()


def hold_round(round_: Round) -> None:
    """Lock ``round_`` against every other writer until this transaction ends, and read it
    afresh (PostgreSQL: FOR UPDATE, which waits for the ballots and moderation holding it;
    SQLite: the write lock)."""
    locked(select(Round).where(Round.id == round_.id))


def _set_phase(round_: Round, new: RoundPhase, expected: RoundPhase, extra: dict) -> bool:
    """Move the phase only if nobody else did first (conditional UPDATE); the move stores
    the notices it gives (``notices.plan_phase_notices``: written later, by a job)."""
    result = db.session.execute(
        update(Round)
        .where(Round.id == round_.id, Round.phase == expected)
        .values(phase=new, updated_at=clock.utcnow(), **extra)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(round_)
        return False
    db.session.refresh(round_)
    notices.plan_phase_notices(round_.id, new)
    if new is RoundPhase.REVIEW:
        supports.apply_threshold(round_)
    return True


# Proposals that still wait for a decision: voting opened now would leave them off the ballot.
UNREVIEWED = (ProposalStatus.SUBMITTED, ProposalStatus.CHANGES_REQUESTED)


@dataclass
class BallotReadiness:
    """What voting opened now would put on the ballot, and what it would leave behind."""

    accepted: list[Proposal]
    unreviewed: list[Proposal]


def ballot_readiness(round_: Round) -> BallotReadiness:
    """The round's accepted proposals and those still waiting for review, oldest first."""
    proposals = db.session.execute(
        select(Proposal).where(Proposal.round_id == round_.id,
                               Proposal.status.in_([ProposalStatus.ACCEPTED, *UNREVIEWED]))
        .order_by(Proposal.id)
    ).scalars().all()
    return BallotReadiness(
        accepted=[p for p in proposals if p.status is ProposalStatus.ACCEPTED],
        unreviewed=[p for p in proposals if p.status in UNREVIEWED])


def _unreviewed_count(round_: Round) -> int:
    return db.session.execute(
        select(func.count()).select_from(Proposal).where(
            Proposal.round_id == round_.id, Proposal.status.in_(UNREVIEWED))
    ).scalar_one()


def transition(
    actor: User | None, round_: Round, target: RoundPhase, *, reason: str = "manual",
    leave_unreviewed: bool = False,
) -> None:
    """Move ``round_`` to ``target`` if allowed (audited).

    Moving by hand ahead of the schedule brings the schedule along (opening the round for
    ideas or voting early sets that window's start to now), so dates and phase never
    disagree; a window whose scheduled end has already passed is not opened (the schedule
    must change first). Voting opens by hand with proposals still waiting for review only
    when ``leave_unreviewed`` says so (their number is audited). The round is locked first,
    so the move waits for the ballots and moderation in flight; "now" is read after that, so
    a close by hand records the exact instant after which no ballot was accepted.
    """
    current = round_.phase
    if target not in ALLOWED_TRANSITIONS[current]:
        raise RoundError("transition_not_allowed", current=current.value, target=target.value)
    hold_round(round_)
    if round_.phase is not current:
        raise RoundError("changed_meanwhile")
    if target is RoundPhase.VOTING and accepted_count(round_) == 0:
        raise RoundError("empty_ballot")
    details = {"from": current.value, "to": target.value, "reason": reason}
    now = clock.utcnow()
    extra = {}
    if reason == "manual":
        _check_window_ahead(round_, target, now)
        if target is RoundPhase.VOTING and (waiting := _unreviewed_count(round_)):
            if not leave_unreviewed:
                raise RoundError("unreviewed_proposals", count=waiting)
            details["left_unreviewed"] = waiting
        extra = _schedule_for_manual_move(round_, target, now)
    if not _set_phase(round_, target, current, extra):
        raise RoundError("changed_meanwhile")
    record_event(actor, "round.phase_changed", "round", round_.id, table_id=round_.table_id,
                 details=details)


def _check_window_ahead(round_: Round, target: RoundPhase, now: datetime) -> None:
    """Refuse to open by hand a window whose scheduled end has passed: the schedule would
    close it again at once."""
    ends = {RoundPhase.PROPOSALS: round_.proposals_close_at,
            RoundPhase.VOTING: round_.voting_close_at}.get(target)
    if ends is not None and ends <= now:
        raise RoundError("window_already_over", target=target.value)


def _schedule_for_manual_move(round_: Round, target: RoundPhase, now: datetime) -> dict:
    """The dates a hand move ahead of the schedule brings forward to ``now`` (exact to the
    microsecond, as ballots and ideas are checked against them). A window that had not even started
    is recorded as skipped: it opens one second before it closes, so the database's
    window-order checks keep holding."""
    second = timedelta(seconds=1)
    extra: dict = {}
    if target is RoundPhase.PROPOSALS and round_.proposals_open_at > now:
        extra["proposals_open_at"] = now
    if target in (RoundPhase.REVIEW, RoundPhase.VOTING) and round_.proposals_close_at > now:
        extra["proposals_close_at"] = now
        if round_.proposals_open_at >= now:
            extra["proposals_open_at"] = now - second
    if target is RoundPhase.VOTING and round_.voting_open_at > now:
        extra["voting_open_at"] = now
    if target is RoundPhase.CLOSED and round_.voting_close_at > now:
        # Opened and closed by hand at one instant (a frozen test clock): the window still
        # lasts a microsecond, for the window-order check; no ballot came after the close.
        extra["voting_close_at"] = max(now, round_.voting_open_at + timedelta(microseconds=1))
    return extra


def due_phase(round_: Round, now: datetime) -> RoundPhase:
    """The phase the schedule says ``round_`` should be in at ``now``.

    Drafts stay drafts (a coordinator opens them); cancelled and published are final; a round
    whose ballot is empty does not open for voting (it waits for the coordinator).
    """
    phase = round_.phase
    if not phase.follows_schedule:
        return phase
    if phase is P.PROPOSALS and now >= round_.proposals_close_at:
        phase = P.REVIEW
    if phase is P.REVIEW and now >= round_.voting_open_at:
        if accepted_count(round_) == 0:
            return P.REVIEW
        phase = P.VOTING
    if phase is P.VOTING and now >= round_.voting_close_at:
        phase = P.CLOSED
    return phase


def sync_phase(round_: Round, now: datetime | None = None) -> list[RoundPhase]:
    """Catch ``round_`` up with its schedule; returns the phases it entered (each audited)."""
    now = now or clock.utcnow()
    entered = []
    while (due := due_phase(round_, now)) is not round_.phase:
        current = round_.phase
        step = NEXT_PHASE[current]
        if not _set_phase(round_, step, current, {}):
            continue  # another request moved it; look again
        record_event(None, "round.phase_changed", "round", round_.id, table_id=round_.table_id,
                     details={"from": current.value, "to": step.value, "reason": "schedule"})
        entered.append(step)
        if step is due:
            break
    return entered


def advance_all(now: datetime | None = None) -> dict[int, list[RoundPhase]]:
    """Catch every open round up with its schedule (the cron job)."""
    now = now or clock.utcnow()
    open_rounds = db.session.execute(
        select(Round).where(Round.phase.in_([P.PROPOSALS, P.REVIEW, P.VOTING]))
    ).scalars().all()
    moved = {}
    for round_ in open_rounds:
        entered = sync_phase(round_, now)
        if entered:
            moved[round_.id] = entered
    return moved


def proposal_window_open(round_: Round, now: datetime) -> bool:
    """Whether residents may submit ideas now (server time decides)."""
    return (
        round_.phase is P.PROPOSALS
        and round_.proposals_open_at <= now < round_.proposals_close_at
    )
