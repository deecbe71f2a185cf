"""The rules of each ballot kind (pure: no database)."""

import pytest

from pb_vote.services.ballot_rules import (
    BallotInvalid,
    BallotSpec,
    limits,
    minimum_spend_cents,
    normalize,
    summary,
)

COSTS = {1: 300_000, 2: 500_000, 3: 200_000, 4: 800_000}
APPROVAL = BallotSpec("approval", COSTS, 1_000_000, approval_min=2, approval_max=3)
KNAPSACK = BallotSpec("knapsack", COSTS, 1_000_000, knapsack_min_spend_percent=50)
POINTS = BallotSpec("points", COSTS, 1_000_000, points_total=10, points_max_per_proposal=6)


@pytest.mark.parametrize(
    ("spec", "choices", "expected"),
    [
        (APPROVAL, {1: 1, 3: 1}, {"1": 1, "3": 1}),
        (APPROVAL, {3: 1, 1: 1, 2: 1}, {"1": 1, "2": 1, "3": 1}),
        (APPROVAL, {1: 1, 2: 1, 4: 0}, {"1": 1, "2": 1}),  # zeros are not choices
        (KNAPSACK, {2: 1}, {"2": 1}),  # exactly 50 % of the budget
        (KNAPSACK, {1: 1, 2: 1, 3: 1}, {"1": 1, "2": 1, "3": 1}),  # exactly the budget
        (POINTS, {1: 6, 2: 4}, {"1": 6, "2": 4}),
        (POINTS, {1: 1}, {"1": 1}),  # fewer than all points is allowed
    ],
)
def test_valid_ballots_are_normalized(spec, choices, expected):
    assert normalize(spec, choices) == expected


@pytest.mark.parametrize(
    ("spec", "choices", "code"),
    [
        (APPROVAL, {1: 1}, "too_few"),
        (APPROVAL, {1: 1, 2: 1, 3: 1, 4: 1}, "too_many"),
        (APPROVAL, {}, "too_few"),  # the minimum is 2: say so, not just "choose one"
        (KNAPSACK, {}, "empty"),
        (APPROVAL, {1: 1, 9: 1}, "not_on_ballot"),
        (APPROVAL, {1: 2, 2: 1}, "bad_value"),
        (APPROVAL, {1: True, 2: 1}, "bad_value"),
        (KNAPSACK, {2: 1, 4: 1}, "over_budget"),
        (KNAPSACK, {1: 1}, "under_minimum_spend"),
        (POINTS, {1: 7}, "too_many_points_each"),
        (POINTS, {1: 6, 2: 5}, "too_many_points"),
        (POINTS, {1: -1, 2: 3}, "bad_value"),
        (POINTS, {1: 0}, "empty"),
    ],
)
def test_broken_rules_are_named(spec, choices, code):
    with pytest.raises(BallotInvalid) as refused:
        normalize(spec, choices)
    assert refused.value.code == code


def test_minimum_spend_is_exact_to_the_cent():
    spec = BallotSpec("knapsack", {1: 333_333, 2: 1}, 1_000_000, knapsack_min_spend_percent=33)
    with pytest.raises(BallotInvalid) as refused:
        normalize(spec, {2: 1})
    assert refused.value.details["minimum"] == 330_000
    assert normalize(spec, {1: 1}) == {"1": 1}


def test_summary_counts_money_and_points():
    assert summary(POINTS, {"1": 6, "3": 2}) == {"count": 2, "money": 500_000, "points": 8}


def test_the_minimum_spend_rounds_up_to_the_cent_the_check_uses():
    spec = BallotSpec("knapsack", {1: 499, 2: 500}, 999, knapsack_min_spend_percent=50)
    assert minimum_spend_cents(spec) == 500  # 499.5 rounded up
    with pytest.raises(BallotInvalid) as refused:
        normalize(spec, {1: 1})
    assert refused.value.details["minimum"] == 500
    assert normalize(spec, {2: 1}) == {"2": 1}


def test_limits_hand_the_live_tally_every_figure_the_checks_use():
    assert limits(KNAPSACK) == {
        "kind": "knapsack", "costs": {"1": 300_000, "2": 500_000, "3": 200_000, "4": 800_000},
        "budget": 1_000_000, "approval_min": None, "approval_max": None,
        "minimum_spend": 500_000, "points_total": None, "points_max_per_proposal": None,
    }
    assert limits(POINTS)["points_max_per_proposal"] == 6
    assert limits(APPROVAL)["minimum_spend"] == 0
