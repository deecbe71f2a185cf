"""Voting in a real browser: approval and points ballots, changing the vote, voting codes,
paper ballots entered by a member."""

import re

import pytest
from playwright.sync_api import Page, expect

from pb_vote.mail import outbox
from tests.browser.helpers import new_mail, sign_in_by_link, sign_in_with_password

pytestmark = pytest.mark.browser

RECEIPT = re.compile(r"^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$")


def open_ballot(page: Page, visit, round_id: int) -> None:
    """From the round page, press Vote."""
    page.goto(f"/rounds/{round_id}")
    visit(page, "round")
    page.get_by_role("main").get_by_role("link", name="Vote", exact=True).click()


def vote_and_see_the_pending_state(page: Page) -> None:
    """Press Vote while the request is held back: the button must say the vote is on its
    way and be disabled against a second press. (The page cannot be asked during the held
    navigation, so an observer notes the button's state in sessionStorage, read after.)"""
    held = []

    def hold(route):
        if route.request.method == "POST":
            held.append(route)
        else:
            route.continue_()

    page.evaluate("""() => {
        const button = document.querySelector(".vote-button");
        new MutationObserver(() => {
            if (button.disabled) {
                sessionStorage.setItem("pending-state", JSON.stringify(
                    {text: button.textContent, busy: button.getAttribute("aria-busy")}));
            }
        }).observe(button, {attributes: true, childList: true, subtree: true});
    }""")
    pattern = re.compile(r"/rounds/\d+/vote$")
    page.route(pattern, hold)
    page.locator(".vote-button").click(no_wait_after=True)
    for _ in range(250):  # the handler runs as Playwright's events arrive
        if held:
            break
        page.wait_for_timeout(20)
    page.wait_for_timeout(200)  # while held: the button's setTimeout(0) has long run
    assert len(held) == 1, "the vote was not sent, or sent twice"
    held[0].continue_()
    page.unroute(pattern, hold)
    expect(page).to_have_url(re.compile(r"/vote/done$"))
    state = page.evaluate("JSON.parse(sessionStorage.getItem('pending-state'))")
    assert state == {"text": "Recording your vote…", "busy": "true"}


def receipt_on(page: Page) -> str:
    receipt = page.locator(".receipt").inner_text().strip()
    assert RECEIPT.match(receipt), receipt
    return receipt


def test_resident_votes_on_the_approval_round_and_changes_the_vote(page, visit, scenario):
    app, round_id = scenario.app, scenario.approval_round
    ids = scenario.approval_proposals
    email = scenario.new_resident()
    sign_in_by_link(page, app, email)  # its pages: test_proposals.py

    open_ballot(page, visit, round_id)
    expect(page.get_by_role("heading", name="Your ballot", level=1)).to_be_visible()
    tally = page.locator("#tally")
    expect(tally).to_be_visible()
    expect(tally).to_contain_text("Chosen: 0 of at most 2")
    # Neutral until the voter begins: nothing is wrong with a ballot not yet begun.
    expect(tally.locator("[data-tally=advice]")).to_be_empty()
    expect(tally).not_to_have_class(re.compile("tally-(problem|to-do)"))
    visit(page, "ballot")

    page.get_by_label("Benches by the lake").check()
    expect(tally).to_contain_text("Chosen: 1")
    expect(tally).not_to_contain_text("€")  # money is no limit on an approval ballot
    expect(tally).to_contain_text("Your choices are within the rules.")
    page.get_by_label("Library open on Sundays").check()
    expect(tally).to_contain_text("Chosen: 2")
    page.get_by_label("Skate park by the school").check()
    expect(tally).to_contain_text("Chosen: 3")
    expect(tally).to_contain_text("Choose at most 2 proposals (you chose 3).")
    expect(tally).to_have_class(re.compile("tally-problem"))
    visit(page, "ballot-too-many")
    page.get_by_label("Skate park by the school").uncheck()
    expect(tally).to_contain_text("Chosen: 2")

    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_role("heading", name="Check your choices", level=1)).to_be_visible()
    expect(page.get_by_text("Your vote is not recorded yet.")).to_be_visible()
    choices = page.locator("ul.choices")
    expect(choices).to_contain_text("Benches by the lake")
    expect(choices).to_contain_text("Library open on Sundays")
    expect(choices).not_to_contain_text("Skate park")
    expect(page.get_by_text("2 proposals · total cost €8,000")).to_be_visible()
    visit(page, "review")

    before = len(outbox(app))
    vote_and_see_the_pending_state(page)
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    expect(page.get_by_text("Thank you for voting in Keskusta votes 2026.")).to_be_visible()
    first_receipt = receipt_on(page)
    assert first_receipt in new_mail(app, email, before).body
    assert scenario.current_choices(round_id, email=email) == {
        str(ids["Benches by the lake"]): 1, str(ids["Library open on Sundays"]): 1}
    visit(page, "done")

    page.get_by_role("link", name="Change my vote").click()
    expect(page.get_by_label("Benches by the lake")).to_be_checked()
    expect(page.get_by_label("Library open on Sundays")).to_be_checked()
    expect(page.get_by_label("Skate park by the school")).not_to_be_checked()
    expect(tally).to_contain_text("Chosen: 2")
    visit(page, "ballot-change")
    page.get_by_label("Library open on Sundays").uncheck()
    page.get_by_label("Skate park by the school").check()
    expect(tally).to_contain_text("Chosen: 2 of at most 2")
    page.get_by_role("button", name="Review my choices").click()
    visit(page, "review-change")
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    expect(page.get_by_text("Your new ballot replaced your earlier one.")).to_be_visible()
    expect(page.get_by_text("The receipt code stays the same if you change your vote.",
                            exact=False)).to_be_visible()
    assert receipt_on(page) == first_receipt  # one receipt per voter, whatever the changes
    assert scenario.current_choices(round_id, email=email) == {
        str(ids["Benches by the lake"]): 1, str(ids["Skate park by the school"]): 1}
    visit(page, "done-changed")


def test_resident_votes_on_the_points_round(page, visit, scenario):
    round_id, ids = scenario.points_round, scenario.points_proposals
    email = scenario.new_resident()
    sign_in_by_link(page, scenario.app, email)

    open_ballot(page, visit, round_id)
    tally = page.locator("#tally")
    expect(tally).to_contain_text("Points given: 0 of 10")
    visit(page, "ballot")
    page.get_by_label("Bicycle racks at the station").fill("5")
    page.get_by_label("Community garden").fill("5")
    page.get_by_label("Outdoor gym").fill("2")
    expect(tally).to_contain_text("Points given: 12 of 10")
    expect(tally).to_contain_text("You gave 12 points; you have 10.")  # the server's words

    # The server is the authority: over the total is refused, the picks kept.
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_role("alert")).to_have_text("You gave 12 points; you have 10.")
    expect(page.get_by_label("Outdoor gym")).to_have_value("2")
    visit(page, "ballot-refused", status=400)

    page.get_by_label("Outdoor gym").fill("0")
    expect(tally).to_contain_text("Points given: 10 of 10")
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_text("2 proposals · 10 points given")).to_be_visible()
    visit(page, "review")
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    expect(page.locator("ul.choices")).to_contain_text("Community garden · 5 points")
    receipt_on(page)
    assert scenario.current_choices(round_id, email=email) == {
        str(ids["Bicycle racks at the station"]): 5, str(ids["Community garden"]): 5}
    visit(page, "done")


def test_code_holder_votes_with_a_printed_code(page, visit, scenario):
    round_id, ids = scenario.approval_round, scenario.approval_proposals
    code = scenario.take_code()

    open_ballot(page, visit, round_id)
    expect(page.get_by_role("link", name="Sign in to vote")).to_be_visible()
    visit(page, "vote-start")
    page.get_by_role("link", name="I have a voting code").click()
    visit(page, "code")

    page.get_by_label("Voting code").fill("ABCD-EFGH-JKMN-PQRS")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("This code cannot be used for this round.")
    expect(page.get_by_label("Voting code")).to_have_attribute("aria-invalid", "true")
    visit(page, "code-refused", status=400)

    # Typed as people do: small letters, spaces instead of dashes.
    page.get_by_label("Voting code").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You are voting with a voting code.")).to_be_visible()
    visit(page, "ballot")
    page.get_by_label("Library open on Sundays").check()
    expect(page.locator("#tally")).to_contain_text("Chosen: 1")
    page.get_by_role("button", name="Review my choices").click()
    expect(page.get_by_label("Mail me when the results are published")).to_have_count(0)
    visit(page, "review")
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    receipt_on(page)
    expect(page.get_by_text("We also sent it to your email.")).to_have_count(0)
    visit(page, "done")

    page.get_by_role("button", name="Finish: forget the code on this device").click()
    expect(page.get_by_text("The code is no longer remembered in this browser.")).to_be_visible()
    visit(page, "code-forgotten")
    page.goto(f"/rounds/{round_id}/vote")
    expect(page.get_by_role("link", name="I have a voting code")).to_be_visible()
    assert scenario.current_choices(round_id, code=code) == {
        str(ids["Library open on Sundays"]): 1}


def test_member_enters_a_paper_ballot(page, visit, scenario):
    round_id = scenario.approval_round
    code = scenario.take_code()
    sign_in_with_password(page, scenario.member, scenario.password, visit)
    page.goto(f"/manage/rounds/{round_id}")
    visit(page, "round-overview")
    page.get_by_role("link", name="Enter paper ballots").click()
    expect(page.get_by_role("heading", name="Enter paper ballots", level=1)).to_be_visible()
    visit(page, "paper")

    page.get_by_label("Code printed on the paper slip").fill(code)
    page.get_by_label("Benches by the lake").check()
    page.get_by_label("Skate park by the school").check()
    page.get_by_role("button", name="Record this paper ballot").click()
    recorded = page.get_by_text("The paper ballot is recorded. Receipt for the slip:")
    expect(recorded).to_be_visible()
    assert RECEIPT.search(recorded.inner_text().rsplit(" ", 1)[-1])
    visit(page, "paper-recorded")

    # The same slip again is refused, the marks kept on the form.
    page.get_by_label("Code printed on the paper slip").fill(code)
    page.get_by_label("Library open on Sundays").check()
    page.get_by_role("button", name="Record this paper ballot").click()
    expect(page.get_by_role("alert")).to_have_text("This slip has already been entered.")
    expect(page.get_by_label("Library open on Sundays")).to_be_checked()
    visit(page, "paper-refused", status=400)

    page.goto(f"/manage/rounds/{round_id}/turnout")
    paper_row = page.get_by_role("row", name=re.compile("^Paper"))
    expect(paper_row).not_to_have_text(re.compile(r"Paper\s*0$"))
    visit(page, "turnout")
