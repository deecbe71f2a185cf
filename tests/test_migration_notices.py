"""Migration 0023: the notices' tables and the unsubscribe address of queued mail come and
go; going back a revision keeps the mail still waiting to be sent (without its header), and
the way up again finds it as it was."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pb_vote.extensions import db
from pb_vote.mail import queue_mail
from pb_vote.models import NoticeKind
from pb_vote.services import notices
from tests import factories


def test_down_and_up_again_keeps_the_queued_mail(app):
    app.config["MAIL_DELIVERY"] = "queue"
    with app.app_context():
        person = factories.user()
        notices.set_subscriptions(person, {NoticeKind.RESULTS})
        queue_mail(person.email, "Results of Round 2027", "A notice.",
                   unsubscribe_url="http://pb.test/account/unsubscribe/x.y")
        queue_mail(person.email, "Your sign-in link", "A link.")
        db.session.commit()
        db.session.remove()
        downgrade(revision="0022")
        tables = inspect(db.engine).get_table_names()
        columns = {c["name"] for c in inspect(db.engine).get_columns("outgoing_mails")}
        kept = db.session.execute(text(
            "SELECT subject FROM outgoing_mails ORDER BY id")).scalars().all()
        db.session.remove()
        upgrade()
        again = db.session.execute(text(
            "SELECT subject, unsubscribe_url FROM outgoing_mails ORDER BY id")).all()
        preferences = db.session.execute(text("SELECT count(*) FROM notice_preferences"))
        assert preferences.scalar() == 0  # what people chose goes with the downgrade
        db.session.remove()
    assert not {"notice_preferences", "round_mailings", "sent_notices"} & set(tables)
    assert "unsubscribe_url" not in columns
    assert kept == ["Results of Round 2027", "Your sign-in link"]
    assert [tuple(row) for row in again] == [("Results of Round 2027", None),
                                            ("Your sign-in link", None)]
