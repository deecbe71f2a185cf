"""The city admin writes the privacy notice in Finnish and Swedish (starting from the
built-in text, with a preview first), and a resident reads it from the footer in Finnish,
Swedish and English, English falling back to the Finnish text marked lang="fi": at 360 px
and on a desktop, with JavaScript and without. Screenshots land in
test-results/screenshots/."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.extensions import db
from pb_vote.models import User
from pb_vote.services import service_pages
from tests.browser.helpers import choose_language, layout_problems, sign_in_with_password

pytestmark = pytest.mark.browser

FOOTER_NAMES = {"fi": "Tietosuojaseloste", "sv": "Dataskyddsbeskrivning",
                "en": "Privacy notice"}


@pytest.fixture
def built_in_afterwards(scenario):
    """The privacy notice shows its built-in text again once the test is done (the
    server is shared with the other journeys)."""
    yield
    with scenario.app.app_context():
        admin = db.session.execute(
            select(User).where(User.email == scenario.admin)).scalar_one()
        for language in ("fi", "sv", "en"):
            if service_pages.own_text("privacy", language) is not None:
                service_pages.use_built_in(admin, "privacy", language)
        db.session.commit()


def _page(new_context, visit, viewport: str, javascript: bool):
    context = new_context(viewport, java_script_enabled=javascript)
    axe_page = None if javascript else new_context(viewport).new_page()
    return visit.watch(context.new_page(), axe_copy_in=axe_page)


def _no_layout_problems(page) -> None:
    problems = layout_problems(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_admin_writes_the_privacy_notice_and_a_resident_reads_it(
        new_context, viewport, visit, scenario, javascript, built_in_afterwards):
    run = f"{viewport}-{'js' if javascript else 'no-js'}"
    finnish = (f"## Rekisterinpitäjä\n\nLahden kaupunki ({run}).\n\n"
               "- **Sähköposti:** [pb@lahti.example](mailto:pb@lahti.example)")
    swedish = f"## Personuppgiftsansvarig\n\nLahtis stad ({run})."

    admin = _page(new_context, visit, viewport, javascript)
    sign_in_with_password(admin, scenario.admin, scenario.password, visit)
    admin.goto("/admin")
    admin.get_by_role("link", name="The service's own pages").click()
    visit(admin, "service-pages")
    admin.get_by_role("link", name="Edit Privacy notice in Finnish").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Privacy notice: Finnish")
    editor = admin.get_by_label("Text of the page (Markdown)")
    expect(editor).to_have_attribute("lang", "fi")
    # It starts from the built-in text, written out as Markdown.
    expect(editor).to_have_value(re.compile(r"^Mitä henkilötietoja.*\n## Rekisterinpitäjä\n",
                                            re.S))
    visit(admin, "editor-built-in")
    _no_layout_problems(admin)

    editor.fill(finnish + "\n\n<script>alert(1)</script>")
    admin.get_by_role("button", name="Preview").click()
    preview = admin.locator(".page-preview .page-text")
    expect(preview.get_by_role("heading", name="Rekisterinpitäjä")).to_be_visible()
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, not run
    visit(admin, "editor-preview")
    admin.get_by_label("Text of the page (Markdown)").fill(finnish)
    admin.get_by_role("button", name="Save and publish").click()
    expect(admin.get_by_text("Saved. The page shows the new text now.")).to_be_visible()
    newest = admin.locator(".stack-table tbody tr").first
    expect(newest).to_contain_text("Own text")
    expect(newest).to_contain_text("shown now")
    visit(admin, "editor-saved")

    admin.get_by_role("link", name="Edit Privacy notice in Swedish").click()
    expect(admin.locator("li", has_text="Swedish:")).to_contain_text(
        "Not written: readers see the Finnish text, marked as Finnish.")
    admin.get_by_label("Text of the page (Markdown)").fill(swedish)
    admin.get_by_role("button", name="Save and publish").click()
    expect(admin.get_by_text("Saved. The page shows the new text now.")).to_be_visible()
    visit(admin, "editor-swedish-saved")

    reader = _page(new_context, visit, viewport, javascript)
    reader.goto("/")
    choose_language(reader, "fi")
    reader.locator(".site-footer").get_by_role("link", name=FOOTER_NAMES["fi"]).click()
    expect(reader.locator(".page-text")).to_contain_text(f"Lahden kaupunki ({run}).")
    expect(reader.locator(".page-text")).not_to_have_attribute("lang", "fi")
    expect(reader.get_by_text("Päivitetty viimeksi")).to_be_visible()
    visit(reader, "privacy-fi")
    _no_layout_problems(reader)

    choose_language(reader, "sv")
    expect(reader.locator(".page-text")).to_contain_text(f"Lahtis stad ({run}).")
    expect(reader.locator(".page-text")).not_to_have_attribute("lang", "fi")
    visit(reader, "privacy-sv")

    reader.context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "en", "url": scenario.url}])
    reader.goto("/")
    reader.locator(".site-footer").get_by_role("link", name=FOOTER_NAMES["en"]).click()
    expect(reader.locator("html")).to_have_attribute("lang", "en")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Privacy notice")
    expect(reader.get_by_text("This page has not been written in English. It is shown in "
                              "Finnish.")).to_be_visible()
    fallback = reader.locator('.page-text[lang="fi"]')
    expect(fallback).to_contain_text(f"Lahden kaupunki ({run}).")
    expect(fallback.get_by_role("heading", name="Rekisterinpitäjä")).to_be_visible()
    visit(reader, "privacy-en-falls-back")
