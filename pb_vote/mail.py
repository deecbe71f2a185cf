"""Outgoing mail: queued in the database with the change it tells about, sent afterwards.

:func:`queue_mail` adds the message to the caller's transaction, so a vote, a publication or
a moderation decision and its mail are stored together or not at all. Nothing is sent while
the request runs: a slow or failing mail server can neither slow a voter down nor turn a
recorded vote into an error page. Once the transaction that queued mail commits, a task on
the task queue sends what is due (``pb_vote.tasks``; ``MAIL_DELIVERY = "background"``, the
default), and the queue's task of every minute tries failed messages again; ``flask
send-mail`` sends them too (from cron, or ``--every`` as a service; with ``MAIL_DELIVERY =
"queue"`` only it and the minute's task do). A message that fails is tried again later,
``MAIL_MAX_ATTEMPTS`` times in all; a sent one is deleted. One that can never be sent as it
is (a header no mail library writes, an address the server refuses for good) is given up at
once and logged, and the pass goes on with the rest.

The backend: SMTP when ``MAIL_SERVER`` is set; otherwise nothing is sent and a warning is
logged (the body only at INFO level, as it may hold a sign-in link). In the development
configuration (``DEV_MAILBOX``) sent messages are also kept, in ``instance/dev_mailbox.jsonl``
(the worker sends, the web process shows them on /dev/mail), so the demo works without a mail
server; tests keep them in memory (``outbox(app)``).
"""

import email.policy
import json
import logging
import os
import smtplib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import Flask, current_app
from sqlalchemy import delete, func, insert, select, update

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import OutgoingMail
from pb_vote.text import one_line

log = logging.getLogger(__name__)
DEV_MAILBOX_SIZE = 50
DEV_MAILBOX_FILE = "dev_mailbox.jsonl"  # in the instance folder
DEV_MAILBOX_MOST_BYTES = 256 * 1024
_DEV_MAILBOX_LOCK = threading.Lock()  # a worker's threads append to one file
# The wait before each further attempt: a mail server down for a while is waited out for
# about a day before a message is given up.
RETRY_AFTER = [timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720)]
GIVEN_UP_KEPT_FOR = timedelta(days=7)
EXTRA_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")  # kept with a sent message
SUBJECT_LENGTH = OutgoingMail.__table__.c.subject.type.length
# Set in a session's ``info`` while its transaction holds new mail (see :func:`mail_queued`).
QUEUED = "pb_vote_mail_queued"
# What a mail server answers about one message (its recipients, its content, a feature it
# needs); the connection stays usable for the next one.
MESSAGE_REFUSALS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPNotSupportedError)


@dataclass(frozen=True)
class Mail:
    """One message as sent."""

    to: str
    subject: str
    body: str
    sent_at: datetime = field(default_factory=lambda: clock.utcnow())
    headers: dict[str, str] = field(default_factory=dict)  # beyond From, To and Subject


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass of :func:`deliver_due` did."""

    sent: int
    failed: int  # not sent this time, to be tried again
    waiting: int
    given_up: int  # in the queue: after the last attempt, or never sendable as they are


def outbox(app: Flask) -> list[Mail]:
    """The messages sent and kept (development and tests), newest last. Tests keep them in
    memory; development in a file of the instance folder, as the task worker sends them
    and the web process shows them on /dev/mail."""
    box = app.extensions.setdefault("pb_vote_outbox", [])
    if app.config.get("DEV_MAILBOX") and not app.testing:
        box[:] = _read_dev_mailbox(app)
    return box


def _dev_mailbox_path(app: Flask) -> str:
    return os.path.join(app.instance_path, DEV_MAILBOX_FILE)


def _read_dev_mailbox(app: Flask) -> list[Mail]:
    try:
        with open(_dev_mailbox_path(app), encoding="utf-8") as lines:
            kept = lines.readlines()[-DEV_MAILBOX_SIZE:]
    except FileNotFoundError:
        return []
    mails = []
    for line in kept:
        try:
            data = json.loads(line)
            mails.append(Mail(to=data["to"], subject=data["subject"], body=data["body"],
                              sent_at=datetime.fromisoformat(data["sent_at"]),
                              headers=data.get("headers") or {}))
        except (ValueError, KeyError, TypeError):  # a line cut by a crash: skip it
            continue
    return mails


def _keep(app: Flask, mail: Mail) -> None:
    """Keep a sent message for /dev/mail (development) or for the tests to read. Tests keep
    every one: they find a new message by how many came before it."""
    if app.testing:
        outbox(app).append(mail)
        return
    path = _dev_mailbox_path(app)
    line = json.dumps({"to": mail.to, "subject": mail.subject, "body": mail.body,
                       "sent_at": mail.sent_at.isoformat(), "headers": mail.headers},
                      ensure_ascii=False) + "\n"
    with _DEV_MAILBOX_LOCK:
        os.makedirs(app.instance_path, exist_ok=True)
        with open(path, "a", encoding="utf-8") as file:
            file.write(line)
        if os.path.getsize(path) > DEV_MAILBOX_MOST_BYTES:  # keep the newest only
            with open(path, encoding="utf-8") as lines:
                kept = lines.readlines()[-DEV_MAILBOX_SIZE:]
            with open(path + ".new", "w", encoding="utf-8") as file:
                file.writelines(kept)
            os.replace(path + ".new", path)


def queue_mail(to: str, subject: str, body: str, unsubscribe_url: str | None = None) -> None:
    """Queue one plain-text message in the current transaction: it is sent after the caller
    commits (by a task on the queue, or by ``flask send-mail``), and never if it rolls back.
    The subject is made one line (a title with a line break would be a header no mail
    library writes) and cut to what its column holds. A notice the person asked for gives
    its one-click ``unsubscribe_url`` (sent as the RFC 8058 headers)."""
    subject = one_line(subject)[:SUBJECT_LENGTH]
    db.session.add(OutgoingMail(recipient=to, subject=subject, body=body,
                                unsubscribe_url=unsubscribe_url))
    db.session.info[QUEUED] = True


def queue_mails(messages: Iterable[tuple]) -> int:
    """Queue many messages (recipient, subject, body, and optionally the unsubscribe
    address) in the current transaction with one statement, as :func:`queue_mail` queues
    one; returns how many."""
    rows = [{"recipient": to, "subject": one_line(subject)[:SUBJECT_LENGTH], "body": body,
             "unsubscribe_url": unsubscribe[0] if unsubscribe else None}
            for to, subject, body, *unsubscribe in messages]
    if rows:
        db.session.execute(insert(OutgoingMail), rows)
        db.session.info[QUEUED] = True
    return len(rows)


def mail_queued(session) -> bool:
    """Whether the transaction of ``session`` that just ended queued mail (and forget it)."""
    return bool(session.info.pop(QUEUED, False))


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
            try:
                message = _compose(mail, config["MAIL_SENDER"])
            except Exception as error:  # such as a header with a line break: never sendable
                _give_up(mail, error, most)
                continue
            connecting = config.get("MAIL_SERVER") and smtp is None
            try:
                if connecting:
                    smtp = _smtp_connection(config)
                _send(mail, message, smtp)
            except MESSAGE_REFUSALS as error:  # about this message: the connection goes on
                if _refused_for_good(error):
                    _give_up(mail, error, most)
                else:
                    failed += 1
                    _note_failure(mail, error, most)
                continue
            except (OSError, smtplib.SMTPException) as error:
                failed += 1
                _close_quietly(smtp)
                smtp = None  # the next message tries a new connection
                _note_failure(mail, error, most)
                if connecting:
                    break  # the server is unreachable: the rest waits for the next pass
                continue
            except Exception as error:  # unforeseen: this one waits, the rest goes on
                failed += 1
                log.exception("mail %s to %s failed unexpectedly", mail.id, mail.recipient)
                _close_quietly(smtp)
                smtp = None
                _note_failure(mail, error, most)
                continue
            sent += 1
            db.session.delete(mail)
            db.session.commit()
    finally:
        _close_quietly(smtp)
    return DeliveryReport(sent, failed, *_backlog(most))


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _note_failure(mail: OutgoingMail, error: BaseException, most: int) -> None:
    """Record a failed attempt; the message is tried again later (its claim set when)."""
    mail.last_error = _error_text(error)
    log.warning("mail %s to %s not sent (attempt %s of %s): %s", mail.id, mail.recipient,
                mail.attempts, most, mail.last_error)
    db.session.commit()


def _give_up(mail: OutgoingMail, error: BaseException, most: int) -> None:
    """Give up a message that can never be sent as it is (its own content or address is the
    problem, not the server): trying it again would only fail again."""
    mail.attempts = most
    mail.last_error = _error_text(error)
    log.error("mail %s to %s given up, it cannot be sent: %s", mail.id, mail.recipient,
              mail.last_error)
    db.session.commit()


def _refused_for_good(error: BaseException) -> bool:
    """Whether a refusal of one message is for good: a permanent (5xx) answer about its
    recipients or content, or a feature it needs (such as a non-ASCII address) that the
    server lacks. Temporary (4xx) answers are tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return True


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


def _compose(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The message as it goes out; raises (ValueError, ...) when it cannot be written, such
    as a header with a line break."""
    # Headers set raw are written as they are (never refolded): a long unsubscribe address
    # stays one line, where folding would turn it into encoded words no client reads.
    message = EmailMessage(policy=email.policy.default.clone(refold_source="none"))
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    if mail.unsubscribe_url:
        # RFC 8058 one-click: a mail client POSTs "List-Unsubscribe=One-Click" to the
        # address, without a session; the address alone says who and which kind.
        message.set_raw("List-Unsubscribe", f"<{mail.unsubscribe_url}>")
        message.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    message.set_content(mail.body)
    message.as_bytes()  # what would fail only when sent fails here, before any connection
    return message


def _send(mail: OutgoingMail, message: EmailMessage, smtp) -> None:
    app = current_app._get_current_object()
    if smtp is not None:
        smtp.send_message(message)
    else:
        # No mail server: say so where it shows, without the body (it may hold a sign-in
        # link); the body goes to the log at INFO level for those who turn that on.
        log.warning("MAIL_SERVER is not set: mail to %s (%s) was not sent", mail.recipient,
                    mail.subject)
        log.info("the mail not sent:\n%s", mail.body)
    if app.config.get("DEV_MAILBOX") or app.testing:
        extra = {name: str(message[name]) for name in EXTRA_HEADERS if name in message}
        _keep(app, Mail(to=mail.recipient, subject=mail.subject, body=mail.body, headers=extra))


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
