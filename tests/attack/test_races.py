"""Races over real HTTP against gunicorn (several workers and threads), on SQLite and on
PostgreSQL: the requests of each race are prepared (signed in, forms read), then released
together from a barrier, and each race is run several times. Every test ends with its
invariant checked in the database, and no answer or log line is a server error.

Moderation changes a proposal only from the status it was decided from; two audited staff
actions at once both join the audit chain; two publications (or corrections) at once make
one; a burst of guesses gets no more checks than the limit; and a close by hand records
the instant after which no ballot was accepted."""

import hashlib
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from pb_vote.extensions import db
from pb_vote.models import MembershipRole, RoundPhase, VoterEligibility
from pb_vote.services import voting
from pb_vote.services.audit import verify_chain
from tests import factories

TRIALS = 8  # how many times each moderation race runs on each database
AT_ONCE = 12  # staff actions released together
PUBLISH_TRIALS = 3
CLOSE_TRIALS = 3
VOTERS = 16  # code holders voting while a round is closed by hand
GUESSES = 60
GUESS_TRIALS = 2
LIMIT = 10  # the default STAFF_PASSWORD_ATTEMPTS and CODE_ATTEMPTS_PER_BROWSER per 15 min

# A count runs in the request that asks for it: no task worker runs beside this service.
SERVICE_ENVIRONMENT = {"PB_VOTE_TASK_QUEUE": "immediate"}

ACTED = "Someone else acted on this proposal at the same moment"
# What a request that read the other's outcome first is told: the status no longer allows
# it, or (merging) the duplicate is no longer among the choices.
LATE = ("This proposal&#39;s status does not allow that action.",
        "is not a valid choice for this field.")
WRONG_PASSWORD = "The email address or password is wrong."
WRONG_CODE = "This code cannot be used for this round."


def seed(scenario: dict) -> None:
    city = factories.city()
    author = factories.user("author@example.org")
    review = factories.round_(city.own, RoundPhase.REVIEW, title="Ideas 2027")

    def idea(title: str) -> int:
        return factories.proposal(review, author=author, title=title).id

    scenario["hide_merge"] = [(idea(f"Hidden or merged {n}"), idea(f"Survivor {n}"))
                              for n in range(TRIALS)]
    scenario["accept_reject"] = [idea(f"Accepted or rejected {n}") for n in range(TRIALS)]
    scenario["at_once"] = [idea(f"One of many {n}") for n in range(AT_ONCE)]
    scenario["closed"] = []
    for n in range(PUBLISH_TRIALS):
        built = factories.closed_round(city.own, ballots=3, title=f"Counted {n}")
        scenario["closed"].append(built.round_id)
        for voter in built.voters:  # the factory names every round's voters voter0@...
            voter.email = f"counted{n}-{voter.email}"
        db.session.flush()
    scenario["voting"] = []
    for n in range(CLOSE_TRIALS + 1):
        built = factories.voting_round(city.own, title=f"Codes {n}",
                                       voter_eligibility=VoterEligibility.CODES)
        scenario["voting"].append({
            "round": built.round_id, "choices": built.proposal_ids,
            "codes": voting.generate_codes(city.coordinator, built.round, VOTERS),
        })
    scenario["targets"] = [
        factories.user(f"target{n}@example.org", role=MembershipRole.MEMBER, at=city.own).email
        for n in range(GUESS_TRIALS)]


# --- Helpers -------------------------------------------------------------------------------

def at_once(*calls):
    """Run ``calls`` in threads released together from a barrier; their answers, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait(60)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def staff(service, email: str = "coordinator@example.org"):
    browser = service.browser()
    browser.sign_in_staff(email, factories.STAFF_PASSWORD)
    return browser


def prepared(browser, form_path: str, fields: list, to: str | None = None):
    """A form post ready to send: its page read (and CSRF token taken) now, sent on call."""
    token = browser.token(form_path)
    return lambda: browser.post(to or form_path, [("csrf_token", token), *fields])


def moderation(browser, proposal_id: int, action: str, **fields):
    """A moderation action ready to send, with the status its page shows now."""
    page = f"/manage/proposals/{proposal_id}"
    seen = re.search(rf'name="{action}-seen" value="(\w+)"', browser.get(page).text).group(1)
    values = [(f"{action}-seen", seen),
              *((f"{action}-{name}", value) for name, value in fields.items())]
    return prepared(browser, page, values, to=f"{page}/{action}")


def outcomes(answers) -> list[str]:
    """Each moderation answer as done (303), acted (refused: someone else acted), late
    (refused: it read the other's outcome first) or what else it was."""
    found = []
    for answer in answers:
        if answer.status_code == 303:
            found.append("done")
        elif answer.status_code == 400 and ACTED in answer.text:
            found.append("acted")
        elif answer.status_code == 400 and any(words in answer.text for words in LATE):
            found.append("late")
        else:
            found.append(f"{answer.status_code}")
    return found


def one_done(found: list[str]) -> bool:
    return sorted(found) in (["acted", "done"], ["done", "late"])


# --- Moderation ----------------------------------------------------------------------------

def test_hide_and_merge_at_once_leave_a_proposal_hidden_or_merged(service):
    member, coordinator = staff(service, "member@example.org"), staff(service)
    seen = []
    for duplicate, survivor in service.scenario["hide_merge"]:
        seen.append(outcomes(at_once(
            moderation(member, duplicate, "hide", reason="Abusive.", confirm="y"),
            moderation(coordinator, survivor, "merge", duplicates=str(duplicate)),
        )))
    assert all(one_done(found) for found in seen), (seen, service.server_errors())
    assert service.sql("SELECT id, status FROM proposals WHERE merged_into_id IS NOT NULL "
                       "AND (status <> 'merged' OR hidden_reason IS NOT NULL)") == []
    visitor = service.browser()
    for n, (duplicate, survivor) in enumerate(service.scenario["hide_merge"]):
        [(status,)] = service.sql("SELECT status FROM proposals WHERE id = :id", id=duplicate)
        events = service.sql("SELECT action FROM audit_events WHERE object_type = 'proposal' "
                             "AND object_id = :id",
                             id=str(duplicate))
        assert [action for (action,) in events] == [f"proposal.{status}"]
        page = visitor.get(f"/proposals/{survivor}")
        assert page.status_code == 200
        assert (f"Hidden or merged {n}" in page.text) is (status == "merged")
    assert service.server_errors() == []


def test_accept_and_reject_at_once_do_one_of_them(service):
    member, coordinator = staff(service, "member@example.org"), staff(service)
    seen = []
    for proposal in service.scenario["accept_reject"]:
        seen.append(outcomes(at_once(
            moderation(member, proposal, "accept", reviewed_cost="4000", public_note=""),
            moderation(coordinator, proposal, "reject", reason="Not feasible.", confirm="y"),
        )))
    assert all(one_done(found) for found in seen), (seen, service.server_errors())
    for proposal in service.scenario["accept_reject"]:
        [(status, cost, reason)] = service.sql(
            "SELECT status, reviewed_cost_cents, rejection_reason FROM proposals "
            "WHERE id = :id", id=proposal)
        assert (status, cost, reason) in (("accepted", 400_000, None),
                                          ("rejected", None, "Not feasible."))
        events = service.sql("SELECT action FROM audit_events WHERE object_type = 'proposal' "
                             "AND object_id = :id",
                             id=str(proposal))
        assert [action for (action,) in events] == [f"proposal.{status}"]
    assert service.server_errors() == []


def test_audited_staff_actions_at_once_all_join_the_chain(service):
    browsers = [staff(service, email) for email in ["coordinator@example.org",
                                                    "member@example.org"] * (AT_ONCE // 2)]
    actions = [("accept", {"reviewed_cost": "1000", "public_note": ""}),
               ("reject", {"reason": "Not this year.", "confirm": "y"}),
               ("changes", {"reason": "Say where, please."})]
    calls = [moderation(browser, proposal, actions[n % 3][0], **actions[n % 3][1])
             for n, (browser, proposal) in enumerate(zip(browsers, service.scenario["at_once"],
                                                         strict=True))]
    before = service.sql("SELECT count(*) FROM audit_events")[0][0]
    assert outcomes(at_once(*calls)) == ["done"] * AT_ONCE, service.server_errors()
    assert service.sql("SELECT count(*) FROM audit_events")[0][0] == before + AT_ONCE
    with service.inside():
        assert verify_chain().intact
    assert service.server_errors() == []


# --- Publishing ----------------------------------------------------------------------------

def _publication_numbers(service, round_id: int) -> list[int]:
    return [n for (n,) in service.sql("SELECT number FROM publications WHERE round_id = :id "
                                      "ORDER BY number", id=round_id)]


def _hidden_fields(page: str, action: str) -> list[tuple[str, str]] | None:
    """The hidden fields of the form on ``page`` that sends ``action``, as a browser would
    send them (None when the page has no such form)."""
    for form in re.findall(r"<form\b.*?</form>", page, re.S):
        fields = []
        for tag in re.findall(r"<input\b[^>]*>", form):
            attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
            if attributes.get("type") == "hidden" and "name" in attributes:
                fields.append((attributes["name"], attributes.get("value", "")))
        if ("action", action) in fields:
            return fields
    return None


def _results_form(browser, page: str, action: str, *typed):
    """The results page's form for ``action`` (publish or correct), as the page shows it
    now, ready to send; when the page has no count to publish yet, it is counted first."""
    shown = browser.get(page).text
    for _ in range(120):
        if (fields := _hidden_fields(shown, action)) is not None:
            return prepared(browser, page, [*fields, *typed])
        if _hidden_fields(shown, "count") is not None and "count-progress" not in shown:
            browser.submit(page, [("action", "count")])
        time.sleep(0.5)
        shown = browser.get(page).text
    raise AssertionError(f"no {action} form on {page}")


def test_publishing_twice_at_once_publishes_once_and_so_does_correcting(service):
    first, second = staff(service), staff(service)
    for round_id in service.scenario["closed"]:
        page = f"/manage/rounds/{round_id}/results"
        answers = at_once(*(_results_form(b, page, "publish", ("publish-confirm", "y"))
                            for b in (first, second)))
        assert sorted(a.status_code for a in answers) == [303, 400], service.server_errors()
        assert any("The results are already published." in a.text for a in answers)
        assert _publication_numbers(service, round_id) == [1]
        assert service.sql("SELECT phase FROM rounds WHERE id = :id", id=round_id) == [
            ("published",)]

        answers = at_once(*(_results_form(b, page, "correct", ("correction-reason", why),
                                          ("correction-confirm", "y"))
                            for b, why in ((first, "A fix."), (second, "Another fix."))))
        assert sorted(a.status_code for a in answers) == [303, 400], service.server_errors()
        assert any("Someone else published a correction at the same moment" in a.text
                   for a in answers)
        assert _publication_numbers(service, round_id) == [1, 2]
    with service.inside():
        assert verify_chain().intact
    assert service.server_errors() == []


# --- Counted first, then checked -----------------------------------------------------------

def _burst(calls, last):
    """``calls`` released together, and ``last`` a moment after them."""
    def late():
        time.sleep(0.3)
        return last()
    return at_once(*calls, late)


def _counted(service, bucket: str, who: str) -> int:
    return service.sql("SELECT count(*) FROM rate_limit_events WHERE bucket = :bucket AND "
                       "key_hash = :key", bucket=bucket,
                       key=hashlib.sha256(who.encode()).hexdigest())[0][0]


def test_a_burst_of_password_guesses_gets_no_more_checks_than_the_limit(service):
    for email in service.scenario["targets"]:
        guessers = [service.browser() for _ in range(GUESSES)]
        guesses = [prepared(b, "/staff/sign-in", [("email", email),
                                                  ("password", f"guess number {n}")])
                   for n, b in enumerate(guessers[:-1])]
        right = prepared(guessers[-1], "/staff/sign-in",
                         [("email", email), ("password", factories.STAFF_PASSWORD)])
        answers = _burst(guesses, right)
        checked = [a for a in answers[:-1] if a.status_code == 200 and WRONG_PASSWORD in a.text]
        assert {a.status_code for a in answers[:-1]} <= {200, 429}, service.server_errors()
        assert len(checked) == LIMIT == _counted(service, "staff_password", email)
        # The limit was reached before it came: the right password sent last does not sign
        # in, and neither does it afterwards.
        assert answers[-1].status_code == 429
        assert "Too many wrong passwords for this address." in answers[-1].text
        late = service.browser().submit("/staff/sign-in", {
            "email": email, "password": factories.STAFF_PASSWORD})
        assert late.status_code == 429
    assert service.server_errors() == []


def _code_from(service, page: str, cookies: dict, token: str, code: str):
    """A code typed in the browser whose cookies these are, ready to send."""
    def call():
        clone = service.browser()
        clone.http.cookies.update(cookies)
        return clone.post(page, [("csrf_token", token), ("code", code)])
    return call


def test_a_burst_of_wrong_voting_codes_gets_no_more_checks_than_the_limit(service):
    target = service.scenario["voting"][-1]
    page = f"/rounds/{target['round']}/code"
    for trial in range(GUESS_TRIALS):
        guesser = service.browser()
        # The first guess gives the browser its name (kept in its session cookie); the
        # burst then comes from that one browser, as a script would send it.
        assert guesser.submit(page, {"code": "AAAA-BBBB-CCCC-DDDD"}).status_code == 400
        token, cookies = guesser.token(page), guesser.http.cookies.get_dict()
        answers = _burst(
            [_code_from(service, page, cookies, token, f"WRNG-{n:04d}-CODE-XXXX")
             for n in range(GUESSES - 1)],
            _code_from(service, page, cookies, token, target["codes"][trial]))
        checked = [a for a in answers[:-1] if a.status_code == 400 and WRONG_CODE in a.text]
        assert {a.status_code for a in answers[:-1]} <= {400, 429}, service.server_errors()
        assert len(checked) == LIMIT - 1  # one was spent on the first guess
        counted = service.sql("SELECT count(*) FROM rate_limit_events WHERE bucket = "
                              "'voting_code_browser' GROUP BY key_hash")
        assert max(n for (n,) in counted) == LIMIT
        # The right code sent last is stopped too, and the browser does not vote with it.
        assert answers[-1].status_code == 429
        ballot = service.browser()
        ballot.http.cookies.update(cookies)
        assert "You are voting with a voting code." not in ballot.get(
            f"/rounds/{target['round']}/vote").text
    assert service.server_errors() == []


# --- Closing by hand while votes are cast --------------------------------------------------

def _vote_until_refused(voter, token: str, round_id: int, choices: list[int],
                        voting_started: threading.Event) -> int:
    """Vote again and again until the round refuses (409): how many ballots were recorded."""
    recorded = 0
    for _ in range(300):
        picks = random.sample(choices, 2)
        answer = voter.post(f"/rounds/{round_id}/vote",
                            [("csrf_token", token), *(("choice", str(p)) for p in picks)])
        if answer.status_code == 409:
            return recorded
        assert answer.status_code == 303, (answer.status_code, voter.service.server_errors())
        recorded += 1
        if recorded == 3:
            voting_started.set()
    return recorded


def _close_while_voting(service, coordinator, target: dict) -> None:
    round_id = target["round"]
    voters = []
    for code in target["codes"]:
        voter = service.browser()
        entered = voter.submit(f"/rounds/{round_id}/code", {"code": code})
        assert entered.status_code == 303, service.server_errors()
        voters.append((voter, voter.token(f"/rounds/{round_id}/vote")))
    close = prepared(coordinator, f"/manage/rounds/{round_id}/phase",
                     [("target", "closed"), ("confirm", "y")])
    voting_started = threading.Event()

    def close_soon():
        voting_started.wait(30)
        time.sleep(0.2)
        return close()

    answers = at_once(*(partial(_vote_until_refused, voter, token, round_id, target["choices"],
                                voting_started) for voter, token in voters), close_soon)
    assert answers[-1].status_code == 303, service.server_errors()
    assert all(recorded < 300 for recorded in answers[:-1])  # each was refused at last
    assert service.sql("SELECT phase FROM rounds WHERE id = :id", id=round_id) == [("closed",)]
    # Every ballot counted was stored before the recorded close.
    late = service.sql("SELECT count(*) FROM participations p JOIN rounds r ON "
                       "r.id = p.round_id WHERE r.id = :id AND p.last_voted_at >= "
                       "r.voting_close_at", id=round_id)
    assert late == [(0,)]
    [(ballots,)] = service.sql("SELECT count(*) FROM ballots WHERE round_id = :id", id=round_id)
    [(voted,)] = service.sql("SELECT count(*) FROM participations WHERE round_id = :id",
                             id=round_id)
    assert ballots == voted > 0


def test_a_close_by_hand_while_votes_are_cast_counts_only_ballots_before_it(service):
    coordinator = staff(service)
    for target in service.scenario["voting"][:CLOSE_TRIALS]:
        _close_while_voting(service, coordinator, target)
    assert service.server_errors() == []
