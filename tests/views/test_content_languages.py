"""The demo's content in Finnish, Swedish and English: each page shows a table's and a
round's texts in the visitor's language, falls back to the table's main language (marked with
its ``lang``) where a translation is missing, says so to staff, and shows each proposal as
its author wrote it, marked with its language."""

import re

import pytest
from flask import current_app
from sqlalchemy import select

from pb_vote import demo
from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.extensions import db
from pb_vote.models import AuditEvent, Proposal, Round, RoundPhase, Table
from pb_vote.services.ballot_box import VoteKeys
from tests import factories


def _seeded() -> dict:
    """The demo as ``flask seed-demo`` loads it, and the ids of its rounds by phase (the
    first of each: Keskusta 2027 is the first round in voting, the strongly identified
    Etelä round the second)."""
    demo.seed_demo(VoteKeys.from_config(current_app.config))
    rounds = db.session.execute(select(Round).order_by(Round.id)).scalars().all()
    first: dict = {}
    for round_ in rounds:
        if round_.phase is not RoundPhase.CANCELLED:
            first.setdefault(round_.phase.value, round_.id)
    return first


@pytest.fixture
def site(app):
    return factories.saved(app, _seeded)


def _page(client, path: str, language: str) -> str:
    client.set_cookie(LANGUAGE_COOKIE, language, domain="pb.test")
    response = client.get(path)
    assert response.status_code == 200, path
    return response.text


@pytest.mark.parametrize(("language", "name", "description"), [
    ("fi", "Keskusta", "Kaupungin keskusta ja satama."),
    ("sv", "Centrum", "Stadens centrum och hamnen."),
    ("en", "City centre", "The city centre and the harbour."),
])
def test_table_page_speaks_the_visitors_language(client, site, language, name, description):
    page = _page(client, "/tables/keskusta", language)
    assert f'<html lang="{language}">' in page
    assert f"<h1>{name}</h1>" in page
    assert f'<p class="lead">{description}</p>' in page
    assert f"{name} 2027" in page  # the round in voting, titled in the same language


def test_a_missing_translation_shows_the_main_language_marked_with_its_lang(client, site):
    english = _page(client, "/tables/ita", "en")
    assert "<h1>East</h1>" in english
    # Itä has no English description: the Finnish one, tagged so it is read as Finnish.
    assert '<p class="lead" lang="fi">Mukkula, Kivimaa ja Villähde.</p>' in english
    swedish = _page(client, "/tables/ita", "sv")
    assert '<p class="lead">Mukkula, Kivimaa och Villähde.</p>' in swedish
    finnish = _page(client, "/", "fi")
    assert "Mukkula, Kivimaa ja Villähde." in finnish and 'lang="fi">Mukkula' not in finnish


def test_round_page_names_categories_in_the_visitors_language(client, site):
    page = _page(client, f"/rounds/{site['voting']}", "sv")
    assert "<h1>Centrum 2027</h1>" in page
    assert "Idéer för den egna närmiljön." in page
    # The filter's values stay the stored (Finnish) names; the labels are Swedish.
    assert '<option value="Puistot">Parker</option>' in page
    assert '<option value="Liikenne">Trafik</option>' in page
    assert "Puistot</option>" not in page
    filtered = client.get(f"/rounds/{site['voting']}?category=Liikenne").text
    assert "Cykelställ med tak vid busshållplatsen" in filtered
    assert "Penkkejä sataman rantareitille" not in filtered


def test_proposals_stay_as_written_and_carry_their_language(app, client, site):
    page = _page(client, f"/rounds/{site['voting']}", "sv")
    # Written in Finnish and English: tagged; written in Swedish: the page's own language.
    assert '<span lang="fi">Penkkejä sataman rantareitille</span>' in page
    assert '<span lang="en">Community garden boxes</span>' in page
    assert ">Musikkvällar för unga</a>" in page
    with app.app_context():
        swedish = db.session.execute(
            select(Proposal).where(Proposal.title == "Musikkvällar för unga")).scalars().first()
        finnish = db.session.execute(
            select(Proposal).where(Proposal.title == "Valot hiihtoladulle")).scalars().first()
        assert swedish.language == "sv" and finnish.language == "fi"
        swedish_id, finnish_id = swedish.id, finnish.id
    in_finnish = _page(client, f"/proposals/{swedish_id}", "fi")
    assert '<h1 lang="sv">Musikkvällar för unga</h1>' in in_finnish
    assert '<div class="prose" lang="sv">' in in_finnish
    assert "<dd>Kulttuuri</dd>" in in_finnish
    assert '<dt>Kirjoituskieli</dt><dd lang="sv">Svenska</dd>' in in_finnish
    in_english = _page(client, f"/proposals/{finnish_id}", "en")
    assert '<h1 lang="fi">Valot hiihtoladulle</h1>' in in_english
    assert "<dd>Sports</dd>" in in_english
    assert '<dd lang="fi">Keskusta</dd>' in in_english  # the location, as written
    assert "Kirjoituskieli" not in _page(client, f"/proposals/{finnish_id}", "fi")


@pytest.mark.parametrize(("language", "title"), [
    ("fi", "Tulokset: Itä 2026"), ("sv", "Resultat: Öster 2026"), ("en", "Results: East 2026"),
])
def test_results_page_titles_the_round_in_the_visitors_language(client, site, language, title):
    page = _page(client, f"/rounds/{site['published']}/results", language)
    assert title in page


def test_staff_pages_say_which_texts_fall_back(client, auth, site):
    auth.staff("admin@example.org", demo.DEMO_PASSWORD)  # the admin reads English
    draft = _page(client, f"/manage/rounds/{site['draft']}", "en")
    assert ("No Swedish text for: title, description, categories. The Finnish text is shown "
            "instead.") in draft
    assert ("No English text for: title, description, categories. The Finnish text is shown "
            "instead.") in draft
    table = client.get("/manage/tables/ita").text
    assert "No English text for: description. The Finnish text is shown instead." in table
    assert "No Swedish text" not in table
    complete = client.get(f"/manage/rounds/{site['voting']}").text
    assert "No Swedish text" not in complete and "No English text" not in complete
    # The overview names the categories in the reader's language too.
    categories = re.search(r"<dt>Categories</dt><dd>(.*?)</dd>", complete).group(1)
    assert categories.startswith("Parks, Sports")


def test_round_form_shows_and_saves_the_translations(app, client, auth, site):
    auth.staff("admin@example.org", demo.DEMO_PASSWORD)
    form = _page(client, f"/manage/rounds/{site['proposals']}/edit", "en")
    assert 'name="title" type="text" value="Pohjoinen 2027"' in form or (
        'value="Pohjoinen 2027"' in form)
    assert 'value="Norr 2027"' in form and 'value="North 2027"' in form
    assert 'lang="sv"' in form and "Parker\nIdrott\nKultur\nTrafik" in form
    assert 'name="title_fi"' not in form  # Finnish is the main language: no translation
    with app.app_context():
        round_ = db.session.get(Round, site["proposals"])
        fields = {"title": round_.title, "description": round_.description,
                  "budget": "100000", "time_zone": round_.time_zone,
                  "categories": "\n".join(round_.categories),
                  "voter_eligibility": round_.voter_eligibility.value,
                  "ballot_kind": "approval", "approval_min": "1", "approval_max": "3",
                  "tally_rule": "greedy", "paper_conflict_rule": "online_wins"}
        for name in ("proposals_open_at", "proposals_close_at", "voting_open_at",
                     "voting_close_at"):
            moment = getattr(round_, name).astimezone(round_.zone)
            fields[name] = moment.strftime("%Y-%m-%dT%H:%M")
    fields.update(title_sv="Norra 2027", title_en="", description_sv="", description_en="",
                  categories_sv="Parker\n\nKultur", categories_en="Parks\nSports\nCulture\nTraffic")
    too_many = client.post(f"/manage/rounds/{site['proposals']}/edit",
                           data={**fields, "categories_sv": "A\nB\nC\nD\nE"})
    assert too_many.status_code == 200
    assert "Write at most one line per category (there are 4)." in too_many.text
    saved = client.post(f"/manage/rounds/{site['proposals']}/edit", data=fields)
    assert saved.status_code == 303, saved.text
    with app.app_context():
        round_ = db.session.get(Round, site["proposals"])
        assert round_.texts("title") == {"fi": "Pohjoinen 2027", "sv": "Norra 2027"}
        assert round_.texts("description")["fi"].startswith("Ideoita omaan")
        assert "sv" not in round_.texts("description")
        assert round_.category_in("Liikunta", "sv") == "Liikunta"  # left empty: Finnish
        assert round_.category_in("Liikunta", "sv").fallback
        assert round_.category_in("Kulttuuri", "sv") == "Kultur"
    english = _page(client, f"/rounds/{site['proposals']}", "en")
    assert '<h1><span lang="fi">Pohjoinen 2027</span></h1>' in english


def test_a_proposal_records_the_language_its_author_chose(app, client, auth, site):
    auth.resident("tom@example.org")  # reads English; lives in Keskusta
    with app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "pohjoinen")).scalar_one()
        round_id = site["proposals"]
        assert table.rounds
    form = client.get(f"/rounds/{round_id}/propose")
    assert form.status_code == 200
    # Offered in the author's interface language, each language named in itself.
    assert re.search(r'<input checked id="language-\d" name="language" type="radio" '
                     r'value="en"> <span lang="en">English</span>', form.text)
    assert '<span lang="sv">Svenska</span>' in form.text
    idea = {"title": "Ljus vid skidspåret", "description": "Lampor längs spåret.",
            "estimated_cost": "1000", "category": "Liikunta", "location": "Ahtiala"}
    client.post(f"/rounds/{round_id}/propose", data={**idea, "language": "sv"})
    client.post(f"/rounds/{round_id}/propose",
                data={**idea, "title": "Lights by the ski track"})  # no choice: the page's
    client.post(f"/rounds/{round_id}/propose",
                data={**idea, "title": "Nonsense", "language": "xx"})
    with app.app_context():
        languages = dict(db.session.execute(
            select(Proposal.title, Proposal.language).where(Proposal.location == "Ahtiala")
        ).all())
    assert languages == {"Ljus vid skidspåret": "sv", "Lights by the ski track": "en"}


def test_the_api_gives_the_main_language_and_every_translation(client, site):
    body = client.get(f"/api/v1/rounds/{site['voting']}").get_json()
    assert body["title"] == "Keskusta 2027" and body["language"] == "fi"
    assert body["translations"]["title"] == {"fi": "Keskusta 2027", "sv": "Centrum 2027",
                                             "en": "City centre 2027"}
    assert body["categories"]["Puistot"] == {"fi": "Puistot", "sv": "Parker", "en": "Parks"}
    table = client.get("/api/v1/tables/ita").get_json()
    assert table["translations"]["description"] == {
        "fi": "Mukkula, Kivimaa ja Villähde.", "sv": "Mukkula, Kivimaa och Villähde."}


def _table_texts(**given) -> dict:
    fields = {"main_language": "fi", "name_fi": "Itä", "name_sv": "Öster", "name_en": "East",
              "description_fi": "Mukkula, Kivimaa ja Villähde.",
              "description_sv": "Mukkula, Kivimaa och Villähde.", "description_en": ""}
    return {**fields, **given}


def test_staff_give_a_table_its_texts_in_three_languages(app, client, auth, site):
    auth.staff("admin@example.org", demo.DEMO_PASSWORD)
    form = _page(client, "/manage/tables/ita/texts", "en")
    assert 'value="Öster"' in form and 'name="description_en"' in form
    assert "No English text for: description." in form
    missing = client.post("/manage/tables/ita/texts", data=_table_texts(name_fi=" "))
    assert missing.status_code == 200 and "Give the name in the main language." in missing.text
    # The main language cannot move under the rounds written in it.
    locked = client.post("/manage/tables/ita/texts", data=_table_texts(main_language="sv"))
    assert locked.status_code == 200
    assert "The main language can change only while the table has no rounds" in locked.text
    odd = client.post("/manage/tables/ita/texts", data=_table_texts(main_language="en"))
    assert odd.status_code == 200 and "Not a valid choice" in odd.text
    saved = client.post("/manage/tables/ita/texts", data=_table_texts(
        description_en="Mukkula, Kivimaa and Villähde."))
    assert saved.status_code == 303
    assert '<p class="lead">Mukkula, Kivimaa and Villähde.</p>' in _page(client, "/tables/ita",
                                                                          "en")
    assert "No English text" not in client.get("/manage/tables/ita").text
    with app.app_context():
        events = db.session.execute(select(AuditEvent.action, AuditEvent.details).where(
            AuditEvent.action == "table.texts_changed")).all()
    assert [(action, details["changed"]) for action, details in events] == [
        ("table.texts_changed", ["description"])]


def test_a_table_without_rounds_may_change_its_main_language(app, client, auth, site):
    with app.app_context():
        factories.table("norr", "Pohjoinen 2", postal_codes=("15900",))
        db.session.commit()
    auth.staff("admin@example.org", demo.DEMO_PASSWORD)
    saved = client.post("/manage/tables/norr/texts", data=_table_texts(
        main_language="sv", name_fi="", name_sv="Norr", name_en="", description_fi="Pohjoinen.",
        description_sv="Norr."))
    assert saved.status_code == 303
    with app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "norr")).scalar_one()
        assert (table.main_language, table.name, table.description) == ("sv", "Norr", "Norr.")
        assert table.text_in("name", "fi") == "Norr" and table.text_in("name", "fi").fallback
    # The admin reads English, which the table lacks: its Swedish name, marked Swedish.
    assert '<h1><span lang="sv">Norr</span></h1>' in client.get("/tables/norr").text


def test_only_the_tables_coordinator_or_an_admin_edits_its_texts(client, auth, site):
    auth.staff("member@example.org", demo.DEMO_PASSWORD)  # a member of Keskusta
    assert client.get("/manage/tables/keskusta/texts").status_code == 403
    assert client.post("/manage/tables/keskusta/texts", data=_table_texts()).status_code == 403
    auth.sign_out()
    auth.staff("coordinator@example.org", demo.DEMO_PASSWORD)
    assert client.get("/manage/tables/keskusta/texts").status_code == 200
    assert client.get("/manage/tables/ita/texts").status_code == 403


def test_results_show_each_proposal_tagged_with_its_language(client, site):
    page = _page(client, f"/rounds/{site['published']}/results", "sv")
    assert '<span lang="fi">Penkkejä sataman rantareitille</span>' in page
    assert '<span lang="en">Community garden boxes</span>' in page
    assert ">Musikkvällar för unga<" in page and '<span lang="sv">' not in page


def test_translations_can_be_mended_while_people_vote(app, client, auth, site):
    auth.staff("coordinator@example.org", demo.DEMO_PASSWORD)  # of Keskusta, reads Finnish
    overview = client.get(f"/manage/rounds/{site['voting']}").text
    assert "Ruotsinkielinen teksti puuttuu" not in overview  # Keskusta 2027 is translated
    form = client.get(f"/manage/rounds/{site['voting']}/texts")
    assert form.status_code == 200
    assert 'value="Centrum 2027"' in form.text and "Parker\nIdrott\nKultur\nTrafik" in form.text
    assert 'name="title_fi"' not in form.text
    too_many = client.post(f"/manage/rounds/{site['voting']}/texts", data={
        "title_sv": "Centrum 2027", "categories_sv": "A\nB\nC\nD\nE"})
    assert "Kirjoita enintään yksi rivi kutakin luokkaa kohden (luokkia on 4)." in too_many.text
    saved = client.post(f"/manage/rounds/{site['voting']}/texts", data={
        "title_sv": "Centrum röstar 2027", "description_sv": "", "categories_sv": "Parker",
        "title_en": "City centre votes 2027", "description_en": "", "categories_en": ""})
    assert saved.status_code == 303
    overview = client.get(f"/manage/rounds/{site['voting']}").text
    assert ("Ruotsinkielinen teksti puuttuu: kuvaus, luokat. Sen sijaan näytetään "
            "suomenkielinen teksti.") in overview
    with app.app_context():
        round_ = db.session.get(Round, site["voting"])
        assert round_.phase is RoundPhase.VOTING
        assert round_.text_in("title", "sv") == "Centrum röstar 2027"
        assert round_.category_in("Puistot", "sv") == "Parker"
        assert round_.category_in("Liikunta", "en").fallback
        assert db.session.execute(select(AuditEvent.details).where(
            AuditEvent.action == "round.translated")).scalar_one() == {
            "translated": ["categories", "title"]}
    auth.sign_out()
    auth.staff("member@example.org", demo.DEMO_PASSWORD)
    assert client.get(f"/manage/rounds/{site['voting']}/texts").status_code == 403


@pytest.mark.parametrize(("language", "title", "category", "absent"), [
    ("fi", "Keskusta 2027: pisteäänestys", "Liikunta", ("points ballot", "Parks")),
    ("sv", "Centrum 2027: poängomröstning", "Idrott", ("points ballot", "Parks")),
    ("en", "City centre 2027: points ballot", "Sports", ("pisteäänestys", "Liikunta<")),
])
def test_the_tests_extra_demo_rounds_speak_every_language(app, client, language, title,
                                                          category, absent):
    """factories.demo_site adds a knapsack and a points round to the demo (the browser
    tests' screenshots): their texts are in the three languages like the demo's own."""
    site = factories.saved(app, factories.demo_site)
    page = _page(client, f"/rounds/{site.points_round_id}", language)
    assert f"<h1>{title}</h1>" in page
    assert f">{category}<" in page
    for text in absent:
        assert text not in page, text
    # Its ideas as residents wrote them, each marked with its language on another's page.
    assert "Utegym i parken" in page and "Project 0" not in page
