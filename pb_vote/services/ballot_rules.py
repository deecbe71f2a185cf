"""What makes a ballot valid, for each ballot kind. Pure: no database, no Flask.

Choices arrive as {proposal id: value}: 1 for each pick of an approval or knapsack ballot, the
points for a points ballot. The normal form stored in a ``Ballot`` keeps only positive values,
with string keys (JSON objects have string keys).
"""

from dataclasses import dataclass

from pb_vote.errors import ServiceError


@dataclass(frozen=True)
class BallotSpec:
    """The rules of one round's ballot."""

    kind: str  # "approval", "knapsack" or "points"
    costs: dict[int, int]  # proposal id -> reviewed cost in cents: the proposals on the ballot
    budget_cents: int
    approval_min: int | None = None
    approval_max: int | None = None
    knapsack_min_spend_percent: int | None = None
    points_total: int | None = None
    points_max_per_proposal: int | None = None


class BallotInvalid(ServiceError):
    """The ballot breaks a rule; ``code`` names which, ``details`` carry the figures."""


def normalize(spec: BallotSpec, choices: dict[int, int]) -> dict[str, int]:
    """Check ``choices`` against ``spec``; return the normal form or raise BallotInvalid."""
    for proposal_id, value in choices.items():
        if proposal_id not in spec.costs:
            raise BallotInvalid("not_on_ballot", proposal_id=proposal_id)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise BallotInvalid("bad_value", proposal_id=proposal_id)
    chosen = {pid: value for pid, value in choices.items() if value > 0}
    if not chosen:
        if spec.kind == "approval" and (spec.approval_min or 0) > 1:
            raise BallotInvalid("too_few", minimum=spec.approval_min, count=0)
        raise BallotInvalid("empty")
    if spec.kind == "points":
        _check_points(spec, chosen)
    else:
        if any(value != 1 for value in chosen.values()):
            raise BallotInvalid("bad_value")
        if spec.kind == "approval":
            _check_approval(spec, chosen)
        else:
            _check_knapsack(spec, chosen)
    return {str(pid): value for pid, value in sorted(chosen.items())}


def _check_approval(spec: BallotSpec, chosen: dict[int, int]) -> None:
    count = len(chosen)
    if spec.approval_min is not None and count < spec.approval_min:
        raise BallotInvalid("too_few", minimum=spec.approval_min, count=count)
    if spec.approval_max is not None and count > spec.approval_max:
        raise BallotInvalid("too_many", maximum=spec.approval_max, count=count)


def _check_knapsack(spec: BallotSpec, chosen: dict[int, int]) -> None:
    spent = sum(spec.costs[pid] for pid in chosen)
    if spent > spec.budget_cents:
        raise BallotInvalid("over_budget", spent=spent, budget=spec.budget_cents)
    minimum = minimum_spend_cents(spec)
    if spent < minimum:
        raise BallotInvalid("under_minimum_spend", spent=spent, minimum=minimum)


def minimum_spend_cents(spec: BallotSpec) -> int:
    """The least a knapsack ballot may spend: the minimum percent of the budget, rounded up
    to a whole cent (so ``spent >= it`` is exactly ``spent / budget >= percent / 100``)."""
    return -(-spec.budget_cents * (spec.knapsack_min_spend_percent or 0) // 100)


def _check_points(spec: BallotSpec, chosen: dict[int, int]) -> None:
    if spec.points_max_per_proposal is not None:
        for pid, points in chosen.items():
            if points > spec.points_max_per_proposal:
                raise BallotInvalid("too_many_points_each", proposal_id=pid,
                                    maximum=spec.points_max_per_proposal)
    total = sum(chosen.values())
    if spec.points_total is not None and total > spec.points_total:
        raise BallotInvalid("too_many_points", maximum=spec.points_total, total=total)


def limits(spec: BallotSpec) -> dict:
    """The figures :func:`normalize` compares a ballot against, for the ballot page's live
    tally (static/js/ballot.js makes the same checks, in the same order, with them)."""
    return {
        "kind": spec.kind,
        "costs": {str(pid): cost for pid, cost in spec.costs.items()},
        "budget": spec.budget_cents,
        "approval_min": spec.approval_min,
        "approval_max": spec.approval_max,
        "minimum_spend": minimum_spend_cents(spec) if spec.kind == "knapsack" else 0,
        "points_total": spec.points_total,
        "points_max_per_proposal": spec.points_max_per_proposal,
    }


def summary(spec: BallotSpec, choices: dict[str, int]) -> dict[str, int]:
    """Count, money and points of a normal-form ballot (for the review page)."""
    return {
        "count": len(choices),
        "money": sum(spec.costs[int(pid)] for pid in choices),
        "points": sum(choices.values()),
    }
