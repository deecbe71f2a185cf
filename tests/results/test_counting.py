"""Counting is a background job: the page asks, a worker counts and stores the outcome with
what it was computed from, and publishing publishes that stored count (never counting
again), refusing when the ballots or the exclusions changed since. A count is claimed by one
worker at a time, and one whose worker died is handed out again."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pb_vote import clock, create_app, jobs
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    Ballot,
    Count,
    CountStatus,
    Participation,
    Publication,
    Round,
    VoteChannel,
)
from pb_vote.services import counting
from pb_vote.services import results as results_service
from pb_vote.services.audit import verify_chain
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.imports import ImportRefused, import_election
from pb_vote.tally import parse_pabulib, read_pabulib
from tests import factories, pages
from tests.conftest import base_test_config
from tests.workers import start_worker


def closed(app, **options):
    return factories.saved(app, factories.closed_round, ballots=12, **options)


def count_row(app, count_id: int) -> Count:
    with app.app_context():
        count = db.session.get(Count, count_id)
        db.session.expunge(count)
        return count


def test_a_count_runs_as_a_job_and_publishing_uses_it(app, client, auth, monkeypatch):
    scenario = closed(app)
    auth.staff("coordinator@example.org")
    page = pages.ask_for_count(client, scenario.round_id)
    count = count_row(app, pages.shown_count(page.text))
    assert count.status is CountStatus.DONE and count.progress == 100
    assert count.ballot_count == 12 and len(count.digest) == 64 and count.attempts == 1
    assert count.result["selected"] and "ballots" in count.comparison

    def no_counting(*args, **kwargs):
        raise AssertionError("publishing counted again")

    monkeypatch.setattr(results_service, "tally", no_counting)
    monkeypatch.setattr(results_service, "preview", no_counting)
    published = client.post(f"/manage/rounds/{scenario.round_id}/results", data={
        "action": "publish", "publish-confirm": "y", "publish-count": str(count.id)})
    assert published.status_code == 303
    with app.app_context():
        publication = db.session.execute(select(Publication)).scalar_one()
        assert publication.result == count.result
        assert publication.ballots_file_id == count.ballots_file_id is not None
        assert count.ballots_pb is None  # the count refers to its file, holds no copy
        assert publication.ballot_count == 12


def test_publishing_refuses_when_ballots_changed_since_the_count(app, client, auth):
    scenario = closed(app)
    auth.staff("coordinator@example.org")
    count_id = pages.shown_count(pages.ask_for_count(client, scenario.round_id).text)
    with app.app_context():  # a paper entry voided after the count, say
        db.session.delete(db.session.execute(select(Ballot).limit(1)).scalar_one())
        db.session.commit()
    refused = client.post(f"/manage/rounds/{scenario.round_id}/results", data={
        "action": "publish", "publish-confirm": "y", "publish-count": str(count_id)})
    assert refused.status_code == 400
    assert "have changed since this count" in refused.text
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Publication)).scalar() == 0
    assert pages.count_and_publish(client, scenario.round_id).status_code == 303


def test_publishing_refuses_other_exclusions_or_an_older_count(app, app_ctx):
    scenario = factories.closed_round(ballots=12)
    keys = VoteKeys.from_config(app.config)
    first = counting.count_now(scenario.coordinator, scenario.round, keys)
    dropped = frozenset({int(first.result["selected"][0])})
    with pytest.raises(results_service.ResultsError) as refused:
        results_service.publish(scenario.coordinator, scenario.round, first.id,
                                excluded=dropped)
    assert refused.value.code == "count_outdated"
    counting.count_now(scenario.coordinator, scenario.round, keys, dropped)
    with pytest.raises(results_service.ResultsError) as refused:
        results_service.publish(scenario.coordinator, scenario.round, first.id)
    assert refused.value.code == "count_not_ready"


def test_one_worker_at_a_time_and_a_dead_workers_count_is_run_again(app, app_ctx,
                                                                      frozen_clock):
    scenario = factories.closed_round(ballots=12)
    count, new = counting.request_count(scenario.coordinator, scenario.round)
    db.session.commit()
    assert new and counting.request_count(scenario.coordinator, scenario.round) == (count, False)
    token = jobs.claim_count(count.id)
    assert token and jobs.claim_count(count.id) is None  # its worker is alive
    assert jobs.revive_stale() == []
    frozen_clock.advance(seconds=counting.STALE_AFTER.total_seconds() + 1)  # it died
    assert jobs.revive_stale() == [count.id]
    keys = VoteKeys.from_config(app.config)
    assert jobs.run_count(app, count.id, keys)
    db.session.expire_all()
    assert count.status is CountStatus.DONE and count.attempts == 2
    assert not jobs.run_count(app, count.id, keys)


def test_a_claim_is_seen_by_other_workers_and_the_service_leaves_the_commit_to_the_job(
        app, app_ctx):
    scenario = factories.closed_round(ballots=3)
    count, _ = counting.request_count(scenario.coordinator, scenario.round)
    db.session.commit()
    assert counting.claim(count.id)
    db.session.rollback()  # the service only flushed: nothing is held yet
    db.session.expire_all()
    assert count.status is CountStatus.QUEUED
    token = jobs.claim_count(count.id)
    with app.app_context():  # another worker's session sees the committed claim
        other = db.session.get(Count, count.id)
        assert other.status is CountStatus.RUNNING and other.claim == token
        assert jobs.claim_count(count.id) is None


def test_a_count_that_keeps_killing_its_worker_is_failed(app_ctx, frozen_clock):
    scenario = factories.closed_round(ballots=3)
    count, _ = counting.request_count(scenario.coordinator, scenario.round)
    db.session.commit()
    for _ in range(counting.MOST_ATTEMPTS):
        assert jobs.claim_count(count.id)
        frozen_clock.advance(seconds=counting.STALE_AFTER.total_seconds() + 1)
    assert jobs.revive_stale() == []
    db.session.expire_all()
    assert count.status is CountStatus.FAILED and count.error == "worker_lost"


def test_the_page_shows_progress_and_refreshes_itself(app, client, auth):
    scenario = closed(app)
    with app.app_context():
        count, _ = counting.request_count(None, db.session.get(Round, scenario.round_id))
        count.status, count.progress, count.heartbeat_at = (CountStatus.RUNNING, 40,
                                                            clock.utcnow())
        db.session.commit()
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}/results")
    assert page.status_code == 200 and page.headers["Refresh"] == "3"
    assert '<meta http-equiv="refresh" content="3">' in page.text
    assert '<progress max="100" value="40">' in page.text and "40 % done" in page.text
    assert "Publish the results" not in page.text and "<script" not in page.text.split(
        "</main>")[0].split("<main")[1]


def _wait_until_done(app, count_id: int, seconds: float = 30) -> Count:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        count = count_row(app, count_id)
        if count.status is CountStatus.DONE:
            return count
        time.sleep(0.2)
    raise AssertionError(f"count {count_id} is still {count.status}")


def test_a_real_worker_counts_and_a_restarted_one_takes_over_a_dead_ones_count(
        database_url, tmp_path):
    queue_file = tmp_path / "tasks.sqlite"
    app = create_app({**base_test_config(database_url), "TASK_QUEUE": f"sqlite:///{queue_file}"})
    scenario = factories.saved(app, factories.closed_round, ballots=12)
    with app.app_context():  # a count whose worker died mid-way, before any worker runs
        count, _ = counting.request_count(None, db.session.get(Round, scenario.round_id))
        count.status, count.attempts, count.claim = CountStatus.RUNNING, 1, "dead"
        count.heartbeat_at = clock.utcnow() - timedelta(minutes=5)
        db.session.commit()
        dead_id = count.id
    worker = start_worker(database_url, queue_file)
    try:
        revived = _wait_until_done(app, dead_id)  # the worker's start-up sweep found it
        assert revived.attempts == 2
        client = app.test_client()
        client.post("/staff/sign-in", data={"email": "coordinator@example.org",
                                            "password": factories.STAFF_PASSWORD})
        queued = client.post(f"/manage/rounds/{scenario.round_id}/results",
                             data={"action": "count"}, follow_redirects=True)
        assert "The count is waiting for a worker." in queued.text or (
            "ballots are being counted" in queued.text)
        with app.app_context():
            newest = counting.latest_count(db.session.get(Round, scenario.round_id)).id
        assert _wait_until_done(app, newest).result == revived.result
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


PABULIB = Path(os.environ.get("PB_VOTE_PABULIB_DIR") or
               Path(__file__).resolve().parents[3] / "shared" / "pabulib")
# Files whose META rule pb_vote's rounds implement exactly (greedy), with their outcome.
GREEDY_FILE = "Poland_Warszawa_2023_Mokotow.pb"


@pytest.mark.slow
def test_an_imported_election_publishes_the_files_own_outcome(app, runner, client, auth):
    source = PABULIB / GREEDY_FILE
    if not source.exists():
        pytest.skip(f"{source} is absent (set PB_VOTE_PABULIB_DIR to the Pabulib files)")
    factories.saved(app, factories.city)
    done = runner.invoke(args=["import-pabulib", str(source), "--table", "keskusta"])
    assert done.exit_code == 0, done.output
    round_id = int(done.output.split()[1].rstrip(":"))
    auth.staff("coordinator@example.org")
    assert pages.count_and_publish(client, round_id).status_code == 303
    election = read_pabulib(source)
    with app.app_context():
        ids = {p.id: p.title for p in db.session.get(Round, round_id).proposals}
        publication = db.session.execute(select(Publication)).scalar_one()
        channels = set(db.session.execute(select(Participation.channel)).scalars())
    official = {p.name for p in election.projects if p.fields.get("selected") == "1"}
    assert {ids[int(p)] for p in publication.result["selected"]} == official
    assert publication.ballot_count == sum(1 for b in election.ballots if b.projects)
    assert channels == {VoteChannel.IMPORT}


DECIMAL_FILE = """META
key;value
description;A decimal budget
num_projects;2
num_votes;2
budget;1000.50
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;name
1;600.25;Benches
2;400.2;Lights
VOTES
voter_id;vote
a;1,2
b;1
"""


@pytest.mark.parametrize("text, problem", [(DECIMAL_FILE, None),
                                           (DECIMAL_FILE.replace("400.2;", "400.205;"),
                                            "fraction of a cent")])
def test_an_imported_file_keeps_its_decimal_amounts_in_cents(app, runner, tmp_path, text,
                                                              problem):
    from pb_vote.models import Proposal, Round

    path = tmp_path / "decimal.pb"
    path.write_text(text, encoding="utf-8")
    with app.app_context():
        factories.table("keskusta")
        db.session.commit()
    result = runner.invoke(args=["import-pabulib", str(path), "--table", "keskusta"])
    with app.app_context():
        rounds = db.session.execute(select(Round)).scalars().all()
        if problem:
            assert result.exit_code != 0 and problem in result.output
            assert rounds == []  # nothing half-imported
            return
        assert result.exit_code == 0, result.output
        [round_] = rounds
        assert round_.budget_cents == 100_050
        costs = sorted(db.session.execute(select(Proposal.reviewed_cost_cents)).scalars())
        assert costs == [40_020, 60_025]


def test_an_import_moves_the_round_through_its_phases_on_the_audit_trail(app, runner,
                                                                         tmp_path):
    path = tmp_path / "decimal.pb"
    path.write_text(DECIMAL_FILE, encoding="utf-8")
    with app.app_context():
        factories.table("keskusta")
        db.session.commit()
    result = runner.invoke(args=["import-pabulib", str(path), "--table", "keskusta"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.object_type == "round",
                                     AuditEvent.object_id == str(round_.id))
            .order_by(AuditEvent.id)).scalars().all()
        assert [(e.action, e.actor_role) for e in events] == [
            ("round.imported", "system"), ("round.phase_changed", "system"),
            ("round.phase_changed", "system")]
        assert events[0].details == {"title": "decimal", "budget_cents": 100_050,
                                     "proposals": 2, "ballots": 2}
        assert [(e.details["from"], e.details["to"], e.details["reason"])
                for e in events[1:]] == [("review", "voting", "import"),
                                         ("voting", "closed", "import")]
        assert verify_chain().intact


def test_a_file_without_projects_is_not_imported(app, app_ctx):
    empty = parse_pabulib(DECIMAL_FILE.split("PROJECTS")[0].replace("num_projects;2",
                                                                    "num_projects;0")
                          + "PROJECTS\nproject_id;cost;name\nVOTES\nvoter_id;vote\n")
    table = factories.table("keskusta")
    with pytest.raises(ImportRefused) as refused:
        import_election(empty, table, VoteKeys.from_config(app.config), "Empty")
    assert refused.value.code == "no_projects"
    assert db.session.execute(select(func.count()).select_from(Round)).scalar() == 0


def test_a_queue_that_cannot_be_reached_keeps_the_count_for_the_sweep(app, client, auth,
                                                                      monkeypatch,
                                                                      frozen_clock):
    """Asking for a count while the task queue is down answers with the page, not a 500: the
    count is stored as queued, and the sweep hands it out once the queue answers."""
    scenario = closed(app)
    auth.staff("coordinator@example.org")

    def unreachable(count_id):
        raise ConnectionError("the task queue cannot be reached")

    monkeypatch.setitem(app.extensions["pb_vote_tasks"]["tasks"], "count", unreachable)
    page = pages.ask_for_count(client, scenario.round_id)
    assert page.status_code == 200
    with app.app_context():
        count_id, status = db.session.execute(select(Count.id, Count.status)).one()
        assert status is CountStatus.QUEUED
        assert jobs.revive_stale() == []  # not lost yet
        frozen_clock.advance(seconds=counting.STALE_AFTER.total_seconds() + 1)
        assert jobs.revive_stale() == [count_id]  # the sweep hands it out again


def test_the_import_command_says_why_a_file_is_refused(app, runner, tmp_path):
    with app.app_context():
        factories.table("keskusta")
        db.session.commit()
    empty = tmp_path / "empty.pb"
    empty.write_text("META\nkey;value\nbudget;100\nvote_type;approval\nnum_projects;0\n"
                     "PROJECTS\nproject_id;cost;name\nVOTES\nvoter_id;vote\n")
    result = runner.invoke(args=["import-pabulib", str(empty), "--table", "keskusta"])
    assert result.exit_code != 0
    assert "has no projects" in result.output and "fraction of a cent" not in result.output
