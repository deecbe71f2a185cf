"""A coordinator chooses how residents sign in to vote and a minimum age; existing rounds
keep "emailed link or strong identification"; both are frozen once voting opens; a bad
age is explained."""

from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.models import ResidentCheck, Round, RoundPhase
from tests import factories
from tests.views.test_round_setup import round_form, tables  # noqa: F401 (a fixture)


def test_a_round_for_identified_residents_with_a_minimum_age(app, client, auth, tables):  # noqa: F811
    auth.staff("coordinator@example.org")
    answer = client.post("/manage/tables/keskusta/rounds/new", data=round_form(
        resident_check="identified", min_voter_age="16"))
    assert answer.status_code == 303, answer.text
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        assert (round_.resident_check, round_.min_voter_age) == (ResidentCheck.IDENTIFIED, 16)
        page = client.get(f"/manage/rounds/{round_.id}").get_data(as_text=True)
        assert "Strong identification only" in page and "from the age of 16" in page


def test_a_round_set_up_without_saying_admits_both_sign_ins(app, client, auth, tables):  # noqa: F811
    auth.staff("coordinator@example.org")
    assert client.post("/manage/tables/keskusta/rounds/new",
                       data=round_form()).status_code == 303
    with app.app_context():
        round_ = db.session.execute(select(Round)).scalar_one()
        assert (round_.resident_check, round_.min_voter_age) == (ResidentCheck.ANY, None)


def test_a_bad_minimum_age_is_explained(client, auth, tables):  # noqa: F811
    auth.staff("coordinator@example.org")
    answer = client.post("/manage/tables/keskusta/rounds/new",
                         data=round_form(min_voter_age="200"))
    assert answer.status_code == 200 and "Use a number from 1 to 120." in answer.text


def test_the_database_freezes_them_once_voting_opens(app):
    with app.app_context():
        built = factories.voting_round()
        db.session.commit()
        assert built.round.phase is RoundPhase.VOTING
        for change in ("resident_check = 'identified'", "min_voter_age = 18"):
            try:
                db.session.execute(text(f"UPDATE rounds SET {change} WHERE id = :id"),
                                   {"id": built.round_id})
                db.session.flush()
            except DatabaseError as refused:
                assert "frozen" in str(refused)
            else:
                raise AssertionError(f"{change} was allowed")
            finally:
                db.session.rollback()
