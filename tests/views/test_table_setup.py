"""A city admin sets up partnership tables in the browser: create, edit, area, people,
retire and delete; every refusal in the admin's language, nobody else let in."""

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, Round, Table, TableMembership, User
from tests import factories


@pytest.fixture
def town(app):
    return factories.saved(app, factories.set_up_city)


def _admin_speaks(app, language: str) -> None:
    with app.app_context():
        admin = db.session.execute(select(User).where(User.is_city_admin)).scalar_one()
        admin.language = language
        db.session.commit()


def table_form(**overrides) -> dict:
    data = {"name": "Kärpänen", "slug": "karpanen", "description": "Kärpäsen alue.",
            "main_language": "fi", "area": "15400 4 200\n15410\n", "eligible_residents": "6000"}
    data.update(overrides)
    return data


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action)).scalars())


def test_admin_creates_a_table_with_its_area_and_residents(app, client, auth, town):
    auth.staff("admin@example.org")
    response = client.post("/admin/tables/new", data=table_form())
    assert response.status_code == 303
    with app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "karpanen")).scalar_one()
        assert table.postal_codes == ["15400", "15410"]
        assert {r.postal_code: r.eligible_residents for r in table.area} == {
            "15400": 4200, "15410": None}
        assert table.eligible_residents == 6000 and table.main_language == "fi"
    [event] = _events(app, "table.created")
    assert event.details["postal_codes"] == ["15400", "15410"]
    assert 'href="/tables/karpanen"' in client.get("/").text  # offered to residents


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "“1540” is not a Finnish postal code: a postal code is five digits."),
    ("fi", "”1540” ei ole suomalainen postinumero: postinumerossa on viisi numeroa."),
    ("sv", "”1540” är inte ett finskt postnummer: ett postnummer har fem siffror."),
])
def test_a_bad_postal_code_is_refused_in_the_admins_language(app, client, auth, town,
                                                               language, expected):
    _admin_speaks(app, language)
    auth.staff("admin@example.org")
    response = client.post("/admin/tables/new", data=table_form(area="15400\n1540 300"))
    assert response.status_code == 400
    assert expected in response.text
    assert "1540 300" in response.text  # what was typed stays
    assert _events(app, "table.created") == []


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "The postal code 15100 is already in the area of Keskusta – Centre."),
    ("fi", "Postinumero 15100 on jo pöydän Keskusta – Centre alueella."),
    ("sv", "Postnumret 15100 hör redan till området för Keskusta – Centre."),
])
def test_a_postal_code_of_another_table_is_refused_naming_it(app, client, auth, town,
                                                               language, expected):
    _admin_speaks(app, language)
    auth.staff("admin@example.org")
    response = client.post("/admin/tables/new", data=table_form(area="15400\n15100"))
    assert response.status_code == 400
    assert expected in response.text
    with app.app_context():
        assert db.session.execute(select(Table).where(Table.slug == "karpanen")).scalar() is None


def test_moving_a_code_from_one_table_to_another(app, client, auth, town):
    auth.staff("admin@example.org")
    form = table_form(name="Etelä", slug="etela", area="15300\n15310")
    assert client.post(f"/admin/tables/{town.empty_table_id}", data={
        **form, "area": "15300"}).status_code == 303
    created = client.post("/admin/tables/new", data=table_form(area="15310 900"))
    assert created.status_code == 303
    [changed] = _events(app, "table.changed")
    assert changed.details["postal_codes_removed"] == ["15310"]


def test_the_database_refuses_a_code_in_two_areas(app, town):
    from sqlalchemy.exc import IntegrityError

    from pb_vote.models import TablePostalCode

    with app.app_context():
        db.session.add(TablePostalCode(table_id=town.empty_table_id, postal_code="15100"))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize("language", ["en", "fi", "sv"])
def test_the_area_of_a_table_in_voting_cannot_change(app, client, auth, town, language):
    _admin_speaks(app, language)
    auth.staff("admin@example.org")
    response = client.post(f"/admin/tables/{town.voting_table_id}", data=table_form(
        name="Pohjoinen – North", slug="pohjoinen", area="15200\n15210"))
    assert response.status_code == 400
    expected = {"en": "The area cannot change while Pohjoinen 2027 is in voting",
                "fi": "Alue ei voi muuttua, kun kierroksen Pohjoinen 2027 äänestys on auki",
                "sv": "Området kan inte ändras medan omröstningen i Pohjoinen 2027 pågår"}
    assert expected[language] in response.text
    with app.app_context():
        assert db.session.get(Table, town.voting_table_id).postal_codes == ["15200"]


def test_in_voting_the_rest_of_the_table_can_change(app, client, auth, town):
    auth.staff("admin@example.org")
    response = client.post(f"/admin/tables/{town.voting_table_id}", data=table_form(
        name="Pohjoinen – North", slug="pohjoinen", area="15200 5000",
        description="New words."))
    assert response.status_code == 303
    with app.app_context():
        table = db.session.get(Table, town.voting_table_id)
        assert table.description == "New words." and table.area[0].eligible_residents == 5000
    [event] = _events(app, "table.changed")
    assert event.details["fields"]["description"][1] == "New words."
    assert event.details["by_postal_code"] == {"15200": [None, 5000]}


def test_the_database_refuses_an_area_change_during_voting(app, town):
    from sqlalchemy.exc import DatabaseError

    from pb_vote.models import TablePostalCode

    with app.app_context():
        db.session.add(TablePostalCode(table_id=town.voting_table_id, postal_code="15299"))
        with pytest.raises(DatabaseError, match="fixed while one of its rounds is in voting"):
            db.session.flush()
        db.session.rollback()


def test_a_table_with_rounds_is_retired_never_deleted(app, client, auth, town):
    auth.staff("admin@example.org")
    deleted = client.post(f"/admin/tables/{town.published_table_id}/delete",
                          data={"confirm": "y"}, follow_redirects=True)
    assert "A table that has had rounds cannot be deleted" in deleted.text
    retired = client.post(f"/admin/tables/{town.published_table_id}/retire",
                          follow_redirects=True)
    assert "The table is retired." in retired.text
    with app.app_context():
        assert db.session.get(Table, town.published_table_id).is_retired
    home = client.get("/").text
    assert "/tables/keskusta\"" not in home  # not offered any more
    results = client.get(f"/rounds/{town.published_round_id}/results")
    assert results.status_code == 200  # its published results stay
    assert "no longer in use" in client.get("/tables/keskusta").text
    assert [e.action for e in _events(app, "table.retired")] == ["table.retired"]
    # A retired table takes no new round.
    auth.sign_out()
    auth.staff("coordinator@example.org")
    refused = client.get("/manage/tables/keskusta/rounds/new", follow_redirects=True)
    assert "This table is retired: it takes no new rounds." in refused.text


def test_a_table_in_voting_cannot_be_retired(app, client, auth, town):
    auth.staff("admin@example.org")
    page = client.post(f"/admin/tables/{town.voting_table_id}/retire", follow_redirects=True)
    assert "cannot be retired while its round Pohjoinen 2027 is still going on" in page.text
    with app.app_context():
        assert not db.session.get(Table, town.voting_table_id).is_retired


def test_a_table_without_rounds_is_deleted_after_confirming(app, client, auth, town):
    auth.staff("admin@example.org")
    unconfirmed = client.post(f"/admin/tables/{town.empty_table_id}/delete", data={})
    assert unconfirmed.status_code == 400 and "Tick the box to confirm." in unconfirmed.text
    response = client.post(f"/admin/tables/{town.empty_table_id}/delete", data={"confirm": "y"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Table, town.empty_table_id) is None
    [event] = _events(app, "table.deleted")
    assert event.details["postal_codes"] == ["15300", "15310"]


def test_admin_adds_a_coordinator_by_email_who_gets_a_password_link(app, client, auth, town,
                                                                    mailbox):
    auth.staff("admin@example.org")
    response = client.post(f"/admin/tables/{town.empty_table_id}/people",
                           data={"email": "New.Person@Example.org", "role": "coordinator"})
    assert response.status_code == 303
    with app.app_context():
        person = db.session.execute(
            select(User).where(User.email == "new.person@example.org")).scalar_one()
        assert person.role_at(town.empty_table_id).value == "coordinator"
        assert person.language == "fi"  # the table's main language until they choose
    assert mailbox[-1].to == "new.person@example.org" and "/password/link/" in mailbox[-1].body
    # An existing member of another table becomes a member here too, without a mail.
    before = len(mailbox)
    client.post(f"/admin/tables/{town.empty_table_id}/people",
                data={"email": "member@example.org", "role": "member"})
    assert len(mailbox) == before
    with app.app_context():
        memberships = db.session.execute(select(TableMembership).where(
            TableMembership.table_id == town.empty_table_id)).scalars().all()
        assert len(memberships) == 2
        removed = next(m for m in memberships if m.user.email == "member@example.org")
        removed_id = removed.id
    client.post(f"/admin/tables/{town.empty_table_id}/people/{removed_id}/remove")
    with app.app_context():
        assert db.session.get(TableMembership, removed_id) is None
    assert [e.action for e in _events(app, "membership.revoked")] == ["membership.revoked"]


def test_a_bad_email_is_refused_on_the_table_page(app, client, auth, town):
    auth.staff("admin@example.org")
    response = client.post(f"/admin/tables/{town.empty_table_id}/people",
                           data={"email": "not-an-address", "role": "member"})
    assert response.status_code == 400
    assert "not-an-address" in response.text


@pytest.mark.parametrize(("overrides", "message"), [
    ({"slug": "Big Name"}, "Use only small letters a–z"),
    ({"slug": "keskusta"}, "Another table already has the short name “keskusta”."),
    ({"name": ""}, "Give the name in the main language."),
    ({"area": "15400\n15400"}, "The postal code 15400 is listed twice."),
    ({"area": "15400 many"}, "Postal code 15400: Write a whole number"),
    ({"eligible_residents": "-4"}, "Write a whole number from 1 to 10 000 000"),
])
def test_each_bad_detail_is_named(app, client, auth, town, overrides, message):
    auth.staff("admin@example.org")
    response = client.post("/admin/tables/new", data=table_form(**overrides))
    assert response.status_code == 400
    assert message in response.text


def test_the_main_language_is_locked_once_a_table_has_rounds(app, client, auth, town):
    auth.staff("admin@example.org")
    response = client.post(f"/admin/tables/{town.published_table_id}", data=table_form(
        name="Keskusta – Centre", slug="keskusta", area="15100", main_language="sv"))
    assert response.status_code == 400
    assert "The main language can change only while the table has no rounds" in response.text


@pytest.mark.parametrize("who", ["coordinator@example.org", "member@example.org"])
def test_only_a_city_admin_sets_up_tables(app, client, auth, town, who):
    auth.staff(who)
    for method, path in (("get", "/admin/tables"), ("get", "/admin/tables/new"),
                         ("post", "/admin/tables/new"),
                         ("get", f"/admin/tables/{town.voting_table_id}"),
                         ("post", f"/admin/tables/{town.voting_table_id}"),
                         ("post", f"/admin/tables/{town.voting_table_id}/people"),
                         ("post", f"/admin/tables/{town.empty_table_id}/retire"),
                         ("post", f"/admin/tables/{town.empty_table_id}/delete")):
        response = getattr(client, method)(path, data=table_form())
        assert response.status_code == 403, (method, path)
    with app.app_context():
        assert db.session.get(Table, town.empty_table_id) is not None
        assert db.session.execute(select(Round)).scalars().all()


def test_a_missing_table_is_404(client, auth, town):
    auth.staff("admin@example.org")
    assert client.get("/admin/tables/9999").status_code == 404


def test_the_audit_trail_says_what_changed_in_plain_words(app, client, auth, town):
    auth.staff("admin@example.org")
    client.post("/admin/tables/new", data=table_form())
    client.post(f"/admin/tables/{town.empty_table_id}", data=table_form(
        name="Etelä – South", slug="etela", area="15300 1200\n15320"))
    page = client.get("/admin/audit").text
    assert "Created a partnership table" in page and "Changed a partnership table" in page
    assert "Name: from “Etelä” to “Etelä – South”." in page
    assert "Postal codes added: 15320" in page and "Postal codes removed: 15310" in page
    assert "Postal code 15300: from – to 1200." in page
    assert "Postal codes: 15400, 15410" in page
