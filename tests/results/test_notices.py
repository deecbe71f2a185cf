"""The notices of a publication: publishing stores that they are due and hands one job to
the queue after its commit; the job writes them in batches, each batch in one transaction
with its mark, so running it again, twice at once, or after it died tells everyone once."""

import threading
from collections import Counter

import pytest
from sqlalchemy import delete, func, select, update

from pb_vote import create_app, jobs, tasks
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import OutgoingMail, Participation, Publication
from pb_vote.models.mail import ResultsMailing
from pb_vote.services import notices
from pb_vote.services.accounts import find_user_by_email
from tests import factories, pages
from tests.conftest import base_test_config
from tests.queries import statements
from tests.workers import start_worker, wait_until

SUBJECT = "Results of"


@pytest.fixture
def handed(app, monkeypatch):
    """The queue's results job, recorded and not run: the ids it was handed."""
    ids: list[int] = []
    monkeypatch.setitem(app.extensions[tasks.EXTENSION]["tasks"], "mail_results", ids.append)
    return ids


@pytest.fixture
def kept(app):
    """Mail stays in the outbox table once queued, to be counted there."""
    app.config["MAIL_DELIVERY"] = "queue"


def notices_to(app) -> Counter:
    with app.app_context():
        return Counter(db.session.execute(
            select(OutgoingMail.recipient).where(OutgoingMail.subject.startswith(SUBJECT))
        ).scalars())


def subscribe(app, how_many: int) -> None:
    """Have the first ``how_many`` voters (by id) ask for the results by mail."""
    with app.app_context():
        ids = db.session.execute(select(Participation.id).order_by(Participation.user_id)
                                 .limit(how_many)).scalars().all()
        db.session.execute(update(Participation).where(Participation.id.in_(ids))
                           .values(notify_results=True))
        db.session.commit()


def expected(app) -> set[str]:
    """The round's proposal author and the voters who asked."""
    with app.app_context():
        voters = db.session.execute(
            select(func.count()).select_from(Participation)
            .where(Participation.notify_results.is_(True))).scalar()
    return {"author@example.org"} | {f"voter{n}@example.org" for n in range(voters)}


def test_publishing_hands_one_job_and_costs_the_same_for_many_subscribers(
        app, client, auth, handed, kept):
    """The request writes no notice: its queries do not grow with the subscribers, and
    after its commit it hands the queue one job; the job's queries grow with the batches
    only."""
    scenario = factories.saved(app, factories.published_round, ballots=60, notify=2)
    auth.staff("coordinator@example.org")
    queries, job_queries = [], []
    for subscribers, reason in ((2, "First correction"), (60, "Second correction")):
        subscribe(app, subscribers)
        count_page = pages.ask_for_count(client, scenario.round_id)
        data = {"action": "correct", "correction-confirm": "y", "correction-reason": reason,
                "correction-count": str(pages.shown_count(count_page.text))}
        with statements(app) as heard:
            response = client.post(f"/manage/rounds/{scenario.round_id}/results", data=data)
        assert response.status_code == 303
        queries.append(len(heard))
        with app.app_context():
            publication_id = db.session.execute(
                select(func.max(Publication.id))).scalar_one()
        assert handed[-1] == publication_id  # handed after the commit: it exists
        assert notices_to(app) == Counter()  # nothing written in the request
        with app.app_context(), statements(app) as heard:
            assert jobs.mail_results(publication_id) == subscribers + 1
        job_queries.append(len(heard))
        with app.app_context():  # the next round of the test counts its own notices
            db.session.execute(delete(OutgoingMail))
            db.session.commit()
    assert len(handed) == 2
    assert queries[0] == queries[1], queries
    assert job_queries[0] == job_queries[1], job_queries  # one batch each


def test_the_job_tells_everyone_once_in_batches_even_when_run_again(app, app_ctx, kept,
                                                                    monkeypatch):
    monkeypatch.setattr(jobs, "NOTICES_PER_BATCH", 7)
    scenario = factories.published_round(ballots=30, notify=25)
    mailing = notices.plan_notices(scenario.publication)
    db.session.commit()
    publication_id = mailing.publication_id
    assert jobs.mail_results(publication_id) == 26
    assert jobs.mail_results(publication_id) == 0  # a retried or duplicated job
    told = notices_to(app)
    assert set(told) == expected(app) and set(told.values()) == {1}
    mailing = db.session.get(ResultsMailing, publication_id)
    assert mailing.notified == 26 and mailing.finished_at is not None
    assert notices.stalled_mailings() == []


def test_two_jobs_at_once_tell_everyone_once(app, kept, monkeypatch):
    monkeypatch.setattr(jobs, "NOTICES_PER_BATCH", 4)
    with app.app_context():
        scenario = factories.published_round(ballots=40, notify=40)
        publication_id = notices.plan_notices(scenario.publication).publication_id
        db.session.commit()
    start = threading.Barrier(3)
    told, errors = [], []

    def job():
        try:
            with app.app_context():
                start.wait()
                told.append(jobs.mail_results(publication_id))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(told) == 41
    counted = notices_to(app)
    assert set(counted) == expected(app) and set(counted.values()) == {1}


def test_a_job_that_died_mid_way_is_taken_up_by_the_sweep_where_it_stopped(
        app, app_ctx, kept, monkeypatch, frozen_clock):
    monkeypatch.setattr(jobs, "NOTICES_PER_BATCH", 5)
    scenario = factories.published_round(ballots=12, notify=12)
    publication_id = notices.plan_notices(scenario.publication).publication_id
    db.session.commit()
    written = jobs.results_published
    batches = []

    def dies_on_the_second_batch(round_, people):
        batches.append(len(people))
        if len(batches) == 2:
            raise RuntimeError("the worker was killed")
        written(round_, people)

    monkeypatch.setattr(jobs, "results_published", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        jobs.mail_results(publication_id)
    db.session.rollback()
    assert sum(notices_to(app).values()) == 5  # the first batch, with its mark
    assert notices.stalled_mailings() == []  # it moved just now
    monkeypatch.setattr(jobs, "results_published", written)
    frozen_clock.advance(seconds=notices.STALE_AFTER.total_seconds() + 1)
    assert notices.stalled_mailings() == [publication_id]
    tasks.sweep()  # what a worker runs every minute (the queue is immediate here)
    told = notices_to(app)
    assert set(told) == expected(app) and set(told.values()) == {1}
    assert sum(told.values()) == 13


def test_the_page_publishes_and_the_notices_are_delivered(app, client, auth, mailbox):
    """The whole way with the tests' immediate queue: the job runs after the commit and
    its commits hand the mail on, so it is delivered when the page answers."""
    round_id = factories.saved(app, factories.closed_round, ballots=12, notify=3).round_id
    with app.app_context():  # each is told in their own language
        for email, language in (("voter0@example.org", "sv"), ("voter1@example.org", "fi")):
            find_user_by_email(email).language = language
        db.session.commit()
    auth.staff("coordinator@example.org")
    assert pages.count_and_publish(client, round_id).status_code == 303
    assert Counter(m.to for m in mailbox) == Counter(expected(app))
    subjects = {m.to: m.subject for m in mailbox}
    assert subjects["voter0@example.org"].startswith("Resultaten för")
    assert subjects["voter1@example.org"].startswith("Kierroksen")
    assert subjects["voter2@example.org"].startswith("Results of")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(OutgoingMail)).scalar() == 0
        mailing = db.session.execute(select(ResultsMailing)).scalar_one()
        assert mailing.notified == 4 and mailing.finished_at is not None


def test_a_real_worker_writes_and_sends_the_notices_after_the_publication(database_url,
                                                                          tmp_path):
    queue_file = tmp_path / "tasks.sqlite"
    app = create_app({**base_test_config(database_url), "TASK_QUEUE": f"sqlite:///{queue_file}"})
    round_id = factories.saved(app, factories.closed_round, ballots=12, notify=3).round_id
    worker = start_worker(database_url, queue_file, periodic=False)
    try:
        client = app.test_client()
        client.post("/staff/sign-in", data={"email": "coordinator@example.org",
                                            "password": factories.STAFF_PASSWORD})
        pages.ask_for_count(client, round_id)  # the worker counts

        def shown_count():
            return pages.shown_count(client.get(f"/manage/rounds/{round_id}/results").text)

        assert wait_until(lambda: shown_count() is not None, seconds=30)
        count_id = shown_count()
        published = client.post(f"/manage/rounds/{round_id}/results", data={
            "action": "publish", "publish-confirm": "y", "publish-count": str(count_id)})
        assert published.status_code == 303

        def all_sent() -> bool:
            with app.app_context():
                mailing = db.session.execute(select(ResultsMailing)).scalar_one()
                left = db.session.execute(select(func.count()).select_from(OutgoingMail))
                return mailing.finished_at is not None and left.scalar() == 0

        assert wait_until(all_sent, seconds=30)  # written, then sent, by the worker
        assert outbox(app) == []  # not by the web process
        with app.app_context():
            assert db.session.execute(select(ResultsMailing.notified)).scalar_one() == 4
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
