"""pabutools 1.2.3 as a test oracle (GPL-3.0: used by tests and benchmarks only, never by pb_vote).

The election is handed to pabutools as the same numbers we count: approval ballots as approval
ballots, every other ballot as a cumulative ballot with our weights (points, or L - position for
ordinal ballots). Points ballots use the satisfaction ``weight x cost`` (cost utilities) or
``weight`` (cardinality), which is what Cost_Sat and Cardinality_Sat are for approval ballots.
"""

from __future__ import annotations

from fractions import Fraction

from gmpy2 import mpq
from pabutools.election import (
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
    Instance,
    Project,
)
from pabutools.election.satisfaction import AdditiveSatisfaction
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import TieBreakingRule, lexico_tie_breaking

from pb_vote.tally.model import Election, VoteType, natural_key


class PointsCostSat(AdditiveSatisfaction):
    """Satisfaction = points x cost (our cost utilities for points ballots)."""

    def __init__(self, instance, profile, ballot):
        super().__init__(
            instance,
            profile,
            ballot,
            lambda i, p, b, project, pre: b.get(project, 0) * project.cost,
        )


class PointsSat(AdditiveSatisfaction):
    """Satisfaction = points (our cardinality utilities for points ballots)."""

    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot, lambda i, p, b, project, pre: b.get(project, 0))


def _mpq(value) -> mpq:
    if isinstance(value, Fraction):
        return mpq(value.numerator, value.denominator)
    return mpq(value)


def to_pabutools(election: Election):
    """(instance, profile, approval?) for pabutools, with our weights."""
    projects = {p.id: Project(p.id, mpq(p.cost)) for p in election.projects}
    instance = Instance(projects.values(), budget_limit=mpq(election.budget))
    ids = [p.id for p in election.projects]
    approval = election.vote_type in (VoteType.APPROVAL, VoteType.CHOOSE_ONE)
    ballots = []
    for weights in election.ballot_weights():
        if approval:
            ballots.append(ApprovalBallot(projects[ids[j]] for j, _ in weights))
        else:
            ballots.append(CumulativeBallot({projects[ids[j]]: _mpq(w) for j, w in weights}))
    profile = ApprovalProfile(ballots) if approval else CumulativeProfile(ballots)
    return instance, profile, approval


def default_tie_breaking(election: Election) -> TieBreakingRule:
    """Our default tie-break (cheaper, more supporters, natural id) as a pabutools rule."""
    supporters = {p.id: 0 for p in election.projects}
    for weights in election.ballot_weights():
        for j, _ in weights:
            supporters[election.projects[j].id] += 1
    return TieBreakingRule(
        lambda inst, prof, p: (p.cost, -supporters[p.name], natural_key(p.name))
    )


def pabutools_selection(
    election: Election,
    rule: str,
    tie_break: str = "lexico",
    threshold=None,
) -> list[str]:
    """The project ids pabutools selects for our rule name, in its order."""
    instance, profile, approval = to_pabutools(election)
    tie = lexico_tie_breaking if tie_break == "lexico" else default_tie_breaking(election)
    cost_sat = Cost_Sat if approval else PointsCostSat
    card_sat = Cardinality_Sat if approval else PointsSat

    def greedy(inst):
        return greedy_utilitarian_welfare(inst, profile, sat_class=cost_sat, tie_breaking=tie)

    if rule == "greedy":
        outcome = greedy(instance)
    elif rule == "greedy-threshold":
        support = profile.as_sat_profile(cost_sat)
        kept = [p for p in instance if support.total_satisfaction_project(p) >= threshold * p.cost]
        outcome = greedy(Instance(kept, budget_limit=instance.budget_limit))
    elif rule == "greedy-no-skip":
        # greedy with room for everything lists all projects in greedy order
        everything = Instance(instance, budget_limit=sum(p.cost for p in instance))
        outcome, spent = [], 0
        for project in greedy(everything):
            if spent + project.cost > instance.budget_limit:
                break
            outcome.append(project)
            spent += project.cost
    elif rule in ("mes", "mes-raw", "mes-add1", "mes-cardinality"):
        mes_params = {
            "sat_class": card_sat if rule == "mes-cardinality" else cost_sat,
            "tie_breaking": tie,
        }
        if rule != "mes-raw":
            mes_params["voter_budget_increment"] = 1
        if rule in ("mes-raw", "mes-add1"):
            outcome = method_of_equal_shares(instance, profile, **mes_params)
        else:
            outcome = completion_by_rule_combination(
                instance,
                profile,
                [method_of_equal_shares, greedy_utilitarian_welfare],
                [mes_params, {"sat_class": cost_sat, "tie_breaking": tie}],
            )
    else:
        raise ValueError(rule)
    return [p.name for p in outcome]
