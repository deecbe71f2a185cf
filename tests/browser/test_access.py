"""The approval vote by other ways in: the keyboard only, JavaScript off, and the app's real
Content-Security-Policy (the other journeys bypass it to inject axe-core)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import AXE_INSTALL_HINT, AXE_JS, sign_in_by_link, tab_to

pytestmark = pytest.mark.browser
RECEIPT = re.compile(r"[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}")


def test_axe_core_is_available():
    """Says so (as a skip) when the journeys ran without their axe-core checks."""
    if AXE_JS is None:
        pytest.skip(f"axe-core checks skipped: axe.min.js not found; {AXE_INSTALL_HINT}")
    assert AXE_JS.stat().st_size > 100_000


def focused_text(page: Page) -> str:
    return page.evaluate("(document.activeElement.innerText || '').trim()")


def test_the_whole_approval_vote_with_the_keyboard_only(page, visit, scenario):
    ids = scenario.approval_proposals
    email = scenario.new_resident()
    sign_in_by_link(page, scenario.app, email)  # the set-up; from here on, keys only
    page.goto(f"/rounds/{scenario.approval_round}")
    visit(page, "round")

    # The first Tab reaches the skip link; Enter moves the focus to the content.
    page.keyboard.press("Tab")
    assert focused_text(page) == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    tab_to(page, f"main a[href$='/rounds/{scenario.approval_round}/vote']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your ballot", level=1)).to_be_visible()
    visit(page, "ballot")

    tally = page.locator("#tally")
    for title in ("Benches by the lake", "Skate park by the school"):
        tab_to(page, f"input[type=checkbox][value='{ids[title]}']")
        page.keyboard.press("Space")
        expect(page.get_by_label(title)).to_be_checked()
    expect(tally).to_contain_text("Chosen: 2")
    expect(tally).to_contain_text("Chosen: 2 of at most 2")
    # Space again takes a choice back.
    page.keyboard.press("Space")
    expect(page.get_by_label("Skate park by the school")).not_to_be_checked()
    expect(tally).to_contain_text("Chosen: 1")
    tab_to(page, "#ballot button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your choices", level=1)).to_be_visible()
    visit(page, "review")

    tab_to(page, "input[name=notify_results]")
    page.keyboard.press("Space")
    tab_to(page, ".vote-button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    expect(page.locator(".receipt")).to_have_text(RECEIPT)
    assert scenario.current_choices(scenario.approval_round, email=email) == {
        str(ids["Benches by the lake"]): 1}
    visit(page, "done")

    # Changing the vote, still by keyboard.
    tab_to(page, "main a.button")
    assert focused_text(page) == "Change my vote"
    page.keyboard.press("Enter")
    expect(page.get_by_label("Benches by the lake")).to_be_checked()
    tab_to(page, f"input[type=checkbox][value='{ids['Library open on Sundays']}']")
    page.keyboard.press("Space")
    tab_to(page, "#ballot button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your choices", level=1)).to_be_visible()
    tab_to(page, ".vote-button")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your new ballot replaced your earlier one.")).to_be_visible()
    visit(page, "done-changed")


def test_the_whole_approval_vote_without_javascript(new_context, viewport, visit, scenario):
    ids = scenario.approval_proposals
    context = new_context(viewport, java_script_enabled=False)
    page = visit.watch(context.new_page(), axe_copy_in=new_context(viewport).new_page())
    email = scenario.new_resident()
    sign_in_by_link(page, scenario.app, email, visit)

    page.goto(f"/rounds/{scenario.approval_round}")
    visit(page, "round")
    page.get_by_role("main").get_by_role("link", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your ballot", level=1)).to_be_visible()
    expect(page.locator("#tally")).to_be_hidden()  # the live tally is JavaScript's extra
    visit(page, "ballot")

    # Too many: the server says so in words, and keeps the picks.
    for title in ids:
        page.get_by_label(title).check()
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_role("alert")).to_have_text("Choose at most 2 proposals (you chose 3).")
    for title in ids:
        expect(page.get_by_label(title)).to_be_checked()
    visit(page, "ballot-too-many", status=400)

    page.get_by_label("Library open on Sundays").uncheck()
    page.get_by_role("button", name="Review my choices").click()
    visit(page, "review")
    # "Change my choices" goes back with the picks (a plain GET form), then on again.
    page.get_by_role("button", name="Change my choices").click()
    expect(page.get_by_label("Benches by the lake")).to_be_checked()
    expect(page.get_by_label("Library open on Sundays")).not_to_be_checked()
    visit(page, "ballot-back")
    page.get_by_role("button", name="Review my choices").click()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    expect(page.locator(".receipt")).to_have_text(RECEIPT)
    assert scenario.current_choices(scenario.approval_round, email=email) == {
        str(ids["Benches by the lake"]): 1, str(ids["Skate park by the school"]): 1}
    visit(page, "done")


def test_the_vote_works_under_the_real_content_security_policy(new_context, viewport, visit,
                                                                 scenario):
    context = new_context(viewport, bypass_csp=False)
    page = visit.watch(context.new_page())
    visit.axe = False  # axe-core cannot be injected under the policy; the pages are the
    # same as in test_voting.py, where it runs
    refused = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: refused.append(str(error)))
    email = scenario.new_resident()
    sign_in_by_link(page, scenario.app, email)

    page.goto(f"/rounds/{scenario.approval_round}/vote")
    tally = page.locator("#tally")
    expect(tally).to_contain_text("Chosen: 0")  # ballot.js ran under script-src 'self'
    page.get_by_label("Benches by the lake").check()
    expect(tally).to_contain_text("Chosen: 1")
    visit(page, "ballot")
    page.get_by_role("button", name="Review my choices").click()
    visit(page, "review")
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    visit(page, "done")
    assert refused == []


HIDDEN_FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const box = el.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    const seen = !!hit && (el.contains(hit) || hit.contains(el)
                           || [...(el.labels || [])].some(label => label.contains(hit)));
    return {seen, what: el.outerHTML.slice(0, 70), over: hit ? hit.outerHTML.slice(0, 50) : ""};
}"""


def test_keyboard_focus_is_never_hidden_behind_the_running_tally(page, visit, scenario):
    sign_in_by_link(page, scenario.app, scenario.new_resident())
    page.goto(f"/rounds/{scenario.approval_round}/vote")
    expect(page.locator("#tally")).to_be_visible()
    visit(page, "ballot")
    hidden = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(HIDDEN_FOCUS)
        if focused is None or "openapi" in focused["what"]:  # the end of the page
            break
        if not focused["seen"]:
            hidden.append(f"{focused['what']} under {focused['over']}")
    assert hidden == []
