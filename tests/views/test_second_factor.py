"""The staff second factor through the pages, in the "required" mode the service defaults
to (the other tests run "optional"): enrolment on first sign-in, the code after every
password, recovery codes, replays and wrong codes refused, a city admin's reset; and a
session that gave only the password can do nothing."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    LoginSession,
    MembershipRole,
    Publication,
    RecoveryCode,
    Round,
    RoundPhase,
    SecondFactor,
    Table,
    TableMembership,
    User,
)
from pb_vote.services import accounts, second_factor
from tests import factories


@pytest.fixture
def city(app):
    """factories.city() in the "required" mode."""
    app.config["STAFF_SECOND_FACTOR"] = "required"
    return factories.saved(app, factories.city)


def _enrol(app, email: str) -> factories.Enrolment:
    with app.app_context():
        person = accounts.find_user_by_email(email)
        enrolment = factories.enrolled(person)
        db.session.commit()
        return enrolment


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars())


def _sessions(app, email: str) -> list[LoginSession]:
    with app.app_context():
        return list(db.session.execute(
            select(LoginSession).join(User).where(User.email == email)).scalars())


def _secret_on(page: str) -> str:
    found = re.search(r'id="second-factor-secret">([A-Z2-7 ]+)<', page)
    assert found, "no secret on the enrolment page"
    return found.group(1).replace(" ", "")


def test_a_coordinator_enrols_at_first_sign_in_and_gets_recovery_codes(app, client, auth,
                                                                        city, mailbox):
    answer = auth.staff("coordinator@example.org")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/staff/second-factor")
    assert client.get("/staff/second-factor").headers["Location"].endswith(
        "/staff/second-factor/enrol")
    page = client.get("/staff/second-factor/enrol")
    assert page.status_code == 200
    assert "<svg" in page.text and "QR code" in page.text
    secret = _secret_on(page.text)
    assert client.get("/staff/second-factor/enrol").text.count(secret[:4]) >= 1  # kept

    wrong = client.post("/staff/second-factor/enrol", data={"code": "000000"})
    assert wrong.status_code == 400
    assert "This code is wrong." in wrong.text
    assert client.get("/manage").status_code == 303  # not in effect, not signed in

    import pyotp

    done = client.post("/staff/second-factor/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<strong>([2-9A-Z]{4}(?:-[2-9A-Z]{4}){3})</strong>", done.text)
    assert len(set(codes)) == second_factor.RECOVERY_CODE_COUNT == 10
    assert "this page shows them only once" in done.text
    [mail] = mailbox
    assert mail.to == "coordinator@example.org"
    assert "A second factor (an authenticator app) was set up" in mail.body
    assert "If this was not you, tell a city admin at once" in mail.body
    assert client.get("/manage").status_code == 200
    [event] = _events(app, "second_factor.enrolled")
    with app.app_context():
        assert db.session.get(User, event.actor_id).email == "coordinator@example.org"
        factor = db.session.get(SecondFactor, event.actor_id)
        assert factor.confirmed_at is not None
        assert secret.encode() not in factor.secret_sealed  # sealed at rest
        stored = db.session.execute(select(RecoveryCode.code_hash)).scalars().all()
        assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)
    # The waiting session was replaced by a full one on a new token.
    [session_row] = _sessions(app, "coordinator@example.org")
    assert session_row.second_factor_at is not None


def test_a_password_alone_reaches_nothing_and_changes_nothing(app, client, auth, city):
    _enrol(app, "admin@example.org")
    assert auth.staff("admin@example.org").headers["Location"].endswith("/staff/second-factor")
    [waiting] = _sessions(app, "admin@example.org")
    assert waiting.second_factor_at is None
    assert waiting.expires_at - waiting.created_at <= timedelta(minutes=10)
    for path in ("/manage", "/admin", "/admin/audit", "/account", "/my-proposals", "/"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["Location"].endswith("/staff/second-factor"), path
    granted = client.post("/admin", data={"email": "new@example.org", "table_id": city.own_id,
                                          "role": "coordinator"})
    assert granted.headers["Location"].endswith("/staff/second-factor")
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(TableMembership).where(
            TableMembership.role == MembershipRole.COORDINATOR)).scalar_one() == 1
    assert "Second step of signing in" in client.get("/staff/second-factor").text


def test_the_code_signs_in_once_and_a_replay_is_refused(app, client, auth, city,
                                                        frozen_clock):
    enrolment = _enrol(app, "coordinator@example.org")
    code = enrolment.code()
    auth.staff("coordinator@example.org")
    answer = client.post("/staff/second-factor", data={"code": code[:3] + " " + code[3:]})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/manage")
    assert client.get("/manage").status_code == 200
    auth.sign_out()

    auth.staff("coordinator@example.org")
    replay = client.post("/staff/second-factor", data={"code": code})
    assert replay.status_code == 400
    assert "This code is wrong or was used already." in replay.text
    frozen_clock.advance(seconds=30)
    assert client.post("/staff/second-factor",
                       data={"code": enrolment.code()}).status_code == 303
    assert client.get("/manage").status_code == 200


def test_a_code_too_old_is_refused(app, client, auth, city, frozen_clock):
    enrolment = _enrol(app, "coordinator@example.org")
    old = enrolment.code(steps=-2)
    auth.staff("coordinator@example.org")
    assert client.post("/staff/second-factor", data={"code": old}).status_code == 400


def test_a_recovery_code_works_once_and_is_audited(app, client, auth, city, mailbox):
    enrolment = _enrol(app, "coordinator@example.org")
    code = enrolment.recovery_codes[3]
    auth.staff("coordinator@example.org")
    used = client.post("/staff/second-factor/recovery", data={"recovery_code": code.lower()})
    assert used.status_code == 303
    assert "9 codes are left" in client.get("/manage").text
    [event] = _events(app, "second_factor.recovery_code_used")
    assert event.details == {"left": 9}
    assert "with one of its recovery codes" in mailbox[-1].body
    auth.sign_out()

    auth.staff("coordinator@example.org")
    again = client.post("/staff/second-factor/recovery", data={"recovery_code": code})
    assert again.status_code == 400
    assert "This recovery code is wrong or was used already." in again.text
    assert client.get("/manage").status_code == 303


def test_wrong_codes_are_limited_before_they_are_checked(app, client, auth, city):
    app.config["SECOND_FACTOR_ATTEMPTS_PER_15_MINUTES"] = 3
    enrolment = _enrol(app, "coordinator@example.org")
    auth.staff("coordinator@example.org")
    for wrong in ("111111", "222222", "333333"):
        assert client.post("/staff/second-factor", data={"code": wrong}).status_code == 400
    refused = client.post("/staff/second-factor", data={"code": enrolment.code()})
    assert refused.status_code == 429
    assert "Too many wrong codes." in refused.text
    recovery = client.post("/staff/second-factor/recovery",
                           data={"recovery_code": enrolment.recovery_codes[0]})
    assert recovery.status_code == 429  # one limit for both kinds of code
    assert client.get("/manage").status_code == 303


def test_members_are_asked_only_when_the_city_says_so(app, client, auth, city):
    assert auth.staff("member@example.org").headers["Location"].endswith("/manage")
    auth.sign_out()
    app.config["STAFF_SECOND_FACTOR_FOR_MEMBERS"] = True
    assert auth.staff("member@example.org").headers["Location"].endswith(
        "/staff/second-factor")


def test_a_member_made_coordinator_is_stopped_until_they_enrol(app, client, auth, city):
    auth.staff("member@example.org")
    assert client.get("/manage").status_code == 200
    with app.app_context():
        db.session.execute(
            TableMembership.__table__.update().values(role=MembershipRole.COORDINATOR.value))
        db.session.commit()
    answer = client.get("/manage")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/staff/second-factor")


def test_optional_and_off_modes(app, client, auth, city):
    app.config["STAFF_SECOND_FACTOR"] = "optional"
    assert auth.staff("coordinator@example.org").headers["Location"].endswith("/manage")
    settings = client.get("/staff/second-factor/settings")
    assert "Set up your second factor" in settings.text
    auth.sign_out()
    _enrol(app, "coordinator@example.org")
    assert auth.staff("coordinator@example.org").headers["Location"].endswith(
        "/staff/second-factor")
    auth.sign_out()
    app.config["STAFF_SECOND_FACTOR"] = "off"
    assert auth.staff("coordinator@example.org").headers["Location"].endswith("/manage")
    assert client.get("/staff/second-factor/enrol").status_code == 404


def test_enrolling_from_a_full_session_in_optional_mode(app, client, auth, city):
    import pyotp

    app.config["STAFF_SECOND_FACTOR"] = "optional"
    auth.staff("member@example.org")
    secret = _secret_on(client.get("/staff/second-factor/enrol").text)
    done = client.post("/staff/second-factor/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "Your second factor is set up" in done.text
    assert client.get("/manage").status_code == 200
    assert "10 recovery codes are unused." in client.get("/staff/second-factor/settings").text


def test_new_recovery_codes_replace_the_old(app, client, auth, city, frozen_clock):
    enrolment = _enrol(app, "coordinator@example.org")
    auth.staff("coordinator@example.org")
    client.post("/staff/second-factor", data={"code": enrolment.code()})
    page = client.post("/staff/second-factor/recovery-codes")
    assert page.status_code == 200
    new = re.findall(r"<strong>([2-9A-Z]{4}(?:-[2-9A-Z]{4}){3})</strong>", page.text)
    assert len(new) == 10 and not set(new) & set(enrolment.recovery_codes)
    assert _events(app, "second_factor.recovery_codes_renewed")
    auth.sign_out()
    auth.staff("coordinator@example.org")
    assert client.post("/staff/second-factor/recovery", data={
        "recovery_code": enrolment.recovery_codes[0]}).status_code == 400
    assert client.post("/staff/second-factor/recovery", data={
        "recovery_code": new[0]}).status_code == 303


def test_a_city_admin_resets_another_staff_members_second_factor(app, client, auth, city,
                                                                 frozen_clock, mailbox):
    admin = _enrol(app, "admin@example.org")
    _enrol(app, "coordinator@example.org")
    other = app.test_client()
    other.post("/staff/sign-in", data={"email": "coordinator@example.org",
                                       "password": factories.STAFF_PASSWORD})
    auth.staff("admin@example.org")
    client.post("/staff/second-factor", data={"code": admin.code()})

    no_reason = client.post("/admin/second-factor/reset",
                            data={"reset-email": "coordinator@example.org", "reset-reason": ""})
    assert no_reason.status_code == 400 and "Give a reason." in no_reason.text
    own = client.post("/admin/second-factor/reset",
                      data={"reset-email": "admin@example.org", "reset-reason": "lost"})
    assert own.status_code == 400
    assert "Another city admin must reset your own second factor." in own.text
    resident = client.post("/admin/second-factor/reset",
                           data={"reset-email": "resident@example.org", "reset-reason": "x"})
    assert "No staff account has this address." in resident.text

    done = client.post("/admin/second-factor/reset", data={
        "reset-email": "coordinator@example.org",
        "reset-reason": "Lost her phone; asked in person at the office."})
    assert done.status_code == 303
    [event] = _events(app, "second_factor.reset")
    assert event.details == {"reason": "Lost her phone; asked in person at the office."}
    assert event.actor_role == "city_admin"
    assert _sessions(app, "coordinator@example.org") == []
    assert mailbox[-1].to == "coordinator@example.org"
    assert "A city admin reset the second factor" in mailbox[-1].body
    audit = client.get("/admin/audit").text
    assert "Reset a person&#39;s second factor" in audit and "Lost her phone" in audit
    answer = other.post("/staff/sign-in", data={"email": "coordinator@example.org",
                                                "password": factories.STAFF_PASSWORD})
    assert other.get(answer.headers["Location"]).headers["Location"].endswith(
        "/staff/second-factor/enrol")


def test_a_new_password_by_mail_link_still_asks_for_the_code(app, client, auth, city,
                                                             mailbox):
    from tests.conftest import link_in

    _enrol(app, "coordinator@example.org")
    client.post("/password/forgot", data={"email": "coordinator@example.org"})
    client.get(link_in(mailbox[-1].body))
    answer = client.post("/password/new", data={"password": "a brand new password",
                                                "confirm": "a brand new password"})
    assert answer.headers["Location"].endswith("/staff/second-factor")
    assert client.get("/manage").status_code == 303


def test_cancelling_the_second_step_ends_the_waiting_session(app, client, auth, city):
    auth.staff("coordinator@example.org")
    assert client.post("/sign-out").status_code == 303
    assert _sessions(app, "coordinator@example.org") == []
    assert client.get("/staff/second-factor").headers["Location"].endswith("/staff/sign-in")


def test_residents_never_see_the_second_factor(app, client, auth, city):
    auth.resident("resident@example.org")
    assert client.get("/account").status_code == 200
    assert client.get("/staff/second-factor/enrol").status_code == 403
    assert client.get("/staff/second-factor/settings").status_code == 403


def test_publishing_needs_the_full_sign_in(app, client, auth, city):
    """A coordinator with only the password cannot publish a count."""
    with app.app_context():
        round_id = factories.closed_round(db.session.get(Table, city.own_id),
                                          ballots=3).round_id
        db.session.commit()
    auth.staff("coordinator@example.org")
    answer = client.post(f"/manage/rounds/{round_id}/results",
                         data={"action": "publish", "publish-confirm": "y"})
    assert answer.headers["Location"].endswith("/staff/second-factor")
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.CLOSED
        assert db.session.execute(select(func.count()).select_from(Publication)).scalar_one() == 0


def test_a_lost_key_is_said_so_and_a_recovery_code_still_works(app, client, auth, city):
    from pb_vote.services.ballot_box import new_key

    enrolment = _enrol(app, "coordinator@example.org")
    app.config["SECOND_FACTOR_KEYS"] = [new_key()]
    app.extensions.pop("pb_vote.second_factor_keys", None)
    auth.staff("coordinator@example.org")
    answer = client.post("/staff/second-factor", data={"code": enrolment.code()})
    assert answer.status_code == 503
    assert "Your second factor cannot be checked now." in answer.text
    assert client.post("/staff/second-factor/recovery", data={
        "recovery_code": enrolment.recovery_codes[0]}).status_code == 303
