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
4. Skipping add-one steps (the idea of ADD-OPT, Kraiczy, Robinson and Elkind, "Streamlining
   Equal Shares", 2025: find how far the budget can grow before the outcome can change, instead
   of trying every step). A run at t also checks a horizon D: that every start budget t + d,
   0 <= d <= D, buys the same projects in the same order. If so, the add-one steps in that
   stretch all buy what the run at t buys, at the same total cost, so none of them ends the
   search (the run at t did not) and they are skipped. The proof, round by round, supposing
   the rounds before bought the same projects:

   a. Bounds on the money. Each class holds value + slope * d at t + d, with the slope known
      to lie between ``low`` and ``high`` (at the start both are 1). A project's price is the
      root rho of F(rho) = sum of min(b_i, rho * u_i) = cost.
   b. A lower bound of any price. For any split of the supporters into "pay all they hold"
      (P) and "pay rho * u" (R), G(rho) = sum over P of b_i + rho * sum over R of u_i is at
      least F, so its root (cost - sum over P of b_i) / sum over R of u_i is at most the price.
      Taking the split of the pricing at t and the ``high`` money gives a line in d under the
      project's true price, for this round and (money only goes down from round to round)
      every later one: the heap's offers carry it (``fall``).
   c. An upper bound of the winner's price. With the ``low`` money, every split's root is a
      line in d and the price is the largest of them (b), so it is convex in d: it lies under
      the chord from its value at 0 (the exact price at t) to its value at D (priced once more,
      :meth:`_Wallets.price_at_horizon`). More money only lowers a price, so the true price is
      under that chord too.
   d. If at D every other project's lower line is above the winner's chord (or equal, with a
      later tie rank) and, both being lines, so on the whole stretch, the winner wins at every
      t + d. A project its supporters cannot afford at t must stay so with the ``high`` money
      at D. Each supporter then pays its share min(b, rho * u): between the chord and the
      lower line, which bounds each new class's slope (rounded outwards), and the next round
      is checked the same way.

   The check is sound but cautious, so a stretch that fails is not proof of a change: the
   search then computes the next step itself. Every decision at t itself is exact as before,
   and the reported run is always one computed at its own start budget, so figures are exact.
   On the real files the order of purchases changes every one or two steps in Toulouse and
   several Warsaw districts (there the search still computes two steps in three) and rarely
   in Budapest (one step in 19 computed, 1,181 runs for 22,001 steps).
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

from pb_vote.tally.model import Number, format_amount


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

    ``covers``: every start budget from this one to this one plus ``covers`` buys the same
    projects in the same order (0: not shown).
    """

    start_budget: Number
    purchases: tuple[MesPurchase, ...]
    total_cost: int
    covers: Number = 0
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
    """For large elections: whole-number upper bounds of the money of every budget class and of
    its growth up to the horizon (see :class:`_Wallets`), in units of 1 / 2**k, in numpy arrays.
    One integer sum over a project's supporters then shows that most projects nobody can pay
    for any more are out of reach, without pricing them (at the end of every run each project
    left over has to be shown unaffordable)."""

    def __init__(self, start: Fraction, voters: int) -> None:
        # at least any sum of bounds here, and any single bound; the growths of all the voters
        # add up to about the voters (the money a unit more per voter brings)
        most = max(voters, 1) * (-(-start.numerator // start.denominator) + 1)
        self.usable = most.bit_length() < 60
        self.unit = 1 << max(0, 60 - most.bit_length())
        self.growth_unit = 1 << max(0, 40 - max(voters, 1).bit_length())
        self.growth_limit = (1 << 62) // max(voters, 1)  # so that no sum overflows
        self.growth_usable = True
        self.upper = numpy.zeros(256, dtype=numpy.int64)
        self.upper_growth = numpy.zeros(256, dtype=numpy.int64)
        self.set(1, start.numerator, start.denominator, _SLOPE_UNIT)

    def set(self, budget_class: int, money: int, scale: int, growth: int) -> None:
        """Record class ``budget_class`` holding ``money / scale`` each, and at most
        ``growth / _SLOPE_UNIT`` more per unit of extra start budget."""
        if not self.usable:
            return
        if budget_class >= len(self.upper):
            self.upper = numpy.concatenate([self.upper, numpy.zeros_like(self.upper)])
            self.upper_growth = numpy.concatenate(
                [self.upper_growth, numpy.zeros_like(self.upper_growth)])
        self.upper[budget_class] = -(-money * self.unit // scale)  # rounded up
        bound = -(-growth * self.growth_unit // _SLOPE_UNIT)
        if bound >= self.growth_limit:
            self.growth_usable = False  # too large to add up safely: no shortcut with a horizon
        else:
            self.upper_growth[budget_class] = bound

    def out_of_reach(self, classes_of_voters, cost: int, horizon: Fraction | None) -> bool:
        """True if voters in these classes (one entry per voter) surely hold less than
        ``cost`` together, and still do with ``horizon`` more per voter at the start (None:
        not asked); False says nothing."""
        if not self.usable:
            return False
        held = int(self.upper[classes_of_voters].sum())
        if horizon is None:
            return held < cost * self.unit
        if not self.growth_usable:
            return False
        p, q = horizon.numerator, horizon.denominator
        growth = int(self.upper_growth[classes_of_voters].sum())
        return (held * self.growth_unit * q + growth * self.unit * p
                < cost * self.unit * self.growth_unit * q)


_EPSILON = 2.0 ** -50  # generous bound of the relative error of a float made from a ratio
# How fast money grows with the start budget is only ever bounded, so it is kept rounded
# outwards in this fixed unit rather than in the money's ever finer one.
_SLOPE_UNIT = 1 << 48


class _Offer:
    """A project in the heap at the price rho = num / den (positive integers), ordered by price
    and then by tie rank. Comparing by cross-multiplying skips the gcd and type checks of
    ``Fraction``; the heap compares offers far more often than it makes them.

    ``(num - fall * d) / den`` is a lower bound of the project's price, in this round and every
    later one, had the run started with d more per voter, for d up to the run's horizon (see
    :class:`_Wallets`); ``approx`` and ``approx_fall`` are ``num / den`` and ``fall / den`` as
    floats, for screening.

    An offer priced at the current budgets (see :meth:`_Wallets.price`) also says how the
    project's supporters would pay: ``shares`` lists them by budget class, poorest first; those
    before ``first_rich`` pay all they hold, the others together pay ``num`` (in units of
    1 / scale), each in proportion to its weight out of ``rich_weight``. A lower bound has no
    ``shares``.
    """

    __slots__ = ("approx", "approx_fall", "den", "fall", "first_rich", "num", "project", "rank",
                 "rich_weight", "shares")

    def __init__(self, num: int, den: int, rank: int, project: int,
                 shares: list[_Share] | None = None, first_rich: int = 0,
                 rich_weight: int = 0, fall: int = 0) -> None:
        self.num, self.den, self.rank, self.project = num, den, rank, project
        self.shares, self.first_rich, self.rich_weight = shares, first_rich, rich_weight
        self.fall = fall
        self.approx, self.approx_fall = num / den, fall / den

    def __lt__(self, other: _Offer) -> bool:
        left, right = self.num * other.den, other.num * self.den
        return left < right or (left == right and self.rank < other.rank)

    def rho(self, weight_scale: int) -> Fraction:
        """The price per unit of utility, for reporting (the heap's prices are per scaled
        weight, see :class:`MesProfile`)."""
        return Fraction(self.num * weight_scale, self.den)

    def meets(self, line: _UpperLine, within: Fraction, d: float) -> Fraction | None:
        """None if this offer's lower bound stays above the winner's ``line`` (or equal with a
        later tie rank) up to ``within`` (``d`` as a float); else the extra start budget where
        they meet."""
        bound, top = self.approx - self.approx_fall * d, line.approx - line.approx_fall * d
        error = _EPSILON * 4 * (self.approx + self.approx_fall * d + line.approx
                                + line.approx_fall * d)
        if bound - error > top:
            return None
        mine = Fraction(self.num, self.den) - Fraction(self.fall, self.den) * within
        theirs = line.start - line.fall * within
        if mine > theirs or (mine == theirs and self.rank > line.rank):
            return None
        closing = Fraction(self.fall, self.den) - line.fall
        gap = Fraction(self.num, self.den) - line.start
        return gap / closing if gap > 0 else Fraction(0)


class _UpperLine:
    """The winner's price as an upper bound over the stretch: the chord from its exact price
    ``start`` at t to its bound at t + D (see the module docstring), falling by ``fall`` per
    unit of extra start budget."""

    __slots__ = ("approx", "approx_fall", "fall", "rank", "start")

    def __init__(self, winner: _Offer, far: Fraction, horizon: Fraction) -> None:
        self.start = Fraction(winner.num, winner.den)
        self.fall = (self.start - far) / horizon
        self.rank = winner.rank
        self.approx, self.approx_fall = float(self.start), float(self.fall)


class _Wallets:
    """The voters' money during one run, by budget class.

    Money is kept as whole numbers in units of 1 / ``scale``: ``value[c]`` is what each voter
    of class c holds (class 0: nothing; class 1: the start budget), ``group_class[g]`` is the
    class of ballot group g, and ``live`` counts the voters of every class still in use.

    With a ``horizon`` D, the run also checks that every start budget from t to t + D buys the
    same projects in the same order (``holds``). Had the run started at t + d (0 <= d <= D) and
    bought the same projects so far, class c would hold between ``value[c] / scale + low[c] *
    d / _SLOPE_UNIT`` and the same with ``high[c]`` (see the module docstring for why).
    """

    __slots__ = ("bounds", "group_class", "high", "holds", "horizon", "live", "low", "profile",
                 "scale", "step", "target", "value")

    def __init__(self, profile: MesProfile, start_budget: Number,
                 horizon: Fraction | None, step: int = 1) -> None:
        start = Fraction(start_budget)
        self.profile = profile
        self.scale = start.denominator
        self.value = [0, start.numerator]
        self.low, self.high = [0, _SLOPE_UNIT], [0, _SLOPE_UNIT]
        self.group_class = profile.start_classes()
        voters = sum(profile.multiplicity)
        self.live = {1: voters}
        self.bounds = _UpperBounds(start, voters) if profile.vectorized else None
        self.horizon, self.holds = horizon, horizon is not None
        self.target, self.step = horizon, step

    def lower_target(self, meets: Fraction) -> None:
        """Something may change from ``meets`` on: claim only the whole steps before it."""
        below = (-(-meets // self.step) - 1) * self.step
        if below < self.target:
            self.target = Fraction(below)
            self.holds = below > 0

    def price(self, j: int) -> _Offer | None:
        """Project j at the current budgets, or None when its supporters together hold less
        than its cost: the unique rho with sum of min(budget, rho * u) = cost, found by
        letting the poorest supporters pay all they hold until the rest can share equally.
        When checking a horizon, an unaffordable project must stay so up to it."""
        profile, value = self.profile, self.value
        supporters = profile.supporters[j]
        classes = None
        horizon = self.target if self.holds else None
        if self.bounds is not None:
            classes = self.group_class[supporters.voters]
            if self.bounds.out_of_reach(classes, profile.costs[j], horizon):
                return None
        shares, weight = supporters.holdings(self.group_class, value, profile.weight_lcm[j],
                                             classes)
        cost = profile.costs[j] * self.scale
        if sum([value[c] * voters for _, c, _, voters in shares]) < cost:
            if horizon is not None:
                high = self.high
                held = sum([value[c] * voters for _, c, _, voters in shares])
                growth = sum([high[c] * voters for _, c, _, voters in shares])
                p, q = horizon.numerator, horizon.denominator
                if (held * q - cost * q) * _SLOPE_UNIT + growth * self.scale * p >= 0:
                    self.lower_target(Fraction((cost - held) * _SLOPE_UNIT, growth * self.scale))
            return None
        shares.sort()
        paid = fall = 0
        high = self.high
        for first_rich, (_, c, w, voters) in enumerate(shares):
            rest = cost - paid
            if rest * w <= value[c] * weight:
                # rho * U_j * w = rest * w / (scale * weight); the fall in units of 1 / scale,
                # rounded up so that the line stays under the price
                return _Offer(rest, self.scale * weight * profile.unit[j], profile.tie_rank[j],
                              j, shares, first_rich, weight,
                              -(-fall * self.scale // _SLOPE_UNIT))
            paid += voters * value[c]
            fall += voters * high[c]
            weight -= voters * w
        raise AssertionError("affordable project without a price")  # pragma: no cover

    def price_at_horizon(self, offer: _Offer) -> tuple[Fraction, int, int]:
        """The winner's price at the horizon D if every supporter held only its lower bound
        there (an upper bound of the true price, see the module docstring), and that price's
        rich part: the money the rich pay and their weight, for :meth:`pay`."""
        profile, j = self.profile, offer.project
        p, q = self.horizon.numerator, self.horizon.denominator
        value, low = self.value, self.low
        # money in units of 1 / (scale * _SLOPE_UNIT * q)
        near, far = _SLOPE_UNIT * q, self.scale * p
        stretch = profile.weight_lcm[j]
        shares = sorted(((value[c] * near + low[c] * far) * (stretch // w), c, w, voters)
                        for _, c, w, voters in offer.shares)
        weight = sum(w * voters for _, _, w, voters in shares)
        cost = profile.costs[j] * self.scale * near
        paid = 0
        for _, c, w, voters in shares:
            rest = cost - paid
            money = value[c] * near + low[c] * far
            if rest * w <= money * weight:
                return (Fraction(rest, near * self.scale * weight * profile.unit[j]), rest,
                        weight)
            paid += voters * money
            weight -= voters * w
        raise AssertionError("the winner unaffordable with more money")  # pragma: no cover

    def pay(self, offer: _Offer, at_horizon: tuple[Fraction, int, int] | None) -> None:
        """Charge the offer's project to its supporters: the poor classes go to 0, the rich ones
        pay num * w / rich_weight each and move to a new class. With the winner's price at the
        horizon (``at_horizon``), also bound how the new classes' money grows up to it."""
        value, low, high, live, bounds = self.value, self.low, self.high, self.live, self.bounds
        shares, first_rich, rest, rich_weight, fall = (
            offer.shares, offer.first_rich, offer.num, offer.rich_weight, offer.fall)
        poor_growth = self._poor_growth(offer) if at_horizon is not None else None
        # Rescale the money of every class still in use by rich_weight / g so that the
        # payments are whole (classes nobody is in any more are never read again).
        g = gcd(rich_weight, rest)
        factor = rich_weight // g
        if factor != 1:
            self.scale *= factor
            for c in live:
                value[c] *= factor
        scale = self.scale
        moves: dict[int, dict[int, int]] = {}  # weight -> {old class: new class}
        if at_horizon is None:
            rest //= g
            for index, (_, c, w, voters) in enumerate(shares):
                target = _ZERO
                if index >= first_rich:
                    left = value[c] - rest * w
                    if left:
                        value.append(left)
                        low.append(0)
                        high.append(0)
                        target = len(value) - 1
                        if bounds is not None:
                            bounds.set(target, left, scale, 0)
                        live[target] = voters
                moves.setdefault(w, {})[c] = target
                live[c] -= voters
                if not live[c]:
                    del live[c]
        else:
            # Per unit of weight, in units of 1 / scale, the price falls by at most
            # tangent_num / tangent_den and at least chord_num / chord_den per unit of extra
            # start budget, up to the horizon (the module docstring says why).
            p, q = self.horizon.numerator, self.horizon.denominator
            _, rest_far, weight_far = at_horizon
            old_scale = scale // factor
            # in units of 1 / _SLOPE_UNIT per unit of weight and of extra start budget
            tangent_num, tangent_den = fall * _SLOPE_UNIT, old_scale * rich_weight
            chord_num = rest * _SLOPE_UNIT * q * weight_far - rest_far * rich_weight
            chord_den = old_scale * weight_far * rich_weight * p
            rest //= g
            # The poor pay all they hold: they end with nothing, and up to the horizon with
            # at most what ``_poor_growth`` says (most of them: nothing).
            for (_, c, w, voters), (grows, per) in zip(shares[:first_rich], poor_growth,
                                                        strict=True):
                target = _ZERO
                if grows:
                    bound = -(-grows // per)
                    value.append(0)
                    low.append(0)
                    high.append(bound)
                    target = len(value) - 1
                    if bounds is not None:
                        bounds.set(target, 0, scale, bound)
                    live[target] = voters
                moves.setdefault(w, {})[c] = target
                live[c] -= voters
                if not live[c]:
                    del live[c]
            # floor(low + w * chord) and ceil(high + w * tangent): whole parts, per weight
            weights = self.profile.supporters[offer.project].weights
            least_of = {w: w * chord_num // chord_den for w in weights}
            most_of = {w: -(-w * tangent_num // tangent_den) for w in weights}
            for _, c, w, voters in shares[first_rich:]:
                target = _ZERO
                left, grows = value[c] - rest * w, high[c] + most_of[w]
                if left or grows:
                    value.append(left)
                    low.append(low[c] + least_of[w])
                    high.append(grows)
                    target = len(value) - 1
                    if bounds is not None:
                        bounds.set(target, left, scale, grows)
                    live[target] = voters
                moves.setdefault(w, {})[c] = target
                live[c] -= voters
                if not live[c]:
                    del live[c]
        self.profile.supporters[offer.project].move(self.group_class, moves, len(value))

    def _poor_growth(self, offer: _Offer) -> list[tuple[int, int]]:
        """For each poor share of the bought offer, a bound of how fast its money after paying
        grows up to the horizon D (units of 1 / _SLOPE_UNIT, as a ratio of two whole numbers):
        it pays all it holds while its most money is at most its least share, that is up to
        some d_f; after d_f it keeps at most ``s * (d - d_f)`` (s: how fast the one grows plus
        how fast the other falls), which on the stretch is under the line
        ``s * (D - d_f) / D * d`` (0 when d_f >= D). Read before the money is rescaled."""
        value, high, scale = self.value, self.high, self.scale
        rest, rich_weight, fall = offer.num, offer.rich_weight, offer.fall
        p, q = self.horizon.numerator, self.horizon.denominator
        growths = []
        for _, c, w, _ in offer.shares[:offer.first_rich]:
            # in units of 1 / (_SLOPE_UNIT * scale * rich_weight)
            speed = high[c] * scale * rich_weight + fall * w * _SLOPE_UNIT
            short = (rest * w - value[c] * rich_weight) * _SLOPE_UNIT  # d_f * speed
            if short * q >= p * speed:  # d_f >= D, also when speed is 0
                growths.append((0, 1))
            else:  # s * (D - d_f) / D
                growths.append((speed * p - short * q, scale * rich_weight * p))
        return growths

    def supporters_money(self) -> tuple[Fraction, ...]:
        """What the supporters of each project hold together."""
        money = []
        for j, supporters in enumerate(self.profile.supporters):
            shares, _ = supporters.holdings(self.group_class, self.value,
                                            self.profile.weight_lcm[j])
            held = sum(self.value[c] * voters for _, c, _, voters in shares)
            money.append(Fraction(held, self.scale))
        return tuple(money)


def run_mes(profile: MesProfile, start_budget: Number, report: bool = False,
            horizon: Number | None = None, step: int = 1) -> MesRun:
    """Run MES once with ``start_budget`` per voter.

    With a ``horizon`` D, also check that every start budget from t to t + D buys the same
    projects in the same order (see the module docstring); the answer is ``covers`` (D, or 0
    when not shown). With ``report``, sum what each project's supporters hold at the end.
    """
    wallets = _Wallets(profile, start_budget,
                       Fraction(horizon) if horizon is not None else None, step)
    heap = _lower_bounds(profile)
    fresh: dict[int, _Offer] = {}  # the projects priced since the last purchase
    purchases: list[MesPurchase] = []
    spent = 0
    while (winner := _cheapest(heap, fresh, wallets.price)) is not None:
        j = winner.project
        at_horizon = None
        if wallets.holds:
            at_horizon = wallets.price_at_horizon(winner)
            line = _UpperLine(winner, at_horizon[0], wallets.horizon)
            within = float(wallets.target)
            for offer in heap:  # every other project still in the running
                meets = offer.meets(line, wallets.target, within)
                if meets is not None:
                    wallets.lower_target(meets)
                    within = float(wallets.target)
                    if not wallets.holds:
                        at_horizon = None
                        break
        fresh.clear()
        purchases.append(MesPurchase(j, winner.rho(profile.weight_scale),
                                     profile.budget - spent))
        spent += profile.costs[j]
        wallets.pay(winner, at_horizon)
    money = wallets.supporters_money() if report else ()
    covers = wallets.target if wallets.holds else 0
    return MesRun(start_budget, tuple(purchases), spent, covers, money)


def _lower_bounds(profile: MesProfile) -> list[_Offer]:
    """A heap of every supported project at the price it has while nobody runs out of money:
    a lower bound of its rho for the whole run, whatever the start budget."""
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


_MOST_STEPS_UNCHECKED = 8  # the longest pause between two checks of a stretch


class AddOne(NamedTuple):
    """The outcome of the add-one completion: the chosen run (with what each project's
    supporters hold at its end), the number of MES runs computed, and notes for the result."""

    run: MesRun
    runs: int
    notes: list[str]


def add_one(profile: MesProfile, stopping: str = "pabutools", step: int = 1,
            progress: Callable[[Fraction], None] | None = None) -> AddOne:
    """MES with add-one completion.

    ``stopping="pabutools"``: start at budget/voters, stop at the first outcome exhaustive among
    supported projects, or before the first one over budget (pabutools 1.2.3,
    ``voter_budget_increment=1``). ``stopping="pabulib"``: start at floor(budget/voters), stop
    only before the first outcome over budget (the Pabulib checker).

    ``step`` is one whole currency unit in the profile's units (the election's ``unit_scale``):
    pabutools raises the voter budget by one currency unit whatever the file's decimals.
    ``progress`` hears, after each run, the share of the budget its outcome spends (how far
    the search has come, roughly: it ends before the budget is exceeded).

    Each run also tries to show that its outcome holds for a stretch of start budgets above its
    own (:func:`run_mes`, ``horizon``); where it does, the steps in that stretch buy the same
    projects at the same total cost, so none of them stops the search (the run did not) and
    the search goes on after them. The stretch tried doubles after each success and halves
    after each failure (never below one step, which is then computed anyway). The reported
    run is computed at its own step, so its figures are exactly pabutools'.
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
    horizon = step  # the stretch the next run tries to cover
    # Checking a stretch makes a run dearer, so after checks that showed nothing the next few
    # steps are computed without one (``rest``: how many; ``pause``: doubled each time).
    rest = pause = 0
    t, current, runs = start, run_mes(profile, start, horizon=horizon, step=step), 1
    while True:
        if current.total_cost > profile.budget:
            final = t - step  # the step before: it bought what the last run within budget did
            break
        if _stops_at(profile, current, supported, stopping):
            final = t
            break
        covered = current.covers // step  # whole steps after t that buy the same projects
        if covered:  # the next stretch tried: four times what this run showed
            horizon, pause = 4 * covered * step, 0
        elif rest:
            rest -= 1
        else:  # a check that failed: half the stretch, and rest a while at one step
            horizon = max(step, horizon // 2)
            if horizon == step:
                pause = min(2 * pause or 1, _MOST_STEPS_UNCHECKED)
                rest = pause
        if progress is not None:
            progress(Fraction(min(current.total_cost, profile.budget), profile.budget or 1))
        t += (covered + 1) * step
        current = run_mes(profile, t, horizon=None if rest else horizon, step=step)
        runs += 1
    notes = [
        f"add-one ({stopping}): voter budget started at {_show(start, step)} and ended at "
        f"{_show(final, step)} ({runs} MES runs computed)"
    ]
    return AddOne(run_mes(profile, final, report=True), runs + 1, notes)


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


def _show(number: Number, step: int) -> str:
    """A voter budget in currency units: exact, with the whole part when it is a fraction."""
    shown = format_amount(number, step)
    if "/" in shown:
        return f"{shown} (about {format_amount(Fraction(number) * 100 // step, 100)})"
    return shown
