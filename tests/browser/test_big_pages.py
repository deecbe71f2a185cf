"""A capital's ballot and results, 300 proposals in six categories and a few without one,
on a phone (360 px), with and without JavaScript: no sideways scrolling, the category
navigation shows one category at a time without losing a choice, the running tally stays
in view, and no results cell is narrower than its longest word. Screenshots land in
test-results/screenshots/."""

import re

import pytest
from playwright.sync_api import expect

from pb_vote.extensions import db
from tests import factories
from tests.browser.helpers import SCREENSHOT_DIR, sign_in_by_link

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def big_rounds(live_server):
    """(ballot round id, published round id) of the shared table, 300 proposals each."""
    app = live_server.app
    with app.app_context():
        table = db.session.execute(db.select(factories.Table)).scalars().first()
        voting_ = factories.big_round(300, table, ballots=0, uncategorised=4,
                                      title="Capital votes 2027")
        published = factories.big_round(300, table, ballots=12, publish=True,
                                        title="Capital results 2026")
        db.session.commit()
        return voting_.round.id, published.round.id


def screen(page, name: str) -> None:
    """What the phone's screen shows now, before a visit's whole-page screenshot moves it."""
    page.screenshot(path=SCREENSHOT_DIR / f"big-pages-{name}.png")


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_big_ballot_on_a_phone(page, visit, scenario, big_rounds):
    round_id, _ = big_rounds
    sign_in_by_link(page, scenario.app, scenario.new_resident())
    page.goto(f"/rounds/{round_id}/vote")
    screen(page, "ballot-first-screen")
    visit(page, "big-ballot")
    tally = page.locator("#tally")
    expect(tally).to_be_visible()
    first = page.locator("#cat-1 input[name=choice]").first
    first.check()
    # The navigation shows one category; the others (and the tick in cat-1) stay in the form.
    page.locator(".category-nav").get_by_role("link", name=re.compile("^Kulttuuri")).click()
    expect(page).to_have_url(re.compile(r"#cat-3$"))
    expect(page.locator("#cat-1")).to_be_hidden()
    expect(page.locator("#cat-3")).to_be_visible()
    page.locator("#cat-3 input[name=choice]").nth(2).check()
    expect(tally).to_contain_text("Chosen: 2")
    expect(page.locator("[data-chosen=cat-1]")).to_have_text(" · Chosen: 1")
    screen(page, "ballot-one-category")
    visit(page, "big-ballot-one-category")
    # In the middle of the whole list, the running tally is still on screen.
    page.locator(".category-nav").get_by_role("link", name="All categories").click()
    page.locator("#cat-4 label").nth(20).scroll_into_view_if_needed()
    box = tally.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 740 + 1, box
    screen(page, "ballot-mid-list")
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_role("heading", name="Check your choices", level=1)).to_be_visible()
    expect(page.get_by_text("2 proposals")).to_be_visible()
    visit(page, "big-review")


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_big_ballot_without_javascript_keeps_every_choice(
        new_context, visit, scenario, big_rounds):
    round_id, _ = big_rounds
    axe_page = new_context("phone").new_page()
    page = visit.watch(new_context("phone", java_script_enabled=False).new_page(),
                       axe_copy_in=axe_page)
    sign_in_by_link(page, scenario.app, scenario.new_resident())
    page.goto(f"/rounds/{round_id}/vote")
    visit(page, "big-ballot-no-js")
    expect(page.locator("[data-chosen]").first).to_be_hidden()  # no script to count
    page.locator("#cat-2 input[name=choice]").first.check()
    page.locator(".category-nav").get_by_role("link", name="Other proposals").click()
    expect(page.locator("#cat-2")).to_be_hidden()
    page.locator("#cat-7 input[name=choice]").first.check()
    page.locator("#cat-7 summary").click()  # folded: its tick stays in the form
    expect(page.locator("#cat-7 input[name=choice]").first).to_be_hidden()
    screen(page, "ballot-no-js-folded")
    visit(page, "big-ballot-no-js-folded")
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_text("2 proposals")).to_be_visible()
    visit(page, "big-review-no-js")


@pytest.mark.parametrize("viewport", ["phone"])
def test_the_big_results_on_a_phone(page, visit, big_rounds):
    _, round_id = big_rounds
    page.goto(f"/rounds/{round_id}/results")
    screen(page, "results-first-screen")
    visit(page, "big-results")
    squeezed = page.evaluate("""() => [...document.querySelectorAll(
            "table th, table td")]
        .filter(cell => cell.getClientRects().length
                && cell.getBoundingClientRect().width > 1  // not the phone's hidden heads
                && cell.scrollWidth > cell.clientWidth + 1)
        .map(cell => cell.textContent.trim().slice(0, 40))""")
    assert not squeezed, f"cells narrower than their content: {squeezed[:5]}"
    # Amounts never break: each cost cell is one line.
    broken = page.evaluate("""() => [...document.querySelectorAll(
            ".results-table td:nth-child(2)")]
        .filter(cell => { const r = document.createRange(); r.selectNodeContents(cell);
                          return r.getClientRects().length > 1; })
        .map(cell => cell.textContent)""")
    assert not broken, broken[:5]
    page.locator(".category-nav").get_by_role("link", name=re.compile("^Liikenne")).click()
    expect(page).to_have_url(re.compile(r"#cat-4$"))
    screen(page, "results-one-category")
    visit(page, "big-results-category")
