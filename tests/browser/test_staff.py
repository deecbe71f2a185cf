"""Staff journeys in a real browser, on a phone and a desktop, with JavaScript and without:
a coordinator sets up a round (every error at once; each ballot kind's settings in a
fieldset of its own) and opens it for ideas; a member moderates with the actions that fit
first; a coordinator opens voting with an idea still unreviewed, and cancels a round."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import ProposalStatus, Round, RoundPhase, Table
from tests import factories
from tests.browser.helpers import sign_in_with_password

pytestmark = pytest.mark.browser
HELSINKI = ZoneInfo("Europe/Helsinki")


# Each journey runs on a desktop and a phone with JavaScript, and on a phone without it (what
# works without JavaScript does not depend on the screen; a phone is the tighter layout).
RUNS = [("desktop", "js"), ("phone", "js"), ("phone", "no-js")]


@pytest.fixture(params=RUNS, ids=["-".join(run) for run in RUNS])
def run(request):
    """This run's viewport and mode."""
    return request.param


@pytest.fixture
def viewport(run):
    """The viewport of this run (overrides conftest's, which runs every viewport)."""
    return run[0]


@pytest.fixture
def mode(run):
    """With JavaScript ("js") or without ("no-js")."""
    return run[1]


@pytest.fixture
def staff_page(new_context, viewport, visit, mode):
    """A page of this run's viewport and mode, watched by ``visit`` (a page without
    JavaScript is checked by axe-core in a copy, see helpers.check_axe_copy)."""
    if mode == "js":
        return visit.watch(new_context(viewport).new_page())
    context = new_context(viewport, java_script_enabled=False)
    return visit.watch(context.new_page(), axe_copy_in=new_context(viewport).new_page())


def _local(days: int) -> str:
    moment = (clock.utcnow() + timedelta(days=days)).astimezone(HELSINKI)
    return moment.replace(hour=12, minute=0).strftime("%Y-%m-%dT%H:%M")


def _round(scenario, phase, title, *, accepted=(), waiting=()) -> int:
    """A round of Keskusta in ``phase`` with accepted proposals and ideas waiting for review
    (each given by title); returns its id."""
    with scenario.app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "keskusta")).scalar_one()
        round_ = factories.round_(table, phase, title=title)
        for name in accepted:
            factories.proposal(round_, title=name, status=ProposalStatus.ACCEPTED)
        for name in waiting:
            factories.proposal(round_, title=name)
        db.session.commit()
        return round_.id


def test_coordinator_sets_up_a_round_and_opens_it_for_ideas(staff_page, visit, scenario,
                                                            viewport, mode):
    page, title = staff_page, f"Keskusta 2028 ({viewport}, {mode})"
    sign_in_with_password(page, scenario.coordinator, scenario.password)
    page.goto("/manage/tables/keskusta/rounds/new")
    kinds = {kind: page.locator(f"fieldset[data-ballot-kind={kind}]")
             for kind in ("approval", "knapsack", "points")}
    expect(kinds["points"].locator("legend")).to_have_text("Only for a points ballot")
    if mode == "js":  # only the chosen kind's settings
        expect(kinds["approval"]).to_be_visible()
        expect(kinds["points"]).to_be_hidden()
        page.get_by_label("Points: distribute points among proposals").check()
        expect(kinds["points"]).to_be_visible()
        expect(kinds["approval"]).to_be_hidden()
        page.get_by_label("Approval: pick between a minimum and a maximum number of "
                          "proposals").check()
    else:  # every kind's, each named by its kind
        for group in kinds.values():
            expect(group).to_be_visible()
    visit(page, f"{mode}-round-form")

    # Field errors and the round's own rules come back together, in one pass.
    page.get_by_label("Budget in euros").fill("lots")
    page.get_by_label("Ideas: window opens").fill(_local(1))
    page.get_by_label("Ideas: window closes (review starts)").fill(_local(31))
    page.get_by_label("Voting opens").fill(_local(20))
    page.get_by_label("Voting closes").fill(_local(59))
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Give the round a title.")
    expect(summary).to_contain_text("Write an amount in euros")
    expect(summary).to_contain_text("Voting can start only after the proposal window ends.")
    expect(page.get_by_label("Voting opens")).to_have_attribute("aria-invalid", "true")
    visit(page, f"{mode}-round-form-errors")

    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Budget in euros").fill("80 000")
    page.get_by_label("Voting opens").fill(_local(45))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    actions = page.locator("ul.actions a")
    expect(actions).to_have_text(["Open for ideas", "Settings"])
    expect(actions.first).to_have_class("button")  # the one primary action
    visit(page, f"{mode}-draft-overview")

    page.get_by_role("link", name="Open for ideas").click()
    expect(page.get_by_role("heading", name="Open the round for ideas")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the round")).to_be_hidden()  # tucked away
    visit(page, f"{mode}-open-for-ideas")
    page.get_by_label(re.compile("I have checked this")).check()
    page.get_by_role("button", name="Open for ideas").click()
    expect(page.get_by_text("The round is now in the phase: Collecting ideas.")).to_be_visible()
    expect(actions.first).to_have_text("Moderate proposals")
    with scenario.app.app_context():
        round_ = db.session.execute(select(Round).where(Round.title == title)).scalar_one()
        assert round_.phase is RoundPhase.PROPOSALS
        assert round_.proposals_open_at <= clock.utcnow()  # ideas are taken from now on
    visit(page, f"{mode}-opened")


def test_member_moderates_with_the_fitting_actions_first(staff_page, visit, scenario,
                                                         viewport, mode):
    page = staff_page
    rejected = scenario.submitted_idea(f"Fountain on the roof ({viewport}, {mode})")
    accepted = scenario.submitted_idea(f"Reading benches ({viewport}, {mode})")
    sign_in_with_password(page, scenario.member, scenario.password)

    page.goto(f"/manage/proposals/{rejected}")
    accept = page.get_by_role("region", name="Accept to the ballot")
    expect(accept.get_by_label("Reviewed cost in euros")).to_have_value("")
    expect(accept).to_contain_text("The author's estimate: €4,500.")
    reject = page.get_by_role("region", name="Reject")
    expect(reject).to_be_hidden()  # behind "Other actions"
    visit(page, f"{mode}-moderate")
    page.get_by_text("Other actions").click()
    expect(reject).to_be_visible()
    expect(reject.get_by_role("button", name="Reject")).to_have_class("button danger")
    reject.get_by_label("Reason", exact=True).fill("The roof belongs to a private company.")
    reject.get_by_role("button", name="Reject").click()
    # Not confirmed: nothing is done, and the form stays open with the error.
    expect(page.get_by_role("region", name="Reject")).to_contain_text("Tick the box to confirm.")
    visit(page, f"{mode}-reject-unconfirmed", status=400)
    reject = page.get_by_role("region", name="Reject")
    reject.get_by_label("Yes, reject this proposal").check()
    reject.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("Done. The author gets a mail about it.")).to_be_visible()
    expect(page.locator("p.meta")).to_contain_text("Not taken forward")
    expect(page.get_by_text("Actions still possible")).to_be_visible()
    visit(page, f"{mode}-rejected")

    page.goto(f"/manage/proposals/{accepted}")
    page.get_by_role("region", name="Accept to the ballot").get_by_role(
        "button", name="Accept to the ballot").click()
    expect(page.locator(".error-summary")).to_contain_text("Give the reviewed cost.")
    visit(page, f"{mode}-accept-without-cost", status=400)
    page.get_by_role("region", name="Accept to the ballot").get_by_label(
        "Reviewed cost in euros").fill("4 800")
    page.get_by_role("region", name="Accept to the ballot").get_by_role(
        "button", name="Accept to the ballot").click()
    expect(page.locator("p.meta")).to_contain_text("On the ballot")
    change = page.get_by_role("region", name="Change the reviewed cost")
    expect(change.get_by_label("Reviewed cost in euros")).to_have_value("4800")
    visit(page, f"{mode}-accepted")


def test_coordinator_opens_voting_with_an_idea_left_behind_and_cancels_a_round(
        staff_page, visit, scenario, viewport, mode):
    page, tag = staff_page, f"({viewport}, {mode})"
    voting = _round(scenario, RoundPhase.REVIEW, f"Review {tag}",
                    accepted=("Lights on the path", "Book swap shelf"), waiting=("Ice rink",))
    doomed = _round(scenario, RoundPhase.PROPOSALS, f"Doomed {tag}")
    sign_in_with_password(page, scenario.coordinator, scenario.password)

    page.goto(f"/manage/rounds/{voting}/phase")
    expect(page.get_by_role("heading", name="On the ballot: 2 proposals")).to_be_visible()
    expect(page.get_by_role("heading", name="Still waiting for review: 1 proposal")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Ice rink"))).to_be_visible()
    visit(page, f"{mode}-open-voting")
    page.get_by_label(re.compile("I have checked this")).check()
    page.get_by_role("button", name="Open voting").click()
    expect(page.locator(".error-summary")).to_contain_text(
        "1 proposal is still waiting for review.")
    visit(page, f"{mode}-open-voting-asked", status=400)
    page.get_by_label("Open voting without them").check()
    page.get_by_label(re.compile("I have checked this")).check()
    page.get_by_role("button", name="Open voting").click()
    expect(page.get_by_text("The round is now in the phase: Voting open.")).to_be_visible()
    visit(page, f"{mode}-voting-opened")

    page.goto(f"/manage/rounds/{doomed}/phase")
    page.get_by_text("Cancel the round", exact=True).first.click()  # the disclosure
    cancel = page.get_by_role("button", name="Cancel the round")
    expect(cancel).to_have_class("button danger")
    cancel.click()
    expect(page.locator(".error-summary")).to_contain_text("Write the reason.")
    expect(page.get_by_label("Yes, cancel this round for good")).to_be_visible()
    visit(page, f"{mode}-cancel-unconfirmed", status=400)
    page.get_by_label(re.compile("Why the round is cancelled")).fill(
        "The table merged with Pohjoinen.")
    page.get_by_label("Yes, cancel this round for good").check()
    page.get_by_role("button", name="Cancel the round").click()
    expect(page.get_by_text("The round is cancelled. Its public page says so.")).to_be_visible()
    expect(page.get_by_text("This round is cancelled: nothing more can be done in it.")
           ).to_be_visible()
    visit(page, f"{mode}-cancelled")
    with scenario.app.app_context():
        assert db.session.get(Round, voting).phase is RoundPhase.VOTING
        assert db.session.get(Round, doomed).phase is RoundPhase.CANCELLED
