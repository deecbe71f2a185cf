"""Supports through the pages: the round setting, the button on the idea page and in the
round's list (off by default), signing in first, the area refusal, the phase rules, and
the threshold at review start as the moderators, the author and the public see it."""

import pytest
from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalStatus, ProposalSupport, Round, RoundPhase
from tests import factories
from tests.views.test_round_setup import round_form


@pytest.fixture
def scene(app):
    with app.app_context():
        built = factories.support_scene()
        db.session.commit()
        return built


def _supports(app) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(ProposalSupport)).scalar_one()


def _press(client, proposal_id, want="support", back="proposal"):
    return client.post(f"/proposals/{proposal_id}/support", data={"want": want, "back": back})


def test_supports_are_off_by_default_no_count_no_button(app, client, auth):
    with app.app_context():
        built = factories.comment_scene()
        db.session.commit()
    auth.resident("neighbour@example.org")
    for page in (client.get(f"/proposals/{built.proposal_id}").text,
                 client.get(f"/rounds/{built.round_id}").text):
        assert "Support this idea" not in page and "supports" not in page.lower()
    refused = _press(client, built.proposal_id)
    assert refused.status_code == 303
    assert "This round does not collect supports." in client.get(refused.location).text
    assert _supports(app) == 0


def test_a_resident_supports_and_takes_it_back_on_the_idea_page(app, client, auth, scene):
    auth.resident("supporter1@example.org")
    page = client.get(f"/proposals/{scene.proposal_id}").text
    assert "0 supports · 2 needed to reach review" in page
    assert 'name="want" value="support"' in page
    pressed = _press(client, scene.proposal_id)
    assert pressed.status_code == 303
    assert pressed.location.endswith(f"/proposals/{scene.proposal_id}#supports")
    page = client.get(pressed.location).text
    assert "1 support · 2 needed" in page and "Take back my support" in page
    assert 'name="want" value="withdraw"' in page
    assert _press(client, scene.proposal_id).status_code == 303  # the same button again
    assert _supports(app) == 1
    taken_back = _press(client, scene.proposal_id, want="withdraw")
    assert "You no longer support this idea." in client.get(taken_back.location).text
    assert _supports(app) == 0


def test_the_round_list_shows_counts_and_its_button_returns_to_the_list(
        app, client, auth, scene):
    auth.resident("supporter1@example.org")
    pressed = _press(client, scene.other_id, back="round")
    assert pressed.location.endswith(f"/rounds/{scene.round_id}#proposal-{scene.other_id}")
    page = client.get(pressed.location).text
    assert page.count("Support this idea") == 1  # the other idea's button
    assert "1 support · 2 needed" in page and "0 supports · 2 needed" in page


def test_counts_never_say_who_supported(app, client, auth, scene):
    auth.resident("supporter1@example.org")
    _press(client, scene.proposal_id)
    client.post("/sign-out")
    for page in (client.get(f"/proposals/{scene.proposal_id}").text,
                 client.get(f"/rounds/{scene.round_id}").text):
        assert "1 support" in page and "Supporter1" not in page
        assert "supporter1@example.org" not in page


def test_not_signed_in_is_sent_to_sign_in(app, client, scene):
    page = client.get(f"/proposals/{scene.proposal_id}").text
    assert "Support this idea" in page  # offered to everyone while supports are open
    answer = _press(client, scene.proposal_id)
    assert answer.status_code == 303 and "/sign-in" in answer.location
    assert answer.location.endswith(f"next=/proposals/{scene.proposal_id}")
    assert _supports(app) == 0


def test_a_resident_of_another_area_is_told_why(app, client, auth, scene):
    auth.resident("neighbour@example.org")
    refused = _press(client, scene.proposal_id)
    page = client.get(refused.location).text
    assert ("Your home postal code (15200) is not in this table&#39;s area, so you cannot "
            "support its ideas.") in page
    assert _supports(app) == 0


def test_the_author_gets_no_button_and_is_refused(app, client, auth, scene):
    auth.resident("author@example.org")
    page = client.get(f"/proposals/{scene.proposal_id}").text
    assert "0 supports" in page and "Support this idea" not in page
    refused = _press(client, scene.proposal_id)
    assert "You cannot support your own idea." in client.get(refused.location).text


def test_after_the_idea_window_no_button_and_no_support(app, client, auth, scene):
    with app.app_context():
        db.session.get(Round, scene.round_id).phase = RoundPhase.REVIEW
        db.session.commit()
    auth.resident("supporter1@example.org")
    page = client.get(f"/proposals/{scene.proposal_id}").text
    assert "0 supports" in page and "Support this idea" not in page
    refused = _press(client, scene.proposal_id)
    assert ("Ideas can be supported only while the round collects ideas."
            in client.get(refused.location).text)
    assert _supports(app) == 0


def _start_review(app, client, auth, scene):
    auth.staff("coordinator@example.org")
    moved = client.post(f"/manage/rounds/{scene.round_id}/phase",
                        data={"target": "review", "confirm": "y"})
    assert moved.status_code == 303, moved.text


def test_review_start_marks_ideas_short_of_the_threshold_for_everyone(
        app, client, auth, scene):
    auth.resident("supporter1@example.org")
    _press(client, scene.proposal_id)
    client.post("/sign-out")
    auth.resident("supporter2@example.org")
    _press(client, scene.proposal_id)
    client.post("/sign-out")
    _start_review(app, client, auth, scene)
    queue = client.get(f"/manage/rounds/{scene.round_id}/proposals").text
    assert queue.count("Did not reach 2 supports") == 1
    assert "2 supports" in queue and "0 supports" in queue
    moderate = client.get(f"/manage/proposals/{scene.other_id}").text
    assert "Why it goes on the ballot without enough supports" in moderate
    assert "<dd>0 supports</dd>" in moderate
    refused = client.post(f"/manage/proposals/{scene.other_id}/accept",
                          data={"accept-reviewed_cost": "4000", "accept-seen": "submitted"})
    assert refused.status_code == 400
    assert "This idea did not reach 2 supports before review." in refused.text
    client.post("/sign-out")
    public = client.get(f"/proposals/{scene.other_id}").text
    assert "Did not reach 2 supports before review" in public
    assert "Did not reach" not in client.get(f"/proposals/{scene.proposal_id}").text
    auth.resident("author@example.org")
    mine = client.get("/my/proposals").text
    assert mine.count("Did not reach 2 supports") == 1


def test_a_moderator_puts_a_short_idea_on_the_ballot_with_a_reason(app, client, auth, scene):
    _start_review(app, client, auth, scene)
    accepted = client.post(f"/manage/proposals/{scene.other_id}/accept", data={
        "accept-reviewed_cost": "4000", "accept-seen": "submitted",
        "accept-support_override": "Signed on paper at the library."})
    assert accepted.status_code == 303, accepted.text
    with app.app_context():
        idea = db.session.get(Proposal, scene.other_id)
        assert (idea.status, idea.short_of_supports) == (ProposalStatus.ACCEPTED, False)


def test_the_coordinator_sets_supports_on_the_round_form(app, client, auth, scene):
    auth.staff("coordinator@example.org")
    form_page = client.get("/manage/tables/keskusta/rounds/new").text
    assert "Residents can support ideas before review" in form_page
    created = client.post("/manage/tables/keskusta/rounds/new", data=round_form(
        voter_eligibility="residents", supports_enabled="y", support_threshold="25"))
    assert created.status_code == 303, created.text
    overview = client.get(created.location).text
    assert "On: an idea needs 25 supports to reach review" in overview
    refused = client.post("/manage/tables/keskusta/rounds/new", data=round_form(
        voter_eligibility="codes", supports_enabled="y", support_threshold="0"))
    assert refused.status_code == 200  # the form again, as for every refused setting
    assert "Use a number from 1 to 100000." in refused.text
    assert "Supports need residents" in refused.text
