"""Migration 0021 keeps every existing round's meaning (residents by either sign-in, no
minimum age) and every account; its downgrade keeps an identified account without an
address, giving it a placeholder one."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pb_vote.extensions import db
from tests import factories


def test_existing_rounds_admit_residents_as_before(app):
    with app.app_context():
        round_id = factories.voting_round().round_id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0020")
        try:
            columns = db.session.execute(text("SELECT * FROM rounds")).keys()
            assert "resident_check" not in columns
        finally:
            db.session.rollback()
            db.session.remove()
            upgrade()
        assert db.session.execute(text(
            "SELECT resident_check, min_voter_age FROM rounds WHERE id = :id"),
            {"id": round_id}).one() == ("any", None)


def test_the_downgrade_keeps_identified_accounts(app):
    with app.app_context():
        person = factories.identified_user("aino")
        person_id = person.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0020")
        try:
            assert db.session.execute(text("SELECT email FROM users WHERE id = :id"),
                                      {"id": person_id}).scalar_one() == (
                f"identified-{person_id}@pb-vote.invalid")
        finally:
            db.session.rollback()
            db.session.remove()
            upgrade()
