"""One strongly identified person, one ballot: attacked with parallel real requests against
gunicorn, on SQLite and PostgreSQL, through two real OpenID Providers (panva's oidc-provider,
tests/oidc.py) that know the same people under different subjects.

- First sign-ins of one person through both providers at the same moment make one account.
- One person votes at the same moment from three browsers: with their account signed in
  through one provider, with their account through the other, and with a voting code typed
  while identified. The round holds one participation (one ballot) per person, whatever
  won; the others were refused in words, and no request answered 5xx.
"""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from pb_vote.models import ProposalStatus, ResidentCheck, RoundPhase, VoterEligibility
from pb_vote.services import voting
from tests import factories, oidc

PERSONS = ("aino", "bertil", "ella", "eino")  # each has a postal code in the area below
PROVIDER_PORTS = {"bank": oidc.free_port(), "suomifi": oidc.free_port()}
SERVICE_ENVIRONMENT = {
    "PB_VOTE_IDENTITY_PROVIDERS": json.dumps({
        tag: {**oidc.LocalProvider(tag, port, None, None).settings()}
        for tag, port in PROVIDER_PORTS.items()}),
    "PB_VOTE_PERSON_SECRET": "attack-person-secret-that-is-long-enough-13579",
}
VOTES_EACH_WAY = 4


@pytest.fixture(scope="module", autouse=True)
def providers():
    """The two providers, on the ports the service was configured with (autouse: started
    before the service, so that its free port is not one of theirs)."""
    reason = oidc.why_no_provider()
    if reason:
        pytest.skip(reason)
    started = {tag: oidc.start_provider(tag, port) for tag, port in PROVIDER_PORTS.items()}
    yield started
    for provider in started.values():
        provider.stop()


def seed(scenario: dict) -> None:
    area = factories.table("keskusta", "Keskusta", postal_codes=("15100", "15110", "15300"))
    coordinator = factories.user("coordinator@example.org", postal_code=None,
                                 role="coordinator", at=area)
    round_ = factories.round_(area, RoundPhase.VOTING, title="Identified round",
                              voter_eligibility=VoterEligibility.BOTH,
                              resident_check=ResidentCheck.IDENTIFIED)
    idea = factories.proposal(round_, title="Idea", status=ProposalStatus.ACCEPTED)
    codes = voting.generate_codes(coordinator, round_, len(PERSONS))
    scenario.update(round_id=round_.id, idea=idea.id, codes=codes)


def _together(*actions):
    """Run the actions at the same moment (threads released by one barrier); their results."""
    barrier = threading.Barrier(len(actions))

    def run(action):
        barrier.wait()
        return action()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(run, actions))


def _provider_answer(browser, provider: str, person: str) -> str:
    """Everything of a sign-in but its last step: the path of the provider's answer."""
    start = browser.get(f"/sign-in/identify/{provider}")
    assert start.status_code == 302, start.text[:300]
    callback = oidc.log_in_at_provider(start.headers["Location"], person, browser.http,
                                       urlsplit(browser.service.url).netloc)
    parts = urlsplit(callback)
    return f"{parts.path}?{parts.query}"


def _voting(browser, round_id: int, proposal_id: int):
    token = browser.token(f"/rounds/{round_id}/vote")
    return lambda: browser.post(f"/rounds/{round_id}/vote",
                                [("csrf_token", token), ("choice", str(proposal_id))])


def test_first_sign_ins_of_one_person_through_two_providers_make_one_account(providers,
                                                                            service):
    for person in PERSONS:
        browsers = [service.browser() for _ in range(4)]
        answers = [_provider_answer(b, ("bank", "suomifi")[n % 2], person)
                   for n, b in enumerate(browsers)]
        finished = _together(*(lambda b=b, a=a: b.get(a)
                               for b, a in zip(browsers, answers, strict=True)))
        assert all(answer.status_code == 303 for answer in finished), [
            (a.status_code, a.text[:200]) for a in finished]
    assert service.server_errors() == []
    assert service.sql("SELECT count(*) FROM users WHERE person_pseudonym IS NOT NULL"
                       )[0][0] == len(PERSONS)
    assert service.sql("SELECT count(*) FROM users WHERE email IS NULL")[0][0] == len(PERSONS)


def test_one_person_voting_three_ways_at_once_casts_one_ballot(providers, service):
    round_id, idea = service.scenario["round_id"], service.scenario["idea"]
    refusals = 0
    for person, code in zip(PERSONS, service.scenario["codes"], strict=True):
        by_bank, by_suomifi, with_code = (service.browser() for _ in range(3))
        for browser, provider in ((by_bank, "bank"), (by_suomifi, "suomifi"),
                                  (with_code, "bank")):
            assert browser.get(_provider_answer(browser, provider, person)).status_code == 303
        held = with_code.submit(f"/rounds/{round_id}/code", {"code": code})
        assert held.status_code == 303, held.text[:300]
        actions = [_voting(b, round_id, idea) for b in (by_bank, by_suomifi, with_code)
                   for _ in range(VOTES_EACH_WAY)]
        answers = _together(*actions)
        assert {a.status_code for a in answers} <= {303, 409}, [a.status_code for a in answers]
        refused = [a for a in answers if a.status_code == 409]
        assert all("one person has one ballot" in a.text for a in refused)
        refusals += len(refused)
    assert service.server_errors() == []
    participations = service.sql(
        "SELECT count(*), count(DISTINCT person_key), count(person_key) FROM participations "
        "WHERE round_id = :round", round=round_id)[0]
    assert participations == (len(PERSONS), len(PERSONS), len(PERSONS))
    assert service.sql("SELECT count(*) FROM ballots WHERE round_id = :round",
                       round=round_id)[0][0] == len(PERSONS)
    # The race was real: every person's other way was refused at least once.
    assert refusals >= len(PERSONS)
