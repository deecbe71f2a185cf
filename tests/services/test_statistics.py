"""The statistics after a round: the figures by channel, day, home postal code and account
language, and the small-group rule, checked by a reader who knows every shown figure and
the public total and tries to work a hidden small group out by subtraction."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, Participation, VoteChannel
from pb_vote.services import accounts, statistics
from pb_vote.services.statistics import PROTECTED, SMALL, UNKNOWN, Breakdown, protect
from tests import factories


def possible_values(breakdown: Breakdown, minimum: int) -> dict[str, set[int]]:
    """What a reader can tell of each hidden small group: every value it may have, given
    the total, the shown groups, that a small one is 1 to minimum - 1 and a held-back one
    at least minimum. Worked out by enumerating sums (not as the service reasons)."""
    hidden = [cell for cell in breakdown.cells if cell.hidden]
    left = breakdown.total - sum(cell.count for cell in breakdown.cells if not cell.hidden)

    def values(cell):
        top = minimum - 1 if cell.hidden == SMALL else left
        return range(1 if cell.hidden == SMALL else minimum, top + 1)

    found = {}
    for cell in hidden:
        if cell.hidden != SMALL:
            continue
        sums = {0}
        for other in hidden:
            if other is not cell:
                sums = {s + v for s in sums for v in values(other) if s + v <= left}
        found[cell.key] = {v for v in values(cell) if left - v in sums}
    return found


def recoverable(breakdown: Breakdown, minimum: int) -> list[str]:
    """The hidden small groups a reader can pin to one value."""
    return [key for key, options in possible_values(breakdown, minimum).items()
            if len(options) < 2]


@pytest.mark.parametrize(("counts", "hidden", "withheld"), [
    # nothing small: all shown, zeros too
    ([("a", 40), ("b", 10), ("c", 0)], {}, False),
    # one small group: the next smallest is held back with it
    ([("a", 500), ("b", 3), ("c", 0)], {"a": PROTECTED, "b": SMALL}, False),
    ([("a", 300), ("b", 40), ("c", 12), ("d", 4)], {"c": PROTECTED, "d": SMALL}, False),
    # two small groups that hide each other: nothing more is needed
    ([("a", 300), ("b", 3), ("c", 4)], {"b": SMALL, "c": SMALL}, False),
    # 1 + 1 = 2 tells both: a third is held back
    ([("a", 50), ("b", 1), ("c", 1)], {"a": PROTECTED, "b": SMALL, "c": SMALL}, False),
    # 1 beside a held-back 10 would read as 1: another is held back
    ([("a", 1), ("b", 10), ("c", 50)], {"a": SMALL, "b": PROTECTED, "c": PROTECTED}, False),
    # 9 + 9 = 18 tells both, and nothing is left to hold back: the breakdown is withheld
    ([("a", 9), ("b", 9)], {"a": SMALL, "b": SMALL}, True),
])
def test_small_groups_are_hidden_with_another(counts, hidden, withheld):
    breakdown = protect(counts, 10)
    assert {cell.key: cell.hidden for cell in breakdown.cells if cell.hidden} == hidden
    assert breakdown.withheld is withheld
    assert breakdown.total == sum(count for _, count in counts)
    if not withheld:
        assert recoverable(breakdown, 10) == []


def test_the_reader_would_recover_a_lone_hidden_group():
    # the check above is not empty: one small group hidden alone is worked out at once
    alone = Breakdown([statistics.Cell("a", 500), statistics.Cell("b", 3, SMALL)], 503)
    assert recoverable(alone, 10) == ["b"]
    pair = Breakdown([statistics.Cell("a", 50), statistics.Cell("b", 1, SMALL),
                      statistics.Cell("c", 1, SMALL)], 52)
    assert recoverable(pair, 10) == ["b", "c"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=5), st.integers(2, 10))
def test_no_small_group_is_shown_or_recoverable(counts, minimum):
    breakdown = protect([(str(n), count) for n, count in enumerate(counts)], minimum)
    for cell in breakdown.cells:
        assert cell.hidden or not 0 < cell.count < minimum
        assert (cell.hidden == SMALL) == (0 < cell.count < minimum)
    if not breakdown.withheld:
        assert recoverable(breakdown, minimum) == []


def _figures(breakdown: Breakdown) -> dict[str, int | str]:
    return {cell.key: cell.hidden or cell.count for cell in breakdown.cells}


def test_figures_by_channel_day_area_and_language(app_ctx):
    city = factories.city(eligible_residents=400)
    scenario = factories.turnout_round(city.own, residents={
        ("15100", "fi"): 20, ("15110", "sv"): 12, ("15120", "fi"): 3}, codes=11, paper=2)
    stats = statistics.round_statistics(scenario.round, 10)
    assert stats.ballots == 48 and stats.eligible_residents == 400
    # paper (2) is small; the code ballots (11), the next smallest, are held back with it
    assert _figures(stats.by_channel) == {"online": 35, "code": PROTECTED, "paper": SMALL}
    assert [cell.count for cell in stats.by_day.cells] == [48]
    assert _figures(stats.by_area) == {"15100": 20, "15110": PROTECTED, "15120": SMALL}
    assert stats.by_area.total == 35
    assert _figures(stats.by_language) == {"fi": 23, "sv": 12}
    assert stats.share(35) == 35 / 400
    for breakdown in (stats.by_channel, stats.by_day, stats.by_area, stats.by_language):
        assert recoverable(breakdown, 10) == []


def test_the_area_is_where_the_resident_lived_when_they_voted(app_ctx):
    scenario = factories.turnout_round(residents={("15100", "fi"): 12, ("15110", "sv"): 12})
    moved = scenario.voters[0]
    moved.postal_code, moved.language = "15110", "en"
    db.session.flush()
    stats = statistics.round_statistics(scenario.round, 10)
    assert _figures(stats.by_area) == {"15100": 12, "15110": 12}
    assert _figures(stats.by_language) == {"fi": 12, "sv": 12}


def test_a_deleted_account_takes_its_area_and_language_along(app_ctx):
    # the privacy notice promises that the postal code and language go with the account
    scenario = factories.turnout_round(residents={("15100", "fi"): 12, ("15110", "sv"): 12})
    for person in scenario.voters[10:14]:
        accounts.delete_account(person)
    db.session.flush()
    stats = statistics.round_statistics(scenario.round, 10)
    assert stats.ballots == 24  # the participations still count
    # the four now unknown are a small group, another is held back with it
    assert _figures(stats.by_area) == {"15100": PROTECTED, "15110": 10, UNKNOWN: SMALL}
    assert _figures(stats.by_language) == {"fi": PROTECTED, "sv": 10, UNKNOWN: SMALL}
    kept = db.session.execute(select(Participation.postal_code, Participation.language).where(
        Participation.user_id.is_(None), Participation.channel == VoteChannel.ONLINE)).all()
    assert kept == [(None, None)] * 4


def test_area_and_language_are_withheld_when_the_signed_in_figure_is_hidden(app_ctx):
    scenario = factories.turnout_round(residents={("15100", "fi"): 3}, codes=20)
    stats = statistics.round_statistics(scenario.round, 10)
    assert _figures(stats.by_channel) == {"online": SMALL, "code": PROTECTED, "paper": 0}
    # three in 15100 would say that the signed-in voters were three
    assert stats.by_area.withheld and stats.by_language.withheld
    assert not stats.too_few


def test_a_round_with_fewer_voters_than_the_minimum_gets_no_breakdown(app_ctx):
    scenario = factories.turnout_round(residents={("15100", "fi"): 6}, codes=2)
    stats = statistics.round_statistics(scenario.round, 10)
    assert stats.too_few and stats.ballots == 8
    assert all(b.withheld for b in (stats.by_channel, stats.by_day, stats.by_area,
                                    stats.by_language))
    # a smaller minimum shows them (never under 2)
    assert not statistics.round_statistics(scenario.round, 5).too_few
    assert statistics.round_statistics(scenario.round, 0).minimum == 2


def test_setting_the_eligible_residents_is_audited_and_checked(app_ctx):
    city = factories.city()
    statistics.set_eligible_residents(city.admin, city.own, 12_500)
    statistics.set_eligible_residents(city.admin, city.own, None)
    assert city.own.eligible_residents is None
    events = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "table.eligible_residents_set")).scalars().all()
    assert [e.details for e in events] == [{"from": None, "to": 12_500},
                                          {"from": 12_500, "to": None}]
    assert {e.actor_id for e in events} == {city.admin.id}
    for wrong in (0, -5, statistics.MOST_ELIGIBLE + 1):
        with pytest.raises(ValueError):
            statistics.set_eligible_residents(city.admin, city.own, wrong)


def test_a_published_round_gives_its_publications_figures(app_ctx):
    scenario = factories.published_round(ballots=12)
    stats = statistics.round_statistics(scenario.round, 10)
    assert _figures(stats.by_channel) == {"online": 12, "code": 0, "paper": 0}
    assert _figures(stats.by_area) == {"15100": 12}
    assert _figures(stats.by_language) == {"en": 12}


def test_shares_by_postal_code_where_their_residents_are_recorded(app_ctx):
    city = factories.city()
    scenario = factories.turnout_round(city.own, residents={
        ("15100", "fi"): 20, ("15110", "sv"): 12, ("15120", "fi"): 3}, codes=11, paper=2)
    statistics.set_eligible_residents(city.admin, city.own, 900,
                                      {"15100": 400, "15110": 300, "15120": None})
    stats = statistics.round_statistics(scenario.round, 10)
    assert stats.eligible_by_area == {"15100": 400, "15110": 300}
    assert stats.share(20, "15100") == 20 / 400
    assert stats.share(20, "15120") is None
    assert stats.share(35) == 35 / 900
    event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "table.eligible_residents_set")).scalar_one()
    assert event.details == {"from": None, "to": 900,
                             "by_postal_code": {"15100": [None, 400], "15110": [None, 300]}}
    with pytest.raises(ValueError):
        statistics.set_eligible_residents(city.admin, city.own, 900, {"00100": 5})
