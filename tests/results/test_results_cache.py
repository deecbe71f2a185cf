"""The results page keeps its rendered body: a publication never changes, so the second
visit reads no figures, and what does change (a correction, an edited proposal, the
language) renders the body again."""

from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import Proposal, Publication
from tests import factories, pages
from tests.queries import statements, touching


def _main(page: str) -> str:
    """The page's main content (the header's form tokens differ from visit to visit)."""
    return page[page.index("<main"):page.index("</main>")]


def _published(app):
    return factories.saved(app, lambda: factories.published_round(
        factories.city().own, ballots=12))


def test_a_second_visit_reads_no_figures_and_shows_the_same(app, client):
    scenario = _published(app)
    path = f"/rounds/{scenario.round_id}/results"
    with statements(app) as first_heard:
        first = client.get(path)
    with statements(app) as second_heard:
        second = client.get(path)
    assert first.status_code == second.status_code == 200
    assert _main(first.text) == _main(second.text)
    for heard in (first_heard, second_heard):
        assert touching(heard, "publications")
    # The figures (the tally, the comparison, the turnout) are read only to render.
    assert [s for s in first_heard if "publications.result" in s]
    assert not [s for s in second_heard if "publications.result" in s]
    assert len(second_heard) < len(first_heard)


def test_each_language_is_rendered_for_itself(app, client):
    scenario = _published(app)
    path = f"/rounds/{scenario.round_id}/results"
    english = client.get(path, headers={"Accept-Language": "en"}).text
    finnish = client.get(path, headers={"Accept-Language": "fi"}).text
    assert "Funded projects" in english and "Funded projects" not in finnish
    assert _main(client.get(path, headers={"Accept-Language": "en"}).text) == _main(english)


def test_an_edited_proposal_shows_at_the_next_visit(app, client):
    scenario = _published(app)
    path = f"/rounds/{scenario.round_id}/results"
    assert client.get(path).status_code == 200
    with app.app_context():
        proposal = db.session.execute(select(Proposal).where(
            Proposal.round_id == scenario.round_id).limit(1)).scalar_one()
        proposal.title = "Renamed after the count"
        db.session.commit()
    assert "Renamed after the count" in client.get(path).text


def test_a_correction_shows_at_once_and_the_first_says_it_was_replaced(app, client, auth):
    scenario = _published(app)
    path = f"/rounds/{scenario.round_id}/results"
    with app.app_context():
        dropped = int(db.session.execute(select(Publication.result)).scalar_one()["selected"][0])
    first_page = client.get(f"{path}/1").text
    assert "replaced by a correction" not in first_page
    assert "Publication 1," in client.get(path).text
    auth.staff("coordinator@example.org")
    assert pages.count_and_publish(client, scenario.round_id, [dropped],
                                   reason="The site is unsuitable.").status_code == 303
    assert "Publication 2," in client.get(path).text
    assert "replaced by a correction" in client.get(f"{path}/1").text


def test_the_json_and_csv_are_made_once_per_publication(app, client):
    scenario = _published(app)
    for path in (f"/api/v1/rounds/{scenario.round_id}/results",
                 f"/api/v1/rounds/{scenario.round_id}/results.csv"):
        with statements(app) as first_heard:
            first = client.get(path)
        with statements(app) as second_heard:
            second = client.get(path)
        assert first.status_code == second.status_code == 200
        assert first.data == second.data and first.data
        assert [s for s in first_heard if "publications.result" in s], path
        assert not [s for s in second_heard if "publications.result" in s], path
    # The numbered address of the same publication is the same CSV, already made.
    with statements(app) as heard:
        numbered = client.get(f"/api/v1/rounds/{scenario.round_id}/publications/1/results.csv")
    assert numbered.data == second.data
    assert not [s for s in heard if "publications.result" in s]
