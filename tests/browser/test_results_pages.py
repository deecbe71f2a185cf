"""Results after a correction, in a real browser: every publication with its page, the
correction's left-out proposal with the coordinator's reason, the proposal page's link
landing on its row, a clear 404 for a publication that does not exist, and the front page's
rounds to act on; in Finnish, Swedish and English, with and without JavaScript."""

import random
import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from pb_vote.extensions import db
from pb_vote.models import ProposalStatus, RoundPhase, TallyRule, VoterEligibility
from pb_vote.services import counting, results, rounds, voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories

pytestmark = pytest.mark.browser

REASON = "The city found the site unsuitable."
LANGUAGE_BUTTON = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


@pytest.fixture(scope="module")
def corrected(live_server):
    """An Equal Shares round of its own table, with 14 ballots cast by code, published and
    then corrected (publication 2 leaves out a funded proposal with REASON). Returns
    (round id, the proposal left out)."""
    app = live_server.app
    with app.app_context():
        # Its round is voted by code only, so it needs no area (and takes no postal code
        # another test's table on the shared server may hold: a code is in one area).
        table = factories.table(f"results-{random.randrange(10**6)}", "Etelä – South",
                                postal_codes=())
        coordinator = factories.user(f"coordinator-{table.slug}@example.org", postal_code=None,
                                     role="coordinator", at=table)
        round_ = factories.round_(table, RoundPhase.VOTING, title="Etelä 2026",
                                  voter_eligibility=VoterEligibility.CODES, approval_min=1,
                                  approval_max=2, tally_rule=TallyRule.MES)
        ids = [factories.proposal(round_, title=title, cost_cents=cost,
                                  status=ProposalStatus.ACCEPTED).id
               for title, cost in [("Playground by the shore", 3_000_000),
                                   ("Lights on the ski track", 5_000_000),
                                   ("Library terrace", 4_000_000),
                                   ("Dog park", 1_000_000), ("Sauna by the lake", 8_000_000),
                                   ("Roof for the ice rink", 6_000_000)]]
        keys = VoteKeys.from_config(app.config)
        rng = random.Random(7)
        for code in voting.generate_codes(coordinator, round_, 14):
            found = voting.find_code(round_, code)
            voting.cast_ballot(keys, round_.id, voting.Voter(voting_code_id=found.id),
                               voting.VoteChannel.CODE, dict.fromkeys(rng.sample(ids, 2), 1))
        rounds.transition(coordinator, round_, RoundPhase.CLOSED)
        first = results.publish(coordinator, round_,
                                counting.count_now(coordinator, round_, keys).id)
        dropped = int(first.result["selected"][0])
        count = counting.count_now(coordinator, round_, keys, excluded=frozenset({dropped}))
        results.publish(coordinator, round_, count.id, correction_reason=REASON,
                        excluded=frozenset({dropped}), corrects=1)
        db.session.commit()
        return round_.id, dropped


def say(app, language: str, message: str, **values) -> str:
    """A message as the app says it in ``language``."""
    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


def choose_language(page, language: str) -> None:
    """Choose ``language`` in the header's language menu (a disclosure on every width)."""
    page.locator(".language-menu summary").click()
    page.locator("form.language-switch").get_by_role(
        "button", name=LANGUAGE_BUTTON[language]).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_a_correction_and_every_publication_in_every_language(page, visit, scenario,
                                                             corrected, language):
    round_id, dropped = corrected
    words = lambda message, **values: say(scenario.app, language, message, **values)  # noqa: E731
    page.goto(f"/rounds/{round_id}/results")
    choose_language(page, language)
    notice = page.locator("section.correction")
    expect(notice).to_contain_text(words("Correction of publication %(number)d", number=1))
    expect(notice).to_contain_text(REASON)
    row = page.locator(f"#p{dropped}")
    expect(row).to_contain_text(words("Not counted"))
    expect(row).to_contain_text(words("Left out of the count by correction %(number)d: "
                                      "%(reason)s", number=2, reason=REASON))
    expect(page.locator("figcaption")).to_contain_text(words("Striped bar: not funded"))
    expect(page.locator("svg.bar-chart rect.bar:not(.funded)").first).to_be_visible()
    visit(page, f"corrected-{language}")

    notice.get_by_role("link").first.click()  # the left-out proposal's row
    expect(page).to_have_url(re.compile(rf"#p{dropped}$"))
    expect(row).to_be_in_viewport()

    page.get_by_role("link", name=words("Publication %(number)d", number=1), exact=True).click()
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/results/1$"))
    expect(page.get_by_role("status")).to_contain_text(
        words("This is publication %(number)d, replaced by a correction.", number=1))
    expect(page.locator(f"#p{dropped}")).to_contain_text(words("Funded"))
    csv_link = page.get_by_role("link", name=words("Results as CSV")).first
    expect(csv_link).to_have_attribute(
        "href", f"/api/v1/rounds/{round_id}/publications/1/results.csv")
    visit(page, f"first-publication-{language}")

    page.goto(f"/proposals/{dropped}")
    page.get_by_role("link", name=words("See the results")).click()
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/results#p{dropped}$"))
    expect(page.locator(f"#p{dropped}")).to_be_in_viewport()
    visit(page, f"proposal-row-{language}")


def test_results_without_javascript_and_a_publication_that_does_not_exist(
        new_context, viewport, visit, scenario, corrected):
    round_id, dropped = corrected
    page = visit.watch(new_context(viewport, java_script_enabled=False).new_page(),
                       axe_copy_in=new_context(viewport).new_page())
    page.goto(f"/rounds/{round_id}/results?publication=1")
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/results/1$"))
    expect(page.locator(f"#p{dropped}")).to_contain_text("Funded")
    visit(page, "first-publication-no-js")
    page.get_by_role("link", name="See the results in force").click()
    expect(page.locator(f"#p{dropped}")).to_contain_text("Not counted")
    expect(page.locator("svg.bar-chart").first).to_be_visible()
    visit(page, "in-force-no-js")
    page.goto(f"/rounds/{round_id}/results?publication=7")
    expect(page.get_by_role("heading", level=1)).to_have_text("No such publication")
    visit(page, "no-such-publication", status=404)
    page.get_by_role("link", name="Publication 1").click()
    expect(page).to_have_url(re.compile(rf"/rounds/{round_id}/results/1$"))


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_front_page_shows_every_round_to_act_on(new_context, viewport, visit, scenario,
                                                    corrected, javascript):
    page = visit.watch(new_context(viewport, java_script_enabled=javascript).new_page(),
                       axe_copy_in=None if javascript else new_context(viewport).new_page())
    page.goto("/")
    voting_now = page.locator("section", has=page.get_by_role("heading", name="Vote now"))
    # The table's two rounds in voting at the same time are both there.
    for title in ("Keskusta votes 2026", "Keskusta points vote 2026"):
        expect(voting_now.get_by_role("link", name=title, exact=True)).to_be_visible()
    ideas = page.locator("section", has=page.get_by_role("heading", name="Propose ideas"))
    expect(ideas.get_by_role("link", name="Ideas for Keskusta 2027", exact=True)).to_be_visible()
    published = page.locator("section",
                             has=page.get_by_role("heading", name="Results just published"))
    expect(published.get_by_role("link", name="Etelä 2026", exact=True)).to_be_visible()
    visit(page, "front-page" + ("" if javascript else "-no-js"))
    voting_now.get_by_role("link", name=re.compile("^Vote")).first.click()
    expect(page).to_have_url(re.compile(r"/rounds/\d+/(vote|code)|/sign-in"))
