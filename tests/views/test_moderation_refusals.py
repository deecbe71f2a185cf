"""A moderator whose action lost a race is told, in their language, that someone else
acted; nothing of their action is saved. (The races themselves, with parallel requests:
tests/services/test_races.py and tests/attack/test_races.py.)"""

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, MembershipRole, Proposal, ProposalStatus, RoundPhase
from pb_vote.services import accounts, proposals
from tests import factories


@pytest.fixture
def scene(app):
    with app.app_context():
        city = factories.city()
        factories.user("jasen@example.org", role=MembershipRole.MEMBER, at=city.own,
                       language="fi")
        round_ = factories.round_(city.own, RoundPhase.REVIEW)
        proposal = factories.proposal(round_, title="Penkit rantaan")
        db.session.commit()
        return {"proposal": proposal.id}


def test_the_page_sends_the_status_it_showed_and_a_stale_one_is_refused(app, client, auth,
                                                                        scene):
    auth.staff("jasen@example.org")
    page = client.get(f"/manage/proposals/{scene['proposal']}").text
    for action in ("accept", "changes", "reject", "hide"):
        assert f'name="{action}-seen" value="submitted"' in page
    with app.app_context():  # another moderator accepts it meanwhile
        proposals.accept(accounts.find_user_by_email("member@example.org"),
                         db.session.get(Proposal, scene["proposal"]), 300_000)
        db.session.commit()
    answer = client.post(f"/manage/proposals/{scene['proposal']}/reject",
                         data={"reject-seen": "submitted", "reject-reason": "Liian kallis.",
                               "reject-confirm": "y"})
    assert answer.status_code == 400
    assert "Joku muu käsitteli ehdotusta samaan aikaan" in answer.text
    assert 'name="reject-seen" value="accepted"' in answer.text  # the page shows it now
    with app.app_context():
        assert db.session.get(Proposal, scene["proposal"]).status is ProposalStatus.ACCEPTED


def test_a_moderator_is_told_in_finnish_that_someone_else_acted(app, client, auth, scene,
                                                                monkeypatch):
    held = proposals._hold_round

    def rejected_meanwhile(round_):
        """Another moderator rejects the proposal after this request has read it."""
        with db.engine.begin() as other:
            other.execute(Proposal.__table__.update().values(
                status="rejected", rejection_reason="Ei toteutettavissa.").where(
                Proposal.__table__.c.id == scene["proposal"]))
        held(round_)

    monkeypatch.setattr(proposals, "_hold_round", rejected_meanwhile)
    auth.staff("jasen@example.org")
    answer = client.post(f"/manage/proposals/{scene['proposal']}/accept",
                         data={"accept-reviewed_cost": "4000", "accept-public_note": ""})
    assert answer.status_code == 400
    assert "Joku muu käsitteli ehdotusta samaan aikaan, joten tätä ei tehty." in answer.text
    with app.app_context():
        proposal = db.session.get(Proposal, scene["proposal"])
        assert (proposal.status, proposal.reviewed_cost_cents) == (ProposalStatus.REJECTED,
                                                                   None)
        assert db.session.execute(select(AuditEvent.action)).scalars().all() == []
