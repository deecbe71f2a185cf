"""A city department's one-time answer link over real HTTP against gunicorn (several
workers and threads), on SQLite and on PostgreSQL: two answers sent at the same moment
through the same link record one answer, one audit event and one mail to the reviewer;
the other is told the question was already answered. Opening the link first (as a mail
scanner would) uses nothing."""

import re

from pb_vote.models import RoundPhase
from pb_vote.services.audit import verify_chain
from tests import factories
from tests.attack.test_races import at_once

TRIALS = 6
ALREADY = "This question has already been answered"


def seed(scenario: dict) -> None:
    city = factories.city()
    review = factories.round_(city.own, RoundPhase.REVIEW, title="Ideas 2027")
    scenario["links"] = []
    for n in range(TRIALS):
        proposal = factories.proposal(review, author=city.resident, title=f"Idea {n}")
        request, token = factories.opinion(proposal, city.member,
                                           email=f"engineer{n}@city.example.org")
        scenario["links"].append((request.id, proposal.id, f"/opinions/{token}"))


def _answer(browser, link: str, feasibility: str):
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', browser.get(link).text)
    fields = [("csrf_token", token.group(1)), ("feasibility", feasibility),
              ("estimated_cost", "1200"), ("answer", f"Answer {feasibility}")]
    return lambda: browser.post(link, fields)


def test_two_answers_at_once_through_one_link_record_one(service):
    for request_id, proposal_id, link in service.scenario["links"]:
        first, second = service.browser(), service.browser()
        # Both open the link (GET, twice for the first): nothing is used up.
        first.get(link)
        calls = [_answer(first, link, "feasible"), _answer(second, link, "not_feasible")]
        answers = at_once(*calls)
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [303, 409], codes
        refused = next(answer for answer in answers if answer.status_code == 409)
        assert ALREADY in refused.text
        done = next(answer for answer in answers if answer.status_code == 303)
        winner = "feasible" if done is answers[0] else "not_feasible"
        rows = service.sql("SELECT feasibility, answer FROM feasibility_requests "
                           "WHERE id = :id", id=request_id)
        assert rows == [(winner, f"Answer {winner}")]
        events = service.sql("SELECT count(*) FROM audit_events WHERE action = "
                             "'proposal.opinion_answered' AND object_id = :id",
                             id=str(proposal_id))
        assert events == [(1,)]
    told = service.mails("member@example.org")
    assert len(told) == len(service.scenario["links"])
    with service.inside():
        assert verify_chain().intact
    assert service.server_errors() == []
