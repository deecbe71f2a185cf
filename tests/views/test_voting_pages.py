"""Residents and code holders vote through the ballot, review and confirmation pages; every
refusal keeps the voter's picks and stores nothing; the clock decides to the second."""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_datetime
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from pb_vote.extensions import db
from pb_vote.mail import deliver_due
from pb_vote.models import (
    AuditEvent,
    Ballot,
    BallotKind,
    BallotReceipt,
    MembershipRole,
    OutgoingMail,
    PaperConflictRule,
    Participation,
    ProposalStatus,
    Round,
    RoundPhase,
    User,
    VoteChannel,
    VoterEligibility,
    VotingCode,
)
from pb_vote.services import codes, voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.conftest import link_in

APPROVAL = {"ballot_kind": BallotKind.APPROVAL, "approval_min": 2, "approval_max": 3}
KNAPSACK = {"ballot_kind": BallotKind.KNAPSACK}
KNAPSACK_MIN = {"ballot_kind": BallotKind.KNAPSACK, "knapsack_min_spend_percent": 50}
POINTS = {"ballot_kind": BallotKind.POINTS, "points_total": 10, "points_max_per_proposal": 4}
CODES_ONLY = {**APPROVAL, "voter_eligibility": VoterEligibility.CODES}
PAPER_WINS = {**APPROVAL, "paper_conflict_rule": PaperConflictRule.PAPER_WINS}

# On the ballot: name -> (title, reviewed cost in cents, category). Budget 10 000 €.
ON_BALLOT = {
    "benches": ("Benches by the lake", 200_000, "Parks"),
    "lights": ("Lights for the ski track", 300_000, "Sports"),
    "mural": ("Mural at the library", 400_000, "Culture"),
    "crossing": ("Safer crossing at the school", 500_000, "Traffic"),
}
# Not on this round's ballot.
SUBMITTED, REJECTED, FOREIGN = "Skate park behind the rink", "Fountain in the square", "Dog park"
RECEIPT = re.compile(r"\b[2-9A-HJKMNP-Z]{4}(?:-[2-9A-HJKMNP-Z]{4}){3}\b")


@pytest.fixture
def scene(app, request):
    """A table whose round is in voting (settings from the test's parameter; approval 2..3
    and residents or codes by default) with four accepted proposals, one submitted and one
    rejected; another table with its own round and proposal; residents inside, outside and
    without a postal code; the table's member (living in the area) and coordinator (living
    elsewhere); a member of the other table; three voting codes and one of the other round."""
    settings = {"voter_eligibility": VoterEligibility.BOTH, **APPROVAL,
                **getattr(request, "param", {})}
    with app.app_context():
        own = factories.table("keskusta", postal_codes=["15100", "15110"])
        other = factories.table("pohjoinen", postal_codes=["15200"])
        factories.user("voter@example.org", postal_code="15100")
        factories.user("outsider@example.org", postal_code="15200")
        factories.user("newcomer@example.org", postal_code=None)
        factories.user("member@example.org", postal_code="15110", role=MembershipRole.MEMBER,
                       at=own)
        coordinator = factories.user("coordinator@example.org", postal_code="00100",
                                     role=MembershipRole.COORDINATOR, at=own)
        factories.user("stranger@example.org", postal_code="15100",
                       role=MembershipRole.COORDINATOR, at=other)
        round_ = factories.round_(own, RoundPhase.VOTING, budget_cents=1_000_000, **settings)
        ids = {"round": round_.id}
        for name, (title, cost, category) in ON_BALLOT.items():
            ids[name] = factories.proposal(round_, title=title, cost_cents=cost,
                                           category=category,
                                           status=ProposalStatus.ACCEPTED).id
        ids["submitted"] = factories.proposal(round_, title=SUBMITTED).id
        ids["rejected"] = factories.proposal(round_, title=REJECTED,
                                             status=ProposalStatus.REJECTED).id
        other_round = factories.round_(other, RoundPhase.VOTING, title="North 2027",
                                       voter_eligibility=VoterEligibility.BOTH)
        ids["other_round"] = other_round.id
        ids["foreign"] = factories.proposal(other_round, title=FOREIGN,
                                            status=ProposalStatus.ACCEPTED).id
        ids["close"] = round_.voting_close_at
        if voting.codes_admitted(round_):
            ids["codes"] = voting.generate_codes(coordinator, round_, 3)
            ids["other_code"] = voting.generate_codes(coordinator, other_round, 1)[0]
        db.session.commit()
        return ids


# -- what a browser does -------------------------------------------------------------------

class _Forms(HTMLParser):
    """The forms of a page with their inputs (a browser's view of them)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._open = {"action": attributes.get("action", ""),
                          "method": (attributes.get("method") or "get").lower(), "inputs": []}
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None:
            self._open["inputs"].append(attributes)

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def form_on(page: str, action: str, method: str = "post") -> list[dict]:
    """The inputs of the one form of ``page`` that sends to ``action`` with ``method``."""
    parser = _Forms()
    parser.feed(page)
    [form] = [f for f in parser.forms if f["action"] == action and f["method"] == method]
    return form["inputs"]


def browser_data(inputs: list[dict], picks: dict | None = None, **typed) -> MultiDict:
    """What a browser sends for a form: hidden fields and submit buttons as they are, the
    proposals of ``picks`` ({proposal id: 1 or points}) ticked or filled in (the page's own
    marks when ``picks`` is None), other fields and boxes as given in ``typed``."""
    pairs = []
    for field in inputs:
        name, kind, value = field.get("name"), field.get("type", "text"), field.get("value")
        if not name:
            continue
        if kind == "checkbox":
            if name == "choice" and picks is not None:
                ticked = int(value) in picks
            else:
                ticked = typed.get(name, "checked" in field)
            if ticked:
                pairs.append((name, value or "on"))
        elif kind == "number" and picks is not None:
            pairs.append((name, str(picks.get(int(name.removeprefix("points-")), 0))))
        else:
            pairs.append((name, typed.get(name, value or "")))
    return MultiDict(pairs)


def marks_on(page: str, action: str) -> dict[int, int]:
    """The picks a ballot form shows: ticked boxes (1) and non-zero points."""
    marks = {}
    for field in form_on(page, action):
        if field.get("type") == "checkbox" and field.get("name") == "choice":
            if "checked" in field:
                marks[int(field["value"])] = 1
        elif field.get("type") == "number" and (field.get("value") or "0").lstrip("-").isdecimal() \
                and field["value"] != "0":
            marks[int(field["name"].removeprefix("points-"))] = int(field["value"])
    return marks


def text(response) -> str:
    """The page as a reader sees its words (entities decoded, and no tags around a text in
    another language than the page's: the factories' tables speak Finnish)."""
    return html.unescape(untagged(response.get_data(as_text=True)))


def untagged(page: str) -> str:
    """``page`` without the ``<span lang>`` around texts in another language."""
    return re.sub(r'<span lang="[a-z]{2}">(.*?)</span>', r"\1", page, flags=re.S)


def picks_of(scene, named: dict) -> dict[int, int]:
    """{proposal name: value} -> {proposal id: value}."""
    return {scene[name]: value for name, value in named.items()}


def normal(picks: dict[int, int]) -> dict[str, int]:
    """The stored form of a ballot."""
    return {str(pid): value for pid, value in sorted(picks.items()) if value > 0}


def review(client, round_id: int, picks: dict, **typed):
    """Fill in the ballot page as a voter would and press "Review my choices"."""
    page = client.get(f"/rounds/{round_id}/vote")
    assert page.status_code == 200
    data = browser_data(form_on(page.text, f"/rounds/{round_id}/vote/review"), picks, **typed)
    return client.post(f"/rounds/{round_id}/vote/review", data=data)


def final_form(review_page, round_id: int, **typed) -> MultiDict:
    """What the review page's Vote button sends."""
    assert review_page.status_code == 200, text(review_page)
    return browser_data(form_on(review_page.text, f"/rounds/{round_id}/vote"), **typed)


def vote(client, round_id: int, picks: dict, **typed):
    """Ballot -> review -> Vote; returns the answer to the Vote button."""
    data = final_form(review(client, round_id, picks), round_id, **typed)
    return client.post(f"/rounds/{round_id}/vote", data=data)


def enter_code(client, round_id: int, typed: str):
    """Type a voting code on the code page and press Continue."""
    page = client.get(f"/rounds/{round_id}/code")
    assert page.status_code == 200
    data = browser_data(form_on(page.text, ""), code=typed)
    return client.post(f"/rounds/{round_id}/code", data=data)


def paper_entry(client, round_id: int, code: str, picks: dict):
    """A member types one paper ballot into the paper entry page."""
    page = client.get(f"/manage/rounds/{round_id}/paper")
    assert page.status_code == 200
    data = browser_data(form_on(page.text, ""), picks, code=code)
    return client.post(f"/manage/rounds/{round_id}/paper", data=data)


def signed_in(app, auth, email: str, staff: bool = False):
    """A second browser with ``email`` signed in."""
    browser = app.test_client()
    actions = type(auth)(app, browser)
    if staff:
        actions.staff(email)
    else:
        actions.resident(email)
    return browser


def stored(app, round_id: int):
    """(ballot choices, participations as (channel, user email or code id)) of a round."""
    with app.app_context():
        ballots = voting.counted_choices(VoteKeys.from_config(app.config), round_id)
        participations = db.session.execute(
            select(Participation).where(Participation.round_id == round_id)
        ).scalars().all()
        people = [(p.channel, db.session.get(User, p.user_id).email if p.user_id
                   else p.voting_code_id) for p in participations]
        return ballots, people


def code_row(app, round_id: int, code: str) -> VotingCode:
    with app.app_context():
        row = db.session.execute(
            select(VotingCode).where(VotingCode.round_id == round_id,
                                     VotingCode.code_hash == codes.code_hash(code))
        ).scalar_one()
        db.session.expunge(row)
        return row


# -- the whole way, per ballot kind ---------------------------------------------------------

VALID = [
    pytest.param(APPROVAL, {"benches": 1, "lights": 1},
                 "Choose from 2 to 3 proposals you want funded.", id="approval"),
    pytest.param(KNAPSACK, {"mural": 1, "crossing": 1},
                 "Together they may cost at most the budget, €10,000.", id="knapsack"),
    pytest.param(KNAPSACK_MIN, {"lights": 1, "mural": 1}, "Spend at least 50 % of it.",
                 id="knapsack-min-spend"),
    pytest.param(POINTS, {"benches": 4, "mural": 3, "crossing": 3},
                 "Give your 10 points to the proposals you want funded, at most 4 to one.",
                 id="points"),
]


@pytest.mark.parametrize(("scene", "named", "lead"), VALID, indirect=["scene"])
def test_resident_sees_the_ballot_reviews_votes_and_gets_a_receipt(
        app, client, auth, mailbox, frozen_clock, scene, named, lead):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    ballot = client.get(f"/rounds/{round_id}/vote")
    page = text(ballot)
    assert ballot.status_code == 200 and "Your ballot" in page and lead in page
    for title, cost, category in ON_BALLOT.values():
        assert title in page and f"€{cost // 100:,} · {category}" in page
    for title in (SUBMITTED, REJECTED, FOREIGN):
        assert title not in page
    assert marks_on(ballot.text, f"/rounds/{round_id}/vote/review") == {}

    picks = picks_of(scene, named)
    checked = review(client, round_id, picks)
    shown = text(checked)
    assert checked.status_code == 200
    assert "Check your choices" in shown and "Your vote is not recorded yet" in shown
    for name, (title, _, _) in ON_BALLOT.items():
        assert (title in shown) == (name in named)
    assert stored(app, round_id) == ([], [])  # the review stores nothing

    data = final_form(checked, round_id, notify_results=True)
    response = client.post(f"/rounds/{round_id}/vote", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/rounds/{round_id}/vote/done"
    done = client.get(response.headers["Location"])
    confirmation = text(done)
    assert done.status_code == 200 and "Your vote is recorded" in confirmation
    assert "replaced" not in confirmation
    for name, (title, _, _) in ON_BALLOT.items():
        assert (title in confirmation) == (name in named)
    if max(named.values()) > 1:  # a points ballot says how many
        assert "4 points" in confirmation and "3 points" in confirmation
    recorded_at = format_datetime(frozen_clock.now, "d MMMM yyyy 'at' HH:mm",
                                  tzinfo=ZoneInfo("Europe/Helsinki"), locale="en_GB")
    assert recorded_at in confirmation
    [receipt] = RECEIPT.findall(confirmation)
    assert "We also sent it to your email." in confirmation

    again = text(client.get(f"/rounds/{round_id}/vote/done"))
    assert "Your vote is recorded" in again and not RECEIPT.search(again)

    [mail] = [m for m in mailbox if m.subject.startswith("Your vote in")]
    assert mail.to == "voter@example.org" and receipt in mail.body
    assert mail.subject == "Your vote in Round 2027 is recorded"
    for title, _, _ in ON_BALLOT.values():
        assert title not in mail.body  # a receipt proves inclusion, never content

    assert stored(app, round_id) == ([normal(picks)],
                                     [(VoteChannel.ONLINE, "voter@example.org")])
    with app.app_context():
        participation = db.session.execute(select(Participation)).scalar_one()
        assert participation.notify_results is True
        assert participation.first_voted_at == frozen_clock.now
        [receipt_row] = db.session.execute(select(BallotReceipt)).scalars().all()
        assert receipt_row.receipt_hash == codes.code_hash(receipt)


def test_a_vote_stands_and_is_confirmed_when_the_mail_server_is_down(
        app, client, auth, mailbox, scene, smtp, frozen_clock):
    auth.resident("voter@example.org")  # its sign-in mail went out
    round_id = scene["round"]
    smtp.failing = True
    response = vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1}))
    assert response.status_code == 303
    done = client.get(f"/rounds/{round_id}/vote/done")
    assert done.status_code == 200 and "Your vote is recorded" in text(done)
    [receipt] = RECEIPT.findall(text(done))
    assert stored(app, round_id) == ([normal(picks_of(scene, {"benches": 1, "lights": 1}))],
                                     [(VoteChannel.ONLINE, "voter@example.org")])
    with app.app_context():  # the receipt mail waits for the mail server
        [waiting] = db.session.scalars(select(OutgoingMail)).all()
        assert waiting.recipient == "voter@example.org" and receipt in waiting.body
        assert waiting.attempts == 1 and "ConnectionRefusedError" in waiting.last_error

    smtp.failing = False
    frozen_clock.advance(minutes=1)
    with app.app_context():
        assert deliver_due().sent == 1
    [mail] = [m for m in mailbox if m.subject.startswith("Your vote in")]
    assert receipt in mail.body


def test_the_receipt_mail_is_stored_with_the_vote_or_not_at_all(app, client, auth, mailbox,
                                                                 scene, monkeypatch):
    """The vote and its receipt mail are one transaction: the commit that stores the vote
    stores the mail, and when that commit fails neither is stored."""
    auth.resident("voter@example.org")
    round_id = scene["round"]
    ready = final_form(review(client, round_id, picks_of(scene, {"benches": 1, "lights": 1})),
                       round_id)
    real_commit, commits, failing = db.session.commit, [], [True]

    def commit():
        """Note what each commit stores (ballots, queued mail); fail the first with mail."""
        queued = [row.recipient for row in db.session.new if isinstance(row, OutgoingMail)]
        ballots = db.session.scalar(select(func.count()).select_from(Ballot))
        commits.append((ballots, queued))
        if queued and failing:
            failing.clear()
            raise SQLAlchemyError("the disk is full")
        real_commit()

    monkeypatch.setattr(db.session, "commit", commit)
    with pytest.raises(SQLAlchemyError, match="the disk is full"):
        client.post(f"/rounds/{round_id}/vote", data=ready)
    assert commits == [(1, ["voter@example.org"])]  # the vote's commit carried the mail
    assert stored(app, round_id) == ([], [])
    with app.app_context():
        assert db.session.scalars(select(OutgoingMail)).all() == []

    commits.clear()
    assert client.post(f"/rounds/{round_id}/vote", data=ready).status_code == 303
    assert commits[0] == (1, ["voter@example.org"])  # then the sender's, after the response
    [mail] = [m for m in mailbox if m.subject.startswith("Your vote in")]
    assert mail.to == "voter@example.org"
    assert stored(app, round_id)[1] == [(VoteChannel.ONLINE, "voter@example.org")]


def test_a_voter_may_not_move_to_another_tables_area_while_the_round_is_open(
        app, client, auth, scene, frozen_clock):
    """Otherwise one person could vote in two tables' rounds open at the same time."""
    auth.resident("voter@example.org")
    round_id = scene["round"]
    assert vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1})).status_code == 303
    moved = client.post("/account", data={"language": "en", "postal_code": "15200"})
    assert moved.status_code == 409
    page = text(moved)
    assert "You have voted in Round 2027, which is open until" in page
    assert "can move out of its area once voting has closed" in page
    assert 'value="15200"' in moved.text  # what was typed stays in the field
    with app.app_context():
        assert db.session.scalar(select(User.postal_code).where(
            User.email == "voter@example.org")) == "15100"
    other_round = client.get(f"/rounds/{scene['other_round']}/vote")
    assert "is not in this table's area" in text(other_round)  # still not a voter there

    within = client.post("/account", data={"language": "en", "postal_code": "15110"})
    assert within.status_code == 303  # another postal code of the same table is fine

    frozen_clock.set(scene["close"])
    after = client.post("/account", data={"language": "en", "postal_code": "15200"})
    assert after.status_code == 303  # people move; once voting closed, so may the account


def test_a_voter_may_not_delete_the_account_while_the_round_is_open(
        app, client, auth, scene, frozen_clock):
    """A new account with the same address could otherwise vote a second time."""
    auth.resident("voter@example.org")
    round_id = scene["round"]
    assert vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1})).status_code == 303
    refused = client.post("/account/delete", data={"confirm": "y"})
    assert refused.status_code == 409
    page = text(refused)
    assert "You have voted in Round 2027, which is open until" in page
    assert "once voting has closed; until then you can still change your vote" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(
            User.email == "voter@example.org")) == 1
    assert len(stored(app, round_id)[0]) == 1

    frozen_clock.set(scene["close"])
    deleted = client.post("/account/delete", data={"confirm": "y"})
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(
            User.email == "voter@example.org")) == 0
        # the ballot is counted and the participation stays in the turnout, with no person
        assert voting.turnout(db.session.get(Round, round_id))["total"] == 1
        participation = db.session.execute(select(Participation)).scalar_one()
        assert participation.user_id is None and participation.voting_code_id is None
    assert len(stored(app, round_id)[0]) == 1


def test_someone_who_has_not_voted_may_move_and_delete_during_voting(app, client, auth,
                                                                     scene):
    auth.resident("voter@example.org")
    assert client.post("/account", data={"language": "en",
                                         "postal_code": "15200"}).status_code == 303
    assert client.post("/account/delete", data={"confirm": "y"}).status_code == 303


CHANGES = [
    pytest.param(APPROVAL, {"benches": 1, "lights": 1}, {"mural": 1, "crossing": 1, "lights": 1},
                 id="approval"),
    pytest.param(KNAPSACK_MIN, {"lights": 1, "mural": 1}, {"crossing": 1}, id="knapsack"),
    pytest.param(POINTS, {"benches": 4, "mural": 3}, {"lights": 2, "crossing": 4, "mural": 1},
                 id="points"),
]


@pytest.mark.parametrize(("scene", "first", "second"), CHANGES, indirect=["scene"])
def test_voting_again_replaces_the_ballot_and_the_ballot_shows_the_current_choices(
        app, client, auth, mailbox, scene, first, second):
    auth.resident("voter@example.org")
    round_id, review_action = scene["round"], f"/rounds/{scene['round']}/vote/review"
    assert vote(client, round_id, picks_of(scene, first)).status_code == 303
    first_done = text(client.get(f"/rounds/{round_id}/vote/done"))
    [first_receipt] = RECEIPT.findall(first_done)

    back = client.get(f"/rounds/{round_id}/vote")
    assert marks_on(back.text, review_action) == picks_of(scene, first)

    assert vote(client, round_id, picks_of(scene, second)).status_code == 303
    done = text(client.get(f"/rounds/{round_id}/vote/done"))
    assert "Your vote is recorded" in done
    assert "Your new ballot replaced your earlier one. Only this one counts." in done
    [second_receipt] = RECEIPT.findall(done)
    # The receipt stays the same across changes, so the one kept from the first vote still
    # proves the (latest) ballot is counted.
    assert second_receipt == first_receipt
    assert [m.body for m in mailbox if m.subject.startswith("Your vote in")][-1].count(
        second_receipt) == 1

    assert stored(app, round_id) == ([normal(picks_of(scene, second))],
                                     [(VoteChannel.ONLINE, "voter@example.org")])
    with app.app_context():  # one receipt per voter, and it is counted
        assert voting.receipt_is_counted(round_id, second_receipt)
        assert db.session.execute(select(func.count()).select_from(BallotReceipt)).scalar() == 1
    later = client.get(f"/rounds/{round_id}/vote")
    assert marks_on(later.text, review_action) == picks_of(scene, second)


def test_the_change_my_choices_button_brings_the_picks_back_to_the_ballot(client, auth,
                                                                          scene):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    checked = review(client, round_id, picks_of(scene, {"mural": 1, "crossing": 1}))
    query = browser_data(form_on(checked.text, f"/rounds/{round_id}/vote", method="get"))
    ballot = client.get(f"/rounds/{round_id}/vote", query_string=query)
    assert ballot.status_code == 200
    assert marks_on(ballot.text, f"/rounds/{round_id}/vote/review") == picks_of(
        scene, {"mural": 1, "crossing": 1})


# -- refusals: a clear message, the picks kept, nothing stored ------------------------------

NOT_ON_BALLOT = "A choice is not on this round's ballot. Reload the page and choose again."
REFUSALS = [
    pytest.param(APPROVAL, {"benches": 1}, "Choose at least 2 proposals (you chose 1).",
                 id="approval-too-few"),
    pytest.param(APPROVAL, {"benches": 1, "lights": 1, "mural": 1, "crossing": 1},
                 "Choose at most 3 proposals (you chose 4).", id="approval-too-many"),
    pytest.param(APPROVAL, {}, "Choose at least 2 proposals (you chose 0).", id="approval-empty"),
    pytest.param(APPROVAL, {"benches": 1, "submitted": 1}, NOT_ON_BALLOT,
                 id="approval-submitted-proposal"),
    pytest.param(APPROVAL, {"benches": 1, "rejected": 1}, NOT_ON_BALLOT,
                 id="approval-rejected-proposal"),
    pytest.param(APPROVAL, {"benches": 1, "foreign": 1}, NOT_ON_BALLOT,
                 id="approval-other-rounds-proposal"),
    pytest.param(KNAPSACK, {"lights": 1, "mural": 1, "crossing": 1},
                 "Your choices cost €12,000, more than the budget of €10,000.",
                 id="knapsack-over-budget"),
    pytest.param(KNAPSACK, {}, "Choose at least one proposal.", id="knapsack-empty"),
    pytest.param(KNAPSACK, {"mural": 1, "foreign": 1}, NOT_ON_BALLOT,
                 id="knapsack-other-rounds-proposal"),
    pytest.param(KNAPSACK_MIN, {"benches": 1},
                 "Your choices cost €2,000; choose proposals worth at least €5,000.",
                 id="knapsack-under-minimum-spend"),
    pytest.param(KNAPSACK_MIN, {"benches": 1, "lights": 1, "mural": 1, "crossing": 1},
                 "Your choices cost €14,000, more than the budget of €10,000.",
                 id="knapsack-min-over-budget"),
    pytest.param(POINTS, {"benches": 4, "lights": 4, "mural": 3},
                 "You gave 11 points; you have 10.", id="points-over-total"),
    pytest.param(POINTS, {"benches": 5, "lights": 1},
                 "A proposal can get at most 4 points.", id="points-over-cap"),
    pytest.param(POINTS, {"benches": -1, "lights": 3},
                 "Points are whole numbers, zero or more.", id="points-negative"),
    pytest.param(POINTS, {}, "Choose at least one proposal.", id="points-all-zero"),
    pytest.param(POINTS, {"benches": 2, "foreign": 2}, NOT_ON_BALLOT,
                 id="points-other-rounds-proposal"),
]


def _ballot_post(scene, named: dict, page: str, round_id: int) -> MultiDict:
    """The ballot form with ``named`` picked; picks of proposals that are not on the page
    are added the way a tampered form would carry them."""
    on_page = {scene[n]: v for n, v in named.items() if n in ON_BALLOT}
    data = browser_data(form_on(page, f"/rounds/{round_id}/vote/review"), on_page)
    kind_is_points = any(name.startswith("points-") for name in data)
    for name, value in named.items():
        if name not in ON_BALLOT:
            if kind_is_points:
                data.add(f"points-{scene[name]}", str(value))
            else:
                data.add("choice", str(scene[name]))
    return data


@pytest.mark.parametrize(("scene", "named", "message"), REFUSALS, indirect=["scene"])
@pytest.mark.parametrize("step", ["review", "vote"])
def test_a_refused_ballot_is_explained_keeps_the_picks_and_stores_nothing(
        app, client, auth, scene, named, message, step):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    page = client.get(f"/rounds/{round_id}/vote").text
    data = _ballot_post(scene, named, page, round_id)
    target = f"/rounds/{round_id}/vote/review" if step == "review" else f"/rounds/{round_id}/vote"
    response = client.post(target, data=data)
    assert response.status_code == 400
    assert message in text(response) and "Your ballot" in text(response)
    kept = {scene[n]: v for n, v in named.items() if n in ON_BALLOT}
    assert marks_on(response.text, f"/rounds/{round_id}/vote/review") == kept
    assert stored(app, round_id) == ([], [])


BOUNDARIES = [
    pytest.param(APPROVAL, {"benches": 1, "lights": 1, "mural": 1}, id="approval-maximum"),
    pytest.param(KNAPSACK, {"benches": 1, "lights": 1, "crossing": 1}, id="knapsack-whole-budget"),
    pytest.param(KNAPSACK_MIN, {"benches": 1, "lights": 1}, id="knapsack-exact-minimum-spend"),
    pytest.param(POINTS, {"benches": 4, "lights": 4, "mural": 2}, id="points-whole-total"),
]


@pytest.mark.parametrize(("scene", "named"), BOUNDARIES, indirect=["scene"])
def test_a_ballot_exactly_at_the_limits_is_accepted(app, client, auth, scene, named):
    auth.resident("voter@example.org")
    assert vote(client, scene["round"], picks_of(scene, named)).status_code == 303
    assert stored(app, scene["round"])[0] == [normal(picks_of(scene, named))]


TAMPERED = [
    pytest.param(APPROVAL, [("choice", "mural"), ("choice", "crossing")],
                 "Choose at most 3 proposals (you chose 4).",
                 {"benches": 1, "lights": 1, "mural": 1, "crossing": 1},
                 id="approval-extra-choices"),
    pytest.param(APPROVAL, [("choice", "garbage")],
                 "The form was changed on its way. Reload the page and choose again.",
                 {"benches": 1, "lights": 1}, id="approval-garbage"),
    pytest.param(APPROVAL, [("choice", "benches")],
                 "The form was changed on its way. Reload the page and choose again.",
                 {"benches": 1, "lights": 1}, id="approval-same-choice-twice"),
    pytest.param(KNAPSACK, [("choice", "crossing"), ("choice", "mural")],
                 "Your choices cost €14,000, more than the budget of €10,000.",
                 {"benches": 1, "lights": 1, "mural": 1, "crossing": 1},
                 id="knapsack-extra-choices"),
    pytest.param(POINTS, [("points-lights", "4")], "You gave 14 points; you have 10.",
                 {"benches": 4, "lights": 4, "mural": 3, "crossing": 3},
                 id="points-extra-points"),
    pytest.param(POINTS, [("points-mural", "9")], "A proposal can get at most 4 points.",
                 {"benches": 4, "mural": 9, "crossing": 3}, id="points-over-cap"),
    pytest.param(POINTS, [("points-lights", "1.5")],
                 "Points are whole numbers, zero or more.",
                 {"benches": 4, "mural": 3, "crossing": 3}, id="points-garbage"),
]
BEFORE_TAMPERING = {
    "approval": {"benches": 1, "lights": 1},
    "knapsack": {"benches": 1, "lights": 1},
    "points": {"benches": 4, "mural": 3, "crossing": 3},
}


@pytest.mark.parametrize(("scene", "extra", "message", "kept"), TAMPERED, indirect=["scene"])
def test_a_tampered_vote_form_is_refused_with_the_picks_kept(app, client, auth, scene,
                                                             extra, message, kept):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    with app.app_context():
        kind = db.session.get(Round, round_id).ballot_kind.value
    data = final_form(review(client, round_id, picks_of(scene, BEFORE_TAMPERING[kind])),
                      round_id)
    for name, value in extra:
        if name == "choice":
            data.add("choice", str(scene.get(value, value)))
        else:
            data.setlist(f"points-{scene[name.removeprefix('points-')]}", [value])
    response = client.post(f"/rounds/{round_id}/vote", data=data)
    assert response.status_code == 400
    assert message in text(response)
    assert marks_on(response.text, f"/rounds/{round_id}/vote/review") == picks_of(scene, kept)
    assert stored(app, round_id) == ([], [])


def test_a_refused_change_keeps_the_earlier_ballot(app, client, auth, scene):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    assert vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1})).status_code == 303
    data = final_form(review(client, round_id, picks_of(scene, {"mural": 1, "crossing": 1})),
                      round_id)
    data.add("choice", str(scene["benches"]))
    data.add("choice", str(scene["lights"]))
    refused = client.post(f"/rounds/{round_id}/vote", data=data)
    assert refused.status_code == 400 and "Choose at most 3" in text(refused)
    assert stored(app, round_id) == ([normal(picks_of(scene, {"benches": 1, "lights": 1}))],
                                     [(VoteChannel.ONLINE, "voter@example.org")])


@pytest.mark.parametrize("scene", [POINTS], indirect=True)
@pytest.mark.parametrize("typed", ["abc", "2.5"])
def test_non_numeric_points_are_refused_and_the_other_picks_kept(app, client, auth, scene,
                                                                 typed):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    page = client.get(f"/rounds/{round_id}/vote").text
    data = browser_data(form_on(page, f"/rounds/{round_id}/vote/review"),
                        picks_of(scene, {"benches": 4, "mural": 3}))
    data.setlist(f"points-{scene['lights']}", [typed])
    response = client.post(f"/rounds/{round_id}/vote/review", data=data)
    assert response.status_code == 400 and "error-summary" in response.text
    assert marks_on(response.text, f"/rounds/{round_id}/vote/review") == picks_of(
        scene, {"benches": 4, "mural": 3})
    assert stored(app, round_id) == ([], [])


@pytest.mark.parametrize("scene", [POINTS], indirect=True)
@pytest.mark.parametrize(("typed", "message"), [
    ("2.5", "Points are whole numbers, zero or more."),
    ("9", "A proposal can get at most 4 points."),
])
def test_refused_points_stay_as_typed_and_the_error_points_to_their_field(
        client, auth, scene, typed, message):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    page = client.get(f"/rounds/{round_id}/vote").text
    data = browser_data(form_on(page, f"/rounds/{round_id}/vote/review"),
                        picks_of(scene, {"benches": 4}))
    data.setlist(f"points-{scene['lights']}", [typed])
    response = client.post(f"/rounds/{round_id}/vote/review", data=data)
    assert response.status_code == 400
    fields = {f["name"]: f for f in form_on(response.text, f"/rounds/{round_id}/vote/review")}
    wrong, other = fields[f"points-{scene['lights']}"], fields[f"points-{scene['benches']}"]
    assert wrong["value"] == typed and other["value"] == "4"
    assert wrong["aria-invalid"] == "true" and "aria-invalid" not in other
    assert wrong["aria-describedby"].split() == ["ballot-error", "points-help"]
    summary = re.search(r'<div class="error-summary".*?</div>', response.text, re.S).group(0)
    link = re.search(r'<a href="#points-(\d+)">(.*?)</a>', summary, re.S)
    assert int(link.group(1)) == scene["lights"]
    assert html.unescape(untagged(link.group(2))) == (
        f'Lights for the ski track: <span id="ballot-error">{message}</span>')


@pytest.mark.parametrize("scene", [POINTS], indirect=True)
def test_non_numeric_points_get_the_points_message(client, auth, scene):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    page = client.get(f"/rounds/{round_id}/vote").text
    data = browser_data(form_on(page, f"/rounds/{round_id}/vote/review"),
                        picks_of(scene, {"benches": 4}))
    data.setlist(f"points-{scene['lights']}", ["abc"])
    response = client.post(f"/rounds/{round_id}/vote/review", data=data)
    assert "Points are whole numbers, zero or more." in text(response)


# -- who may vote -------------------------------------------------------------------------

def _nothing_is_stored_for_a_vote_attempt(app, client, scene):
    """A hand-made ballot posted to both steps is sent back to the ballot page."""
    round_id = scene["round"]
    data = {"choice": [str(scene["benches"]), str(scene["lights"])]}
    for step in ("vote/review", "vote"):
        response = client.post(f"/rounds/{round_id}/{step}", data=data)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/rounds/{round_id}/vote"
    assert stored(app, round_id) == ([], [])


def test_an_anonymous_visitor_is_told_to_sign_in(app, client, scene):
    round_id = scene["round"]
    response = client.get(f"/rounds/{round_id}/vote")
    page = text(response)
    assert response.status_code == 200
    assert "Residents of the area vote after signing in." in page
    assert f'href="/sign-in?next=/rounds/{round_id}/vote"' in response.text
    assert "Sign in to vote" in page and "I have a voting code" in page
    assert ON_BALLOT["benches"][0] not in page  # no ballot form
    _nothing_is_stored_for_a_vote_attempt(app, client, scene)


def test_the_sign_in_link_of_the_ballot_leads_back_to_the_ballot(app, client, mailbox, scene):
    round_id = scene["round"]
    sign_in = client.get(f"/sign-in?next=/rounds/{round_id}/vote")
    client.post("/sign-in", data=browser_data(form_on(sign_in.text, ""),
                                              email="voter@example.org"))
    [mail] = [m for m in mailbox if m.to == "voter@example.org"]
    client.get(link_in(mail.body))
    confirmed = client.post("/sign-in/confirm")
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == f"/rounds/{round_id}/vote"
    ballot = text(client.get(confirmed.headers["Location"]))
    assert "Your ballot" in ballot and ON_BALLOT["benches"][0] in ballot


def test_a_resident_without_postal_code_is_told_to_add_it(app, client, auth, scene):
    auth.resident("newcomer@example.org")
    response = client.get(f"/rounds/{scene['round']}/vote")
    assert "Add your home postal code to your account" in text(response)
    assert 'href="/account"' in response.text
    assert f"/rounds/{scene['round']}/vote/review" not in response.text
    _nothing_is_stored_for_a_vote_attempt(app, client, scene)


def test_a_resident_outside_the_area_is_told_so(app, client, auth, scene):
    auth.resident("outsider@example.org")
    response = client.get(f"/rounds/{scene['round']}/vote")
    assert ("Your home postal code (15200) is not in this table's area, so you cannot vote "
            "here as a resident.") in text(response)
    assert f"/rounds/{scene['round']}/vote/review" not in response.text
    _nothing_is_stored_for_a_vote_attempt(app, client, scene)


@pytest.mark.parametrize("scene", [CODES_ONLY], indirect=True)
def test_in_a_codes_only_round_residents_cannot_vote(app, client, auth, scene):
    anonymous = text(client.get(f"/rounds/{scene['round']}/vote"))
    assert "I have a voting code" in anonymous and "Sign in to vote" not in anonymous
    auth.resident("voter@example.org")
    response = client.get(f"/rounds/{scene['round']}/vote")
    page = text(response)
    assert "In this round, people vote with the voting codes the table hands out." in page
    assert "I have a voting code" in page
    assert f"/rounds/{scene['round']}/vote/review" not in response.text
    _nothing_is_stored_for_a_vote_attempt(app, client, scene)


@pytest.mark.parametrize("scene", [{"voter_eligibility": VoterEligibility.RESIDENTS}],
                         indirect=True)
def test_a_residents_only_round_has_no_code_page(client, scene):
    assert "I have a voting code" not in text(client.get(f"/rounds/{scene['round']}/vote"))
    assert client.get(f"/rounds/{scene['round']}/code").status_code == 404
    assert client.post(f"/rounds/{scene['round']}/code",
                       data={"code": "AAAA-BBBB-CCCC-DDDD"}).status_code == 404


def test_staff_of_the_table_are_not_special(app, auth, scene):
    coordinator = signed_in(app, auth, "coordinator@example.org", staff=True)
    page = text(coordinator.get(f"/rounds/{scene['round']}/vote"))
    assert "Your home postal code (00100) is not in this table's area" in page
    _nothing_is_stored_for_a_vote_attempt(app, coordinator, scene)

    member = signed_in(app, auth, "member@example.org", staff=True)  # lives in the area
    assert vote(member, scene["round"], picks_of(scene, {"benches": 1, "mural": 1})
                ).status_code == 303
    assert stored(app, scene["round"]) == (
        [normal(picks_of(scene, {"benches": 1, "mural": 1}))],
        [(VoteChannel.ONLINE, "member@example.org")])


# -- voting codes ---------------------------------------------------------------------------

@pytest.mark.parametrize("typing", [
    pytest.param(lambda code: code.lower().replace("-", " "), id="lower-case-with-spaces"),
    pytest.param(lambda code: code.replace("-", ""), id="without-dashes"),
    pytest.param(lambda code: f"  {code.lower()} ", id="lower-case-padded"),
])
def test_a_code_holder_votes_and_gets_a_receipt(app, client, mailbox, frozen_clock, scene,
                                                typing):
    round_id, code = scene["round"], scene["codes"][1]
    entered = enter_code(client, round_id, typing(code))
    assert entered.status_code == 303
    assert entered.headers["Location"] == f"/rounds/{round_id}/vote"
    ballot = text(client.get(f"/rounds/{round_id}/vote"))
    assert "You are voting with a voting code." in ballot
    for title, _, _ in ON_BALLOT.values():
        assert title in ballot

    checked = review(client, round_id, picks_of(scene, {"lights": 1, "crossing": 1}))
    assert "Mail me when the results are published" not in text(checked)
    response = client.post(f"/rounds/{round_id}/vote", data=final_form(checked, round_id))
    assert response.status_code == 303
    done = text(client.get(f"/rounds/{round_id}/vote/done"))
    assert "Your vote is recorded" in done and ON_BALLOT["lights"][0] in done
    [receipt] = RECEIPT.findall(done)
    assert "We also sent it to your email." not in done
    assert not [m for m in mailbox if m.subject.startswith("Your vote in")]

    row = code_row(app, round_id, code)
    assert row.used_at == frozen_clock.now
    assert all(code_row(app, round_id, other).used_at is None
               for other in scene["codes"] if other != code)
    assert stored(app, round_id) == ([normal(picks_of(scene, {"lights": 1, "crossing": 1}))],
                                     [(VoteChannel.CODE, row.id)])
    with app.app_context():
        assert voting.receipt_is_counted(round_id, receipt)


def test_a_code_holder_can_change_the_vote_with_the_same_code(app, client, scene):
    round_id, code = scene["round"], scene["codes"][0]
    enter_code(client, round_id, code)
    vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1}))
    back = client.get(f"/rounds/{round_id}/vote")
    assert marks_on(back.text, f"/rounds/{round_id}/vote/review") == picks_of(
        scene, {"benches": 1, "lights": 1})

    later = app.test_client()  # the same slip, another day, another device
    assert enter_code(later, round_id, code).status_code == 303
    assert vote(later, round_id, picks_of(scene, {"mural": 1, "crossing": 1})).status_code == 303
    assert "Your new ballot replaced your earlier one." in text(
        later.get(f"/rounds/{round_id}/vote/done"))
    assert stored(app, round_id) == ([normal(picks_of(scene, {"mural": 1, "crossing": 1}))],
                                     [(VoteChannel.CODE, code_row(app, round_id, code).id)])


CODE_REFUSED = ("This code cannot be used for this round. Check the letters and numbers on "
                "your slip.")


def test_unknown_foreign_and_malformed_codes_get_the_same_answer(app, client, scene):
    round_id = scene["round"]
    tries = {
        "unknown": codes.format_code(codes.new_code()),
        "other round": scene["other_code"],
        "too short": scene["codes"][0][:14],
        "look-alike letters": "OOOO-IIII-LLLL-0000",
        "nonsense": "hello",
    }
    answers = {}
    for what, typed in tries.items():
        response = enter_code(client, round_id, typed)
        assert response.status_code == 400, what
        assert CODE_REFUSED in text(response), what
        page = response.get_data(as_text=True).replace(typed, "TYPED")
        answers[what] = re.sub(r'name="csrf_token" value="[^"]*"', "", page)  # time-stamped
    assert len(set(answers.values())) == 1  # nothing tells an existing code apart
    assert "You are voting with a voting code." not in text(client.get(f"/rounds/{round_id}/vote"))
    assert stored(app, round_id) == ([], [])
    assert code_row(app, scene["other_round"], scene["other_code"]).used_at is None


def test_too_many_wrong_codes_are_stopped_even_before_a_right_one(app, client, frozen_clock,
                                                                   scene):
    round_id = scene["round"]
    limit = app.config["CODE_ATTEMPTS_PER_BROWSER_PER_15_MINUTES"]
    for _ in range(limit):
        assert enter_code(client, round_id, codes.new_code()).status_code == 400
    stopped = enter_code(client, round_id, scene["codes"][0])
    assert stopped.status_code == 429
    assert "Too many attempts. Wait 15 minutes and try again" in text(stopped)
    assert "You are voting with a voting code." not in text(client.get(f"/rounds/{round_id}/vote"))

    frozen_clock.advance(minutes=15)
    assert enter_code(client, round_id, scene["codes"][0]).status_code == 303


def test_one_guessing_browser_does_not_lock_out_a_speak_out_event_on_shared_wifi(
        app, client, scene):
    """Everyone at the event comes from one network address: the browser that keeps typing
    wrong codes is stopped, the others go on; only far more wrong codes from the address
    stop it as a whole (a browser that drops its cookie to guess on)."""
    app.config.update(CODE_ATTEMPTS_PER_BROWSER_PER_15_MINUTES=3,
                      CODE_ATTEMPTS_PER_15_MINUTES=7)
    round_id = scene["round"]
    for _ in range(3):
        assert enter_code(client, round_id, codes.new_code()).status_code == 400
    assert enter_code(client, round_id, scene["codes"][0]).status_code == 429

    neighbour = app.test_client()  # same address, another phone
    assert enter_code(neighbour, round_id, codes.new_code()).status_code == 400  # a typo
    assert enter_code(neighbour, round_id, scene["codes"][1]).status_code == 303

    for _ in range(3):  # a guesser who starts afresh with every try
        assert enter_code(app.test_client(), round_id, codes.new_code()).status_code == 400
    late = enter_code(app.test_client(), round_id, scene["codes"][2])
    assert late.status_code == 429  # the address's 7 wrong codes are spent


def test_forgetting_the_code_ends_its_use_in_this_browser(app, client, scene):
    round_id = scene["round"]
    enter_code(client, round_id, scene["codes"][0])
    vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1}))
    done = client.get(f"/rounds/{round_id}/vote/done")
    assert f'action="/rounds/{round_id}/code/forget"' in done.text
    forget = browser_data(form_on(done.text, f"/rounds/{round_id}/code/forget"))
    response = client.post(f"/rounds/{round_id}/code/forget", data=forget)
    assert response.status_code == 303 and response.headers["Location"] == f"/rounds/{round_id}"
    assert "The code is no longer remembered in this browser." in text(
        client.get(response.headers["Location"]))
    start = text(client.get(f"/rounds/{round_id}/vote"))
    assert "Sign in to vote" in start and ON_BALLOT["benches"][0] not in start
    assert client.get(f"/rounds/{round_id}/vote/done").status_code == 303
    assert len(stored(app, round_id)[0]) == 1  # the ballot itself stays


# -- paper ballots ------------------------------------------------------------------------

def test_a_member_enters_a_paper_ballot_with_its_slip_code(app, auth, frozen_clock, scene):
    member = signed_in(app, auth, "member@example.org", staff=True)
    round_id, code = scene["round"], scene["codes"][2]
    page = text(member.get(f"/manage/rounds/{round_id}/paper"))
    for title, _, _ in ON_BALLOT.values():
        assert title in page
    assert "the online ballot stands and the paper ballot is not counted" in page

    response = paper_entry(member, round_id, code.lower(),
                           picks_of(scene, {"benches": 1, "crossing": 1}))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/rounds/{round_id}/paper"
    assert "The paper ballot is recorded." in text(member.get(response.headers["Location"]))
    row = code_row(app, round_id, code)
    assert row.used_at == frozen_clock.now
    assert stored(app, round_id) == ([normal(picks_of(scene, {"benches": 1, "crossing": 1}))],
                                     [(VoteChannel.PAPER, row.id)])


def void_entry(client, round_id: int, code: str, reason: str = "Two marks were misread."):
    """The coordinator voids a paper entry from the paper entry page."""
    page = client.get(f"/manage/rounds/{round_id}/paper")
    action = f"/manage/rounds/{round_id}/paper/void"
    assert form_on(page.text, action), "the page has no void form"
    return client.post(action, data={"void-code": code, "void-reason": reason,
                                     "void-confirm": "y"})


def audit_events(app, action: str):
    with app.app_context():
        return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                  ).scalars().all()


def test_a_paper_entry_is_audited_without_its_code_or_its_choices(app, auth, scene):
    member = signed_in(app, auth, "member@example.org", staff=True)
    round_id, code = scene["round"], scene["codes"][0]
    picks = picks_of(scene, {"benches": 1, "lights": 1})
    assert paper_entry(member, round_id, code, picks).status_code == 303
    [event] = audit_events(app, "paper_ballot.entered")
    with app.app_context():
        assert db.session.get(User, event.actor_id).email == "member@example.org"
    assert (event.object_type, event.object_id) == ("round", str(round_id))
    recorded = f"{event.details} {event.object_id}"
    assert code not in recorded and codes.normalize_code(code) not in recorded
    assert all(str(pid) not in str(event.details) for pid in picks)


def test_the_coordinator_voids_a_mis_keyed_paper_entry_so_it_can_be_entered_again(
        app, auth, scene):
    member = signed_in(app, auth, "member@example.org", staff=True)
    coordinator = signed_in(app, auth, "coordinator@example.org", staff=True)
    round_id, code = scene["round"], scene["codes"][0]
    wrong = picks_of(scene, {"benches": 1, "lights": 1})
    right = picks_of(scene, {"mural": 1, "crossing": 1})
    assert paper_entry(member, round_id, code, wrong).status_code == 303
    answer = void_entry(coordinator, round_id, code)
    assert answer.status_code == 303
    assert "the slip can be entered again" in text(coordinator.get(answer.headers["Location"]))
    assert stored(app, round_id) == ([], [])
    assert code_row(app, round_id, code).used_at is None
    [event] = audit_events(app, "paper_ballot.voided")
    assert event.details == {"reason": "Two marks were misread."}
    assert paper_entry(member, round_id, code, right).status_code == 303
    assert stored(app, round_id) == ([normal(right)],
                                     [(VoteChannel.PAPER, code_row(app, round_id, code).id)])


def test_voiding_is_refused_without_a_reason_for_online_votes_and_for_members(
        app, client, auth, scene):
    coordinator = signed_in(app, auth, "coordinator@example.org", staff=True)
    member = signed_in(app, auth, "member@example.org", staff=True)
    round_id, code = scene["round"], scene["codes"][0]
    assert enter_code(client, round_id, code).status_code == 303
    assert vote(client, round_id, picks_of(scene, ONLINE_PICKS)).status_code == 303
    online = void_entry(coordinator, round_id, code)
    assert online.status_code == 400
    assert "No paper ballot was entered with this code" in text(online)
    unknown = void_entry(coordinator, round_id, "ABCD-EFGH-JKMN-PQRS")
    assert "No voting code of this round matches." in text(unknown)
    no_reason = void_entry(coordinator, round_id, code, reason="")
    assert no_reason.status_code == 400 and "Write the reason." in text(no_reason)
    assert member.post(f"/manage/rounds/{round_id}/paper/void",
                       data={"void-code": code, "void-reason": "x",
                             "void-confirm": "y"}).status_code == 403
    assert len(stored(app, round_id)[0]) == 1  # the online ballot stands
    assert audit_events(app, "paper_ballot.voided") == []


def test_the_same_slip_entered_twice_is_refused(app, auth, scene):
    member = signed_in(app, auth, "member@example.org", staff=True)
    round_id, code = scene["round"], scene["codes"][0]
    first = picks_of(scene, {"benches": 1, "lights": 1})
    assert paper_entry(member, round_id, code, first).status_code == 303
    again = paper_entry(member, round_id, code, picks_of(scene, {"mural": 1, "crossing": 1}))
    assert again.status_code == 400
    assert "This slip has already been entered." in text(again)
    assert marks_on(again.text, "") == picks_of(scene, {"mural": 1, "crossing": 1})
    assert stored(app, round_id) == ([normal(first)],
                                     [(VoteChannel.PAPER, code_row(app, round_id, code).id)])


@pytest.mark.parametrize("typed", [
    pytest.param("AAAA-BBBB-CCCC-DDDD", id="unknown-code"),
    pytest.param(None, id="other-rounds-code"),
])
def test_a_paper_ballot_with_a_wrong_code_or_bad_marks_is_refused(app, auth, scene, typed):
    member = signed_in(app, auth, "member@example.org", staff=True)
    typed = typed or scene["other_code"]
    picks = picks_of(scene, {"benches": 1, "lights": 1})
    response = paper_entry(member, scene["round"], typed, picks)
    assert response.status_code == 400
    assert "No voting code of this round matches. Check the slip." in text(response)
    assert marks_on(response.text, "") == picks
    too_many = paper_entry(member, scene["round"], scene["codes"][0],
                           picks_of(scene, dict.fromkeys(ON_BALLOT, 1)))
    assert too_many.status_code == 400
    assert "Choose at most 3 proposals (you chose 4)." in text(too_many)
    assert marks_on(too_many.text, "") == picks_of(scene, dict.fromkeys(ON_BALLOT, 1))
    assert stored(app, scene["round"]) == ([], [])


def test_a_paper_ballot_without_its_code_keeps_the_marks(app, auth, scene):
    member = signed_in(app, auth, "member@example.org", staff=True)
    picks = picks_of(scene, {"benches": 1, "lights": 1})
    response = paper_entry(member, scene["round"], "", picks)
    assert "Type the slip's code." in text(response)
    assert stored(app, scene["round"]) == ([], [])
    assert marks_on(response.text, "") == picks


def test_a_member_of_another_table_cannot_enter_paper_ballots(app, auth, scene):
    stranger = signed_in(app, auth, "stranger@example.org", staff=True)
    round_id = scene["round"]
    assert stranger.get(f"/manage/rounds/{round_id}/paper").status_code == 403
    response = stranger.post(f"/manage/rounds/{round_id}/paper", data={
        "code": scene["codes"][0], "choice": [str(scene["benches"]), str(scene["lights"])],
        "submit": "Record this paper ballot"})
    assert response.status_code == 403
    resident = signed_in(app, auth, "voter@example.org")
    assert resident.get(f"/manage/rounds/{round_id}/paper").status_code == 403
    assert stored(app, round_id) == ([], [])


ONLINE_PICKS, PAPER_PICKS = {"benches": 1, "lights": 1}, {"mural": 1, "crossing": 1}


def test_online_wins_the_paper_entry_after_an_online_vote_is_refused(app, client, auth, scene):
    round_id, code = scene["round"], scene["codes"][0]
    enter_code(client, round_id, code)
    assert vote(client, round_id, picks_of(scene, ONLINE_PICKS)).status_code == 303
    member = signed_in(app, auth, "member@example.org", staff=True)
    refused = paper_entry(member, round_id, code, picks_of(scene, PAPER_PICKS))
    assert refused.status_code == 400
    assert ("This code was already used online; by this round's rule the online ballot "
            "stands.") in text(refused)
    assert stored(app, round_id) == ([normal(picks_of(scene, ONLINE_PICKS))],
                                     [(VoteChannel.CODE, code_row(app, round_id, code).id)])


def test_online_wins_an_online_vote_after_a_paper_entry_replaces_it(app, client, auth, scene):
    round_id, code = scene["round"], scene["codes"][0]
    member = signed_in(app, auth, "member@example.org", staff=True)
    assert paper_entry(member, round_id, code, picks_of(scene, PAPER_PICKS)).status_code == 303
    assert enter_code(client, round_id, code).status_code == 303
    assert vote(client, round_id, picks_of(scene, ONLINE_PICKS)).status_code == 303
    assert "Your new ballot replaced your earlier one." in text(
        client.get(f"/rounds/{round_id}/vote/done"))
    assert stored(app, round_id) == ([normal(picks_of(scene, ONLINE_PICKS))],
                                     [(VoteChannel.CODE, code_row(app, round_id, code).id)])


def test_a_paper_ballot_is_never_shown_online_to_the_holder_of_its_code(app, client, auth,
                                                                          scene):
    """The slip passed through staff hands: typing its code online shows an empty ballot,
    not the choices written on paper (the round's rule still decides which ballot stands)."""
    round_id, code = scene["round"], scene["codes"][0]
    member = signed_in(app, auth, "member@example.org", staff=True)
    assert paper_entry(member, round_id, code, picks_of(scene, PAPER_PICKS)).status_code == 303
    assert enter_code(client, round_id, code).status_code == 303
    page = text(client.get(f"/rounds/{round_id}/vote"))
    assert marks_on(page, f"/rounds/{round_id}/vote/review") == {}
    assert stored(app, round_id)[0] == [normal(picks_of(scene, PAPER_PICKS))]  # still there


@pytest.mark.parametrize("scene", [PAPER_WINS], indirect=True)
def test_paper_wins_the_paper_entry_after_an_online_vote_replaces_it(app, client, auth, scene):
    round_id, code = scene["round"], scene["codes"][0]
    enter_code(client, round_id, code)
    assert vote(client, round_id, picks_of(scene, ONLINE_PICKS)).status_code == 303
    member = signed_in(app, auth, "member@example.org", staff=True)
    page = text(member.get(f"/manage/rounds/{round_id}/paper"))
    assert "the paper ballot stands and replaces the online one" in page
    assert paper_entry(member, round_id, code, picks_of(scene, PAPER_PICKS)).status_code == 303
    assert stored(app, round_id) == ([normal(picks_of(scene, PAPER_PICKS))],
                                     [(VoteChannel.PAPER, code_row(app, round_id, code).id)])


@pytest.mark.parametrize("scene", [PAPER_WINS], indirect=True)
def test_paper_wins_an_online_vote_after_a_paper_entry_is_refused(app, client, auth, scene):
    round_id, code = scene["round"], scene["codes"][0]
    early = app.test_client()  # a browser that took the code before the paper entry
    assert enter_code(early, round_id, code).status_code == 303
    ready = final_form(review(early, round_id, picks_of(scene, ONLINE_PICKS)), round_id)
    member = signed_in(app, auth, "member@example.org", staff=True)
    assert paper_entry(member, round_id, code, picks_of(scene, PAPER_PICKS)).status_code == 303

    refused = enter_code(client, round_id, code)
    assert refused.status_code == 400 and CODE_REFUSED in text(refused)
    late = early.post(f"/rounds/{round_id}/vote", data=ready)
    assert late.status_code == 409 and "This code has already been used." in text(late)
    assert marks_on(late.text, f"/rounds/{round_id}/vote/review") == picks_of(scene,
                                                                              ONLINE_PICKS)
    assert stored(app, round_id) == ([normal(picks_of(scene, PAPER_PICKS))],
                                     [(VoteChannel.PAPER, code_row(app, round_id, code).id)])


# -- the codes sheet ----------------------------------------------------------------------

def test_a_coordinator_prints_a_sheet_of_codes_stored_only_as_hashes(app, auth, scene):
    coordinator = signed_in(app, auth, "coordinator@example.org", staff=True)
    round_id = scene["round"]
    form = coordinator.get(f"/manage/rounds/{round_id}/codes")
    assert "3 codes issued so far." in text(form)
    sheet = coordinator.post(f"/manage/rounds/{round_id}/codes",
                             data=browser_data(form_on(form.text, ""), count="4"))
    assert sheet.status_code == 200
    slips = re.findall(r'<li class="slip">(.*?)</li>', sheet.text, flags=re.S)
    assert len(slips) == 4
    printed = [re.search(r'<p class="slip-code">(.*?)</p>', slip).group(1) for slip in slips]
    assert all(RECEIPT.fullmatch(code) for code in printed) and len(set(printed)) == 4
    assert all("<svg" in slip and "</svg>" in slip for slip in slips)
    assert f"http://pb.test/rounds/{round_id}/code" in text(sheet)

    plain = printed + scene["codes"] + [scene["other_code"]]
    with app.app_context():
        rows = db.session.execute(
            select(VotingCode).where(VotingCode.round_id == round_id).order_by(VotingCode.id)
        ).scalars().all()
        assert len(rows) == 7 and [row.batch for row in rows] == [1, 1, 1, 2, 2, 2, 2]
        assert {row.code_hash for row in rows[3:]} == {codes.code_hash(c) for c in printed}
        everything = " ".join(
            str(row) for table in db.metadata.sorted_tables
            for row in db.session.execute(select(table)).all()
        )
        for code in plain:
            assert code not in everything and codes.normalize_code(code) not in everything
        [event] = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "voting_codes.generated",
                                     AuditEvent.object_id == str(round_id))
            .order_by(AuditEvent.id.desc()).limit(1)
        ).scalars().all()
        assert event.details == {"count": 4, "batch": 2, "languages": ["fi", "sv"]}
        assert event.actor_role == "coordinator"
    assert "7 codes issued so far." in text(coordinator.get(f"/manage/rounds/{round_id}/codes"))


def test_only_the_coordinator_generates_codes(app, auth, scene):
    round_id = scene["round"]
    for email in ("member@example.org", "stranger@example.org"):
        staff = signed_in(app, auth, email, staff=True)
        assert staff.get(f"/manage/rounds/{round_id}/codes").status_code == 403
        assert staff.post(f"/manage/rounds/{round_id}/codes",
                          data={"count": "5", "submit": "Generate"}).status_code == 403
    coordinator = signed_in(app, auth, "coordinator@example.org", staff=True)
    for count, message in (("0", "Use a number from 1 to 5000."),
                           ("5001", "Use a number from 1 to 5000."),
                           ("many", "Use a number from 1 to 5000."),
                           ("", "Give the number of codes.")):
        refused = coordinator.post(f"/manage/rounds/{round_id}/codes",
                                   data={"count": count, "submit": "Generate"})
        assert refused.status_code == 400 and 'class="slip"' not in refused.text
        assert message in text(refused), count
    with app.app_context():
        assert len(db.session.execute(
            select(VotingCode).where(VotingCode.round_id == round_id)).all()) == 3


# -- live turnout -------------------------------------------------------------------------

def test_turnout_counts_by_channel_and_day_for_the_tables_staff_only(app, client, auth,
                                                                     frozen_clock, scene):
    round_id = scene["round"]
    zone = ZoneInfo("Europe/Helsinki")
    first_day = frozen_clock.now.astimezone(zone).date()
    auth.resident("voter@example.org")
    vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1}))
    frozen_clock.advance(days=1)
    holder = app.test_client()
    enter_code(holder, round_id, scene["codes"][0])
    vote(holder, round_id, picks_of(scene, {"mural": 1, "crossing": 1}))
    member = signed_in(app, auth, "member@example.org", staff=True)
    paper_entry(member, round_id, scene["codes"][1], picks_of(scene, {"lights": 1, "mural": 1}))
    vote(client, round_id, picks_of(scene, {"benches": 1, "mural": 1}))  # a change: no new voter

    coordinator = signed_in(app, auth, "coordinator@example.org", staff=True)
    for staff in (member, coordinator):
        response = staff.get(f"/manage/rounds/{round_id}/turnout")
        page = text(response)
        assert response.status_code == 200 and "3 ballots so far." in page
        rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td></tr>', page)
        assert rows == [
            ("Online, signed in", "1"), ("Online, with a voting code", "1"), ("Paper", "1"),
            (format_date(first_day, "d MMMM yyyy", locale="en_GB"), "1"),
            (format_date(first_day + timedelta(days=1), "d MMMM yyyy", locale="en_GB"), "2"),
        ]
        for title in (*[t for t, _, _ in ON_BALLOT.values()], "Parks", "Culture", "€"):
            assert title not in page

    assert signed_in(app, auth, "stranger@example.org", staff=True).get(
        f"/manage/rounds/{round_id}/turnout").status_code == 403
    assert client.get(f"/manage/rounds/{round_id}/turnout").status_code == 403  # a voter
    anonymous = app.test_client().get(f"/manage/rounds/{round_id}/turnout")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/sign-in?next=")


# -- the clock decides, to the second -----------------------------------------------------

def test_at_the_closing_second_nothing_is_recorded(app, client, auth, frozen_clock, scene):
    round_id = scene["round"]
    auth.resident("voter@example.org")
    ready = final_form(review(client, round_id, picks_of(scene, {"benches": 1, "lights": 1})),
                       round_id)
    frozen_clock.set(scene["close"])

    ballot = text(client.get(f"/rounds/{round_id}/vote"))
    assert "Voting is not open" in ballot and "Voting closed" in ballot
    assert ON_BALLOT["benches"][0] not in ballot
    late_review = client.post(f"/rounds/{round_id}/vote/review", data=ready)
    assert late_review.status_code == 303
    late = client.post(f"/rounds/{round_id}/vote", data=ready)
    assert late.status_code == 409
    assert "Your ballot was not recorded: voting had already closed." in text(late)
    # the picks stay on the page: the voter sees what was not recorded
    assert "What you had chosen" in text(late)
    for kept in ("benches", "lights"):
        assert ON_BALLOT[kept][0] in text(late)
    assert ON_BALLOT["mural"][0] not in text(late)
    assert stored(app, round_id) == ([], [])
    with app.app_context():
        assert db.session.get(Round, round_id).phase is RoundPhase.CLOSED


def test_a_paper_ballot_at_the_closing_second_is_refused(app, auth, frozen_clock, scene):
    member = signed_in(app, auth, "member@example.org", staff=True)
    round_id = scene["round"]
    page = member.get(f"/manage/rounds/{round_id}/paper")
    frozen_clock.set(scene["close"])
    data = browser_data(form_on(page.text, ""), picks_of(scene, {"benches": 1, "lights": 1}),
                        code=scene["codes"][0])
    response = member.post(f"/manage/rounds/{round_id}/paper", data=data)
    assert response.status_code == 400
    assert "Voting is not open: the server's clock decides." in text(response)
    assert stored(app, round_id) == ([], [])
    assert code_row(app, round_id, scene["codes"][0]).used_at is None


def test_one_second_before_close_the_vote_is_recorded(app, client, auth, frozen_clock, scene):
    round_id = scene["round"]
    auth.resident("voter@example.org")
    frozen_clock.set(scene["close"] - timedelta(seconds=1))
    response = vote(client, round_id, picks_of(scene, {"benches": 1, "lights": 1}))
    assert response.status_code == 303
    assert "Your vote is recorded" in text(client.get(f"/rounds/{round_id}/vote/done"))
    assert stored(app, round_id) == ([normal(picks_of(scene, {"benches": 1, "lights": 1}))],
                                     [(VoteChannel.ONLINE, "voter@example.org")])


# -- a double click -----------------------------------------------------------------------

@pytest.mark.parametrize("who", ["resident", "code"])
def test_the_same_vote_posted_twice_leaves_one_ballot(app, client, auth, scene, who):
    round_id = scene["round"]
    if who == "resident":
        auth.resident("voter@example.org")
    else:
        enter_code(client, round_id, scene["codes"][0])
    picks = picks_of(scene, {"benches": 1, "mural": 1})
    ready = final_form(review(client, round_id, picks), round_id)
    first = client.post(f"/rounds/{round_id}/vote", data=ready)
    second = client.post(f"/rounds/{round_id}/vote", data=ready)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] == (
        f"/rounds/{round_id}/vote/done")
    done = client.get(f"/rounds/{round_id}/vote/done")
    assert done.status_code == 200 and "Your vote is recorded" in text(done)
    ballots, people = stored(app, round_id)
    assert ballots == [normal(picks)] and len(people) == 1
    with app.app_context():
        assert len(db.session.execute(select(BallotReceipt)).all()) == 1
        [shown] = RECEIPT.findall(text(done))
        assert voting.receipt_is_counted(round_id, shown)  # the receipt the voter sees


def test_a_changed_vote_keeps_its_receipt_and_every_text_says_so(app, client, auth, mailbox,
                                                                 scene):
    auth.resident("voter@example.org")
    round_id = scene["round"]
    receipts, pages = [], []
    for named in ({"benches": 1, "lights": 1}, {"mural": 1, "crossing": 1}):
        assert vote(client, round_id, picks_of(scene, named)).status_code == 303
        pages.append(text(client.get(f"/rounds/{round_id}/vote/done")))
        receipts += RECEIPT.findall(pages[-1])
    assert len(receipts) == 2 and receipts[0] == receipts[1]  # the truth (services.codes)
    assert "Your new ballot replaced your earlier one." in pages[1]
    for page in pages:
        assert "The receipt code stays the same if you change your vote." in page
    mails = [m for m in mailbox if m.subject.startswith("Your vote in")]
    assert len(mails) == 2 and all(receipts[0] in m.body for m in mails)
    for mail in mails:
        assert "The receipt code stays the same if you change your vote." in mail.body
