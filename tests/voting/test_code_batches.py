"""Batches of voting codes: recorded with who made them, when and in which languages; a
voided batch's unused codes stop working in every path a code votes by (the code page, a
code already held by a browser, a paper slip), while the ballots cast before stay."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pb_vote.extensions import db
from pb_vote.models import (
    Participation,
    ProposalStatus,
    Round,
    RoundPhase,
    VoteChannel,
    VoterEligibility,
    VotingCode,
    VotingCodeBatch,
)
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories


@pytest.fixture
def code_round(app_ctx):
    """A round in voting by codes (approval, 1 to 2 of 2) and its coordinator."""
    table = factories.table()
    coordinator = factories.user("coordinator@example.org", postal_code=None,
                                 role="coordinator", at=table)
    round_ = factories.round_(table, RoundPhase.VOTING, approval_min=1, approval_max=2,
                              voter_eligibility=VoterEligibility.CODES)
    proposals = [factories.proposal(round_, title=f"Idea {n}", cost_cents=100_000,
                                    status=ProposalStatus.ACCEPTED) for n in range(2)]
    db.session.commit()
    return round_, coordinator, [p.id for p in proposals]


def cast(app, round_: Round, code: str, proposal_id: int,
         channel: VoteChannel = VoteChannel.CODE):
    """Vote with ``code`` as the code page and the ballot page do (committed)."""
    voter = voting.online_code_voter(round_, code) if channel is VoteChannel.CODE else (
        voting.paper_voter(round_, code))
    result = voting.cast_ballot(VoteKeys.from_config(app.config), round_.id, voter, channel,
                                {proposal_id: 1})
    db.session.commit()
    return result


def test_each_batch_is_recorded_and_numbered_within_its_round(code_round):
    round_, coordinator, _ = code_round
    first = voting.generate_batch(coordinator, round_, 3, ["en", "fi", "de"])
    second = voting.generate_batch(coordinator, round_, 2)
    db.session.commit()
    assert (first.batch.number, first.batch.count, first.batch.languages) == (1, 3, ["fi", "en"])
    assert (second.batch.number, second.batch.languages) == (2, ["fi", "sv"])
    assert first.batch.created_by_id == coordinator.id and first.batch.created_at
    numbers = db.session.execute(select(VotingCode.batch, func.count()).where(
        VotingCode.round_id == round_.id).group_by(VotingCode.batch)).all()
    assert sorted(numbers) == [(1, 3), (2, 2)]
    assert [s.batch.number for s in voting.code_batches(round_)] == [2, 1]


def test_a_batch_needs_one_of_the_service_languages(code_round):
    round_, coordinator, _ = code_round
    with pytest.raises(voting.VotingError) as refused:
        voting.generate_batch(coordinator, round_, 3, ["de"])
    assert refused.value.code == "slip_languages"


def test_a_code_cannot_name_a_batch_that_does_not_exist(code_round):
    round_, _, _ = code_round
    db.session.add(VotingCode(round_id=round_.id, code_hash="0" * 64, batch=9))
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_a_void_stops_the_unused_codes_only(app, code_round):
    round_, coordinator, proposals = code_round
    used, held, unused = voting.generate_codes(coordinator, round_, 3)
    other = voting.generate_codes(coordinator, round_, 1)[0]
    db.session.commit()
    cast(app, round_, used, proposals[0])
    held_voter = voting.online_code_voter(round_, held)  # a browser holds it already

    assert voting.void_batch(coordinator, round_, 1, "  The printer jammed. ") == 2
    db.session.commit()
    batch = db.session.execute(select(VotingCodeBatch).where(
        VotingCodeBatch.number == 1)).scalar_one()
    assert batch.void_reason == "The printer jammed." and batch.voided_by_id == coordinator.id
    [summary] = [s for s in voting.code_batches(round_) if s.batch.number == 1]
    assert (summary.used, summary.stopped) == (1, 2)

    with pytest.raises(voting.VotingError) as refused:
        voting.online_code_voter(round_, unused)
    assert refused.value.code == "code_not_usable"
    with pytest.raises(voting.VotingError) as refused:
        voting.cast_ballot(VoteKeys.from_config(app.config), round_.id, held_voter,
                           VoteChannel.CODE, {proposals[0]: 1})
    assert refused.value.code == "code_not_usable"
    db.session.rollback()
    with pytest.raises(voting.VotingError) as refused:
        voting.paper_voter(round_, unused)
    assert refused.value.code == "paper_code_voided"
    # The code that voted before the void may still change its vote; the next batch works.
    assert cast(app, round_, used, proposals[1]).replaced
    cast(app, round_, other, proposals[0])
    assert db.session.scalar(select(func.count()).select_from(Participation)) == 2
    assert len(voting.counted_choices(VoteKeys.from_config(app.config), round_.id)) == 2


@pytest.mark.parametrize(("phase", "number", "reason", "code"), [
    (RoundPhase.VOTING, 1, " ", "reason_required"),
    (RoundPhase.VOTING, 5, "Lost", "batch_unknown"),
    (RoundPhase.PUBLISHED, 1, "Lost", "round_over"),
    (RoundPhase.CANCELLED, 1, "Lost", "round_over"),
])
def test_a_void_is_refused_in_words(code_round, phase, number, reason, code):
    round_, coordinator, _ = code_round
    voting.generate_codes(coordinator, round_, 1)
    round_.phase = phase
    db.session.flush()
    with pytest.raises(voting.VotingError) as refused:
        voting.void_batch(coordinator, round_, number, reason)
    assert refused.value.code == code


def test_a_batch_is_voided_once(code_round):
    round_, coordinator, _ = code_round
    voting.generate_codes(coordinator, round_, 1)
    voting.void_batch(coordinator, round_, 1, "Lost")
    with pytest.raises(voting.VotingError) as refused:
        voting.void_batch(coordinator, round_, 1, "Lost again")
    assert refused.value.code == "batch_voided"
