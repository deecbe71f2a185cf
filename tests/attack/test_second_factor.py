"""The staff second factor attacked over real HTTP against gunicorn in the "required" mode
(the service's default), on SQLite and on PostgreSQL.

A session cookie after the password step only publishes nothing, gives no role and resets
nothing, even with a valid CSRF token (direct POSTs); nor is that cookie of use once the
second step is done (a new token replaces it). A burst of parallel wrong codes gets no more
checks than the limit (each code is counted before it is checked), and the right code sent
after them waits too. One code, or one recovery code, sent by several browsers at once
signs in one of them."""

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pb_vote.models import MembershipRole
from tests import factories

SERVICE_ENVIRONMENT = {"PB_VOTE_STAFF_SECOND_FACTOR": "required"}
LIMIT = 5  # the default SECOND_FACTOR_ATTEMPTS_PER_15_MINUTES
GUESSES = 24
AT_ONCE = 8
WRONG = "This code is wrong or was used already."
SECOND_STEP = "/staff/second-factor"


def seed(scenario: dict) -> None:
    city = factories.city()
    scenario["closed"] = factories.closed_round(city.own, ballots=3).round_id
    scenario["admin"] = factories.enrolled(city.admin)
    scenario["coordinator"] = factories.enrolled(city.coordinator)
    for name in ("guessed", "replayed", "recovered"):
        person = factories.user(f"{name}@example.org", postal_code=None,
                                role=MembershipRole.COORDINATOR, at=city.own)
        scenario[name] = factories.enrolled(person)


def at_once(*calls):
    """Run ``calls`` in threads released together from a barrier; their answers, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def waiting(service, email: str):
    """A browser that gave the right password, and so waits for the second step."""
    browser = service.browser()
    browser.sign_in_staff(email, factories.STAFF_PASSWORD)
    assert browser.get("/manage").headers["Location"].endswith(SECOND_STEP)
    return browser


def prepared(browser, path: str, fields: list):
    """A post with the CSRF token of the second-step page (the only page such a session
    sees), ready to send."""
    token = browser.token(SECOND_STEP)
    return lambda: browser.post(path, [("csrf_token", token), *fields])


def _counted(service, user_id: int) -> int:
    return service.sql("SELECT count(*) FROM rate_limit_events WHERE bucket = :bucket AND "
                       "key_hash = :key", bucket="staff_second_factor",
                       key=hashlib.sha256(str(user_id).encode()).hexdigest())[0][0]


def test_a_password_alone_cannot_publish_grant_roles_or_reset(service):
    round_id = service.scenario["closed"]
    memberships = service.sql("SELECT count(*) FROM table_memberships")
    coordinator = waiting(service, "coordinator@example.org")
    admin = waiting(service, "admin@example.org")
    attacks = [
        prepared(coordinator, f"/manage/rounds/{round_id}/results",
                 [("action", "publish"), ("publish-confirm", "y")]),
        prepared(coordinator, f"/manage/rounds/{round_id}/phase", [("to", "cancelled")]),
        prepared(admin, "/admin", [("email", "intruder@example.org"), ("table_id", "1"),
                                   ("role", "coordinator")]),
        prepared(admin, "/admin/second-factor/reset",
                 [("reset-email", "coordinator@example.org"), ("reset-reason", "takeover")]),
        prepared(admin, "/account", [("display_name", "Intruder"), ("language", "en"),
                                     ("postal_code", "")]),
    ]
    for attack in attacks:
        answer = attack()
        assert answer.status_code == 303
        assert answer.headers["Location"].endswith(SECOND_STEP)
    for page in ("/manage", f"/manage/rounds/{round_id}/results", "/admin", "/admin/audit"):
        assert admin.get(page).headers["Location"].endswith(SECOND_STEP)
    assert service.sql("SELECT phase FROM rounds WHERE id = :id", id=round_id) == [("closed",)]
    assert service.sql("SELECT count(*) FROM publications") == [(0,)]
    assert service.sql("SELECT count(*) FROM table_memberships") == memberships
    assert service.sql("SELECT count(*) FROM users WHERE email = 'intruder@example.org'") == [
        (0,)]
    assert service.sql("SELECT count(*) FROM second_factors WHERE confirmed_at IS NOT NULL"
                       ) == [(5,)]
    assert service.sql("SELECT count(*) FROM audit_events WHERE action IN "
                       "('results.published', 'membership.granted', 'second_factor.reset')"
                       ) == [(0,)]

    # The cookie of the password step is of no use after the second step either.
    copied = service.browser()
    copied.http.cookies.update(coordinator.http.cookies)
    code = service.scenario["coordinator"].code()
    done = coordinator.submit(SECOND_STEP, {"code": code})
    assert done.status_code == 303 and done.headers["Location"].endswith("/manage")
    assert coordinator.get("/manage").status_code == 200
    assert copied.get("/manage").status_code in (302, 303)
    assert service.server_errors() == []


def test_a_burst_of_wrong_codes_gets_no_more_checks_than_the_limit(service):
    enrolment = service.scenario["guessed"]
    browsers = [waiting(service, "guessed@example.org") for _ in range(4)]
    guesses = [prepared(browsers[n % len(browsers)], SECOND_STEP,
                        [("code", f"{(n * 7919) % 1_000_000:06d}")])
               for n in range(GUESSES)]
    right = prepared(browsers[0], SECOND_STEP, [("code", enrolment.code())])

    def late():
        time.sleep(0.3)
        return right()

    answers = at_once(*guesses, late)
    checked = [a for a in answers[:-1] if a.status_code == 400 and WRONG in a.text]
    assert {a.status_code for a in answers[:-1]} <= {400, 429}, service.server_errors()
    assert len(checked) == LIMIT == _counted(service, enrolment.user_id)
    assert answers[-1].status_code == 429
    assert "Too many wrong codes." in answers[-1].text
    assert browsers[0].get("/manage").headers["Location"].endswith(SECOND_STEP)
    assert service.server_errors() == []


def _one_signed_in(answers, browsers) -> None:
    """One answer signed in; the others were refused as used (400) or, once the wrong
    ones reached the limit, as too many (429); only the winner's browser is signed in."""
    codes = [a.status_code for a in answers]
    assert codes.count(303) == 1 and set(codes) <= {303, 400, 429}, codes
    for browser, answer in zip(browsers, answers, strict=True):
        signed_in = browser.get("/manage").status_code == 200
        assert signed_in == (answer.status_code == 303)


def test_one_code_sent_at_once_from_many_browsers_signs_in_once(service):
    enrolment = service.scenario["replayed"]
    browsers = [waiting(service, "replayed@example.org") for _ in range(AT_ONCE)]
    code = enrolment.code()
    answers = at_once(*(prepared(b, SECOND_STEP, [("code", code)]) for b in browsers))
    _one_signed_in(answers, browsers)
    late = waiting(service, "replayed@example.org")
    assert late.submit(SECOND_STEP, {"code": code}).status_code in (400, 429)

    recovery = service.scenario["recovered"].recovery_codes[0]
    browsers = [waiting(service, "recovered@example.org") for _ in range(AT_ONCE)]
    answers = at_once(*(prepared(b, f"{SECOND_STEP}/recovery", [("recovery_code", recovery)])
                        for b in browsers))
    _one_signed_in(answers, browsers)
    assert service.sql("SELECT count(*) FROM audit_events WHERE action = "
                       "'second_factor.recovery_code_used'") == [(1,)]
    assert service.server_errors() == []
