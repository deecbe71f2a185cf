"""Migration 0017 gives the participations written before it the postal code and language
their person's account has (none for codes, paper and deleted accounts), and from then on
the database records them as each resident first votes; it adds the residents entitled to
vote per postal code, unknown; its downgrade drops all three."""

import pytest
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from pb_vote.extensions import db
from pb_vote.models import Participation, Round, User, VoteChannel
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories


@pytest.fixture
def round_at_0016(app):
    """A round in voting with two residents' and one code's participations, the database
    then at 0016 and one resident moved since (to 15110). Back to head afterwards."""
    with app.app_context():
        scenario = factories.turnout_round(
            residents={("15100", "fi"): 1, ("15110", "sv"): 1}, codes=1, close=False)
        ids = (scenario.round_id, [person.id for person in scenario.voters])
        db.session.commit()
        db.session.remove()
        downgrade(revision="0016")
        db.session.execute(text("UPDATE users SET postal_code = '15110', language = 'en' "
                                "WHERE id = :id"), {"id": ids[1][0]})
        db.session.commit()
        yield ids
        db.session.rollback()
        db.session.remove()
        upgrade()


def _areas(round_id: int) -> list:
    return db.session.execute(
        select(Participation.channel, Participation.postal_code, Participation.language)
        .where(Participation.round_id == round_id).order_by(Participation.id)).all()


def test_upgrade_fills_in_the_accounts_of_earlier_votes_then_records_new_ones(
        app, round_at_0016):
    round_id, people = round_at_0016
    with app.app_context():
        upgrade()
        assert _areas(round_id) == [(VoteChannel.ONLINE, "15110", "en"),
                                    (VoteChannel.ONLINE, "15110", "sv"),
                                    (VoteChannel.CODE, None, None)]
        newcomer = factories.user("late@example.org", postal_code="15100", language="sv")
        voting.cast_ballot(VoteKeys.from_config(current_app.config), round_id,
                           voting.Voter(user_id=newcomer.id), VoteChannel.ONLINE,
                           {db.session.get(Round, round_id).proposals[0].id: 1})
        db.session.commit()
        assert _areas(round_id)[-1] == (VoteChannel.ONLINE, "15100", "sv")
        assert db.session.get(User, people[0]).postal_code == "15110"
        assert db.session.execute(text(
            "SELECT count(*) FROM table_postal_codes WHERE eligible_residents IS NOT NULL"
        )).scalar_one() == 0


def test_downgrade_drops_the_columns_and_the_trigger(app):
    with app.app_context():
        round_id = factories.turnout_round(residents={("15100", "fi"): 1},
                                           close=False).round_id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0016")
        try:
            columns = {c["name"] for c in inspect(db.engine).get_columns("participations")}
            assert not {"postal_code", "language"} & columns
            assert "eligible_residents" not in {
                c["name"] for c in inspect(db.engine).get_columns("table_postal_codes")}
            # a participation is written without them (no trigger is left to fill them in);
            # in SQL, as the schema was then (today's models and votes have more columns)
            voter_id = db.session.execute(text(
                "INSERT INTO users (email, display_name, language, postal_code, "
                "is_city_admin, created_at) VALUES ('after@example.org', '', 'en', '15100', "
                "false, CURRENT_TIMESTAMP) RETURNING id")).scalar_one()
            db.session.execute(text(
                "INSERT INTO participations (round_id, user_id, channel, first_voted_at, "
                "last_voted_at, notify_results) VALUES (:round, :user, 'online', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false)"),
                {"round": round_id, "user": voter_id})
            db.session.commit()
            assert db.session.execute(text(
                "SELECT count(*) FROM participations WHERE round_id = :id"),
                {"id": round_id}).scalar_one() == 2
        finally:
            db.session.rollback()
            db.session.remove()
            upgrade()
