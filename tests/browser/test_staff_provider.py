"""Staff sign-in through the city's own OpenID Provider in the browser (tests/oidc.py's
local provider stands in for the city's Entra ID), on a phone in Finnish with JavaScript
off: a coordinator goes from /staff/sign-in through the provider's login page to the second
step; a person with no staff account is told so there, and nothing is made."""

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect
from sqlalchemy import func, select

from pb_vote import create_app
from pb_vote.extensions import db
from pb_vote.models import User
from tests import factories, oidc
from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS
from tests.browser.helpers import Visit, served
from tests.conftest import base_test_config


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The city's provider and the app (CSRF on, the second factor required) with
    factories.city_directory()."""
    reason = oidc.why_no_provider()
    if reason:
        pytest.skip(reason)
    provider = oidc.start_provider("city")
    path = tmp_path_factory.mktemp("staff-provider") / "pb_vote.sqlite"
    config = base_test_config(f"sqlite:///{path}")
    del config["SERVER_NAME"]
    config.update(WTF_CSRF_ENABLED=True, STAFF_SECOND_FACTOR="required",
                  STAFF_IDENTITY_PROVIDER=provider.staff_settings())
    app = create_app(config)
    with app.app_context():
        upgrade()
        factories.city_directory()
        db.session.commit()
    with served(app) as (url, errors):
        app.config.update(PUBLIC_BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"])
        yield {"url": url, "errors": errors, "app": app}
    provider.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _through_the_city(page, person: str) -> None:
    page.get_by_role("link", name="Kirjaudu: Lahden kaupunki").click()
    page.locator('input[name="login"]').fill(person)
    page.locator('input[name="password"]').fill("any password")
    page.locator('button[type="submit"]').click()


def test_staff_sign_in_through_the_citys_provider_on_a_phone_without_javascript(browser,
                                                                               site):
    visit = Visit(test_name="staff_provider", viewport="phone", server_errors=site["errors"])
    options = {**VIEWPORTS["phone"], "bypass_csp": True, "locale": "fi-FI"}
    checker = browser.new_context(**options)  # axe-core checks copies of the pages here
    contexts = []

    def new_page():
        """A page in a browser of its own (no session at the provider yet), JS off."""
        contexts.append(browser.new_context(**options, java_script_enabled=False))
        contexts[-1].set_default_timeout(TIMEOUT_MS)
        return visit.watch(contexts[-1].new_page(), axe_copy_in=checker.new_page())

    page = new_page()

    page.goto(f"{site['url']}/staff/sign-in")
    expect(page.get_by_label("Salasana")).to_be_visible()  # the password form stays
    visit(page, "staff-sign-in")
    _through_the_city(page, "aino")  # aino@example.org: no staff account
    expect(page.get_by_role("alert")).to_contain_text(
        "Osoitteelle aino@example.org ei ole henkilöstötiliä")
    visit(page, "no-staff-account", status=400)
    with site["app"].app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 3

    page = new_page()
    page.goto(f"{site['url']}/staff/sign-in")
    _through_the_city(page, "kaisa")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ota toinen tunnistautumistapa käyttöön")  # her first time: she enrols
    visit(page, "second-step")
    for context in (*contexts, checker):
        context.close()
