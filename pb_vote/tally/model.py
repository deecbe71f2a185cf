"""The election a tally counts: projects, ballots and the budget, as plain frozen dataclasses.

Everything here is exact: costs and the budget are whole numbers (``int``) of the election's
unit, ``1 / unit_scale`` of a currency unit (1 unless the source had decimal amounts), points are
``int`` or ``Fraction``. Nothing in this package does I/O or imports the web application.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

Number = int | Fraction

_DIGITS = re.compile(r"(\d+)")


class VoteType(StrEnum):
    """How a ballot expresses support, named as in Pabulib's ``vote_type``."""

    APPROVAL = "approval"
    CHOOSE_ONE = "choose-1"
    CUMULATIVE = "cumulative"
    SCORING = "scoring"
    ORDINAL = "ordinal"

    @property
    def has_points(self) -> bool:
        """True when each ballot gives points to its projects (cumulative or scoring)."""
        return self in (VoteType.CUMULATIVE, VoteType.SCORING)


class ElectionError(ValueError):
    """An election that cannot be counted (unknown project on a ballot, cost not positive...)."""


def natural_key(project_id: str) -> tuple:
    """Sort key for 'natural order' of ids: digit runs compare as numbers (``c2`` < ``c10``).

    Ties between ids that differ only in leading zeros or case fall back to the raw string, so the
    order is total and never depends on input order.
    """
    parts = _DIGITS.split(project_id)
    numbers = [*parts[1::2], "-1"]  # the last text run has no number after it
    key = tuple(
        (text.casefold(), int(number)) for text, number in zip(parts[::2], numbers, strict=True)
    )
    return (key, project_id)


@dataclass(frozen=True)
class Project:
    """A project on the ballot: its id (as in the source, e.g. the Pabulib file) and whole cost."""

    id: str
    cost: int
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.cost, int) or isinstance(self.cost, bool) or self.cost <= 0:
            raise ElectionError(
                f"project {self.id!r}: cost must be a positive whole number, got {self.cost!r}"
            )

    @property
    def name(self) -> str:
        """The project's display name when the source gave one, else its id."""
        return self.fields.get("name", "") or self.id


@dataclass(frozen=True)
class Ballot:
    """One voter's ballot.

    ``projects`` lists the supported project ids (for ordinal ballots, best first). ``points`` is
    given only for cumulative or scoring ballots, one number per project, in the same order.
    """

    projects: tuple[str, ...]
    points: tuple[Number, ...] | None = None
    voter_id: str = ""
    fields: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(set(self.projects)) != len(self.projects):
            raise ElectionError(f"ballot {self.voter_id!r}: a project appears twice")
        if self.points is not None:
            if len(self.points) != len(self.projects):
                raise ElectionError(
                    f"ballot {self.voter_id!r}: {len(self.projects)} projects but "
                    f"{len(self.points)} points"
                )
            if any(p < 0 for p in self.points):
                raise ElectionError(f"ballot {self.voter_id!r}: points must not be negative")


@dataclass(frozen=True)
class Election:
    """Everything a tally needs: the vote type, the budget, the projects and the ballots.

    ``meta`` keeps the source's other metadata (Pabulib META rows) so a writer can reproduce it.
    ``unit_scale`` says how many of the election's units make one currency unit: a file with
    ``budget;376634.74`` is counted in cents, ``unit_scale`` 100 (see :meth:`amount_text`).
    """

    vote_type: VoteType
    budget: int
    projects: tuple[Project, ...]
    ballots: tuple[Ballot, ...]
    meta: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    unit_scale: int = 1

    def __post_init__(self) -> None:
        if (not isinstance(self.unit_scale, int) or isinstance(self.unit_scale, bool)
                or self.unit_scale < 1):
            raise ElectionError(f"unit_scale must be a whole number >= 1, got {self.unit_scale!r}")
        if not isinstance(self.budget, int) or isinstance(self.budget, bool) or self.budget < 0:
            raise ElectionError(f"budget must be a whole number >= 0, got {self.budget!r}")
        known = set()
        for project in self.projects:
            if project.id in known:
                raise ElectionError(f"project {project.id!r} is listed twice")
            known.add(project.id)
        for ballot in self.ballots:
            for project_id in ballot.projects:
                if project_id not in known:
                    raise ElectionError(
                        f"ballot {ballot.voter_id!r} names unknown project {project_id!r}"
                    )
            if self.vote_type.has_points and ballot.points is None:
                raise ElectionError(
                    f"ballot {ballot.voter_id!r}: {self.vote_type.value} ballots need points"
                )

    def amount(self, value: Number) -> Number:
        """An amount in the election's units as currency units, exactly (int when whole)."""
        return _exact(Fraction(value) / self.unit_scale)

    def amount_text(self, value: Number) -> str:
        """An amount in the election's units as the source wrote it: ``37663474`` cents with
        ``unit_scale`` 100 is ``376634.74``; amounts that are no whole number of units (an
        equal share) keep every decimal when finite, else show as a fraction ``a/b``."""
        return format_amount(value, self.unit_scale)

    @property
    def ordinal_length(self) -> int:
        """L for ordinal ballots: META ``max_length`` or the longest ballot, whichever is larger.

        A ranked project at position i (0 = first) gets L - i points, as Pabulib scores Kraków.
        """
        longest = max((len(b.projects) for b in self.ballots), default=0)
        declared = self.meta.get("max_length", "").strip()
        return max(longest, int(declared)) if declared.isdigit() else longest

    def ballot_weights(self) -> list[tuple[tuple[int, Number], ...]]:
        """Each ballot as (project index, weight) pairs, weight > 0.

        Weight is 1 for approval and choose-1, the points for cumulative and scoring, and
        L - position for ordinal ballots (see :attr:`ordinal_length`). Zero weights are dropped.
        """
        index = {p.id: i for i, p in enumerate(self.projects)}
        length = self.ordinal_length if self.vote_type is VoteType.ORDINAL else 0
        weighted = []
        known: dict[tuple, tuple[tuple[int, Number], ...]] = {}  # identical ballots are common
        for ballot in self.ballots:
            key = (ballot.projects, ballot.points)
            pairs_of_ballot = known.get(key)
            if pairs_of_ballot is not None:
                weighted.append(pairs_of_ballot)
                continue
            if self.vote_type.has_points:
                assert ballot.points is not None
                pairs = zip(ballot.projects, ballot.points, strict=True)
            elif self.vote_type is VoteType.ORDINAL:
                pairs = ((pid, length - pos) for pos, pid in enumerate(ballot.projects))
            else:
                pairs = ((pid, 1) for pid in ballot.projects)
            pairs_of_ballot = known[key] = tuple(
                (index[pid], _exact(w)) for pid, w in pairs if w > 0)
            weighted.append(pairs_of_ballot)
        return weighted


def format_amount(value: Number, unit_scale: int = 1) -> str:
    """``value / unit_scale`` as exact decimal text (``"376634.74"``), else as ``"a/b"``."""
    exact = Fraction(value) / unit_scale
    if exact.denominator == 1:
        return str(exact.numerator)
    denominator, decimals = exact.denominator, 0
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator != 1:
        return f"{exact.numerator}/{exact.denominator}"
    while (exact * 10**decimals).denominator != 1:
        decimals += 1
    sign = "-" if exact < 0 else ""
    digits = str(abs(exact.numerator) * 10**decimals // exact.denominator).rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def _exact(value: Number) -> Number:
    """An int when the value is whole, else the Fraction itself (keeps integer arithmetic fast)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def make_election(
    costs: Mapping[str, int] | Sequence[tuple[str, int]],
    ballots: Sequence[Sequence[str] | Mapping[str, Number]],
    budget: int,
    vote_type: VoteType | str = VoteType.APPROVAL,
) -> Election:
    """Build an election in one call: ``make_election({"a": 3, "b": 5}, [["a"], ["a", "b"]], 6)``.

    For cumulative or scoring elections each ballot is a mapping project id -> points.
    """
    vote_type = VoteType(vote_type)
    items = costs.items() if isinstance(costs, Mapping) else costs
    projects = tuple(Project(pid, cost) for pid, cost in items)
    built = []
    for number, raw in enumerate(ballots, start=1):
        if vote_type.has_points:
            assert isinstance(raw, Mapping)
            built.append(Ballot(tuple(raw), tuple(raw.values()), voter_id=str(number)))
        else:
            built.append(Ballot(tuple(raw), voter_id=str(number)))
    return Election(vote_type, budget, projects, tuple(built))
