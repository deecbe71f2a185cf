"""Ideas in a real browser: a resident submits one, a table member moderates."""

import re

import pytest
from playwright.sync_api import expect

from pb_vote.mail import outbox
from tests.browser.helpers import (
    header_link,
    new_mail,
    sign_in_by_link,
    sign_in_with_password,
)

pytestmark = pytest.mark.browser


def test_resident_signs_in_by_link_and_submits_an_idea(page, visit, scenario, viewport):
    sign_in_by_link(page, scenario.app, scenario.resident, visit)
    visit(page, "home-signed-in")

    page.goto(f"/rounds/{scenario.ideas_round}")
    expect(page.get_by_text("Collecting ideas").first).to_be_visible()
    visit(page, "round")
    page.get_by_role("link", name="Propose an idea").click()
    expect(page.get_by_role("heading", name="Propose an idea", level=1)).to_be_visible()
    visit(page, "idea-form")

    # Sent empty: every problem is listed, linked to its field.
    page.get_by_role("button", name="Submit the idea").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Give the idea a title.")
    expect(summary).to_contain_text("Give an estimated cost in euros.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    visit(page, "idea-form-errors")

    title = f"Drinking fountain in the park ({viewport})"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("A fountain by the playground, for hot summer days.")
    page.get_by_label("Estimated cost in euros").fill("2 500")
    page.get_by_label("Category").select_option("Parks")
    page.get_by_label("Location").fill("Pikku-Vesijärvi park")
    page.get_by_role("button", name="Submit the idea").click()

    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("Thank you! Your idea is submitted.")).to_be_visible()
    expect(page.locator("p.meta")).to_contain_text("Submitted")
    expect(page.locator("dl.facts")).to_contain_text("€2,500")
    visit(page, "idea-submitted")

    header_link(page, "My proposals").click()
    card = page.locator("li.card").filter(has=page.get_by_role("link", name=title))
    expect(card).to_contain_text("Submitted")
    expect(card).to_contain_text("Ideas for Keskusta 2027")
    visit(page, "my-proposals")


def test_member_accepts_an_idea_and_rejects_another(page, visit, scenario, viewport):
    app = scenario.app
    tag = f"moderated-{viewport}"
    accepted = scenario.submitted_idea(f"Benches by the shore path ({tag})")
    rejected = scenario.submitted_idea(f"Ski jump on the market square ({tag})")

    sign_in_with_password(page, scenario.member, scenario.password, visit)
    visit(page, "dashboard")
    page.get_by_role("link", name="Keskusta", exact=True).click()
    visit(page, "table")
    page.get_by_role("link", name="Ideas for Keskusta 2027").click()
    visit(page, "round-overview")
    page.get_by_role("link", name="Moderate proposals").click()
    visit(page, "queue")
    page.get_by_label("Status").select_option("submitted")
    page.get_by_label("Search").fill(tag)
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_have_text("2 proposals")
    visit(page, "queue-filtered")

    page.get_by_role("link", name=re.compile(f"^#{accepted} ")).click()
    visit(page, "moderate-first")
    before = len(outbox(app))
    accept = page.get_by_role("region", name="Accept to the ballot")
    accept.get_by_label("Reviewed cost in euros").fill("5 200")
    accept.get_by_label("Public note (optional)").fill("Includes two waste bins.")
    accept.get_by_role("button", name="Accept to the ballot").click()
    expect(page.get_by_text("Done. The author gets a mail about it.")).to_be_visible()
    expect(page.locator("p.meta")).to_contain_text("On the ballot")
    expect(page.locator("dl.facts")).to_contain_text("€5,200")
    visit(page, "accepted")
    mail = new_mail(app, scenario.resident, before)
    assert "It is on the ballot with a reviewed cost of €5,200." in mail.body

    page.get_by_role("link", name="Moderation queue").click()
    page.get_by_role("link", name=re.compile(f"^#{rejected} ")).click()
    page.get_by_text("Other actions").click()  # rejecting is behind the disclosure
    reject = page.get_by_role("region", name="Reject")
    # A rejection without a reason is refused, the error tied to the field.
    reject.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("alert").first).to_contain_text("Write the reason.")
    visit(page, "reject-without-reason", status=400)
    reason = "The square hosts the market every day; a ski jump does not fit there."
    reject = page.get_by_role("region", name="Reject")
    reject.get_by_label("Reason", exact=True).fill(reason)
    reject.get_by_label("Yes, reject this proposal").check()
    reject.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("Done. The author gets a mail about it.")).to_be_visible()
    expect(page.locator("p.meta")).to_contain_text("Not taken forward")
    assert reason in new_mail(app, scenario.resident, before).body
    visit(page, "rejected")

    page.goto(f"/proposals/{rejected}")
    expect(page.get_by_role("heading", name="Why it was not taken forward")).to_be_visible()
    expect(page.get_by_text(reason)).to_be_visible()
    visit(page, "public-rejected")
    page.goto(f"/proposals/{accepted}")
    expect(page.get_by_text("Includes two waste bins.")).to_be_visible()
    visit(page, "public-accepted")
