"""Voting codes through the coordinator's pages: batches in the chosen languages, a sheet
whose QR codes carry each code only in the address's fragment, voiding a batch that did not
print, and the paper ballot to print for each ballot kind."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import segno
from sqlalchemy import func, select

from pb_vote.blueprints.coordinate import printing
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    BallotKind,
    Participation,
    ProposalStatus,
    RoundPhase,
    VoterEligibility,
    VotingCode,
    VotingCodeBatch,
)
from pb_vote.services import codes
from tests import factories

SLIP = re.compile(r'<p class="slip-code">([^<]+)</p>.*?<div class="slip-qr"[^>]*>(<svg.*?</svg>)',
                  re.S)
# How each language's slip begins to say how to vote.
VOTE_BY = {"en": "Vote by", "fi": "Äänestä viimeistään", "sv": "Rösta senast"}


@pytest.fixture
def scene(app, request):
    """A table with a coordinator and a member, and a round in voting (residents and codes;
    the ballot kind of the test's parameter) with three accepted proposals."""
    settings = getattr(request, "param", {"ballot_kind": BallotKind.APPROVAL,
                                          "approval_min": 1, "approval_max": 2})
    with app.app_context():
        table = factories.table("keskusta", "Keskusta")
        factories.user("coordinator@example.org", postal_code=None, role="coordinator",
                       at=table)
        factories.user("member@example.org", postal_code=None, role="member", at=table)
        round_ = factories.round_(table, RoundPhase.VOTING, title="Keskusta votes",
                                  budget_cents=1_000_000,
                                  voter_eligibility=VoterEligibility.BOTH, **settings)
        for title, cost in (("Benches by the lake", 200_000), ("Lights", 300_000),
                            ("Mural", 400_000)):
            factories.proposal(round_, title=title, cost_cents=cost,
                               status=ProposalStatus.ACCEPTED)
        db.session.commit()
        return {"round": round_.id}


def generate(client, round_id: int, count: int, languages=("fi", "sv")):
    """Press "Generate" on the codes page."""
    return client.post(f"/manage/rounds/{round_id}/codes",
                       data={"count": str(count), "languages": list(languages)})


def slips(sheet: str) -> list[tuple[str, str]]:
    """(code, QR svg) of each slip on a sheet."""
    return [(code, svg) for code, svg in SLIP.findall(sheet)]


def test_the_codes_page_offers_finnish_and_swedish_slips_by_default(client, auth, scene):
    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{scene['round']}/codes").text
    checked = set(re.findall(r'name="languages" value="(\w+)" lang="\w+" checked', page))
    assert checked == {"fi", "sv"}
    assert 'name="languages" value="en"' in page


def test_the_sheet_speaks_the_languages_chosen_and_records_the_batch(app, client, auth,
                                                                      scene):
    auth.staff("coordinator@example.org")
    sheet = generate(client, scene["round"], 3, ("sv", "en"))
    assert sheet.status_code == 200
    text = unescape(sheet.text)
    assert len(slips(sheet.text)) == 3
    assert text.count(VOTE_BY["sv"]) == 3 and text.count(VOTE_BY["en"]) == 3  # each slip
    assert re.search(r'class="slip-how" lang="sv"', sheet.text)
    assert VOTE_BY["fi"] not in text
    with app.app_context():
        batch = db.session.execute(select(VotingCodeBatch)).scalar_one()
        assert (batch.number, batch.count, batch.languages) == (1, 3, ["sv", "en"])
        assert batch.created_by.email == "coordinator@example.org"
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "voting_codes.generated")).scalar_one()
        assert event.details == {"count": 3, "batch": 1, "languages": ["sv", "en"]}


@pytest.mark.parametrize("languages", [(), ("de",), ("<script>", "x" * 500)])
def test_a_batch_needs_one_of_our_languages(app, client, auth, scene, languages):
    auth.staff("coordinator@example.org")
    refused = generate(client, scene["round"], 3, languages)
    assert refused.status_code == 400
    assert "Languages on the slips: Choose at least one language." in unescape(refused.text)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VotingCode)) == 0


def test_a_batch_keeps_only_our_languages(app, client, auth, scene):
    auth.staff("coordinator@example.org")
    assert generate(client, scene["round"], 1, ("en", "<b>", "fi")).status_code == 200
    with app.app_context():
        assert db.session.execute(select(VotingCodeBatch.languages)).scalar_one() == [
            "fi", "en"]


def test_each_qr_code_carries_its_code_only_after_the_hash(client, auth, scene):
    auth.staff("coordinator@example.org")
    found = slips(generate(client, scene["round"], 4).text)
    assert len({svg for _, svg in found}) == 4  # one QR code per slip
    for code, svg in found:
        raw = codes.normalize_code(code)
        link = f"http://pb.test/rounds/{scene['round']}/code#code={raw}"
        # The QR code on the slip is exactly the one that encodes this address.
        assert svg == str(printing.qr_svg(link))
        parts = urlsplit(link)
        assert raw not in parts.path + parts.query + parts.netloc
        assert parts.fragment == f"code={raw}"
        # The symbol is a QR code of that address (segno, error correction M), not of the
        # bare code page: the matrices differ.
        bare = f"http://pb.test/rounds/{scene['round']}/code"
        assert svg != str(printing.qr_svg(bare))
        assert segno.make_qr(link, error="m", mask=2, boost_error=False).designator in (
            "4-M", "5-M")


def test_the_code_page_fills_the_field_from_the_fragment_by_script(client, scene):
    page = client.get(f"/rounds/{scene['round']}/code").text
    assert '<script src="/static/js/code.js" defer></script>' in page
    assert 'id="code-filled" role="status" hidden' in page
    script = client.get("/static/js/code.js").text
    assert "location.hash" in script and "history.replaceState" in script


def code_page_refusal(client, round_id: int, code: str) -> str | None:
    """Type a code on the code page; the refusal shown, or None when it was taken."""
    response = client.post(f"/rounds/{round_id}/code", data={"code": code})
    if response.status_code == 303:
        return None
    return unescape(response.text)


def vote_with_code(client, round_id: int, code: str, proposal_ids):
    """Enter a code and vote for ``proposal_ids``."""
    assert code_page_refusal(client, round_id, code) is None
    return client.post(f"/rounds/{round_id}/vote",
                       data={"choice": [str(p) for p in proposal_ids]})


def proposal_ids(app, round_id: int) -> list[int]:
    """The ballot's proposals."""
    from pb_vote.models import Proposal

    with app.app_context():
        return list(db.session.execute(select(Proposal.id).where(
            Proposal.round_id == round_id).order_by(Proposal.id)).scalars())


def test_voiding_a_batch_stops_its_unused_codes_and_keeps_the_votes(app, client, auth,
                                                                    scene):
    round_id = scene["round"]
    auth.staff("coordinator@example.org")
    kept = [code for code, _ in slips(generate(client, round_id, 2).text)]
    lost = [code for code, _ in slips(generate(client, round_id, 3).text)]
    auth.sign_out()
    voter = app.test_client()
    first = proposal_ids(app, round_id)[0]
    assert vote_with_code(voter, round_id, lost[0], [first]).status_code == 303
    holder = app.test_client()  # entered a code of the lost sheet before the void...
    assert code_page_refusal(holder, round_id, lost[1]) is None

    auth.staff("coordinator@example.org")
    page = client.get(f"/manage/rounds/{round_id}/codes").text
    assert f'action="/manage/rounds/{round_id}/codes/2/void#batch-2"' in page
    voided = client.post(f"/manage/rounds/{round_id}/codes/2/void",
                         data={"void-2-reason": "The printer jammed.", "void-2-confirm": "y"},
                         follow_redirects=True)
    assert voided.status_code == 200
    assert "Batch 2 is voided: 2 unused codes stopped working." in unescape(voided.text)
    assert "The printer jammed." in unescape(voided.text)

    # ...and cannot vote with it now; nor can anyone with the last unused code.
    refused = holder.post(f"/rounds/{round_id}/vote", data={"choice": [str(first)]})
    assert refused.status_code == 409
    assert "This code cannot be used for this round." in unescape(refused.text)
    assert "cannot be used" in code_page_refusal(app.test_client(), round_id, lost[2])
    # The code that voted before the void keeps its ballot; the other batch works.
    assert vote_with_code(voter, round_id, lost[0], [first]).status_code == 303
    assert vote_with_code(app.test_client(), round_id, kept[0], [first]).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Participation)) == 2
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "voting_codes.voided")).scalar_one()
        assert event.details == {"batch": 2, "stopped": 2, "reason": "The printer jammed."}


def test_a_void_needs_a_reason_and_a_confirmation_and_happens_once(client, auth, scene):
    round_id = scene["round"]
    auth.staff("coordinator@example.org")
    generate(client, round_id, 2)
    url = f"/manage/rounds/{round_id}/codes/1/void"
    no_reason = client.post(url, data={"void-1-reason": "  ", "void-1-confirm": "y"})
    assert no_reason.status_code == 400 and "Write the reason." in no_reason.text
    assert "<details class=\"disclosure\" open>" in no_reason.text  # the form stays in view
    unconfirmed = client.post(url, data={"void-1-reason": "Jammed"})
    assert unconfirmed.status_code == 400
    assert "Confirm that the codes stop working." in unconfirmed.text
    assert client.post(url, data={"void-1-reason": "Jammed", "void-1-confirm": "y"}
                       ).status_code == 303
    again = client.post(url, data={"void-1-reason": "Jammed", "void-1-confirm": "y"})
    assert again.status_code == 400 and "This batch is already voided." in again.text
    unknown = client.post(f"/manage/rounds/{round_id}/codes/7/void",
                          data={"void-7-reason": "Jammed", "void-7-confirm": "y"})
    assert unknown.status_code == 400
    assert "This round has no batch of codes with that number." in unknown.text


def test_only_the_coordinator_voids_a_batch(client, auth, scene):
    round_id = scene["round"]
    auth.staff("coordinator@example.org")
    generate(client, round_id, 1)
    auth.sign_out()
    auth.staff("member@example.org")
    assert client.post(f"/manage/rounds/{round_id}/codes/1/void",
                       data={"void-1-reason": "x", "void-1-confirm": "y"}).status_code == 403


def test_a_paper_slip_of_a_voided_batch_is_refused_in_words(app, client, auth, scene):
    round_id = scene["round"]
    auth.staff("coordinator@example.org")
    [(code, _)] = slips(generate(client, round_id, 1).text)
    client.post(f"/manage/rounds/{round_id}/codes/1/void",
                data={"void-1-reason": "Lost", "void-1-confirm": "y"})
    first = proposal_ids(app, round_id)[0]
    entry = client.post(f"/manage/rounds/{round_id}/paper",
                        data={"code": code, "choice": [str(first)]})
    assert entry.status_code == 400
    assert "This code's batch was voided" in unescape(entry.text)


APPROVAL = {"ballot_kind": BallotKind.APPROVAL, "approval_min": 1, "approval_max": 2}
KNAPSACK = {"ballot_kind": BallotKind.KNAPSACK, "knapsack_min_spend_percent": 50}
POINTS = {"ballot_kind": BallotKind.POINTS, "points_total": 10, "points_max_per_proposal": 4}


def printed(client, round_id: int, query: str = ""):
    return client.get(f"/manage/rounds/{round_id}/paper/print{query}")


@pytest.mark.parametrize(("scene", "rules"), [
    (APPROVAL, {"en": "Mark at least 1 and at most 2 proposals with a cross (X)",
                "fi": "Merkitse rastilla (X) vähintään 1 ja enintään 2 ehdotusta",
                "sv": "Kryssa (X) för minst 1 och högst 2 förslag"}),
    (KNAPSACK, {"en": "may be at most €10,000",
                "fi": "enintään 10 000 €",
                "sv": "högst 10 000 €"}),
    (POINTS, {"en": "Share 10 points among the proposals you support",
              "fi": "Jaa 10 pistettä",
              "sv": "Fördela 10 poäng"}),
], indirect=["scene"])
def test_the_paper_ballot_has_a_box_per_proposal_and_the_rules_in_each_language(
        client, auth, scene, rules):
    auth.staff("member@example.org")
    page = printed(client, scene["round"], "?lang=fi&lang=sv&lang=en")
    assert page.status_code == 200
    text = unescape(page.text)
    assert text.count('class="paper-box') == 3
    for language, words in rules.items():
        block = re.search(rf'<section class="paper-rules" lang="{language}">(.*?)</section>',
                          text, re.S)
        assert block and words in re.sub(r"[\xa0\u202f]", " ", block.group(1)), (language, words)
    assert ("paper-box-wide" in text) == ("Share 10 points" in rules["en"])  # points: a number
    # A line to add up what was marked where the ballot has a cap: the costs, or the points.
    assert ("Costs of the proposals marked, in all" in text) == ("at most €" in rules["en"])
    assert ("Points given in all" in text) == ("Share 10 points" in rules["en"])
    for title in ("Benches by the lake", "Lights", "Mural"):
        assert title in text
    assert "Voting code" in text and "Äänestyskoodi" in text and "Röstningskod" in text


def test_the_paper_ballot_speaks_finnish_and_swedish_unless_asked(client, auth, scene):
    auth.staff("member@example.org")
    text = printed(client, scene["round"]).text
    assert re.findall(r'<section class="paper-rules" lang="(\w+)">', text) == ["fi", "sv"]
    # Amounts are written as the ballot's first language writes them, not as the page does.
    assert "2 000 €" in re.sub(r"[\xa0\u202f]", " ", text)
    english = printed(client, scene["round"], "?lang=en&show=1").text
    assert re.findall(r'<section class="paper-rules" lang="(\w+)">', english) == ["en"]
    assert "€2,000" in english


@pytest.mark.parametrize("query", ["?show=1", "?lang=de", "?lang=%3Cb%3E&show=1",
                                   "?lang=" + "x" * 5000])
def test_the_paper_ballot_asks_again_for_languages_it_cannot_read(client, auth, scene, query):
    auth.staff("member@example.org")
    page = printed(client, scene["round"], query)
    assert page.status_code == 400
    assert "Choose at least one language." in page.text
    assert re.findall(r'<section class="paper-rules" lang="(\w+)">', page.text) == ["fi", "sv"]


def test_residents_cannot_print_the_staff_paper_ballot(client, auth, app, scene):
    with app.app_context():
        factories.user("resident@example.org")
        db.session.commit()
    auth.resident("resident@example.org")
    assert printed(client, scene["round"]).status_code == 403
