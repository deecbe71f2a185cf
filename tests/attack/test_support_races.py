"""Supports under parallel real requests against gunicorn, on SQLite and PostgreSQL: one
person's burst of supports of one idea stores one (the database's unique key decides, and
the requests that lose to it answer as a repeated press does, never with an error), and
supports of several people at once are all counted."""

import threading
from concurrent.futures import ThreadPoolExecutor

from tests import factories

BURST = 16
SUPPORTERS = tuple(f"crowd{n}@example.org" for n in range(4))


def seed(scenario: dict) -> None:
    built = factories.support_scene()
    for email in SUPPORTERS:
        factories.user(email)
    scenario.update(proposal=built.proposal_id, other=built.other_id)


def _at_once(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _press(service, browser, proposal: int):
    """The support button of ``proposal`` pressed from ``browser``'s session (its cookies,
    the page's token read now), ready to send on a connection of its own."""
    token = browser.token(f"/proposals/{proposal}")
    cookies = browser.http.cookies.get_dict()

    def call():
        clone = service.browser()
        clone.http.cookies.update(cookies)
        return clone.post(f"/proposals/{proposal}/support",
                          [("csrf_token", token), ("want", "support"), ("back", "proposal")])
    return call


def test_a_burst_of_supports_by_one_person_stores_one(service):
    proposal = service.scenario["proposal"]
    person = service.browser()
    person.sign_in_resident("supporter1@example.org")
    answers = _at_once([_press(service, person, proposal) for _ in range(BURST)])
    assert [a.status_code for a in answers] == [303] * BURST, service.server_errors()
    [(stored,)] = service.sql("SELECT count(*) FROM proposal_supports "
                              "WHERE proposal_id = :id", id=proposal)
    assert stored == 1
    assert service.server_errors() == []


def test_supports_of_several_people_at_once_are_all_counted(service):
    proposal = service.scenario["other"]
    calls = []
    for email in SUPPORTERS:
        person = service.browser()
        person.sign_in_resident(email)
        calls += [_press(service, person, proposal) for _ in range(3)]
    answers = _at_once(calls)
    assert {a.status_code for a in answers} == {303}, service.server_errors()
    [(stored,)] = service.sql("SELECT count(*) FROM proposal_supports "
                              "WHERE proposal_id = :id", id=proposal)
    assert stored == len(SUPPORTERS)
    assert service.server_errors() == []
