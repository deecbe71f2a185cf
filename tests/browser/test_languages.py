"""Content in the visitor's language on a phone (360 px): in Swedish, a Finnish-speaking
table's page and its round show their Swedish texts, the categories in Swedish, and ideas
as their authors wrote them, each tagged with its language. Screenshots land in
test-results/screenshots/."""

import pytest
from playwright.sync_api import expect

from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.extensions import db
from pb_vote.models import ProposalStatus, RoundPhase
from tests import factories
from tests.browser.helpers import sign_in_with_password

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def south(live_server):
    """Etelä / Söder (main language Finnish) with a round taking ideas: its id."""
    with live_server.app.app_context():
        table = factories.table("etela", "Etelä", postal_codes=("15300",))
        table.set_texts("name", {"fi": "Etelä", "sv": "Söder", "en": "South"})
        table.set_texts("description", {"fi": "Renkomäki, Laune ja Jalkaranta.",
                                        "sv": "Renkomäki, Laune och Jalkaranta."})
        round_ = factories.round_(table, RoundPhase.PROPOSALS, title="Etelä 2027",
                                  categories=["Puistot", "Liikenne"])
        round_.set_texts("title", {"fi": "Etelä 2027", "sv": "Söder 2027"})
        round_.set_texts("description", {"fi": "Ideoita omaan lähiympäristöön.",
                                         "sv": "Idéer för den egna närmiljön."})
        round_.set_category_translations({"sv": ["Parker", "Trafik"]})
        for language, title, category in (
                ("fi", "Penkkejä Launeen puistoon", "Puistot"),
                ("sv", "Cykelställ med tak vid busshållplatsen", "Liikenne")):
            proposal = factories.proposal(round_, title=title, category=category,
                                          status=ProposalStatus.SUBMITTED)
            proposal.language = language
        db.session.commit()
        return round_.id


@pytest.mark.parametrize("viewport", ["phone"])
def test_a_table_page_in_swedish_on_a_phone(page, context, visit, scenario, south):
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": "sv", "url": scenario.url}])
    page.goto("/tables/etela")
    visit(page, "table-in-swedish")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Söder")
    expect(page.locator("p.lead")).to_have_text("Renkomäki, Laune och Jalkaranta.")
    page.get_by_role("link", name="Söder 2027").click()
    visit(page, "round-in-swedish")
    expect(page.get_by_role("heading", level=1)).to_have_text("Söder 2027")
    expect(page.get_by_text("Idéer för den egna närmiljön.")).to_be_visible()
    options = page.locator("#category option")
    expect(options).to_have_text(["Alla kategorier", "Parker", "Trafik"])
    # The Finnish idea keeps its Finnish title, tagged so a screen reader reads it as Finnish.
    expect(page.locator('span[lang="fi"]', has_text="Penkkejä Launeen puistoon")).to_be_visible()
    swedish = page.get_by_role("link", name="Cykelställ med tak vid busshållplatsen")
    expect(swedish).to_be_visible()
    expect(swedish.locator("span[lang]")).to_have_count(0)


@pytest.mark.parametrize("viewport", ["phone"])
def test_staff_translate_a_round_on_a_phone(page, visit, scenario, south):
    sign_in_with_password(page, "admin@example.org", factories.STAFF_PASSWORD)
    page.goto(f"/manage/rounds/{south}")
    visit(page, "round-overview")
    notice = page.locator("section.notice", has_text="Texts in other languages")
    expect(notice).to_contain_text(
        "No English text for: title, description, categories. The Finnish text is shown "
        "instead.")
    notice.get_by_role("link", name="Add the translations").click()
    visit(page, "round-texts")
    expect(page.get_by_label("Title in Swedish")).to_have_value("Söder 2027")
    expect(page.get_by_label("Title in English")).to_have_attribute("lang", "en")
    page.get_by_label("Title in English").fill("South 2027")
    page.get_by_label("Categories in English").fill("Parks\nTraffic")
    page.get_by_role("button", name="Save the translations").click()
    expect(page.locator("section.notice", has_text="Texts in other languages")).to_contain_text(
        "No English text for: description.")
    page.goto(f"/rounds/{south}")  # the admin reads English
    visit(page, "round-in-english")
    expect(page.get_by_role("heading", level=1)).to_have_text("South 2027")
    expect(page.get_by_role("heading", level=1).locator("span[lang]")).to_have_count(0)
    expect(page.locator("p.lead[lang=fi]")).to_have_text("Ideoita omaan lähiympäristöön.")
    expect(page.locator("#category option")).to_have_text(["All categories", "Parks",
                                                            "Traffic"])
