"""The pages of the notices: the opt-ins on the account page (off until ticked), and a
notice's unsubscribe link (GET shows a button and changes nothing, POST unsubscribes that
address from that kind; RFC 8058's one-click POST works without a session or CSRF token; a
bad link says so)."""

import re

import pytest
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import NoticeKind, NoticePreference, ProposalStatus, RoundPhase, Table
from pb_vote.services import notices, rounds
from pb_vote.services.accounts import find_user_by_email
from tests import factories
from tests.conftest import TEST_SECRET

KINDS = [kind.value for kind in NoticeKind]


def stated(app, email: str) -> dict[str, bool]:
    with app.app_context():
        person = find_user_by_email(email)
        return {kind.value: on for kind, on in notices.stated_preferences(person.id).items()}


def link_for(app, email: str, kind: NoticeKind) -> str:
    """The path of ``email``'s unsubscribe link for ``kind``, as a notice carries it."""
    with app.app_context():
        person = find_user_by_email(email)
        token = notices.unsubscribe_token(TEST_SECRET, person.id, person.email, kind)
        return f"/account/unsubscribe/{token}"


def ticked(page: str) -> set[str]:
    """The notice boxes ticked on the account page."""
    boxes = re.findall(r'<input [^>]*name="notices-(\w+)"[^>]*>', page)
    tags = re.findall(r'<input [^>]*name="notices-\w+"[^>]*>', page)
    return {name for name, tag in zip(boxes, tags, strict=True) if " checked" in tag}


@pytest.fixture
def resident(app, auth):
    factories.saved(app, factories.city)
    auth.resident("resident@example.org")
    return "resident@example.org"


def test_the_account_page_offers_each_notice_off_until_ticked(app, client, resident):
    page = client.get("/account").text
    for name in KINDS:
        assert f'name="notices-{name}"' in page
    assert ticked(page) == set()
    assert "48 hours before voting ends" in page
    saved = client.post("/account/notices", data={"notices-voting_open": "y",
                                                  "notices-results": "y"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/account#notices")
    page = client.get("/account").text
    assert "Your notices are saved." in page
    assert ticked(page) == {"voting_open", "results"}
    assert stated(app, resident) == {"voting_open": True, "results": True}
    client.post("/account/notices", data={"notices-voting_open": "y"})
    # Unticked: said no. Never ticked: still unsaid (the results of one's own rounds come).
    assert stated(app, resident) == {"voting_open": True, "results": False}
    assert ticked(client.get("/account").text) == {"voting_open"}


def test_the_account_page_speaks_the_account_language(app, client, resident):
    with app.app_context():
        find_user_by_email(resident).language = "sv"
        db.session.commit()
    page = client.get("/account").text
    assert "Meddelanden per e-post" in page and "När röstningen börjar i mitt område" in page


def test_signed_out_the_notices_cannot_be_changed(app, client):
    factories.saved(app, factories.city)
    response = client.post("/account/notices", data={"notices-voting_open": "y"})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_link_shows_a_button_and_only_the_post_unsubscribes(app, client, resident):
    client.post("/account/notices", data={f"notices-{name}": "y" for name in KINDS})
    client.post("/sign-out")
    link = link_for(app, resident, NoticeKind.VOTING_OPEN)
    shown = client.get(link)  # what a mail scanner opening the link does
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "Stop mailing you these notices?" in shown.text
    assert "When voting opens in my area" in shown.text
    assert f'<form method="post" action="{link}">' in shown.text
    assert stated(app, resident)["voting_open"] is True  # nothing changed
    done = client.post(link)
    assert done.status_code == 303 and done.headers["Location"].endswith(link)
    again = client.get(link)
    assert "You are unsubscribed" in again.text
    assert stated(app, resident) == {**dict.fromkeys(KINDS, True), "voting_open": False}


def test_rfc_8058_one_click_works_without_a_session_or_csrf_token(app, resident):
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        notices.set_subscriptions(find_user_by_email(resident), set(NoticeKind))
        db.session.commit()
    mail_client = app.test_client()  # no cookie, no token: only the link and the body
    response = mail_client.post(link_for(app, resident, NoticeKind.VOTING_REMINDER),
                                data="List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200  # answered, not redirected
    assert "You are unsubscribed" in response.text
    assert stated(app, resident) == {**dict.fromkeys(KINDS, True), "voting_reminder": False}
    # Everything else still asks for its CSRF token.
    refused = mail_client.post("/account/notices", data={"notices-results": "y"})
    assert refused.status_code in (302, 400)


@pytest.mark.parametrize("token", ["", "nonsense", "tampered"])
def test_a_bad_or_tampered_link_says_so_and_changes_nothing(app, client, resident, token):
    client.post("/account/notices", data={"notices-results": "y"})
    genuine = link_for(app, resident, NoticeKind.RESULTS)
    if token == "tampered":  # another person's id in a genuine link's payload
        payload, signature = genuine.rsplit("/", 1)[1].split(".")
        link = f"/account/unsubscribe/{payload[:-2]}xx.{signature}"
    else:
        link = f"/account/unsubscribe/{token}" if token else "/account/unsubscribe/"
    for response in (client.get(link), client.post(link)):
        if token == "":
            assert response.status_code == 404
            continue
        assert response.status_code == 400
        assert "This unsubscribe link does not work" in response.text
        assert "The link is incomplete or has been changed." in response.text
    assert stated(app, resident) == {"results": True}


def test_a_link_of_a_deleted_account_says_it_is_gone(app, client, resident):
    link = link_for(app, resident, NoticeKind.RESULTS)
    with app.app_context():
        db.session.delete(find_user_by_email(resident))
        db.session.commit()
    response = client.post(link)
    assert response.status_code == 200
    assert "no longer exists" in response.text


def test_the_unsubscribe_page_speaks_the_language_of_the_account(app, resident):
    with app.app_context():
        find_user_by_email(resident).language = "fi"
        db.session.commit()
    page = app.test_client().get(link_for(app, resident, NoticeKind.IDEAS_OPEN),
                                 headers={"Accept-Language": "en"})
    assert 'lang="fi"' in page.text
    assert "Lopetetaanko näiden ilmoitusten lähettäminen sinulle?" in page.text


def test_a_mailed_link_unsubscribes_from_its_kind_only(app, client, mailbox, resident):
    """The whole way: opt in, voting opens, the mail's link unsubscribes from it."""
    client.post("/account/notices", data={"notices-voting_open": "y",
                                          "notices-ideas_open": "y"})
    with app.app_context():
        keskusta = db.session.execute(select(Table)).scalars().first()
        town = factories.round_(keskusta, RoundPhase.REVIEW)
        factories.proposal(town, status=ProposalStatus.ACCEPTED)
        rounds.transition(find_user_by_email("coordinator@example.org"), town,
                          RoundPhase.VOTING)
        db.session.commit()
    [mail] = [m for m in mailbox if m.subject.startswith("Voting has opened")]
    assert mail.to == resident
    link = re.search(r"http://pb\.test(/account/unsubscribe/\S+)", mail.body).group(1)
    assert mail.headers["List-Unsubscribe"] == f"<http://pb.test{link}>"
    assert client.post(link).status_code == 303
    with app.app_context():
        said = dict(db.session.execute(
            select(NoticePreference.kind, NoticePreference.subscribed)).all())
    assert said == {NoticeKind.VOTING_OPEN: False, NoticeKind.IDEAS_OPEN: True}
