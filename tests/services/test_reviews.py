"""Reviewing proposals: opinions asked of city departments and answered once through a
hashed, expiring link; internal notes; cost reviews; bulk accept and reject by the rules of
single moderation; and every step in the proposal's staff history."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    Feasibility,
    FeasibilityRequest,
    ProposalStatus,
    ReviewNote,
    RoundPhase,
)
from pb_vote.services import exports, reviews
from pb_vote.services.proposals import (
    ProposalError,
    bulk_moderate,
    review_cost,
)
from tests import factories

S = ProposalStatus
GIVEN = reviews.OpinionGiven(Feasibility.WITH_CHANGES, 650_000, "Needs a concrete base.")


@pytest.fixture
def town(app_ctx):
    """Keskusta in review with one submitted proposal of a resident."""
    town = factories.city()
    round_ = factories.round_(town.own, RoundPhase.REVIEW)
    town.proposal = factories.proposal(round_, author=town.resident)
    return town


def actions_on(proposal_id: int) -> list[str]:
    return list(db.session.execute(
        select(AuditEvent.action).where(AuditEvent.object_type == "proposal",
                                        AuditEvent.object_id == str(proposal_id))
        .order_by(AuditEvent.id)).scalars())


def test_the_link_token_is_stored_only_as_its_hash(town):
    request, token = factories.opinion(town.proposal, town.member)
    assert request.token_hash == reviews.token_hash(token) != token
    assert len(token) >= 40
    stored = db.session.execute(select(FeasibilityRequest.token_hash)).scalars().all()
    assert token not in stored
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "proposal.opinion_requested")).scalar_one()
    assert token not in str(event.details) and event.actor_id == town.member.id


def test_an_answer_is_recorded_once_and_audited_as_the_department(town):
    request, token = factories.opinion(town.proposal, town.member)
    answered = reviews.answer_opinion(token, GIVEN)
    assert answered.answered and answered.feasibility is Feasibility.WITH_CHANGES
    assert answered.estimated_cost_cents == 650_000
    with pytest.raises(reviews.ReviewError) as refused:
        reviews.answer_opinion(token, reviews.OpinionGiven(Feasibility.FEASIBLE, 1, ""))
    assert refused.value.code == "opinion_answered"
    db.session.refresh(request)
    assert request.feasibility is Feasibility.WITH_CHANGES  # the first answer stands
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "proposal.opinion_answered")).scalar_one()
    assert event.actor_id is None and event.actor_role == "department"
    assert event.details["contact"] == "Eila Insinööri"


def test_an_expired_link_cannot_answer(town, frozen_clock):
    _, token = factories.opinion(town.proposal, town.member, days=2)
    frozen_clock.advance(days=2, seconds=1)
    with pytest.raises(reviews.ReviewError) as refused:
        reviews.answer_opinion(token, GIVEN)
    assert refused.value.code == "opinion_link_expired"
    with pytest.raises(reviews.ReviewError):
        reviews.request_for_token(token)


@pytest.mark.parametrize("token", ["", "x" * 43, "x" * 500])
def test_an_unknown_or_tampered_token_is_invalid(town, token):
    _, real = factories.opinion(town.proposal, town.member)
    with pytest.raises(reviews.ReviewError) as refused:
        reviews.request_for_token(token or real[:-1])
    assert refused.value.code == "opinion_link_invalid"


def test_reading_the_link_does_not_use_it(town):
    _, token = factories.opinion(town.proposal, town.member)
    for _ in range(3):
        assert not reviews.request_for_token(token).answered
    assert reviews.answer_opinion(token, GIVEN).answered


def test_an_opinion_is_asked_only_while_the_round_takes_moderation(town):
    town.proposal.round.phase = RoundPhase.VOTING
    with pytest.raises(reviews.ReviewError) as refused:
        factories.opinion(town.proposal, town.member)
    assert refused.value.code == "moderation_closed"


def test_a_contact_needs_a_name_and_an_address(town):
    with pytest.raises(reviews.ReviewError):
        reviews.ask_opinion(town.member, town.proposal,
                            reviews.OpinionAsked(" ", "Parks", "nobody"), timedelta(days=1))


def test_notes_are_kept_with_their_author_and_audited(town):
    note = reviews.add_note(town.member, town.proposal, "  Ask the parks unit too.  ")
    assert note.body == "Ask the parks unit too." and note.author_id == town.member.id
    with pytest.raises(reviews.ReviewError):
        reviews.add_note(town.member, town.proposal, "   ")
    assert reviews.notes_of(town.proposal) == [note]
    assert actions_on(town.proposal.id) == ["proposal.note_added"]


def test_the_history_shows_opinions_notes_cost_reviews_and_decisions(town):
    _, token = factories.opinion(town.proposal, town.member)
    reviews.answer_opinion(token, GIVEN)
    reviews.add_note(town.coordinator, town.proposal, "Fine by me.")
    review_cost(town.member, town.proposal, 650_000, "The department's figure.")
    outcome = bulk_moderate(town.coordinator, [(town.proposal, S.SUBMITTED)], "accept",
                            "Reviewed at the table meeting.")
    assert outcome.done == [town.proposal] and not outcome.refused
    steps = exports.proposal_history(town.proposal).steps
    assert [step.action for step in steps] == [
        exports.SUBMITTED, "proposal.opinion_requested", "proposal.opinion_answered",
        "proposal.note_added", "proposal.cost_reviewed", "proposal.accepted"]
    assert steps[-1].details["reason"] == "Reviewed at the table meeting."
    assert steps[-1].actor.id == town.coordinator.id
    assert town.proposal.status is S.ACCEPTED
    assert town.proposal.reviewed_cost_cents == 650_000


def test_a_cost_review_keeps_the_status_and_is_refused_on_the_ballot(town):
    review_cost(town.member, town.proposal, 400_000)
    assert town.proposal.status is S.SUBMITTED
    assert town.proposal.reviewed_cost_cents == 400_000
    accepted = factories.proposal(town.proposal.round, status=S.ACCEPTED)
    with pytest.raises(ProposalError) as refused:
        review_cost(town.member, accepted, 1)
    assert refused.value.code == "wrong_state"


def test_bulk_accept_does_the_reviewed_and_reports_the_others(town):
    round_ = town.proposal.round
    reviewed = factories.proposal(round_, title="Reviewed")
    review_cost(town.member, reviewed, 300_000)
    unreviewed = town.proposal
    hidden = factories.proposal(round_, title="Hidden", status=S.HIDDEN)
    already = factories.proposal(round_, title="On the ballot", status=S.ACCEPTED)
    outcome = bulk_moderate(town.member, [(p, p.status) for p in
                                          (unreviewed, reviewed, hidden, already)],
                            "accept", "Agreed at the meeting.")
    assert outcome.done == [reviewed]
    assert {p.id: e.code for p, e in outcome.refused} == {
        unreviewed.id: "no_reviewed_cost", hidden.id: "wrong_state",
        already.id: "already_so"}
    assert unreviewed.status is S.SUBMITTED and hidden.status is S.HIDDEN
    assert reviewed.status is S.ACCEPTED and reviewed.reviewed_cost_cents == 300_000


def test_bulk_reject_gives_the_reason_publicly_and_refuses_a_changed_proposal(town):
    round_ = town.proposal.round
    other = factories.proposal(round_, title="Other")
    # The queue showed ``other`` as changes requested; it has moved since.
    outcome = bulk_moderate(town.member, [(town.proposal, S.SUBMITTED),
                                          (other, S.CHANGES_REQUESTED)],
                            "reject", "Outside the table's area.")
    assert outcome.done == [town.proposal]
    assert [e.code for _, e in outcome.refused] == ["acted_meanwhile"]
    assert town.proposal.rejection_reason == "Outside the table's area."
    assert other.status is S.SUBMITTED


def test_bulk_needs_a_reason_and_an_open_round(town):
    with pytest.raises(ProposalError):
        bulk_moderate(town.member, [(town.proposal, None)], "reject", " ")
    town.proposal.round.phase = RoundPhase.VOTING
    db.session.flush()
    with pytest.raises(ProposalError) as refused:
        bulk_moderate(town.member, [(town.proposal, None)], "reject", "No.")
    assert refused.value.code == "moderation_closed"


def test_the_database_refuses_a_half_answer(town):
    request, _ = factories.opinion(town.proposal, town.member)
    request.answered_at = clock.utcnow()
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError on both databases
        db.session.flush()
    db.session.rollback()
    assert db.session.execute(select(ReviewNote)).first() is None
