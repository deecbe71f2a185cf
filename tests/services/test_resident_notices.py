"""The notices residents opt in to: who gets which (the opted-in residents of the round's
area, in their language), once per round, kind and person even when the job runs again or
twice at once, never after an unsubscribe, the reminder only to those who have not voted;
and the results notices on the same opt-in."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from pb_vote import clock, create_app, jobs, tasks
from pb_vote.extensions import db
from pb_vote.models import (
    NoticeKind,
    NoticePreference,
    OutgoingMail,
    Participation,
    ProposalStatus,
    RoundMailing,
    RoundPhase,
    SentNotice,
    User,
    VoteChannel,
    VoterEligibility,
)
from pb_vote.services import counting, notices, results, rounds, voting
from pb_vote.services.accounts import find_user_by_email
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.conftest import base_test_config
from tests.queries import statements
from tests.workers import start_worker, wait_until

BOTH = ["fi@example.org", "sv@example.org"]


@pytest.fixture
def kept(app):
    """Mail stays in the outbox table once queued, to be read there."""
    app.config["MAIL_DELIVERY"] = "queue"


@pytest.fixture
def handed(app, monkeypatch):
    """The queue's round-notices job, recorded and not run: what it was handed."""
    handed_out: list[tuple[int, str]] = []
    monkeypatch.setitem(app.extensions[tasks.EXTENSION]["tasks"], "mail_round_notices",
                        lambda round_id, kind: handed_out.append((round_id, kind)))
    return handed_out


def queued(subject_start: str = "") -> list[OutgoingMail]:
    """The mail waiting in the outbox table (whose subject starts so), by recipient."""
    return list(db.session.execute(
        select(OutgoingMail).where(OutgoingMail.subject.startswith(subject_start))
        .order_by(OutgoingMail.recipient)).scalars())


def recipients(subject_start: str = "") -> list[str]:
    return [mail.recipient for mail in queued(subject_start)]


def forget_mail() -> None:
    db.session.execute(delete(OutgoingMail))
    db.session.commit()


def vote(round_id: int, email: str, proposal_id: int) -> None:
    person = find_user_by_email(email)
    voting.cast_ballot(VoteKeys.from_config(current_app.config), round_id,
                       voting.Voter(user_id=person.id), VoteChannel.ONLINE, {proposal_id: 1})


def open_voting(town: factories.NoticeCity) -> None:
    rounds.transition(town.city.coordinator, town.round, RoundPhase.VOTING)
    db.session.commit()  # the job runs after the commit (the tests' queue is immediate)


@pytest.mark.parametrize("how", ["by hand", "by the clock"])
def test_voting_opening_tells_the_opted_in_residents_of_its_area_in_their_language(
        app, app_ctx, kept, frozen_clock, how):
    town = factories.notice_city()
    db.session.commit()
    if how == "by hand":
        open_voting(town)
    else:
        frozen_clock.advance(days=1, seconds=1)
        jobs.advance_phases()  # the phase clock's task, which commits
    assert db.session.get(type(town.round), town.round_id).phase is RoundPhase.VOTING
    sent = {mail.recipient: mail for mail in queued()}
    assert sorted(sent) == BOTH  # not quiet (no opt-in), north (another area), nowhere
    finnish, swedish = sent["fi@example.org"], sent["sv@example.org"]
    assert finnish.subject == "Äänestys on alkanut: Keskusta 2027"
    assert swedish.subject == "Röstningen har börjat: Keskusta 2027"
    assert "Peru nämä ilmoitukset yhdellä napsautuksella" in finnish.body
    assert "Avbeställ de här meddelandena med ett klick" in swedish.body
    for mail in sent.values():  # each its own link, in the body and for the header
        assert mail.unsubscribe_url and mail.unsubscribe_url in mail.body
        assert f"/rounds/{town.round_id}" in mail.body
    assert finnish.unsubscribe_url != swedish.unsubscribe_url
    assert jobs.mail_round_notices(town.round_id, "voting_open") == 0  # run again: nobody
    assert len(queued()) == 2
    assert db.session.execute(select(func.count()).select_from(SentNotice)).scalar() == 2


def test_a_round_opened_for_ideas_tells_those_who_asked_for_ideas_only(app, app_ctx, kept):
    town = factories.notice_city()
    notices.set_subscriptions(town.people["sv"], {NoticeKind.VOTING_OPEN})
    db.session.commit()
    rounds.transition(town.city.coordinator, town.draft, RoundPhase.PROPOSALS)
    db.session.commit()
    [mail] = queued()
    assert mail.recipient == "fi@example.org"
    assert mail.subject == "Ideoita kaivataan: Keskusta 2028"
    assert "ottaa vastaan asukkaiden ideoita" in mail.body


def test_nobody_is_told_after_unsubscribing_from_that_kind(app, app_ctx, kept):
    town = factories.notice_city()
    notices.unsubscribe(town.people["fi"], NoticeKind.VOTING_OPEN)
    db.session.commit()
    open_voting(town)
    assert recipients() == ["sv@example.org"]
    forget_mail()
    rounds.transition(town.city.coordinator, town.draft, RoundPhase.PROPOSALS)
    db.session.commit()
    assert recipients() == BOTH  # the other kinds stay as they were


def test_the_reminder_goes_once_to_the_subscribers_who_have_not_voted(app, app_ctx, kept,
                                                                      frozen_clock):
    town = factories.notice_city(voter_eligibility=VoterEligibility.BOTH)
    db.session.commit()
    open_voting(town)  # voting from now for ten days
    vote(town.round_id, "fi@example.org", town.round.proposals[0].id)
    vote(town.round_id, "quiet@example.org", town.round.proposals[0].id)
    db.session.commit()
    forget_mail()
    jobs.advance_phases()
    assert queued() == []  # ten days before the close: not yet
    frozen_clock.advance(days=8, hours=1)  # 47 hours before the close
    jobs.advance_phases()
    jobs.advance_phases()  # the clock's next minute: stored once, sent once
    [mail] = queued()
    assert mail.recipient == "sv@example.org"  # fi voted; quiet and north did not ask
    assert mail.subject == "Röstningen slutar snart: Keskusta 2027"
    assert "Benches" not in mail.body  # it says nothing of any ballot
    assert db.session.execute(
        select(func.count()).select_from(RoundMailing)
        .where(RoundMailing.kind == NoticeKind.VOTING_REMINDER)).scalar() == 1


@pytest.mark.parametrize(("codes_only", "window"), [
    (True, timedelta(days=10)),  # nobody can be told they did not vote
    (False, timedelta(hours=30)),  # shorter than the lead time: no reminder
])
def test_no_reminder_where_it_cannot_tell_the_truth(app, app_ctx, kept, frozen_clock,
                                                    codes_only, window):
    now = clock.utcnow()
    town = factories.notice_city(
        voting_close_at=now + window,
        voter_eligibility=VoterEligibility.CODES if codes_only else VoterEligibility.RESIDENTS)
    db.session.commit()
    open_voting(town)  # opens now
    forget_mail()
    frozen_clock.set(town.round.voting_close_at - timedelta(hours=20))
    jobs.advance_phases()
    assert queued() == []


def test_a_round_that_moved_on_before_its_job_ran_gets_no_notice(app, app_ctx, kept, handed):
    town = factories.notice_city()
    db.session.commit()
    open_voting(town)
    assert handed == [(town.round_id, "voting_open")]  # after the commit, once
    rounds.transition(town.city.coordinator, town.round, RoundPhase.CANCELLED)
    db.session.commit()
    assert jobs.mail_round_notices(town.round_id, "voting_open") == 0
    assert queued() == []
    mailing = db.session.get(RoundMailing, (town.round_id, NoticeKind.VOTING_OPEN))
    assert mailing.finished_at is not None


def test_a_batch_costs_the_same_statements_whatever_its_people(app, app_ctx, kept, handed,
                                                                monkeypatch):
    """A query per batch, not per person: two residents and nine cost the same."""
    monkeypatch.setattr(jobs, "NOTICES_PER_BATCH", 10)
    town = factories.notice_city()
    north = factories.round_(town.city.other, RoundPhase.REVIEW, title="Pohjoinen 2027",
                             voting_close_at=town.round.voting_close_at)
    factories.proposal(north, status=ProposalStatus.ACCEPTED)
    for number in range(8):
        person = factories.user(f"north{number}@example.org", postal_code="15200")
        notices.set_subscriptions(person, {NoticeKind.VOTING_OPEN})
    for round_ in (town.round, north):
        rounds.transition(town.city.admin, round_, RoundPhase.VOTING)
    db.session.commit()
    costs = []
    for round_id, told in ((town.round_id, 2), (north.id, 9)):
        with statements(app) as heard:
            assert jobs.mail_round_notices(round_id, "voting_open") == told
        costs.append(len(heard))
    assert costs[0] == costs[1], costs


def test_the_key_of_sent_notices_tells_nobody_twice_even_when_the_mark_is_lost(
        app, app_ctx, kept, handed):
    town = factories.notice_city()
    db.session.commit()
    open_voting(town)
    assert jobs.mail_round_notices(town.round_id, "voting_open") == 2
    db.session.execute(update(RoundMailing).values(notified_up_to=0, finished_at=None))
    db.session.commit()  # as if the job's mark were lost: it starts from the beginning
    assert jobs.mail_round_notices(town.round_id, "voting_open") == 0
    assert recipients() == BOTH
    db.session.add(SentNotice(round_id=town.round_id, kind=NoticeKind.VOTING_OPEN,
                              user_id=town.people["fi"].id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_jobs_running_at_once_tell_everyone_once(app, kept, handed, monkeypatch):
    monkeypatch.setattr(jobs, "NOTICES_PER_BATCH", 3)
    with app.app_context():
        town = factories.notice_city()
        for number in range(12):
            person = factories.user(f"many{number}@example.org", language="sv")
            notices.set_subscriptions(person, {NoticeKind.VOTING_OPEN})
        db.session.commit()
        open_voting(town)
        round_id = town.round_id
    start = threading.Barrier(4)
    told, errors = [], []

    def job():
        try:
            with app.app_context():
                start.wait()
                told.append(jobs.mail_round_notices(round_id, "voting_open"))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(told) == 14
    with app.app_context():
        counted = Counter(recipients())
        assert len(counted) == 14 and set(counted.values()) == {1}
        assert db.session.execute(select(RoundMailing.notified)).scalar_one() == 14


def test_two_real_workers_given_the_same_job_tell_everyone_once(database_url, tmp_path):
    """Two worker processes each handed the notices of one opening (a retried task): three
    batches of 500 between them, and each of the 1,102 residents told once."""
    queue_file = tmp_path / "tasks.sqlite"
    app = create_app({**base_test_config(database_url), "TASK_QUEUE": f"sqlite:///{queue_file}",
                      "MAIL_DELIVERY": "queue"})
    with app.app_context():
        town = factories.notice_city()
        first = db.session.execute(select(func.max(User.id))).scalar() + 1
        db.session.execute(insert(User), [
            {"id": first + n, "email": f"many{n}@example.org", "postal_code": "15100",
             "language": "fi"} for n in range(1100)])
        db.session.execute(insert(NoticePreference), [
            {"user_id": first + n, "kind": NoticeKind.VOTING_OPEN, "subscribed": True}
            for n in range(1100)])
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(
                "SELECT setval('users_id_seq', (SELECT max(id) FROM users))"))
        db.session.commit()
        open_voting(town)  # hands the job to the queue once
        tasks.enqueue_round_notices(town.round_id, "voting_open")  # and again
        round_id = town.round_id
    workers = [start_worker(database_url, queue_file, periodic=False,
                            settings={"MAIL_DELIVERY": "queue"}) for _ in range(2)]
    try:
        def finished() -> bool:
            with app.app_context():
                return db.session.execute(select(RoundMailing.finished_at)).scalar_one() is not None

        assert wait_until(finished, seconds=60)
        with app.app_context():
            counted = Counter(recipients())
            assert len(counted) == 1102 and set(counted.values()) == {1}
            assert db.session.execute(select(func.count()).select_from(SentNotice)
                                      .where(SentNotice.round_id == round_id)).scalar() == 1102
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_results_notices_follow_the_same_opt_in(app, app_ctx, kept):
    """The area's residents who opted in to results are told with the authors and the
    voters who asked; whoever unsubscribed from results is not, even as an author."""
    town = factories.notice_city()
    scenario = factories.closed_round(town.city.own, ballots=3, notify=2)
    for email in ("author@example.org", "voter1@example.org", "voter2@example.org"):
        notices.unsubscribe(find_user_by_email(email), NoticeKind.RESULTS)
    # voter2 said no first and then asked for this round's results when voting: the newer
    # word wins (voter1 asked, then said no).
    db.session.execute(update(Participation).where(
        Participation.user_id == find_user_by_email("voter2@example.org").id).values(
        notify_results=True, last_voted_at=clock.utcnow() + timedelta(seconds=1)))
    db.session.commit()
    forget_mail()
    count = counting.count_now(scenario.coordinator, scenario.round,
                               VoteKeys.from_config(current_app.config))
    publication = results.publish(scenario.coordinator, scenario.round, count.id)
    notices.plan_notices(publication)
    db.session.commit()
    assert jobs.mail_results(publication.id) == 4
    sent = queued()
    assert [mail.recipient for mail in sent] == ["fi@example.org", "sv@example.org",
                                                 "voter0@example.org", "voter2@example.org"]
    assert all(mail.unsubscribe_url and mail.unsubscribe_url in mail.body for mail in sent)
    token = sent[0].unsubscribe_url.rsplit("/", 1)[1]
    claims = notices.read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    assert claims.kind is NoticeKind.RESULTS
    assert notices.person_of(claims).email == "fi@example.org"


def test_a_deleted_account_takes_its_opt_ins_and_records_with_it(app, app_ctx, kept):
    town = factories.notice_city()
    db.session.commit()
    open_voting(town)
    fi_id = town.people["fi"].id
    db.session.delete(town.people["fi"])
    db.session.commit()
    for model in (SentNotice, NoticePreference):
        assert db.session.execute(select(func.count()).select_from(model)
                                  .where(model.user_id == fi_id)).scalar() == 0


def test_the_cron_command_stores_the_reminders_too(app, app_ctx, kept, frozen_clock, runner):
    town = factories.notice_city()
    db.session.commit()
    open_voting(town)
    frozen_clock.advance(days=9)
    result = runner.invoke(args=["advance-phases"])
    assert result.exit_code == 0, result.output
    assert f"round {town.round_id}: reminders before voting closes" in result.output
    assert db.session.get(RoundMailing, (town.round_id, NoticeKind.VOTING_REMINDER))


def test_a_mailing_whose_job_was_lost_is_handed_out_again_by_the_sweep(app, app_ctx, kept,
                                                                      handed, frozen_clock):
    town = factories.notice_city()
    db.session.commit()
    open_voting(town)
    assert handed == [(town.round_id, "voting_open")]
    tasks.sweep()
    assert len(handed) == 1  # just stored: not lost
    frozen_clock.advance(seconds=notices.STALE_AFTER.total_seconds() + 1)
    tasks.sweep()  # what a worker runs every minute and when it starts
    assert handed == [(town.round_id, "voting_open")] * 2
    assert jobs.mail_round_notices(town.round_id, "voting_open") == 2
    tasks.sweep()
    assert len(handed) == 2  # finished: never again
