"""The results journey in a real browser, and the vote journey in all three languages."""

import random
import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from pb_vote.extensions import db
from pb_vote.models import ProposalStatus, RoundPhase, VoterEligibility
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.browser.helpers import choose_language, sign_in_by_link, sign_in_with_password

pytestmark = pytest.mark.browser


def in_language(app, language: str, message: str, **values) -> str:
    """A message as the app says it in ``language``."""
    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


@pytest.fixture
def round_to_publish(scenario):
    """A round of its own in voting, with twelve ballots cast by code, so closing and
    publishing it leaves the shared rounds alone. Returns (round id, receipt codes)."""
    app = scenario.app
    with app.app_context():
        table = db.session.execute(db.select(factories.Table)).scalars().first()
        coordinator = db.session.execute(
            db.select(factories.User).where(factories.User.email == scenario.coordinator)
        ).scalar_one()
        round_ = factories.round_(table, RoundPhase.VOTING, title=f"Results {random.random()}",
                                  voter_eligibility=VoterEligibility.CODES, approval_min=1,
                                  approval_max=2)
        ids = [factories.proposal(round_, title=f"Result idea {n}", cost_cents=cost,
                                  status=ProposalStatus.ACCEPTED).id
               for n, cost in enumerate([3_000_000, 5_000_000, 4_000_000, 1_000_000])]
        receipts = []
        rng = random.Random(3)
        for code in voting.generate_codes(coordinator, round_, 12):
            found = voting.find_code(round_, code)
            result = voting.cast_ballot(VoteKeys.from_config(app.config), round_.id,
                                        voting.Voter(voting_code_id=found.id),
                                        voting.VoteChannel.CODE,
                                        dict.fromkeys(rng.sample(ids, 2), 1))
            receipts.append(result.receipt_code)
        db.session.commit()
        return round_.id, receipts


def test_coordinator_closes_previews_and_publishes_and_a_visitor_checks(
        context, page, visit, scenario, round_to_publish):
    round_id, receipts = round_to_publish
    sign_in_with_password(page, scenario.coordinator, scenario.password, visit)
    page.goto(f"/manage/rounds/{round_id}/phase")
    visit(page, "phase")
    page.get_by_label(re.compile("I have checked this")).check()
    page.get_by_role("button", name="Close voting").click()
    expect(page.get_by_text("The round is now in the phase: Voting closed.")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Results").click()
    expect(page.get_by_text("only the coordinator sees this")).to_be_visible()
    page.get_by_role("button", name="Count the ballots").click()  # a job; done at once here
    expect(page.get_by_role("heading", name="The count")).to_be_visible()
    visit(page, "preview")
    page.get_by_label(re.compile("I have checked the results")).check()
    page.get_by_role("button", name="Publish the results").click()
    expect(page.get_by_text("The results are published.")).to_be_visible()

    visitor = visit.watch(context.browser.new_context(
        base_url=scenario.url, locale="en-GB", bypass_csp=True,
        viewport=page.viewport_size).new_page())
    visitor.goto(f"/rounds/{round_id}/results")
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("Results")
    expect(visitor.locator("svg.bar-chart")).to_be_visible()
    expect(visitor.get_by_role("table").first).to_contain_text("Funded")
    visit(visitor, "results")
    with visitor.expect_download() as download_info:
        visitor.get_by_role("link", name=re.compile("Pabulib")).click()
    with open(download_info.value.path(), encoding="utf-8") as downloaded:
        text = downloaded.read()
    assert text.startswith("META") and "num_votes;12" in text
    visitor.goto(f"/rounds/{round_id}/verify")
    visit(visitor, "verify")
    visitor.get_by_label("Receipt code").fill(receipts[0].lower())
    visitor.get_by_role("button", name="Check").click()
    expect(visitor.get_by_text("Your ballot is in the count.")).to_be_visible()
    visit(visitor, "verified")
    visitor.context.close()


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_vote_in_every_language(page, visit, scenario, language):
    app = scenario.app
    say = lambda message, **values: in_language(app, language, message, **values)  # noqa: E731
    sign_in_by_link(page, app, scenario.new_resident())
    page.goto(f"/rounds/{scenario.approval_round}/vote")
    choose_language(page, language)
    expect(page.get_by_role("heading", name=say("Your ballot"), level=1)).to_be_visible()
    visit(page, f"ballot-{language}")
    page.locator("input[name=choice]").first.check()
    page.get_by_role("button", name=say("Review my choices")).click()
    expect(page.get_by_role("heading", name=say("Check your choices"), level=1)).to_be_visible()
    visit(page, f"review-{language}")
    page.get_by_role("button", name=say("Vote"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(say("Your vote is recorded"))
    visit(page, f"done-{language}")


def test_no_page_scrolls_sideways_at_320_px(browser, scenario):
    context = browser.new_context(base_url=scenario.url, locale="en-GB", is_mobile=True,
                                  has_touch=True, viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        sign_in_by_link(page, scenario.app, scenario.new_resident())
        for path in ("/", "/tables/keskusta", f"/rounds/{scenario.approval_round}",
                     f"/rounds/{scenario.approval_round}/vote", "/account", "/my/proposals",
                     "/sign-in"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, f"{path} scrolls sideways at 320 px ({width})"
    finally:
        context.close()
