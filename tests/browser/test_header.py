"""The header on a phone and a desktop (issue 16, item 9): one row that leaves the phone's
first screen to the page, a Menu and a language choice that work without JavaScript and
from the keyboard, and the footer's pages."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import Visit, check_axe, check_axe_copy, sign_in_by_link, tab_to

pytestmark = pytest.mark.browser


@pytest.fixture
def checks(request, scenario):
    """The page checks (screenshot, axe-core, no sideways scrolling) for a viewport kind."""
    scenario.server_errors.clear()
    made = []

    def make(kind: str) -> Visit:
        made.append(Visit(test_name=request.node.name, viewport=kind,
                          server_errors=scenario.server_errors))
        return made[-1]

    yield make
    assert not scenario.server_errors, f"the server raised: {scenario.server_errors}"


def _header_share(page) -> float:
    return page.evaluate(
        "() => document.querySelector('.site-header').getBoundingClientRect().height"
        " / innerHeight")


def test_a_phone_header_is_one_row_with_a_menu_that_needs_no_javascript(
        new_context, checks, scenario):
    visit = checks("phone")
    no_js = new_context("phone", java_script_enabled=False)
    page = visit.watch(no_js.new_page(), axe_copy_in=new_context("phone").new_page())
    sign_in_by_link(page, scenario.app, scenario.new_resident())
    page.goto("/")
    visit(page, "signed-in-home")
    # The header took 30 % of the first screen; one row takes under an eighth.
    assert _header_share(page) < 0.125
    links = page.locator(".phone-menu").get_by_role("link", name="My account")
    expect(links).to_be_hidden()
    expect(page.locator(".wide-nav")).to_be_hidden()
    # From the keyboard: Tab to the Menu, open it with Enter, follow a link.
    tab_to(page, ".phone-menu summary")
    page.keyboard.press("Enter")
    expect(links).to_be_visible()
    check_axe_copy(visit.axe_copies[id(page)], page, where="header-phone-menu-open")
    links.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    # The language choice is a disclosure too.
    page.locator(".language-menu summary").click()
    page.locator(".language-menu").get_by_role("button", name="Suomi").click()
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    expect(page.locator(".phone-menu summary")).to_have_text("Valikko")
    # Only one of the two is open at a time: they overlap under the header.
    page.locator(".phone-menu summary").click()
    page.locator(".language-menu summary").click()
    expect(page.locator(".phone-menu")).not_to_have_attribute("open", "")
    page.locator(".language-menu").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # Sign out from the Menu (its button sends the header's one sign-out form).
    page.locator(".phone-menu summary").click()
    page.locator(".phone-menu").get_by_role("button", name="Sign out").click()
    expect(page.locator(".site-header").get_by_role("link", name="Sign in")).to_be_visible()


def test_signed_out_in_finnish_the_sign_in_link_fits_beside_the_name(new_context, checks):
    visit = checks("phone")
    page = visit.watch(new_context("phone", locale="fi-FI").new_page())
    page.goto("/staff/sign-in")
    visit(page, "staff-sign-in-fi")
    sign_in = page.locator(".site-header").get_by_role("link", name="Kirjaudu sisään")
    box = sign_in.bounding_box()
    assert box["x"] + box["width"] <= 360 and box["height"] <= 44
    assert _header_share(page) < 0.125
    button = page.get_by_role("main").get_by_role("button", name="Kirjaudu sisään")
    box = button.bounding_box()
    assert box["x"] + box["width"] <= 360


def test_a_desktop_shows_the_links_in_the_row(new_context, checks, scenario):
    visit = checks("desktop")
    page = visit.watch(new_context("desktop").new_page())
    sign_in_by_link(page, scenario.app, scenario.new_resident())
    page.goto("/")
    visit(page, "desktop-home")
    expect(page.locator(".wide-nav").get_by_role("link", name="My proposals")).to_be_visible()
    expect(page.locator(".phone-menu")).to_be_hidden()
    page.locator(".language-menu summary").click()
    expect(page.locator(".language-menu").get_by_role("button", name="Svenska")).to_be_visible()
    check_axe(page, where="header-desktop-language-open")
    page.locator(".wide-nav").get_by_role("button", name="Sign out").click()
    expect(page.locator(".site-header").get_by_role("link", name="Sign in")).to_be_visible()


@pytest.mark.parametrize("address", ["/contact", "/privacy", "/accessibility"])
def test_the_footer_pages_read_well_on_a_phone(phone_context, checks, address):
    visit = checks("phone")
    page = visit.watch(phone_context.new_page())
    page.goto("/")
    page.locator(".site-footer").get_by_role("link", name={
        "/contact": "Contact", "/privacy": "Privacy notice",
        "/accessibility": "Accessibility statement"}[address]).click()
    expect(page).to_have_url(f"{page.url.split(address)[0]}{address}")
    visit(page, address.strip("/"))
