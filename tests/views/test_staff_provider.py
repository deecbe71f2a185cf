"""Staff sign in through the city's own OpenID Provider (tests/oidc.py's "bank" instance
stands in for the city's Entra ID): a work address the provider vouches for leads to an
existing staff account only, and the second step still follows unless the city trusts the
provider's multi-factor sign-in and the ID token says it was used."""

import pytest
from sqlalchemy import func, select

from pb_vote import create_app
from pb_vote.extensions import db
from pb_vote.models import LoginSession, SignInMethod, TableMembership, User
from tests import factories, oidc
from tests.conftest import ClosingClient, base_test_config
from tests.oidc import free_port, staff_identify, through_provider

local_providers = oidc.local_providers
providers = oidc.providers


@pytest.fixture
def make_app(database_url, providers):
    """Make the app with the city's provider for staff (the "bank" instance), the second
    factor required, and factories.city_directory(); ``config`` overrides."""
    made = []

    def make(**config):
        app = create_app({**base_test_config(database_url),
                          "STAFF_SECOND_FACTOR": "required",
                          "STAFF_IDENTITY_PROVIDER": providers["bank"].staff_settings(),
                          **config})
        app.test_client_class = ClosingClient
        factories.saved(app, factories.city_directory)
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def staff_app(make_app):
    return make_app()


@pytest.fixture
def client(staff_app):
    return staff_app.test_client()


def _sessions(app) -> list[tuple[str, SignInMethod, bool]]:
    with app.app_context():
        return [(row.user.email, row.method, row.second_factor_at is not None)
                for row in db.session.execute(select(LoginSession)).scalars()]


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(User)),
                db.session.scalar(select(func.count()).select_from(TableMembership)))


def test_the_staff_page_offers_the_citys_provider_beside_the_password(client):
    page = client.get("/staff/sign-in", headers={"Accept-Language": "fi"}).get_data(
        as_text=True)
    assert "Kirjaudu: Lahden kaupunki" in page and 'name="password"' in page
    # The residents' page does not offer it.
    assert "Lahden kaupunki" not in client.get("/sign-in").get_data(as_text=True)


def test_without_a_staff_provider_there_is_none_to_offer(app):
    client = app.test_client()
    assert client.get("/staff/sign-in/provider").status_code == 404
    assert "/staff/sign-in/provider" not in client.get("/staff/sign-in").get_data(
        as_text=True)


def test_a_coordinator_signs_in_through_the_provider_and_gives_the_second_factor(
        staff_app, client):
    answer = staff_identify(client, "kaisa")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/staff/second-factor")
    # Her address came in capitals; her account's is found, and waits for the second step.
    assert _sessions(staff_app) == [("kaisa.koski@lahti.example",
                                     SignInMethod.STAFF_PROVIDER, False)]
    assert client.get("/manage").status_code == 303  # nothing before the second step


def test_after_the_second_step_the_session_keeps_the_providers_method(staff_app, client):
    with staff_app.app_context():
        enrolment = factories.enrolled(
            db.session.scalar(select(User).where(User.email == "kaisa.koski@lahti.example")))
        db.session.commit()
    answer = staff_identify(client, "kaisa", next_url="/manage")
    assert answer.headers["Location"].endswith("/staff/second-factor")
    done = client.post("/staff/second-factor", data={"code": enrolment.code()})
    assert done.status_code == 303 and done.headers["Location"].endswith("/manage")
    assert _sessions(staff_app) == [("kaisa.koski@lahti.example",
                                     SignInMethod.STAFF_PROVIDER, True)]
    assert client.get("/manage").status_code == 200


@pytest.mark.parametrize("mode", ["mfa", "mfa_acr"])
def test_a_trusted_multi_factor_login_is_the_second_factor(make_app, providers, mode):
    app = make_app(STAFF_PROVIDER_TRUSTED_MFA=True,
                   STAFF_IDENTITY_PROVIDER=providers["bank"].staff_settings(
                       mfa_acr_values=["urn:test:loa:mfa"]))
    client = app.test_client()
    providers["bank"].misbehave(mode)
    answer = staff_identify(client, "kaisa")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/manage")
    assert _sessions(app) == [("kaisa.koski@lahti.example", SignInMethod.STAFF_PROVIDER,
                               True)]
    assert client.get("/manage").status_code == 200


def test_a_multi_factor_login_counts_only_when_the_city_trusts_it(staff_app, client,
                                                                   providers):
    providers["bank"].misbehave("mfa")
    answer = staff_identify(client, "kaisa")
    assert answer.headers["Location"].endswith("/staff/second-factor")
    assert _sessions(staff_app)[0][2] is False


def test_trusted_but_a_password_only_login_still_gives_the_second_factor(make_app):
    app = make_app(STAFF_PROVIDER_TRUSTED_MFA=True)
    answer = staff_identify(app.test_client(), "kaisa")
    assert answer.headers["Location"].endswith("/staff/second-factor")


def test_a_person_without_a_staff_account_is_told_so_and_nothing_is_made(staff_app, client):
    before = _counts(staff_app)
    answer = staff_identify(client, "aino")  # aino@example.org: no account at all
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "There is no staff account for aino@example.org" in page
    assert 'name="password"' in page  # the password form is still there
    assert _counts(staff_app) == before and _sessions(staff_app) == []


def test_the_refusal_is_in_the_persons_language(staff_app, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fi"
    answer = staff_identify(client, "aino")
    assert answer.status_code == 400
    assert "Osoitteelle aino@example.org ei ole henkilöstötiliä" in answer.get_data(
        as_text=True)


def test_a_residents_address_does_not_make_staff(staff_app, client):
    before = _counts(staff_app)
    answer = staff_identify(client, "bertil")  # bertil@example.org, a resident's account
    assert answer.status_code == 400
    assert "There is no staff account for bertil@example.org" in answer.get_data(as_text=True)
    assert _counts(staff_app) == before and _sessions(staff_app) == []
    with staff_app.app_context():
        bertil = db.session.scalar(select(User).where(User.email == "bertil@example.org"))
        assert not bertil.is_staff and bertil.password_hash is None


def test_an_unconfirmed_address_is_refused(staff_app, client):
    answer = staff_identify(client, "ulla")  # a staff member's, email_verified false
    assert answer.status_code == 400
    assert "did not confirm your work email address" in answer.get_data(as_text=True)
    assert _sessions(staff_app) == []


def test_a_configured_directory_claim_stands_for_the_address(make_app, providers):
    """Entra ID: preferred_username (or upn) names the person in the city's tenant."""
    app = make_app(STAFF_IDENTITY_PROVIDER=providers["bank"].staff_settings(
        email_claim="preferred_username"))
    answer = staff_identify(app.test_client(), "ulla")
    assert answer.status_code == 303
    assert _sessions(app) == [("ulla.saari@lahti.example", SignInMethod.STAFF_PROVIDER,
                               False)]


@pytest.mark.parametrize("mode", ["bad_signature", "wrong_nonce", "expired"])
def test_an_answer_that_does_not_check_out_signs_no_staff_in(staff_app, client, providers,
                                                             mode):
    providers["bank"].misbehave(mode)
    answer = staff_identify(client, "kaisa")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "The answer from City of Lahti could not be verified" in page
    assert _sessions(staff_app) == []


def test_a_replayed_answer_is_refused(staff_app, client):
    answer = staff_identify(client, "kaisa")
    assert answer.status_code == 303
    client.post("/sign-out")
    again = client.get(answer.callback)
    assert again.status_code == 400
    assert "no longer valid" in again.get_data(as_text=True)
    assert _sessions(staff_app) == []


def test_an_answer_started_in_another_browser_is_refused(staff_app, client):
    """Login CSRF: the provider's answer to someone else's request."""
    answer = through_provider(staff_app.test_client(), "/staff/sign-in/provider", "kaisa",
                              answered_by=client)
    assert answer.status_code == 400 and _sessions(staff_app) == []


def test_a_provider_that_is_down_is_said_so_with_the_password_offered(make_app, providers):
    app = make_app(STAFF_IDENTITY_PROVIDER=providers["bank"].staff_settings(
        issuer=f"http://127.0.0.1:{free_port()}"))
    answer = app.test_client().get("/staff/sign-in/provider",
                                   headers={"Accept-Language": "fi"})
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "Lahden kaupunki ei vastaa juuri nyt" in page and "salasanallasi" in page
    assert 'name="password"' in page


def test_a_cancelled_sign_in_says_so(client):
    client.get("/staff/sign-in/provider")
    answer = client.get("/staff/sign-in/provider/done?error=access_denied&state=x")
    assert answer.status_code == 400 and "cancelled" in answer.get_data(as_text=True)
