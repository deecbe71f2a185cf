"""Signing in by emailed link and by password; signing out for good."""

import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.extensions import db
from pb_vote.models import LoginSession, User
from tests import factories
from tests.conftest import link_in


@pytest.fixture
def staff(app):
    """factories.city(), whose staff sign in with factories.STAFF_PASSWORD."""
    factories.saved(app, factories.city)


def _user_count(app, email):
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(User).where(User.email == email)
        ).scalar_one()


def test_resident_signs_in_with_an_emailed_link(app, client, mailbox):
    response = client.post("/sign-in", data={"email": "  New.Resident@Example.org "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/sign-in/sent")
    assert "new.resident@example.org" in client.get("/sign-in/sent").text
    [mail] = mailbox
    assert mail.to == "new.resident@example.org"
    link = link_in(mail.body)
    assert link.startswith("/sign-in/link/")

    # The token is swapped into the session at once: the page that signs in has a clean URL.
    opened = client.get(link)
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith("/sign-in/confirm")
    confirm_page = client.get("/sign-in/confirm")
    assert "new.resident@example.org" in confirm_page.text
    assert _user_count(app, "new.resident@example.org") == 0  # opening the link is not enough

    signed_in = client.post("/sign-in/confirm")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].endswith("/account")  # new: asked for postal code
    assert _user_count(app, "new.resident@example.org") == 1
    assert "new.resident@example.org" in client.get("/account").text


def test_a_link_works_only_once(app, client, auth):
    link = auth.request_link("someone@example.org")
    client.get(link)
    client.post("/sign-in/confirm")
    client.post("/sign-out")

    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.text
    assert 'name="email"' in again.text and "someone@example.org" in again.text


def test_an_expired_link_says_so_and_offers_a_new_one(app, client, auth, monkeypatch):
    link = auth.request_link("late@example.org")
    later = time.time() + 16 * 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.get(link)
    assert response.status_code == 400
    assert "expired" in response.text
    assert "late@example.org" in response.text  # the new-link form is filled in
    assert 'action="/sign-in"' in response.text


def test_a_link_that_expires_between_opening_and_confirming_is_refused(app, client, auth,
                                                                       monkeypatch):
    link = auth.request_link("slow@example.org")
    client.get(link)
    later = time.time() + 16 * 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    response = client.post("/sign-in/confirm")
    assert response.status_code == 400
    assert "expired" in response.text
    assert _user_count(app, "slow@example.org") == 0


def test_a_forged_link_is_refused(client):
    response = client.get("/sign-in/link/not-a-real-token")
    assert response.status_code == 400
    assert "not valid" in response.text


def test_a_mistyped_email_is_explained_and_kept(client, mailbox):
    response = client.post("/sign-in", data={"email": "not-an-address"})
    assert response.status_code == 200
    assert "Enter an email address like name@example.fi." in response.text
    assert 'value="not-an-address"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert mailbox == []


def test_links_are_rate_limited_per_address(app, client, mailbox):
    for _ in range(app.config["SIGN_IN_LINKS_PER_EMAIL_PER_HOUR"] + 3):
        assert client.post("/sign-in", data={"email": "spam@example.org"}).status_code == 303
    assert len(mailbox) == app.config["SIGN_IN_LINKS_PER_EMAIL_PER_HOUR"]


def test_staff_asking_for_a_link_are_told_to_use_their_password(app, client, mailbox, staff):
    client.post("/sign-in", data={"email": "coordinator@example.org"})
    [mail] = mailbox
    assert "/staff/sign-in" in mail.body
    assert "/sign-in/link/" not in mail.body


def test_staff_sign_in_with_password(client, auth, staff):
    response = auth.staff("Coordinator@Example.org")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/manage")
    assert "Staff pages" in client.get("/manage").text


@pytest.mark.parametrize(("language", "said"), [("fi", "Olet kirjautunut sisään."),
                                                 ("sv", "Du är inloggad.")])
def test_the_signed_in_message_speaks_the_accounts_language(app, client, auth, staff,
                                                             language, said):
    with app.app_context():
        person = db.session.execute(
            select(User).where(User.email == "coordinator@example.org")).scalar_one()
        person.language = language
        db.session.commit()
    client.set_cookie(LANGUAGE_COOKIE, "en", domain="pb.test")  # the page was English
    auth.staff("coordinator@example.org")
    assert said in client.get("/manage").text


def test_a_wrong_password_is_refused_and_the_email_kept(client, auth, staff):
    response = auth.staff("coordinator@example.org", "wrong password!!")
    assert response.status_code == 200
    assert "The email address or password is wrong." in response.text
    assert 'value="coordinator@example.org"' in response.text
    assert client.get("/manage").status_code == 302


def test_sign_out_ends_the_session_even_for_a_copied_cookie(app, client, auth, staff):
    auth.staff("coordinator@example.org")
    stolen = client.get_cookie("session", domain="pb.test").value
    assert client.get("/manage").status_code == 200
    auth.sign_out()
    assert client.get("/manage").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="pb.test")
    response = thief.get("/manage")
    assert response.status_code == 302  # the stored session row is gone
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(LoginSession)).scalar() == 0


def test_staff_choose_a_password_by_link(app, client, mailbox, staff):
    client.post("/password/forgot", data={"email": "coordinator@example.org"})
    [mail] = mailbox
    link = link_in(mail.body)
    opened = client.get(link)
    assert opened.headers["Location"].endswith("/password/new")
    short = client.post("/password/new", data={"password": "short", "confirm": "short"})
    assert "Use 12 to 200 characters." in short.text
    new_password = "a much longer new password"
    saved = client.post("/password/new", data={"password": new_password, "confirm": new_password})
    assert saved.status_code == 303
    client.post("/sign-out")
    fresh = app.test_client()
    response = fresh.post(
        "/staff/sign-in", data={"email": "coordinator@example.org", "password": new_password}
    )
    assert response.status_code == 303


def test_forgot_password_does_not_reveal_unknown_addresses(client, mailbox):
    response = client.post("/password/forgot", data={"email": "nobody@example.org"})
    assert response.status_code == 303
    assert mailbox == []


def test_production_cookies_are_secure_httponly_and_lax(app, client, auth, staff):
    app.config["SESSION_COOKIE_SECURE"] = True
    response = client.post(
        "/staff/sign-in",
        data={"email": "coordinator@example.org", "password": factories.STAFF_PASSWORD},
        base_url="https://pb.test",
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_need_a_csrf_token(app, client, mailbox):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/sign-in", data={"email": "a@example.org"})
    assert response.status_code == 400
    assert "expired" in response.text
    assert mailbox == []


@pytest.mark.parametrize(
    ("asked", "lands"),
    [("/tables/keskusta", "/tables/keskusta"), ("https://evil.example/", "/"),
     ("//evil.example/x", "/"), (None, "/")],
    ids=["a page of the site", "another site", "another site, scheme-relative",
         "another site, added to the mailed link"],
)
def test_next_is_kept_through_sign_in_but_never_leaves_the_site(app, client, mailbox,
                                                                 asked, lands):
    with app.app_context():
        factories.user("next@example.org")  # with a postal code: not sent to /account
        db.session.commit()
    client.post("/sign-in", data={"email": "next@example.org", "next": asked or ""})
    link = link_in(mailbox[-1].body)
    if asked is None:  # a next added to the mailed link by hand is checked too
        link += "?next=https://evil.example/"
    client.get(link)
    location = urlsplit(client.post("/sign-in/confirm").headers["Location"])
    assert location.netloc in ("", "pb.test")
    assert location.path == lands


# -- wrong staff passwords are capped per address -----------------------------------------

def _wrong_passwords(auth, email, count):
    for _ in range(count):
        assert auth.staff(email, "wrong password!!").status_code == 200


def test_after_ten_wrong_passwords_the_address_waits_fifteen_minutes(
        app, client, auth, staff, frozen_clock):
    _wrong_passwords(auth, "coordinator@example.org", 10)
    locked = auth.staff("Coordinator@example.org")  # the right password, any case
    assert locked.status_code == 429
    assert "Too many wrong passwords for this address." in locked.text
    assert client.get("/manage").status_code == 302
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(LoginSession)).scalar() == 0
    frozen_clock.advance(minutes=15, seconds=1)
    assert auth.staff("coordinator@example.org").status_code == 303


def test_the_cap_is_per_address_and_the_same_for_unknown_ones(app, auth, staff, frozen_clock):
    _wrong_passwords(auth, "nobody@example.org", 10)
    unknown = auth.staff("nobody@example.org")
    assert unknown.status_code == 429
    assert "Too many wrong passwords for this address." in unknown.text
    assert auth.staff("coordinator@example.org").status_code == 303


def test_a_new_password_by_mail_link_lifts_the_cap(app, client, auth, mailbox, staff,
                                                  frozen_clock):
    _wrong_passwords(auth, "coordinator@example.org", 10)
    client.post("/password/forgot", data={"email": "coordinator@example.org"})
    client.get(link_in(mailbox[-1].body))
    new_password = "a much longer new password"
    saved = client.post("/password/new", data={"password": new_password, "confirm": new_password})
    assert saved.status_code == 303
    client.post("/sign-out")
    assert auth.staff("coordinator@example.org", new_password).status_code == 303
