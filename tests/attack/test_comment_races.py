"""Comments under parallel real requests against gunicorn, on SQLite and PostgreSQL: a
burst of comments from one person stores no more than the rate limit allows (it is counted
before the insert, under a lock per person), and one person's parallel reports of one
comment make one report."""

import threading
from concurrent.futures import ThreadPoolExecutor

from pb_vote.extensions import db
from pb_vote.models import Proposal
from pb_vote.services import comments
from tests import factories

LIMIT = 3
BURST = 16
SERVICE_ENVIRONMENT = {"PB_VOTE_COMMENTS_PER_10_MINUTES": str(LIMIT),
                       "PB_VOTE_COMMENT_INTERVAL_SECONDS": "0"}
ALREADY = "You have already reported this comment."
BURSTERS = ("burst0@example.org", "burst1@example.org")


def seed(scenario: dict) -> None:
    built = factories.comment_scene()
    for email in BURSTERS:
        factories.user(email, postal_code="15200")
    target = comments.post_comment(built.author, db.session.get(
        Proposal, built.proposal_id), "Report me")
    scenario.update(proposal=built.proposal_id, comment=target.id)


def _at_once(calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _from(service, browser, page: str, path: str, fields: list):
    """A form on ``page`` posted to ``path`` from ``browser``'s session (its cookies, the
    page's token read now), ready to send on a connection of its own."""
    token, cookies = browser.token(page), browser.http.cookies.get_dict()

    def call():
        clone = service.browser()
        clone.http.cookies.update(cookies)
        return clone.post(path, [("csrf_token", token), *fields])
    return call


def test_a_burst_of_comments_stores_no_more_than_the_limit(service):
    proposal = service.scenario["proposal"]
    for email in BURSTERS:
        person = service.browser()
        person.sign_in_resident(email)
        answers = _at_once([_from(service, person, f"/proposals/{proposal}",
                                  f"/proposals/{proposal}/comments",
                                  [("body", f"Comment {n} from {email}")])
                            for n in range(BURST)])
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [303] * LIMIT + [429] * (BURST - LIMIT), service.server_errors()
        [(stored,)] = service.sql(
            "SELECT count(*) FROM comments JOIN users ON users.id = comments.author_id "
            "WHERE users.email = :email", email=email)
        assert stored == LIMIT
    assert service.server_errors() == []


def test_parallel_reports_of_one_comment_by_one_person_make_one(service):
    reporter = service.browser()
    reporter.sign_in_resident("neighbour@example.org")
    path = f"/comments/{service.scenario['comment']}/report"
    answers = _at_once([_from(service, reporter, path, path, [("reason", f"Spam {n}")])
                        for n in range(8)])
    # One is taken; the others read it first (200, "already reported") or lost the race
    # to the unique key (400, told the same).
    assert [a.status_code for a in answers].count(303) == 1, service.server_errors()
    assert all(ALREADY in a.text for a in answers if a.status_code != 303)
    [(reports,)] = service.sql("SELECT count(*) FROM comment_reports")
    assert reports == 1
    assert service.server_errors() == []
