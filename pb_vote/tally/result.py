"""What a tally returns: the selection and, for every project, why it was or was not funded."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from pb_vote.tally.model import Number, format_amount


class Reason(StrEnum):
    """Why a project ended where it did."""

    FUNDED = "funded"
    DID_NOT_FIT = "did not fit the money left"
    NOT_ENOUGH_SUPPORT_LEFT = "not enough support left among its supporters"
    BELOW_THRESHOLD = "below the support threshold"
    STOPPED = "not reached: counting stopped at the first project that did not fit"


class Phase(StrEnum):
    """Which step of a rule decided about a project."""

    GREEDY = "greedy"
    MES = "equal shares"
    GREEDY_FILL = "greedy fill"


@dataclass(frozen=True)
class ProjectResult:
    """One project's outcome with the figures behind it.

    ``support`` is the rule's support (approvals, points, or ordinal points) and ``supporters``
    the number of ballots that support it. ``money_left`` is what was left of the budget when the
    project was decided (selected or skipped); None when it was never considered. For Method of
    Equal Shares decisions, ``rho`` is the price per unit of utility its supporters paid and
    ``effective_votes`` the support it still had when bought (1/rho in vote units);
    ``supporters_money`` is what its supporters still held when equal shares ended.

    Amounts are in the election's units (``Election.unit_scale`` of them make one currency
    unit). ``rho`` is an amount only under one unit of utility per point (``mes-cardinality``):
    with cost utilities it is money per money, the same in any unit.
    """

    project_id: str
    cost: int
    support: Number
    supporters: int
    reason: Reason
    phase: Phase | None = None
    position: int | None = None
    money_left: Number | None = None
    rho: Fraction | None = None
    effective_votes: Fraction | None = None
    supporters_money: Number | None = None

    @property
    def funded(self) -> bool:
        """True when the project was selected."""
        return self.reason is Reason.FUNDED

    def as_dict(self, unit_scale: int = 1, rho_is_money: bool = False) -> dict[str, Any]:
        """JSON-ready dict; exact numbers that are not whole become strings like ``"3/7"``.

        With ``unit_scale`` > 1 every amount (cost, money left, supporters' money, and rho when
        ``rho_is_money``) becomes exact text in currency units, like ``"376634.74"``."""
        def money(value: Number) -> int | str:
            return money_as_json(value, unit_scale)

        data: dict[str, Any] = {
            "project_id": self.project_id,
            "cost": money(self.cost),
            "support": number_as_json(self.support),
            "supporters": self.supporters,
            "reason": self.reason.value,
            "funded": self.funded,
        }
        if self.phase is not None:
            data["phase"] = self.phase.value
        if self.position is not None:
            data["position"] = self.position
        if self.money_left is not None:
            data["money_left"] = money(self.money_left)
        if self.rho is not None:
            data["rho"] = money(self.rho) if rho_is_money else number_as_json(self.rho)
        if self.effective_votes is not None:
            data["effective_votes"] = number_as_json(self.effective_votes)
        if self.supporters_money is not None:
            data["supporters_money"] = money(self.supporters_money)
        return data


@dataclass(frozen=True)
class TallyResult:
    """The outcome of a tally.

    ``selected`` lists project ids in selection order; ``projects`` has one entry per project, in
    the election's order. ``notes`` explains choices made on the way (tie-breaking, stopping).
    Amounts (budget, costs, money left, ``voter_budget``) are in the election's units; people
    read them through ``as_dict(election.unit_scale)`` or :func:`money_as_json`.
    """

    rule: str
    budget: int
    selected: tuple[str, ...]
    total_cost: int
    projects: tuple[ProjectResult, ...]
    tie_break: str
    notes: tuple[str, ...] = ()
    voter_budget: Fraction | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def money_left(self) -> int:
        """Budget not spent."""
        return self.budget - self.total_cost

    def project(self, project_id: str) -> ProjectResult:
        """The result for one project id."""
        for result in self.projects:
            if result.project_id == project_id:
                return result
        raise KeyError(project_id)

    @property
    def rho_is_money(self) -> bool:
        """True when rho is an amount per point (one unit of utility per point)."""
        return self.rule == "mes-cardinality"

    def as_dict(self, unit_scale: int = 1) -> dict[str, Any]:
        """JSON-ready dict of the whole result.

        ``unit_scale`` is the election's (``Election.unit_scale``): above 1 every amount becomes
        exact text in currency units (``"376634.74"``) and the dict records ``unit_scale``; at 1
        (the default) amounts stay numbers of the election's units."""
        def money(value: Number) -> int | str:
            return money_as_json(value, unit_scale)

        data: dict[str, Any] = {
            "rule": self.rule,
            "budget": money(self.budget),
            "selected": list(self.selected),
            "total_cost": money(self.total_cost),
            "money_left": money(self.money_left),
            "tie_break": self.tie_break,
            "notes": list(self.notes),
        }
        if self.voter_budget is not None:
            data["voter_budget"] = money(self.voter_budget)
        if unit_scale != 1:
            data["unit_scale"] = unit_scale
        data.update(self.extra)
        data["projects"] = [p.as_dict(unit_scale, self.rho_is_money) for p in self.projects]
        return data


def number_as_json(value: Number) -> int | str:
    """An int stays an int; a Fraction becomes ``"p/q"`` (or an int when whole)."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    return value


def money_as_json(value: Number, unit_scale: int = 1) -> int | str:
    """An amount of ``unit_scale`` units per currency unit, for people: at 1 as
    :func:`number_as_json`, else exact text in currency units (``"376634.74"``, or ``"a/b"``
    when no finite decimal is exact)."""
    if unit_scale == 1:
        return number_as_json(value)
    return format_amount(value, unit_scale)
