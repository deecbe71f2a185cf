"""Migration 0016 (content in three languages) keeps every text: upgrading a database that
holds tables, rounds and proposals leaves their names, titles and descriptions as the main
language's (Finnish), every proposal marked Finnish; the downgrade keeps the main language's
text, and the rounds' frozen-settings trigger survives both ways."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalStatus, Round, RoundPhase
from tests import factories

BEFORE = "0015"


def _rows() -> list[tuple]:
    """What the schema before 0016 holds, read with plain SQL."""
    return [tuple(row) for row in db.session.execute(text(
        "SELECT t.slug, t.name, t.description, r.title, r.description, r.categories, "
        "p.title, p.description, p.category FROM proposals p "
        "JOIN rounds r ON r.id = p.round_id JOIN partnership_tables t ON t.id = r.table_id "
        "ORDER BY p.id"))]


@pytest.fixture
def at_0015(app):
    """A table with a round in voting and two proposals, taken back to the schema before
    0016. Back to head afterwards, whatever happened."""
    with app.app_context():
        table = factories.table("keskusta", "Keskusta")
        table.description = "Kaupungin keskusta."
        round_ = factories.round_(table, RoundPhase.REVIEW, title="Keskusta 2027",
                                  categories=["Puistot", "Liikunta"])
        round_.description = "Ideoita keskustaan."
        factories.proposal(round_, title="Penkkejä rantaan", category="Puistot",
                           status=ProposalStatus.ACCEPTED)
        factories.proposal(round_, title="Valot ladulle", category="Liikunta",
                           status=ProposalStatus.ACCEPTED)
        db.session.flush()
        round_.phase = RoundPhase.VOTING
        db.session.commit()
        round_id = round_.id
        expected = _rows()
        db.session.remove()  # no transaction of ours may hold a table the downgrade alters
        downgrade(revision=BEFORE)
        try:
            yield expected, round_id
        finally:
            db.session.rollback()
            db.session.remove()
            upgrade()


def test_upgrade_keeps_every_text_as_the_main_language(app, at_0015):
    expected, round_id = at_0015
    assert _rows() == expected  # the downgrade to 0015 lost nothing either
    db.session.remove()
    upgrade()
    assert _rows() == expected
    round_ = db.session.get(Round, round_id)
    table = round_.table
    assert (table.main_language, table.translations) == ("fi", {})
    assert round_.translations == {}
    assert round_.text_in("title", "sv") == "Keskusta 2027"
    assert round_.text_in("title", "sv").fallback
    assert {p.language for p in round_.proposals} == {"fi"}
    assert round_.category_in("Puistot", "en") == "Puistot"


def test_the_new_columns_are_checked_and_the_frozen_settings_stay_frozen(app, at_0015):
    _, round_id = at_0015
    db.session.remove()
    upgrade()
    for statement in ("UPDATE partnership_tables SET main_language = 'en'",
                      "UPDATE proposals SET language = 'de'",
                      f"UPDATE rounds SET budget_cents = 1 WHERE id = {round_id}"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
        db.session.rollback()
    # Translations are no frozen setting: they may be mended while people vote.
    round_ = db.session.get(Round, round_id)
    round_.set_texts("title", {"fi": "Keskusta 2027", "sv": "Centrum 2027"})
    db.session.commit()
    assert db.session.get(Round, round_id).text_in("title", "sv") == "Centrum 2027"


def test_downgrade_keeps_the_main_languages_text(app, at_0015):
    expected, round_id = at_0015
    db.session.remove()
    upgrade()
    round_ = db.session.get(Round, round_id)
    round_.set_texts("title", {"fi": "Keskusta 2027", "sv": "Centrum 2027"})
    round_.table.set_texts("name", {"fi": "Keskusta", "sv": "Centrum"})
    db.session.get(Proposal, round_.proposals[0].id).language = "sv"
    db.session.commit()
    db.session.remove()
    downgrade(revision=BEFORE)
    assert _rows() == expected
    columns = {column["name"] for column in inspect(db.engine).get_columns("rounds")}
    assert "translations" not in columns and "title" in columns
