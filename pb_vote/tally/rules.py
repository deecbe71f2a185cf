"""The allocation rules and the one entry point, :func:`tally`.

Support of a project = the sum of its ballots' weights: approvals for approval and choose-1
ballots, points for cumulative and scoring ballots, L - position for ordinal ballots (see
:meth:`Election.ballot_weights`).

Rules (each matches pabutools 1.2.3; the tests compare them):

- ``greedy``: most support first; a project that does not fit the money left is skipped and the
  count goes on (pabutools ``greedy_utilitarian_welfare`` with ``Cost_Sat``).
- ``greedy-no-skip``: the same order, but counting stops at the first project that does not fit.
- ``greedy-threshold``: ``greedy`` among the projects whose support reaches the threshold
  (option ``threshold``, else META ``min_project_score_threshold``).
- ``mes``: Method of Equal Shares with cost utilities, add-one completion, then greedy fill
  (pabutools ``completion_by_rule_combination`` of MES with ``voter_budget_increment=1`` and
  greedy). ``mes-raw``: no completion. ``mes-add1``: add-one, no greedy fill.
  ``mes-cardinality``: like ``mes`` with one unit of utility per point (``Cardinality_Sat``).

Ties: see :data:`DEFAULT_TIE_BREAK`; ``tie_break="lexico"`` orders tied projects by id as plain
strings, which is pabutools' ``lexico_tie_breaking``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from pb_vote.tally.mes import MesProfile, MesRun, add_one, run_mes
from pb_vote.tally.model import Election, Number, natural_key
from pb_vote.tally.result import Phase, ProjectResult, Reason, TallyResult

RULES = (
    "greedy",
    "greedy-no-skip",
    "greedy-threshold",
    "mes",
    "mes-raw",
    "mes-add1",
    "mes-cardinality",
)
TIE_BREAKS = ("default", "lexico")
ADD_ONE_STOPPING = ("pabutools", "pabulib")

DEFAULT_TIE_BREAK = (
    "Ties are broken in favour of the cheaper project, then the one with more supporters "
    "(ballots that support it), then the lower project id in natural order (2 before 10)."
)
LEXICO_TIE_BREAK = (
    "Ties are broken in favour of the project whose id comes first as a plain string "
    "(pabutools' lexico_tie_breaking)."
)

# The META rule pb_vote writes for its own rule "mes"; its add-one completion stops as
# pabutools' does (Pabulib's own files follow Pabulib's stopping).
PB_VOTE_MES_META = "equalshares/add1-greedy"
# Pabulib META rule -> (our rule, note)
META_RULES: dict[str, str] = {
    "greedy": "greedy",
    "greedy-no-skip": "greedy-no-skip",
    "greedy-threshold": "greedy-threshold",
    "equalshares": "mes-raw",
    "equalshares/add1": "mes-add1",
    "equalshares/add1-comparison": "mes-add1",
    # pb_vote's own files: equal shares with add-one completion, then filled greedily
    # ("equalshares/add1" in Pabulib's files is without the greedy fill).
    PB_VOTE_MES_META: "mes",
}
THRESHOLD_META_KEY = "min_project_score_threshold"


class TallyError(ValueError):
    """A rule or option that cannot be applied to this election."""


@dataclass(frozen=True)
class _Prepared:
    """Per-project figures every rule needs, by project index."""

    election: Election
    weights: list[tuple[tuple[int, Number], ...]]
    support: list[Number]
    supporters: list[int]
    tie_rank: list[int]

    @property
    def costs(self) -> list[int]:
        return [p.cost for p in self.election.projects]


def _prepare(election: Election, tie_break: str) -> _Prepared:
    weights = election.ballot_weights()
    m = len(election.projects)
    support: list[Number] = [0] * m
    supporters = [0] * m
    for ballot, count in Counter(weights).items():  # identical ballots counted once
        for j, w in ballot:
            support[j] += w * count
            supporters[j] += count
    projects = election.projects
    if tie_break == "default":
        order = sorted(
            range(m), key=lambda j: (projects[j].cost, -supporters[j], natural_key(projects[j].id))
        )
    elif tie_break == "lexico":
        order = sorted(range(m), key=lambda j: projects[j].id)
    else:
        raise TallyError(f"unknown tie-break {tie_break!r}; choose from {', '.join(TIE_BREAKS)}")
    tie_rank = [0] * m
    for rank, j in enumerate(order):
        tie_rank[j] = rank
    return _Prepared(election, weights, support, supporters, tie_rank)


def tally(
    election: Election,
    rule: str = "greedy",
    *,
    tie_break: str = "default",
    threshold: Number | None = None,
    add_one_stopping: str = "pabutools",
    progress: Callable[[Fraction], None] | None = None,
) -> TallyResult:
    """Count ``election`` with ``rule`` and explain every project's outcome.

    ``threshold`` applies to ``greedy-threshold`` (default: the META threshold).
    ``add_one_stopping`` ("pabutools" or "pabulib") applies to the add-one completion of the
    ``mes`` rules; ``progress`` hears how far it has come (see :func:`mes.add_one`).
    """
    if rule not in RULES:
        raise TallyError(f"unknown rule {rule!r}; choose from {', '.join(RULES)}")
    if add_one_stopping not in ADD_ONE_STOPPING:
        raise TallyError(
            f"unknown add-one stopping {add_one_stopping!r}; choose from "
            f"{', '.join(ADD_ONE_STOPPING)}"
        )
    prepared = _prepare(election, tie_break)
    notes = [DEFAULT_TIE_BREAK if tie_break == "default" else LEXICO_TIE_BREAK]
    if rule in ("greedy", "greedy-no-skip", "greedy-threshold"):
        limit = None
        if rule == "greedy-threshold":
            limit = _threshold(election, threshold)
            notes.append(f"support threshold: {limit}")
        results, order = _greedy(prepared, skip=rule != "greedy-no-skip", threshold=limit)
        return _result(prepared, rule, tie_break, results, order, notes)
    return _mes(prepared, rule, tie_break, add_one_stopping, notes, progress)


def _threshold(election: Election, threshold: Number | None) -> Number:
    if threshold is not None:
        return threshold
    raw = election.meta.get(THRESHOLD_META_KEY, "").strip().replace(",", ".")
    if not raw:
        raise TallyError(
            f"greedy-threshold needs a threshold: give one, or set META {THRESHOLD_META_KEY}"
        )
    try:
        value = Fraction(raw)
    except ValueError:
        raise TallyError(f"META {THRESHOLD_META_KEY} is not a number: {raw!r}") from None
    return value.numerator if value.denominator == 1 else value


def _greedy_order(prepared: _Prepared, candidates: Sequence[int]) -> list[int]:
    return sorted(candidates, key=lambda j: (-prepared.support[j], prepared.tie_rank[j]))


def _greedy(
    prepared: _Prepared,
    skip: bool,
    threshold: Number | None = None,
    already: Sequence[int] = (),
    phase: Phase = Phase.GREEDY,
) -> tuple[dict[int, ProjectResult], list[int]]:
    """Greedy by support from the money left after ``already``; returns results and new picks."""
    projects = prepared.election.projects
    left = prepared.election.budget - sum(projects[j].cost for j in already)
    results: dict[int, ProjectResult] = {}
    taken = set(already)
    candidates = []
    for j in range(len(projects)):
        if j in taken:
            continue
        if threshold is not None and prepared.support[j] < threshold:
            results[j] = _project_result(prepared, j, Reason.BELOW_THRESHOLD)
        else:
            candidates.append(j)
    picked: list[int] = []
    stopped = False
    for j in _greedy_order(prepared, candidates):
        if stopped:
            results[j] = _project_result(prepared, j, Reason.STOPPED)
        elif projects[j].cost <= left:
            results[j] = _project_result(
                prepared, j, Reason.FUNDED, phase=phase, position=len(already) + len(picked) + 1,
                money_left=left,
            )
            picked.append(j)
            left -= projects[j].cost
        else:
            results[j] = _project_result(
                prepared, j, Reason.DID_NOT_FIT, phase=phase, money_left=left
            )
            stopped = not skip
    return results, picked


def _mes(
    prepared: _Prepared, rule: str, tie_break: str, stopping: str, notes: list[str],
    progress: Callable[[Fraction], None] | None = None,
) -> TallyResult:
    election = prepared.election
    cardinality = rule == "mes-cardinality"
    unit = [1 if cardinality else p.cost for p in election.projects]
    profile = MesProfile(
        prepared.costs, prepared.weights, unit, prepared.tie_rank, election.budget
    )
    notes.append(
        "equal shares with "
        + ("one unit of utility per point" if cardinality else "cost utilities (points x cost)")
    )
    extra: dict[str, object] = {}
    if rule == "mes-raw":
        run: MesRun = run_mes(profile, _start(election), report=True)
        extra["mes_runs"] = 1
    else:
        completed = add_one(profile, stopping, election.unit_scale, progress)
        run = completed.run
        notes.extend(completed.notes)
        extra["mes_runs"] = completed.runs
        extra["add_one_stopping"] = stopping
    results: dict[int, ProjectResult] = {}
    for position, purchase in enumerate(run.purchases, start=1):
        j = purchase.project
        results[j] = _project_result(
            prepared, j, Reason.FUNDED, phase=Phase.MES, position=position,
            money_left=purchase.money_left, rho=purchase.rho,
            effective_votes=Fraction(election.projects[j].cost) / (purchase.rho * unit[j]),
            supporters_money=None,
        )
    order = run.selected
    if rule in ("mes", "mes-cardinality"):
        filled, picked = _greedy(prepared, skip=True, already=order, phase=Phase.GREEDY_FILL)
        if picked:
            notes.append(f"greedy fill added {len(picked)} project(s) with the money left")
        for j, result in filled.items():
            results[j] = _with_money(result, run.supporters_money[j])
        order = [*order, *picked]
    for j in range(len(election.projects)):
        if j not in results:
            results[j] = _project_result(
                prepared, j, Reason.NOT_ENOUGH_SUPPORT_LEFT, phase=Phase.MES,
                supporters_money=run.supporters_money[j],
            )
    return _result(prepared, rule, tie_break, results, order, notes, run.start_budget, extra)


def _start(election: Election) -> Number:
    voters = len(election.ballots)
    return Fraction(election.budget, voters) if voters else 0


def _with_money(result: ProjectResult, money: Number) -> ProjectResult:
    if result.funded:
        return result
    return ProjectResult(**{**result.__dict__, "supporters_money": money})


def _project_result(prepared: _Prepared, j: int, reason: Reason, **figures) -> ProjectResult:
    project = prepared.election.projects[j]
    return ProjectResult(
        project.id, project.cost, prepared.support[j], prepared.supporters[j], reason, **figures
    )


def _result(
    prepared: _Prepared,
    rule: str,
    tie_break: str,
    results: dict[int, ProjectResult],
    order: Sequence[int],
    notes: list[str],
    voter_budget: Number | None = None,
    extra: dict[str, object] | None = None,
) -> TallyResult:
    election = prepared.election
    total = sum(election.projects[j].cost for j in order)
    assert total <= election.budget, "a rule exceeded the budget"
    return TallyResult(
        rule=rule,
        budget=election.budget,
        selected=tuple(election.projects[j].id for j in order),
        total_cost=total,
        projects=tuple(results[j] for j in range(len(election.projects))),
        tie_break=tie_break,
        notes=tuple(notes),
        voter_budget=Fraction(voter_budget) if voter_budget is not None else None,
        extra=extra or {},
    )
