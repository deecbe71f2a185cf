"""What a tally returns: the selection and, for every project, why it was or was not funded."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from pb_vote.tally.model import Number


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

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict; exact numbers that are not whole become strings like ``"3/7"``."""
        data: dict[str, Any] = {
            "project_id": self.project_id,
            "cost": self.cost,
            "support": number_as_json(self.support),
            "supporters": self.supporters,
            "reason": self.reason.value,
            "funded": self.funded,
        }
        optional = {
            "phase": self.phase.value if self.phase else None,
            "position": self.position,
            "money_left": self.money_left,
            "rho": self.rho,
            "effective_votes": self.effective_votes,
            "supporters_money": self.supporters_money,
        }
        for key, value in optional.items():
            if value is not None:
                data[key] = number_as_json(value) if not isinstance(value, str) else value
        return data


@dataclass(frozen=True)
class TallyResult:
    """The outcome of a tally.

    ``selected`` lists project ids in selection order; ``projects`` has one entry per project, in
    the election's order. ``notes`` explains choices made on the way (tie-breaking, stopping).
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

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the whole result."""
        data: dict[str, Any] = {
            "rule": self.rule,
            "budget": self.budget,
            "selected": list(self.selected),
            "total_cost": self.total_cost,
            "money_left": self.money_left,
            "tie_break": self.tie_break,
            "notes": list(self.notes),
        }
        if self.voter_budget is not None:
            data["voter_budget"] = number_as_json(self.voter_budget)
        data.update(self.extra)
        data["projects"] = [p.as_dict() for p in self.projects]
        return data


def number_as_json(value: Number) -> int | str:
    """An int stays an int; a Fraction becomes ``"p/q"`` (or an int when whole)."""
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else str(value)
    return value
