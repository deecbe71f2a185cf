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
   denominator, so no Fraction arithmetic happens in the inner loops; a price rho is an exact
   pair of integers compared by cross-multiplying. In large elections (thousands of distinct
   ballots) the class of every group sits in a numpy array and the voters of each class are
   counted with an integer ``bincount``: the same exact counts, only faster.
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
   (On the real files the outcome changes every one to five steps and the check above, which is
   sound but cautious, rarely proves long stretches; so :func:`add_one` only tries to skip after
   a few unchanged outcomes. Most of the time goes into computing each step once.)
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import NamedTuple

import numpy

from pb_vote.tally.model import Number


@dataclass(frozen=True)
class MesPurchase:
    """One project bought by equal shares: its index, its rho (per unit of utility) and the
    money left before it."""

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
    orders tied projects (lower wins). ``vectorized`` chooses numpy counting (default: for
    large elections only; both give the same exact results).
    """

    def __init__(
        self,
        costs: Sequence[int],
        ballots: Sequence[tuple[tuple[int, Number], ...]],
        utility_per_weight: Sequence[int],
        tie_rank: Sequence[int],
        budget: int,
        vectorized: bool | None = None,
    ) -> None:
        self.budget = budget
        self.costs = list(costs)
        self.voters = len(ballots)
        self.unit = list(utility_per_weight)
        self.tie_rank = list(tie_rank)
        # Scaling every weight by the same factor divides every rho by it: same argmin, same
        # payments. It makes weights whole numbers; reported prices are scaled back.
        distinct = Counter(ballots)  # the same tuple object for identical ballots: fast
        weights = {w for b in distinct for _, w in b}
        scale = lcm(1, *(w.denominator for w in weights if isinstance(w, Fraction)))
        self.weight_scale = scale
        groups: Counter[tuple[tuple[int, int], ...]] = Counter()
        for b, count in distinct.items():
            if b:
                groups[tuple(sorted((j, int(w * scale)) for j, w in b))] += count
        self.group_ballots = list(groups)
        self.multiplicity = [groups[g] for g in self.group_ballots]
        m = len(self.costs)
        by_weight: list[dict[int, list[int]]] = [{} for _ in range(m)]
        for g, ballot in enumerate(self.group_ballots):
            for j, w in ballot:
                by_weight[j].setdefault(w, []).append(g)
        # Large profiles keep each group's budget class in an array and count classes with
        # numpy (exact integer counts); small ones in a list with Counter, which is faster there.
        self.vectorized = (len(self.group_ballots) >= _VECTORIZE_FROM_GROUPS
                           if vectorized is None else vectorized)
        self.supporters = [
            _Supporters(
                dict(sorted(by_weight[j].items())),
                self.multiplicity, self.vectorized,
            )
            for j in range(m)
        ]
        self.weight_lcm = [lcm(1, *s.weights) for s in self.supporters]
        self.total_weight = [s.total_weight for s in self.supporters]
        self.supported = [bool(s.weights) for s in self.supporters]

    def start_classes(self):
        """Every group in budget class 1 (the start budget): a list, or an array when large."""
        if self.vectorized:
            return numpy.ones(len(self.group_ballots), dtype=numpy.intp)
        return [1] * len(self.group_ballots)


_VECTORIZE_FROM_GROUPS = 4096
_ZERO = 0  # budget class of voters with nothing left

# The supporters of a project with the same budget class and weight, for pricing: (money per
# unit of weight, scaled so that it orders the shares poorest first; budget class; weight;
# voters). A plain tuple rather than a NamedTuple: shares are built and sorted in the innermost
# loop, where a plain tuple is about five times cheaper to build and twice as fast to sort;
# every use unpacks it into those names.
_Share = tuple[int, int, int, int]


class _Supporters:
    """The supporters of one project, by the weight they give it: their groups, and the
    groups repeated by multiplicity (one entry per voter) for counting voters per class."""

    __slots__ = (
        "_group_arrays",
        "_levels",
        "expanded",
        "groups",
        "total_weight",
        "voters",
        "weights",
    )

    def __init__(self, groups_by_weight: dict[int, list[int]], multiplicity: list[int],
                 vectorized: bool) -> None:
        self.weights = list(groups_by_weight)
        self.groups = list(groups_by_weight.values())
        self.expanded = [[g for g in gs for _ in range(multiplicity[g])] for gs in self.groups]
        self.total_weight = sum(w * len(e) for w, e in zip(self.weights, self.expanded,
                                                           strict=True))
        # for large profiles: every voter's group, in one array (all weights one after the
        # other), the level (weight index) of each entry, and each level's groups
        self.voters = self._levels = self._group_arrays = None
        if vectorized and self.weights:
            # one array for all weights: counting (class * levels + level) counts voters per
            # (class, weight) in a single pass
            self.voters = numpy.concatenate(
                [numpy.array(e, dtype=numpy.intp) for e in self.expanded])
            self._levels = numpy.concatenate(
                [numpy.full(len(e), k, dtype=numpy.intp) for k, e in enumerate(self.expanded)])
            self._group_arrays = [numpy.array(gs, dtype=numpy.intp) for gs in self.groups]

    def holdings(self, group_class, value: list[int], step: int,
                 classes=None) -> tuple[list[_Share], int]:
        """The shares of the supporters who still have money, and their total weight (a pair,
        unpacked where used: it is made for every pricing). ``step`` is a multiple of every
        weight, so that each share's first item orders by money per unit of weight;
        ``classes`` may give ``group_class[self.voters]`` when already at hand."""
        weight = self.total_weight
        if self.voters is None:
            found: list[_Share] = []
            for w, expanded in zip(self.weights, self.expanded, strict=True):
                counts = Counter(map(group_class.__getitem__, expanded))
                broke = counts.pop(_ZERO, 0)
                weight -= broke * w
                stretch = step // w
                found += [(value[c] * stretch, c, w, voters) for c, voters in counts.items()]
            return found, weight
        levels, weights = len(self.weights), self.weights
        keys = group_class[self.voters] if classes is None else classes
        if levels > 1:
            keys = keys * levels + self._levels  # key = class * levels + level
        counts = numpy.bincount(keys)
        present = counts.nonzero()[0]
        present_keys, present_counts = present.tolist(), counts[present].tolist()
        first = 0  # keys below ``levels`` are class 0 (_ZERO), and they come first
        while first < len(present_keys) and present_keys[first] < levels:
            weight -= present_counts[first] * weights[present_keys[first]]
            first += 1
        if levels == 1:  # one weight: the money itself orders the shares
            w = weights[0]
            return [(value[c], c, w, voters) for c, voters in zip(
                present_keys[first:], present_counts[first:], strict=True)], weight
        stretches = [step // w for w in weights]
        return ([
            (value[key // levels] * stretches[key % levels], key // levels,
             weights[key % levels], voters)
            for key, voters in zip(present_keys[first:], present_counts[first:], strict=True)
        ], weight)

    def move(self, group_class, moves: dict[int, dict[int, int]], classes: int) -> None:
        """Put the supporters of weight w and class c into class ``moves[w][c]``."""
        for k, w in enumerate(self.weights):
            to = moves.get(w)
            if not to:
                continue
            if self._group_arrays is None:
                for g in self.groups[k]:
                    target = to.get(group_class[g])
                    if target is not None:
                        group_class[g] = target
                continue
            table = numpy.arange(classes, dtype=numpy.intp)
            for old, new in to.items():
                table[old] = new
            groups = self._group_arrays[k]
            group_class[groups] = table[group_class[groups]]




class _UpperBounds:
    """For large elections: a whole-number upper bound of the money of every budget class, in
    units of 1 / 2**k, in a numpy array. One integer sum over a project's supporters then shows
    that most projects nobody can pay for any more are out of reach, without pricing them (at
    the end of every run each project left over has to be shown unaffordable)."""

    def __init__(self, start: Fraction, voters: int) -> None:
        # at least any sum of bounds here, and any single bound
        most = max(voters, 1) * (-(-start.numerator // start.denominator) + 1)
        self.usable = most.bit_length() < 60
        self.unit = 1 << max(0, 60 - most.bit_length())
        self.upper = numpy.zeros(256, dtype=numpy.int64)
        self.set(1, start.numerator, start.denominator)

    def set(self, budget_class: int, money: int, scale: int) -> None:
        """Record class ``budget_class`` holding ``money / scale`` each."""
        if not self.usable:
            return
        if budget_class >= len(self.upper):
            self.upper = numpy.concatenate([self.upper, numpy.zeros_like(self.upper)])
        self.upper[budget_class] = -(-money * self.unit // scale)  # rounded up

    def out_of_reach(self, classes_of_voters, cost: int) -> bool:
        """True if voters in these classes (one entry per voter) surely hold less than
        ``cost`` together; False says nothing."""
        return self.usable and int(self.upper[classes_of_voters].sum()) < cost * self.unit


class _Offer:
    """A project in the heap at the price rho = num / den (positive integers), ordered by price
    and then by tie rank. Comparing by cross-multiplying skips the gcd and type checks of
    ``Fraction``; the heap compares offers far more often than it makes them.

    An offer priced at the current budgets (see :meth:`_Wallets.price`) also says how the
    project's supporters would pay: ``shares`` lists them by budget class, poorest first; those
    before ``first_rich`` pay all they hold, the others together pay ``num`` (in units of
    1 / scale), each in proportion to its weight out of ``rich_weight``. A lower bound has no
    ``shares``.
    """

    __slots__ = ("den", "first_rich", "num", "project", "rank", "rich_weight", "shares")

    def __init__(self, num: int, den: int, rank: int, project: int,
                 shares: list[_Share] | None = None, first_rich: int = 0,
                 rich_weight: int = 0) -> None:
        self.num, self.den, self.rank, self.project = num, den, rank, project
        self.shares, self.first_rich, self.rich_weight = shares, first_rich, rich_weight

    def __lt__(self, other: _Offer) -> bool:
        left, right = self.num * other.den, other.num * self.den
        return left < right or (left == right and self.rank < other.rank)

    def rho(self, weight_scale: int) -> Fraction:
        """The price per unit of utility, for reporting (the heap's prices are per scaled
        weight, see :class:`MesProfile`)."""
        return Fraction(self.num * weight_scale, self.den)


class _Wallets:
    """The voters' money during one run, by budget class.

    Money is kept as whole numbers in units of 1 / ``scale``: ``value[c]`` is what each voter
    of class c holds (class 0: nothing; class 1: the start budget), ``group_class[g]`` is the
    class of ballot group g, and ``live`` counts the voters of every class still in use.
    """

    __slots__ = ("bounds", "group_class", "live", "profile", "scale", "value")

    def __init__(self, profile: MesProfile, start_budget: Number) -> None:
        start = Fraction(start_budget)
        self.profile = profile
        self.scale = start.denominator
        self.value = [0, start.numerator]
        self.group_class = profile.start_classes()
        voters = sum(profile.multiplicity)
        self.live = {1: voters}
        self.bounds = _UpperBounds(start, voters) if profile.vectorized else None

    def price(self, j: int) -> _Offer | None:
        """Project j at the current budgets, or None when its supporters together hold less
        than its cost: the unique rho with sum of min(budget, rho * u) = cost, found by
        letting the poorest supporters pay all they hold until the rest can share equally."""
        profile, value = self.profile, self.value
        supporters = profile.supporters[j]
        classes = None
        if self.bounds is not None:
            classes = self.group_class[supporters.voters]
            if self.bounds.out_of_reach(classes, profile.costs[j]):
                return None
        shares, weight = supporters.holdings(self.group_class, value, profile.weight_lcm[j],
                                             classes)
        cost = profile.costs[j] * self.scale
        if sum([value[c] * voters for _, c, _, voters in shares]) < cost:
            return None
        shares.sort()
        paid = 0
        for first_rich, (_, c, w, voters) in enumerate(shares):
            rest = cost - paid
            if rest * w <= value[c] * weight:
                # rho * U_j * w = rest * w / (scale * weight)
                return _Offer(rest, self.scale * weight * profile.unit[j], profile.tie_rank[j],
                              j, shares, first_rich, weight)
            paid += voters * value[c]
            weight -= voters * w
        raise AssertionError("affordable project without a price")  # pragma: no cover

    def pay(self, offer: _Offer) -> None:
        """Charge the offer's project to its supporters: the poor classes go to 0, the rich ones
        pay num * w / rich_weight each and move to a new class."""
        value, live, bounds = self.value, self.live, self.bounds
        shares, first_rich, rest, rich_weight = (
            offer.shares, offer.first_rich, offer.num, offer.rich_weight)
        # Rescale the money of every class still in use by rich_weight / g so that the
        # payments are whole (classes nobody is in any more are never read again).
        g = gcd(rich_weight, rest)
        factor, rest = rich_weight // g, rest // g
        if factor != 1:
            self.scale *= factor
            for c in live:
                value[c] *= factor
        scale = self.scale
        moves: dict[int, dict[int, int]] = {}  # weight -> {old class: new class}
        for index, (_, c, w, voters) in enumerate(shares):
            target = _ZERO
            if index >= first_rich:
                left = value[c] - rest * w
                if left:
                    value.append(left)
                    target = len(value) - 1
                    if bounds is not None:
                        bounds.set(target, left, scale)
                    live[target] = voters
            moves.setdefault(w, {})[c] = target
            live[c] -= voters
            if not live[c]:
                del live[c]
        self.profile.supporters[offer.project].move(self.group_class, moves, len(value))

    def supporters_money(self) -> tuple[Fraction, ...]:
        """What the supporters of each project hold together."""
        money = []
        for j, supporters in enumerate(self.profile.supporters):
            shares, _ = supporters.holdings(self.group_class, self.value,
                                            self.profile.weight_lcm[j])
            held = sum(self.value[c] * voters for _, c, _, voters in shares)
            money.append(Fraction(held, self.scale))
        return tuple(money)


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
    wallets = _Wallets(profile, start_budget)
    heap = _lower_bounds(profile)
    fresh: dict[int, _Offer] = {}  # the projects priced since the last purchase
    purchases: list[MesPurchase] = []
    spent = 0
    verified = reference is not None
    expected = reference.purchases if reference is not None else ()
    while (winner := _cheapest(heap, fresh, wallets.price)) is not None:
        j = winner.project
        if verified:
            verified = _same_winner(heap, fresh, wallets.price, expected, len(purchases), winner,
                                    profile.weight_scale)
            if give_up and not verified:
                return MesRun(start_budget, tuple(purchases), spent, False)
        fresh.clear()
        purchases.append(MesPurchase(j, winner.rho(profile.weight_scale),
                                     profile.budget - spent))
        spent += profile.costs[j]
        wallets.pay(winner)
    if verified and len(purchases) != len(expected):
        verified = False
    money = wallets.supporters_money() if report else ()
    return MesRun(start_budget, tuple(purchases), spent, verified, money)


def _lower_bounds(profile: MesProfile) -> list[_Offer]:
    """A heap of every supported project at the price it has while nobody runs out of money:
    a lower bound of its rho for the whole run."""
    heap = [_Offer(profile.costs[j], profile.total_weight[j] * profile.unit[j],
                   profile.tie_rank[j], j)
            for j in range(len(profile.costs)) if profile.supported[j]]
    heapq.heapify(heap)
    return heap


def _cheapest(heap: list[_Offer], fresh: dict[int, _Offer],
              price: Callable[[int], _Offer | None]) -> _Offer | None:
    """The offer of the project to buy next, ties broken by rank, or None when nothing is
    affordable. Pops offers until a freshly priced one is on top; an older one is only a lower
    bound, so its project is priced again and pushed back (or dropped if now unaffordable)."""
    while heap:
        offer = heapq.heappop(heap)
        if offer.project in fresh:
            return offer
        priced = price(offer.project)
        if priced is not None:
            fresh[offer.project] = priced
            heapq.heappush(heap, priced)
    return None


def _same_winner(heap: list[_Offer], fresh: dict[int, _Offer],
                 price: Callable[[int], _Offer | None], expected: Sequence[MesPurchase],
                 round_index: int, winner: _Offer, weight_scale: int) -> bool:
    """True if ``winner`` is the reference's purchase of this round and no other project's price
    here is below (or equal and earlier in the tie order than) the reference's winning price."""
    if round_index >= len(expected) or expected[round_index].project != winner.project:
        return False
    rho = expected[round_index].rho  # per unit of utility; the heap's are per scaled weight
    target = _Offer(rho.numerator, rho.denominator * weight_scale, winner.rank, winner.project)
    while heap and heap[0] < target:
        k = heapq.heappop(heap).project
        if k in fresh:
            heapq.heappush(heap, fresh[k])
            return False
        priced = price(k)
        if priced is not None:
            fresh[k] = priced
            heapq.heappush(heap, priced)
    return True


# Consecutive add-one steps with an unchanged outcome before trying to jump over steps.
_REPEATS_BEFORE_JUMPING = 3


class AddOne(NamedTuple):
    """The outcome of the add-one completion: the chosen run (with what each project's
    supporters hold at its end), the number of MES runs computed, and notes for the result."""

    run: MesRun
    runs: int
    notes: list[str]


def add_one(profile: MesProfile, stopping: str = "pabutools", step: int = 1) -> AddOne:
    """MES with add-one completion.

    ``stopping="pabutools"``: start at budget/voters, stop at the first outcome exhaustive among
    supported projects, or before the first one over budget (pabutools 1.2.3,
    ``voter_budget_increment=1``). ``stopping="pabulib"``: start at floor(budget/voters), stop
    only before the first outcome over budget (the Pabulib checker).

    Steps are computed one by one while outcomes keep changing (on the real files they change
    every one to five steps, and a failed jump costs as much as a step). After a few unchanged
    outcomes in a row, steps are skipped by galloping: from a computed run at t, try t + K
    (K doubling after each success); a verified run proves every step up to t + K gives the
    same outcome as at t. After a failure K is halved, back to single steps at K = 1.

    ``step`` is one whole currency unit in the profile's units (the election's ``unit_scale``):
    pabutools raises the voter budget by one currency unit whatever the file's decimals.
    """
    if profile.voters == 0:
        return AddOne(run_mes(profile, 0, report=True), 1,
                      ["no ballots: equal shares buys nothing"])
    if stopping == "pabutools":
        start: Number = Fraction(profile.budget, profile.voters)
    elif stopping == "pabulib":
        start = profile.budget // (profile.voters * step) * step
    else:
        raise ValueError(f"unknown add-one stopping rule {stopping!r}")
    supported = [j for j in range(len(profile.costs)) if profile.supported[j]]
    t, current = start, run_mes(profile, start)
    previous: MesRun | None = None
    runs, jump, repeats = 1, 1, 0
    while True:
        if current.total_cost > profile.budget:
            assert previous is not None, "t * voters <= budget at the start"
            final = previous
            break
        if _stops_at(profile, current, supported, stopping):
            final = current
            break
        if jump == 1:
            # One step, computed in full: its outcome is what counts, so it needs no check
            # against the reference. A run of unchanged outcomes suggests a longer stretch.
            candidate = run_mes(profile, t + step)
            runs += 1
            repeats = repeats + 1 if candidate.selected == current.selected else 0
            if repeats >= _REPEATS_BEFORE_JUMPING:
                jump = 2
            t, previous, current = t + step, current, candidate
            continue
        candidate = run_mes(profile, t + jump * step, reference=current, give_up=True)
        runs += 1
        if candidate.verified:  # same outcome from t to t + jump: no stop among them
            t, current, previous = t + jump * step, candidate, candidate
            jump *= 2
        else:
            jump //= 2
            repeats = 0
    notes = [
        f"add-one ({stopping}): voter budget started at {_show(start)} and ended at "
        f"{_show(final.start_budget)} ({runs} MES runs computed)"
    ]
    return AddOne(run_mes(profile, final.start_budget, report=True), runs, notes)


def _stops_at(profile: MesProfile, run: MesRun, supported: list[int], stopping: str) -> bool:
    """True if the add-one search ends at ``run``, a run within the budget: pabutools' rule
    stops at an outcome exhaustive among the ``supported`` projects, and either rule once every
    supported project is bought (more money changes nothing then)."""
    chosen = set(run.selected)
    if len(chosen) == len(supported):
        return True
    left = profile.budget - run.total_cost
    return stopping == "pabutools" and all(
        j in chosen or profile.costs[j] > left for j in supported)


def _show(number: Number) -> str:
    if isinstance(number, Fraction) and number.denominator != 1:
        return f"{number} (about {number.numerator // number.denominator})"
    return str(number)
