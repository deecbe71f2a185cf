"""Input that once answered 500 or worse (issue 13, section 4), sent to the running service:
NUL bytes in the path, ids beyond the columns' range, formulas in the results CSV, a CR/LF in
a title and then `flask send-mail` with a bad message in its queue; and the answers' HSTS,
no-store and Allow headers. Each gets its clear answer, and nothing a 5xx."""

import csv
import io
import re
import socketserver
import threading

import pytest

from pb_vote.extensions import db
from pb_vote.models import OutgoingMail, ProposalStatus, RoundPhase
from tests import factories

FORMULAS = ['=HYPERLINK("https://attacker.example","Click")', "+1+1", "-2+3", "@SUM(1)",
            "\t=1", "\r=1"]
HUGE = [2**31, 2**63, 10**30]


def seed(scenario: dict) -> None:
    table = factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    factories.user("coordinator@example.org", postal_code=None, role="coordinator", at=table)
    for n in range(3):
        factories.user(f"voter{n}@example.org")
    ideas = factories.round_(table, RoundPhase.PROPOSALS, categories=[])
    voting = factories.round_(table, RoundPhase.VOTING, title="Voting 2027",
                              approval_min=1, approval_max=6)
    # Titles stored before titles had to be one line, or typed by staff: the CSV must cope.
    ballot = [factories.proposal(voting, title=title, status=ProposalStatus.ACCEPTED,
                                 cost_cents=100_000) for title in FORMULAS]
    scenario.update(ideas=ideas.id, voting=voting.id, ballot=[p.id for p in ballot])


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]+)"', page).group(1)


def test_nul_bytes_in_the_address_are_400(service):
    visitor = service.browser()
    for path in ("/tables/keskusta%00", "/tables/%00", f"/rounds/{service.scenario['ideas']}%00",
                 "/proposals/1%00/edit", "/?q=a&q=b%00", "/api/v1/tables/%00"):
        assert visitor.get(path).status_code == 400, path
    assert service.server_errors() == []


def test_ids_beyond_range_are_404(service):
    visitor = service.browser()
    for number in HUGE:
        for path in (f"/rounds/{number}", f"/proposals/{number}", f"/rounds/{number}/results",
                     f"/rounds/{number}/results/{number}", f"/rounds/{number}/code",
                     f"/api/v1/rounds/{number}/results.csv"):
            assert visitor.get(path).status_code == 404, path
    coordinator = service.browser()
    coordinator.sign_in_staff("coordinator@example.org", factories.STAFF_PASSWORD)
    for number in HUGE:
        assert coordinator.get(f"/manage/rounds/{number}").status_code == 404
    assert service.server_errors() == []


def test_huge_ids_inside_a_ballot_are_refused_not_crashed(service):
    voter = service.browser()
    voter.sign_in_resident("voter0@example.org")
    round_id = service.scenario["voting"]
    for number in HUGE:
        answer = voter.submit(f"/rounds/{round_id}/vote", [("choice", str(number))])
        assert answer.status_code == 400, number
    assert service.server_errors() == []


def test_a_title_with_a_line_break_is_refused_with_a_clear_message(service):
    author = service.browser()
    author.sign_in_resident("voter1@example.org")
    path = f"/rounds/{service.scenario['ideas']}/propose"
    answer = author.submit(path, {"title": "Benches\r\nBcc: everyone@example.org",
                                  "description": "Two lines\nare fine here.",
                                  "estimated_cost": "1000"})
    assert "Write this on one line, without line breaks or tabs." in answer.text
    assert service.sql("SELECT id FROM proposals WHERE round_id = :r",
                       r=service.scenario["ideas"]) == []
    assert service.server_errors() == []


def test_the_results_csv_neutralizes_formulas(service):
    round_id = service.scenario["voting"]
    for n in range(3):
        voter = service.browser()
        voter.sign_in_resident(f"voter{n}@example.org")
        answer = voter.submit(f"/rounds/{round_id}/vote",
                              [("choice", str(service.scenario["ballot"][n]))])
        assert answer.status_code == 303
    coordinator = service.browser()
    coordinator.sign_in_staff("coordinator@example.org", factories.STAFF_PASSWORD)
    moved = coordinator.submit(f"/manage/rounds/{round_id}/phase",
                               {"target": "closed", "confirm": "y"})
    assert moved.status_code == 303
    page = coordinator.get(f"/manage/rounds/{round_id}/results").text
    counted = coordinator.post(f"/manage/rounds/{round_id}/results", {
        "count-csrf_token": _hidden(page, "count-csrf_token"), "action": "count"})
    assert counted.status_code == 303
    page = coordinator.get(f"/manage/rounds/{round_id}/results").text
    published = coordinator.post(f"/manage/rounds/{round_id}/results", {
        "publish-csrf_token": _hidden(page, "publish-csrf_token"), "action": "publish",
        "publish-count": _hidden(page, "publish-count"), "publish-confirm": "y"})
    assert published.status_code == 303
    export = service.browser().get(f"/api/v1/rounds/{round_id}/results.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.content.decode(), newline="")))
    assert sorted(row["title"] for row in rows) == sorted("'" + title for title in FORMULAS)
    assert {row["cost_cents"] for row in rows} == {"100000"}  # numbers stay numbers
    assert service.server_errors() == []


class _Sink(socketserver.ThreadingTCPServer):
    """Just enough of an SMTP server: takes every message, except that it refuses for good
    any recipient whose address starts with "refused"."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.received: list[bytes] = []


class _SinkHandler(socketserver.StreamRequestHandler):
    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self._say("220 sink")
        lines: list[bytes] | None = None
        while line := self.rfile.readline():
            if lines is not None:  # inside DATA
                if line == b".\r\n":
                    self.server.received.append(b"".join(lines))
                    lines = None
                    self._say("250 queued")
                else:
                    lines.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._say("250 sink")
            elif verb == b"RCPT" and b"<refused" in line.lower():
                self._say("550 no such user")
            elif verb == b"DATA":
                lines = []
                self._say("354 go on")
            elif verb == b"QUIT":
                self._say("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self._say("250 ok")


@pytest.fixture
def smtp_sink():
    sink = _Sink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.shutdown()
    sink.server_close()


def test_send_mail_gives_up_bad_messages_and_sends_the_rest(service, smtp_sink):
    """A CR/LF in a subject (queued by an older version: titles are one line now, and
    queued subjects too) once stopped every `flask send-mail` at that message."""
    good = ["first@example.org", "second@example.org", "third@example.org"]
    with service.inside():
        db.session.add_all([
            OutgoingMail(recipient=good[0], subject="Fine", body="Body"),
            OutgoingMail(recipient="crlf@example.org", subject="Benches\r\nBcc: x@example.org",
                         body="Body"),
            OutgoingMail(recipient=good[1], subject="Fine", body="Body"),
            OutgoingMail(recipient="inject@example.org\r\nBcc: x@example.org",
                         subject="Fine", body="Body"),
            OutgoingMail(recipient="refused@example.org", subject="Fine", body="Body"),
            OutgoingMail(recipient="pekka@esimerkki.fi", subject="Fine", body="Body"),
            OutgoingMail(recipient="äiti@esimerkki.fi", subject="Fine", body="Body"),
            OutgoingMail(recipient=good[2], subject="Fine", body="Body"),
        ])
        db.session.commit()
    ran = service.flask("send-mail", PB_VOTE_MAIL_SERVER="127.0.0.1",
                        PB_VOTE_MAIL_PORT=str(smtp_sink.server_address[1]),
                        PB_VOTE_MAIL_USE_TLS="false")
    assert "Traceback" not in ran.stdout + ran.stderr
    assert ran.returncode == 1, ran.stdout + ran.stderr  # cron tells the operator
    assert "0 failed (tried again later)" in ran.stdout and "4 given up" in ran.stdout
    delivered = b"".join(smtp_sink.received).decode()
    for address in [*good, "pekka@esimerkki.fi"]:
        assert f"To: {address}" in delivered
    assert "Bcc" not in delivered
    left = service.sql("SELECT recipient, attempts, last_error FROM outgoing_mails "
                       "WHERE recipient NOT LIKE 'voter%' ORDER BY id")
    assert [row.recipient.split("\r")[0] for row in left] == [
        "crlf@example.org", "inject@example.org", "refused@example.org",
        "äiti@esimerkki.fi"]
    assert all(row.attempts == 8 and row.last_error for row in left)  # given up at once


def test_answers_carry_hsts_and_405s_their_allow_header(service):
    visitor = service.browser()
    for path in ("/", "/nowhere", "/api/v1/tables", "/tables/%00"):
        assert (visitor.get(path).headers.get("Strict-Transport-Security")
                == "max-age=31536000; includeSubDomains"), path
    for method, path, allowed in (("PUT", "/sign-in", {"GET", "HEAD", "OPTIONS", "POST"}),
                                  ("DELETE", "/api/v1/tables", {"GET", "HEAD", "OPTIONS"}),
                                  ("POST", "/", {"GET", "HEAD", "OPTIONS"})):
        answer = visitor.http.request(method, service.url + path, timeout=60)
        assert answer.status_code == 405, path
        assert set(answer.headers["Allow"].replace(" ", "").split(",")) == allowed, path
    assert service.server_errors() == []


def test_pages_with_personal_data_are_never_cached(service):
    visitor = service.browser()
    visitor.submit("/sign-in", {"email": "voter2@example.org"})
    for path in ("/sign-in", "/sign-in/sent", "/staff/sign-in", "/password/forgot",
                 f"/rounds/{service.scenario['voting']}/code"):
        assert visitor.get(path).headers.get("Cache-Control") == "no-store", path
    resident = service.browser()
    resident.sign_in_resident("voter2@example.org")
    for path in ("/", "/account", "/my/proposals", f"/rounds/{service.scenario['ideas']}"):
        assert resident.get(path).headers.get("Cache-Control") == "no-store", path
    assert service.server_errors() == []


def test_a_next_address_with_a_line_break_is_not_followed(service):
    visitor = service.browser()
    answer = visitor.submit("/", {"language": "en", "next": "/x\r\nSet-Cookie: a=b"},
                            to="/language")
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert "a=b" not in answer.headers.get("Set-Cookie", "")
    assert service.server_errors() == []
