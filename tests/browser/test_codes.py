"""Voting-code slips, the paper ballot to print, and the audit trail, in the browser.

A coordinator prints a batch of slips in Finnish, Swedish and English and voids a batch
whose print failed; a code holder opens a slip's QR address (the code in the fragment):
the page fills the field and clears the address, and the code is in no request the server
sees; without JavaScript the code is typed as printed. A member prints the paper ballot
(screen and print media); a city admin filters the audit trail with GET forms only.
"""

import re

import pytest
from playwright.sync_api import expect

from pb_vote.services import codes as code_shapes
from tests.browser.helpers import sign_in_with_password

SLIP_CODE = re.compile(r"^[2-9A-HJKMNP-Z]{4}(?:-[2-9A-HJKMNP-Z]{4}){3}$")


@pytest.fixture
def request_lines(scenario):
    """Every request the live server receives while the test runs, as its request line and
    Referer header (what an access log or a proxy would see)."""
    app = scenario.app
    seen: list[str] = []
    inner = app.wsgi_app

    def recording(environ, start_response):
        seen.append(f"{environ['REQUEST_METHOD']} {environ.get('REQUEST_URI', '')} "
                    f"{environ.get('SERVER_PROTOCOL', '')} "
                    f"Referer: {environ.get('HTTP_REFERER', '')}")
        return inner(environ, start_response)

    app.wsgi_app = recording
    yield seen
    app.wsgi_app = inner


A4 = {"width": 794, "height": 1123}  # an A4 page at 96 dpi, as a browser lays out a print


def as_printed(page):
    """Lay ``page`` out as it prints: print media on an A4-wide page (undone by
    ``on_screen``)."""
    size = page.viewport_size
    page.set_viewport_size(A4)
    page.emulate_media(media="print")
    return size


def on_screen(page, size) -> None:
    page.emulate_media(media="screen")
    page.set_viewport_size(size)


def printed_codes(page) -> list[str]:
    """The codes on the slips of the sheet shown."""
    return [text.strip() for text in page.locator(".slip-code").all_inner_texts()]


def test_coordinator_prints_slips_in_three_languages_and_voids_a_lost_batch(page, visit,
                                                                            scenario):
    round_id = scenario.approval_round
    sign_in_with_password(page, scenario.coordinator, scenario.password)
    page.goto(f"/manage/rounds/{round_id}/codes")
    expect(page.get_by_label("Suomi")).to_be_checked()
    expect(page.get_by_label("Svenska")).to_be_checked()
    expect(page.get_by_label("English")).not_to_be_checked()
    visit(page, "codes")

    page.get_by_label("How many codes").fill("3")
    page.get_by_label("English").check()
    page.get_by_role("button", name="Generate and show the sheet").click()
    expect(page.locator(".slip")).to_have_count(3)
    codes = printed_codes(page)
    assert all(SLIP_CODE.match(code) for code in codes)
    for language, words in (("fi", "Äänestä viimeistään"), ("sv", "Rösta senast"),
                            ("en", "Vote by")):
        expect(page.locator(f'.slip-how[lang="{language}"]')).to_have_count(3)
        expect(page.locator(f'.slip-how[lang="{language}"]').first).to_contain_text(words)
    visit(page, "sheet")
    size = as_printed(page)
    expect(page.get_by_text("Print this page now (A4)")).to_be_hidden()
    visit(page, "sheet-printed")
    on_screen(page, size)

    # The print failed: the coordinator voids the batch, with the reason.
    page.get_by_role("link", name="Back to the voting codes").click()
    batch = page.locator(".batches > li").first
    expect(batch).to_contain_text("3 codes · 0 used")
    batch.get_by_text("Void this batch").click()
    batch.get_by_role("button", name="Void the batch").click()
    expect(page.get_by_text("Write the reason.").first).to_be_visible()
    visit(page, "void-refused", status=400)
    batch = page.locator(".batches > li").first
    batch.get_by_label("Why the batch is voided").fill("The printer jammed on page 1.")
    batch.get_by_label("I understand that the unused codes").check()
    batch.get_by_role("button", name="Void the batch").click()
    expect(page.get_by_text("is voided: 3 unused codes stopped working.")).to_be_visible()
    expect(page.locator(".batches > li").first).to_contain_text(
        "The printer jammed on page 1.")
    visit(page, "voided")

    page.goto(f"/rounds/{round_id}/code")
    page.get_by_label("Voting code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("This code cannot be used")


def test_a_slips_qr_address_fills_the_code_and_the_server_never_sees_it(
        page, visit, scenario, request_lines):
    round_id = scenario.approval_round
    code = scenario.take_code()
    raw = code_shapes.normalize_code(code)
    page.goto(f"/rounds/{round_id}/code#code={raw}")
    expect(page.get_by_label("Voting code")).to_have_value(code)
    expect(page.get_by_role("status").filter(has_text="The code from your slip is filled in")
           ).to_be_visible()
    assert page.evaluate("location.hash") == ""  # not in the address bar, nor the history
    assert page.url.endswith(f"/rounds/{round_id}/code")
    visit(page, "code-filled")

    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You are voting with a voting code.")).to_be_visible()
    visit(page, "ballot")
    assert request_lines, "the server saw no request"
    for line in request_lines:
        assert raw not in line.upper().replace("-", "") and code not in line, line


def test_without_javascript_the_slips_code_is_typed(new_context, viewport, visit, scenario):
    round_id = scenario.approval_round
    code = scenario.take_code()
    page = visit.watch(new_context(viewport, java_script_enabled=False).new_page(),
                       axe_copy_in=new_context(viewport).new_page())
    page.goto(f"/rounds/{round_id}/code#code={code_shapes.normalize_code(code)}")
    expect(page.get_by_label("Voting code")).to_have_value("")
    expect(page.locator("#code-filled")).to_be_hidden()
    visit(page, "code-no-script")
    page.get_by_label("Voting code").fill(code)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You are voting with a voting code.")).to_be_visible()
    visit(page, "ballot-no-script")


@pytest.mark.parametrize("kind", ["approval", "points"])
def test_member_prints_the_paper_ballot(page, visit, scenario, kind):
    round_id = scenario.approval_round if kind == "approval" else scenario.points_round
    sign_in_with_password(page, scenario.member, scenario.password)
    page.goto(f"/manage/rounds/{scenario.approval_round}/paper")
    page.get_by_role("link", name="Print paper ballots").click()
    if kind == "points":
        page.goto(f"/manage/rounds/{round_id}/paper/print")
    expect(page.locator(".paper-rules")).to_have_count(2)  # Finnish and Swedish
    expect(page.locator('.paper-rules[lang="fi"] h2')).to_contain_text("Äänestyslippu")
    expect(page.locator('.paper-rules[lang="sv"] h2')).to_contain_text("Valsedel")
    expect(page.locator(".paper-box")).to_have_count(3)
    visit(page, f"paper-ballot-{kind}")

    page.get_by_label("English").check()
    page.get_by_label("Suomi").uncheck()
    page.get_by_role("button", name="Show the ballot").click()
    expect(page.locator(".paper-rules")).to_have_count(2)
    expect(page.locator('.paper-rules[lang="en"]')).to_contain_text(
        "Mark at least 1 and at most 2 proposals" if kind == "approval"
        else "Share 10 points among the proposals you support")
    as_printed(page)
    expect(page.locator("form.paper-languages")).to_be_hidden()
    visit(page, f"paper-ballot-{kind}-printed")


def test_admin_reads_and_filters_the_audit_trail(page, visit, scenario):
    sign_in_with_password(page, scenario.admin, scenario.password)
    page.goto("/admin/audit")
    expect(page.get_by_text("The hash chain is intact")).to_be_visible()
    expect(page.get_by_role("cell", name="Generated voting codes").first).to_be_visible()
    visit(page, "audit")

    page.get_by_label("Action").select_option(label="Generated voting codes")
    page.get_by_role("button", name="Show the events").click()
    assert "action=voting_codes.generated" in page.url  # a GET form: works without scripts
    actions = page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts()
    assert actions and set(actions) == {"Generated voting codes"}
    visit(page, "audit-filtered")

    page.get_by_label("First day").fill("2026-05-02")
    page.get_by_label("Last day").fill("2026-05-01")
    page.get_by_role("button", name="Show the events").click()
    expect(page.get_by_role("alert")).to_contain_text("The start date is after the end date.")
    visit(page, "audit-bad-dates", status=400)


def test_the_code_page_script_runs_under_the_apps_content_security_policy(new_context,
                                                                          scenario):
    code = scenario.take_code()
    page = new_context("phone", bypass_csp=False).new_page()
    page.goto(f"/rounds/{scenario.approval_round}/code#code={code_shapes.normalize_code(code)}")
    expect(page.get_by_label("Voting code")).to_have_value(code)
    assert page.evaluate("location.hash") == ""
