"""A correction is decided from the publication its page showed: one written while another
coordinator published a correction is refused in words, not published over it. (Two
publications at the very same moment: tests/attack/test_races.py.)"""

from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import Publication
from tests import factories, pages


def correct(client, round_id: int, reason: str, corrects: int | None, count: int):
    data = {"action": "correct", "correction-reason": reason, "correction-confirm": "y",
            "correction-count": str(count)}
    if corrects is not None:
        data["correction-corrects"] = str(corrects)
    return client.post(f"/manage/rounds/{round_id}/results", data=data)


def test_a_correction_written_from_an_older_publication_is_refused(app, client, auth):
    published = factories.saved(app, factories.published_round, ballots=6)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{published.round_id}/results")
    assert 'name="correction-corrects" value="1"' in page.text
    count = pages.shown_count(page.text)
    assert correct(client, published.round_id, "The first fix.", 1, count).status_code == 303
    late = correct(client, published.round_id, "Written on the page of publication 1.", 1,
                   count)
    assert late.status_code == 400
    assert "Someone else published a correction at the same moment" in late.text
    assert 'name="correction-corrects" value="2"' in late.text  # the page shows the new one
    assert correct(client, published.round_id, "A third look.", None,
                   count).status_code == 303
    with app.app_context():
        assert db.session.execute(select(Publication.number).order_by(
            Publication.number)).scalars().all() == [1, 2, 3]
