"""Public pages, staff pages by role, the account page, languages and error pages."""

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Proposal, RoundPhase, User
from tests import factories


@pytest.fixture
def city(app):
    """Two tables with rounds (one a draft), a member and coordinator of the first, an admin,
    and a resident with a proposal. Returns ids."""
    with app.app_context():
        town = factories.city()
        voting = factories.round_(town.own, RoundPhase.VOTING, title="Keskusta 2027")
        draft_own = factories.round_(town.own, RoundPhase.DRAFT, title="Secret plans 2028")
        draft_other = factories.round_(town.other, RoundPhase.DRAFT, title="North plans 2028")
        factories.proposal(voting, author=town.resident, title="Lights for the ski track")
        db.session.commit()
        return {
            "own": town.own_id, "voting": voting.id, "draft_own": draft_own.id,
            "draft_other": draft_other.id,
        }


def test_home_lists_every_table_with_its_current_round(client, city):
    page = client.get("/").text
    assert "Keskusta – Centre" in page and "Pohjoinen – North" in page
    assert "Keskusta 2027" in page
    assert "Secret plans" not in page and "North plans" not in page


def test_table_page_shows_area_and_public_rounds(client, city):
    page = client.get("/tables/keskusta").text
    assert "<title>Keskusta – Centre · Participatory budgeting</title>" in page
    assert "15100" in page
    assert "Keskusta 2027" in page
    assert "Secret plans" not in page
    assert client.get("/tables/nowhere").status_code == 404


def test_round_page_shows_budget_and_proposals_with_origin(client, city):
    page = client.get(f"/rounds/{city['voting']}").text
    assert "Lights for the ski track" in page
    assert "Resident&#39;s idea" in page or "Resident's idea" in page
    assert "100\u00a0000\u00a0€" in page or "100 000 €" in page or "€100,000" in page


STAFF_PAGE_EXPECTATIONS = [
    # (who signs in, own table page, other table page, admin page)
    (None, 302, 302, 302),
    ("resident", 403, 403, 403),
    ("member", 200, 403, 403),
    ("coordinator", 200, 403, 403),
    ("admin", 200, 200, 200),
]


@pytest.mark.parametrize(("who", "own", "other", "admin"), STAFF_PAGE_EXPECTATIONS)
def test_staff_pages_by_role_and_table(client, auth, city, who, own, other, admin):
    if who == "resident":
        auth.resident("resident@example.org")
    elif who:
        auth.staff(f"{who}@example.org")
    assert client.get("/manage/tables/keskusta").status_code == own
    assert client.get("/manage/tables/pohjoinen").status_code == other
    assert client.get("/admin").status_code == admin
    if who and who != "resident":
        assert client.get("/manage/tables/nowhere").status_code == 404


@pytest.mark.parametrize(
    ("who", "own_draft", "other_draft"),
    [(None, 404, 404), ("resident", 404, 404), ("member", 200, 404), ("admin", 200, 200)],
)
def test_drafts_are_visible_only_to_their_tables_staff(client, auth, city, who, own_draft,
                                                       other_draft):
    if who == "resident":
        auth.resident("resident@example.org")
    elif who:
        auth.staff(f"{who}@example.org")
    assert client.get(f"/rounds/{city['draft_own']}").status_code == own_draft
    assert client.get(f"/rounds/{city['draft_other']}").status_code == other_draft


def test_admin_gives_a_role_and_the_person_gets_a_password_link(app, client, auth, city,
                                                                mailbox):
    auth.staff("admin@example.org")
    response = client.post(
        "/admin",
        data={"email": "New.Member@example.org", "table_id": city["own"], "role": "member"},
    )
    assert response.status_code == 303
    assert any("/password/link/" in mail.body for mail in mailbox)
    page = client.get("/admin").text
    assert "new.member@example.org" in page
    with app.app_context():
        person = db.session.execute(
            select(User).where(User.email == "new.member@example.org")
        ).scalar_one()
        assert person.role_at(city["own"]) is MembershipRole.MEMBER


def test_account_page_saves_and_explains_bad_postal_codes(app, client, auth, city):
    auth.resident("resident@example.org")
    bad = client.post(
        "/account", data={"display_name": "Riikka", "language": "en", "postal_code": "1510A"}
    )
    assert bad.status_code == 200
    assert "A postal code is five digits, like 15100." in bad.text
    assert 'value="1510A"' in bad.text and 'value="Riikka"' in bad.text
    good = client.post(
        "/account", data={"display_name": "Riikka R", "language": "sv", "postal_code": "15110"}
    )
    assert good.status_code == 303
    with app.app_context():
        user = db.session.execute(
            select(User).where(User.email == "resident@example.org")
        ).scalar_one()
        assert (user.display_name, user.language, user.postal_code) == ("Riikka R", "sv", "15110")
    assert '<html lang="sv">' in client.get("/account").text


def test_deleting_an_account_keeps_its_proposals_unattributed(app, client, auth, city):
    auth.resident("resident@example.org")
    refused = client.post("/account/delete", data={})
    assert "Tick the box to confirm." in refused.text
    response = client.post("/account/delete", data={"confirm": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.execute(
            select(User).where(User.email == "resident@example.org")
        ).scalar_one_or_none() is None
        proposal = db.session.execute(select(Proposal)).scalar_one()
        assert proposal.author_id is None
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_language_switch_sets_cookie_and_html_lang(client, city, language):
    response = client.post("/language", data={"language": language, "next": "/tables/keskusta"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/tables/keskusta")
    assert f'<html lang="{language}">' in client.get("/").text


def test_language_follows_the_browser_when_nothing_is_chosen(client, city):
    page = client.get("/", headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"}).text
    assert '<html lang="sv">' in page
    assert '<html lang="fi">' in client.get("/", headers={"Accept-Language": "fi"}).text
    # A language we do not offer falls back to the configured default (fi in production).
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "de"}).text


def test_the_account_language_wins_over_the_cookie(client, auth, city):
    client.post("/language", data={"language": "fi"})
    auth.staff("admin@example.org")  # the factory gives accounts English
    assert '<html lang="en">' in client.get("/").text


def test_language_switch_refuses_unknown_languages_and_foreign_next(client, city):
    assert client.post("/language", data={"language": "de"}).status_code == 400
    response = client.post("/language", data={"language": "en", "next": "//evil.example/x"})
    assert response.headers["Location"] in ("/", "http://pb.test/")


def test_error_pages_use_the_layout(client, city):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text and 'class="skip-link"' in response.text
    assert client.post("/").status_code == 405


def test_oversized_requests_are_refused_not_crashed(client, city):
    response = client.post("/sign-in", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than this service accepts" in response.text


def test_malformed_requests_get_400(client, auth, city):
    auth.resident("resident@example.org")
    response = client.post(
        "/account", data={"display_name": "Nul\x00byte", "language": "en", "postal_code": ""}
    )
    assert response.status_code == 400
    assert "could not be understood" in response.text
    assert client.get("/?q=a%00b").status_code == 400
    garbled = client.post(
        "/sign-in", data=b"\xff\xfe=%%%", headers={"Content-Type": "multipart/form-data"}
    )
    assert garbled.status_code == 200  # nothing usable arrived: the form asks again
    assert "Enter your email address." in garbled.text
    assert client.get("/rounds/not-a-number").status_code == 404


def test_pages_have_a_skip_link_main_landmark_and_viewport(client, city):
    for path in ("/", "/tables/keskusta", f"/rounds/{city['voting']}", "/sign-in",
                 "/staff/sign-in"):
        page = client.get(path).text
        assert '<a class="skip-link" href="#main">' in page, path
        assert '<main id="main"' in page, path
        assert 'name="viewport"' in page, path
        assert "<script" not in page, path  # nothing here needs JavaScript
        assert '="None"' not in page, path  # no attribute written from a missing value


def test_security_headers(client, city):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_unexpected_error_gets_the_500_page_in_the_layout(database_url):
    from pb_vote import create_app
    from tests.conftest import base_test_config

    config = base_test_config(database_url) | {"TESTING": False}
    app = create_app(config)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert 'class="skip-link"' in response.text
    assert "kaboom" not in response.text
