"""The Host header decides nothing (issue 13, section 2): requests for hosts not trusted
are refused with 400, and every absolute link (mail, the voting-code sheet, open data) is
built on PUBLIC_BASE_URL, whatever Host or X-Forwarded-Host a request came with."""

import re

import pytest

from pb_vote import notifications
from pb_vote.extensions import db
from pb_vote.models import MembershipRole, RoundPhase
from tests import factories

FOREIGN = {"Host": "attacker.example"}


@pytest.fixture
def people(app):
    with app.app_context():
        table = factories.table("keskusta")
        factories.user("coordinator@example.org", role=MembershipRole.COORDINATOR, at=table)
        factories.user("admin@example.org", city_admin=True)
        factories.user("resident@example.org")
        round_ = factories.round_(table, RoundPhase.VOTING, voter_eligibility="both")
        db.session.commit()
        return {"table": table.id, "round": round_.id}


def links(mailbox) -> list[str]:
    return [link for mail in mailbox for link in re.findall(r"https?://\S+", mail.body)]


@pytest.mark.parametrize(("path", "data"), [
    ("/sign-in", {"email": "resident@example.org"}),
    ("/password/forgot", {"email": "coordinator@example.org"}),
])
def test_a_foreign_host_gets_400_and_no_mail(client, mailbox, people, path, data):
    response = client.post(path, data=data, headers=FOREIGN)
    assert response.status_code == 400
    assert "This service does not answer at this address." in response.text
    assert 'class="skip-link"' in response.text  # the usual page, its links on this site
    assert "attacker.example" not in response.text
    assert mailbox == []


def test_a_foreign_host_gets_400_from_the_api_and_for_static_files_too(client, people):
    answer = client.get("/api/v1/tables", headers=FOREIGN)
    assert answer.status_code == 400 and answer.get_json()["error"]["status"] == 400
    assert client.get("/static/css/site.css", headers=FOREIGN).status_code == 400


def test_a_signed_in_admin_on_a_foreign_host_grants_nothing(client, auth, mailbox, people):
    auth.staff("admin@example.org")
    response = client.post("/admin", data={"email": "new@example.org",
                                           "table_id": people["table"], "role": "member"},
                           headers=FOREIGN)
    assert response.status_code == 400 and mailbox == []


def test_mail_links_use_the_public_address_not_the_requests_host(app, client, mailbox,
                                                                 people):
    app.config.update(PUBLIC_BASE_URL="https://pb.example.fi/osallistu",
                      TRUSTED_HOSTS=["pb.test", "pb.example.fi"])
    # A trusted host with another port, and a forwarded host nobody is told to trust.
    client.post("/sign-in", data={"email": "resident@example.org"},
                headers={"Host": "pb.test:8080", "X-Forwarded-Host": "attacker.example"})
    client.post("/password/forgot", data={"email": "coordinator@example.org"},
                headers={"Host": "pb.test:8080"})
    found = links(mailbox)
    assert [link.split("/link/")[0] for link in found] == [
        "https://pb.example.fi/osallistu/sign-in", "https://pb.example.fi/osallistu/password"]


def test_role_grant_links_use_the_public_address(app, client, auth, mailbox, people):
    app.config["PUBLIC_BASE_URL"] = "https://pb.example.fi"
    auth.staff("admin@example.org")
    client.post("/admin", data={"email": "new@example.org", "table_id": people["table"],
                                "role": "member"})
    [link] = links(mailbox)
    assert link.startswith("https://pb.example.fi/password/link/")


def test_links_outside_a_request_use_the_public_address(app, people):
    app.config["PUBLIC_BASE_URL"] = "https://pb.example.fi"
    with app.app_context():
        assert (notifications.link("results.latest", round_id=7)
                == "https://pb.example.fi/rounds/7/results")


def test_the_code_sheet_and_open_data_link_to_the_public_address(app, client, auth, people):
    app.config.update(PUBLIC_BASE_URL="https://pb.example.fi",
                      TRUSTED_HOSTS=["pb.test", "pb.example.fi"])
    auth.staff("coordinator@example.org")
    sheet = client.post(f"/manage/rounds/{people['round']}/codes",
                        data={"count": "1", "languages": ["fi", "sv"]},
                        headers={"Host": "pb.test:8080"})
    assert sheet.status_code == 200
    assert f"https://pb.example.fi/rounds/{people['round']}/code" in sheet.text
    assert "pb.test:8080" not in sheet.text
    tables = client.get("/api/v1/tables", headers={"Host": "pb.test:8080"}).get_json()
    assert tables["tables"][0]["url"] == "https://pb.example.fi/api/v1/tables/keskusta"


def test_development_trusts_localhost_and_links_follow_it(database_url):
    from pb_vote import create_app
    from pb_vote.mail import outbox
    from tests.conftest import ClosingClient, base_test_config

    config = base_test_config(database_url) | {"ENV_NAME": "development"}
    del config["SERVER_NAME"], config["PUBLIC_BASE_URL"]
    app = create_app(config)
    app.test_client_class = ClosingClient
    client = app.test_client()
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    local = client.post("/sign-in", data={"email": "resident@example.org"},
                        base_url="http://127.0.0.1:5001")
    assert local.status_code == 303
    assert "http://127.0.0.1:5001/sign-in/link/" in outbox(app)[-1].body
    foreign = client.post("/sign-in", data={"email": "resident@example.org"},
                          base_url="http://attacker.example")
    assert foreign.status_code == 400 and len(outbox(app)) == 1
    with app.app_context():
        db.engine.dispose()
