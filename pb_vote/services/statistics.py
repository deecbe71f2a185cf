"""Statistics after a round, for its table's staff: how many voted by channel, by day, and
(signed-in residents only) by home postal code and account language, with no group smaller
than a minimum shown.

Every breakdown is a partition of a total the reader knows (the round's ballots are public;
the area and language breakdowns split the signed-in residents' figure). A group smaller
than the minimum reads "fewer than N" (``SMALL``); when the hidden groups of a breakdown
could still be worked out from its total by subtraction, more groups are held back
(``PROTECTED``, the smallest first) until none can; when nothing more can be held back, the
whole breakdown is (``withheld``). The area and language breakdowns are shown only when the
signed-in residents' figure itself is: they add up to it. Breakdowns are never crossed (no
day by channel), so no cell sits in two sums. Age groups are not asked of anyone, so there
are none."""

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import Participation, Round, Table, User, VoteChannel
from pb_vote.services.audit import record_event
from pb_vote.services.results import round_turnout

SMALL = "small"  # fewer than the minimum
PROTECTED = "protected"  # held back so that a small group cannot be worked out
UNKNOWN = ""  # the key of the group whose postal code or language is not known
MOST_ELIGIBLE = 10_000_000


@dataclass(frozen=True)
class Cell:
    """One group of a breakdown: its key (a channel, an ISO day, a postal code, a language
    or UNKNOWN), how many voted, and why it is hidden (None: shown)."""

    key: str
    count: int
    hidden: str | None = None

    @property
    def shown(self) -> int | None:
        """The figure to show, or None when it is hidden."""
        return None if self.hidden else self.count


@dataclass(frozen=True)
class Breakdown:
    """Groups that together make ``total``. ``withheld``: none may be shown."""

    cells: list[Cell]
    total: int
    withheld: bool = False


@dataclass(frozen=True)
class RoundStatistics:
    """What the statistics page and its CSV show of one round whose voting has closed."""

    ballots: int
    minimum: int
    eligible_residents: int | None
    by_channel: Breakdown
    by_day: Breakdown
    by_area: Breakdown
    by_language: Breakdown
    too_few: bool = field(default=False)  # fewer ballots than the minimum: no breakdown
    # Residents entitled to vote per postal code of the area, where recorded.
    eligible_by_area: dict[str, int] = field(default_factory=dict)

    def share(self, count: int | None, area: str | None = None) -> float | None:
        """``count`` as a share of the residents entitled to vote (in postal code ``area``
        when given), when that number is known."""
        eligible = self.eligible_residents if area is None else self.eligible_by_area.get(area)
        if count is None or not eligible:
            return None
        return count / eligible


def _pinned(hidden: list[tuple[int, str]], minimum: int) -> bool:
    """Whether a small group among ``hidden`` (count, why) has one possible value, to a
    reader who knows their sum, that each small one is 1 to minimum - 1 and each protected
    one at least minimum."""
    total = sum(count for count, _ in hidden)
    for index, (_, why) in enumerate(hidden):
        if why != SMALL:
            continue
        others = [w for n, (_, w) in enumerate(hidden) if n != index]
        most_others = sum(minimum - 1 if w == SMALL else total for w in others)
        least_others = sum(1 if w == SMALL else minimum for w in others)
        if max(1, total - most_others) >= min(minimum - 1, total - least_others):
            return True
    return False


def protect(counts: list[tuple[str, int]], minimum: int) -> Breakdown:
    """The groups ``counts`` (key, count), in their order, with every group of fewer than
    ``minimum`` hidden, and as many more as keep the hidden ones from being worked out of
    the total. A group of none is shown: it exposes nobody."""
    total = sum(count for _, count in counts)
    why = {key: SMALL for key, count in counts if 0 < count < minimum}
    while why and _pinned([(count, why[key]) for key, count in counts if key in why],
                          minimum):
        left = [(count, key) for key, count in counts if count > 0 and key not in why]
        if not left:
            return Breakdown([Cell(key, count, why.get(key, PROTECTED) if count else None)
                              for key, count in counts], total, withheld=True)
        why[min(left)[1]] = PROTECTED
    return Breakdown([Cell(key, count, why.get(key)) for key, count in counts], total)


def _withheld(counts: list[tuple[str, int]]) -> Breakdown:
    return Breakdown([Cell(key, count, SMALL if count else None) for key, count in counts],
                     sum(count for _, count in counts), withheld=True)


def _online_groups(round_: Round, column) -> list[tuple[str, int]]:
    """The signed-in residents' participations in ``round_`` by ``column`` (postal code or
    language as recorded when they voted), the unknown last."""
    found = Counter()
    for value, count in db.session.execute(
            select(column, func.count()).where(
                Participation.round_id == round_.id,
                Participation.channel == VoteChannel.ONLINE).group_by(column)):
        found[value or UNKNOWN] += count
    known = sorted(key for key in found if key != UNKNOWN)
    return [(key, found[key]) for key in known] + (
        [(UNKNOWN, found[UNKNOWN])] if found[UNKNOWN] else [])


def round_statistics(round_: Round, minimum: int) -> RoundStatistics:
    """The statistics of ``round_`` with no group under ``minimum`` (at least 2) exposed.
    Channel and day come from the turnout the database keeps (or the publication's), area
    and language from the participations of signed-in residents."""
    minimum = max(2, minimum)
    turnout = round_turnout(round_)
    channels = [(channel.value, turnout["by_channel"].get(channel, 0))
                for channel in VoteChannel
                if channel is not VoteChannel.IMPORT or turnout["by_channel"].get(channel)]
    days = [(day.isoformat(), count) for day, count in turnout["by_day"]]
    areas = _online_groups(round_, Participation.postal_code)
    languages = _online_groups(round_, Participation.language)
    ballots = turnout["total"]
    eligible = round_.table.eligible_residents
    by_area = {row.postal_code: row.eligible_residents for row in round_.table.area
               if row.eligible_residents}
    if ballots < minimum:
        return RoundStatistics(ballots, minimum, eligible, _withheld(channels),
                               _withheld(days), _withheld(areas), _withheld(languages),
                               too_few=True, eligible_by_area=by_area)
    by_channel = protect(channels, minimum)
    online = next(cell for cell in by_channel.cells if cell.key == VoteChannel.ONLINE.value)
    online_shown = not by_channel.withheld and online.hidden is None
    return RoundStatistics(
        ballots, minimum, eligible, by_channel, protect(days, minimum),
        protect(areas, minimum) if online_shown else _withheld(areas),
        protect(languages, minimum) if online_shown else _withheld(languages),
        eligible_by_area=by_area,
    )


def _checked(number: int | None) -> int | None:
    if number is not None and not 0 < number <= MOST_ELIGIBLE:
        raise ValueError(f"eligible residents out of range: {number}")
    return number


def set_eligible_residents(actor: User, table: Table, number: int | None,
                           by_area: dict[str, int | None] | None = None) -> None:
    """Record how many residents of ``table``'s area may vote (None: not known), and of
    each of its postal codes named in ``by_area``; audited with what changed. The figures
    are the table's, for every round's turnout shares."""
    number = _checked(number)
    rows = {row.postal_code: row for row in table.area}
    wanted = {code: _checked(value) for code, value in (by_area or {}).items()}
    if set(wanted) - set(rows):
        raise ValueError(f"not in the table's area: {sorted(set(wanted) - set(rows))}")
    details = {"from": table.eligible_residents, "to": number}
    changed = {code: [rows[code].eligible_residents, value] for code, value in wanted.items()
               if rows[code].eligible_residents != value}
    if changed:
        details["by_postal_code"] = changed
    table.eligible_residents = number
    for code, value in wanted.items():
        rows[code].eligible_residents = value
    db.session.flush()
    record_event(actor, "table.eligible_residents_set", "table", table.id, table_id=table.id,
                 details=details)
