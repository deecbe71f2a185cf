"""Migration 0018: a count refers to its stored .pb file; going back to 0017 writes each
such count's file into its text again, so nothing a count held is lost either way."""

from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from pb_vote.extensions import db
from pb_vote.models import StoredFile
from pb_vote.services import counting, files
from pb_vote.services.ballot_box import VoteKeys
from tests import factories


def test_a_downgrade_gives_each_count_its_text_back(app):
    with app.app_context():
        scenario = factories.closed_round(ballots=11)
        count = counting.count_now(scenario.coordinator, scenario.round,
                                   VoteKeys.from_config(current_app.config))
        stored = files.read_slices(count.ballots_file_id, files.IDENTITY, files.slice_count(
            db.session.get(StoredFile, count.ballots_file_id).size,
            files.SLICE_SIZE))
        expected = b"".join(stored).decode()
        count_id = count.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017")
        kept = db.session.execute(text("SELECT ballots_pb FROM counts WHERE id = :id"),
                                  {"id": count_id}).scalar_one()
        db.session.remove()
        upgrade()
    assert kept == expected and kept.startswith("META")
