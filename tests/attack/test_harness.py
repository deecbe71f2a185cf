"""The attack harness itself: a live gunicorn on each database, staff and residents signed
in through the real pages, mail read from the database."""

from tests import factories


def seed(scenario: dict) -> None:
    table = factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    factories.user("coordinator@example.org", postal_code=None, role="coordinator", at=table)
    factories.user("resident@example.org")


def test_staff_and_residents_sign_in_through_the_running_service(service):
    staff = service.browser()
    staff.sign_in_staff("coordinator@example.org", factories.STAFF_PASSWORD)
    assert staff.get("/manage").status_code == 200
    resident = service.browser()
    resident.sign_in_resident("resident@example.org")
    assert "resident@example.org" in resident.get("/account").text
    assert resident.get("/admin").status_code == 403
    assert service.server_errors() == []


def test_forms_without_their_token_are_refused(service):
    stranger = service.browser()
    answer = stranger.post("/staff/sign-in", {"email": "coordinator@example.org",
                                              "password": factories.STAFF_PASSWORD})
    assert answer.status_code == 400
    assert stranger.get("/manage").status_code in (302, 303)  # not signed in
