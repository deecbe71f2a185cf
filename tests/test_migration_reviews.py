"""Migration 0020: the review tables (departments' opinions, internal notes) come and go
without touching the proposals they are about; a downgrade to the revision before and an
upgrade again leave a working schema."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pb_vote.extensions import db
from pb_vote.models import RoundPhase
from pb_vote.services import reviews
from tests import factories


def test_the_review_tables_come_and_go_and_the_proposals_stay(app):
    with app.app_context():
        town = factories.city()
        proposal = factories.proposal(factories.round_(town.own, RoundPhase.REVIEW))
        factories.opinion(proposal, town.member)
        reviews.add_note(town.member, proposal, "Kept until the downgrade.")
        proposal_id = proposal.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0019")
        tables = inspect(db.engine).get_table_names()
        kept = db.session.execute(text("SELECT title FROM proposals WHERE id = :id"),
                                  {"id": proposal_id}).scalar_one()
        db.session.remove()
        upgrade()
        reviews.add_note(town.member, db.session.merge(proposal), "Again.")
        db.session.commit()
    assert "feasibility_requests" not in tables and "review_notes" not in tables
    assert kept == "Benches by the lake"
