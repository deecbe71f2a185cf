"""Proposals: submitting inside the window, editing and withdrawing, every moderation action
with its audit event, the database's own guards, and origin shares."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    MembershipRole,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    RoundPhase,
)
from pb_vote.services.proposals import (
    ProposalDraft,
    ProposalError,
    accept,
    credited_authors,
    edit_proposal,
    hide,
    merge,
    origin_shares,
    proposals_of_author,
    reject,
    request_changes,
    submit_proposal,
    withdraw_proposal,
)
from tests import factories

P = RoundPhase
S = ProposalStatus
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
BUDGET = 10_000_000  # the factories' round budget, in cents
CLOSED_PHASES = [P.DRAFT, P.VOTING, P.CLOSED, P.PUBLISHED, P.CANCELLED]
STORED = ("status", "title", "description", "estimated_cost_cents", "category", "location",
          "link", "reviewed_cost_cents", "public_note", "rejection_reason", "change_request",
          "hidden_reason", "merged_into_id")


@pytest.fixture
def world(app_ctx, frozen_clock):
    """A table with a member and a coordinator, two residents, and a round taking ideas
    (its window opened five days before NOW and closes 25 days after)."""
    frozen_clock.set(NOW)
    table = factories.table()
    return SimpleNamespace(
        clock=frozen_clock,
        table=table,
        author=factories.user("aino@example.org"),
        neighbour=factories.user("bertil@example.org"),
        member=factories.user("member@example.org", role=MembershipRole.MEMBER, at=table),
        coordinator=factories.user(
            "coordinator@example.org", role=MembershipRole.COORDINATOR, at=table
        ),
        round=factories.round_(table, P.PROPOSALS),
    )


def draft(**changes) -> ProposalDraft:
    values = {
        "title": "Benches by the lake",
        "description": "Three benches facing the water.",
        "estimated_cost_cents": 500_000,
        "category": "Parks",
        "location": "Lakeside",
        "link": "https://example.org/benches",
    }
    return ProposalDraft(**{**values, **changes})


def stored(proposal) -> dict:
    """The proposal as the database has it (pending changes are flushed first)."""
    row = db.session.execute(
        select(*(getattr(Proposal, name) for name in STORED)).where(Proposal.id == proposal.id)
    ).one()
    return dict(zip(STORED, row, strict=True))


def proposal_count() -> int:
    return db.session.execute(select(func.count()).select_from(Proposal)).scalar_one()


def events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.execute(query).scalars().all()


def in_phase(world, phase, **kwargs):
    """A proposal by the author in a round of the table in ``phase``."""
    round_ = world.round if phase is P.PROPOSALS else factories.round_(world.table, phase)
    return factories.proposal(round_, author=world.author, **kwargs)


# --- Submitting -----------------------------------------------------------------------------

def test_a_resident_submits_inside_the_window(world):
    proposal = submit_proposal(world.author, world.round, draft(
        title="  Benches by the lake ", description=" Three benches. ", location=" Lakeside ",
        link="  "))
    assert proposal.id is not None
    assert (proposal.author_id, proposal.round_id, proposal.origin) == (
        world.author.id, world.round.id, ProposalOrigin.RESIDENT)
    assert stored(proposal) == {
        **dict.fromkeys(STORED), "status": S.SUBMITTED, "title": "Benches by the lake",
        "description": "Three benches.", "estimated_cost_cents": 500_000, "category": "Parks",
        "location": "Lakeside", "link": None, "public_note": "",
    }
    assert proposals_of_author(world.author) == [proposal]
    assert events() == []  # residents' own ideas are not staff actions


@pytest.mark.parametrize(
    ("moment", "offset", "allowed"),
    [("proposals_open_at", -SECOND, False),
     ("proposals_open_at", timedelta(0), True),
     ("proposals_close_at", -SECOND, True),
     ("proposals_close_at", timedelta(0), False),
     ("proposals_close_at", timedelta(days=2), False)],
    ids=["a second before it opens", "as it opens", "its last second", "as it closes",
         "days later, not yet synced"],
)
def test_server_time_decides_the_window_to_the_second(world, moment, offset, allowed):
    world.clock.set(getattr(world.round, moment) + offset)
    assert world.round.phase is P.PROPOSALS
    if allowed:
        assert submit_proposal(world.author, world.round, draft()).status is S.SUBMITTED
    else:
        with pytest.raises(ProposalError) as refused:
            submit_proposal(world.author, world.round, draft())
        assert refused.value.code == "window_closed"
    assert proposal_count() == int(allowed)


@pytest.mark.parametrize("phase", [P.REVIEW, *CLOSED_PHASES])
def test_residents_cannot_submit_outside_the_proposal_phase(world, phase):
    round_ = factories.round_(world.table, phase)
    with pytest.raises(ProposalError) as refused:
        submit_proposal(world.author, round_, draft())
    assert refused.value.code == "window_closed"
    assert proposal_count() == 0


@pytest.mark.parametrize("origin", [ProposalOrigin.MEMBER, ProposalOrigin.CITY])
@pytest.mark.parametrize("phase", [P.PROPOSALS, P.REVIEW])
def test_staff_add_proposals_during_proposals_and_review(world, origin, phase):
    round_ = world.round if phase is P.PROPOSALS else factories.round_(world.table, phase)
    world.clock.set(round_.proposals_close_at + SECOND)  # past the residents' window
    proposal = submit_proposal(world.member, round_, draft(), origin=origin)
    assert (proposal.origin, proposal.status, proposal.author_id) == (
        origin, S.SUBMITTED, world.member.id)
    [event] = events()
    assert (event.action, event.object_type, event.object_id) == (
        "proposal.added", "proposal", str(proposal.id))
    assert (event.actor_id, event.actor_role, event.table_id) == (
        world.member.id, "member", world.table.id)
    assert event.details == {"origin": origin.value}


@pytest.mark.parametrize("phase", CLOSED_PHASES)
def test_staff_cannot_add_proposals_outside_proposals_and_review(world, phase):
    round_ = factories.round_(world.table, phase)
    for origin in (ProposalOrigin.MEMBER, ProposalOrigin.CITY):
        with pytest.raises(ProposalError) as refused:
            submit_proposal(world.coordinator, round_, draft(), origin=origin)
        assert refused.value.code == "window_closed"
    assert (proposal_count(), events()) == (0, [])


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"title": ""}, "title_required"),
     ({"title": "   "}, "title_required"),
     ({"estimated_cost_cents": 0}, "cost_not_positive"),
     ({"estimated_cost_cents": -100}, "cost_not_positive"),
     ({"estimated_cost_cents": BUDGET + 1}, "cost_above_budget"),
     ({"category": "Space programme"}, "unknown_category"),
     ({"category": None}, "unknown_category")],
    ids=["empty title", "blank title", "zero cost", "negative cost", "above budget",
         "unknown category", "no category"],
)
def test_bad_proposals_are_refused_and_nothing_is_saved(world, changes, code):
    for person, origin in ((world.author, ProposalOrigin.RESIDENT),
                           (world.coordinator, ProposalOrigin.CITY)):
        with pytest.raises(ProposalError) as refused:
            submit_proposal(person, world.round, draft(**changes), origin=origin)
        assert refused.value.code == code, origin
    assert (proposal_count(), events()) == (0, [])


def test_the_whole_budget_and_any_category_of_an_uncategorised_round(world):
    whole = submit_proposal(world.author, world.round, draft(estimated_cost_cents=BUDGET))
    assert (whole.status, stored(whole)["estimated_cost_cents"]) == (S.SUBMITTED, BUDGET)
    world.round.categories = []
    for category in ("Anything", None):
        proposal = submit_proposal(world.author, world.round, draft(category=category))
        assert (proposal.status, stored(proposal)["category"]) == (S.SUBMITTED, category)
    assert proposal_count() == 3


# --- Editing and withdrawing ----------------------------------------------------------------

def test_the_author_edits_until_review_starts(world):
    proposal = submit_proposal(world.author, world.round, draft())
    assert edit_proposal(world.author, proposal, draft(title="Four benches",
                                                       estimated_cost_cents=700_000)) == []
    assert stored(proposal)["title"] == "Four benches"
    assert stored(proposal)["estimated_cost_cents"] == 700_000
    world.clock.set(world.round.proposals_close_at)
    with pytest.raises(ProposalError) as refused:
        edit_proposal(world.author, proposal, draft(title="Five benches"))
    assert refused.value.code == "window_closed"
    assert stored(proposal)["title"] == "Four benches"


@pytest.mark.parametrize("operation", ["edit", "withdraw"])
def test_nobody_else_edits_or_withdraws(world, operation):
    proposal = submit_proposal(world.author, world.round, draft())
    before = stored(proposal)
    for person in (world.neighbour, world.member, world.coordinator):
        with pytest.raises(ProposalError) as refused:
            if operation == "edit":
                edit_proposal(person, proposal, draft(title="Hijacked"))
            else:
                withdraw_proposal(person, proposal)
        assert refused.value.code == "not_author"
    assert stored(proposal) == before


@pytest.mark.parametrize(
    ("status", "phase"),
    [(S.SUBMITTED, P.REVIEW), (S.SUBMITTED, P.VOTING), (S.ACCEPTED, P.PROPOSALS),
     (S.REJECTED, P.PROPOSALS), (S.WITHDRAWN, P.PROPOSALS), (S.HIDDEN, P.PROPOSALS),
     (S.CHANGES_REQUESTED, P.VOTING)],
)
def test_the_author_cannot_edit_once_it_is_out_of_their_hands(world, status, phase):
    proposal = in_phase(world, phase, status=status)
    before = stored(proposal)
    with pytest.raises(ProposalError) as refused:
        edit_proposal(world.author, proposal, draft(title="Too late"))
    assert refused.value.code == "window_closed"
    assert stored(proposal) == before


def test_an_edit_is_checked_like_a_submission(world):
    proposal = submit_proposal(world.author, world.round, draft())
    before = stored(proposal)
    with pytest.raises(ProposalError) as refused:
        edit_proposal(world.author, proposal, draft(estimated_cost_cents=BUDGET + 1))
    assert refused.value.code == "cost_above_budget"
    assert stored(proposal) == before


@pytest.mark.parametrize("status", [S.SUBMITTED, S.CHANGES_REQUESTED])
def test_the_author_withdraws_during_the_window(world, status):
    proposal = in_phase(world, P.PROPOSALS, status=status)
    assert withdraw_proposal(world.author, proposal) == [proposal]
    assert stored(proposal)["status"] is S.WITHDRAWN


@pytest.mark.parametrize(
    ("status", "phase", "late"),
    [(S.SUBMITTED, P.PROPOSALS, True), (S.SUBMITTED, P.REVIEW, False),
     (S.CHANGES_REQUESTED, P.REVIEW, False), (S.ACCEPTED, P.PROPOSALS, False),
     (S.WITHDRAWN, P.PROPOSALS, False)],
    ids=["window just closed", "review", "changes requested in review", "accepted",
         "already withdrawn"],
)
def test_the_author_cannot_withdraw_once_review_started(world, status, phase, late):
    proposal = in_phase(world, phase, status=status)
    if late:
        world.clock.set(world.round.proposals_close_at)
    with pytest.raises(ProposalError) as refused:
        withdraw_proposal(world.author, proposal)
    assert refused.value.code == "window_closed"
    assert stored(proposal)["status"] is status


# --- Moderation -----------------------------------------------------------------------------

def do_accept(actor, proposal, world):
    return accept(actor, proposal, 450_000, "Costed by the parks department.")


def do_request_changes(actor, proposal, world):
    return request_changes(actor, proposal, "  Which lake? Please add the place. ")


def do_reject(actor, proposal, world):
    return reject(actor, proposal, " Outside the city's land. ")


def do_hide(actor, proposal, world):
    return hide(actor, proposal, "Insults a neighbour by name.")


def do_merge(actor, proposal, world):
    survivor = factories.proposal(proposal.round, author=world.neighbour, title="Lake benches")
    return merge(actor, [proposal], survivor)


# action -> (how, audit action, expected stored changes, expected audit details)
MODERATION = {
    "accept": (do_accept, "proposal.accepted",
               {"status": S.ACCEPTED, "reviewed_cost_cents": 450_000,
                "public_note": "Costed by the parks department."},
               {"reviewed_cost_cents": 450_000, "note": "Costed by the parks department."}),
    "request_changes": (do_request_changes, "proposal.changes_requested",
                        {"status": S.CHANGES_REQUESTED,
                         "change_request": "Which lake? Please add the place."},
                        {"message": "Which lake? Please add the place."}),
    "reject": (do_reject, "proposal.rejected",
               {"status": S.REJECTED, "rejection_reason": "Outside the city's land."},
               {"reason": "Outside the city's land."}),
    "hide": (do_hide, "proposal.hidden",
             {"status": S.HIDDEN, "hidden_reason": "Insults a neighbour by name."},
             {"reason": "Insults a neighbour by name."}),
    "merge": (do_merge, "proposal.merged", {"status": S.MERGED}, None),
}
# The states each action may start from (issue 4: moderation of submitted ideas, second
# thoughts on accepted and rejected ones; hiding also reaches withdrawn abuse).
MODERATABLE = {S.SUBMITTED, S.CHANGES_REQUESTED, S.ACCEPTED, S.REJECTED}
ALLOWED_FROM = dict.fromkeys(MODERATION, MODERATABLE) | {"hide": MODERATABLE | {S.WITHDRAWN}}


def a_proposal_in(world, status, round_=None):
    """A proposal by the author in ``status`` (a merged one points at another proposal)."""
    round_ = round_ or world.round
    if status is not S.MERGED:
        return factories.proposal(round_, author=world.author, status=status)
    proposal = factories.proposal(round_, author=world.author)
    proposal.merged_into = factories.proposal(round_, title="Survivor")
    proposal.status = S.MERGED
    db.session.flush()
    return proposal


@pytest.mark.parametrize("phase", [P.PROPOSALS, P.REVIEW])
@pytest.mark.parametrize("action", list(MODERATION))
def test_every_moderation_action_is_audited_with_who_and_why(world, action, phase):
    how, audit_action, changes, details = MODERATION[action]
    proposal = in_phase(world, phase)
    before = stored(proposal)
    assert how(world.member, proposal, world) == [proposal]
    after = stored(proposal)
    assert {name: value for name, value in after.items() if value != before[name]} == (
        changes if action != "merge" else {**changes, "merged_into_id": after["merged_into_id"]})
    [event] = events(audit_action)
    assert (event.object_type, event.object_id, event.table_id) == (
        "proposal", str(proposal.id), world.table.id)
    assert (event.actor_id, event.actor_role) == (world.member.id, "member")
    assert event.details == (details or {"into": after["merged_into_id"]})
    assert len(events()) == 1


def test_moderators_act_under_their_own_role(world):
    admin = factories.user("admin@example.org", city_admin=True)
    first, second = (factories.proposal(world.round, title=t) for t in ("One", "Two"))
    reject(world.coordinator, first, "Duplicate of the city's plan.")
    reject(admin, second, "Not on city land.")
    assert [(e.actor_id, e.actor_role) for e in events()] == [
        (world.coordinator.id, "coordinator"), (admin.id, "city_admin")]


@pytest.mark.parametrize("action", list(MODERATION))
def test_moderation_is_closed_outside_proposals_and_review(world, action):
    for phase in CLOSED_PHASES:
        proposal = in_phase(world, phase)
        before = stored(proposal)
        with pytest.raises(ProposalError) as refused:
            MODERATION[action][0](world.member, proposal, world)
        assert refused.value.code == "moderation_closed", phase
        assert stored(proposal) == before, phase
    assert events() == []


@pytest.mark.parametrize("action", list(MODERATION))
def test_moderation_in_the_wrong_state_changes_nothing(world, action):
    for status in ProposalStatus:
        proposal = a_proposal_in(world, status)
        before = stored(proposal)
        if status in ALLOWED_FROM[action]:
            MODERATION[action][0](world.member, proposal, world)
            assert stored(proposal)["status"] is MODERATION[action][2]["status"], status
            continue
        with pytest.raises(ProposalError) as refused:
            MODERATION[action][0](world.member, proposal, world)
        assert (refused.value.code, refused.value.details) == (
            "wrong_state", {"status": status.value}), status
        assert stored(proposal) == before
    assert len(events()) == len(ALLOWED_FROM[action])


@pytest.mark.parametrize(
    ("cost", "code"),
    [(None, "cost_not_positive"), (0, "cost_not_positive"), (-1, "cost_not_positive"),
     (BUDGET + 1, "cost_above_budget")],
)
def test_accepting_needs_a_reviewed_cost_within_the_budget(world, cost, code):
    proposal = factories.proposal(world.round)
    before = stored(proposal)
    with pytest.raises(ProposalError) as refused:
        accept(world.member, proposal, cost)
    assert refused.value.code == code
    assert stored(proposal) == before
    assert events() == []


def test_the_reviewed_cost_may_differ_from_the_estimate_up_to_the_budget(world):
    proposal = factories.proposal(world.round, cost_cents=500_000)
    accept(world.member, proposal, BUDGET)
    assert (stored(proposal)["reviewed_cost_cents"], proposal.cost_cents) == (BUDGET, BUDGET)
    assert stored(proposal)["estimated_cost_cents"] == 500_000


@pytest.mark.parametrize("action", [request_changes, reject, hide])
@pytest.mark.parametrize("why", ["", "   \n"])
def test_the_why_is_required(world, action, why):
    proposal = factories.proposal(world.round)
    before = stored(proposal)
    with pytest.raises(ProposalError) as refused:
        action(world.member, proposal, why)
    assert refused.value.code == "reason_required"
    assert stored(proposal) == before
    assert events() == []


@pytest.mark.parametrize("phase", [P.PROPOSALS, P.REVIEW])
def test_after_a_change_request_the_author_resubmits(world, phase):
    proposal = in_phase(world, phase)
    world.clock.set(proposal.round.proposals_close_at + SECOND)  # residents' window is shut
    request_changes(world.member, proposal, "Which lake?")
    with pytest.raises(ProposalError, match="not_author"):
        edit_proposal(world.neighbour, proposal, draft(location="Hijacked"))
    changed = edit_proposal(world.author, proposal, draft(location="Vesijärvi shore"))
    assert changed == [proposal]
    assert (stored(proposal)["status"], stored(proposal)["location"]) == (
        S.SUBMITTED, "Vesijärvi shore")
    with pytest.raises(ProposalError) as refused:  # resubmitted: out of the author's hands
        edit_proposal(world.author, proposal, draft(location="Elsewhere"))
    assert refused.value.code == "window_closed"


# --- Merging --------------------------------------------------------------------------------

def test_merging_duplicates_credits_their_authors(world):
    third = factories.user("cecilia@example.org")
    survivor = factories.proposal(world.round, author=world.author, title="Lake benches")
    duplicates = [
        factories.proposal(world.round, author=world.neighbour, title="Benches"),
        factories.proposal(world.round, author=third, title="Seats by the water"),
        factories.proposal(world.round, author=world.author, title="My other benches"),
    ]
    assert merge(world.member, duplicates, survivor) == duplicates
    assert [stored(d)["status"] for d in duplicates] == [S.MERGED] * 3
    assert {stored(d)["merged_into_id"] for d in duplicates} == {survivor.id}
    assert survivor.merged_in == duplicates
    assert credited_authors(survivor) == [world.author, world.neighbour, third]
    assert stored(survivor)["status"] is S.SUBMITTED
    assert [(e.object_id, e.details) for e in events("proposal.merged")] == [
        (str(d.id), {"into": survivor.id}) for d in duplicates]


def test_a_chain_of_merges_leads_to_the_survivor(world):
    third = factories.user("cecilia@example.org")
    first = factories.proposal(world.round, author=world.author, title="First")
    middle = factories.proposal(world.round, author=world.neighbour, title="Middle")
    last = factories.proposal(world.round, author=third, title="Last")
    merge(world.member, [first], middle)
    merge(world.coordinator, [middle], last)
    db.session.expire_all()
    assert (stored(first)["merged_into_id"], stored(middle)["merged_into_id"]) == (
        last.id, last.id)
    assert middle.merged_in == []
    assert {p.id for p in last.merged_in} == {first.id, middle.id}
    assert {u.id for u in credited_authors(last)} == {third.id, world.author.id,
                                                      world.neighbour.id}


def test_credited_authors_skips_deleted_and_repeated_authors(world):
    survivor = factories.proposal(world.round, author=None, origin=ProposalOrigin.CITY)
    duplicates = [factories.proposal(world.round, author=world.author, title=t)
                  for t in ("One", "Two")] + [factories.proposal(world.round, author=None)]
    merge(world.member, duplicates, survivor)
    assert credited_authors(survivor) == [world.author]


@pytest.mark.parametrize(
    ("case", "code"),
    [("nothing", "nothing_to_merge"), ("itself", "merge_mismatch"),
     ("other round", "merge_mismatch"), ("rejected survivor", "wrong_state"),
     ("merged survivor", "wrong_state"), ("withdrawn survivor", "wrong_state"),
     ("hidden survivor", "wrong_state")],
)
def test_merges_that_make_no_sense_are_refused(world, case, code):
    survivor_status = {"rejected survivor": S.REJECTED, "merged survivor": S.MERGED,
                       "withdrawn survivor": S.WITHDRAWN, "hidden survivor": S.HIDDEN}
    survivor = a_proposal_in(world, survivor_status.get(case, S.SUBMITTED))
    other_round = factories.round_(world.table, P.PROPOSALS, title="Other")
    duplicate = factories.proposal(other_round if case == "other round" else world.round)
    duplicates = {"nothing": [], "itself": [duplicate, survivor]}.get(case, [duplicate])
    before = [stored(p) for p in (survivor, duplicate)]
    with pytest.raises(ProposalError) as refused:
        merge(world.member, duplicates, survivor)
    assert refused.value.code == code
    assert [stored(p) for p in (survivor, duplicate)] == before
    assert events() == []


def test_a_refused_merge_merges_none_of_the_duplicates(world):
    survivor = factories.proposal(world.round, title="Survivor")
    fine = factories.proposal(world.round, author=world.author, title="Fine")
    gone = factories.proposal(world.round, author=world.neighbour, status=S.WITHDRAWN)
    with pytest.raises(ProposalError) as refused:
        merge(world.member, [fine, gone], survivor)
    assert refused.value.code == "wrong_state"
    assert (stored(fine)["status"], stored(fine)["merged_into_id"]) == (S.SUBMITTED, None)
    assert events() == []


# --- The database's own guards --------------------------------------------------------------

DB_REFUSES = [
    pytest.param(assignments, id=case) for case, assignments in [
        ("accepted without reviewed cost", "status = 'accepted', reviewed_cost_cents = NULL"),
        ("rejected with an empty reason", "status = 'rejected', rejection_reason = ''"),
        ("hidden with an empty reason", "status = 'hidden', hidden_reason = ''"),
        ("merged without target", "status = 'merged', merged_into_id = NULL"),
        ("merged into itself", "status = 'merged', merged_into_id = id"),
        ("zero reviewed cost", "reviewed_cost_cents = 0"),
        ("zero estimate", "estimated_cost_cents = 0"),
        ("empty title", "title = ''"),
        ("unknown status", "status = 'approved'"),
    ]
]
# A CHECK that evaluates to NULL passes: the constraints say "reason IS NOT NULL AND ..."
# (migration 0005), so a NULL reason is refused too.
DB_REFUSES += [
    pytest.param("status = 'rejected', rejection_reason = NULL", id="rejected without a reason"),
    pytest.param("status = 'hidden', hidden_reason = NULL", id="hidden without a reason"),
]


def _refused_update(proposal, assignments: str) -> bool:
    try:
        db.session.execute(text(f"UPDATE proposals SET {assignments} WHERE id = :id"),
                           {"id": proposal.id})
    except IntegrityError:
        return True
    finally:
        db.session.rollback()
    return False


@pytest.mark.parametrize("assignments", DB_REFUSES)
def test_the_database_refuses_an_inconsistent_proposal(world, assignments):
    proposal = factories.proposal(world.round, author=world.author)
    db.session.commit()
    before = stored(proposal)
    assert _refused_update(proposal, assignments)
    assert stored(proposal) == before


def test_the_database_accepts_the_consistent_versions(world):
    proposal = factories.proposal(world.round, author=world.author)
    other = factories.proposal(world.round, title="Other")
    db.session.commit()
    for assignments in ("status = 'accepted', reviewed_cost_cents = 1",
                        "status = 'rejected', rejection_reason = 'Too dear.'",
                        "status = 'hidden', hidden_reason = 'Abuse.'",
                        f"status = 'merged', merged_into_id = {other.id}"):
        db.session.execute(text(f"UPDATE proposals SET {assignments} WHERE id = :id"),
                           {"id": proposal.id})
        db.session.commit()
    assert (stored(proposal)["status"], stored(proposal)["merged_into_id"]) == (
        S.MERGED, other.id)


# --- Origin shares --------------------------------------------------------------------------

def test_origin_shares_count_public_proposals_of_public_rounds(world):
    closed = factories.round_(world.table, P.CLOSED, title="Last year")
    cancelled = factories.round_(world.table, P.CANCELLED, title="Called off")
    draft_round = factories.round_(world.table, P.DRAFT, title="Next year")
    elsewhere = factories.round_(factories.table("pohjoinen", postal_codes=["15200"]))
    R, M, C = ProposalOrigin.RESIDENT, ProposalOrigin.MEMBER, ProposalOrigin.CITY
    for round_, origin, status in [
        (world.round, R, S.SUBMITTED), (world.round, R, S.ACCEPTED),
        (world.round, R, S.REJECTED), (world.round, R, S.CHANGES_REQUESTED),
        (world.round, R, S.WITHDRAWN), (world.round, R, S.HIDDEN),
        (world.round, M, S.ACCEPTED), (world.round, C, S.HIDDEN),
        (closed, C, S.ACCEPTED), (closed, C, S.REJECTED), (closed, M, S.WITHDRAWN),
        (cancelled, R, S.SUBMITTED),
        (draft_round, C, S.SUBMITTED), (draft_round, M, S.SUBMITTED),
        (elsewhere, M, S.SUBMITTED), (elsewhere, C, S.ACCEPTED),
    ]:
        factories.proposal(round_, origin=origin, status=status)
    assert origin_shares(world.table.id) == {R: 5, M: 1, C: 2}
    assert origin_shares(elsewhere.table_id) == {R: 0, M: 1, C: 1}


def test_origin_shares_of_a_table_without_proposals(world):
    assert origin_shares(world.table.id) == dict.fromkeys(ProposalOrigin, 0)
