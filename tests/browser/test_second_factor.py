"""The staff second factor in the "required" mode, in Finnish and Swedish, at 360 px and
on a desktop, with JavaScript and without: a new coordinator signs in, is asked to set up
an authenticator app, reads the key under the QR code (as someone who cannot scan would),
types a code, gets the recovery codes, signs out; signs in again with the app's code, and
once more with a recovery code."""

import re
from datetime import timedelta
from functools import cache
from itertools import count

import pytest
from babel.support import Translations
from playwright.sync_api import expect

from pb_vote import PROJECT_ROOT, clock
from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.extensions import db
from pb_vote.models import Table
from tests import factories
from tests.browser.helpers import Visit

pytestmark = pytest.mark.browser
NUMBERS = count(1)


@cache
def _catalogue(language: str) -> Translations:
    return Translations.load(PROJECT_ROOT / "pb_vote" / "translations", [language])


def said(language: str, msgid: str) -> str:
    """``msgid`` as the page in ``language`` says it (it must be translated)."""
    text = _catalogue(language).gettext(msgid)
    assert text != msgid, f"no {language} text: {msgid}"
    return text


@pytest.fixture
def required(live_server, monkeypatch):
    """The shared live server in the "required" mode for this test."""
    monkeypatch.setitem(live_server.app.config, "STAFF_SECOND_FACTOR", "required")
    return live_server


@pytest.fixture
def later(monkeypatch):
    """Move the service's clock on (seconds), as the next sign-in comes a while later: an
    app's code works once, so the next code must be of a later 30-second step."""
    real = clock.utcnow
    shift = [timedelta()]
    monkeypatch.setattr(clock, "utcnow", lambda: real() + shift[0])

    def advance(seconds: int) -> None:
        shift[0] += timedelta(seconds=seconds)

    return advance


def _coordinator(app, language: str) -> str:
    email = f"coordinator-2fa-{next(NUMBERS)}@example.org"
    with app.app_context():
        table = db.session.query(Table).filter_by(slug="keskusta").one()
        factories.user(email, postal_code=None, role="coordinator", at=table,
                       language=language)
        db.session.commit()
    return email


def _password_step(page, language: str, email: str, visit: Visit) -> None:
    page.goto("/staff/sign-in")
    visit(page, "staff-sign-in")
    page.get_by_label(said(language, "Email address")).fill(email)
    page.get_by_label(said(language, "Password")).fill(factories.STAFF_PASSWORD)
    page.get_by_role("main").get_by_role("button", name=said(language, "Sign in")).click()


def _sign_out(page, language: str) -> None:
    menu = page.locator(".phone-menu")
    if menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    page.locator(".site-header").get_by_role(
        "button", name=said(language, "Sign out")).first.click()
    expect(page.get_by_text(said(language, "You are signed out."))).to_be_visible()


def _at_dashboard(page, language: str) -> None:
    expect(page.get_by_role("heading", name=said(language, "Staff pages"), level=1)
           ).to_be_visible()


@pytest.mark.parametrize("mode", ["js", "no-js"])
@pytest.mark.parametrize("language", ["fi", "sv"])
def test_a_coordinator_sets_up_and_uses_the_second_factor(
        request, new_context, required, later, viewport, language, mode):
    javascript = mode == "js"

    def context(enabled: bool):
        made = new_context(viewport, java_script_enabled=enabled)
        made.add_cookies([{"name": LANGUAGE_COOKIE, "value": language,
                           "url": required.url}])
        return made

    required.server_errors.clear()
    visit = Visit(test_name=request.node.originalname, viewport=f"{viewport}-{language}-{mode}",
                  server_errors=required.server_errors)
    page = visit.watch(context(javascript).new_page(),
                       axe_copy_in=None if javascript else context(True).new_page())
    email = _coordinator(required.app, language)

    # First sign-in: the password leads to setting up the app.
    _password_step(page, language, email, visit)
    expect(page).to_have_url(re.compile(r"/staff/second-factor/enrol$"))
    expect(page.get_by_role("heading", name=said(language, "Set up your second factor"),
                            level=1)).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    visit(page, "enrol")
    secret = page.locator("#second-factor-secret").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    code_label = said(language, "Code from your authenticator app")
    page.get_by_label(code_label).fill("123")
    page.get_by_role("button", name=said(language, "Continue")).click()
    expect(page.locator(".error-summary")).to_be_visible()
    visit(page, "enrol-wrong-code", status=400)
    assert page.get_by_label(code_label).get_attribute("aria-invalid") == "true"
    page.get_by_label(code_label).fill(factories.app_code(secret))
    page.get_by_role("button", name=said(language, "Continue")).click()
    expect(page.get_by_role("heading", name=said(language, "Your second factor is set up"),
                            level=1)).to_be_visible()
    visit(page, "recovery-codes")
    codes = [c.strip() for c in page.locator(".recovery-codes li").all_inner_texts()]
    assert len(codes) == 10 and all(re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", c)
                                    for c in codes)
    page.get_by_role("link", name=said(language, "I have kept the codes: continue")).click()
    _at_dashboard(page, language)
    visit(page, "dashboard")
    _sign_out(page, language)

    # Next sign-in, a while later: the app's code.
    later(30)
    _password_step(page, language, email, visit)
    expect(page).to_have_url(re.compile(r"/staff/second-factor$"))
    expect(page.get_by_role("heading", name=said(language, "Second step of signing in"),
                            level=1)).to_be_visible()
    visit(page, "second-step")
    page.get_by_label(code_label).fill(factories.app_code(secret))
    page.get_by_role("button", name=said(language, "Continue")).click()
    _at_dashboard(page, language)
    _sign_out(page, language)

    # And once with a recovery code (no phone at hand).
    _password_step(page, language, email, visit)
    page.get_by_text(said(language, "No phone at hand? Use a recovery code")).click()
    recovery_label = said(language, "Recovery code")
    expect(page.get_by_label(recovery_label)).to_be_visible()
    visit(page, "recovery-code")
    page.get_by_label(recovery_label).fill(codes[0].lower())
    page.get_by_role("button", name=said(language, "Use the recovery code")).click()
    _at_dashboard(page, language)
    expect(page.locator(".flash-success")).to_contain_text("9")
    visit(page, "signed-in-with-recovery-code")
    assert not required.server_errors, f"the server raised: {required.server_errors}"
