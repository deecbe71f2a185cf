"""Coordinators set up rounds and move phases through the pages."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, BallotKind, Round, RoundPhase, TallyRule
from tests import factories

HELSINKI = ZoneInfo("Europe/Helsinki")


@pytest.fixture
def tables(app):
    """factories.city(): Keskusta with its coordinator and member, Pohjoinen, an admin."""
    town = factories.saved(app, factories.city)
    return {"own": town.own_id, "other": town.other_id}


def _local(days: int, hour: int = 12) -> str:
    moment = (factories_now() + timedelta(days=days)).astimezone(HELSINKI)
    return moment.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


def factories_now():
    from pb_vote import clock

    return clock.utcnow()


def round_form(**overrides) -> dict:
    data = {
        "title": "Keskusta 2027",
        "description": "Ideas for the centre.",
        "budget": "120 000",
        "time_zone": "Europe/Helsinki",
        "proposals_open_at": _local(1),
        "proposals_close_at": _local(31),
        "voting_open_at": _local(45),
        "voting_close_at": _local(59),
        "categories": "Parks\nSports\n\nParks\n",
        "voter_eligibility": "both",
        "ballot_kind": "approval",
        "approval_min": "1",
        "approval_max": "3",
        "tally_rule": "mes",
    }
    data.update(overrides)
    return data


def test_coordinator_creates_a_round_with_local_times_and_whole_euros(app, client, auth, tables):
    auth.staff("coordinator@example.org")
    form = round_form()
    response = client.post("/manage/tables/keskusta/rounds/new", data=form)
    assert response.status_code == 303, response.text
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        assert round_.phase is RoundPhase.DRAFT
        assert round_.budget_cents == 12_000_000
        assert round_.categories == ["Parks", "Sports"]
        assert round_.ballot_kind is BallotKind.APPROVAL
        assert (round_.approval_min, round_.approval_max) == (1, 3)
        assert round_.tally_rule is TallyRule.MES
        local_open = round_.proposals_open_at.astimezone(HELSINKI)
        assert local_open.strftime("%Y-%m-%dT%H:%M") == form["proposals_open_at"]
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert event.action == "round.created" and event.actor_role == "coordinator"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"budget": "-5"}, "Write an amount in euros"),
        ({"budget": "1000,50"}, "Write whole euros, without cents."),
        ({"budget": "lots"}, "Write an amount in euros"),
        ({"title": ""}, "Give the round a title."),
        ({"proposals_open_at": _local(-3)}, "This time is already past."),
        ({"proposals_close_at": _local(0, 8), "proposals_open_at": _local(0, 9)},
         "The window must end after it starts."),
        ({"voting_open_at": _local(20)}, "Voting can start only after the proposal window ends."),
        ({"voting_close_at": _local(44)}, "The window must end after it starts."),
        ({"approval_min": "4", "approval_max": "3"},
         "The minimum must be at least 1 and not more than the maximum."),
        ({"ballot_kind": "points", "points_total": "10", "points_max_per_proposal": "11"},
         "Points per proposal must be between 1 and the total."),
        ({"ballot_kind": "points", "points_total": ""}, "Give the total number of points."),
        ({"ballot_kind": "knapsack", "knapsack_min_spend_percent": "120"},
         "A percentage is between 0 and 100."),
        ({"voting_open_at": "tomorrow"}, "Give a date and time."),
    ],
)
def test_bad_settings_are_explained_and_nothing_is_saved(app, client, auth, tables, overrides,
                                                          message):
    auth.staff("coordinator@example.org")
    response = client.post("/manage/tables/keskusta/rounds/new", data=round_form(**overrides))
    assert response.status_code == 200
    assert message in response.text
    assert "Ideas for the centre." in response.text  # the description typed is kept
    with app.app_context():
        assert db.session.execute(select(Round)).first() is None


@pytest.mark.parametrize(
    ("who", "own", "other"),
    [("coordinator", 200, 403), ("member", 403, 403), ("admin", 200, 200),
     ("resident", 403, 403)],
)
def test_only_coordinators_and_admins_set_up_rounds(client, auth, tables, who, own, other):
    if who == "resident":
        auth.resident("resident@example.org")
    else:
        auth.staff(f"{who}@example.org")
    assert client.get("/manage/tables/keskusta/rounds/new").status_code == own
    assert client.get("/manage/tables/pohjoinen/rounds/new").status_code == other


def test_settings_are_editable_until_voting_and_frozen_after(app, client, auth, tables):
    with app.app_context():
        table = db.session.get(factories.Table, tables["own"])
        review = factories.round_(table, RoundPhase.REVIEW)
        voting = factories.round_(table, RoundPhase.VOTING, title="Voting now")
        db.session.commit()
        review_id, voting_id = review.id, voting.id
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{review_id}/edit")
    assert page.status_code == 200 and 'name="budget"' in page.text
    # Past dates of an existing round may stay as they are.
    form = _form_values(page.text)
    form["title"] = "Renamed in review"
    saved = client.post(f"/manage/rounds/{review_id}/edit", data=form)
    assert saved.status_code == 303, saved.text
    frozen = client.get(f"/manage/rounds/{voting_id}/edit")
    assert "settings are frozen" in frozen.text
    refused = client.post(f"/manage/rounds/{voting_id}/edit", data=round_form(budget="1"))
    assert "settings are frozen" in refused.text
    with app.app_context():
        assert db.session.get(Round, voting_id).budget_cents == 10_000_000
        assert db.session.get(Round, review_id).title == "Renamed in review"


def _form_values(html: str) -> dict:
    """The values a browser would send back from the round form (enough for these tests)."""
    import re

    values = {}
    for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html):
        values.setdefault(name, value)
    for name, value in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="([a-z_]+)"', html):
        values.setdefault(value, name)
    for name in re.findall(r'<input[^>]*checked[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', html):
        values[name[0]] = name[1]
    for name, value in re.findall(
        r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"[^>]*checked', html
    ):
        values[name] = value
    area = re.search(r'<textarea[^>]*name="categories"[^>]*>\n?([^<]*)</textarea>', html)
    values["categories"] = area.group(1) if area else ""
    description = re.search(r'<textarea[^>]*name="description"[^>]*>\n?([^<]*)</textarea>', html)
    values["description"] = description.group(1) if description else ""
    values["time_zone"] = "Europe/Helsinki"
    values.pop("csrf_token", None)
    return values


def test_coordinator_moves_a_phase_by_hand_with_confirmation(app, client, auth, tables):
    with app.app_context():
        table = db.session.get(factories.Table, tables["own"])
        round_ = factories.round_(table, RoundPhase.DRAFT)
        db.session.commit()
        round_id = round_.id
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{round_id}/phase")
    assert 'value="proposals"' in page.text and 'value="cancelled"' in page.text
    assert 'value="published"' not in page.text
    unconfirmed = client.post(f"/manage/rounds/{round_id}/phase", data={"target": "proposals"})
    assert "Tick the box to confirm." in unconfirmed.text
    moved = client.post(f"/manage/rounds/{round_id}/phase",
                        data={"target": "proposals", "confirm": "y"})
    assert moved.status_code == 303
    skipping = client.post(f"/manage/rounds/{round_id}/phase",
                           data={"target": "closed", "confirm": "y"})
    assert skipping.status_code == 200  # not offered: the form refuses the choice
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.PROPOSALS


def test_opening_voting_with_an_empty_ballot_is_explained(app, client, auth, tables):
    with app.app_context():
        table = db.session.get(factories.Table, tables["own"])
        round_ = factories.round_(table, RoundPhase.REVIEW)
        db.session.commit()
        round_id = round_.id
    auth.staff("coordinator@example.org")
    response = client.post(f"/manage/rounds/{round_id}/phase",
                           data={"target": "voting", "confirm": "y"})
    assert "no proposal has been accepted" in response.text
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.REVIEW


def test_reading_a_round_moves_it_by_the_schedule(app, client, tables, frozen_clock):
    with app.app_context():
        table = db.session.get(factories.Table, tables["own"])
        round_ = factories.round_(table, RoundPhase.PROPOSALS)
        close = round_.proposals_close_at
        db.session.commit()
        round_id = round_.id
    frozen_clock.set(close - timedelta(seconds=1))
    assert "Collecting ideas" in client.get(f"/rounds/{round_id}").text
    frozen_clock.set(close)
    assert "Ideas under review" in client.get(f"/rounds/{round_id}").text
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.REVIEW
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "round.phase_changed")
        ).scalar_one()
        assert event.actor_role == "system" and event.details["reason"] == "schedule"


def test_advance_phases_command(app, runner, tables, frozen_clock):
    with app.app_context():
        voting = factories.voting_round(db.session.get(factories.Table, tables["own"]),
                                        costs=(500_000, 500_000))
        db.session.commit()
        round_id, close = voting.round_id, voting.round.voting_close_at
    frozen_clock.set(close + timedelta(minutes=1))
    result = runner.invoke(args=["advance-phases"])
    assert result.exit_code == 0 and f"round {round_id}: closed" in result.output
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.CLOSED
