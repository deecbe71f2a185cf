"""The moderation page offers what fits the proposal's status (the other actions behind a
disclosure), asks for a reviewed cost instead of pre-filling the author's estimate, and has
dangerous actions confirmed."""

import re

import pytest

from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalStatus, RoundPhase
from tests import factories

S = ProposalStatus


@pytest.fixture
def scene(app):
    """factories.city() with Keskusta in review: a proposal in each status, an estimate of
    4,500 € each (the accepted one reviewed at 4,500 €)."""
    with app.app_context():
        town = factories.city()
        author = factories.user("author@example.org")
        round_ = factories.round_(town.own, RoundPhase.REVIEW)
        ids = {}
        for status in (S.SUBMITTED, S.CHANGES_REQUESTED, S.ACCEPTED, S.REJECTED, S.WITHDRAWN,
                       S.HIDDEN):
            ids[status] = factories.proposal(round_, author=author, cost_cents=450_000,
                                             title=f"Idea {status.value}", status=status).id
        db.session.commit()
        return ids


def sections(page: str) -> tuple[list[str], list[str]]:
    """The action sections shown at once and those behind "Other actions", by form name."""
    shown, _, behind = page.partition('<details class="disclosure"')
    names = r'<section class="card action" aria-labelledby="(\w+)-heading">'
    return re.findall(names, shown), re.findall(names, behind)


@pytest.mark.parametrize(
    ("status", "shown", "behind"),
    [(S.SUBMITTED, ["accept", "changes"], ["reject", "merge", "hide"]),
     (S.CHANGES_REQUESTED, ["accept"], ["changes", "reject", "merge", "hide"]),
     (S.ACCEPTED, ["accept", "merge"], ["changes", "reject", "hide"]),
     (S.REJECTED, [], ["accept", "changes", "hide"]),
     (S.WITHDRAWN, [], ["hide"]),
     (S.HIDDEN, [], [])],
)
def test_the_page_shows_what_fits_the_status_first(client, auth, scene, status, shown, behind):
    auth.staff("member@example.org")
    page = client.get(f"/manage/proposals/{scene[status]}").text
    assert sections(page) == (shown, behind)
    if not shown and not behind:
        assert "Nothing more can be done with this proposal." in page
    assert ('<details class="disclosure" open>' in page) is False  # closed until needed


def test_the_reviewed_cost_is_not_the_authors_estimate_until_someone_writes_it(
        app, client, auth, scene):
    auth.staff("member@example.org")
    page = client.get(f"/manage/proposals/{scene[S.SUBMITTED]}").text
    field = re.search(r'<input[^>]*name="accept-reviewed_cost"[^>]*>', page).group(0)
    assert 'value=""' in field
    assert 'aria-describedby="accept-reviewed_cost-hint"' in field
    assert "The author&#39;s estimate: €4,500." in page
    # One click does not accept it.
    refused = client.post(f"/manage/proposals/{scene[S.SUBMITTED]}/accept",
                          data={"accept-seen": "submitted", "accept-reviewed_cost": ""})
    assert refused.status_code == 400 and "Give the reviewed cost." in refused.text
    with app.app_context():
        assert db.session.get(Proposal, scene[S.SUBMITTED]).status is S.SUBMITTED
    accepted = client.post(f"/manage/proposals/{scene[S.SUBMITTED]}/accept",
                           data={"accept-seen": "submitted", "accept-reviewed_cost": "4 500"})
    assert accepted.status_code == 303
    with app.app_context():
        assert db.session.get(Proposal, scene[S.SUBMITTED]).reviewed_cost_cents == 450_000


def test_an_accepted_proposal_shows_its_reviewed_cost_to_change(client, auth, scene):
    auth.staff("member@example.org")
    page = client.get(f"/manage/proposals/{scene[S.ACCEPTED]}").text
    assert re.search(r'name="accept-reviewed_cost"[^>]*value="4500"', page)
    assert "Change the reviewed cost" in page and "Save the reviewed cost" in page


@pytest.mark.parametrize("action", ["reject", "hide"])
def test_dangerous_actions_are_styled_so_and_confirmed(app, client, auth, scene, action):
    auth.staff("member@example.org")
    page = client.get(f"/manage/proposals/{scene[S.SUBMITTED]}").text
    form = re.search(rf'<form[^>]*/{action}"[^>]*>.*?</form>', page, re.S).group(0)
    assert f'name="{action}-confirm"' in form and 'class="button danger"' in form
    unconfirmed = client.post(f"/manage/proposals/{scene[S.SUBMITTED]}/{action}", data={
        f"{action}-seen": "submitted", f"{action}-reason": "Not in the city's area."})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.text
    assert '<details class="disclosure" open>' in unconfirmed.text  # the error is in view
    with app.app_context():
        assert db.session.get(Proposal, scene[S.SUBMITTED]).status is S.SUBMITTED
    done = client.post(f"/manage/proposals/{scene[S.SUBMITTED]}/{action}", data={
        f"{action}-seen": "submitted", f"{action}-reason": "Not in the city's area.",
        f"{action}-confirm": "y"})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Proposal, scene[S.SUBMITTED]).status is (
            S.REJECTED if action == "reject" else S.HIDDEN)


def test_a_refusal_is_said_even_when_its_form_no_longer_fits(app, client, auth, scene):
    """Hidden by someone else meanwhile: the page has no actions left, but says why this
    one was not done."""
    auth.staff("member@example.org")
    with app.app_context():
        db.session.get(Proposal, scene[S.SUBMITTED]).status = S.HIDDEN
        db.session.get(Proposal, scene[S.SUBMITTED]).hidden_reason = "Abusive."
        db.session.commit()
    answer = client.post(f"/manage/proposals/{scene[S.SUBMITTED]}/reject", data={
        "reject-seen": "submitted", "reject-reason": "Too late.", "reject-confirm": "y"})
    assert answer.status_code == 400
    assert "Someone else acted on this proposal at the same moment" in answer.text
    assert "Nothing more can be done with this proposal." in answer.text
