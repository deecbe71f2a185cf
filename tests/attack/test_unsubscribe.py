"""The one-click unsubscribe link against gunicorn in production configuration (CSRF on):
a mail client's RFC 8058 POST, with no cookie and no CSRF token, unsubscribes that address
from that kind of notice only, however many arrive at once; opening the link (a mail
scanner) changes nothing; a forged or altered link changes nothing and says so; every
other form still wants its CSRF token."""

from concurrent.futures import ThreadPoolExecutor

from itsdangerous import URLSafeSerializer

from pb_vote.models import NoticeKind
from pb_vote.services import notices
from tests import factories
from tests.attack.conftest import SECRET_KEY

ONE_CLICK = {"List-Unsubscribe": "One-Click"}
BAD_LINK = "This unsubscribe link does not work"


def seed(scenario: dict) -> None:
    factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    for email in ("resident@example.org", "neighbour@example.org"):
        person = factories.user(email)
        notices.set_subscriptions(person, set(NoticeKind))
        scenario[email] = {kind.value: notices.unsubscribe_token(
            SECRET_KEY, person.id, person.email, kind) for kind in NoticeKind}
        scenario[f"{email} id"] = person.id


def said(service, email: str) -> dict[str, bool]:
    return {kind: bool(on) for kind, on in service.sql(
        "SELECT p.kind, p.subscribed FROM notice_preferences p JOIN users u "
        "ON u.id = p.user_id WHERE u.email = :email", email=email)}


def test_a_mail_clients_one_click_post_unsubscribes_that_kind_only(service):
    link = f"/account/unsubscribe/{service.scenario['resident@example.org']['voting_open']}"
    scanner = service.browser()
    assert scanner.get(link).status_code == 200  # a scanner opening it changes nothing
    assert said(service, "resident@example.org")["voting_open"] is True
    clients = [service.browser() for _ in range(12)]  # no cookie, no CSRF token
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda client: client.post(link, data=ONE_CLICK), clients))
    assert {answer.status_code for answer in answers} == {200}
    assert all("You are unsubscribed" in answer.text for answer in answers)
    assert said(service, "resident@example.org") == {
        kind.value: kind is not NoticeKind.VOTING_OPEN for kind in NoticeKind}
    assert all(said(service, "neighbour@example.org").values())  # another address: as it was
    assert service.server_errors() == []


def test_forged_and_altered_links_change_nothing(service):
    genuine = service.scenario["neighbour@example.org"]["results"]
    payload, signature = genuine.split(".")
    neighbour_id = service.scenario["neighbour@example.org id"]
    forged = [
        URLSafeSerializer("not-our-secret-key", salt="pb_vote.unsubscribe").dumps(
            [neighbour_id, "results", "0" * 16]),  # signed with another key
        f"{service.scenario['resident@example.org']['results'].split('.')[0]}.{signature}",
        f"{payload}.{signature[:-3]}",  # cut short
        f"{payload}x.{signature}",
    ]
    attacker = service.browser()
    for token in forged:
        for answer in (attacker.get(f"/account/unsubscribe/{token}"),
                       attacker.post(f"/account/unsubscribe/{token}", data=ONE_CLICK)):
            assert answer.status_code == 400 and BAD_LINK in answer.text, token
    assert all(said(service, "neighbour@example.org").values())
    assert service.server_errors() == []


def test_other_forms_still_want_their_csrf_token(service):
    resident = service.browser()
    resident.sign_in_resident("neighbour@example.org")
    refused = resident.post("/account/notices", data={"notices-results": "y"})
    assert refused.status_code == 400
    assert all(said(service, "neighbour@example.org").values())
    token = resident.token("/account")
    saved = resident.post("/account/notices", [("notices-csrf_token", token),
                                               ("notices-results", "y")])
    assert saved.status_code == 303
    assert said(service, "neighbour@example.org") == {
        kind.value: kind is NoticeKind.RESULTS for kind in NoticeKind}
    assert service.server_errors() == []
