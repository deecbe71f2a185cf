"""The city admin's editor of the service's own pages, and what the public pages then show:
only a city admin edits; bad input is refused in words with nothing lost; a language not
written falls back to the main one, marked with its lang; the history goes back to any
version or to the built-in text; an edit shows at once."""

import html
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, ServicePageVersion
from pb_vote.models.pages import PAGE_TEXT_MAX_CHARS
from tests import factories

EDITOR = "/admin/pages/privacy/fi"


@pytest.fixture
def city(app):
    return factories.saved(app, factories.city)


@pytest.fixture
def admin_client(app, client, auth, city):
    auth.staff("admin@example.org")
    return client


def _versions(app) -> list[ServicePageVersion]:
    with app.app_context():
        return list(db.session.execute(
            select(ServicePageVersion).order_by(ServicePageVersion.id)).scalars())


def _main(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


@pytest.mark.parametrize("who", ["coordinator", "member"])
def test_staff_who_are_not_city_admins_get_403(client, auth, city, who):
    auth.staff(f"{who}@example.org")
    assert client.get("/admin/pages").status_code == 403
    assert client.get(EDITOR).status_code == 403
    assert client.post(EDITOR, data={"text": "Hijacked", "save": "1"}).status_code == 403
    assert client.post(EDITOR + "/built-in").status_code == 403


def test_residents_get_403_and_nobody_signed_in_is_sent_to_sign_in(app, client, auth, city):
    assert client.get(EDITOR).status_code == 302
    assert client.post(EDITOR, data={"text": "x", "save": "1"}).status_code == 302
    auth.resident("resident@example.org")
    assert client.get("/admin/pages").status_code == 403
    assert client.post(EDITOR, data={"text": "Hijacked", "save": "1"}).status_code == 403
    assert _versions(app) == []


def test_an_unknown_page_or_language_is_404(admin_client):
    assert admin_client.get("/admin/pages/terms/fi").status_code == 404
    assert admin_client.get("/admin/pages/privacy/de").status_code == 404
    assert admin_client.get(EDITOR + "?from=999").status_code == 404


def test_the_editor_starts_from_the_built_in_text_as_markdown(app, admin_client):
    app.config.update(CITY_CONTACT_EMAIL="pb@lahti.example", LOGIN_SESSION_DAYS=30)
    page = admin_client.get(EDITOR).text
    textarea = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)[1])
    assert "## Rekisterinpitäjä" in textarea
    assert "* **Yhteystiedot:** [pb@lahti.example](mailto:pb@lahti.example)" in textarea
    assert "30 päivän kuluttua" in textarea  # the configured figures are filled in
    assert re.search(r'<textarea[^>]*lang="fi"', page)
    assert "written out as Markdown" in page
    assert "Nothing saved yet" in page


def test_the_index_says_what_each_language_shows(app, admin_client):
    factories.saved(app, factories.service_page_text, page="privacy", language="fi",
                    text="Oma")
    page = _main(admin_client.get("/admin/pages").text)
    assert "Own text, saved" in page and "by Admin" in page
    assert "Not written: readers see the Finnish text, marked as Finnish." in page
    assert page.count("The built-in text.") == 9  # about, contact, accessibility


def test_a_preview_renders_the_text_and_saves_nothing(app, admin_client):
    text = "## Tietosuoja\n\nOma **teksti** <script>alert(1)</script>"
    response = admin_client.post(EDITOR, data={"text": text, "preview": "1"})
    assert response.status_code == 200
    page = response.text
    preview = page[page.index('id="preview-heading"'):page.index("</section>")]
    assert "<h2>Tietosuoja</h2>" in preview and "<strong>teksti</strong>" in preview
    assert "&lt;script&gt;" in preview and "<script>" not in preview
    assert html.escape(text, quote=False) in page  # the text stays in the editor
    assert _versions(app) == []
    assert "Oma" not in admin_client.get("/privacy").text


@pytest.mark.parametrize(("text", "said"), [
    ("", "Write the page's text, or go back to the built-in text below."),
    ("   ", "Write the page's text, or go back to the built-in text below."),
    ("x" * (PAGE_TEXT_MAX_CHARS + 1), f"at most {PAGE_TEXT_MAX_CHARS} characters"),
])
def test_bad_text_is_refused_in_words_next_to_the_field(app, admin_client, text, said):
    response = admin_client.post(EDITOR, data={"text": text, "save": "1"})
    assert response.status_code == 400
    page = html.unescape(response.text)
    assert said in page
    assert 'aria-describedby="text-hint text-error"' in response.text
    assert 'id="text-error"' in response.text
    assert _versions(app) == []


def test_saving_the_same_text_twice_says_so(app, admin_client):
    admin_client.post(EDITOR, data={"text": "Sama", "save": "1"})
    response = admin_client.post(EDITOR, data={"text": "Sama", "save": "1"})
    assert response.status_code == 400
    assert "nothing to save" in response.text
    assert len(_versions(app)) == 1


def test_a_save_shows_at_once_with_the_date(app, admin_client, frozen_clock):
    response = admin_client.post(EDITOR, data={"text": "## Oma\n\nKaupungin teksti.",
                                               "save": "1"})
    assert response.status_code == 303
    assert "Saved. The page shows the new text now." in admin_client.get(EDITOR).text
    admin_client.post("/sign-out")
    response = admin_client.get("/privacy", headers={"Accept-Language": "fi"})
    # Nothing keeps the page: no cache in the app, and nothing lets a browser or proxy
    # keep it either, so the next reader sees the edit.
    assert "max-age" not in response.headers.get("Cache-Control", "")
    assert "Expires" not in response.headers and "ETag" not in response.headers
    page = response.text
    assert '<div class="page-text">\n<h2>Oma</h2>\n<p>Kaupungin teksti.</p>' in page
    assert "Rekisterinpitäjä" not in page  # the built-in text is gone
    # The date in the service's time zone (Helsinki), whatever the machine's.
    day = frozen_clock.now.astimezone(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
                                      ).strftime("%-d.%-m.%Y")
    assert f"Päivitetty viimeksi {day}." in page
    with app.app_context():
        event = db.session.execute(select(AuditEvent)
                                   .where(AuditEvent.action == "service_page.saved")).scalar_one()
    assert event.object_id == "privacy/fi"


def test_a_language_not_written_falls_back_to_finnish_marked_so(app, admin_client):
    admin_client.post(EDITOR, data={"text": "Suomeksi kirjoitettu.", "save": "1"})
    admin_client.post("/admin/pages/privacy/sv", data={"text": "Skrivet på svenska.",
                                                       "save": "1"})
    admin_client.post("/sign-out")
    english = admin_client.get("/privacy", headers={"Accept-Language": "en"}).text
    assert '<html lang="en">' in english
    assert "This page has not been written in English. It is shown in Finnish." in english
    assert '<div class="page-text" lang="fi">\n<p>Suomeksi kirjoitettu.</p>' in english
    assert "<h1>Privacy notice</h1>" in english  # the title is the service's own, in English
    swedish = admin_client.get("/privacy", headers={"Accept-Language": "sv"}).text
    assert '<div class="page-text">\n<p>Skrivet på svenska.</p>' in swedish
    assert "has not been written" not in swedish and "inte skrivits" not in swedish
    # Pages the admin has not written keep their built-in text in every language.
    about = admin_client.get("/about", headers={"Accept-Language": "sv"}).text
    assert "<h2>Så går en omgång till</h2>" in about and "page-text" not in about


def test_a_swedish_speaking_city_falls_back_to_swedish(app, admin_client):
    app.config["CITY_MAIN_LANGUAGE"] = "sv"
    admin_client.post("/admin/pages/contact/sv", data={"text": "Kontakt.", "save": "1"})
    admin_client.post("/sign-out")
    page = admin_client.get("/contact", headers={"Accept-Language": "fi"}).text
    assert "Tätä sivua ei ole kirjoitettu suomeksi. Se näytetään ruotsiksi." in page
    assert '<div class="page-text" lang="sv">' in page


def test_the_history_opens_an_earlier_version_and_goes_back_to_built_in(app, admin_client):
    admin_client.post(EDITOR, data={"text": "Ensimmäinen versio", "save": "1"})
    admin_client.post(EDITOR, data={"text": "Toinen versio", "save": "1"})
    first, second = _versions(app)
    page = admin_client.get(EDITOR).text
    assert page.count("by Admin") == 1 and page.count("<td data-label=\"By\">Admin</td>") == 2
    assert f'href="/admin/pages/privacy/fi?from={first.id}"' in page
    assert f"?from={second.id}" not in page  # the text shown now is already in the editor

    opened = admin_client.get(f"{EDITOR}?from={first.id}").text
    assert re.search(r">\s*Ensimmäinen versio</textarea>", opened)
    assert f'name="restored_from" type="hidden" value="{first.id}"' in opened
    admin_client.post(EDITOR, data={"text": "Ensimmäinen versio", "save": "1",
                                    "restored_from": str(first.id)})
    assert "Ensimmäinen versio" in admin_client.get("/privacy").text

    page = admin_client.post(EDITOR + "/built-in", follow_redirects=True).text
    assert "The page shows its built-in text again." in page
    assert "Back to the built-in text · <strong>shown now</strong>" in page
    public = admin_client.get("/privacy").text  # the admin reads English
    assert "<h2>Controller</h2>" in public and "Ensimmäinen versio" not in public
    assert [v.body for v in _versions(app)] == [
        "Ensimmäinen versio", "Toinen versio", "Ensimmäinen versio", None]
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.details)
                                     .order_by(AuditEvent.id)).all()
    assert [a for a, _ in actions][-4:] == ["service_page.saved"] * 3 + ["service_page.built_in"]
    assert actions[-2][1]["restored_from"] == first.id


def test_a_version_of_another_page_cannot_be_opened_or_restored_from(app, admin_client):
    admin_client.post("/admin/pages/contact/fi", data={"text": "Yhteys", "save": "1"})
    (other,) = _versions(app)
    assert admin_client.get(f"{EDITOR}?from={other.id}").status_code == 404
    admin_client.post(EDITOR, data={"text": "Oma", "save": "1", "restored_from": str(other.id)})
    with app.app_context():
        event = db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars()
        assert "restored_from" not in next(event).details


def test_going_back_to_built_in_twice_says_so(admin_client):
    response = admin_client.post(EDITOR + "/built-in", follow_redirects=True)
    assert "The page already shows its built-in text." in response.text


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_about_page_lists_the_tables_and_every_footer_links_it(admin_client, language):
    admin_client.post("/sign-out")
    page = admin_client.get("/about", headers={"Accept-Language": language}).text
    title = {"fi": "Tietoa palvelusta", "sv": "Om tjänsten", "en": "About the service"}[language]
    assert f"<h1>{title}</h1>" in page
    assert '<a href="/tables/keskusta">' in page and '<a href="/tables/pohjoinen">' in page
    home = admin_client.get("/", headers={"Accept-Language": language}).text
    assert f'<a href="/about">{title}</a>' in home[home.index("<footer"):]


def test_a_written_about_page_keeps_the_tables_below_it(admin_client):
    admin_client.post("/admin/pages/about/en", data={"text": "Our own words.", "save": "1"})
    page = admin_client.get("/about").text
    assert "<p>Our own words.</p>" in page and '<a href="/tables/keskusta">' in page
    assert "How a round goes" not in page


def test_the_audit_trail_names_the_actions(admin_client):
    admin_client.post(EDITOR, data={"text": "Oma", "save": "1"})
    admin_client.post(EDITOR + "/built-in")
    page = admin_client.get("/admin/audit").text
    assert "Saved a text of the service&#39;s own pages" in page
    assert "Gave a service page its built-in text again" in page
