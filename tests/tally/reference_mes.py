"""The Method of Equal Shares as published, transcribed plainly and exactly: the reference the
fast engine (``pb_vote/tally/mes.py``) is tested against.

Sources, quoted in the comments below:

- equalshares.net, "Explanation of the Method of Equal Shares", main mechanism, steps 1-6
  (https://equalshares.net/explanation).
- D. Peters, G. Pierczyński, P. Skowron, "Proportional Participatory Budgeting with Additive
  Utilities", NeurIPS 2021 (arXiv:2008.13276), the definition of the rule: every voter i starts
  with the budget b_i = t; a project c is *rho-affordable* if
  ``sum over voters i of min(b_i, rho * u_i(c)) = cost(c)``; if no project is rho-affordable for
  any rho the rule stops, else it selects a project that is rho-affordable for the smallest rho
  and every voter pays ``min(b_i, rho * u_i(c))``.
- equalshares.net, "Completion": the recommended completion (raise the voters' start budget
  one unit at a time) and "fund projects with the highest vote counts" with what is left.
- equalshares.net, "Tie breaking": the cheaper project, then the higher initial vote count.

Utilities are what pb_vote counts: a ballot gives project c the weight w (1 for an approval,
the points, or L - position for a ranking; :meth:`Election.ballot_weights`) and
``u_i(c) = w * cost(c)`` ("cost utilities", rules ``mes``, ``mes-raw``, ``mes-add1``) or
``u_i(c) = w`` (rule ``mes-cardinality``). Where the published text leaves a choice open, the
comment says which one pb_vote (like pabutools 1.2.3) makes.

Nothing here is optimised: every price is found from the definition, every step recomputes
everything. Only for small elections.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from pb_vote.tally.model import Election, natural_key

Utilities = list[dict[str, Fraction]]  # for each voter: project id -> utility (> 0)


@dataclass(frozen=True)
class Purchase:
    """A project bought by equal shares, and the rho it was bought at."""

    project: str
    rho: Fraction


@dataclass(frozen=True)
class Run:
    """One run of the method at one start budget per voter: what it bought, in order, and
    what every voter still holds at the end."""

    start_budget: Fraction
    purchases: list[Purchase]
    money: list[Fraction]

    @property
    def selected(self) -> list[str]:
        """The bought projects, in buying order."""
        return [purchase.project for purchase in self.purchases]


def rho_affordable(cost: int, supporters: list[tuple[Fraction, Fraction]]) -> Fraction | None:
    """The smallest rho with ``sum of min(b_i, rho * u_i) = cost`` over the supporters, given
    as (b_i, u_i) pairs; None when no rho makes the project affordable."""
    def paid(rho: Fraction) -> Fraction:
        return sum((min(b, rho * u) for b, u in supporters), Fraction(0))

    # "We remove all projects from consideration that cost more than the combined share of all
    # voters that voted for the project" (paid(rho) never exceeds that combined share).
    if sum((b for b, _ in supporters), Fraction(0)) < cost:
        return None
    # paid(rho) is continuous, non-decreasing and linear between the points where a supporter
    # runs out of money (rho = b_i / u_i). Find the first such stretch where it reaches the
    # cost, and solve the linear equation on it.
    kinks = sorted({Fraction(0)} | {b / u for b, u in supporters})
    for low, high in pairwise(kinks):
        if paid(high) >= cost:
            return low + (cost - paid(low)) * (high - low) / (paid(high) - paid(low))
    raise AssertionError("the combined share covers the cost, so some stretch reaches it")


def equal_shares(
    costs: dict[str, int], utilities: Utilities, start_budget: Fraction, tie_order: list[str]
) -> Run:
    """One run of the Method of Equal Shares with ``start_budget`` per voter; ties go to the
    project that comes first in ``tie_order``."""
    # Step 1: "The overall budget is divided equally among the voters."
    money = [Fraction(start_budget)] * len(utilities)
    purchases: list[Purchase] = []
    candidates = list(costs)
    while True:
        # Steps 2 and 4: the smallest rho at which each project is rho-affordable; projects
        # that are not are removed. (For approval ballots the explanation's "effective vote
        # count" is the cost over what each supporter who can pay in full pays, rho x cost:
        # the highest count is the lowest rho.)
        prices = {}
        for c in candidates:
            supporters = [(money[i], u[c]) for i, u in enumerate(utilities) if c in u]
            rho = rho_affordable(costs[c], supporters)
            if rho is not None:
                prices[c] = rho
        # Step 3: "If no projects remain, the computation of the method is finished."
        if not prices:
            return Run(Fraction(start_budget), purchases, money)
        # Step 5: "We select the project with the highest effective vote count", ties by the
        # tie order.
        best = min(prices, key=lambda c: (prices[c], tie_order.index(c)))
        rho = prices[best]
        # Step 5: its cost is split "as equally as possible": each supporter pays
        # min(b_i, rho * u_i), and "each voter's share of the cost is subtracted".
        for i, u in enumerate(utilities):
            if best in u:
                money[i] -= min(money[i], rho * u[best])
        purchases.append(Purchase(best, rho))
        candidates.remove(best)
        # Step 6: "We repeat from Step 2."


def add_one(
    costs: dict[str, int],
    utilities: Utilities,
    budget: int,
    tie_order: list[str],
    stopping: str = "pabutools",
) -> Run:
    """The Method of Equal Shares completed by raising the start budget per voter one unit at
    a time (equalshares.net "Completion", pabutools' ``voter_budget_increment=1``).

    ``stopping="pabutools"``: start at budget / voters and stop at an exhaustive outcome or
    before one over the budget, as published. ``stopping="pabulib"`` (the Pabulib checker):
    start at floor(budget / voters) and stop only before an outcome over the budget.
    """
    def total(run: Run) -> int:
        return sum(costs[c] for c in run.selected)

    voters = len(utilities)
    if voters == 0:
        return equal_shares(costs, utilities, Fraction(0), tie_order)
    # "Instead of giving each voter 100, we could give them 130. More precisely, we go through
    # each possible value 100, 101, 102, and so on."
    start = Fraction(budget, voters) if stopping == "pabutools" else Fraction(budget // voters)
    supported = [c for c in costs if any(c in u for u in utilities)]
    outcome = equal_shares(costs, utilities, start, tie_order)
    while True:
        left = budget - total(outcome)
        # "The outcome is exhaustive, which means that the budget limit would be exceeded if we
        # added any additional project" (pabutools and pb_vote look at the projects somebody
        # supports; the Pabulib checker does not stop here).
        exhaustive = all(c in outcome.selected or costs[c] > left for c in supported)
        if exhaustive and stopping == "pabutools":
            return outcome
        # Everything anybody supports is bought: more money cannot buy more. (pb_vote stops
        # here; the Pabulib checker's loop would otherwise never end.)
        if set(supported) <= set(outcome.selected):
            return outcome
        # "If we were to run the Method of Equal Shares with the next higher value, then the
        # resulting outcome would exceed the budget limit."
        following = equal_shares(costs, utilities, outcome.start_budget + 1, tie_order)
        if total(following) > budget:
            return outcome
        outcome = following


@dataclass(frozen=True)
class Decision:
    """A project the greedy fill looked at, the money left then, and whether it was bought."""

    project: str
    money_left: int
    bought: bool


def greedy_fill(
    costs: dict[str, int], support: dict[str, Fraction], budget: int, bought: list[str],
    tie_order: list[str],
) -> list[Decision]:
    """The greedy fill, equalshares.net's "fund projects with the highest vote counts": every
    project not yet bought (even one nobody supports), by support and then the tie order, is
    bought if it fits the money left."""
    left = budget - sum(costs[c] for c in bought)
    decisions = []
    rest = [c for c in costs if c not in bought]
    for c in sorted(rest, key=lambda c: (-support[c], tie_order.index(c))):
        fits = costs[c] <= left
        decisions.append(Decision(c, left, fits))
        if fits:
            left -= costs[c]
    return decisions


@dataclass(frozen=True)
class Count:
    """What the reference counts for one election and rule: the equal-shares run and, for
    ``mes`` and ``mes-cardinality``, the greedy fill after it."""

    run: Run
    fill: list[Decision]
    utility_per_weight: dict[str, int]
    utilities: Utilities

    @property
    def selected(self) -> list[str]:
        """Every funded project, in order: equal shares first, then the fill."""
        return self.run.selected + [d.project for d in self.fill if d.bought]

    def supporters_money(self, project: str) -> Fraction:
        """What the project's supporters still hold when equal shares ends."""
        return sum((self.run.money[i] for i, u in enumerate(self.utilities) if project in u),
                   Fraction(0))


def tie_order(election: Election, tie_break: str) -> list[str]:
    """Project ids, the one that wins a tie first. ``default``: equalshares.net's "the project
    with the lowest cost", then "the highest initial vote count" (ballots that support it),
    then, instead of a lot, the id in natural order. ``lexico``: the id as a plain string
    (pabutools' ``lexico_tie_breaking``)."""
    ids = [p.id for p in election.projects]
    if tie_break == "lexico":
        return sorted(ids)
    cost = {p.id: p.cost for p in election.projects}
    votes = dict.fromkeys(ids, 0)
    for ballot in election.ballot_weights():
        for j, _ in ballot:
            votes[ids[j]] += 1
    return sorted(ids, key=lambda c: (cost[c], -votes[c], natural_key(c)))


def count(
    election: Election, rule: str, tie_break: str = "default", stopping: str = "pabutools"
) -> Count:
    """Count ``election`` with one of pb_vote's equal-shares rules, from the definitions."""
    ids = [p.id for p in election.projects]
    costs = {p.id: p.cost for p in election.projects}
    unit = {c: 1 if rule == "mes-cardinality" else costs[c] for c in ids}
    utilities: Utilities = []
    support = dict.fromkeys(ids, Fraction(0))
    for ballot in election.ballot_weights():
        utilities.append({ids[j]: Fraction(w) * unit[ids[j]] for j, w in ballot})
        for j, w in ballot:
            support[ids[j]] += w
    order = tie_order(election, tie_break)
    if rule == "mes-raw":
        voters = len(utilities)
        start = Fraction(election.budget, voters) if voters else Fraction(0)
        run = equal_shares(costs, utilities, start, order)
    else:
        run = add_one(costs, utilities, election.budget, order, stopping)
    fill = []
    if rule in ("mes", "mes-cardinality"):
        fill = greedy_fill(costs, support, election.budget, run.selected, order)
    return Count(run, fill, unit, utilities)
