"""Rounds: settings checks, the phase lifecycle (by hand and by the schedule), and frozen
settings, in the service and in the database itself."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import JSON, bindparam, func, select, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    BallotKind,
    ProposalStatus,
    Round,
    RoundPhase,
    TallyRule,
    VoterEligibility,
)
from pb_vote.models.base import UTCDateTime
from pb_vote.services.rounds import (
    ALLOWED_TRANSITIONS,
    RoundError,
    RoundSettings,
    advance_all,
    ballot_readiness,
    check_settings,
    create_round,
    proposal_window_open,
    sync_phase,
    transition,
    update_round,
)
from tests import factories

P = RoundPhase
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)
SCHEDULE = ("proposals_open_at", "proposals_close_at", "voting_open_at", "voting_close_at")

# The lifecycle of issue 4, written out independently of the service's table.
EXPECTED_TRANSITIONS = {
    (P.DRAFT, P.PROPOSALS), (P.PROPOSALS, P.REVIEW), (P.REVIEW, P.VOTING),
    (P.VOTING, P.CLOSED), (P.CLOSED, P.PUBLISHED),
    *((phase, P.CANCELLED) for phase in (P.DRAFT, P.PROPOSALS, P.REVIEW, P.VOTING, P.CLOSED)),
}


@pytest.fixture
def world(app_ctx, frozen_clock):
    """factories.city() (``table`` is Keskusta, with its coordinator), the clock frozen at NOW."""
    frozen_clock.set(NOW)
    town = factories.city()
    return SimpleNamespace(clock=frozen_clock, table=town.own, other=town.other,
                           coordinator=town.coordinator)


def a_round(world, phase=P.PROPOSALS, *, accepted=1, at=None, **settings):
    """A round whose schedule fits its phase at NOW, with ``accepted`` proposals on the ballot."""
    row = factories.round_(at or world.table, phase, **settings)
    for number in range(accepted):
        factories.proposal(row, title=f"Accepted {number}", status=ProposalStatus.ACCEPTED)
    return row


def stored(round_, *names):
    """Column values as the database has them (not the session's copy)."""
    columns = [getattr(Round, name) for name in names]
    return tuple(db.session.execute(select(*columns).where(Round.id == round_.id)).one())


def phase_events(round_=None):
    """The round.phase_changed events, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == "round.phase_changed")
    if round_ is not None:
        query = query.where(AuditEvent.object_id == str(round_.id))
    return db.session.execute(query.order_by(AuditEvent.id)).scalars().all()


def event_count() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


# --- The transition matrix ---------------------------------------------------------------

def test_the_service_allows_exactly_the_lifecycle_of_the_issue():
    allowed = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert allowed == EXPECTED_TRANSITIONS
    assert set(ALLOWED_TRANSITIONS) == set(RoundPhase)


@pytest.mark.parametrize("source", list(RoundPhase))
def test_every_transition_is_allowed_or_refused(world, source):
    """Every (source, target) pair: allowed ones move and are audited with from, to and reason;
    refused ones raise transition_not_allowed and change nothing."""
    for target in RoundPhase:
        round_ = a_round(world, source)
        before = stored(round_, "phase", "updated_at", *SCHEDULE)
        events_before = event_count()
        if (source, target) in EXPECTED_TRANSITIONS:
            transition(world.coordinator, round_, target)
            assert round_.phase is target
            assert stored(round_, "phase") == (target,), (source, target)
            event = phase_events(round_)[-1]
            assert event.details == {"from": source.value, "to": target.value,
                                     "reason": "manual"}
            assert (event.actor_id, event.actor_role, event.table_id, event.object_type) == (
                world.coordinator.id, "coordinator", world.table.id, "round")
            assert event_count() == events_before + 1
        else:
            with pytest.raises(RoundError) as refused:
                transition(world.coordinator, round_, target)
            assert refused.value.code == "transition_not_allowed", (source, target)
            assert refused.value.details == {"current": source.value, "target": target.value}
            assert round_.phase is source
            assert stored(round_, "phase", "updated_at", *SCHEDULE) == before
            assert event_count() == events_before


def test_a_reason_is_recorded_with_the_transition(world):
    round_ = a_round(world, P.VOTING)
    transition(world.coordinator, round_, P.CANCELLED, reason="venue burned down")
    assert phase_events(round_)[-1].details == {
        "from": "voting", "to": "cancelled", "reason": "venue burned down"}


@pytest.mark.parametrize(
    "statuses",
    [(), (ProposalStatus.SUBMITTED,),
     (ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN, ProposalStatus.HIDDEN)],
)
def test_voting_does_not_open_on_an_empty_ballot(world, statuses):
    round_ = a_round(world, P.REVIEW, accepted=0)
    for status in statuses:
        factories.proposal(round_, status=status)
    before = stored(round_, "phase", "voting_open_at", "proposals_close_at")
    with pytest.raises(RoundError) as refused:
        transition(world.coordinator, round_, P.VOTING)
    assert refused.value.code == "empty_ballot"
    assert stored(round_, "phase", "voting_open_at", "proposals_close_at") == before
    assert phase_events(round_) == []


def test_a_stale_round_is_not_moved_twice(world):
    """Two coordinators click at once: the second one's copy is stale; the conditional update
    refuses it instead of auditing a move that did not happen."""
    round_ = a_round(world, P.PROPOSALS)
    db.session.execute(text("UPDATE rounds SET phase = 'review' WHERE id = :id"),
                       {"id": round_.id})
    assert round_.phase is P.PROPOSALS  # the session still has the old copy
    with pytest.raises(RoundError) as refused:
        transition(world.coordinator, round_, P.REVIEW)
    assert refused.value.code == "changed_meanwhile"
    assert round_.phase is P.REVIEW
    assert phase_events(round_) == []


# --- Moving by hand ahead of the schedule -------------------------------------------------

def test_closing_the_proposal_window_early_sets_its_end_to_now(world):
    round_ = a_round(world, P.PROPOSALS)
    voting_open_at = round_.voting_open_at
    assert round_.proposals_close_at > NOW
    transition(world.coordinator, round_, P.REVIEW)
    assert stored(round_, "phase", "proposals_close_at", "voting_open_at") == (
        P.REVIEW, NOW, voting_open_at)


def test_opening_voting_early_sets_its_start_to_now(world):
    round_ = a_round(world, P.REVIEW)
    proposals_close_at, voting_close_at = round_.proposals_close_at, round_.voting_close_at
    assert proposals_close_at < NOW < round_.voting_open_at
    transition(world.coordinator, round_, P.VOTING)
    assert stored(round_, "phase", "proposals_close_at", "voting_open_at",
                  "voting_close_at") == (P.VOTING, proposals_close_at, NOW, voting_close_at)


def test_opening_voting_straight_after_proposals_closes_both_windows_now(world):
    round_ = a_round(world, P.PROPOSALS)
    transition(world.coordinator, round_, P.REVIEW)
    world.clock.advance(minutes=5)
    transition(world.coordinator, round_, P.VOTING)
    assert stored(round_, "proposals_close_at", "voting_open_at") == (
        NOW, NOW + timedelta(minutes=5))


def test_closing_voting_early_sets_its_end_to_now(world):
    round_ = a_round(world, P.VOTING)
    voting_open_at = round_.voting_open_at
    # Exact to the microsecond, as ballots are checked: rounded down to the second, the
    # close would be recorded before ballots it accepted.
    world.clock.advance(hours=2, microseconds=250)
    transition(world.coordinator, round_, P.CLOSED)
    assert stored(round_, "phase", "voting_open_at", "voting_close_at") == (
        P.CLOSED, voting_open_at, NOW + timedelta(hours=2, microseconds=250))


@pytest.mark.parametrize(
    ("source", "target", "column"),
    [(P.PROPOSALS, P.REVIEW, "proposals_close_at"),
     (P.REVIEW, P.VOTING, "voting_open_at"),
     (P.VOTING, P.CLOSED, "voting_close_at")],
)
def test_moving_after_the_scheduled_time_keeps_the_schedule(world, source, target, column):
    round_ = a_round(world, source)
    scheduled = getattr(round_, column)
    world.clock.set(scheduled + DAY)  # overdue: nobody synced the round yet
    transition(world.coordinator, round_, target)
    assert stored(round_, "phase", column) == (target, scheduled)


def test_cancelling_keeps_the_schedule(world):
    round_ = a_round(world, P.PROPOSALS)
    before = stored(round_, *SCHEDULE)
    transition(world.coordinator, round_, P.CANCELLED)
    assert stored(round_, *SCHEDULE) == before


def test_skipping_a_proposal_window_that_has_not_started(world):
    round_ = a_round(world, P.DRAFT)  # proposals open in ten days
    transition(world.coordinator, round_, P.PROPOSALS)
    transition(world.coordinator, round_, P.REVIEW)
    opened, closed = stored(round_, "proposals_open_at", "proposals_close_at")
    assert round_.phase is P.REVIEW
    assert opened < closed <= NOW


def test_opening_a_draft_early_opens_its_idea_window_now(world):
    """A draft opened by hand takes ideas at once: its window's start comes to now."""
    round_ = a_round(world, P.DRAFT)  # proposals open in ten days
    close = round_.proposals_close_at
    transition(world.coordinator, round_, P.PROPOSALS)
    assert stored(round_, "phase", "proposals_open_at", "proposals_close_at") == (
        P.PROPOSALS, NOW, close)
    assert proposal_window_open(round_, NOW)


def test_opening_a_draft_late_keeps_its_start(world):
    round_ = a_round(world, P.DRAFT, proposals_open_at=NOW - DAY)
    transition(world.coordinator, round_, P.PROPOSALS)
    assert stored(round_, "proposals_open_at") == (NOW - DAY,)


@pytest.mark.parametrize(
    ("source", "target", "settings"),
    [(P.DRAFT, P.PROPOSALS, {"proposals_open_at": NOW - 3 * DAY,
                             "proposals_close_at": NOW - DAY}),
     # An empty ballot kept it in review past its voting window (see due_phase).
     (P.REVIEW, P.VOTING, {"voting_open_at": NOW - 2 * DAY, "voting_close_at": NOW})],
)
def test_a_window_whose_end_has_passed_is_not_opened_by_hand(world, source, target, settings):
    round_ = a_round(world, source, **settings)
    before = stored(round_, "phase", *SCHEDULE)
    with pytest.raises(RoundError) as refused:
        transition(world.coordinator, round_, target)
    assert refused.value.code == "window_already_over"
    assert refused.value.details == {"target": target.value}
    assert stored(round_, "phase", *SCHEDULE) == before
    assert phase_events(round_) == []


@pytest.mark.parametrize("waiting", [ProposalStatus.SUBMITTED, ProposalStatus.CHANGES_REQUESTED])
def test_voting_opens_with_unreviewed_proposals_only_when_told(world, waiting):
    round_ = a_round(world, P.REVIEW, accepted=2)
    factories.proposal(round_, title="Still waiting", status=waiting)
    factories.proposal(round_, title="Rejected", status=ProposalStatus.REJECTED)
    with pytest.raises(RoundError) as refused:
        transition(world.coordinator, round_, P.VOTING)
    assert refused.value.code == "unreviewed_proposals"
    assert refused.value.details == {"count": 1}
    assert stored(round_, "phase") == (P.REVIEW,) and phase_events(round_) == []
    transition(world.coordinator, round_, P.VOTING, leave_unreviewed=True)
    assert stored(round_, "phase") == (P.VOTING,)
    assert phase_events(round_)[-1].details == {
        "from": "review", "to": "voting", "reason": "manual", "left_unreviewed": 1}


def test_ballot_readiness_lists_the_ballot_and_what_waits(world):
    round_ = a_round(world, P.REVIEW, accepted=2)
    waiting = [factories.proposal(round_, title="Submitted"),
               factories.proposal(round_, title="Changes asked",
                                  status=ProposalStatus.CHANGES_REQUESTED)]
    for status in (ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN, ProposalStatus.HIDDEN):
        factories.proposal(round_, status=status)
    readiness = ballot_readiness(round_)
    assert [p.title for p in readiness.accepted] == ["Accepted 0", "Accepted 1"]
    assert readiness.unreviewed == waiting


def test_voting_opened_and_closed_by_hand_in_the_same_second(world):
    round_ = a_round(world, P.REVIEW)
    transition(world.coordinator, round_, P.VOTING)
    transition(world.coordinator, round_, P.CLOSED)
    assert round_.phase is P.CLOSED


# --- Moving by the schedule ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("phase", "boundary", "following"),
    [(P.PROPOSALS, "proposals_close_at", P.REVIEW),
     (P.REVIEW, "voting_open_at", P.VOTING),
     (P.VOTING, "voting_close_at", P.CLOSED)],
)
def test_the_schedule_moves_a_round_at_the_second(world, phase, boundary, following):
    round_ = a_round(world, phase)
    at = getattr(round_, boundary)
    world.clock.set(at - SECOND)
    assert sync_phase(round_) == []
    assert stored(round_, "phase") == (phase,)
    world.clock.set(at)
    assert sync_phase(round_) == [following]
    assert stored(round_, "phase") == (following,)
    assert sync_phase(round_) == []  # nothing more is due
    [event] = phase_events(round_)
    assert event.details == {"from": phase.value, "to": following.value, "reason": "schedule"}
    assert (event.actor_id, event.actor_role, event.table_id) == (None, "system", world.table.id)


def test_the_schedule_does_not_touch_the_dates(world):
    round_ = a_round(world, P.PROPOSALS)
    before = stored(round_, *SCHEDULE)
    world.clock.set(round_.voting_close_at + DAY)
    sync_phase(round_)
    assert stored(round_, *SCHEDULE) == before


def test_a_late_sync_catches_up_several_steps(world):
    round_ = a_round(world, P.PROPOSALS)
    world.clock.set(round_.voting_close_at + 3 * DAY)
    assert sync_phase(round_) == [P.REVIEW, P.VOTING, P.CLOSED]
    assert round_.phase is P.CLOSED
    assert [(e.details["from"], e.details["to"], e.details["reason"], e.actor_role)
            for e in phase_events(round_)] == [
        ("proposals", "review", "schedule", "system"),
        ("review", "voting", "schedule", "system"),
        ("voting", "closed", "schedule", "system"),
    ]


def test_catching_up_stops_where_the_schedule_is(world):
    round_ = a_round(world, P.PROPOSALS)
    world.clock.set(round_.voting_open_at + SECOND)
    assert sync_phase(round_) == [P.REVIEW, P.VOTING]
    assert stored(round_, "phase") == (P.VOTING,)


def test_the_schedule_does_not_open_voting_on_an_empty_ballot(world):
    round_ = a_round(world, P.PROPOSALS, accepted=0)
    pending = factories.proposal(round_, status=ProposalStatus.SUBMITTED)
    world.clock.set(round_.voting_close_at + DAY)
    assert sync_phase(round_) == [P.REVIEW]
    assert sync_phase(round_) == []  # waits in review for the coordinator, even past its end
    assert stored(round_, "phase") == (P.REVIEW,)
    pending.status, pending.reviewed_cost_cents = ProposalStatus.ACCEPTED, 1000
    db.session.flush()
    assert sync_phase(round_) == [P.VOTING, P.CLOSED]


@pytest.mark.parametrize("phase", [P.DRAFT, P.CLOSED, P.PUBLISHED, P.CANCELLED])
def test_the_schedule_never_moves_drafts_or_finished_rounds(world, phase):
    round_ = a_round(world, phase)
    world.clock.set(NOW + 400 * DAY)
    assert sync_phase(round_) == []
    assert advance_all() == {}
    assert stored(round_, "phase") == (phase,)
    assert phase_events() == []


def test_a_sync_that_lost_the_race_audits_nothing(world):
    round_ = a_round(world, P.PROPOSALS)
    db.session.execute(text("UPDATE rounds SET phase = 'review' WHERE id = :id"),
                       {"id": round_.id})
    world.clock.set(round_.proposals_close_at)
    assert sync_phase(round_) == []
    assert round_.phase is P.REVIEW
    assert phase_events() == []


def test_advance_all_moves_every_open_round(world):
    rounds = {
        "proposals": a_round(world, P.PROPOSALS),  # proposals close at NOW + 25 days
        "review": a_round(world, P.REVIEW, at=world.other),  # voting: NOW + 9 to + 23 days
        "voting": a_round(world, P.VOTING),  # voting closes at NOW + 8 days
        "empty review": a_round(world, P.REVIEW, accepted=0),
        "draft": a_round(world, P.DRAFT),
        "closed": a_round(world, P.CLOSED),
        "cancelled": a_round(world, P.CANCELLED),
    }
    world.clock.set(NOW + 30 * DAY)
    assert advance_all() == {
        rounds["proposals"].id: [P.REVIEW],
        rounds["review"].id: [P.VOTING, P.CLOSED],
        rounds["voting"].id: [P.CLOSED],
    }
    assert {name: stored(round_, "phase")[0] for name, round_ in rounds.items()} == {
        "proposals": P.REVIEW, "review": P.CLOSED, "voting": P.CLOSED,
        "empty review": P.REVIEW, "draft": P.DRAFT, "closed": P.CLOSED,
        "cancelled": P.CANCELLED,
    }
    assert len(phase_events()) == 4
    assert {e.actor_role for e in phase_events()} == {"system"}
    assert advance_all() == {}


# --- Checking settings ----------------------------------------------------------------------

def settings(**changes) -> RoundSettings:
    """Sound settings for a round that starts tomorrow, with ``changes``."""
    base = RoundSettings(
        title="Round 2027",
        budget_cents=10_000_000,
        proposals_open_at=NOW + DAY,
        proposals_close_at=NOW + 31 * DAY,
        voting_open_at=NOW + 45 * DAY,
        voting_close_at=NOW + 59 * DAY,
        categories=["Parks", "Sports"],
    )
    return replace(base, **changes)


POINTS = {"ballot_kind": BallotKind.POINTS, "points_total": 10, "points_max_per_proposal": 3}
KNAPSACK = {"ballot_kind": BallotKind.KNAPSACK}
APPROVAL_LIMITS = [("approval_max", "approval_limits")]
POINTS_LIMITS = [("points_max_per_proposal", "points_limits")]
PERCENT_RANGE = [("knapsack_min_spend_percent", "percent_range")]

SETTINGS_CASES = [
    ("sound", {}, []),
    ("empty title", {"title": ""}, [("title", "required")]),
    ("blank title", {"title": " \t "}, [("title", "required")]),
    ("zero budget", {"budget_cents": 0}, [("budget", "not_positive")]),
    ("negative budget", {"budget_cents": -500}, [("budget", "not_positive")]),
    ("one cent", {"budget_cents": 1}, []),
    ("opens a second ago", {"proposals_open_at": NOW - SECOND},
     [("proposals_open_at", "in_past")]),
    ("opens now", {"proposals_open_at": NOW}, []),
    ("all in the past",
     {name: getattr(settings(), name) - 100 * DAY for name in SCHEDULE},
     [(name, "in_past") for name in SCHEDULE]),
    ("proposal window of no length", {"proposals_close_at": NOW + DAY},
     [("proposals_close_at", "ends_before_start")]),
    ("proposal window backwards", {"proposals_open_at": NOW + 2 * DAY,
                                   "proposals_close_at": NOW + DAY},
     [("proposals_close_at", "ends_before_start")]),
    ("voting before proposals end", {"voting_open_at": NOW + 31 * DAY - SECOND},
     [("voting_open_at", "voting_before_proposals_end")]),
    ("voting as proposals end", {"voting_open_at": NOW + 31 * DAY}, []),
    ("voting window of no length", {"voting_close_at": NOW + 45 * DAY},
     [("voting_close_at", "ends_before_start")]),
    ("voting window backwards", {"voting_close_at": NOW + 44 * DAY},
     [("voting_close_at", "ends_before_start")]),
    ("approval min zero", {"approval_min": 0}, APPROVAL_LIMITS),
    ("approval max below min", {"approval_min": 3, "approval_max": 2}, APPROVAL_LIMITS),
    ("approval max zero", {"approval_min": 1, "approval_max": 0}, APPROVAL_LIMITS),
    ("approval min missing", {"approval_min": None}, [("approval_min", "required")]),
    ("approval max missing", {"approval_max": None}, [("approval_max", "required")]),
    ("approval of exactly two", {"approval_min": 2, "approval_max": 2}, []),
    ("points", POINTS, []),
    ("points all on one", {**POINTS, "points_max_per_proposal": 10}, []),
    ("points per proposal above total", {**POINTS, "points_max_per_proposal": 11},
     POINTS_LIMITS),
    ("points per proposal zero", {**POINTS, "points_max_per_proposal": 0}, POINTS_LIMITS),
    ("points total zero", {**POINTS, "points_total": 0, "points_max_per_proposal": 0},
     POINTS_LIMITS),
    ("points total missing", {**POINTS, "points_total": None}, [("points_total", "required")]),
    ("points per proposal missing", {**POINTS, "points_max_per_proposal": None},
     [("points_max_per_proposal", "required")]),
    ("points ignore approval limits", {**POINTS, "approval_min": 0}, []),
    ("knapsack without minimum", {**KNAPSACK, "knapsack_min_spend_percent": None}, []),
    ("knapsack 0 %", {**KNAPSACK, "knapsack_min_spend_percent": 0}, []),
    ("knapsack 100 %", {**KNAPSACK, "knapsack_min_spend_percent": 100}, []),
    ("knapsack -1 %", {**KNAPSACK, "knapsack_min_spend_percent": -1}, PERCENT_RANGE),
    ("knapsack 101 %", {**KNAPSACK, "knapsack_min_spend_percent": 101}, PERCENT_RANGE),
    ("knapsack ignores approval limits", {**KNAPSACK, "approval_max": None}, []),
    ("20 categories", {"categories": [f"C{n}" for n in range(20)]}, []),
    ("21 categories", {"categories": [f"C{n}" for n in range(21)]},
     [("categories", "too_many")]),
    ("several problems", {"title": "", "budget_cents": 0, "voting_close_at": NOW + 45 * DAY},
     [("title", "required"), ("budget", "not_positive"),
      ("voting_close_at", "ends_before_start")]),
    # What a form could not read is None: required, and left out of the comparisons, so the
    # other problems are still all reported at once.
    ("nothing readable", {"title": None, "budget_cents": None, "proposals_open_at": None,
                          "voting_open_at": None, "approval_min": None, "approval_max": None,
                          "voting_close_at": NOW - DAY},
     [("title", "required"), ("budget", "required"), ("proposals_open_at", "required"),
      ("voting_open_at", "required"), ("voting_close_at", "in_past"),
      ("approval_min", "required"), ("approval_max", "required")]),
]


@pytest.mark.parametrize(("changes", "expected"), [case[1:] for case in SETTINGS_CASES],
                         ids=[case[0] for case in SETTINGS_CASES])
def test_check_settings(changes, expected):
    assert sorted(check_settings(settings(**changes), NOW)) == sorted(expected)


def test_a_time_earlier_in_the_current_minute_counts_as_now():
    """Forms give times to the minute: the minute being lived is not yet past."""
    assert check_settings(settings(proposals_open_at=NOW), NOW + 59 * SECOND) == []
    assert check_settings(settings(proposals_open_at=NOW), NOW + 60 * SECOND) == [
        ("proposals_open_at", "in_past")]


def test_unchanged_past_dates_of_an_existing_round_are_accepted():
    running = settings(proposals_open_at=NOW - 10 * DAY)
    assert check_settings(running, NOW) == [("proposals_open_at", "in_past")]
    assert check_settings(running, NOW, previous=running) == []
    moved = replace(running, proposals_open_at=NOW - 9 * DAY)
    assert check_settings(moved, NOW, previous=running) == [("proposals_open_at", "in_past")]
    over = settings(**{name: getattr(running, name) - 100 * DAY for name in SCHEDULE})
    assert check_settings(over, NOW, previous=over) == []


# --- Creating and updating rounds -----------------------------------------------------------

def round_count() -> int:
    return db.session.execute(select(func.count()).select_from(Round)).scalar_one()


def test_create_round_makes_an_audited_draft(world):
    wanted = settings(description="For the centre.", categories=["Parks"],
                      voter_eligibility=VoterEligibility.BOTH, tally_rule=TallyRule.MES)
    round_ = create_round(world.coordinator, world.table, wanted)
    assert round_.id is not None
    assert (round_.phase, round_.table_id) == (P.DRAFT, world.table.id)
    assert RoundSettings.of(round_) == wanted
    db.session.expire_all()
    assert RoundSettings.of(db.session.get(Round, round_.id)) == wanted
    [event] = db.session.execute(select(AuditEvent)).scalars().all()
    assert (event.action, event.object_type, event.object_id) == (
        "round.created", "round", str(round_.id))
    assert (event.actor_id, event.actor_role, event.table_id) == (
        world.coordinator.id, "coordinator", world.table.id)
    assert event.details == {"title": "Round 2027", "budget_cents": 10_000_000}


@pytest.mark.parametrize("kind", [KNAPSACK, POINTS], ids=["knapsack", "points"])
def test_create_round_stores_only_the_settings_of_its_ballot_kind(world, kind):
    round_ = create_round(world.coordinator, world.table,
                          settings(**kind, knapsack_min_spend_percent=80))
    expected = {
        "knapsack": (None, None, 80, None, None),
        "points": (None, None, None, 10, 3),
    }[round_.ballot_kind.value]
    assert stored(round_, "approval_min", "approval_max", "knapsack_min_spend_percent",
                  "points_total", "points_max_per_proposal") == expected


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(KNAPSACK, (80, None, None)), (POINTS, (None, 10, 3))],
    ids=["knapsack", "points"],
)
def test_update_round_clears_the_settings_of_other_ballot_kinds(world, kind, expected):
    round_ = a_round(world, P.DRAFT)
    update_round(world.coordinator, round_, settings(**kind, knapsack_min_spend_percent=80))
    assert stored(round_, "approval_min", "approval_max", "knapsack_min_spend_percent",
                  "points_total", "points_max_per_proposal") == (None, None, *expected)


@pytest.mark.parametrize(
    "changes",
    [{"title": ""}, {"budget_cents": 0}, {"proposals_open_at": NOW - DAY},
     {"ballot_kind": BallotKind.POINTS}],
    ids=["title", "budget", "past", "points without limits"],
)
def test_create_round_refuses_bad_settings_and_saves_nothing(world, changes):
    with pytest.raises(RoundError) as refused:
        create_round(world.coordinator, world.table, settings(**changes))
    assert refused.value.code == "invalid_settings"
    assert refused.value.details["problems"] == check_settings(settings(**changes), NOW)
    assert (round_count(), event_count()) == (0, 0)


@pytest.mark.parametrize("phase", [P.DRAFT, P.PROPOSALS, P.REVIEW])
def test_update_round_before_voting(world, phase):
    round_ = a_round(world, phase)
    wanted = replace(RoundSettings.of(round_), title="Renamed", budget_cents=7_000_000,
                     categories=["Parks", "Play"])
    assert update_round(world.coordinator, round_, wanted) == [
        "budget_cents", "categories", "title"]
    db.session.expire_all()
    assert RoundSettings.of(db.session.get(Round, round_.id)) == wanted
    [event] = db.session.execute(select(AuditEvent)).scalars().all()
    assert (event.action, event.object_id, event.actor_role) == (
        "round.updated", str(round_.id), "coordinator")
    assert event.details == {"changed": ["budget_cents", "categories", "title"]}


def test_update_round_without_changes_is_not_audited(world):
    round_ = a_round(world, P.PROPOSALS)
    assert update_round(world.coordinator, round_, RoundSettings.of(round_)) == []
    assert event_count() == 0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [({"title": "  "}, ("title", "required")),
     ({"budget_cents": -1}, ("budget", "not_positive")),
     ({"proposals_open_at": NOW - 4 * DAY}, ("proposals_open_at", "in_past")),
     ({"voting_open_at": NOW + 20 * DAY}, ("voting_open_at", "voting_before_proposals_end"))],
    ids=["title", "budget", "moved into the past", "order"],
)
def test_update_round_refuses_bad_settings_and_saves_nothing(world, changes, problem):
    round_ = a_round(world, P.PROPOSALS)  # opened five days ago
    before = RoundSettings.of(round_)
    with pytest.raises(RoundError) as refused:
        update_round(world.coordinator, round_, replace(before, **changes))
    assert refused.value.code == "invalid_settings"
    assert refused.value.details["problems"] == [problem]
    db.session.expire_all()
    assert RoundSettings.of(db.session.get(Round, round_.id)) == before
    assert event_count() == 0


@pytest.mark.parametrize("phase", [P.VOTING, P.CLOSED, P.PUBLISHED, P.CANCELLED])
def test_update_round_refuses_once_voting_has_opened(world, phase):
    round_ = a_round(world, phase)
    before = RoundSettings.of(round_)
    with pytest.raises(RoundError) as refused:
        update_round(world.coordinator, round_, replace(before, title="Too late"))
    assert refused.value.code == "settings_frozen"
    db.session.expire_all()
    assert RoundSettings.of(db.session.get(Round, round_.id)) == before
    assert event_count() == 0


def test_update_round_reports_only_real_changes_for_other_ballot_kinds(world):
    round_ = a_round(world, P.DRAFT, **KNAPSACK)
    defaults = RoundSettings(**dict.fromkeys(SCHEDULE), title="", budget_cents=0)
    form = replace(RoundSettings.of(round_), approval_min=defaults.approval_min,
                   approval_max=defaults.approval_max)  # as a form builds them: 1 and 5
    update_round(world.coordinator, round_, form)
    assert stored(round_, "approval_min", "approval_max") == (None, None)
    events = event_count()
    assert update_round(world.coordinator, round_, form) == []  # the same form saved again
    assert event_count() == events


# --- The database freezes settings once voting has opened -----------------------------------

def frozen_changes(round_) -> dict:
    """A valid new value for every setting that freezes when voting opens."""
    return {
        "budget_cents": 12_345,
        "currency": "SEK",
        "voter_eligibility": "codes",
        "ballot_kind": "knapsack",
        "approval_min": 2,
        "approval_max": 7,
        "knapsack_min_spend_percent": 50,
        "points_total": 10,
        "points_max_per_proposal": 3,
        "tally_rule": "mes",
        "categories": ["Only this one"],
        "voting_open_at": round_.voting_open_at + timedelta(hours=1),
    }


def raw_update(round_, **values) -> None:
    """UPDATE rounds with plain SQL, as anything bypassing the service would."""
    types = {"categories": JSON(), "voting_open_at": UTCDateTime(),
             "voting_close_at": UTCDateTime()}
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    statement = text(f"UPDATE rounds SET {assignments} WHERE id = :round_id").bindparams(
        *(bindparam(name, type_=types[name]) for name in values if name in types))
    db.session.execute(statement, {**values, "round_id": round_.id})


@pytest.mark.parametrize("phase", [P.VOTING, P.CLOSED, P.PUBLISHED])
def test_the_database_refuses_a_settings_change_once_voting_has_opened(world, phase):
    round_ = a_round(world, phase)
    changes = frozen_changes(round_)
    db.session.commit()
    before = stored(round_, *changes)
    accepted = []
    for column, value in changes.items():
        try:
            raw_update(round_, **{column: value})
        except DatabaseError as error:
            assert "frozen" in str(error), column
        else:
            accepted.append(column)
        db.session.rollback()
    assert accepted == []
    assert stored(round_, *changes) == before


def test_the_database_refuses_a_change_made_through_the_orm(world):
    round_ = a_round(world, P.VOTING)
    db.session.commit()
    round_.budget_cents += 100
    with pytest.raises(DatabaseError, match="frozen"):
        db.session.flush()
    db.session.rollback()
    assert stored(round_, "budget_cents") == (10_000_000,)


@pytest.mark.parametrize("phase", [P.DRAFT, P.PROPOSALS, P.REVIEW])
def test_the_database_accepts_settings_changes_before_voting(world, phase):
    round_ = a_round(world, phase)
    changes = frozen_changes(round_)
    db.session.commit()
    raw_update(round_, **changes)
    db.session.commit()
    assert stored(round_, *changes) == (
        12_345, "SEK", VoterEligibility.CODES, BallotKind.KNAPSACK, 2, 7, 50, 10, 3,
        TallyRule.MES, ["Only this one"], changes["voting_open_at"])


def test_the_database_lets_a_voting_round_close_early_and_move_on(world):
    round_ = a_round(world, P.VOTING)
    db.session.commit()
    raw_update(round_, voting_close_at=NOW)
    raw_update(round_, voting_close_at=NOW + 2 * DAY)  # or be extended
    db.session.execute(text("UPDATE rounds SET phase = 'closed' WHERE id = :id"),
                       {"id": round_.id})
    db.session.commit()
    db.session.execute(text("UPDATE rounds SET phase = 'published' WHERE id = :id"),
                       {"id": round_.id})
    db.session.commit()
    assert stored(round_, "phase", "voting_close_at") == (P.PUBLISHED, NOW + 2 * DAY)


@pytest.mark.parametrize(("source", "target"),
                         [(P.VOTING, P.CLOSED), (P.VOTING, P.CANCELLED),
                          (P.CLOSED, P.PUBLISHED), (P.CLOSED, P.CANCELLED)])
def test_transitions_of_a_frozen_round_pass_the_trigger(world, source, target):
    round_ = a_round(world, source)
    db.session.commit()
    transition(world.coordinator, round_, target)
    db.session.commit()
    assert stored(round_, "phase") == (target,)
