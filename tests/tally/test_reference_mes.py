"""The fast equal-shares engine against the plain transcription of the definition
(``reference_mes``): the same projects, in the same order, at the same prices, with the same
explanation, for every equal-shares rule, tie-break and add-one stopping, and for single runs at
any start budget."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pb_vote.tally import Phase, Reason, tally
from pb_vote.tally.mes import MesProfile, add_one, run_mes
from pb_vote.tally.model import Ballot, Election, Project, VoteType, make_election
from pb_vote.tally.rules import ADD_ONE_STOPPING, TIE_BREAKS
from tests.tally import reference_mes as reference

MES_RULES = ("mes", "mes-raw", "mes-add1", "mes-cardinality")
IDS = ("1", "2", "10", "a", "b", "B", "c7")
# 0 points are dropped from a ballot; fractions exercise the engine's scaling of weights
POINTS = (0, 1, 2, 3, Fraction(1, 2), Fraction(5, 3))
SETTINGS = settings(max_examples=250, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ballots(draw, vote_type: VoteType, ids: list[str]) -> Ballot:
    """One ballot of ``vote_type`` over ``ids``."""
    if vote_type is VoteType.CHOOSE_ONE:
        return Ballot(tuple(draw(st.lists(st.sampled_from(ids), max_size=1))))
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
    if vote_type is VoteType.ORDINAL:
        return Ballot(tuple(draw(st.permutations(chosen))))
    if vote_type.has_points:
        return Ballot(tuple(chosen), tuple(draw(st.sampled_from(POINTS)) for _ in chosen))
    return Ballot(tuple(chosen))


@st.composite
def elections(draw, vote_types=tuple(VoteType), max_voters=8, max_cost=12) -> Election:
    """A small election where ties are common: few costs, few distinct ballots, repeated."""
    vote_type = draw(st.sampled_from(vote_types))
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=6, unique=True))
    projects = tuple(Project(pid, draw(st.integers(1, max_cost))) for pid in ids)
    kinds = draw(st.lists(ballots(vote_type, ids), min_size=1, max_size=4))
    cast = draw(st.lists(st.sampled_from(kinds), max_size=max_voters))
    numbered = tuple(Ballot(b.projects, b.points, voter_id=str(n)) for n, b in enumerate(cast))
    budget = draw(st.integers(0, sum(p.cost for p in projects) + 3))
    return Election(vote_type, budget, projects, numbered)


def explanations(result) -> dict[str, tuple]:
    """Every project's reason, phase, position and figures, as the engine reports them."""
    return {
        p.project_id: (p.reason, p.phase, p.position, p.money_left, p.rho, p.effective_votes,
                       p.supporters_money)
        for p in result.projects
    }


def expected_explanations(election: Election, counted: reference.Count):
    """The same, from the reference's count."""
    costs = {p.id: p.cost for p in election.projects}
    rows: dict[str, tuple] = {}
    left = election.budget
    for position, purchase in enumerate(counted.run.purchases, start=1):
        c, rho = purchase.project, purchase.rho
        votes = costs[c] / (rho * counted.utility_per_weight[c])
        rows[c] = (Reason.FUNDED, Phase.MES, position, left, rho, votes, None)
        left -= costs[c]
    position = len(counted.run.purchases)
    for decision in counted.fill:
        c = decision.project
        if decision.bought:
            position += 1
            rows[c] = (Reason.FUNDED, Phase.GREEDY_FILL, position, decision.money_left,
                       None, None, None)
        else:
            rows[c] = (Reason.DID_NOT_FIT, Phase.GREEDY_FILL, None, decision.money_left,
                       None, None, counted.supporters_money(c))
    for c in costs:
        if c not in rows:
            rows[c] = (Reason.NOT_ENOUGH_SUPPORT_LEFT, Phase.MES, None, None, None, None,
                       counted.supporters_money(c))
    return rows


# x and y tie at rho 1/2 (x first by id); x takes all the money of its two supporters, so y
# is left with one supporter who still has money.
BROKE_VOTER = make_election({"x": 2, "y": 1}, [["x", "y"], ["y"], ["x"]], budget=3)


@SETTINGS
@given(elections(), st.sampled_from(MES_RULES), st.sampled_from(TIE_BREAKS),
       st.sampled_from(ADD_ONE_STOPPING))
@example(BROKE_VOTER, "mes-raw", "lexico", "pabutools")
def test_every_equal_shares_rule_follows_the_definition(election, rule, tie_break, stopping):
    result = tally(election, rule, tie_break=tie_break, add_one_stopping=stopping)
    counted = reference.count(election, rule, tie_break, stopping)
    assert list(result.selected) == counted.selected
    assert result.voter_budget == counted.run.start_budget
    assert explanations(result) == expected_explanations(election, counted)


def engine_and_reference(election: Election, cardinality: bool, vectorized: bool):
    """The engine's profile of ``election`` and the reference's inputs, with the same utilities
    and the default tie order."""
    ids = [p.id for p in election.projects]
    costs = [p.cost for p in election.projects]
    order = reference.tie_order(election, "default")
    unit = [1 if cardinality else cost for cost in costs]
    profile = MesProfile(costs, election.ballot_weights(), unit, [order.index(c) for c in ids],
                         election.budget, vectorized=vectorized)
    utilities = [{ids[j]: Fraction(w) * unit[j] for j, w in ballot}
                 for ballot in election.ballot_weights()]
    return profile, dict(zip(ids, costs, strict=True)), utilities, order


@SETTINGS
@given(elections(), st.fractions(min_value=0, max_value=15, max_denominator=6),
       st.booleans(), st.booleans())
def test_one_run_at_any_start_budget_follows_the_definition(election, start, cardinality,
                                                           vectorized):
    """Counting in Python or with numpy: the same purchases, prices, money left over and
    supporters' money as the definition, at any start budget."""
    profile, costs, utilities, order = engine_and_reference(election, cardinality, vectorized)
    ids = list(costs)
    ours = run_mes(profile, start, report=True)
    expected = reference.equal_shares(costs, utilities, start, order)
    assert [(ids[p.project], p.rho) for p in ours.purchases] == [
        (p.project, p.rho) for p in expected.purchases]
    assert ours.total_cost == sum(costs[c] for c in expected.selected)
    held = [sum((expected.money[i] for i, u in enumerate(utilities) if c in u), Fraction(0))
            for c in ids]
    assert list(ours.supporters_money) == held


# Found by a wider random search: the outcome at t + K is the one at t, but a start budget in
# between buys something else (the engine must not skip those steps).
OUTCOME_CHANGES_BETWEEN = make_election(
    {"p0": 86, "p1": 137, "p2": 276, "p3": 404, "p4": 443, "p5": 256},
    [["p1", "p3", "p5"], ["p2", "p3", "p4", "p5"], ["p0", "p2", "p3"], ["p0", "p3"], ["p1"],
     ["p4"], ["p0", "p1", "p2", "p3", "p4", "p5"], ["p0", "p1", "p2", "p3"], ["p5"],
     ["p1", "p2", "p4", "p5"]],
    budget=687,
)


@FEWER
@given(elections(vote_types=(VoteType.APPROVAL, VoteType.CUMULATIVE), max_voters=10,
                 max_cost=200),
       st.sampled_from(ADD_ONE_STOPPING), st.booleans())
@example(OUTCOME_CHANGES_BETWEEN, "pabutools", False)
def test_add_one_with_many_steps_follows_the_definition(election, stopping, vectorized):
    """Costs large against the number of voters: many add-one steps, where the engine skips
    steps it proves to change nothing."""
    profile, costs, utilities, order = engine_and_reference(election, False, vectorized)
    ids = list(costs)
    ours = add_one(profile, stopping).run
    expected = reference.add_one(costs, utilities, election.budget, order, stopping)
    assert [ids[j] for j in ours.selected] == expected.selected
    assert ours.start_budget == expected.start_budget


# equalshares.net, "Explanation", example 1: budget 1100, 11 voters
BIKE_PATH_EXAMPLE = make_election(
    {"bike path": 700, "outdoor gym": 400, "new park": 250, "new playground": 200,
     "library for kids": 100},
    [["bike path", "outdoor gym"], ["bike path", "outdoor gym", "new park"],
     ["bike path", "outdoor gym"], ["bike path", "outdoor gym", "new park"],
     ["bike path", "outdoor gym", "new park"], ["bike path", "outdoor gym"],
     ["new park", "new playground", "library for kids"], ["new playground"],
     ["new playground", "library for kids"],
     ["new park", "new playground", "library for kids"], ["bike path"]],
    budget=1100,
)


def test_the_reference_reproduces_the_published_example():
    run = reference.count(BIKE_PATH_EXAMPLE, "mes-raw").run
    assert run.selected == ["bike path", "new playground", "library for kids"]
    # "the 4 supporting voters have 50 left"; the library's 3 supporters then pay 100/3 each
    third = Fraction(50, 3)
    assert run.money == [0, 0, 0, 0, 0, 0, third, 50, third, third, 0]
    assert list(tally(BIKE_PATH_EXAMPLE, "mes-raw").selected) == run.selected


@pytest.mark.parametrize(("cost", "rho"), [(30, 6), (50, 10), (60, 15), (80, 30), (81, None)])
def test_the_reference_splits_costs_as_the_explanation_does(cost, rho):
    # "These voters have a remaining budget of 10, 10, 10, 20, 30": up to 50 the cost is split
    # equally; above 80 the project cannot be funded.
    supporters = [(Fraction(b), Fraction(1)) for b in (10, 10, 10, 20, 30)]
    assert reference.rho_affordable(cost, supporters) == rho


def test_a_voter_with_no_money_left_no_longer_counts():
    # "we do not count voters if they have already spent their entire budget share": y is
    # paid by its one supporter with money left, at rho 1 (one effective vote), not 1/2
    result = tally(BROKE_VOTER, "mes-raw", tie_break="lexico")
    assert result.selected == ("x", "y")
    assert (result.project("y").rho, result.project("y").effective_votes) == (1, 1)
    assert [p.rho for p in reference.count(BROKE_VOTER, "mes-raw", "lexico").run.purchases] == [
        Fraction(1, 2), 1]
