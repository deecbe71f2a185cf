"""Strong identification in the browser: a resident votes in a round for strongly
identified residents only, signing in through a real OpenID Provider (panva's oidc-provider,
started by tests/oidc.py, its own login page); then the same person, through the second
provider and with JavaScript off, finds the same ballot: one person, one ballot. The phone
run (aino) reads Finnish, the desktop run (ella) English.
"""

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect

from pb_vote import create_app
from pb_vote.extensions import db
from tests import factories, oidc
from tests.browser.conftest import CHROMIUM_ARGS, TIMEOUT_MS, VIEWPORTS
from tests.browser.helpers import Visit, served
from tests.conftest import base_test_config

WORDS = {
    "fi": {"identify": "Tunnistaudu: Testi {tag}", "review": "Tarkista valintani",
           "vote": "Äänestä", "recorded": "Äänesi on tallennettu"},
    "en": {"identify": "Identify with Test {tag}", "review": "Review my choices",
           "vote": "Vote", "recorded": "Your vote is recorded"},
}
LANGUAGE = {"phone": "fi", "desktop": "en"}
# A person per run: an account keeps the language it was made in.
PERSON = {"phone": "aino", "desktop": "ella"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two local providers and the app (CSRF on) with a round for identified residents."""
    reason = oidc.why_no_provider()
    if reason:
        pytest.skip(reason)
    started = {tag: oidc.start_provider(tag) for tag in ("bank", "suomifi")}
    path = tmp_path_factory.mktemp("identified") / "pb_vote.sqlite"
    config = base_test_config(f"sqlite:///{path}")
    del config["SERVER_NAME"]
    config.update(WTF_CSRF_ENABLED=True, **oidc.provider_config(started))
    app = create_app(config)
    with app.app_context():
        upgrade()
        built = factories.identified_round()
        db.session.commit()
        round_id = built.round_id
    with served(app) as (url, errors):
        app.config.update(PUBLIC_BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"])
        yield {"url": url, "errors": errors, "round": round_id, "app": app}
    for provider in started.values():
        provider.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _context(browser, viewport: str, language: str, **options):
    context = browser.new_context(**VIEWPORTS[viewport], bypass_csp=True,
                                  locale={"fi": "fi-FI", "en": "en-GB"}[language], **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _identify_at_provider(page, tag: str, words: dict, person: str) -> None:
    page.get_by_role("link", name=words["identify"].format(tag=tag)).click()
    page.locator('input[name="login"]').fill(person)
    page.locator('input[name="password"]').fill("any password")
    page.locator('button[type="submit"]').click()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_one_person_votes_once_through_two_providers(browser, site, viewport):
    assert CHROMIUM_ARGS  # the session's Chromium (tests/browser/conftest.py)
    language = LANGUAGE[viewport]
    words = WORDS[language]
    visit = Visit(test_name="identified_vote", viewport=viewport, server_errors=site["errors"])
    ballot = f"{site['url']}/rounds/{site['round']}/vote"

    first = _context(browser, viewport, language)
    page = visit.watch(first.new_page())
    page.goto(ballot)
    visit(page, "round-asks-for-identification")
    _identify_at_provider(page, "bank", words, PERSON[viewport])
    expect(page.get_by_label("Project 0")).to_be_visible()
    visit(page, "ballot-after-identification")
    page.get_by_label("Project 0").check()
    page.get_by_role("button", name=words["review"]).click()
    page.get_by_role("button", name=words["vote"], exact=True).click()
    expect(page.get_by_role("heading", name=words["recorded"], level=1)).to_be_visible()
    visit(page, "recorded")
    first.close()

    # The same person through the other provider, in another browser, without JavaScript.
    second = _context(browser, viewport, language, java_script_enabled=False)
    page = visit.watch(second.new_page())
    visit.axe = False  # axe-core needs JavaScript
    page.goto(ballot)
    _identify_at_provider(page, "suomifi", words, PERSON[viewport])
    expect(page.get_by_label("Project 0")).to_be_checked()  # her ballot, not a new one
    visit(page, "same-ballot-through-the-other-provider")
    second.close()
    with site["app"].app_context():
        from sqlalchemy import func, select

        from pb_vote.models import Participation, User

        people = db.session.scalar(select(func.count()).select_from(User)
                                   .where(User.person_pseudonym.is_not(None)))
        ballots = db.session.scalar(select(func.count()).select_from(Participation)
                                    .where(Participation.round_id == site["round"]))
        assert people == ballots == list(VIEWPORTS).index(viewport) + 1
