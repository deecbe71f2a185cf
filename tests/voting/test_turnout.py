"""Turnout by channel and by local day, in the round's time zone, from the counts the
database keeps (triggers on participations, migration 0014)."""

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from sqlalchemy import delete, func, select, update

from pb_vote.extensions import db
from pb_vote.models import Participation, RoundPhase, TurnoutCount, VoteChannel
from pb_vote.services import voting
from tests import factories
from tests.queries import statements, touching

# Around local midnights in Helsinki, and the night summer time began (29 March 2026, 03:00).
VOTES = [
    (datetime(2026, 3, 15, 21, 30, tzinfo=UTC), VoteChannel.ONLINE),  # 23:30 on the 15th
    (datetime(2026, 3, 15, 22, 0, tzinfo=UTC), VoteChannel.CODE),  # midnight: the 16th
    (datetime(2026, 3, 15, 22, 30, tzinfo=UTC), VoteChannel.PAPER),
    (datetime(2026, 3, 28, 21, 59, 59, tzinfo=UTC), VoteChannel.ONLINE),  # 23:59:59, 28th
    (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), VoteChannel.ONLINE),  # 00:00 on the 29th
    (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), VoteChannel.CODE),  # 02:30, before the change
    (datetime(2026, 3, 29, 20, 59, tzinfo=UTC), VoteChannel.ONLINE),  # 23:59 summer time
    (datetime(2026, 3, 29, 21, 0, tzinfo=UTC), VoteChannel.PAPER),  # 00:00 on the 30th
]


@pytest.mark.parametrize("zone", ["Europe/Helsinki", "America/St_Johns", "UTC"])
def test_turnout_counts_each_local_day_and_channel(app_ctx, zone):
    round_ = factories.round_(factories.table(), RoundPhase.CLOSED, time_zone=zone)
    for voted_at, channel in VOTES:
        db.session.add(Participation(round_id=round_.id, channel=channel,
                                     first_voted_at=voted_at, last_voted_at=voted_at))
    db.session.flush()
    found = voting.turnout(round_)
    days = Counter(voted_at.astimezone(ZoneInfo(zone)).date() for voted_at, _ in VOTES)
    assert found["by_day"] == sorted(days.items())
    assert found["by_channel"] == {**dict.fromkeys(VoteChannel, 0),
                                   **Counter(channel for _, channel in VOTES)}
    assert found["total"] == len(VOTES)


def test_a_round_without_votes_has_no_turnout(app_ctx):
    round_ = factories.round_(factories.table(), RoundPhase.VOTING)
    assert voting.turnout(round_) == {"total": 0, "by_channel": dict.fromkeys(VoteChannel, 0),
                                      "by_day": []}


def _counted_from_participations(round_id: int) -> dict:
    return dict(db.session.execute(
        select(Participation.channel, func.count()).where(Participation.round_id == round_id)
        .group_by(Participation.channel)).all())


def test_the_counts_follow_every_change_of_the_participations(app_ctx):
    """A new participation adds one; a code vote overridden on paper moves to paper; a
    voided paper entry takes one away; a changed vote (same channel) or a deleted account
    changes nothing."""
    round_ = factories.round_(factories.table(), RoundPhase.VOTING)
    other = factories.round_(factories.table("toinen", "Toinen", postal_codes=("15900",)),
                             RoundPhase.VOTING)
    start = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    rows = [Participation(round_id=round_.id, channel=channel, first_voted_at=start,
                          last_voted_at=start)
            for channel in [VoteChannel.ONLINE] * 3 + [VoteChannel.CODE] * 4]
    rows.append(Participation(round_id=other.id, channel=VoteChannel.ONLINE,
                              first_voted_at=start, last_voted_at=start))
    db.session.add_all(rows)
    db.session.flush()
    overridden, voided, changed = rows[3], rows[4], rows[0]
    db.session.execute(update(Participation).where(Participation.id == overridden.id)
                       .values(channel=VoteChannel.PAPER))
    db.session.execute(update(Participation).where(Participation.id == changed.id)
                       .values(last_voted_at=datetime(2026, 3, 16, tzinfo=UTC)))
    db.session.execute(update(Participation).where(Participation.id == voided.id)
                       .values(channel=VoteChannel.PAPER))
    db.session.execute(delete(Participation).where(Participation.id == voided.id))
    db.session.expire_all()
    found = voting.turnout(round_)
    assert found["by_channel"] == {**dict.fromkeys(VoteChannel, 0),
                                   **_counted_from_participations(round_.id)}
    assert found["by_channel"][VoteChannel.PAPER] == 1
    assert found["total"] == 6
    assert voting.turnout(other)["total"] == 1


def test_the_turnout_reads_the_counts_not_the_participations(app_ctx):
    """However many participations, the turnout is read from the counts: the page never
    touches the participations table."""
    round_ = factories.round_(factories.table(), RoundPhase.VOTING)
    for voted_at, channel in VOTES:
        db.session.add(Participation(round_id=round_.id, channel=channel,
                                     first_voted_at=voted_at, last_voted_at=voted_at))
    db.session.flush()
    assert db.session.execute(select(func.sum(TurnoutCount.voters)).where(
        TurnoutCount.round_id == round_.id)).scalar_one() == len(VOTES)
    with statements(current_app._get_current_object()) as heard:
        assert voting.turnout(round_)["total"] == len(VOTES)
    assert touching(heard, "participations") == []
    assert touching(heard, "turnout_counts")
