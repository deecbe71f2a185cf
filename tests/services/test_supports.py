"""Supports of ideas before review: who may support, one support per person, the phase
rules, and the threshold applied when review starts (with a moderator's override)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    Proposal,
    ProposalStatus,
    ProposalSupport,
    Round,
    RoundPhase,
    VoterEligibility,
)
from pb_vote.services import proposals, rounds, supports
from pb_vote.services.proposals import ProposalError
from pb_vote.services.rounds import RoundError, RoundSettings
from pb_vote.services.supports import SupportError
from tests import factories


@pytest.fixture
def scene(app_ctx):
    return factories.support_scene()


def _idea(scene, which: str = "proposal_id") -> Proposal:
    return db.session.get(Proposal, getattr(scene, which))


def _round(scene) -> Round:
    return db.session.get(Round, scene.round_id)


def _stored_supports() -> int:
    return db.session.execute(select(func.count()).select_from(ProposalSupport)).scalar_one()


def test_a_resident_supports_once_and_takes_the_support_back(scene):
    idea, person = _idea(scene), scene.supporters[0]
    assert supports.support(person, idea) is True
    assert supports.support(person, idea) is False  # the second press stores nothing
    assert supports.support_count(idea) == 1
    assert supports.supported_by(person, _round(scene)) == {idea.id}
    assert supports.support_counts(_round(scene)) == {idea.id: 1}
    assert supports.withdraw_support(person, idea) is True
    assert supports.withdraw_support(person, idea) is False
    assert supports.support_count(idea) == 0


def test_the_database_keeps_one_support_per_person_and_idea(scene):
    idea, person = _idea(scene), scene.supporters[0]
    db.session.add(ProposalSupport(proposal_id=idea.id, user_id=person.id))
    db.session.flush()
    with pytest.raises(DatabaseError), db.session.begin_nested():
        db.session.add(ProposalSupport(proposal_id=idea.id, user_id=person.id))
        db.session.flush()
    assert _stored_supports() == 1


@pytest.mark.parametrize("who, code", [("author", "own_idea"),
                                       ("neighbour", "support_outside_area")])
def test_the_author_and_residents_of_other_areas_cannot_support(scene, who, code):
    with pytest.raises(SupportError) as refused:
        supports.support(getattr(scene, who), _idea(scene))
    assert refused.value.code == code
    assert _stored_supports() == 0


def test_the_area_rule_is_the_voting_one_verified_postal_code_first(scene):
    moved_in = factories.identified_user("aino", postal_code="15100")
    moved_in.postal_code = "15200"  # stated elsewhere; the verified code decides
    moved_out = factories.identified_user("bertil", postal_code="15200")
    moved_out.postal_code = "15100"
    assert supports.support(moved_in, _idea(scene)) is True
    with pytest.raises(SupportError, match="support_outside_area"):
        supports.support(moved_out, _idea(scene))


def test_a_round_for_identified_residents_asks_for_identification(scene):
    _round(scene).resident_check = "identified"
    with pytest.raises(SupportError, match="support_identify"):
        supports.support(scene.supporters[0], _idea(scene))
    assert supports.support(factories.identified_user("aino"), _idea(scene)) is True


@pytest.mark.parametrize("phase", [RoundPhase.REVIEW, RoundPhase.VOTING, RoundPhase.DRAFT])
def test_supports_are_taken_only_while_the_round_takes_ideas(scene, phase):
    idea = _idea(scene)
    supports.support(scene.supporters[0], idea)
    idea.round.phase = phase
    assert supports.supports_open(idea.round) is False
    for act in (supports.support, supports.withdraw_support):
        with pytest.raises(SupportError, match="supports_closed"):
            act(scene.supporters[0], idea)
    assert supports.support_count(idea) == 1


def test_a_round_without_supports_takes_none(app_ctx):
    scene = factories.support_scene(enabled=False)
    with pytest.raises(SupportError, match="supports_off"):
        supports.support(scene.supporters[0], _idea(scene))


@pytest.mark.parametrize("status", [ProposalStatus.REJECTED, ProposalStatus.WITHDRAWN,
                                    ProposalStatus.HIDDEN])
def test_an_idea_out_of_the_running_takes_no_support(scene, status):
    idea = _idea(scene)
    idea.status, idea.rejection_reason, idea.hidden_reason = status, "No.", "No."
    with pytest.raises(SupportError, match="not_supportable"):
        supports.support(scene.supporters[0], idea)


def _review_events():
    return db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "round.support_threshold_applied")).scalars().all()


def test_review_started_by_hand_marks_the_ideas_short_of_the_threshold(scene):
    idea, other = _idea(scene), _idea(scene, "other_id")
    for person in scene.supporters[:2]:
        supports.support(person, idea)
    supports.support(scene.supporters[2], other)
    rounds.transition(scene.city.coordinator, _round(scene), RoundPhase.REVIEW)
    db.session.commit()
    assert (_idea(scene).short_of_supports, _idea(scene, "other_id").short_of_supports) == (
        False, True)
    [event] = _review_events()
    assert event.actor_id is None
    assert event.details == {"threshold": 2, "reached": [idea.id], "short": [other.id],
                             "counts": {str(idea.id): 2, str(other.id): 1}}


def test_review_by_the_schedule_applies_it_and_puts_an_early_acceptance_back(scene):
    other = _idea(scene, "other_id")
    proposals.accept(scene.city.member, other, 400_000)
    db.session.commit()
    row = _round(scene)
    rounds.sync_phase(row, row.proposals_close_at + timedelta(seconds=1))
    db.session.commit()
    assert row.phase is RoundPhase.REVIEW
    short = _idea(scene, "other_id")
    assert (short.status, short.short_of_supports) == (ProposalStatus.SUBMITTED, True)
    assert rounds.accepted_count(row) == 0
    assert len(_review_events()) == 1


def test_without_a_threshold_no_idea_is_short(app_ctx):
    scene = factories.support_scene(threshold=None)
    rounds.transition(scene.city.coordinator, _round(scene), RoundPhase.REVIEW)
    assert not _idea(scene).short_of_supports
    assert _review_events() == []


def test_an_idea_short_of_supports_reaches_the_ballot_only_with_a_reason(scene):
    rounds.transition(scene.city.coordinator, _round(scene), RoundPhase.REVIEW)
    db.session.commit()
    with pytest.raises(ProposalError) as refused:
        proposals.accept(scene.city.member, _idea(scene), 400_000)
    assert (refused.value.code, refused.value.details) == ("short_of_supports",
                                                           {"threshold": 2})
    outcome = proposals.bulk_moderate(scene.city.member, [(_idea(scene), None)], "accept",
                                      "All of them")
    assert outcome.done == []
    proposals.accept(scene.city.member, _idea(scene), 400_000,
                     support_override="Many signed the paper petition instead.")
    db.session.commit()
    accepted = _idea(scene)
    assert (accepted.status, accepted.short_of_supports) == (ProposalStatus.ACCEPTED, False)
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "proposal.accepted")).scalar_one()
    assert event.details["support_override"] == "Many signed the paper petition instead."


def test_the_database_refuses_an_accepted_idea_short_of_supports(scene):
    idea = _idea(scene)
    idea.short_of_supports = True
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(text("UPDATE proposals SET status = 'accepted', "
                                "reviewed_cost_cents = 1 WHERE id = :id"), {"id": idea.id})
    db.session.rollback()


def _settings(row: Round, **changes) -> RoundSettings:
    settings = RoundSettings.of(row)
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


def test_supports_need_residents_and_a_positive_threshold(scene):
    row = _round(scene)
    problems = rounds.check_change(row, _settings(
        row, voter_eligibility=VoterEligibility.CODES, support_threshold=0), clock.utcnow())
    assert ("supports_enabled", "supports_need_residents") in problems
    assert ("support_threshold", "threshold_not_positive") in problems


def test_turning_supports_off_clears_the_threshold(scene):
    row = _round(scene)
    changed = rounds.update_round(scene.city.coordinator, row,
                                  _settings(row, supports_enabled=False))
    assert changed == ["support_threshold", "supports_enabled"]
    assert (row.supports_enabled, row.support_threshold) == (False, None)


def test_supports_are_fixed_once_review_starts(scene):
    row = _round(scene)
    rounds.transition(scene.city.coordinator, row, RoundPhase.REVIEW)
    with pytest.raises(RoundError) as refused:
        rounds.update_round(scene.city.coordinator, row, _settings(row, support_threshold=5))
    assert ("supports_enabled", "supports_fixed") in refused.value.details["problems"]


@pytest.mark.parametrize("column, value", [("supports_enabled", False),
                                           ("support_threshold", 9)])
def test_the_database_freezes_the_supports_once_voting_opens(app_ctx, column, value):
    cast = factories.city()
    row = factories.round_(cast.own, RoundPhase.VOTING, supports_enabled=True,
                           support_threshold=3)
    db.session.commit()
    with pytest.raises(DatabaseError, match="frozen"):
        db.session.execute(text(f"UPDATE rounds SET {column} = :value WHERE id = :id"),
                           {"value": value, "id": row.id})
    db.session.rollback()
