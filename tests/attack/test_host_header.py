"""Account takeover through the Host header (issue 13, section 2): `POST /password/forgot`
with `Host: attacker.example` once mailed the coordinator a link to the attacker's host,
whose token then set the password. Here the service runs behind one trusted proxy
(PROXY_COUNT=1), so X-Forwarded-Host is believed too: the strictest case. Every foreign host
gets 400 and no mail; every mailed link leads to PUBLIC_BASE_URL; the account stays its
owner's."""

import re

from tests import factories

SERVICE_ENVIRONMENT = {"PB_VOTE_PROXY_COUNT": "1"}
ATTACKER = "attacker.example"
REFUSED = "This service does not answer at this address."


def seed(scenario: dict) -> None:
    table = factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    scenario["table"] = table.id
    factories.user("coordinator@example.org", postal_code=None, role="coordinator", at=table)
    factories.user("admin@example.org", postal_code=None, city_admin=True)
    factories.user("resident@example.org")


def _foreign(how: str) -> dict:
    return {"Host": ATTACKER} if how == "host" else {"X-Forwarded-Host": ATTACKER}


def _links(service) -> list[str]:
    return [link for _, _, body in service.mails() for link in re.findall(r"https?://\S+", body)]


def test_foreign_hosts_get_400_and_no_mail(service):
    attacker = service.browser()
    for how in ("host", "forwarded"):
        for path, email in (("/password/forgot", "coordinator@example.org"),
                            ("/sign-in", "resident@example.org"),
                            ("/sign-in", "coordinator@example.org")):
            before = len(service.mails())
            # The form's token comes from the real page, so only the host can be the reason.
            answer = attacker.submit(path, {"email": email}, headers=_foreign(how))
            assert answer.status_code == 400, (how, path)
            assert REFUSED in answer.text and ATTACKER not in answer.text
            assert len(service.mails()) == before, (how, path)
        assert attacker.get("/", headers=_foreign(how)).status_code == 400
    assert service.server_errors() == []


def test_a_role_grant_on_a_foreign_host_grants_nothing_and_mails_nothing(service):
    admin = service.browser()
    admin.sign_in_staff("admin@example.org", factories.STAFF_PASSWORD)
    grant = {"email": "new.member@example.org", "table_id": str(service.scenario["table"]),
             "role": "member"}
    for how in ("host", "forwarded"):
        answer = admin.submit("/admin", grant, headers=_foreign(how))
        assert answer.status_code == 400 and REFUSED in answer.text
    assert service.mails("new.member@example.org") == []
    assert service.sql("SELECT id FROM users WHERE email = 'new.member@example.org'") == []
    # The same grant on the real address mails a link to the public address.
    assert admin.submit("/admin", grant).status_code == 303
    [(_, _, body)] = service.mails("new.member@example.org")
    assert re.search(r"https?://\S+", body).group(0).startswith(
        f"{service.url}/password/link/")
    assert service.server_errors() == []


def test_mailed_links_lead_to_the_public_address_whatever_the_host_said(service):
    """A trusted host name with another port, or a forwarded port: the request is served,
    but its links are built on PUBLIC_BASE_URL, never on what the request said."""
    visitor = service.browser()
    variants = [{"Host": "127.0.0.1:1"}, {"X-Forwarded-Host": "127.0.0.1:2"},
                {"X-Forwarded-Host": "127.0.0.1", "X-Forwarded-Port": "8443"}]
    for headers in variants:
        assert visitor.submit("/password/forgot", {"email": "coordinator@example.org"},
                              headers=headers).status_code == 303
        assert visitor.submit("/sign-in", {"email": "resident@example.org"},
                              headers=headers).status_code == 303
    found = _links(service)
    assert len(found) >= 2 * len(variants)
    assert all(link.startswith(service.url + "/") for link in found), found
    assert not any(ATTACKER in body for _, _, body in service.mails())
    assert service.server_errors() == []


def test_the_coordinators_account_is_still_theirs(service):
    """After every attempt above, the old password still works: no token reached anyone
    but the owner, so nobody set a new one."""
    owner = service.browser()
    owner.sign_in_staff("coordinator@example.org", factories.STAFF_PASSWORD)
    assert owner.get("/manage").status_code == 200
    assert service.server_errors() == []
