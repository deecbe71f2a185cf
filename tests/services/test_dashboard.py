"""The staff dashboard's figures: which tables and rounds a person sees, the schedule's next
date, what waits for moderation, and the turnout read from the counts the database keeps."""

from datetime import timedelta

import pytest
from sqlalchemy import delete

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Participation, RoundPhase, VoteChannel
from pb_vote.services import dashboard
from tests import factories


def by_round(summaries):
    return {item.round.id: item for summary in summaries for item in summary.rounds}


def test_a_coordinator_sees_their_own_table_and_an_admin_every_table(app_ctx):
    scene = factories.dashboard_city()
    now = clock.utcnow()
    own = dashboard.summarize(scene.city.coordinator,
                              dashboard.staff_tables(scene.city.coordinator), now)
    assert [s.table.slug for s in own] == ["keskusta"]
    assert own[0].role is MembershipRole.COORDINATOR
    member = dashboard.staff_tables(scene.city.member)
    assert [t.slug for t in member] == ["keskusta"]
    every = dashboard.summarize(scene.city.admin, dashboard.staff_tables(scene.city.admin), now)
    assert [s.table.slug for s in every] == ["keskusta", "pohjoinen"]
    assert every[0].role is None  # a city admin holds no role at the table
    assert dashboard.staff_tables(scene.city.resident) == []


def test_current_rounds_are_shown_newest_first_and_old_ones_counted(app_ctx):
    scene = factories.dashboard_city()
    [keskusta] = dashboard.summarize(scene.city.coordinator,
                                     dashboard.staff_tables(scene.city.coordinator),
                                     clock.utcnow())
    assert [item.round.id for item in keskusta.rounds] == [
        scene.draft_id, scene.collecting_id, scene.voting_id]
    assert keskusta.earlier == 1  # published 400 days ago: on the table's page


def test_a_recently_published_round_stays_on_the_dashboard(app_ctx):
    scene = factories.published_round(ballots=3)
    [summary] = dashboard.summarize(scene.coordinator,
                                    dashboard.staff_tables(scene.coordinator), clock.utcnow())
    [item] = summary.rounds
    assert item.round.phase is RoundPhase.PUBLISHED and item.next_at is None
    assert item.total_ballots == 3 and summary.earlier == 0
    later = clock.utcnow() + timedelta(days=dashboard.RECENT_DAYS + 1)
    [summary] = dashboard.summarize(scene.coordinator,
                                    dashboard.staff_tables(scene.coordinator), later)
    assert summary.rounds == [] and summary.earlier == 1


def test_each_phase_names_the_next_date_of_its_schedule(app_ctx):
    scene = factories.dashboard_city()
    items = by_round(dashboard.summarize(scene.city.admin,
                                         dashboard.staff_tables(scene.city.admin),
                                         clock.utcnow()))
    expected = {
        scene.draft_id: ("ideas_open", "proposals_open_at"),
        scene.collecting_id: ("review_starts", "proposals_close_at"),
        scene.review_id: ("voting_opens", "voting_open_at"),
        scene.voting_id: ("voting_closes", "voting_close_at"),
    }
    for round_id, (event, column) in expected.items():
        item = items[round_id]
        assert (item.next_event, item.next_at) == (event, getattr(item.round, column))


def test_moderation_counts_what_waits_and_warns_of_an_empty_ballot(app_ctx):
    scene = factories.dashboard_city()
    summaries = dashboard.summarize(scene.city.admin,
                                    dashboard.staff_tables(scene.city.admin), clock.utcnow())
    items = by_round(summaries)
    collecting, review = items[scene.collecting_id], items[scene.review_id]
    assert (collecting.waiting, collecting.changes_requested, collecting.accepted) == (3, 1, 1)
    assert not collecting.empty_ballot
    assert (review.waiting, review.accepted) == (2, 0) and review.empty_ballot
    assert [s.waiting for s in summaries] == [3, 2]
    # Voting has opened: what was left unreviewed no longer waits for a moderator.
    assert items[scene.voting_id].waiting == 0


@pytest.mark.parametrize(("eligible", "share"), [(None, None), (300, 6 / 300)])
def test_turnout_by_channel_and_as_a_share_of_eligible_residents(app_ctx, eligible, share):
    scene = factories.dashboard_city(eligible_residents=eligible)
    items = by_round(dashboard.summarize(scene.city.coordinator,
                                         dashboard.staff_tables(scene.city.coordinator),
                                         clock.utcnow()))
    voting = items[scene.voting_id]
    assert voting.shows_turnout
    assert voting.ballots == {VoteChannel.ONLINE: 3, VoteChannel.CODE: 2,
                              VoteChannel.PAPER: 1, VoteChannel.IMPORT: 0}
    assert voting.total_ballots == 6 and voting.eligible_share == share
    assert not items[scene.collecting_id].shows_turnout


def test_turnout_follows_the_kept_counts_when_a_ballot_goes(app_ctx):
    """The figures are the database's kept counts: a participation removed (a voided paper
    entry) is taken off them by the database's triggers."""
    scene = factories.dashboard_city()
    db.session.execute(delete(Participation).where(
        Participation.round_id == scene.voting_id,
        Participation.channel == VoteChannel.PAPER))
    items = by_round(dashboard.summarize(scene.city.coordinator,
                                         dashboard.staff_tables(scene.city.coordinator),
                                         clock.utcnow()))
    assert items[scene.voting_id].ballots[VoteChannel.PAPER] == 0
    assert items[scene.voting_id].total_ballots == 5
