"""Outgoing mail through a small backend chosen by configuration.

SMTP when ``MAIL_SERVER`` is set; otherwise the message is written to the log. In the
development configuration (``DEV_MAILBOX``) messages are also kept in memory and shown on
/dev/mail, so the demo works without a mail server. Tests read ``outbox(app)``.
"""

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from flask import Flask, current_app

from pb_vote import clock

log = logging.getLogger(__name__)
DEV_MAILBOX_SIZE = 50


@dataclass(frozen=True)
class Mail:
    """One outgoing message."""

    to: str
    subject: str
    body: str
    sent_at: datetime = field(default_factory=lambda: clock.utcnow())


def outbox(app: Flask) -> list[Mail]:
    """The messages kept in memory (development and tests), newest last."""
    return app.extensions.setdefault("pb_vote_outbox", [])


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text message with the configured backend."""
    app = current_app._get_current_object()
    mail = Mail(to=to, subject=subject, body=body)
    if app.config.get("DEV_MAILBOX") or app.testing:
        box = outbox(app)
        box.append(mail)
        del box[:-DEV_MAILBOX_SIZE]
    if app.config.get("MAIL_SERVER"):
        _send_smtp(app.config, mail)
    else:
        log.info("mail to %s: %s\n%s", to, subject, body)


def _send_smtp(config, mail: Mail) -> None:
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body)
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
