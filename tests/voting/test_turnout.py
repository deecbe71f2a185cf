"""Turnout by channel and by local day, counted by the database in the round's time zone."""

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pb_vote.extensions import db
from pb_vote.models import Participation, RoundPhase, VoteChannel
from pb_vote.services import voting
from tests import factories

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
