"""Migration 0028: supports come and go. Going back a revision keeps every round and
idea (their supports go with the downgrade) and the frozen-settings trigger of 0021; the
way up again finds every round with supports off and no idea short of them."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.models import Proposal, RoundPhase
from pb_vote.services import supports
from tests import factories


def _frozen_budget_refused(round_id: int) -> bool:
    try:
        db.session.execute(text("UPDATE rounds SET budget_cents = 1 WHERE id = :id"),
                           {"id": round_id})
    except DatabaseError:
        return True
    finally:
        db.session.rollback()
    return False


def test_down_and_up_again_keeps_rounds_ideas_and_the_frozen_settings(app):
    with app.app_context():
        built = factories.support_scene()
        idea = db.session.get(Proposal, built.proposal_id)
        supports.support(built.supporters[0], idea)
        idea.short_of_supports = True
        voting = factories.round_(built.city.own, RoundPhase.VOTING, title="Voting now",
                                  supports_enabled=True, support_threshold=3)
        db.session.commit()
        voting_id = voting.id
        db.session.remove()
        downgrade(revision="0027")
        assert "proposal_supports" not in inspect(db.engine).get_table_names()
        assert not {"supports_enabled", "support_threshold"} & {
            c["name"] for c in inspect(db.engine).get_columns("rounds")}
        assert "short_of_supports" not in {
            c["name"] for c in inspect(db.engine).get_columns("proposals")}
        titles = db.session.execute(text("SELECT title FROM proposals ORDER BY id")).scalars()
        assert list(titles) == ["Benches by the lake", "A skate ramp"]
        assert _frozen_budget_refused(voting_id)
        db.session.remove()
        upgrade()
        again = db.session.execute(text(
            "SELECT supports_enabled, support_threshold FROM rounds ORDER BY id")).all()
        short = db.session.execute(text(
            "SELECT count(*) FROM proposals WHERE short_of_supports")).scalar()
        assert _frozen_budget_refused(voting_id)
        with pytest.raises(DatabaseError, match="frozen"):
            db.session.execute(text("UPDATE rounds SET support_threshold = 9 WHERE id = :id"),
                               {"id": voting_id})
        db.session.rollback()
        db.session.remove()
    assert [tuple(row) for row in again] == [(False, None), (False, None)]
    assert short == 0
