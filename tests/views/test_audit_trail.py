"""The audit trail for city admins: names instead of ids, plain words for every action, the
reason where there is one, the round or proposal linked, and filters by table, round,
person, action and days, read from the address (no JavaScript), a page at a time."""

import re
from datetime import timedelta
from html import unescape
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pb_vote import PROJECT_ROOT, clock
from pb_vote.blueprints.admin.audit_view import ACTION_LABELS
from pb_vote.extensions import db
from pb_vote.models import ProposalStatus, RoundPhase, VoterEligibility
from pb_vote.services import proposals, rounds, voting
from pb_vote.services.audit import record_event
from tests import factories


@pytest.fixture
def trail(app):
    """Two tables; at Keskusta a coordinator who made and voided a batch of codes, moved
    the round on, and did not take a proposal forward, with reasons; at Pohjoinen another
    coordinator who made codes. The ids, by name."""
    with app.app_context():
        own = factories.table("keskusta", "Keskusta")
        other = factories.table("pohjoinen", "Pohjoinen", postal_codes=("15200",))
        factories.user("admin@example.org", postal_code=None, city_admin=True)
        aino = factories.user("aino@example.org", postal_code=None, role="coordinator", at=own)
        bo = factories.user("bo@example.org", postal_code=None, role="coordinator", at=other)
        round_ = factories.round_(own, RoundPhase.REVIEW, title="Keskusta 2027",
                                  voter_eligibility=VoterEligibility.BOTH)
        far = factories.round_(other, RoundPhase.REVIEW, title="Pohjoinen 2027",
                               voter_eligibility=VoterEligibility.BOTH)
        kept = factories.proposal(round_, title="Benches", status=ProposalStatus.ACCEPTED)
        turned_down = factories.proposal(round_, title="Fountain in the square")
        proposals.reject(aino, turned_down, "Costs more than the whole budget.")
        voting.generate_codes(aino, round_, 3, ["fi", "sv"])
        voting.void_batch(aino, round_, 1, "The printer jammed.")
        rounds.transition(aino, round_, RoundPhase.VOTING)
        voting.generate_codes(bo, far, 2)
        db.session.commit()
        return {"own": own.id, "other": other.id, "round": round_.id, "far": far.id,
                "aino": aino.id, "bo": bo.id, "kept": kept.id, "turned_down": turned_down.id}


@pytest.fixture
def admin(auth, trail):
    auth.staff("admin@example.org")


def read(client, query: str = ""):
    """The audit page with ``query``: (status, the words of the page)."""
    page = client.get(f"/admin/audit{query}")
    return page.status_code, re.sub(r"\s+", " ", unescape(page.text))


def rows(words: str) -> list[str]:
    """The action of each event row shown, newest first."""
    cells = re.findall(r'<tr id="event-\d+"> <td[^>]*>.*?</td> <td[^>]*>.*?</td> '
                       r'<td[^>]*>(.*?)</td>', words)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def test_every_action_the_service_records_has_plain_words():
    recorded = set()
    for path in Path(PROJECT_ROOT, "pb_vote").rglob("*.py"):
        source = path.read_text()
        recorded |= set(re.findall(r'record_event\(\s*[^,]+,\s*"([a-z_]+\.[a-z_]+)"', source))
        recorded |= {f"proposal.{action}" for action in
                     re.findall(r'_moderate\(\s*actor,\s*\w+,\s*"([a-z_]+)"', source)}
    assert "voting_codes.voided" in recorded and "proposal.rejected" in recorded
    assert recorded <= set(ACTION_LABELS), recorded - set(ACTION_LABELS)


def test_events_show_names_plain_actions_reasons_and_links(client, admin, trail):
    status, words = read(client)
    assert status == 200
    assert "The hash chain is intact (5 events checked)." in words
    assert rows(words) == [
        "Generated voting codes", "Moved a round to another phase",
        "Voided a batch of voting codes", "Generated voting codes",
        "Did not take a proposal forward"]
    table = words[words.index('<table class="audit'):]
    assert "voting_codes." not in table and "round.phase_changed" not in table
    assert 'Aino <span class="meta">(aino@example.org)</span>' in words
    assert "Reason: The printer jammed." in words
    assert "Batch 1: 3 unused codes stopped working." in words
    assert "Reason: Costs more than the whole budget." in words
    assert "From “Ideas under review” to “Voting open”." in words
    assert "3 codes in batch 1." in words and "Slips in: Suomi, Svenska." in words
    link = re.compile(r'href="([^"]+)">(?:<span lang="\w+">)?([^<]+)')
    assert (f'/manage/rounds/{trail["round"]}', "Keskusta 2027") in link.findall(words)
    assert (f'/manage/proposals/{trail["turned_down"]}', "Fountain in the square") in (
        link.findall(words))


def test_the_trail_reads_in_finnish(client, admin, trail):
    client.post("/language", data={"language": "fi", "next": "/admin/audit"})
    status, words = read(client)
    assert status == 200
    assert "Mitätöi äänestyskoodien erän" in words and "Syy: The printer jammed." in words


@pytest.mark.parametrize(("query", "expected"), [
    ("?action=voting_codes.generated", ["Generated voting codes"] * 2),
    ("?actor={bo}", ["Generated voting codes"]),
    ("?table={other}", ["Generated voting codes"]),
    # A round's own events and its proposals' events.
    ("?round={round}", ["Moved a round to another phase", "Voided a batch of voting codes",
                        "Generated voting codes", "Did not take a proposal forward"]),
    ("?round={round}&action=proposal.rejected", ["Did not take a proposal forward"]),
    ("?from={today}&to={today}&actor={aino}", [
        "Moved a round to another phase", "Voided a batch of voting codes",
        "Generated voting codes", "Did not take a proposal forward"]),
    ("?from={tomorrow}", []),
    ("?to={yesterday}", []),
])
def test_the_filters_work_from_the_address(client, admin, trail, query, expected):
    today = clock.utcnow().astimezone(ZoneInfo("Europe/Helsinki")).date()
    days = {"today": today, "tomorrow": today + timedelta(days=1),
            "yesterday": today - timedelta(days=1)}
    status, words = read(client, query.format(**trail, **days))
    assert status == 200
    assert rows(words) == expected
    if not expected:
        assert "No events match these filters." in words


def test_the_filters_show_what_was_asked_for(client, admin, trail):
    _, words = read(client, f"?actor={trail['bo']}&action=voting_codes.generated")
    assert f'<option value="{trail["bo"]}" selected>' in words
    assert '<option value="voting_codes.generated" selected>Generated voting codes' in words


@pytest.mark.parametrize(("query", "message"), [
    ("?table=abc", "Table: choose one from the list."),
    ("?round=-1", "Round: choose one from the list."),
    ("?actor=99999999999999999999", "Who: choose one from the list."),
    ("?action=DROP TABLE", "Action: choose one from the list."),
    ("?from=2026-13-01", "First day: write the date as YYYY-MM-DD"),
    ("?to=9999-12-31", "Last day: write the date as YYYY-MM-DD"),
    ("?from=0001-01-01", "First day: write the date as YYYY-MM-DD"),
    ("?from=2026-05-02&to=2026-05-01", "The start date is after the end date."),
])
def test_filters_that_cannot_be_read_are_left_out_with_a_message(client, admin, trail, query,
                                                                  message):
    status, words = read(client, query)
    assert status == 400
    assert "Some filters were left out" in words and message in words
    assert len(rows(words)) == 5  # the rest of the page still answers, unfiltered


def test_the_trail_comes_a_page_at_a_time_and_keeps_the_filters(app, client, admin, trail):
    with app.app_context():
        for _ in range(55):
            record_event(None, "paper_ballot.entered", "round", trail["round"],
                         table_id=trail["own"])
        db.session.commit()
    query = f"?action=paper_ballot.entered&table={trail['own']}"
    _, first = read(client, query)
    assert len(rows(first)) == 50 and "55 events · page 1 of 2" in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', first).group(1)
    assert "action=paper_ballot.entered" in older and f"table={trail['own']}" in older
    _, second = read(client, older.removeprefix("/admin/audit"))
    assert rows(second) == ["Entered a paper ballot"] * 5
    assert 'rel="prev">Newer events</a>' in second
    # A page past the last shows the last; a page that is not a number, the first.
    assert rows(read(client, query + "&page=999")[1]) == rows(second)
    assert len(rows(read(client, query + "&page=x")[1])) == 50


def test_only_city_admins_read_the_trail(client, auth, trail):
    auth.staff("aino@example.org")
    assert client.get("/admin/audit").status_code == 403


def test_a_tables_event_names_the_table_and_says_what_changed(app, client, admin, trail):
    with app.app_context():
        record_event(None, "table.eligible_residents_set", "table", trail["own"],
                     table_id=trail["own"], details={"from": None, "to": 1200})
        db.session.commit()
    status, words = read(client, "?action=table.eligible_residents_set")
    assert status == 200
    assert rows(words) == ["Recorded how many residents may vote at a table"]
    assert 'href="/manage/tables/keskusta">' in words and "From – to 1200." in words


def test_a_tables_change_by_postal_code_reads_one_line_each(app, client, admin, trail):
    with app.app_context():
        record_event(None, "table.eligible_residents_set", "table", trail["own"],
                     table_id=trail["own"], details={
                         "from": 1200, "to": 1200,
                         "by_postal_code": {"15140": [300, None], "15100": [None, 800]}})
        db.session.commit()
    status, words = read(client, "?action=table.eligible_residents_set")
    assert status == 200
    assert "From 1200 to 1200. Postal code 15100: from – to 800. " \
           "Postal code 15140: from 300 to –." in re.sub(r"<[^>]+>", " ", words).replace(
               "  ", " ")
    assert "by_postal_code" not in words
