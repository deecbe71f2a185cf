"""The ballot page hands its live tally the server's own rule figures and refusal
messages (pb_vote/blueprints/voting/live_tally.py), in the voter's language."""

import json
import re

from tests import factories
from tests.views.test_ballot_rules_text import APPROVAL, KNAPSACK_MIN, POINTS, ballot_page


def tally_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="tally-rules">(.*?)</script>',
                      page, re.S)
    return json.loads(found.group(1))


def test_the_tally_gets_the_servers_figures_and_messages(app, client, auth):
    data = tally_data(ballot_page(app, client, auth, **KNAPSACK_MIN))
    rules = data["rules"]
    assert rules["kind"] == "knapsack" and rules["budget"] == 10_000_000
    assert rules["minimum_spend"] == 5_500_000
    assert sorted(rules["costs"].values()) == sorted(factories.BALLOT_COSTS)
    assert data["messages"] == {
        "empty": "Choose at least one proposal.",
        "over_budget": "Your choices cost {spent}, more than the budget of €100,000.",
        "under_minimum_spend": "Your choices cost {spent}; choose proposals worth at least "
                               "€55,000.",
    }
    assert data["line"] == "Cost of your choices: {money} of €100,000"
    assert data["money"] == {"cents": "€1,234,567.89", "whole": "€1,234,567"}


def test_the_tally_of_an_approval_ballot_counts_and_names_no_money(app, client, auth):
    data = tally_data(ballot_page(app, client, auth, **APPROVAL))
    assert data["line"] == "Chosen: {count} of at most 3"
    assert data["messages"] == {
        "empty": "Choose at least one proposal.",
        "too_few": "Choose at least 2 proposals (you chose {count}).",
        "too_many": "Choose at most 3 proposals (you chose {count}).",
    }


def test_the_tally_of_a_points_ballot_knows_the_cap_in_finnish(app, client, auth):
    data = tally_data(ballot_page(app, client, auth, "fi", **POINTS))
    assert data["rules"]["points_total"] == 10
    assert data["rules"]["points_max_per_proposal"] == 4
    assert set(data["messages"]) == {"bad_value", "empty", "too_many_points_each",
                                     "too_many_points"}
    assert "4" in data["messages"]["too_many_points_each"]
    assert "{total}" in data["messages"]["too_many_points"]
    assert data["money"]["whole"] == "1\xa0234\xa0567\xa0€"
