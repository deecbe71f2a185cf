"""The ballot page of issue 16 (items 2 and 4): the live tally says exactly what the server
says of the same choices, starts neutral, names only what matters for the ballot kind and
never hides a focused control; the rules tell how the money will be shared and how ties
are broken. In Finnish, Swedish and English, at 320 and 360 px and on a desktop, with and
without JavaScript; each page screenshotted to test-results/screenshots/ and checked by
axe-core (see helpers.Visit)."""

import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.extensions import db
from pb_vote.models import BallotKind, ProposalStatus, RoundPhase, TallyRule, User
from pb_vote.models import VoterEligibility as Eligibility
from pb_vote.services import voting
from tests import factories
from tests.browser.helpers import SCREENSHOT_DIR, Visit
from tests.browser.test_access import HIDDEN_FOCUS

pytestmark = pytest.mark.browser

SCREENS = {"320": {"width": 320, "height": 640}, "360": {"width": 360, "height": 740},
           "desktop": {"width": 1280, "height": 800}}
LOCALES = {"fi": "fi-FI", "sv": "sv-FI", "en": "en-GB"}
# Each ballot: its settings and proposals (title, cost in cents).
BALLOTS = {
    "approval": ({"ballot_kind": BallotKind.APPROVAL, "approval_min": 2, "approval_max": 3,
                  "tally_rule": TallyRule.GREEDY},
                 [("Benches", 500_000), ("Library", 300_000), ("Skate park", 2_000_000),
                  ("Mural", 800_000)]),
    "knapsack": ({"ballot_kind": BallotKind.KNAPSACK, "knapsack_min_spend_percent": 60,
                  "budget_cents": 5_000_000, "tally_rule": TallyRule.MES},
                 [("Benches", 1_200_000), ("Library", 2_000_000), ("Skate park", 2_500_000),
                  ("Mural", 950_050)]),
    "points": ({"ballot_kind": BallotKind.POINTS, "points_total": 10,
                "points_max_per_proposal": 4, "tally_rule": TallyRule.GREEDY},
               [("Benches", 400_000), ("Library", 800_000), ("Skate park", 1_500_000)]),
}
# Choices to drive through the script and the server: checked titles, or typed points.
SELECTIONS = {
    "approval": [[], ["Benches"], ["Benches", "Library"], ["Benches", "Library", "Mural"],
                 ["Benches", "Library", "Mural", "Skate park"]],
    "knapsack": [[], ["Benches"], ["Benches", "Mural"], ["Benches", "Library"],
                 ["Skate park", "Mural"], ["Library", "Skate park", "Mural"],
                 ["Benches", "Library", "Skate park"]],
    "points": [{}, {"Benches": "5"}, {"Benches": "4", "Library": "4", "Skate park": "4"},
               {"Benches": "4", "Library": "4", "Skate park": "2"}, {"Benches": "2.5"},
               {"Benches": "-1", "Library": "3"}, {"Library": "1e1"}, {"Library": "007"},
               {"Benches": "", "Skate park": "3"}],
}


@pytest.fixture(scope="module")
def ballots(live_server):
    """{kind: (round id, {title: proposal id}, voting codes)}: a round in voting for each
    ballot kind, open to code holders."""
    app = live_server.app
    made = {}
    with app.app_context():
        table = db.session.execute(select(factories.Table)).scalars().first()
        coordinator = db.session.execute(
            select(User).where(User.email == live_server.coordinator)).scalar_one()
        for kind, (settings, entries) in BALLOTS.items():
            round_ = factories.round_(table, RoundPhase.VOTING, title=f"Tally check {kind}",
                                      voter_eligibility=Eligibility.CODES, **settings)
            ids = {title: factories.proposal(round_, title=title, cost_cents=cost,
                                             status=ProposalStatus.ACCEPTED).id
                   for title, cost in entries}
            made[kind] = (round_.id, ids, voting.generate_codes(coordinator, round_, 30))
        db.session.commit()
    return made


def say(app, language: str, message: str, **values) -> str:
    """A message as the app says it in ``language``."""
    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


def voter_page(browser, live_server, request, screen: str, language: str, *,
               javascript: bool = True) -> tuple[Page, Visit]:
    """A fresh browser of ``screen`` size reading ``language`` (the cookie the language
    switch sets), watched by a Visit; closed after the test."""
    options = {"viewport": SCREENS[screen], "locale": LOCALES[language], "bypass_csp": True}
    if screen != "desktop":
        options.update(is_mobile=True, has_touch=True)
    contexts = [browser.new_context(base_url=live_server.url, java_script_enabled=javascript,
                                    **options)]
    if not javascript:  # axe-core needs JavaScript: copies are checked in a second page
        contexts.append(browser.new_context(base_url=live_server.url, **options))
    for context in contexts:
        context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language,
                              "url": live_server.url}])
        request.addfinalizer(context.close)
    live_server.server_errors.clear()
    visit = Visit(test_name=request.node.originalname, viewport=f"{screen}-{language}",
                  server_errors=live_server.server_errors)
    axe_page = contexts[1].new_page() if not javascript else None
    return visit.watch(contexts[0].new_page(), axe_copy_in=axe_page), visit


def enter_code(page: Page, round_id: int, code: str) -> None:
    """Vote with a voting code: type it, land on the ballot."""
    page.goto(f"/rounds/{round_id}/code")
    page.locator("input[name=code]").fill(code)
    page.locator("form:has(input[name=code]) button[type=submit]").click()
    expect(page.locator("#ballot")).to_be_attached()


def choose(page: Page, ids: dict, selection) -> None:
    """Tick the titles of ``selection`` (a list), or type its points (a dict)."""
    if isinstance(selection, dict):
        for title, typed in selection.items():
            page.locator(f"#points-{ids[title]}").fill(typed)
    else:
        for title in selection:
            page.locator(f"input[name=choice][value='{ids[title]}']").check()


def tally_says(page: Page) -> tuple[str, str]:
    """(the tally's advice, its state: neutral, ok, to-do or problem)."""
    state = page.evaluate("""() => {
        const box = document.getElementById("tally");
        return ["ok", "to-do", "problem"].find(s => box.classList.contains("tally-" + s))
               || "neutral";
    }""")
    return page.locator("[data-tally=advice]").inner_text().strip(), state


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("kind", list(BALLOTS))
def test_the_tally_says_what_the_server_says(browser, live_server, request, ballots, kind,
                                             language):
    round_id, ids, codes = ballots[kind]
    page, _ = voter_page(browser, live_server, request, "desktop", language)
    enter_code(page, round_id, codes.pop())
    ok = say(live_server.app, language, "Your choices are within the rules.")
    for selection in SELECTIONS[kind]:
        page.goto(f"/rounds/{round_id}/vote")
        choose(page, ids, selection)
        page.locator("#ballot").dispatch_event("change")  # as a voter's touch would
        advice, state = tally_says(page)
        page.locator("#ballot button[type=submit]").click()
        page.wait_for_load_state()
        refusal = page.locator("#ballot-error")
        if refusal.count():
            said = refusal.inner_text().strip()
            assert (advice, state in ("to-do", "problem")) == (said, True), selection
            assert tally_says(page)[0] == said  # the refused ballot's tally agrees
        else:
            expect(page.locator("ul.choices")).to_be_visible()
            assert (advice, state) == (ok, "ok"), selection


def rules_sentences(app, language: str, kind: str) -> list[str]:
    """What the rules section must say of the money and ties for the round of ``kind``."""
    sentences = {
        "knapsack": ["The budget is divided equally among all voters, and each voter's share "
                     "can pay only for proposals that voter chose."],
        "points": ["The proposal with the most points is funded first, then the one with the "
                   "next most points, and so on.",
                   "A proposal that costs more than the money left is skipped, and counting "
                   "goes on with the next one until nothing more fits."],
    }[kind]
    sentences.append("If two proposals are tied, the cheaper one goes first; if they also "
                     "cost the same, the one chosen by more voters; and then the one "
                     "submitted earlier.")
    return [say(app, language, sentence) for sentence in sentences]


def read_the_rules(page: Page, app, language: str, kind: str) -> None:
    rules = page.locator("details.rules")
    rules.locator("summary").click()
    expect(rules.get_by_role("heading", name=say(app, language,
                                                 "How the money will be shared"))).to_be_visible()
    for sentence in rules_sentences(app, language, kind):
        expect(rules).to_contain_text(sentence)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_ballot_starts_neutral_and_tells_how_the_money_is_shared(
        browser, live_server, request, ballots, screen, language):
    app = live_server.app
    round_id, ids, codes = ballots["knapsack"]
    page, visit = voter_page(browser, live_server, request, screen, language)
    enter_code(page, round_id, codes.pop())
    tally = page.locator("#tally")
    expect(tally).to_be_visible()
    budget = say(app, language, "Cost of your choices: %(money)s of %(budget)s",
                 money="{m}", budget="{b}")
    expect(tally).to_contain_text(budget.split("{m}")[0].strip())
    assert tally_says(page) == ("", "neutral")  # nothing is wrong with a ballot not begun
    read_the_rules(page, app, language, "knapsack")
    visit(page, "ballot-neutral-rules-open")

    page.locator(f"input[name=choice][value='{ids['Benches']}']").check()
    advice, state = tally_says(page)
    assert state == "to-do" and advice.startswith(
        say(app, language, "Your choices cost %(spent)s; choose proposals worth at least "
                           "%(minimum)s.", spent="{s}", minimum="{m}").split("{s}")[0])
    visit(page, "ballot-below-minimum")
    for title in ("Library", "Skate park"):
        page.locator(f"input[name=choice][value='{ids[title]}']").check()
    advice, state = tally_says(page)
    assert state == "problem"
    page.locator("#ballot button[type=submit]").click()
    expect(page.locator("#ballot-error")).to_have_text(advice)
    visit(page, "ballot-over-budget-refused", status=400)


@pytest.mark.parametrize(("screen", "language"), [("320", "fi"), ("360", "sv"),
                                                  ("desktop", "en")])
def test_without_javascript_the_rules_and_the_servers_words_are_there(
        browser, live_server, request, ballots, screen, language):
    app = live_server.app
    round_id, ids, codes = ballots["points"]
    page, visit = voter_page(browser, live_server, request, screen, language,
                             javascript=False)
    enter_code(page, round_id, codes.pop())
    expect(page.locator("#tally")).to_be_hidden()
    read_the_rules(page, app, language, "points")
    visit(page, "ballot-no-js-rules-open")
    page.locator(f"#points-{ids['Library']}").fill("5")
    page.locator("#ballot button[type=submit]").click()
    expect(page.locator("#ballot-error")).to_have_text(say(
        app, language, "A proposal can get at most %(maximum)d points.", maximum=4))
    expect(page.locator(f"#points-{ids['Library']}")).to_have_value("5")
    visit(page, "ballot-no-js-refused", status=400)


@pytest.mark.parametrize("screen", ["320", "360"])
def test_the_tally_never_covers_what_the_voter_is_on(browser, live_server, request, ballots,
                                                     screen):
    round_id, ids, codes = ballots["points"]
    page, visit = voter_page(browser, live_server, request, screen, "fi")
    enter_code(page, round_id, codes.pop())
    # The longest words the tally can hold: a refusal in Finnish.
    page.locator(f"#points-{ids['Benches']}").fill("9")
    expect(page.locator("#tally")).to_have_class(re.compile("tally-problem"))
    height = page.locator("#tally").bounding_box()["height"]
    assert height <= SCREENS[screen]["height"] / 3, f"the tally takes {height} px"
    hidden = []
    page.locator("details.rules summary").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        focused = page.evaluate(HIDDEN_FOCUS)
        if focused is None or "submit" in focused["what"]:
            break
        if not focused["seen"]:
            hidden.append(f"{focused['what']} under {focused['over']}")
        if focused["what"].startswith("<input"):  # what the phone's screen shows
            focused_id = page.evaluate("document.activeElement.id")
            page.screenshot(path=SCREENSHOT_DIR / f"tally-{screen}-focus-{focused_id}.png")
    assert hidden == []
    visit(page, "ballot-tally-at-its-tallest")
    # Each proposal's field brought into view by the browser (a link to it, finding it on
    # the page) can be seen and tapped: the tally does not cover it.
    for proposal_id in ids.values():
        field = page.locator(f"#points-{proposal_id}")
        field.evaluate("el => el.scrollIntoView({block: 'end'})")
        page.wait_for_timeout(50)
        seen = page.evaluate(HIDDEN_FOCUS.replace("document.activeElement",
                                                  f"document.getElementById('points-{proposal_id}')"))
        assert seen["seen"], f"#points-{proposal_id} is under {seen['over']}"
