"""A notice as it leaves for the mail server: RFC 8058's List-Unsubscribe (the same signed
link as in its body, on one unfolded line) and List-Unsubscribe-Post; other mail has
neither."""

import email
import email.policy
import re

from pb_vote.extensions import db
from pb_vote.mail import deliver_due, queue_mail
from pb_vote.models import NoticeKind, RoundPhase
from pb_vote.services import notices, rounds
from tests import factories


def test_a_notice_carries_the_one_click_unsubscribe_headers(app, app_ctx, smtp):
    town = factories.notice_city()
    db.session.commit()
    rounds.transition(town.city.coordinator, town.round, RoundPhase.VOTING)
    db.session.commit()  # the job writes the notices, the queue sends them
    sent = {message["To"]: message for connection in smtp.connections
            for message in connection.sent}
    assert sorted(sent) == ["fi@example.org", "sv@example.org"]
    for address, message in sent.items():
        raw = message.as_bytes()
        header = re.search(rb"^List-Unsubscribe: (.*)$", raw, re.MULTILINE).group(1)
        assert re.fullmatch(rb"<http://pb\.test/account/unsubscribe/[\w.-]+>\r?", header)
        assert b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        url = str(parsed["List-Unsubscribe"]).strip("<>")
        assert url in parsed.get_content()  # the body's link is the header's
        claims = notices.read_unsubscribe_token(app.config["SECRET_KEY"],
                                                url.rsplit("/", 1)[1])
        assert claims.kind is NoticeKind.VOTING_OPEN
        assert notices.person_of(claims).email == address


def test_other_mail_has_no_unsubscribe_headers(app, app_ctx, smtp):
    app.config["MAIL_DELIVERY"] = "queue"
    queue_mail("someone@example.org", "Your sign-in link", "A link.")
    db.session.commit()
    assert deliver_due().sent == 1
    [message] = smtp.connections[0].sent
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message
