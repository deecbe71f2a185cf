"""Outgoing mail: queued with the change it tells about, sent by a task on the queue once
that change commits (or by ``flask send-mail``), tried again when the mail server fails,
never sent twice."""

import smtplib
import threading
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from pb_vote import create_app, tasks
from pb_vote import mail as mail_module
from pb_vote.extensions import db
from pb_vote.mail import deliver_due, forget_given_up, outbox, queue_mail
from pb_vote.models import OutgoingMail
from tests import factories
from tests.conftest import base_test_config
from tests.workers import start_worker, wait_until


@pytest.fixture
def by_hand(app):
    """Mail stays queued after its commit, for the tests of a sending pass itself
    (``deliver_due``, ``flask send-mail``)."""
    app.config["MAIL_DELIVERY"] = "queue"


def queued(app) -> list[OutgoingMail]:
    with app.app_context():
        return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def test_mail_is_sent_once_the_request_that_queued_it_commits(app, client, mailbox, smtp):
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    response = client.post("/sign-in", data={"email": "resident@example.org"})
    assert response.status_code == 303
    [mail] = mailbox
    assert mail.to == "resident@example.org" and mail.subject == "Your sign-in link"
    [connection] = smtp.connections
    [message] = connection.sent
    assert message["To"] == "resident@example.org" and connection.closed
    assert queued(app) == []  # sent mail is not kept


def test_mail_of_a_change_that_rolls_back_is_never_sent(app, app_ctx, mailbox, smtp):
    queue_mail("someone@example.org", "Subject", "Body")
    db.session.rollback()
    report = deliver_due()
    assert (report.sent, report.waiting) == (0, 0) and mailbox == []


def test_one_connection_sends_a_whole_pass(by_hand, app, app_ctx, mailbox, smtp):
    for n in range(5):
        queue_mail(f"person{n}@example.org", f"Subject {n}", "Body")
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed, report.waiting) == (5, 0, 0)
    [connection] = smtp.connections
    assert [m["To"] for m in connection.sent] == [f"person{n}@example.org" for n in range(5)]
    assert [m.to for m in mailbox] == [f"person{n}@example.org" for n in range(5)]


def test_a_failing_message_is_tried_again_later_and_given_up_after_the_last_attempt(
        by_hand, app, runner, mailbox, smtp, frozen_clock):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    with app.app_context():
        queue_mail("someone@example.org", "Subject", "Body")
        db.session.commit()
    smtp.failing = True
    first = runner.invoke(args=["send-mail"])
    assert first.exit_code == 0, first.output
    assert "0 sent, 1 failed (tried again later), 1 waiting, 0 given up." in first.output
    [waiting] = queued(app)
    assert waiting.attempts == 1 and "ConnectionRefusedError" in waiting.last_error
    assert waiting.next_attempt_at == frozen_clock.now + mail_module.RETRY_AFTER[0]

    not_yet = runner.invoke(args=["send-mail"])  # not due before its time
    assert "0 sent, 0 failed" in not_yet.output and queued(app)[0].attempts == 1

    frozen_clock.advance(minutes=1)
    runner.invoke(args=["send-mail"])
    assert queued(app)[0].attempts == 2
    frozen_clock.advance(minutes=5)
    last = runner.invoke(args=["send-mail"])
    assert "0 sent, 1 failed (tried again later), 0 waiting, 1 given up." in last.output
    assert last.exit_code == 1  # cron mails the operator
    smtp.failing = False
    frozen_clock.advance(days=1)
    runner.invoke(args=["send-mail"])
    assert mailbox == [] and queued(app)[0].attempts == 3  # given up stays given up

    frozen_clock.advance(days=7)
    with app.app_context():
        assert forget_given_up() == 1  # it may hold a sign-in link or a receipt code
    assert queued(app) == []


def test_a_message_that_fails_once_is_sent_on_a_later_try(by_hand, app, app_ctx, mailbox,
                                                          smtp, frozen_clock):
    queue_mail("someone@example.org", "Subject", "Body")
    db.session.commit()
    smtp.failing = True
    assert deliver_due().failed == 1
    smtp.failing = False
    frozen_clock.advance(minutes=1)
    report = deliver_due()
    assert (report.sent, report.waiting) == (1, 0)
    assert [m.to for m in mailbox] == ["someone@example.org"]


def test_senders_running_at_once_send_each_message_exactly_once(by_hand, app, mailbox, smtp):
    with app.app_context():
        for n in range(30):
            queue_mail(f"person{n}@example.org", "Subject", "Body")
        db.session.commit()
    start = threading.Barrier(4)
    errors = []

    def sender():
        try:
            with app.app_context():
                start.wait()
                deliver_due()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(m.to for m in mailbox) == sorted(f"person{n}@example.org" for n in range(30))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


def test_with_delivery_by_queue_only_the_command_sends(app, client, runner, mailbox, smtp):
    app.config["MAIL_DELIVERY"] = "queue"
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    client.post("/sign-in", data={"email": "resident@example.org"})
    assert mailbox == [] and len(queued(app)) == 1
    result = runner.invoke(args=["send-mail"])
    assert "1 sent" in result.output and [m.to for m in mailbox] == ["resident@example.org"]


class Handed:
    """Stands in for the queue's delivery task: records each hand-over (or refuses it)."""

    def __init__(self, refusing: bool = False):
        self.calls, self.refusing = 0, refusing

    def __call__(self):
        self.calls += 1
        if self.refusing:
            raise ConnectionError("the task queue cannot be reached")


@pytest.fixture
def handed(app, monkeypatch):
    recorder = Handed()
    monkeypatch.setitem(app.extensions[tasks.EXTENSION]["tasks"], "deliver_mail", recorder)
    return recorder


def test_mail_is_handed_to_the_queue_once_its_transaction_commits(app, app_ctx, handed):
    db.session.commit()
    assert handed.calls == 0  # a commit without mail asks for nothing
    queue_mail("someone@example.org", "Subject", "Body")
    db.session.flush()
    assert handed.calls == 0  # not before the commit: the worker would find nothing
    db.session.rollback()
    db.session.commit()
    assert handed.calls == 0  # rolled back, and so forgotten
    queue_mail("someone@example.org", "Subject", "Body")
    queue_mail("other@example.org", "Subject", "Body")
    db.session.commit()
    assert handed.calls == 1  # one task sends the whole transaction's mail
    app.config["MAIL_DELIVERY"] = "queue"
    queue_mail("third@example.org", "Subject", "Body")
    db.session.commit()
    assert handed.calls == 1


def test_a_queue_that_cannot_be_reached_loses_no_mail_and_no_page(app, client, runner,
                                                                  mailbox, handed):
    handed.refusing = True
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    response = client.post("/sign-in", data={"email": "resident@example.org"})
    assert response.status_code == 303 and handed.calls == 1
    assert [m.recipient for m in queued(app)] == ["resident@example.org"]
    assert mailbox == []
    assert "1 sent" in runner.invoke(args=["send-mail"]).output  # or the minute's task
    assert [m.to for m in mailbox] == ["resident@example.org"]


def test_the_minute_task_tries_failed_mail_again(app, client, mailbox, smtp, frozen_clock):
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    smtp.failing = True
    assert client.post("/sign-in", data={"email": "resident@example.org"}).status_code == 303
    assert [m.attempts for m in queued(app)] == [1] and mailbox == []  # tried at once
    smtp.failing = False
    frozen_clock.advance(minutes=1)
    with app.app_context():
        app.extensions[tasks.EXTENSION]["tasks"]["send_mail"]()  # what a worker runs
    assert [m.to for m in mailbox] == ["resident@example.org"] and queued(app) == []


def test_a_real_worker_sends_new_mail_at_once(database_url, tmp_path):
    """The production setting: the web process hands new mail to the queue, a worker in
    another process sends it (here without a mail server: it logs it and deletes it)."""
    queue_file = tmp_path / "tasks.sqlite"
    app = create_app({**base_test_config(database_url), "TASK_QUEUE": f"sqlite:///{queue_file}"})
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    worker = start_worker(database_url, queue_file, periodic=False)  # no minute's pass
    try:
        client = app.test_client()
        started = time.monotonic()
        assert client.post("/sign-in", data={"email": "resident@example.org"}).status_code == 303
        assert outbox(app) == []  # the web process itself sent nothing
        assert wait_until(lambda: queued(app) == [], seconds=20)
        assert time.monotonic() - started < 10  # at once (a worker polls every 0.2 s here)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_delivery_is_background_or_queue(database_url):
    with pytest.raises(ValueError, match="MAIL_DELIVERY"):
        create_app({**base_test_config(database_url), "MAIL_DELIVERY": "after_response"})


def test_an_unreachable_server_ends_the_pass_and_the_rest_waits_untouched(
        by_hand, app, app_ctx, mailbox, smtp):
    for n in range(3):
        queue_mail(f"person{n}@example.org", "Subject", "Body")
    db.session.commit()
    smtp.failing = True
    report = deliver_due()
    assert (report.sent, report.failed, report.waiting) == (0, 1, 3)
    assert [m.attempts for m in queued(app)] == [1, 0, 0]  # one try, not one per message
    smtp.failing = False
    report = deliver_due()  # the two untouched ones are still due
    assert (report.sent, report.waiting) == (2, 1)


def _queued_as_is(to: str, subject: str) -> None:
    """A message stored without queue_mail's care (as an older version could have)."""
    db.session.add(OutgoingMail(recipient=to, subject=subject, body="Body"))


def test_subjects_are_queued_on_one_line(by_hand, app, app_ctx):
    queue_mail("someone@example.org", "Your proposal “Benches\r\nBcc: x@example.org”", "Body")
    queue_mail("someone@example.org", "Long " * 100, "Body")
    db.session.commit()
    first, long = queued(app)
    assert first.subject == "Your proposal “Benches Bcc: x@example.org”"
    assert len(long.subject) == mail_module.SUBJECT_LENGTH


def test_a_message_that_cannot_be_written_is_given_up_and_the_rest_is_sent(
        by_hand, app, runner, mailbox, smtp):
    """A CR/LF in a header once stopped every pass at that message (issue 13)."""
    with app.app_context():
        queue_mail("first@example.org", "Subject", "Body")
        _queued_as_is("second@example.org", "Your proposal “Benches\r\nBcc: x@example.org”")
        _queued_as_is("third@example.org\r\nBcc: x@example.org", "Subject")
        queue_mail("fourth@example.org", "Subject", "Body")
        db.session.commit()
    result = runner.invoke(args=["send-mail"])
    assert "2 sent, 0 failed (tried again later), 0 waiting, 2 given up." in result.output
    assert result.exit_code == 1  # cron tells the operator
    [connection] = smtp.connections
    assert [m["To"] for m in connection.sent] == ["first@example.org", "fourth@example.org"]
    given_up = queued(app)
    assert [m.attempts for m in given_up] == [app.config["MAIL_MAX_ATTEMPTS"]] * 2
    assert all("ValueError" in m.last_error for m in given_up)


class RefusingSMTP:
    """A mail server that refuses some recipients: ``code`` (5xx for good, 4xx for now)."""

    def __init__(self, code: int):
        self.code = code

    def __call__(self, message):
        if message["To"].startswith("refused"):
            raise smtplib.SMTPRecipientsRefused({message["To"]: (self.code, b"no")})


@pytest.mark.parametrize(("code", "attempts_left"), [(550, 0), (450, 7)])
def test_a_recipient_refused_for_good_is_given_up_for_now_tried_again(
        by_hand, app, app_ctx, mailbox, smtp, monkeypatch, code, attempts_left):
    refuse = RefusingSMTP(code)
    original = smtp.send_message

    def send_message(self, message):
        refuse(message)
        original(self, message)

    monkeypatch.setattr(smtp, "send_message", send_message)
    for to in ("refused@example.org", "ok@example.org"):
        queue_mail(to, "Subject", "Body")
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed) == (1, 0 if code >= 500 else 1)
    assert len(smtp.connections) == 1  # the connection went on to the next message
    [refused] = queued(app)
    assert app.config["MAIL_MAX_ATTEMPTS"] - refused.attempts == attempts_left


def test_an_unforeseen_error_leaves_that_message_for_later_and_the_rest_goes_out(
        by_hand, app, app_ctx, mailbox, smtp, monkeypatch):
    original = smtp.send_message

    def send_message(self, message):
        if message["To"] == "odd@example.org":
            raise RuntimeError("something nobody expected")
        original(self, message)

    monkeypatch.setattr(smtp, "send_message", send_message)
    for to in ("odd@example.org", "ok@example.org"):
        queue_mail(to, "Subject", "Body")
    db.session.commit()
    report = deliver_due()
    assert (report.sent, report.failed, report.waiting) == (1, 1, 1)
    [waiting] = queued(app)
    assert waiting.attempts == 1 and "RuntimeError" in waiting.last_error
    assert [m.to for m in mailbox] == ["ok@example.org"]


def test_in_development_the_worker_sends_and_the_web_process_shows_it(monkeypatch, tmp_path):
    """/dev/mail reads what another process (the demo's task worker) sent."""
    monkeypatch.setenv("PB_VOTE_ENV_NAME", "development")
    monkeypatch.setenv("PB_VOTE_INSTANCE_PATH", str(tmp_path))
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/dev.sqlite", "MAIL_DELIVERY": "queue"}
    web, worker = create_app(config), create_app(config)
    with web.app_context():
        upgrade()
        queue_mail("resident@example.org", "Your sign-in link", "http://127.0.0.1:5000/x")
        db.session.commit()
    with worker.app_context():
        assert deliver_due().sent == 1
        db.engine.dispose()
    [mail] = outbox(web)
    assert (mail.to, mail.subject) == ("resident@example.org", "Your sign-in link")
    page = web.test_client().get("/dev/mail")
    assert page.status_code == 200 and "http://127.0.0.1:5000/x" in page.text
    with web.app_context():
        db.engine.dispose()
