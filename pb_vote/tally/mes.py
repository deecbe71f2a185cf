"""The Method of Equal Shares (MES), exact, with the add-one completion.

Definitions (equalshares.net; Peters, Pierczyński and Skowron 2021). Every voter starts with the
same budget t. A project j of cost c_j gives a voter who supports it with weight w the utility
u = w * U_j, where U_j = c_j ("cost utilities") or U_j = 1 ("cardinality utilities"). At each
round, for every project still affordable (its supporters hold at least c_j together), rho_j is the
unique number with  sum over supporters of min(budget_i, rho_j * u_i) = c_j. The project with the
smallest rho is bought (ties: the tie-break order), each supporter pays min(budget_i, rho * u_i),
and the rounds go on until no project is affordable. This is exactly what pabutools 1.2.3
``method_of_equal_shares`` computes: its supporter scan finds that unique rho (scanning supporters
cheapest-first, the first candidate that a supporter can pay is the solution; grouping supporters
of equal budget and weight does not change it, since when one of them cannot pay, none can).

Add-one completion ("voter_budget_increment=1"): run MES with t = budget / voters, then t + 1,
t + 2, ... and stop (pabutools' rule) at the first outcome that is exhaustive among the projects
somebody supports (return it) or that costs more than the budget (return the previous one). The
Pabulib checker's rule starts at t = floor(budget / voters) and stops only before exceeding the
budget.

Why this is fast and still exactly pabutools' result
----------------------------------------------------
1. Identical ballots are grouped: voters with the same ballot always hold the same budget and pay
   the same, so one group with a multiplicity stands for all of them.
2. Budgets take few distinct values: all voters start equal, and paying for a project turns a
   value into 0 (paid everything) or into value - rho * u. Each group points to a budget *class*
   and rho is computed from per-class counts. Money is kept as integers over one common
   denominator, so no Fraction arithmetic happens in the inner loops (only the rho of each
   priced project is a Fraction, for ordering).
3. Lazy re-pricing (as pabutools does): budgets only go down during a run, so a project's rho
   only goes up; an old rho is a lower bound. A heap ordered by (rho bound, tie rank) re-prices
   only the projects whose bound could still win; the first freshly priced entry on top is the
   true argmin with the tie-break applied.
4. Skipping add-one steps (see :func:`add_one`). Fix the sequence of purchases of the run at t.
   Along that same sequence, every budget is a non-decreasing function of the start budget
   (more money at the start, lower prices, less paid) and so every rho is non-increasing. Run at
   t + K and check, round by round, that it buys the same project and that every other project's
   price at t + K is above (or equal and later in the tie order than) the winner's price at t.
   Then for every t' between t and t + K the winner's price is at most its price at t and every
   other price at least its price at t + K: the same project wins each round, unaffordable
   projects stay unaffordable, and the run at t' buys exactly the same projects. All those
   add-one steps are therefore as exhaustive (or not) and as feasible as the run at t, and are
   skipped. The reported run is always one actually computed at its own t, so figures are exact.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm

from pb_vote.tally.model import Number


@dataclass(frozen=True)
class MesPurchase:
    """One project bought by equal shares: its index, rho, and the money left before it."""

    project: int
    rho: Fraction
    money_left: int


@dataclass(frozen=True)
class MesRun:
    """The outcome of one MES run at a given start budget per voter.

    ``verified`` is True when the run was checked against a reference run at a lower start
    budget and every start budget in between is proven to buy the same projects in order.
    """

    start_budget: Number
    purchases: tuple[MesPurchase, ...]
    total_cost: int
    verified: bool = False
    supporters_money: tuple[Fraction, ...] = ()

    @property
    def selected(self) -> list[int]:
        """Indices of the bought projects, in buying order."""
        return [p.project for p in self.purchases]


class MesProfile:
    """Ballots prepared for MES: grouped identical ballots and per-project supporter lists.

    ``ballots`` are (project index, weight) pairs; ``utility_per_weight`` is U_j; ``tie_rank``
    orders tied projects (lower wins).
    """

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
        # Scaling every weight by the same factor divides every rho by it: same argmin, same
        # payments. It makes weights whole numbers.
        scale = lcm(1, *(Fraction(w).denominator for b in ballots for _, w in b))
        groups = Counter(tuple(sorted((j, int(w * scale)) for j, w in b)) for b in ballots if b)
        self.group_ballots = list(groups)
        self.multiplicity = [groups[g] for g in self.group_ballots]
        m = len(self.costs)
        by_weight: list[dict[int, list[int]]] = [{} for _ in range(m)]
        for g, ballot in enumerate(self.group_ballots):
            for j, w in ballot:
                by_weight[j].setdefault(w, []).append(g)
        # per project: (weight, groups with that weight, the same repeated by multiplicity)
        self.levels: list[list[tuple[int, list[int], list[int]]]] = []
        self.weight_lcm: list[int] = []
        self.total_weight: list[int] = []
        for j in range(m):
            levels = []
            for w, gs in sorted(by_weight[j].items()):
                expanded = [g for g in gs for _ in range(self.multiplicity[g])]
                levels.append((w, gs, expanded))
            self.levels.append(levels)
            self.weight_lcm.append(lcm(1, *(w for w, _, _ in levels)))
            self.total_weight.append(sum(w * len(expanded) for w, _, expanded in levels))
        self.supported = [bool(levels) for levels in self.levels]


_ZERO = 0  # budget class of voters with nothing left


def run_mes(
    profile: MesProfile,
    start_budget: Number,
    reference: MesRun | None = None,
    report: bool = False,
    give_up: bool = False,
) -> MesRun:
    """Run MES once with ``start_budget`` per voter.

    With a ``reference`` run at a lower start budget, also check (see the module docstring) that
    every start budget from the reference's to this one buys the same projects; the answer is
    in ``verified`` (with ``give_up``, the run stops as soon as the check fails and its purchases
    are incomplete). With ``report``, sum what each project's supporters hold at the end.
    """
    start = Fraction(start_budget)
    scale = start.denominator  # money is kept as integers in units of 1/scale
    value = [0, start.numerator]  # class 0: nothing left; class 1: the start budget
    group_class = [1] * len(profile.group_ballots)
    costs, unit, levels, ranks = profile.costs, profile.unit, profile.levels, profile.tie_rank

    def price(j: int):
        """(rho, remaining cost, remaining weight, classes cheapest first, first rich) or None."""
        step = profile.weight_lcm[j]
        entries = []
        available = 0
        for w, _, expanded in levels[j]:
            for c, n in Counter(map(group_class.__getitem__, expanded)).items():
                if c != _ZERO:
                    v = value[c]
                    entries.append((v * (step // w), c, w, n))
                    available += n * v
        cost = costs[j] * scale
        if available < cost:
            return None
        entries.sort()
        weight = sum(w * n for _, _, w, n in entries)
        paid = 0
        for k, (_, c, w, n) in enumerate(entries):
            rest = cost - paid
            if rest * w <= value[c] * weight:
                # rho * U_j * w = rest * w / (scale * weight)
                return Fraction(rest, scale * weight * unit[j]), rest, weight, entries, k
            paid += n * value[c]
            weight -= n * w
        raise AssertionError("affordable project without a price")  # pragma: no cover

    heap = []
    for j in range(len(costs)):
        if profile.supported[j]:
            # the price if nobody runs out of money: a lower bound
            bound = Fraction(costs[j], profile.total_weight[j] * unit[j])
            heap.append((bound, ranks[j], j))
    heapq.heapify(heap)
    fresh: dict[int, tuple] = {}
    purchases: list[MesPurchase] = []
    spent = 0
    verified = reference is not None
    expected = reference.purchases if reference is not None else ()
    while heap:
        rho, rank, j = heapq.heappop(heap)
        if j not in fresh:
            priced = price(j)
            if priced is not None:
                fresh[j] = priced
                heapq.heappush(heap, (priced[0], rank, j))
            continue
        # a freshly priced entry on top is the argmin, ties broken by rank
        if verified:
            verified = _same_winner(heap, fresh, price, expected, len(purchases), j, ranks)
            if give_up and not verified:
                return MesRun(start_budget, tuple(purchases), spent, False)
        _, rest, weight, entries, first_rich = fresh[j]
        fresh.clear()
        purchases.append(MesPurchase(j, rho, profile.budget - spent))
        spent += costs[j]
        # pay: poor classes go to 0; rich ones pay rest * w / weight (in units of 1/scale).
        # Rescale all money by weight / g so that the payments are whole.
        g = gcd(weight, rest)
        factor, rest = weight // g, rest // g
        if factor != 1:
            scale *= factor
            value = [v * factor for v in value]
        moves = {}
        for index, (_, c, w, _) in enumerate(entries):
            if index < first_rich:
                moves[(c, w)] = _ZERO
            else:
                left = value[c] - rest * w
                if left:
                    value.append(left)
                    moves[(c, w)] = len(value) - 1
                else:
                    moves[(c, w)] = _ZERO
        for w, groups, _ in levels[j]:
            for g in groups:
                target = moves.get((group_class[g], w))
                if target is not None:
                    group_class[g] = target
    if verified and len(purchases) != len(expected):
        verified = False
    money: tuple[Fraction, ...] = ()
    if report:
        money = tuple(
            Fraction(
                sum(
                    value[c] * n
                    for _, _, expanded in levels[j]
                    for c, n in Counter(map(group_class.__getitem__, expanded)).items()
                ),
                scale,
            )
            for j in range(len(costs))
        )
    return MesRun(start_budget, tuple(purchases), spent, verified, money)


def _same_winner(heap, fresh, price, expected, round_index, winner, ranks) -> bool:
    """True if ``winner`` is the reference's purchase of this round and no other project's price
    here is below (or equal and earlier in the tie order than) the reference's winning price."""
    if round_index >= len(expected) or expected[round_index].project != winner:
        return False
    target = (expected[round_index].rho, ranks[winner])
    while heap and heap[0][:2] < target:
        _, rank, k = heapq.heappop(heap)
        if k in fresh:
            heapq.heappush(heap, (fresh[k][0], rank, k))
            return False
        priced = price(k)
        if priced is not None:
            fresh[k] = priced
            heapq.heappush(heap, (priced[0], rank, k))
    return True


def add_one(profile: MesProfile, stopping: str = "pabutools") -> tuple[MesRun, int, list[str]]:
    """MES with add-one completion; returns the chosen run, the number of MES runs, and notes.

    ``stopping="pabutools"``: start at budget/voters, stop at the first outcome exhaustive among
    supported projects, or before the first one over budget (pabutools 1.2.3,
    ``voter_budget_increment=1``). ``stopping="pabulib"``: start at floor(budget/voters), stop
    only before the first outcome over budget (the Pabulib checker).

    Steps are skipped by galloping: from a computed run at t, try t + K (K doubling after each
    success); a verified run proves every step up to t + K gives the same outcome as at t. After
    a failure K is halved; at K = 1 the run at t + 1 is simply the next outcome.
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
    everything = sum(costs[j] for j in supported)
    t, current = start, run_mes(profile, start)
    previous: MesRun | None = None
    runs, jump = 1, 1
    while True:
        if current.total_cost > profile.budget:
            assert previous is not None, "t * voters <= budget at the start"
            final = previous
            break
        chosen = set(current.selected)
        left = profile.budget - current.total_cost
        if stopping == "pabutools" and all(j in chosen or costs[j] > left for j in supported):
            final = current
            break
        if current.total_cost == everything:
            final = current  # everything supported is bought: more money changes nothing
            break
        candidate = run_mes(profile, t + jump, reference=current, give_up=jump > 1)
        runs += 1
        if candidate.verified:  # same outcome from t to t + jump: no stop among them
            t, current, previous = t + jump, candidate, candidate
            jump *= 2
        elif jump == 1:
            t, previous, current = t + 1, current, candidate
        else:
            jump //= 2
    report = run_mes(profile, final.start_budget, report=True)
    notes = [
        f"add-one ({stopping}): voter budget started at {_show(start)} and ended at "
        f"{_show(final.start_budget)} ({runs} MES runs computed)"
    ]
    return report, runs, notes


def _show(number: Number) -> str:
    if isinstance(number, Fraction) and number.denominator != 1:
        return f"{number} (about {number.numerator // number.denominator})"
    return str(number)
