"""The feasibility workflow through the pages: a reviewer asks a city department, the
contact answers from the mailed one-time link (GET shows, POST answers, once; expired,
reused and tampered links say so), internal notes and cost reviews, bulk decisions from
the queue, who may do what, and internal notes never reaching anything public."""

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    Feasibility,
    FeasibilityRequest,
    MembershipRole,
    Proposal,
    ProposalStatus,
    ReviewNote,
    RoundPhase,
)
from pb_vote.services import reviews
from tests import factories
from tests.conftest import link_in

S = ProposalStatus
CONTACT = "engineer@city.example.org"
NOTE = "Internal: the parks unit doubts the site."


@pytest.fixture
def scene(app):
    """Keskusta in review: a resident's submitted proposal and a second one; a member of
    Pohjoinen (north@example.org). Returns the proposals' ids."""
    def build():
        town = factories.city()
        factories.user("north@example.org", role=MembershipRole.MEMBER, at=town.other)
        round_ = factories.round_(town.own, RoundPhase.REVIEW)
        first = factories.proposal(round_, author=town.resident, title="Benches by the lake")
        second = factories.proposal(round_, author=town.resident, title="A skate ramp")
        return {"round": round_.id, "first": first.id, "second": second.id}
    return factories.saved(app, build)


def ask(client, proposal_id: int, **fields):
    data = {"opinion-contact_name": "Eila Insinööri", "opinion-department": "Technical",
            "opinion-contact_email": CONTACT, "opinion-question": "Is the shore firm?",
            "opinion-language": "fi", **fields}
    return client.post(f"/manage/proposals/{proposal_id}/review/opinion", data=data)


def answer_link(mailbox) -> str:
    mail = [m for m in mailbox if m.to == CONTACT][-1]
    return link_in(mail.body)


ANSWER = {"feasibility": "with_changes", "estimated_cost": "6 500,50",
          "answer": "A concrete base is needed."}


def test_a_member_asks_and_the_department_answers_once(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    asked = ask(client, scene["first"])
    assert asked.status_code == 303
    link = answer_link(mailbox)
    assert link.startswith("/opinions/")
    auth.sign_out()
    # Opening the link (a mail scanner, a preview) shows the form and uses nothing.
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert "Benches by the lake" in page.text and "Is the shore firm?" in page.text
        assert 'name="feasibility"' in page.text
    answered = client.post(link, data=ANSWER)
    assert answered.status_code == 303
    shown = client.get(link)
    assert "This question is answered" in shown.text and "A concrete base" in shown.text
    # Used once: a second answer is refused in words, and the first stands.
    again = client.post(link, data={**ANSWER, "feasibility": "feasible"})
    assert again.status_code == 409
    assert "already been answered" in again.text
    with app.app_context():
        opinion = db.session.execute(select(FeasibilityRequest)).scalar_one()
        assert opinion.feasibility is Feasibility.WITH_CHANGES
        assert opinion.estimated_cost_cents == 650_050
    # The member who asked is told, and sees the answer on the proposal's page.
    told = [m for m in mailbox if m.to == "member@example.org"]
    assert told and "A concrete base is needed." in told[-1].body
    auth.staff("member@example.org")
    page = client.get(f"/manage/proposals/{scene['first']}").text
    assert "Feasible with changes" in page and "€6,500.50" in page
    assert "Opinion asked of a department" in page and "Department&#39;s opinion" in page


def test_the_mail_and_the_page_speak_the_chosen_language(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    ask(client, scene["first"], **{"opinion-language": "sv"})
    mail = [m for m in mailbox if m.to == CONTACT][-1]
    assert "Hej" in mail.body
    auth.sign_out()
    page = client.get(answer_link(mailbox), headers={"Accept-Language": "sv"})
    assert 'lang="sv"' in page.text and "Kan det genomföras?" in page.text


def test_an_expired_link_says_so(app, client, auth, scene, mailbox, frozen_clock):
    auth.staff("member@example.org")
    ask(client, scene["first"])
    link = answer_link(mailbox)
    auth.sign_out()
    frozen_clock.advance(days=31)
    for answer in (client.get(link), client.post(link, data=ANSWER)):
        assert answer.status_code == 410
        assert "This link has expired" in answer.text


@pytest.mark.parametrize("mangle", [lambda t: t[:-2], lambda t: t + "x",
                                    lambda t: "A" * len(t), lambda t: "x" * 300])
def test_a_tampered_link_says_so(app, client, auth, scene, mailbox, mangle):
    auth.staff("member@example.org")
    ask(client, scene["first"])
    token = answer_link(mailbox).removeprefix("/opinions/")
    auth.sign_out()
    for answer in (client.get(f"/opinions/{mangle(token)}"),
                   client.post(f"/opinions/{mangle(token)}", data=ANSWER)):
        assert answer.status_code == 404
        assert "This link is not valid" in answer.text
    with app.app_context():
        assert db.session.execute(select(FeasibilityRequest)).scalar_one().answered_at is None


def test_a_wrong_answer_is_explained_and_kept(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    ask(client, scene["first"])
    link = answer_link(mailbox)
    auth.sign_out()
    page = client.post(link, data={"estimated_cost": "lots", "answer": "Maybe later."})
    assert page.status_code == 400
    assert "Choose whether it can be done." in page.text
    assert "Write an amount in euros" in page.text
    assert 'value="lots"' in page.text and "Maybe later." in page.text
    assert client.get(link).status_code == 200  # still unanswered


def test_asking_needs_a_contact(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    page = ask(client, scene["first"], **{"opinion-contact_email": "not an address",
                                          "opinion-contact_name": ""})
    assert page.status_code == 400
    assert "Give the contact's name." in page.text
    assert "Enter an email address like name@example.fi." in page.text
    assert not [m for m in mailbox if "opinions" in m.body]


@pytest.mark.parametrize("path, data", [
    ("review/opinion", {"opinion-contact_name": "E", "opinion-department": "T",
                        "opinion-contact_email": CONTACT, "opinion-language": "fi"}),
    ("review/note", {"note-body": NOTE}),
    ("review/cost", {"cost-reviewed_cost": "100", "cost-seen": "submitted"}),
])
def test_only_the_tables_staff_review(app, client, auth, scene, path, data):
    address = f"/manage/proposals/{scene['first']}/{path}"
    assert client.post(address, data=data).status_code == 302  # to sign in
    auth.staff("north@example.org")
    assert client.post(address, data=data).status_code == 403
    assert client.get(f"/manage/proposals/{scene['first']}").status_code == 403
    auth.sign_out()
    auth.resident("resident@example.org")
    assert client.post(address, data=data).status_code == 403
    assert client.post(f"/manage/proposals/999999/{path}", data=data).status_code == 404
    auth.sign_out()
    with app.app_context():
        assert db.session.execute(select(ReviewNote)).first() is None
        assert db.session.execute(select(FeasibilityRequest)).first() is None
    auth.staff("admin@example.org")  # a city admin may
    assert client.post(address, data=data).status_code == 303


def test_bulk_is_refused_to_other_tables_and_residents(app, client, auth, scene):
    address = f"/manage/rounds/{scene['round']}/proposals/bulk"
    data = {"proposal": [scene["first"]], "action": "reject", "reason": "No."}
    auth.staff("north@example.org")
    assert client.post(address, data=data).status_code == 403
    auth.sign_out()
    auth.resident("resident@example.org")
    assert client.post(address, data=data).status_code == 403
    with app.app_context():
        assert db.session.get(Proposal, scene["first"]).status is S.SUBMITTED


def test_a_note_and_a_cost_review_show_on_the_page_and_in_the_history(app, client, auth,
                                                                       scene):
    auth.staff("coordinator@example.org")
    base = f"/manage/proposals/{scene['first']}"
    assert client.post(f"{base}/review/note", data={"note-body": NOTE}).status_code == 303
    assert client.post(f"{base}/review/cost", data={
        "cost-reviewed_cost": "4 200", "cost-note": "From the department.",
        "cost-seen": "submitted"}).status_code == 303
    page = client.get(base).text
    assert NOTE in page and "Cost reviewed" in page and "Reviewed cost €4,200" in page
    # The accept form now shows the reviewed cost a reviewer wrote.
    assert re.search(r'name="accept-reviewed_cost"[^>]*value="4200"', page)
    empty = client.post(f"{base}/review/note", data={"note-body": "  "})
    assert empty.status_code == 400 and "Write the note." in empty.text


def test_bulk_accepts_the_reviewed_and_lists_the_others(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    client.post(f"/manage/proposals/{scene['second']}/review/cost",
                data={"cost-reviewed_cost": "3000", "cost-seen": "submitted"})
    queue = client.get(f"/manage/rounds/{scene['round']}/proposals").text
    assert f'name="proposal" value="{scene["first"]}"' in queue
    done = client.post(f"/manage/rounds/{scene['round']}/proposals/bulk", data={
        "proposal": [scene["first"], scene["second"]], "action": "accept",
        "reason": "Agreed at the meeting of 3 March.",
        f"seen-{scene['first']}": "submitted", f"seen-{scene['second']}": "submitted"},
        follow_redirects=True)
    assert "1 proposal done." in done.text
    assert (f"#{scene['first']} Benches by the lake was not done: It has no reviewed cost "
            "yet") in done.text
    with app.app_context():
        assert db.session.get(Proposal, scene["first"]).status is S.SUBMITTED
        second = db.session.get(Proposal, scene["second"])
        assert second.status is S.ACCEPTED and second.reviewed_cost_cents == 300_000
    assert [m for m in mailbox if m.to == "resident@example.org"]


def test_a_bulk_form_without_a_choice_or_reason_keeps_what_was_ticked(app, client, auth,
                                                                      scene):
    auth.staff("member@example.org")
    page = client.post(f"/manage/rounds/{scene['round']}/proposals/bulk",
                       data={"proposal": [scene["first"]], "action": "reject"})
    assert page.status_code == 400 and "Write the reason." in page.text
    assert re.search(rf'value="{scene["first"]}"[^>]*checked', page.text)
    none = client.post(f"/manage/rounds/{scene['round']}/proposals/bulk",
                       data={"action": "reject", "reason": "No."})
    assert none.status_code == 400 and "Tick at least one proposal." in none.text


def test_bulk_refuses_a_proposal_of_another_round(app, client, auth, scene):
    def build():
        other_round = factories.round_(
            db.session.get(Proposal, scene["first"]).round.table, RoundPhase.REVIEW,
            title="Another")
        return factories.proposal(other_round, title="Elsewhere").id
    elsewhere = factories.saved(app, build)
    auth.staff("member@example.org")
    answer = client.post(f"/manage/rounds/{scene['round']}/proposals/bulk", data={
        "proposal": [elsewhere], "action": "reject", "reason": "No."})
    assert answer.status_code == 404


def _published_with_notes(app):
    def build():
        scenario = factories.published_round(ballots=10)
        member = factories.user("reviewer@example.org", role=MembershipRole.MEMBER,
                                at=scenario.table)
        for proposal in scenario.proposals:
            reviews.add_note(member, proposal, f"{NOTE} #{proposal.id}")
            now = clock.utcnow()
            db.session.add(FeasibilityRequest(
                proposal=proposal, requested_by=member, contact_name="Secret Contact",
                department="Technical", contact_email="secret-contact@city.example.org",
                question="Secret question?", language="fi", token_hash=f"{proposal.id:064d}",
                requested_at=now, expires_at=now + timedelta(days=1), answered_at=now,
                feasibility=Feasibility.NOT_FEASIBLE, answer="Secret department answer."))
        return scenario
    return factories.saved(app, build)


SECRETS = ("Internal: the parks unit", "Secret Contact", "secret-contact@",
           "Secret question", "Secret department answer")


def test_internal_notes_and_opinions_never_reach_anything_public(app, client, auth):
    scenario = _published_with_notes(app)
    round_id = scenario.round_id
    public = [f"/rounds/{round_id}", f"/rounds/{round_id}/results",
              f"/api/v1/rounds/{round_id}", f"/api/v1/rounds/{round_id}/proposals",
              f"/api/v1/rounds/{round_id}/results", f"/api/v1/rounds/{round_id}/results.csv",
              f"/api/v1/rounds/{round_id}/ballots.pb",
              *[f"/proposals/{pid}" for pid in scenario.proposal_ids]]
    for as_whom in (None, "resident@example.org"):
        if as_whom:
            auth.resident(as_whom)
        for path in public:
            answer = client.get(path, follow_redirects=True)
            assert answer.status_code == 200, path
            body = answer.get_data(as_text=True)
            for secret in SECRETS:
                assert secret not in body, (path, secret)
    auth.sign_out()
    # The staff's own export of the history has them (it is staff-only: see the reports'
    # permission tests), and so has the proposal's page.
    auth.staff("reviewer@example.org")
    rows = list(csv.reader(io.StringIO(client.get(
        f"/manage/rounds/{round_id}/proposals.csv").get_data(as_text=True).lstrip("\ufeff")),
        delimiter=";"))
    said = [row[8:] for row in rows[1:]]
    assert ["Internal note", "Reviewer", "table member",
            f"{NOTE} #{scenario.proposal_ids[0]}"] in said
    page = client.get(f"/manage/proposals/{scenario.proposal_ids[0]}").text
    assert NOTE in page and "Secret department answer." in page


def test_the_staff_csv_names_the_department_that_answered(app, client, auth, scene,
                                                          mailbox):
    auth.staff("member@example.org")
    ask(client, scene["first"])
    link = answer_link(mailbox)
    auth.sign_out()
    client.post(link, data=ANSWER)
    auth.staff("member@example.org")
    rows = list(csv.reader(io.StringIO(client.get(
        f"/manage/rounds/{scene['round']}/proposals.csv").get_data(as_text=True)
        .lstrip("\ufeff")), delimiter=";"))
    said = {row[8]: row[9:] for row in rows[1:]}
    assert said["Opinion asked of a department"] == [
        "Member", "table member",
        f"Asked Eila Insinööri, Technical ({CONTACT}). Is the shore firm?"]
    assert said["Department's opinion"] == [
        "Eila Insinööri, Technical", "city department",
        "Feasible with changes. Estimated cost €6,500.50. A concrete base is needed."]


def test_a_link_to_a_proposal_hidden_since_shows_nothing_of_it(app, client, auth, scene,
                                                             mailbox):
    auth.staff("member@example.org")
    ask(client, scene["first"])
    link = answer_link(mailbox)
    client.post(f"/manage/proposals/{scene['first']}/hide",
                data={"hide-reason": "Abusive.", "hide-confirm": "y", "hide-seen": "submitted"})
    auth.sign_out()
    for answer in (client.get(link), client.post(link, data=ANSWER)):
        assert answer.status_code == 410
        assert "no longer under review" in answer.text
        assert "Benches by the lake" not in answer.text


def test_the_author_never_sees_the_notes_nor_the_opinions(app, client, auth, scene,
                                                          mailbox):
    auth.staff("member@example.org")
    base = f"/manage/proposals/{scene['first']}"
    client.post(f"{base}/review/note", data={"note-body": NOTE})
    client.post(f"{base}/review/cost", data={"cost-reviewed_cost": "100",
                                             "cost-note": "Secret cost source.",
                                             "cost-seen": "submitted"})
    ask(client, scene["first"], **{"opinion-question": "Secret question?"})
    client.post(f"/manage/rounds/{scene['round']}/proposals/bulk", data={
        "proposal": [scene["first"]], "action": "reject", "reason": "Outside the area."})
    auth.sign_out()
    to_author = [m.body for m in mailbox if m.to == "resident@example.org"]
    assert to_author and "Outside the area." in to_author[-1]
    auth.resident("resident@example.org")
    pages = [client.get(path).text for path in (
        "/my/proposals", f"/proposals/{scene['first']}", f"/rounds/{scene['round']}",
        f"/api/v1/rounds/{scene['round']}/proposals")]
    for said in [*pages, *to_author]:
        for secret in (NOTE, "Secret cost source.", "Secret question?", CONTACT):
            assert secret not in said


def test_the_audit_trail_words_the_review_steps(app, client, auth, scene, mailbox):
    auth.staff("member@example.org")
    ask(client, scene["first"])
    client.post(f"/manage/proposals/{scene['first']}/review/note", data={"note-body": NOTE})
    link = answer_link(mailbox)
    auth.sign_out()
    client.post(link, data=ANSWER)
    auth.staff("admin@example.org")
    page = client.get("/admin/audit").text
    for words in ("Asked a department for an opinion on a proposal",
                  "A department gave its opinion on a proposal",
                  "Wrote an internal note on a proposal", "City department (one-time link)",
                  "Contact: Eila Insinööri, Technical", f"Internal note: {NOTE}",
                  "Estimated cost: €6,500.50"):
        assert words in page, words
