"""Two requests at once, one step at a time: every staff action decides from the latest state
(a conditional update, or a lock taken before reading), so the later of two is refused in
words or waits its turn, and none fails. tests/attack/test_races.py runs the same races
over real HTTP against gunicorn."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    Participation,
    Proposal,
    ProposalStatus,
    Round,
    RoundPhase,
    User,
)
from pb_vote.services import accounts, rate_limits
from pb_vote.services.audit import record_event, verify_chain
from pb_vote.services.proposals import ProposalError, accept, hide, merge, reject
from pb_vote.services.rounds import RoundError, transition
from tests import factories

S = ProposalStatus
HOLD = 0.5  # how long the first of two keeps its transaction open, in seconds


@pytest.fixture
def world(app):
    """Keskusta with its staff, and a round taking ideas with three submitted proposals;
    committed, so each thread of a test sees it."""
    with app.app_context():
        city = factories.city()
        round_ = factories.round_(city.own, RoundPhase.PROPOSALS)
        ids = [factories.proposal(round_, title=f"Idea {n}").id for n in range(3)]
        db.session.commit()
        return {"round": round_.id, "proposals": ids, "member": city.member.id,
                "coordinator": city.coordinator.id}


def elsewhere(app, statement: str, **values) -> None:
    """What another request commits meanwhile, on a connection of its own."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement), values)


def status_of(app, proposal_id: int) -> tuple:
    with app.app_context():
        row = db.session.get(Proposal, proposal_id)
        return row.status, row.merged_into_id


def events(app, action: str) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action)).scalar_one()


# --- Moderation: a conditional update on the status it was decided from --------------------

ACTIONS = {
    "accept": lambda member, p, other: accept(member, p, 400_000),
    "reject": lambda member, p, other: reject(member, p, "Not feasible."),
    "hide": lambda member, p, other: hide(member, p, "Abusive."),
    "merge it away": lambda member, p, other: merge(member, [p], other),
    "merge into it": lambda member, p, other: merge(member, [other], p),
}


@pytest.mark.parametrize("action", ACTIONS)
def test_a_moderation_decided_from_a_status_that_moved_meanwhile_does_nothing(app, world,
                                                                              action):
    first, other = world["proposals"][:2]
    with app.app_context():
        proposal, survivor = db.session.get(Proposal, first), db.session.get(Proposal, other)
        member = db.session.get(User, world["member"])
        assert proposal.status is S.SUBMITTED  # what this moderator saw
        elsewhere(app, "UPDATE proposals SET status = 'hidden', hidden_reason = 'Spam.' "
                       "WHERE id = :id", id=first)
        with pytest.raises(ProposalError) as refused:
            ACTIONS[action](member, proposal, survivor)
        assert refused.value.code == "acted_meanwhile"
        db.session.rollback()
    assert status_of(app, first) == (S.HIDDEN, None)
    assert status_of(app, other) == (S.SUBMITTED, None)
    assert events(app, "proposal.merged") == 0


# The page shows the status of the proposal acted on (for a merge, the survivor's).
FROM_THE_PAGE = {
    "accept": lambda member, p, other: accept(member, p, 400_000, seen=S.SUBMITTED),
    "reject": lambda member, p, other: reject(member, p, "Not feasible.", seen=S.SUBMITTED),
    "hide": lambda member, p, other: hide(member, p, "Abusive.", seen=S.SUBMITTED),
    "merge into it": lambda member, p, other: merge(member, [other], p, seen=S.SUBMITTED),
}


@pytest.mark.parametrize("action", FROM_THE_PAGE)
def test_a_moderation_decided_from_a_page_that_showed_another_status_does_nothing(
        app, world, action):
    """The proposal was accepted after the moderator's page showed it submitted, even before
    this request read it: the action is still refused, not done over the acceptance."""
    first, other = world["proposals"][:2]
    elsewhere(app, "UPDATE proposals SET status = 'accepted', reviewed_cost_cents = 1000 "
                   "WHERE id = :id", id=first)
    with app.app_context():
        proposal, survivor = db.session.get(Proposal, first), db.session.get(Proposal, other)
        member = db.session.get(User, world["member"])
        with pytest.raises(ProposalError) as refused:
            FROM_THE_PAGE[action](member, proposal, survivor)
        assert refused.value.code == "acted_meanwhile"
        db.session.rollback()
    assert status_of(app, first) == (S.ACCEPTED, None)
    assert status_of(app, other) == (S.SUBMITTED, None)


def test_hide_and_merge_at_once_leave_the_proposal_hidden_or_merged_never_both(app, world):
    """The merge reads the proposal while the hide is in flight; it then waits for the hide
    (the row lock on PostgreSQL, the write lock on SQLite) and finds it changed."""
    duplicate, survivor = world["proposals"][:2]
    hidden = threading.Event()

    def hide_first():
        with app.app_context():
            hide(db.session.get(User, world["member"]),
                 db.session.get(Proposal, duplicate), "Abusive.")
            hidden.set()
            time.sleep(HOLD)
            db.session.commit()

    def merge_meanwhile():
        with app.app_context():
            member = db.session.get(User, world["member"])
            seen = db.session.get(Proposal, duplicate)
            target = db.session.get(Proposal, survivor)
            assert seen.status is S.SUBMITTED
            hidden.wait(10)
            try:
                merge(member, [seen], target)
            except ProposalError as refused:
                db.session.rollback()
                return refused.code
            db.session.commit()
            return "merged"

    with ThreadPoolExecutor(2) as pool:
        merged = pool.submit(merge_meanwhile)
        pool.submit(hide_first).result()
        assert merged.result() == "acted_meanwhile"
    assert status_of(app, duplicate) == (S.HIDDEN, None)
    assert events(app, "proposal.hidden") == 1 and events(app, "proposal.merged") == 0


def test_a_proposal_merged_into_a_duplicate_meanwhile_follows_it_to_the_survivor(app, world):
    first, second, third = world["proposals"]
    merged = threading.Event()

    def merge_first_into_second():
        with app.app_context():
            member = db.session.get(User, world["member"])
            merge(member, [db.session.get(Proposal, first)], db.session.get(Proposal, second))
            merged.set()
            time.sleep(HOLD)
            db.session.commit()

    def merge_second_into_third():
        with app.app_context():
            member = db.session.get(User, world["member"])
            duplicate, survivor = (db.session.get(Proposal, second),
                                   db.session.get(Proposal, third))
            merged.wait(10)
            merge(member, [duplicate], survivor)
            db.session.commit()

    with ThreadPoolExecutor(2) as pool:
        later = pool.submit(merge_second_into_third)
        pool.submit(merge_first_into_second).result()
        later.result()
    assert status_of(app, first) == (S.MERGED, third)
    assert status_of(app, second) == (S.MERGED, third)


def test_moderation_waits_for_a_phase_move_and_then_sees_it(app, world):
    """Opening voting while a proposal is accepted: the later of the two sees the other's
    outcome, and the database's frozen-ballot trigger never has to refuse (no error)."""
    with app.app_context():
        round_ = db.session.get(Round, world["round"])
        accept(db.session.get(User, world["member"]),
               db.session.get(Proposal, world["proposals"][0]), 300_000)
        transition(db.session.get(User, world["coordinator"]), round_,
                   RoundPhase.REVIEW)
        db.session.commit()
    opened = threading.Event()

    def open_voting():
        with app.app_context():
            # The other proposals are still waiting for review: voting opens without them.
            transition(db.session.get(User, world["coordinator"]),
                       db.session.get(Round, world["round"]), RoundPhase.VOTING,
                       leave_unreviewed=True)
            opened.set()
            time.sleep(HOLD)
            db.session.commit()

    def accept_meanwhile():
        with app.app_context():
            member = db.session.get(User, world["member"])
            proposal = db.session.get(Proposal, world["proposals"][1])
            proposal.round.phase  # noqa: B018 - read while the round is still in review
            opened.wait(10)
            try:
                accept(member, proposal, 300_000)
            except ProposalError as refused:
                db.session.rollback()
                return refused.code
            db.session.commit()
            return "accepted"

    with ThreadPoolExecutor(2) as pool:
        accepted = pool.submit(accept_meanwhile)
        pool.submit(open_voting).result()
        assert accepted.result() == "moderation_closed"
    assert status_of(app, world["proposals"][1]) == (S.SUBMITTED, None)


# --- The audit chain -----------------------------------------------------------------------

def test_two_audited_actions_at_once_both_join_the_chain(app, world):
    """The second reads the chain's end only once the first has committed (SQLite used to
    read the same end for both, and the unique prev_hash refused the second)."""
    recorded = threading.Event()

    def first():
        with app.app_context():
            record_event(None, "test.first", "round", world["round"])
            recorded.set()
            time.sleep(HOLD)
            db.session.commit()

    def second():
        with app.app_context():
            recorded.wait(10)
            record_event(None, "test.second", "round", world["round"])
            db.session.commit()

    with ThreadPoolExecutor(2) as pool:
        later = pool.submit(second)
        pool.submit(first).result()
        later.result()
    with app.app_context():
        check = verify_chain()
        assert check.intact and check.events_checked == 2


# --- Phases (two publications at once: tests/attack/test_races.py) -------------------------

@pytest.fixture
def closed(app):
    return factories.saved(app, factories.closed_round, ballots=6)


def coordinator() -> User:
    """Keskusta's coordinator, in this thread's session."""
    return accounts.find_user_by_email("coordinator@example.org")


def test_a_phase_move_decided_from_a_phase_that_moved_meanwhile_is_refused(app, closed):
    with app.app_context():
        round_ = db.session.get(Round, closed.round_id)
        assert round_.phase is RoundPhase.CLOSED
        elsewhere(app, "UPDATE rounds SET phase = 'cancelled' WHERE id = :id",
                  id=closed.round_id)
        with pytest.raises(RoundError) as refused:
            transition(coordinator(), round_,
                       RoundPhase.PUBLISHED)
        assert refused.value.code == "changed_meanwhile"


# --- Closing by hand -----------------------------------------------------------------------

def test_a_close_by_hand_records_the_instant_it_took_effect(app):
    """Exact to the microsecond, as ballots are checked (rounded down to the second, the
    close was recorded before ballots it had accepted), and after every ballot stored."""
    scenario = factories.saved(app, factories.voting_round, ballots=3)
    with app.app_context():
        round_ = db.session.get(Round, scenario.round_id)
        before = clock.utcnow()
        transition(coordinator(), round_, RoundPhase.CLOSED)
        db.session.commit()
        after = clock.utcnow()
        closed_at = db.session.get(Round, scenario.round_id).voting_close_at
        assert before <= closed_at <= after
        votes = db.session.execute(select(Participation.last_voted_at).where(
            Participation.round_id == scenario.round_id)).scalars().all()
        assert len(votes) == 3 and max(votes) < closed_at


# --- Rate limits: counted first, then checked ----------------------------------------------

LIMIT = rate_limits.Limit("staff_password", "coordinator@example.org", 10,
                          accounts.STAFF_PASSWORD_WINDOW)


def test_attempts_are_counted_up_to_the_limit_and_a_right_one_is_taken_back(app_ctx):
    attempts = [rate_limits.admit(LIMIT) for _ in range(10)]
    assert all(attempts) and rate_limits.admit(LIMIT) is None
    rate_limits.take_back(attempts[-1])
    assert rate_limits.admit(LIMIT) is not None
    assert rate_limits.admit(LIMIT) is None


def test_a_limit_reached_on_one_count_counts_on_none(app_ctx):
    tight = rate_limits.Limit("voting_code_browser", "b", 1, rate_limits.CODE_WINDOW)
    loose = rate_limits.Limit("voting_code", "127.0.0.1", 100, rate_limits.CODE_WINDOW)
    assert rate_limits.admit(tight, loose) is not None
    assert rate_limits.admit(tight, loose) is None
    counted = db.session.execute(text("SELECT bucket, count(*) FROM rate_limit_events "
                                      "GROUP BY bucket ORDER BY bucket")).all()
    assert [tuple(row) for row in counted] == [("voting_code", 1), ("voting_code_browser", 1)]


def test_a_burst_of_parallel_attempts_gets_no_more_than_the_limit(app):
    """Thirty attempts at once, each counted and committed in its own step: exactly ten are
    let through (the old check-then-count let through as many as overlapped)."""
    start = threading.Barrier(30)

    def attempt(_):
        with app.app_context():
            start.wait(10)
            admitted = rate_limits.admit(LIMIT)
            db.session.commit()
            return admitted is not None

    with ThreadPoolExecutor(30) as pool:
        assert sum(pool.map(attempt, range(30))) == 10
