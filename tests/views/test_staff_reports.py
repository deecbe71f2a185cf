"""The staff's reports through the pages: the statistics page in three languages, who may
see it and set the residents entitled to vote, and the CSV files (statistics, proposals with
their moderation history, settings)."""

import csv
import io

import pytest
from sqlalchemy import select
from wtforms.meta import DefaultMeta

from pb_vote.blueprints.staff_reports.forms import ResidentsField
from pb_vote.extensions import db
from pb_vote.models import AuditEvent, MembershipRole, Round, RoundPhase, Table, User
from pb_vote.services import proposals as moderation
from tests import factories

# 48 voters: paper (2) is small, so the code ballots (11) are held back with it; 3 in 15120.
RESIDENTS = {("15100", "fi"): 20, ("15110", "sv"): 12, ("15120", "fi"): 3}


def _closed(app, **options):
    def build():
        city = factories.city(eligible_residents=400)
        factories.user("stranger@example.org", role=MembershipRole.COORDINATOR,
                       at=city.other)
        return factories.turnout_round(city.own, **{"residents": RESIDENTS, "codes": 11,
                                                    "paper": 2, **options})
    return factories.saved(app, build)


def _speaking(app, email: str, language: str) -> None:
    with app.app_context():
        person = db.session.execute(select(User).where(User.email == email)).scalar_one()
        person.language = language
        db.session.commit()


def _rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize(("language", "words"), [
    ("en", ["Statistics", "By channel", "By home postal code", "fewer than 10",
            "not shown", "48 people voted.", "12% of the 400", "there are no age groups"]),
    ("fi", ["Tilastot", "Äänestystavan mukaan", "Kotipostinumeron mukaan", "alle 10",
            "ei näytetä", "48 henkilöä äänesti.", "12% kaikista 400", "ikäryhmiä ei ole"]),
    ("sv", ["Statistik", "Efter röstningssätt", "Efter postnummer för hemmet", "färre än 10",
            "visas inte", "48 personer röstade.", "12% av de 400", "inga åldersgrupper"]),
])
def test_statistics_page_in_each_language(app, client, auth, language, words):
    scenario = _closed(app)
    _speaking(app, "member@example.org", language)
    auth.staff("member@example.org")
    response = client.get(f"/manage/rounds/{scenario.round_id}/statistics")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for word in words:
        assert word in page, word
    # a chart per breakdown, named for screen readers, and its table
    assert page.count('<svg class="bar-chart"') == 4
    assert '<title id="chart-area-title">' in page and 'id="chart-area-desc"' in page
    assert "<th scope=\"row\">15100</th><td>20</td>" in page
    # 35 signed in of 400: 8.75 %, written the page's way
    assert {"en": "<td>8.8%</td>", "fi": "<td>8,8%</td>", "sv": "<td>8,8%</td>"}[language] in page
    # the hidden groups' figures are nowhere (12 in 15110; the 12 Swedish speakers are shown)
    for hidden in ("11", "2", "3"):
        assert f"<td>{hidden}</td>" not in page and f": {hidden};" not in page
    assert page.count("<td>12</td>") == 1


def test_statistics_wait_until_voting_has_closed(app, client, auth):
    scenario = _closed(app, close=False)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics")
    assert page.status_code == 200
    assert "shown once voting has closed" in page.get_data(as_text=True)


@pytest.mark.parametrize(("language", "said"), [
    ("en", "This round was cancelled, so it has no statistics."),
    ("fi", "Tämä kierros peruttiin, joten sillä ei ole tilastoja."),
    ("sv", "Den här omgången ställdes in, så den har ingen statistik."),
])
def test_a_cancelled_round_says_it_has_no_statistics(app, client, auth, language, said):
    scenario = _closed(app, close=False)
    with app.app_context():
        db.session.get(Round, scenario.round_id).phase = RoundPhase.CANCELLED
        db.session.commit()
    _speaking(app, "coordinator@example.org", language)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert said in text and "bar-chart" not in text
    assert "voting has closed" not in text and "äänestys on päättynyt" not in text
    assert "bar-chart" not in page.get_data(as_text=True)
    assert client.get(f"/manage/rounds/{scenario.round_id}/statistics.csv").status_code == 404


@pytest.mark.parametrize("path", ["statistics", "statistics.csv", "proposals.csv",
                                  "settings.csv"])
def test_only_the_tables_staff_and_city_admins_see_the_reports(app, client, auth, path):
    scenario = _closed(app)
    address = f"/manage/rounds/{scenario.round_id}/{path}"
    assert client.get(address).status_code == 302  # to the sign-in page
    auth.staff("stranger@example.org")
    assert client.get(address).status_code == 403
    auth.sign_out()
    auth.resident("resident@example.org")
    assert client.get(address).status_code == 403
    auth.sign_out()
    auth.staff("admin@example.org")
    assert client.get(address).status_code == 200
    assert client.get(f"/manage/rounds/{scenario.round_id + 99}/{path}").status_code == 404


def test_a_city_admin_records_the_eligible_residents(app, client, auth):
    scenario = _closed(app)
    address = f"/manage/rounds/{scenario.round_id}/eligible-residents"
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics").get_data(as_text=True)
    assert "eligible-residents" not in page  # the form is the city admin's
    assert client.post(address, data={"residents": "500"}).status_code == 403
    auth.sign_out()
    auth.staff("admin@example.org")
    saved = client.post(address, data={"residents": "12 500"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"/manage/rounds/{scenario.round_id}/statistics")
    with app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "keskusta")).scalar_one()
        assert table.eligible_residents == 12_500
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "table.eligible_residents_set")).scalar_one()
        assert event.details == {"from": 400, "to": 12_500}
    assert "That is 0.4% of the 12,500 residents" in client.get(
        f"/manage/rounds/{scenario.round_id}/statistics").get_data(as_text=True)
    client.post(address, data={"residents": ""})
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics").get_data(as_text=True)
    assert "shown once their number is recorded" in page


@pytest.mark.parametrize("typed", ["abc", "-5", "0", "1,5", "9" * 60, "１２", "10000001"])
def test_a_wrong_number_is_refused_in_words(app, client, auth, typed):
    scenario = _closed(app)
    _speaking(app, "admin@example.org", "fi")
    auth.staff("admin@example.org")
    refused = client.post(f"/manage/rounds/{scenario.round_id}/eligible-residents",
                          data={"residents": typed})
    assert refused.status_code == 400
    assert "Kirjoita kokonaisluku väliltä 1–10 000 000" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Table.eligible_residents).where(
            Table.slug == "keskusta")).scalar_one() == 400


def test_statistics_csv_hides_what_the_page_hides(app, client, auth):
    scenario = _closed(app)
    _speaking(app, "coordinator@example.org", "fi")
    auth.staff("coordinator@example.org")
    response = client.get(f"/manage/rounds/{scenario.round_id}/statistics.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    rows = _rows(response)
    assert rows[0] == ["Erittely", "Ryhmä", "Äänestäjiä",
                       "Osuus äänioikeutetuista asukkaista, %"]
    channel = {row[1]: row[2:] for row in rows if row[0] == "Äänestystavan mukaan"}
    assert channel == {"Verkossa, kirjautuneena": ["35", "8,8"],
                       "Verkossa, äänestyskoodilla": ["ei näytetä", ""],
                       "Paperilla": ["alle 10", ""], "Yhteensä": ["48", "12,0"]}
    area = {row[1]: row[2] for row in rows if row[0] == "Kotipostinumeron mukaan"}
    assert area == {"15100": "20", "15110": "ei näytetä", "15120": "alle 10",
                    "Yhteensä": "35"}


def test_proposals_csv_carries_the_moderation_history(app, client, auth):
    def build():
        city = factories.city()
        round_ = factories.round_(city.own, RoundPhase.REVIEW)
        tricky = factories.proposal(round_, author=city.resident, title="=HYPERLINK(\"x\")")
        plain = factories.proposal(round_, author=city.resident, title="Benches")
        moderation.reject(city.member, tricky, "@SUM(A1) is not a proposal.")
        moderation.accept(city.coordinator, plain, 450_050, "Checked.")
        return round_.id
    round_id = factories.saved(app, build)
    auth.staff("member@example.org")
    rows = _rows(client.get(f"/manage/rounds/{round_id}/proposals.csv"))
    assert rows[0][:5] == ["Proposal number", "Title", "Origin", "Category", "Status now"]
    assert [row[0] for row in rows[1:]] == ["1", "1", "2", "2"]
    # formulas are neutralized, in titles and in reasons alike
    assert rows[1][1] == "'=HYPERLINK(\"x\")"
    assert rows[1][8:] == ["Submitted", "", "resident", ""]
    assert rows[2][8:] == ["Not taken forward", "Member", "table member",
                           "'@SUM(A1) is not a proposal."]
    assert rows[4][4:7] == ["On the ballot", "5000", "4500.5"]
    assert rows[4][8:] == ["On the ballot", "Coordinator", "coordinator",
                           "Reviewed cost €4,500.50. Checked."]


def test_settings_csv_says_how_the_round_was_set_up(app, client, auth):
    scenario = _closed(app)
    _speaking(app, "coordinator@example.org", "sv")
    auth.staff("coordinator@example.org")
    rows = dict(_rows(client.get(f"/manage/rounds/{scenario.round_id}/settings.csv")))
    assert rows["Inställning"] == "Värde"
    assert rows["Omgång"] == "Round 2027"
    assert rows["Röstberättigade invånare i området"] == "400"
    assert rows["Vem får rösta"].startswith("Områdets invånare")
    assert set(rows) >= {"Budget", "Röstningen börjar", "Röstningen slutar", "Tidszon"}


def test_the_round_page_links_the_reports(app, client, auth):
    scenario = _closed(app)
    auth.staff("member@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}").get_data(as_text=True)
    for path in ("statistics", "proposals.csv", "settings.csv"):
        assert f"/manage/rounds/{scenario.round_id}/{path}" in page


def test_shares_by_postal_code_once_their_residents_are_recorded(app, client, auth):
    scenario = _closed(app)
    auth.staff("admin@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics").get_data(as_text=True)
    assert "Postal code 15110" in page and "Share of the postal code" not in page
    saved = client.post(f"/manage/rounds/{scenario.round_id}/eligible-residents",
                        data={"residents": "1000", "area_0": "400", "area_1": "",
                              "area_2": "30"})
    assert saved.status_code == 303
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics").get_data(as_text=True)
    assert "Share of the postal code" in page
    # 15100: 20 of 400; 15120 is hidden, and so is its share
    assert "<th scope=\"row\">15100</th><td>20</td><td>5%</td>" in page
    assert "<th scope=\"row\">15120</th><td>fewer than 10</td><td>–</td>" in page
    assert 'value="400"' in page and 'value="30"' in page
    rows = _rows(client.get(f"/manage/rounds/{scenario.round_id}/statistics.csv"))
    area = {row[1]: row[2:] for row in rows if row[0] == "By home postal code"}
    assert area["15100"] == ["20", "5.0"] and area["15120"] == ["fewer than 10", ""]
    refused = client.post(f"/manage/rounds/{scenario.round_id}/eligible-residents",
                          data={"residents": "1000", "area_0": "many"})
    assert refused.status_code == 400
    assert "Postal code 15100: Write a whole number" in refused.get_data(as_text=True)


def test_a_round_with_few_voters_shows_no_breakdown(app, client, auth):
    scenario = _closed(app, residents={("15100", "fi"): 5}, codes=2, paper=0)
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{scenario.round_id}/statistics").get_data(as_text=True)
    assert "Fewer than 10 people voted." in page
    assert page.count("no breakdown is shown") == 4
    assert "bar-chart" not in page and "<td>5</td>" not in page
    rows = _rows(client.get(f"/manage/rounds/{scenario.round_id}/statistics.csv"))
    assert len(rows) == 5 and all("no breakdown is shown" in row[2] for row in rows[1:])


def test_a_resident_count_with_a_line_break_is_refused(app):
    """Spaces between thousands are read; a line break (a crafted request) is not."""
    with app.test_request_context(method="POST"):
        for written, read in (("12 000", 12_000), ("12\u00a0000", 12_000)):
            field = ResidentsField(name="residents", _form=None, _meta=DefaultMeta())
            field.process_formdata([written])
            assert field.data == read
        field = ResidentsField(name="residents", _form=None, _meta=DefaultMeta())
        with pytest.raises(ValueError):
            field.process_formdata(["12\n000"])
