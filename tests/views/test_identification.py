"""Residents sign in through a real OpenID Provider (tests/oidc.py starts panva's
oidc-provider twice: "bank" and "suomifi"), and a strongly identified person has one account
and one ballot per round, however they sign in and vote."""

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select, text

from pb_vote import create_app
from pb_vote.extensions import db
from pb_vote.models import LoginSession, Participation, User
from pb_vote.services import codes, voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories, oidc
from tests.conftest import ClosingClient, base_test_config
from tests.oidc import free_port, identify, log_in_at_provider, provider_config, start_provider

# The local OpenID Providers (tests/oidc.py), as this module's fixtures.
local_providers = oidc.local_providers
providers = oidc.providers

AINO_CODE = "150380-901N"  # her personal identity code at the test provider


@pytest.fixture
def identity_app(database_url, providers):
    """The app with both local providers configured, and one that is down."""
    config = provider_config(providers)
    config["IDENTITY_PROVIDERS"]["down"] = {
        **providers["bank"].settings(), "issuer": f"http://127.0.0.1:{free_port()}",
        "label": "Down ID"}
    app = create_app({**base_test_config(database_url), **config})
    app.test_client_class = ClosingClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(identity_app):
    return identity_app.test_client()


def _people(app) -> list[User]:
    with app.app_context():
        return db.session.execute(select(User)).scalars().all()


def _sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LoginSession))


def test_sign_in_page_offers_the_providers_beside_the_emailed_link(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Identify with Test bank" in page and "Identify with Test suomifi" in page
    assert 'name="email"' in page


def test_a_good_identification_makes_one_account_that_keeps_only_what_eligibility_needs(
        identity_app, client):
    answer = identify(client, "bank", "aino")
    assert answer.status_code == 303, answer.get_data(as_text=True)
    [person] = _people(identity_app)
    assert person.email is None and len(person.person_pseudonym) == 64
    assert (person.verified_postal_code, person.birth_month) == ("15100", "1980-03")
    assert _sessions(identity_app) == 1
    with identity_app.app_context():
        # Neither the personal identity code nor the name is stored anywhere in users.
        row = db.session.execute(text("SELECT * FROM users")).one()
        stored = " ".join(str(value) for value in row)
        assert AINO_CODE not in stored and "Virtanen" not in stored and "Aino" not in stored
        assert AINO_CODE.replace("-", "") not in stored
    assert "Strongly identified" in client.get("/account").get_data(as_text=True)


def test_the_same_person_through_two_providers_is_one_account(identity_app, client):
    first = identify(client, "bank", "aino")
    assert first.status_code == 303
    client.post("/sign-out")
    second = identify(client, "suomifi", "aino")
    assert second.status_code == 303
    assert len(_people(identity_app)) == 1
    identify(identity_app.test_client(), "suomifi", "bertil")
    assert len(_people(identity_app)) == 2


def test_a_resident_signed_in_by_email_who_identifies_keeps_one_account(identity_app, client,
                                                                         mailbox):
    from tests.conftest import AuthActions

    with identity_app.app_context():
        factories.user("aino@example.org", postal_code="15140")
        db.session.commit()
    AuthActions(identity_app, client).resident("aino@example.org")
    assert identify(client, "bank", "aino").status_code == 303
    [person] = _people(identity_app)
    assert person.email == "aino@example.org" and person.person_pseudonym
    # Her verified postal code decides, not the one she stated.
    assert (person.postal_code, person.home_postal_code) == ("15140", "15100")


@pytest.mark.parametrize("mode", ["bad_signature", "wrong_nonce", "expired"])
def test_an_answer_that_does_not_check_out_signs_nobody_in(identity_app, client, providers,
                                                           mode):
    providers["bank"].misbehave(mode)
    answer = identify(client, "bank", "aino")
    assert answer.status_code == 400
    assert "could not be verified" in answer.get_data(as_text=True)
    assert _people(identity_app) == [] and _sessions(identity_app) == 0


def test_a_replayed_answer_is_refused(identity_app, client):
    answer = identify(client, "bank", "aino")
    assert answer.status_code == 303
    client.post("/sign-out")
    again = client.get(answer.callback)
    assert again.status_code == 400
    assert "no longer valid" in again.get_data(as_text=True)
    assert _sessions(identity_app) == 0


def test_an_answer_started_in_another_browser_is_refused(identity_app, client):
    """Login CSRF: the provider's answer to someone else's request."""
    start = identity_app.test_client().get("/sign-in/identify/bank")
    callback = log_in_at_provider(start.headers["Location"], "aino", requests.Session(),
                                  "pb.test")
    answer = client.get(callback.split("pb.test", 1)[1])
    assert answer.status_code == 400 and _people(identity_app) == []


def test_a_provider_that_is_down_is_said_so_in_the_users_language(identity_app, client):
    answer = client.get("/sign-in/identify/down", headers={"Accept-Language": "fi"})
    assert answer.status_code == 503
    page = answer.get_data(as_text=True)
    assert "Down ID ei vastaa juuri nyt" in page
    assert 'name="email"' in page  # the emailed link is still offered
    assert _people(identity_app) == []


def test_a_provider_that_goes_down_before_its_answer_leaves_nothing_half_made(
        database_url, local_providers):
    provider = start_provider("brief")
    app = create_app({**base_test_config(database_url),
                      "IDENTITY_PROVIDERS": {"brief": provider.settings()},
                      "PERSON_SECRET": "test-person-secret-that-is-long-enough-24680"})
    client = app.test_client()
    start = client.get("/sign-in/identify/brief", headers={"Accept-Language": "sv"})
    callback = log_in_at_provider(start.headers["Location"], "aino", requests.Session(),
                                  "pb.test")
    provider.stop()
    answer = client.get(callback.split("pb.test", 1)[1], headers={"Accept-Language": "sv"})
    assert answer.status_code == 503
    assert "svarar inte just nu" in answer.get_data(as_text=True)
    assert _people(app) == [] and _sessions(app) == 0
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_cancelled_identification_says_so(client):
    client.get("/sign-in/identify/bank")
    answer = client.get("/sign-in/identify/bank/done?error=access_denied&state=x")
    assert answer.status_code == 400 and "cancelled" in answer.get_data(as_text=True)


def test_an_unknown_provider_is_404(client):
    assert client.get("/sign-in/identify/nobody").status_code == 404


# -- Voting in a round for strongly identified residents ---------------------------------


def _voting_round(app, **options):
    with app.app_context():
        built = factories.identified_round(**options)
        db.session.commit()
        return built


def _vote(client, built, proposal_index=0):
    proposal_id = built.scenario.proposal_ids[proposal_index]
    return client.post(f"/rounds/{built.round_id}/vote",
                       data={"choice": str(proposal_id)})


def test_a_round_for_identified_residents_turns_away_email_residents(identity_app, client):
    built = _voting_round(identity_app)
    from tests.conftest import AuthActions

    AuthActions(identity_app, client).resident("resident@example.org")
    page = client.get(f"/rounds/{built.round_id}/vote").get_data(as_text=True)
    assert "after strong identification" in page and "Identify with Test bank" in page
    assert _vote(client, built).status_code == 303  # back to the start page, no ballot
    with identity_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participation)) == 0


def test_an_identified_resident_votes_once_however_they_sign_in(identity_app, client):
    built = _voting_round(identity_app, codes=1)
    identify(client, "bank", "aino")
    assert "Project 0" in client.get(f"/rounds/{built.round_id}/vote").get_data(as_text=True)
    assert _vote(client, built).status_code == 303
    # The same person through the other provider, in another browser: the same ballot.
    other = identity_app.test_client()
    identify(other, "suomifi", "aino")
    assert _vote(other, built, 1).status_code == 303
    # ... and with a voting code typed while identified: refused, one person one ballot.
    other.post(f"/rounds/{built.round_id}/code", data={"code": built.codes[0]})
    refused = _vote(other, built, 2)
    assert refused.status_code == 409
    assert "already voted in this round with your account" in refused.get_data(as_text=True)
    with identity_app.app_context():
        rows = db.session.execute(select(Participation)).scalars().all()
        assert len(rows) == 1 and rows[0].person_key and rows[0].postal_code == "15100"


def test_a_code_first_then_the_account_is_refused_too(identity_app, client):
    built = _voting_round(identity_app, codes=1)
    identify(client, "bank", "aino")
    client.post(f"/rounds/{built.round_id}/code", data={"code": built.codes[0]})
    assert _vote(client, built).status_code == 303
    client.post(f"/rounds/{built.round_id}/code/forget")
    refused = _vote(client, built)
    assert refused.status_code == 409
    assert "with a voting code" in refused.get_data(as_text=True)
    with identity_app.app_context():
        [row] = db.session.execute(select(Participation)).scalars().all()
        assert row.voting_code_id is not None and row.person_key


def test_a_minimum_age_follows_the_date_of_birth_from_the_provider(identity_app, client):
    built = _voting_round(identity_app, min_voter_age=16)
    identify(client, "bank", "ella")  # born 2015
    assert "from the age of 16" in client.get(
        f"/rounds/{built.round_id}/vote").get_data(as_text=True)
    adult = identity_app.test_client()
    identify(adult, "bank", "aino")
    assert _vote(adult, built).status_code == 303


def test_the_database_refuses_a_second_participation_of_one_person(identity_app):
    """The unique index, without the service's friendly check in the way."""
    from sqlalchemy.exc import IntegrityError

    built = _voting_round(identity_app, codes=1)
    with identity_app.app_context():
        key = codes.person_key(current_app.config["BALLOT_SECRET"], "p" * 64, built.round_id)
        db.session.add(Participation(round_id=built.round_id, user_id=None,
                                     channel="online", person_key=key))
        db.session.flush()
        db.session.add(Participation(round_id=built.round_id, user_id=None,
                                     channel="code", person_key=key))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_service_refuses_a_code_ballot_of_a_person_who_voted(identity_app):
    built = _voting_round(identity_app, codes=1)
    with identity_app.app_context():
        person = factories.identified_user("aino")
        keys = VoteKeys.from_config(current_app.config)
        proposal = built.scenario.proposal_ids[0]
        voting.cast_ballot(keys, built.round_id, voting.Voter(
            user_id=person.id, person=person.person_pseudonym), voting.VoteChannel.ONLINE,
            {proposal: 1})
        code = voting.find_code(db.session.get(voting.Round, built.round_id), built.codes[0])
        with pytest.raises(voting.VotingError) as refused:
            voting.cast_ballot(keys, built.round_id, voting.Voter(
                voting_code_id=code.id, person=person.person_pseudonym),
                voting.VoteChannel.CODE, {proposal: 1})
        assert refused.value.code == "person_voted"


def test_the_authorization_request_carries_state_nonce_and_a_pkce_challenge(client):
    from urllib.parse import parse_qs, urlsplit

    start = client.get("/sign-in/identify/bank", headers={"Accept-Language": "sv"})
    asked = parse_qs(urlsplit(start.headers["Location"]).query)
    assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
    assert len(asked["code_challenge"][0]) >= 43 and asked["state"][0] and asked["nonce"][0]
    assert asked["redirect_uri"] == ["http://pb.test/sign-in/identify/bank/done"]
    assert asked["ui_locales"] == ["sv"]
    # The provider requires PKCE (provider.js): a good sign-in proves the verifier is sent.
