"""Hand-checked small elections: selections, order, reasons and the figures behind them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb_vote.tally import Reason, TallyError, make_election, tally
from pb_vote.tally.model import Ballot, Election, ElectionError, Project, VoteType, natural_key

# support a=3, b=2, c=2, d=1; b and c tie (c is cheaper, b comes first as a string)
GREEDY = make_election(
    {"a": 5, "b": 4, "c": 3, "d": 2},
    [["a", "b"], ["a", "c"], ["a"], ["b", "d"], ["c"]],
    budget=9,
)


@pytest.mark.parametrize(
    ("rule", "tie_break", "options", "selected"),
    [
        ("greedy", "default", {}, ("a", "c")),
        ("greedy", "lexico", {}, ("a", "b")),
        ("greedy-no-skip", "default", {}, ("a", "c")),
        ("greedy-no-skip", "lexico", {}, ("a", "b")),
        ("greedy-threshold", "default", {"threshold": 2}, ("a", "c")),
        ("greedy-threshold", "default", {"threshold": 3}, ("a",)),
        ("greedy-threshold", "default", {"threshold": 4}, ()),
    ],
)
def test_greedy_rules(rule, tie_break, options, selected):
    result = tally(GREEDY, rule, tie_break=tie_break, **options)
    assert result.selected == selected
    assert result.total_cost == sum(GREEDY.projects[i].cost for i in range(4)
                                    if GREEDY.projects[i].id in selected)
    assert result.money_left == 9 - result.total_cost


def test_greedy_explains_every_project():
    result = tally(GREEDY, "greedy")
    a, b, c, d = (result.project(x) for x in "abcd")
    assert (a.reason, a.position, a.money_left, a.support, a.supporters) == (
        Reason.FUNDED, 1, 9, 3, 3)
    assert (c.reason, c.position, c.money_left) == (Reason.FUNDED, 2, 4)
    assert (b.reason, b.money_left) == (Reason.DID_NOT_FIT, 1)
    assert (d.reason, d.money_left) == (Reason.DID_NOT_FIT, 1)


def test_greedy_no_skip_stops_at_the_first_that_does_not_fit():
    result = tally(GREEDY, "greedy-no-skip")
    assert result.project("b").reason is Reason.DID_NOT_FIT
    assert result.project("d").reason is Reason.STOPPED
    assert tally(GREEDY, "greedy").project("d").reason is Reason.DID_NOT_FIT


def test_greedy_threshold_marks_projects_below_it():
    result = tally(GREEDY, "greedy-threshold", threshold=2)
    assert result.project("d").reason is Reason.BELOW_THRESHOLD
    assert result.project("b").reason is Reason.DID_NOT_FIT
    assert "support threshold: 2" in result.notes


def test_greedy_threshold_reads_the_meta_threshold():
    election = Election(GREEDY.vote_type, GREEDY.budget, GREEDY.projects, GREEDY.ballots,
                        {"min_project_score_threshold": "3"})
    assert tally(election, "greedy-threshold").selected == ("a",)
    with pytest.raises(TallyError, match="needs a threshold"):
        tally(GREEDY, "greedy-threshold")


# 4 voters, budget 8: 2 each. x (4) by voters 1-3, y (3) by 3-4, z (2) by 4.
MES = make_election({"x": 4, "y": 3, "z": 2}, [["x"], ["x"], ["x", "y"], ["y", "z"]], budget=8)


@pytest.mark.parametrize("rule", ["mes", "mes-raw", "mes-add1", "mes-cardinality"])
def test_equal_shares_small_example(rule):
    result = tally(MES, rule)
    assert result.selected == ("x", "z")
    assert result.total_cost == 6


def test_equal_shares_figures_are_exact():
    result = tally(MES, "mes-raw")
    x, y, z = (result.project(p) for p in "xyz")
    # x: 3 supporters pay 4/3 each; rho = 4/3 per unit of utility 4 = 1/3, 3 effective votes
    assert (x.rho, x.effective_votes, x.position, x.money_left) == (
        Fraction(1, 3), 3, 1, 8)
    # z: voter 4 pays its whole 2 for utility 2
    assert (z.rho, z.effective_votes, z.position, z.money_left) == (1, 1, 2, 4)
    # y: voter 3 has 2/3 left, voter 4 nothing: 2/3 < 3
    assert y.reason is Reason.NOT_ENOUGH_SUPPORT_LEFT
    assert y.supporters_money == Fraction(2, 3)
    assert result.voter_budget == 2
    data = result.as_dict()
    assert data["projects"][0]["rho"] == "1/3"
    assert data["selected"] == ["x", "z"]


def test_equal_shares_prices_are_per_unit_of_utility_with_fractional_points():
    # utility 1/2 x cost 2 = 1 per voter; the two voters pay 1 each: rho = 1 per unit of
    # utility and 1 effective vote, all the support (the engine counts whole points inside)
    election = make_election({"a": 2}, [{"a": Fraction(1, 2)}, {"a": Fraction(1, 2)}], budget=2,
                             vote_type="cumulative")
    result = tally(election, "mes-raw").project("a")
    assert (result.rho, result.effective_votes) == (1, 1)


def test_equal_shares_greedy_fill_and_its_reason():
    # t = 2: only v (voters 1-3 keep 4/3 each: u unaffordable, voter 4 has 2 < 3 for w).
    # t = 3: v, u and w: 11 > 8, so add-one keeps t = 2; the greedy fill then buys u.
    election = make_election(
        {"v": 2, "u": 6, "w": 3}, [["v", "u"], ["v", "u"], ["v", "u"], ["w"]], budget=8
    )
    add1 = tally(election, "mes-add1")
    assert add1.selected == ("v",)
    assert add1.voter_budget == 2
    assert add1.project("u").reason is Reason.NOT_ENOUGH_SUPPORT_LEFT
    assert add1.project("u").supporters_money == 4
    full = tally(election, "mes")
    assert full.selected == ("v", "u")
    assert full.project("u").phase.value == "greedy fill"
    assert (full.project("w").reason, full.project("w").money_left) == (Reason.DID_NOT_FIT, 0)


def test_add_one_stopping_rules_differ_where_the_checker_continues():
    # pabutools stops at the first exhaustive outcome; the Pabulib checker continues until
    # the next step would exceed the budget
    election = make_election({"p": 3, "q": 3, "r": 4}, [["p"], ["p", "q"], ["r"]], budget=7)
    for stopping in ("pabutools", "pabulib"):
        result = tally(election, "mes-add1", add_one_stopping=stopping)
        assert result.total_cost <= 7
    with pytest.raises(TallyError):
        tally(election, "mes-add1", add_one_stopping="sometimes")


def test_points_and_ranks_give_support():
    cumulative = make_election({"a": 2, "b": 2}, [{"a": 1, "b": 2}, {"a": 2}], budget=2,
                               vote_type="cumulative")
    result = tally(cumulative, "greedy")
    assert (result.project("a").support, result.project("b").support) == (3, 2)
    assert result.selected == ("a",)
    ranked = make_election({"a": 1, "b": 1, "c": 1}, [["c", "a"], ["b", "a", "c"]], budget=1,
                           vote_type="ordinal")
    # L = 3: first 3 points, second 2, third 1 -> a 4, b 3, c 4
    result = tally(ranked, "greedy", tie_break="lexico")
    assert [result.project(p).support for p in "abc"] == [4, 3, 4]
    assert result.selected == ("a",)


def test_ordinal_length_follows_meta_max_length():
    base = make_election({"a": 1, "b": 1}, [["a"], ["b", "a"]], budget=1, vote_type="ordinal")
    assert [w for b in base.ballot_weights() for _, w in b] == [2, 2, 1]
    longer = Election(base.vote_type, 1, base.projects, base.ballots, {"max_length": "3"})
    assert [w for b in longer.ballot_weights() for _, w in b] == [3, 3, 2]


def test_default_tie_break_order():
    # equal support 1 each: cheaper first, then more supporters, then natural id order
    election = make_election({"p10": 1, "p9": 1, "p2": 2}, [["p10", "p9", "p2"]], budget=10)
    assert tally(election, "greedy").selected == ("p9", "p10", "p2")
    assert tally(election, "greedy", tie_break="lexico").selected == ("p10", "p2", "p9")
    assert sorted(["c10", "c2", "C1", "c02"], key=natural_key) == ["C1", "c02", "c2", "c10"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Project("a", 0), "positive whole number"),
        (lambda: Project("a", 1.5), "positive whole number"),
        (lambda: Ballot(("a", "a")), "appears twice"),
        (lambda: Ballot(("a",), (1, 2)), "1 projects but 2 points"),
        (lambda: Ballot(("a",), (-1,)), "negative"),
        (lambda: make_election({"a": 1}, [["b"]], 1), "unknown project"),
        (lambda: make_election({"a": 1}, [], -1), "budget"),
        (lambda: Election(VoteType.APPROVAL, 1, (Project("a", 1), Project("a", 2)), ()),
         "listed twice"),
    ],
)
def test_invalid_elections_are_refused(build, message):
    with pytest.raises(ElectionError, match=message):
        build()


def test_unknown_rule_and_tie_break():
    with pytest.raises(TallyError, match="unknown rule"):
        tally(GREEDY, "borda")
    with pytest.raises(TallyError, match="unknown tie-break"):
        tally(GREEDY, "greedy", tie_break="coin")


def test_no_ballots():
    election = make_election({"a": 1, "b": 5}, [], budget=3)
    assert tally(election, "greedy", tie_break="lexico").selected == ("a",)
    assert tally(election, "mes-raw").selected == ()
    assert tally(election, "mes", tie_break="lexico").selected == ("a",)
