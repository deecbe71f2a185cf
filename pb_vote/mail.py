"""Outgoing mail: queued in the database with the change it tells about, sent afterwards.

:func:`queue_mail` adds the message to the caller's transaction, so a vote, a publication or
a moderation decision and its mail are stored together or not at all. Nothing is sent while
the request runs: a slow or failing mail server can neither slow a voter down nor turn a
recorded vote into an error page. A sender thread in each process sends what is due as soon
as the request is done, and looks every minute for messages to try again
(``MAIL_DELIVERY = "background"``, the default); ``flask send-mail`` sends them too (from
cron, or ``--every`` as a service; with ``MAIL_DELIVERY = "queue"`` only it does). A message
that fails is tried again later, ``MAIL_MAX_ATTEMPTS`` times in all; a sent one is deleted.

The backend: SMTP when ``MAIL_SERVER`` is set; otherwise nothing is sent and a warning is
logged (the body only at INFO level, as it may hold a sign-in link). In the development
configuration (``DEV_MAILBOX``) and in tests, sent messages are also kept in memory
(``outbox(app)``) and shown on /dev/mail, so the demo works without a mail server.
"""

import logging
import smtplib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app, g
from sqlalchemy import delete, func, select, update

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import OutgoingMail

log = logging.getLogger(__name__)
DEV_MAILBOX_SIZE = 50
# The wait before each further attempt: a mail server down for a while is waited out for
# about a day before a message is given up.
RETRY_AFTER = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720)]
GIVEN_UP_KEPT_FOR = timedelta(days=7)
RETRY_POLL = timedelta(minutes=1)  # how often a process's sender looks for retries


@dataclass(frozen=True)
class Mail:
    """One message as sent."""

    to: str
    subject: str
    body: str
    sent_at: datetime = field(default_factory=lambda: clock.utcnow())


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass of :func:`deliver_due` did."""

    sent: int
    failed: int
    waiting: int
    given_up: int


def outbox(app: Flask) -> list[Mail]:
    """The messages sent and kept in memory (development and tests), newest last."""
    return app.extensions.setdefault("pb_vote_outbox", [])


def queue_mail(to: str, subject: str, body: str) -> None:
    """Queue one plain-text message in the current transaction: it is sent after the caller
    commits (after the response, or by ``flask send-mail``), and never if it rolls back."""
    db.session.add(OutgoingMail(recipient=to, subject=subject, body=body))
    g.pb_vote_mail_queued = True


def _retry_after(attempts: int) -> timedelta:
    return RETRY_AFTER[min(attempts, len(RETRY_AFTER)) - 1]


def _claim(mail_id: int, attempts: int, now: datetime) -> bool:
    """Take a due message for one attempt; False when another sender took it first. The claim
    moves the next attempt forward, so a sender that dies mid-way leaves it to a later one."""
    claimed = db.session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.attempts == attempts,
               OutgoingMail.next_attempt_at <= now)
        .values(attempts=attempts + 1, next_attempt_at=now + _retry_after(attempts + 1))
    ).rowcount == 1
    db.session.commit()
    return claimed


def deliver_due() -> DeliveryReport:
    """Send the messages that are due (in an app context); returns what happened.

    Safe to run in several processes at once: each message is claimed before it is sent.
    """
    config = current_app.config
    most = config["MAIL_MAX_ATTEMPTS"]
    now = clock.utcnow()
    due = db.session.execute(
        select(OutgoingMail.id, OutgoingMail.attempts)
        .where(OutgoingMail.next_attempt_at <= now, OutgoingMail.attempts < most)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
    ).all()
    db.session.commit()
    sent = failed = 0
    smtp = None  # one connection for the whole pass, opened when first needed
    try:
        for mail_id, attempts in due:
            if not _claim(mail_id, attempts, now):
                continue
            mail = db.session.get(OutgoingMail, mail_id)
            connecting = config.get("MAIL_SERVER") and smtp is None
            try:
                if connecting:
                    smtp = _smtp_connection(config)
                _send(mail, smtp)
            except (OSError, smtplib.SMTPException) as error:
                failed += 1
                _close_quietly(smtp)
                smtp = None  # the next message tries a new connection
                mail.last_error = f"{type(error).__name__}: {error}"[:500]
                log.warning("mail %s to %s not sent (attempt %s of %s): %s", mail.id,
                            mail.recipient, mail.attempts, most, mail.last_error)
                db.session.commit()
                if connecting:
                    break  # the server is unreachable: the rest waits for the next pass
                continue
            sent += 1
            db.session.delete(mail)
            db.session.commit()
    finally:
        _close_quietly(smtp)
    return DeliveryReport(sent, failed, *_backlog(most))


def _backlog(most: int) -> tuple[int, int]:
    waiting = db.session.scalar(
        select(func.count()).select_from(OutgoingMail).where(OutgoingMail.attempts < most))
    given_up = db.session.scalar(
        select(func.count()).select_from(OutgoingMail).where(OutgoingMail.attempts >= most))
    return waiting, given_up


def forget_given_up() -> int:
    """Delete the messages given up more than a week ago (they may hold sign-in links and
    receipt codes); returns how many."""
    forgotten = db.session.execute(
        delete(OutgoingMail).where(
            OutgoingMail.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"],
            OutgoingMail.queued_at < clock.utcnow() - GIVEN_UP_KEPT_FOR,
        )
    ).rowcount
    db.session.commit()
    return forgotten


def _send(mail: OutgoingMail, smtp) -> None:
    app = current_app._get_current_object()
    if smtp is not None:
        message = EmailMessage()
        message["From"] = app.config["MAIL_SENDER"]
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message.set_content(mail.body)
        smtp.send_message(message)
    else:
        # No mail server: say so where it shows, without the body (it may hold a sign-in
        # link); the body goes to the log at INFO level for those who turn that on.
        log.warning("MAIL_SERVER is not set: mail to %s (%s) was not sent", mail.recipient,
                    mail.subject)
        log.info("the mail not sent:\n%s", mail.body)
    if app.config.get("DEV_MAILBOX") or app.testing:
        box = outbox(app)
        box.append(Mail(to=mail.recipient, subject=mail.subject, body=mail.body))
        del box[:-DEV_MAILBOX_SIZE]


def _smtp_connection(config):
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    smtp = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
    try:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _close_quietly(smtp) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _deliver_in_background(app: Flask) -> None:
    """Send what is due, outside any request. Never raises: what fails stays queued."""
    try:
        with app.app_context():
            deliver_due()
    except Exception:  # the messages stay queued for the next sender
        log.exception("sending queued mail failed")


class _Sender:
    """The one thread of a process that sends queued mail: woken when a request has queued
    some, and every minute for messages waiting to be tried again. Started on first use, so
    each gunicorn worker gets its own after the fork."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping = False

    def poke(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="pb_vote-mail",
                                               daemon=True)
                self.thread.start()
        self.wake.set()

    def stop(self) -> None:
        """End the thread (tests; a process that exits just drops it)."""
        self.stopping = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self.wake.wait(timeout=RETRY_POLL.total_seconds())
            self.wake.clear()
            if self.stopping:
                return
            _deliver_in_background(self.app)


def init_app(app: Flask) -> None:
    """Send queued mail once the request that queued it is done, as ``MAIL_DELIVERY`` says:
    ``background`` (a sender thread per process), ``after_response`` (in the request's own
    thread once the server has sent the response and closes it), or ``queue`` (only
    ``flask send-mail``)."""
    sender = app.extensions["pb_vote_mail_sender"] = _Sender(app)

    @app.after_request
    def _send_after_response(response):
        if not g.pop("pb_vote_mail_queued", False):
            return response
        delivery = app.config["MAIL_DELIVERY"]
        if delivery == "background":
            sender.poke()
        elif delivery == "after_response":
            response.call_on_close(lambda: _deliver_in_background(app))
        return response
