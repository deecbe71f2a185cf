"""A count's progress moves while Equal Shares searches, not only before and after it."""

import random
from fractions import Fraction

import pytest

from pb_vote.extensions import db
from pb_vote.models import Round, TallyRule
from pb_vote.services import results
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.tally import parse_pabulib, tally
from tests import factories


def searching_election():
    """Forty voters, eight projects: the add-one search takes many steps."""
    rnd = random.Random(3)
    costs = [rnd.randint(50, 400) for _ in range(8)]
    lines = ["META", "key;value", "budget;1500", "vote_type;approval", "PROJECTS",
             "project_id;cost", *(f"p{j};{cost}" for j, cost in enumerate(costs)),
             "VOTES", "voter_id;vote"]
    for voter in range(40):
        chosen = rnd.sample(range(8), rnd.randint(1, 4))
        lines.append(f"{voter};" + ",".join(f"p{j}" for j in chosen))
    return parse_pabulib("\n".join(lines) + "\n")


def test_the_add_one_search_reports_a_rising_share_of_the_budget():
    heard: list[Fraction] = []
    election = searching_election()
    result = tally(election, "mes", progress=heard.append)
    assert len(heard) == result.extra["mes_runs"] - 2  # after each run but the last two
    # the first is what equal shares alone spends, at the start budget
    assert heard[0] == Fraction(tally(election, "mes-raw").total_cost, election.budget)
    assert all(0 <= share <= 1 for share in heard)


@pytest.mark.parametrize(("rule", "first"), [(TallyRule.MES, 25), (TallyRule.GREEDY, 35)])
def test_a_count_moves_through_the_equal_shares_search(app, rule, first):
    """Whichever rule the round counts with, equal shares is counted too, and takes longest:
    its search moves the bar from where it starts up to 90 %."""
    scenario = factories.saved(app, lambda: factories.closed_round(ballots=30, tally_rule=rule))
    with app.app_context():
        round_ = db.session.get(Round, scenario.round_id)
        percents: list[int] = []
        results.preview(round_, VoteKeys.from_config(app.config), on_progress=percents.append)
    assert percents == sorted(set(percents))  # each percent once, never going back
    assert percents[0] == 25 and percents[-1] == 95
    assert any(first < p < 90 for p in percents)  # heard from inside the search
