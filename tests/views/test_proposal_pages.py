"""Residents submit ideas; members moderate them; everyone reads them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    MembershipRole,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Round,
    RoundPhase,
)
from tests import factories


@pytest.fixture
def scene(app):
    """factories.city() with Keskusta in its proposal phase, a coordinator of Pohjoinen, a
    resident with an idea and a second resident."""
    with app.app_context():
        town = factories.city()
        factories.user("stranger@example.org", role=MembershipRole.COORDINATOR, at=town.other)
        author = factories.user("author@example.org")
        factories.user("neighbour@example.org")
        round_ = factories.round_(town.own, RoundPhase.PROPOSALS, budget_cents=5_000_000)
        idea = factories.proposal(round_, author=author, title="Benches by the lake")
        db.session.commit()
        return {"round": round_.id, "idea": idea.id}


def idea_form(**overrides):
    data = {"title": "Lights for the ski track", "description": "LED lights for the loop.",
            "estimated_cost": "12 500,50", "category": "Sports", "location": "Kivimaa",
            "link": ""}
    data.update(overrides)
    return data


def test_resident_submits_an_idea_and_sees_its_status(app, client, auth, scene):
    auth.resident("neighbour@example.org")
    page = client.get(f"/rounds/{scene['round']}")
    assert f"/rounds/{scene['round']}/propose" in page.text
    response = client.post(f"/rounds/{scene['round']}/propose", data=idea_form())
    assert response.status_code == 303
    with app.app_context():
        proposal = db.session.execute(
            select(Proposal).where(Proposal.title == "Lights for the ski track")
        ).scalar_one()
        assert proposal.estimated_cost_cents == 1_250_050
        assert proposal.origin is ProposalOrigin.RESIDENT
        assert proposal.status is ProposalStatus.SUBMITTED
    mine = client.get("/my/proposals").text
    assert "Lights for the ski track" in mine and "Submitted" in mine


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Give the idea a title."),
        ({"title": "x" * 201}, "Use at most 200 characters."),
        ({"estimated_cost": "0"}, "more than zero"),
        ({"estimated_cost": "-100"}, "Write an amount in euros"),
        ({"estimated_cost": "a lot"}, "Write an amount in euros"),
        ({"estimated_cost": "60000"}, "The cost is more than the round&#39;s whole budget."),
        ({"category": "Cooking"}, "Not a valid choice"),
        ({"link": "javascript:alert(1)"}, "Write a full address starting with https://."),
        ({"description": ""}, "Describe the idea."),
    ],
)
def test_bad_ideas_are_explained_and_what_was_typed_is_kept(app, client, auth, scene,
                                                             overrides, message):
    auth.resident("neighbour@example.org")
    form = idea_form(**overrides)
    response = client.post(f"/rounds/{scene['round']}/propose", data=form)
    assert response.status_code == 200
    assert message in response.text
    if form["title"]:
        assert form["title"][:50] in response.text
    with app.app_context():
        assert db.session.execute(
            select(Proposal).where(Proposal.author.has(email="neighbour@example.org"))
        ).first() is None


def test_an_idea_after_the_window_is_refused_by_server_time(app, client, auth, scene,
                                                            frozen_clock):
    with app.app_context():
        close = db.session.get(Round, scene["round"]).proposals_close_at
    app.config["LOGIN_SESSION_DAYS"] = 60  # the clock jumps weeks ahead below
    auth.resident("neighbour@example.org")
    page = client.get(f"/rounds/{scene['round']}/propose")  # opened in time
    assert page.status_code == 200
    frozen_clock.set(close)
    response = client.post(f"/rounds/{scene['round']}/propose", data=idea_form())
    assert "The time for this has ended" in response.text
    with app.app_context():
        assert db.session.execute(
            select(Proposal).where(Proposal.title == "Lights for the ski track")
        ).first() is None


def test_author_edits_and_withdraws_until_review(app, client, auth, scene, frozen_clock):
    auth.resident("author@example.org")
    edit = client.post(f"/proposals/{scene['idea']}/edit",
                       data=idea_form(title="Benches along the shore"))
    assert edit.status_code == 303
    other = app.test_client()
    other_auth = type(auth)(app, other)
    other_auth.resident("neighbour@example.org")
    assert other.post(f"/proposals/{scene['idea']}/edit", data=idea_form()).status_code == 403
    refused = client.post(f"/proposals/{scene['idea']}/withdraw", data={})
    assert "Tick the box to confirm." in refused.text
    withdrawn = client.post(f"/proposals/{scene['idea']}/withdraw", data={"confirm": "y"})
    assert withdrawn.status_code == 303
    with app.app_context():
        proposal = db.session.get(Proposal, scene["idea"])
        assert proposal.title == "Benches along the shore"
        assert proposal.status is ProposalStatus.WITHDRAWN
    public = app.test_client().get(f"/proposals/{scene['idea']}")
    assert public.status_code == 410 and "Benches along the shore" not in public.text


def test_member_accepts_with_reviewed_cost_and_the_author_is_told(app, client, auth, scene,
                                                                  mailbox):
    auth.staff("member@example.org")
    missing = client.post(f"/manage/proposals/{scene['idea']}/accept",
                          data={"accept-reviewed_cost": ""})
    assert missing.status_code == 400 and "Give the reviewed cost." in missing.text
    response = client.post(
        f"/manage/proposals/{scene['idea']}/accept",
        data={"accept-reviewed_cost": "7 000", "accept-public_note": "Two benches fewer."},
    )
    assert response.status_code == 303
    with app.app_context():
        proposal = db.session.get(Proposal, scene["idea"])
        assert proposal.status is ProposalStatus.ACCEPTED
        assert proposal.reviewed_cost_cents == 700_000
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "proposal.accepted")
        ).scalar_one()
        assert event.actor_role == "member" and event.details["reviewed_cost_cents"] == 700_000
    [mail] = [m for m in mailbox if m.to == "author@example.org"]
    assert "On the ballot" in mail.body and "Two benches fewer." in mail.body
    page = client.get(f"/proposals/{scene['idea']}").text
    assert "Two benches fewer." in page


def test_member_rejects_with_a_public_reason(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    empty = client.post(f"/manage/proposals/{scene['idea']}/reject", data={"reject-reason": ""})
    assert "Write the reason." in empty.text and "Tick the box to confirm." in empty.text
    client.post(f"/manage/proposals/{scene['idea']}/reject",
                data={"reject-reason": "The shore belongs to the state.", "reject-confirm": "y"})
    page = app.test_client().get(f"/proposals/{scene['idea']}").text
    assert "The shore belongs to the state." in page and "Not taken forward" in page
    assert any("The shore belongs to the state." in m.body for m in mailbox)


def test_changes_requested_then_resubmitted_by_the_author(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    client.post(f"/manage/proposals/{scene['idea']}/changes",
                data={"changes-reason": "Which lake, please?"})
    author = app.test_client()
    type(auth)(app, author).resident("author@example.org")
    page = author.get(f"/proposals/{scene['idea']}").text
    assert "Which lake, please?" in page
    author.post(f"/proposals/{scene['idea']}/edit", data=idea_form(location="Vesijärvi"))
    with app.app_context():
        proposal = db.session.get(Proposal, scene["idea"])
        assert proposal.status is ProposalStatus.SUBMITTED
        assert proposal.location == "Vesijärvi"


def test_merge_redirects_and_credits_the_authors(app, client, auth, scene, mailbox):
    with app.app_context():
        round_ = db.session.get(Round, scene["round"])
        neighbour = db.session.execute(
            select(factories.User).where(factories.User.email == "neighbour@example.org")
        ).scalar_one()
        neighbour.display_name = "Neea Neighbour"
        duplicate = factories.proposal(round_, author=neighbour, title="More benches")
        db.session.commit()
        duplicate_id = duplicate.id
    auth.staff("member@example.org")
    response = client.post(f"/manage/proposals/{scene['idea']}/merge",
                           data={"merge-duplicates": [str(duplicate_id)]})
    assert response.status_code == 303
    moved = client.get(f"/proposals/{duplicate_id}")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(f"/proposals/{scene['idea']}")
    survivor = client.get(f"/proposals/{scene['idea']}").text
    assert "More benches" in survivor and "Neea Neighbour" in survivor
    recipients = {mail.to for mail in mailbox}
    assert {"neighbour@example.org", "author@example.org"} <= recipients


def test_hidden_content_is_not_shown_but_the_reason_is_kept(app, client, auth, scene):
    auth.staff("member@example.org")
    client.post(f"/manage/proposals/{scene['idea']}/hide",
                data={"hide-reason": "Insults.", "hide-confirm": "y"})
    public = app.test_client().get(f"/proposals/{scene['idea']}")
    assert public.status_code == 410
    assert "Benches by the lake" not in public.text and "Insults." not in public.text
    listing = app.test_client().get(f"/rounds/{scene['round']}").text
    assert "Benches by the lake" not in listing
    with app.app_context():
        assert db.session.get(Proposal, scene["idea"]).hidden_reason == "Insults."


@pytest.mark.parametrize("action", ["accept", "changes", "reject", "hide", "merge"])
def test_moderation_of_another_tables_proposal_is_forbidden(client, auth, scene, action):
    auth.staff("stranger@example.org")
    response = client.post(f"/manage/proposals/{scene['idea']}/{action}",
                           data={f"{action}-reason": "x", f"{action}-confirm": "y",
                                 "accept-reviewed_cost": "10"})
    assert response.status_code == 403
    assert client.get(f"/manage/rounds/{scene['round']}/proposals").status_code == 403


def test_moderation_in_the_wrong_phase_is_explained(app, client, auth, scene):
    with app.app_context():
        db.session.get(Round, scene["round"]).phase = RoundPhase.CLOSED
        db.session.commit()
    auth.staff("member@example.org")
    response = client.post(f"/manage/proposals/{scene['idea']}/reject",
                           data={"reject-reason": "Too late", "reject-confirm": "y"})
    assert response.status_code == 400
    assert "only while the round collects or reviews ideas" in response.text


def test_staff_add_proposals_for_the_table_or_the_city(app, client, auth, scene):
    auth.staff("member@example.org")
    response = client.post(f"/manage/rounds/{scene['round']}/proposals/new",
                           data=idea_form(origin="city", title="Safer crossing"))
    assert response.status_code == 303
    page = client.get(f"/rounds/{scene['round']}").text
    assert "City&#39;s idea" in page or "City's idea" in page


def test_queue_filters(client, auth, scene, app):
    with app.app_context():
        round_ = db.session.get(Round, scene["round"])
        factories.proposal(round_, title="Skate park", status=ProposalStatus.ACCEPTED,
                           origin=ProposalOrigin.CITY)
        db.session.commit()
    auth.staff("member@example.org")
    base = f"/manage/rounds/{scene['round']}/proposals"
    assert "Skate park" in client.get(base).text
    accepted = client.get(base + "?status=accepted").text
    assert "Skate park" in accepted and "Benches by the lake" not in accepted
    resident = client.get(base + "?origin=resident").text
    assert "Skate park" not in resident and "Benches by the lake" in resident
    search = client.get(base + "?q=skate").text
    assert "Skate park" in search and "Benches by the lake" not in search


def test_round_page_search_filter_and_sort(app, client, scene):
    with app.app_context():
        round_ = db.session.get(Round, scene["round"])
        factories.proposal(round_, title="Art in the underpass", category="Culture",
                           cost_cents=100_000)
        db.session.commit()
    base = f"/rounds/{scene['round']}"
    page = client.get(base + "?category=Culture").text
    assert "Art in the underpass" in page and "Benches by the lake" not in page
    cheap_first = client.get(base + "?sort=cost").text
    assert cheap_first.index("Art in the underpass") < cheap_first.index("Benches by the lake")
    found = client.get(base + "?q=BENCH").text
    assert "Benches by the lake" in found and "Art in the underpass" not in found


def test_table_page_shows_who_proposes(app, client, scene):
    with app.app_context():
        round_ = db.session.get(Round, scene["round"])
        factories.proposal(round_, title="City idea", origin=ProposalOrigin.CITY)
        factories.proposal(round_, title="Hidden", status=ProposalStatus.HIDDEN)
        db.session.commit()
    page = client.get("/tables/keskusta").text
    assert "Who proposes" in page
    # Two resident proposals would be 67 %; the hidden one does not count: 1 resident, 1 city.
    assert "50%" in page


def test_api_lists_the_accepted_proposals_with_reviewed_costs(app, client, scene):
    with app.app_context():
        round_ = db.session.get(Round, scene["round"])
        factories.proposal(round_, title="On the ballot", status=ProposalStatus.ACCEPTED,
                           cost_cents=250_000)
        db.session.commit()
    body = client.get(f"/api/v1/rounds/{scene['round']}/proposals").get_json()
    assert [p["title"] for p in body["proposals"]] == ["On the ballot"]
    assert body["proposals"][0]["reviewed_cost_cents"] == 250_000


def test_schedule_catches_up_when_the_api_reads_a_round(app, client, scene, frozen_clock):
    with app.app_context():
        close = db.session.get(Round, scene["round"]).proposals_close_at
    frozen_clock.set(close + timedelta(hours=1))
    assert client.get(f"/api/v1/rounds/{scene['round']}").get_json()["phase"] == "review"
