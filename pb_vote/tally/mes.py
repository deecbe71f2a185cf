"""The Method of Equal Shares (MES), exact, with the add-one completion.

Definitions (equalshares.net; Peters, Pierczyński and Skowron 2021). Every voter starts with the
same budget t. A project j of cost c_j gives a voter who supports it with weight w the utility
u = w * U_j, where U_j = c_j ("cost utilities") or U_j = 1 ("cardinality utilities"). At each
round, for every project still affordable (its supporters hold at least c_j together), rho_j is the
unique number with  sum over supporters of min(budget_i, rho_j * u_i) = c_j. The project with the
smallest rho is bought (ties: the tie-break order), each supporter pays min(budget_i, rho * u_i),
and the rounds go on until no project is affordable. This is exactly what pabutools 1.2.3
``method_of_equal_shares`` computes (its supporter scan finds that unique rho; see _price).

Add-one completion ("voter_budget_increment=1"): run MES with t = budget / voters, then t + 1,
t + 2, ... and stop (pabutools' rule) at the first outcome that is exhaustive among the projects
somebody supports (return it) or that costs more than the budget (return the previous one). The
Pabulib checker's rule starts at t = floor(budget / voters) and stops only before exceeding the
budget.

Why this is fast and still exactly pabutools' result
----------------------------------------------------
1. Ballots with identical weights are grouped: voters with the same ballot always hold the same
   budget and pay the same, so one group with a multiplicity stands for all of them.
2. Budgets take few distinct values: all voters start equal, and paying for a project splits a
   value into "paid everything" (0) or "value - rho * u". Each group points to a budget *class*;
   rho is computed from per-class counts, not voter by voter.
3. Lazy re-pricing (as pabutools does): budgets only go down, so a project's rho only goes up; an
   old rho is a lower bound. A heap ordered by (old rho, tie rank) re-prices only the projects
   whose lower bound could still win; the first *fresh* entry popped is the true argmin.
4. Skipping add-one steps that cannot change the outcome. Within one MES run with start budget t,
   every budget and every rho is an affine function of t as long as the run makes the same
   decisions (same project bought each round, same supporters paying everything). We carry
   (value at t, slope in t) for every budget and rho, and record each decision as an affine
   inequality that must keep holding: the winner's rho is below (or, when it wins the tie, not
   above) every competitor's lower bound, the paying-everything / paying-rho*u split of the
   winner's supporters, and "unaffordable" for each dropped project. Any partition's formula is a
   lower bound of the true rho (sum min(b, rho*u) <= sum_poor b + rho * sum_rich u), so old prices
   stay valid lower bounds for every t in the range. The largest k for which all recorded
   inequalities hold at t + k is the number of following add-one steps whose run would make the
   very same decisions, hence select the very same projects in the same order; their
   exhaustiveness and feasibility are therefore the same, and the loop jumps over them. The run
   that is finally reported is recomputed at its own t, so every figure is exact.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor

from pb_vote.tally.model import Number

INFINITE_STEPS = 1 << 62


@dataclass(frozen=True)
class MesPurchase:
    """One project bought by equal shares: its index, rho, and the money left before it."""

    project: int
    rho: Fraction
    money_left: Number


@dataclass(frozen=True)
class MesRun:
    """The outcome of one MES run at a given start budget per voter."""

    start_budget: Number
    purchases: tuple[MesPurchase, ...]
    total_cost: int
    same_for_next_steps: int
    supporters_money: tuple[Number, ...]

    @property
    def selected(self) -> list[int]:
        """Indices of the bought projects, in buying order."""
        return [p.project for p in self.purchases]


class MesProfile:
    """Ballots prepared for MES: grouped identical ballots and per-project supporter lists."""

    def __init__(
        self,
        costs: Sequence[int],
        ballots: Sequence[tuple[tuple[int, Number], ...]],
        utility_per_weight: Sequence[int],
        tie_rank: Sequence[int],
        budget: int,
    ) -> None:
        self.budget = budget
        self.costs = list(costs)
        self.voters = len(ballots)
        self.unit = list(utility_per_weight)
        self.tie_rank = list(tie_rank)
        groups = Counter(tuple(sorted(b)) for b in ballots if b)
        self.group_ballots = list(groups)
        self.multiplicity = [groups[g] for g in self.group_ballots]
        m = len(self.costs)
        # per project: weight -> (distinct groups, groups repeated by multiplicity)
        by_weight: list[dict[Number, list[int]]] = [{} for _ in range(m)]
        for g, ballot in enumerate(self.group_ballots):
            for j, w in ballot:
                by_weight[j].setdefault(w, []).append(g)
        self.levels: list[list[tuple[Number, list[int], list[int]]]] = []
        for j in range(m):
            levels = []
            for w, gs in sorted(by_weight[j].items()):
                expanded = [g for g in gs for _ in range(self.multiplicity[g])]
                levels.append((w, gs, expanded))
            self.levels.append(levels)
        self.supported = [bool(levels) for levels in self.levels]


class _Certificate:
    """Largest number of further integer steps of t for which recorded inequalities hold."""

    __slots__ = ("steps",)

    def __init__(self, active: bool) -> None:
        self.steps = INFINITE_STEPS if active else 0

    def at_least(self, value: Number, slope: Number, strict: bool) -> None:
        """Record that value + slope * k >= 0 (> 0 if strict) must hold for k = 1..steps."""
        if self.steps == 0 or slope >= 0:
            return
        room = Fraction(value) / -slope
        limit = ceil(room) - 1 if strict else floor(room)
        if limit < self.steps:
            self.steps = max(limit, 0)


def run_mes(
    profile: MesProfile, start_budget: Number, certify: bool = False, report: bool = False
) -> MesRun:
    """Run MES once with ``start_budget`` per voter.

    With ``report``, also sum what each project's supporters hold at the end. With ``certify``, also return in ``same_for_next_steps`` how many of the following add-one
    steps (start_budget + 1, + 2, ...) are guaranteed to buy the very same projects in order.
    """
    cert = _Certificate(certify)
    costs = profile.costs
    unit = profile.unit
    levels = profile.levels
    zero_class = 1
    # budget classes: value at start_budget and slope in start_budget (class 1 is "nothing left")
    value: list[Number] = [start_budget, 0]
    slope: list[Number] = [1, 0]
    group_class = [0] * len(profile.group_ballots)

    def price(j: int) -> tuple[Fraction, Number, list[tuple[int, Number]], int] | None:
        """(rho, its slope, supporters' (class, weight) cheapest-first, first rich index)."""
        entries = []
        available_value: Number = 0
        available_slope: Number = 0
        for w, _, expanded in levels[j]:
            for c, n in Counter(map(group_class.__getitem__, expanded)).items():
                if c != zero_class:
                    entries.append((c, w, n))
                    available_value += n * value[c]
                    available_slope += n * slope[c]
        cost = costs[j]
        if available_value < cost:
            cert.at_least(cost - available_value, -available_slope, strict=True)
            return None
        entries.sort(key=lambda e: Fraction(value[e[0]]) / e[1])
        u_unit = unit[j]
        denominator = sum(w * n for _, w, n in entries) * u_unit
        paid_value: Number = 0
        paid_slope: Number = 0
        for k, (c, w, n) in enumerate(entries):
            rho = Fraction(cost - paid_value) / denominator
            if rho * u_unit * w <= value[c]:
                rho_slope = -paid_slope / Fraction(denominator) if cert.steps else 0
                return rho, rho_slope, [(c, w) for c, w, _ in entries], k
            paid_value += n * value[c]
            paid_slope += n * slope[c]
            denominator -= w * n * u_unit
        raise AssertionError("affordable project without a price")  # pragma: no cover

    # heap of (lower bound of rho, tie rank, project); "fresh" entries were priced this round
    heap: list[tuple[Number, int, int]] = []
    bound: dict[int, tuple[Number, Number]] = {}
    for j in range(len(costs)):
        if profile.supported[j]:
            total = sum(w * len(expanded) for w, _, expanded in levels[j])
            # the price if nobody runs out of money: a lower bound for every t (slope 0)
            rho0 = Fraction(costs[j]) / (total * unit[j])
            heap.append((rho0, profile.tie_rank[j], j))
            bound[j] = (rho0, 0)
    heapq.heapify(heap)
    fresh: dict[int, tuple[list[tuple[int, Number]], int]] = {}
    purchases: list[MesPurchase] = []
    spent = 0
    while heap:
        _, rank, j = heapq.heappop(heap)
        if j not in fresh:
            priced = price(j)
            if priced is None:  # unaffordable now, hence for the rest of the run
                del bound[j]
                continue
            rho, rho_slope, entries, first_rich = priced
            bound[j] = (rho, rho_slope)
            fresh[j] = (entries, first_rich)
            heapq.heappush(heap, (rho, rank, j))
            continue
        # a fresh entry on top is the true argmin, ties broken by rank
        rho, rho_slope = bound.pop(j)
        entries, first_rich = fresh[j]
        fresh.clear()
        u_unit = unit[j]
        if cert.steps:
            for _, other_rank, k in heap:
                k_rho, k_slope = bound[k]
                cert.at_least(k_rho - rho, k_slope - rho_slope, strict=other_rank < rank)
            for index, (c, w) in enumerate(entries):
                u = w * u_unit
                if index < first_rich:  # pays everything: budget <= rho * u
                    cert.at_least(rho * u - value[c], rho_slope * u - slope[c], strict=False)
                else:  # pays rho * u: budget >= rho * u
                    cert.at_least(value[c] - rho * u, slope[c] - rho_slope * u, strict=False)
        purchases.append(MesPurchase(j, rho, profile.budget - spent))
        spent += costs[j]
        moves: dict[tuple[int, Number], int] = {}
        for index, (c, w) in enumerate(entries):
            if index < first_rich:
                moves[(c, w)] = zero_class
                continue
            u = w * u_unit
            new_value = value[c] - rho * u
            if new_value == 0 and not cert.steps:
                moves[(c, w)] = zero_class
                continue
            value.append(new_value)
            slope.append(slope[c] - rho_slope * u if cert.steps else 0)
            moves[(c, w)] = len(value) - 1
        for w, groups, _ in levels[j]:
            for g in groups:
                target = moves.get((group_class[g], w))
                if target is not None:
                    group_class[g] = target

    supporters_money = tuple(
        sum(
            (
                value[c] * n
                for _, _, expanded in levels[j]
                for c, n in Counter(map(group_class.__getitem__, expanded)).items()
            ),
            Fraction(0),
        )
        for j in range(len(costs))
        if report
    )
    return MesRun(start_budget, tuple(purchases), spent, cert.steps, supporters_money)


def add_one(
    profile: MesProfile, stopping: str = "pabutools"
) -> tuple[MesRun, int, list[str]]:
    """MES with add-one completion; returns the chosen run, the number of MES runs, and notes.

    ``stopping="pabutools"``: start at budget/voters, stop at the first outcome exhaustive among
    supported projects, or before the first one over budget (pabutools 1.2.3,
    ``voter_budget_increment=1``). ``stopping="pabulib"``: start at floor(budget/voters), stop
    only before the first outcome over budget (the Pabulib checker).
    """
    if profile.voters == 0:
        return run_mes(profile, 0, report=True), 1, ["no ballots: equal shares buys nothing"]
    if stopping == "pabutools":
        start: Number = Fraction(profile.budget, profile.voters)
    elif stopping == "pabulib":
        start = profile.budget // profile.voters
    else:
        raise ValueError(f"unknown add-one stopping rule {stopping!r}")
    costs = profile.costs
    supported = [j for j in range(len(costs)) if profile.supported[j]]
    runs = 0
    previous: MesRun | None = None
    t = start
    while True:
        run = run_mes(profile, t, certify=True)
        runs += 1
        if run.total_cost > profile.budget:
            if previous is None:  # cannot happen: t * voters <= budget at the start
                raise AssertionError("first add-one run over budget")  # pragma: no cover
            final = previous
            break
        chosen = set(run.selected)
        left = profile.budget - run.total_cost
        exhaustive = all(j in chosen or costs[j] > left for j in supported)
        if stopping == "pabutools" and exhaustive:
            final = run
            break
        if run.same_for_next_steps >= INFINITE_STEPS:
            final = run  # the outcome no longer changes as t grows
            break
        # the next same_for_next_steps runs give this very outcome: jump to the last of them
        previous = run if run.same_for_next_steps == 0 else _shifted(run, run.same_for_next_steps)
        t = t + run.same_for_next_steps + 1
    report = run_mes(profile, final.start_budget, report=True)
    assert report.selected == final.selected
    notes = [
        f"add-one ({stopping}): voter budget started at {_show(start)} and ended at "
        f"{_show(final.start_budget)} ({runs} MES runs computed)"
    ]
    return report, runs, notes


def _shifted(run: MesRun, steps: int) -> MesRun:
    """The same outcome, labelled with the start budget of the last identical step."""
    return MesRun(
        run.start_budget + steps, run.purchases, run.total_cost, 0, run.supporters_money
    )


def _show(number: Number) -> str:
    return str(number) if not isinstance(number, Fraction) or number.denominator == 1 else (
        f"{number} (= {float(number):.2f})"
    )
