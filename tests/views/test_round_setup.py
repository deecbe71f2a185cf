"""Coordinators set up rounds and move phases through the pages."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    BallotKind,
    ProposalStatus,
    Round,
    RoundPhase,
    TallyRule,
    VoterEligibility,
)
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


def test_every_error_is_reported_in_one_pass(app, client, auth, tables):
    """Field errors (unreadable budget and date, missing title) and the round's own rules
    (dates in order, ballot limits) all come back at once, in the summary and at the fields."""
    auth.staff("coordinator@example.org")
    response = client.post("/manage/tables/keskusta/rounds/new", data=round_form(
        title="", budget="lots", voting_close_at="soon", proposals_open_at=_local(-3),
        voting_open_at=_local(20), approval_min="4", approval_max="3"))
    assert response.status_code == 200
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    for message in ("Give the round a title.", "Write an amount in euros",
                    "Give a date and time.", "This time is already past.",
                    "Voting can start only after the proposal window ends.",
                    "The minimum must be at least 1 and not more than the maximum."):
        assert message in summary, message
    assert summary.count("<li>") == 6
    with app.app_context():
        assert db.session.execute(select(Round)).first() is None


def test_changing_settings_reports_every_error_in_one_pass(app, client, auth, tables):
    round_id = _round(app, tables, RoundPhase.REVIEW)
    auth.staff("coordinator@example.org")
    form = _form_values(client.get(f"/manage/rounds/{round_id}/edit").text)
    form.update(title="", voting_close_at=form["voting_open_at"])
    response = client.post(f"/manage/rounds/{round_id}/edit", data=form)
    assert "Give the round a title." in response.text
    assert "The window must end after it starts." in response.text


def test_each_ballot_kind_has_its_own_named_fieldset(client, auth, tables):
    auth.staff("coordinator@example.org")
    page = client.get("/manage/tables/keskusta/rounds/new").text
    for kind, legend, names in (
        ("approval", "Only for an approval ballot", ("approval_min", "approval_max")),
        ("knapsack", "Only for a knapsack ballot", ("knapsack_min_spend_percent",)),
        ("points", "Only for a points ballot", ("points_total", "points_max_per_proposal")),
    ):
        group = re.search(rf'<fieldset class="ballot-settings" data-ballot-kind="{kind}">'
                          r'(.*?)</fieldset>', page, re.S).group(1)
        assert f'<legend class="h3">{legend}</legend>' in group
        assert all(f'name="{name}"' in group for name in names)
    assert "js/round_form.js" in page


def test_another_kinds_settings_do_not_hold_the_form_back(app, client, auth, tables):
    auth.staff("coordinator@example.org")
    response = client.post("/manage/tables/keskusta/rounds/new", data=round_form(
        ballot_kind="knapsack", approval_min="0", points_total="-4"))
    assert response.status_code == 303, response.text
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        assert round_.ballot_kind is BallotKind.KNAPSACK and round_.approval_min is None


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
    for tag in re.findall(r'<input[^>]*type="checkbox"[^>]*>', html):  # a browser sends
        if " checked" not in tag:                                         # only ticked ones
            values.pop(re.search(r'name="([a-z_]+)"', tag).group(1), None)
    area = re.search(r'<textarea[^>]*name="categories"[^>]*>\n?([^<]*)</textarea>', html)
    values["categories"] = area.group(1) if area else ""
    description = re.search(r'<textarea[^>]*name="description"[^>]*>\n?([^<]*)</textarea>', html)
    values["description"] = description.group(1) if description else ""
    values["time_zone"] = "Europe/Helsinki"
    values.pop("csrf_token", None)
    return values


def _round(app, tables, phase, **settings) -> int:
    """A round of Keskusta in ``phase`` (factories.round_), committed; returns its id."""
    with app.app_context():
        round_ = factories.round_(db.session.get(factories.Table, tables["own"]), phase,
                                  **settings)
        db.session.commit()
        return round_.id


def test_coordinator_moves_a_phase_by_hand_with_confirmation(app, client, auth, tables):
    round_id = _round(app, tables, RoundPhase.DRAFT)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{round_id}/phase")
    # One move on, and cancelling apart from it (its own form, a danger button).
    assert 'name="target" value="proposals"' in page.text
    assert 'value="cancelled"' not in page.text and 'value="published"' not in page.text
    assert "Open the round for ideas" in page.text
    assert f'action="/manage/rounds/{round_id}/cancel"' in page.text
    assert 'class="button danger">Cancel the round</button>' in page.text
    unconfirmed = client.post(f"/manage/rounds/{round_id}/phase", data={"target": "proposals"})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.text
    moved = client.post(f"/manage/rounds/{round_id}/phase",
                        data={"target": "proposals", "confirm": "y"})
    assert moved.status_code == 303
    assert "The round is now in the phase: Collecting ideas." in client.get(
        moved.headers["Location"]).text
    for target in ("closed", "cancelled", "proposals"):  # not offered now
        refused = client.post(f"/manage/rounds/{round_id}/phase",
                              data={"target": target, "confirm": "y"})
        assert refused.status_code == 400
        assert "Someone changed the round at the same moment." in refused.text
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.PROPOSALS


def test_a_draft_opened_by_hand_takes_ideas_at_once(app, client, auth, tables):
    round_id = _round(app, tables, RoundPhase.DRAFT)  # its window was to open in ten days
    auth.staff("coordinator@example.org")
    client.post(f"/manage/rounds/{round_id}/phase", data={"target": "proposals", "confirm": "y"})
    resident = app.test_client()
    type(auth)(app, resident).resident("resident@example.org")
    assert f"/rounds/{round_id}/propose" in resident.get(f"/rounds/{round_id}").text
    idea = resident.post(f"/rounds/{round_id}/propose", data={
        "title": "Benches by the lake", "description": "Two benches.",
        "estimated_cost": "4 000", "category": "Parks", "location": "", "link": ""})
    assert idea.status_code == 303, idea.text
    with app.app_context():
        assert [p.title for p in db.session.get(Round, round_id).proposals] == [
            "Benches by the lake"]


def test_a_draft_whose_idea_window_has_passed_is_not_opened(app, client, auth, tables):
    now = factories_now().replace(microsecond=0)
    round_id = _round(app, tables, RoundPhase.DRAFT, proposals_open_at=now - timedelta(days=9),
                      proposals_close_at=now - timedelta(days=2))
    auth.staff("coordinator@example.org")
    refused = client.post(f"/manage/rounds/{round_id}/phase",
                          data={"target": "proposals", "confirm": "y"})
    assert refused.status_code == 400
    assert "The idea window of this round has already ended by its schedule." in refused.text
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.DRAFT


def test_opening_voting_lists_the_ballot_and_asks_before_leaving_ideas_behind(
        app, client, auth, tables):
    with app.app_context():
        round_ = factories.round_(db.session.get(factories.Table, tables["own"]),
                                  RoundPhase.REVIEW)
        factories.proposal(round_, title="Lights on the path", cost_cents=300_000,
                           status=ProposalStatus.ACCEPTED)
        waiting = factories.proposal(round_, title="Skate ramp")
        factories.proposal(round_, title="Rejected idea", status=ProposalStatus.REJECTED)
        db.session.commit()
        round_id, waiting_id = round_.id, waiting.id
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{round_id}/phase").text
    assert "On the ballot: 1 proposal" in page and "Lights on the path" in page
    assert "Still waiting for review: 1 proposal" in page
    assert f'href="/manage/proposals/{waiting_id}"' in page and "Rejected idea" not in page
    assert 'name="leave_unreviewed"' in page
    asked = client.post(f"/manage/rounds/{round_id}/phase",
                        data={"target": "voting", "confirm": "y"})
    assert asked.status_code == 400
    assert "1 proposal is still waiting for review." in asked.text
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.REVIEW
    opened = client.post(f"/manage/rounds/{round_id}/phase",
                         data={"target": "voting", "confirm": "y", "leave_unreviewed": "y"})
    assert opened.status_code == 303
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.VOTING
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "round.phase_changed")).scalar_one()
        assert event.details["left_unreviewed"] == 1


def test_a_fully_reviewed_ballot_opens_without_the_extra_question(app, client, auth, tables):
    with app.app_context():
        round_ = factories.round_(db.session.get(factories.Table, tables["own"]),
                                  RoundPhase.REVIEW)
        factories.proposal(round_, status=ProposalStatus.ACCEPTED)
        db.session.commit()
        round_id = round_.id
    auth.staff("coordinator@example.org")
    assert 'name="leave_unreviewed"' not in client.get(f"/manage/rounds/{round_id}/phase").text
    opened = client.post(f"/manage/rounds/{round_id}/phase",
                         data={"target": "voting", "confirm": "y"})
    assert opened.status_code == 303


def test_opening_voting_with_an_empty_ballot_is_explained(app, client, auth, tables):
    round_id = _round(app, tables, RoundPhase.REVIEW)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{round_id}/phase").text
    assert "no proposal has been accepted" in page and "Open voting</button>" not in page
    response = client.post(f"/manage/rounds/{round_id}/phase",
                           data={"target": "voting", "confirm": "y"})
    assert "no proposal has been accepted" in response.text
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.REVIEW


def test_cancelling_asks_for_a_reason_and_a_confirmation(app, client, auth, tables):
    round_id = _round(app, tables, RoundPhase.PROPOSALS)
    auth.staff("coordinator@example.org")
    empty = client.post(f"/manage/rounds/{round_id}/cancel", data={})
    assert empty.status_code == 400
    assert "Write the reason." in empty.text and "Tick the box to confirm." in empty.text
    assert '<details class="danger-zone" open>' in empty.text  # the errors are in view
    cancelled = client.post(f"/manage/rounds/{round_id}/cancel", data={
        "cancel-reason": "The table was merged with Pohjoinen.", "cancel-confirm": "y"})
    assert cancelled.status_code == 303
    overview = client.get(cancelled.headers["Location"]).text
    assert "The round is cancelled." in overview and "next phase" not in overview
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.CANCELLED
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "round.phase_changed")).scalar_one()
        assert event.details == {"from": "proposals", "to": "cancelled",
                                 "reason": "The table was merged with Pohjoinen."}
    assert client.post(f"/manage/rounds/{round_id}/cancel", data={
        "cancel-reason": "Again", "cancel-confirm": "y"}).status_code == 400


def test_members_may_not_move_or_cancel_rounds(app, client, auth, tables):
    round_id = _round(app, tables, RoundPhase.PROPOSALS)
    auth.staff("member@example.org")
    assert client.get(f"/manage/rounds/{round_id}/phase").status_code == 403
    assert client.post(f"/manage/rounds/{round_id}/cancel", data={
        "cancel-reason": "x", "cancel-confirm": "y"}).status_code == 403


def _buttons(html: str) -> list[tuple[str, str]]:
    """The overview's action buttons as (class, text)."""
    actions = re.search(r'<ul class="actions">(.*?)</ul>', html, re.S)
    return re.findall(r'<a class="(button[^"]*)" href="[^"]*">([^<]+)</a>',
                      actions.group(1)) if actions else []


@pytest.mark.parametrize(
    ("phase", "expected"),
    [(RoundPhase.DRAFT, ["Open for ideas", "Settings"]),
     (RoundPhase.PROPOSALS, ["Moderate proposals", "Add a proposal", "Settings",
                             "Start the review"]),
     (RoundPhase.REVIEW, ["Moderate proposals", "Add a proposal", "Voting codes", "Settings",
                          "Open voting"]),
     (RoundPhase.VOTING, ["Turnout", "Enter paper ballots", "Voting codes", "Close voting"]),
     (RoundPhase.CLOSED, ["Results", "Turnout", "Statistics", "Change the phase"]),
     (RoundPhase.CANCELLED, [])],
)
def test_the_round_overview_offers_what_fits_the_phase(app, client, auth, tables, phase,
                                                       expected):
    round_id = _round(app, tables, phase, voter_eligibility=VoterEligibility.BOTH)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{round_id}").text
    buttons = _buttons(page)
    assert [text for _, text in buttons] == expected
    # One primary action, the phase's main task; the others are secondary.
    assert [kind for kind, _ in buttons] == (
        ["button"] + ["button secondary"] * (len(expected) - 1) if expected else [])
    assert ("This round is cancelled" in page) == (phase is RoundPhase.CANCELLED)


def test_the_overview_of_a_review_warns_of_ideas_the_schedule_would_leave_out(
        app, client, auth, tables):
    with app.app_context():
        round_ = factories.round_(db.session.get(factories.Table, tables["own"]),
                                  RoundPhase.REVIEW)
        factories.proposal(round_, status=ProposalStatus.ACCEPTED)
        db.session.commit()
        round_id = round_.id
    auth.staff("member@example.org")
    warning = "still waiting for review. Voting opens by the schedule on"
    assert warning not in client.get(f"/manage/rounds/{round_id}").text
    with app.app_context():
        factories.proposal(db.session.get(Round, round_id), title="Waiting",
                           status=ProposalStatus.CHANGES_REQUESTED)
        db.session.commit()
    page = client.get(f"/manage/rounds/{round_id}").text
    assert f"1 proposal is {warning}" in page


def test_a_member_sees_only_what_members_do(app, client, auth, tables):
    review = _round(app, tables, RoundPhase.REVIEW, voter_eligibility=VoterEligibility.BOTH)
    voting = _round(app, tables, RoundPhase.VOTING, voter_eligibility=VoterEligibility.BOTH,
                    title="Voting")
    auth.staff("member@example.org")
    assert [t for _, t in _buttons(client.get(f"/manage/rounds/{review}").text)] == [
        "Moderate proposals", "Add a proposal"]
    assert [t for _, t in _buttons(client.get(f"/manage/rounds/{voting}").text)] == [
        "Turnout", "Enter paper ballots"]


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
