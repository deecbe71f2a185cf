"""A round's proposals with their moderation history, read from the audit trail."""

from pb_vote.models import ProposalOrigin, RoundPhase
from pb_vote.services import exports
from pb_vote.services import proposals as moderation
from tests import factories


def test_every_proposal_comes_with_what_happened_to_it(app_ctx):
    city = factories.city()
    round_ = factories.round_(city.own, RoundPhase.REVIEW)
    other_round = factories.round_(city.other, RoundPhase.REVIEW)
    bench = factories.proposal(round_, author=city.resident, title="Bench")
    skate = factories.proposal(round_, author=city.resident, title="Skate park")
    twin = factories.proposal(round_, author=city.resident, title="Bench again")
    lights = factories.proposal(round_, origin=ProposalOrigin.CITY, title="Lights")
    elsewhere = factories.proposal(other_round, title="Elsewhere")
    moderation.request_changes(city.member, bench, "Where exactly?")
    moderation.accept(city.coordinator, skate, 400_000, "Checked with sports services.")
    moderation.reject(city.member, lights, "The city builds these anyway.")
    moderation.merge(city.coordinator, [twin], skate)
    moderation.reject(city.admin, elsewhere, "Not this table's.")

    histories = exports.proposal_histories(round_)
    assert [h.proposal.title for h in histories] == ["Bench", "Skate park", "Bench again",
                                                     "Lights"]
    steps = {h.proposal.title: [(s.action, s.actor, s.actor_role, s.details) for s in h.steps]
             for h in histories}
    assert steps["Bench"] == [
        (exports.SUBMITTED, None, "resident", {}),
        ("proposal.changes_requested", city.member, "member", {"message": "Where exactly?"})]
    assert steps["Skate park"] == [
        (exports.SUBMITTED, None, "resident", {}),
        ("proposal.accepted", city.coordinator, "coordinator",
         {"reviewed_cost_cents": 400_000, "note": "Checked with sports services."})]
    assert steps["Bench again"][1] == ("proposal.merged", city.coordinator, "coordinator",
                                       {"into": skate.id})
    # a proposal of the city arrives with no submission; the other table's is not here
    assert steps["Lights"] == [("proposal.rejected", city.member, "member",
                                {"reason": "The city builds these anyway."})]
    assert histories[0].steps[0].at == bench.created_at


def test_a_round_without_proposals_has_no_history(app_ctx):
    round_ = factories.round_(factories.table(), RoundPhase.PROPOSALS)
    assert exports.proposal_histories(round_) == []
