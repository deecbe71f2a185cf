"""Tally, preview, publish, correct, export and verify the results of a round."""

import contextlib
import csv
import io
import json
import re

import pytest
from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    BallotKind,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Publication,
    Round,
    RoundPhase,
    TallyRule,
)
from pb_vote.services import codes, voting
from pb_vote.tally import parse_pabulib as our_parse
from pb_vote.tally import tally as our_tally
from pb_vote.tally.cli import main as pb_vote_cli
from tests import factories, pages

POINTS = {"ballot_kind": BallotKind.POINTS, "approval_min": None, "approval_max": None,
          "points_total": 10, "points_max_per_proposal": 6}


def scenario(app, build=factories.closed_round, **options) -> factories.Scenario:
    """A round of Keskusta (400 eligible residents) with the factories' six proposals and
    24 residents' ballots unless ``options`` say otherwise, closed unless ``build`` is
    another scenario factory."""
    return factories.saved(app, lambda: build(factories.city(eligible_residents=400).own,
                                              **{"ballots": 24, **options}))


@pytest.fixture
def closed(app):
    return scenario(app)


@pytest.fixture
def published(app):
    return scenario(app, factories.published_round)


def publish(client, auth, round_id):
    auth.staff("coordinator@example.org")
    return pages.count_and_publish(client, round_id)


@pytest.mark.parametrize("who", [None, "resident", "member"])
def test_the_preview_is_hidden_from_everyone_but_the_coordinator(client, auth, closed, who):
    if who == "member":
        auth.staff("member@example.org")
    elif who == "resident":
        auth.resident("author@example.org")
    response = client.get(f"/manage/rounds/{closed.round_id}/results")
    assert response.status_code == (302 if who is None else 403)
    assert client.get(f"/rounds/{closed.round_id}/results").status_code == 404
    for path in ("results", "ballots.pb", "results.csv", "receipts"):
        assert client.get(f"/api/v1/rounds/{closed.round_id}/{path}").status_code == 404


def test_coordinator_previews_every_reason_and_the_other_rule(client, auth, closed):
    auth.staff("coordinator@example.org")
    before = client.get(f"/manage/rounds/{closed.round_id}/results")
    assert "Count the ballots" in before.text and "Funded" not in before.text
    page = pages.ask_for_count(client, closed.round_id)
    assert page.status_code == 200
    assert "only the coordinator sees this" in page.text
    assert page.text.count("Funded") >= 2 and "Did not fit" in page.text
    assert "Method of Equal Shares" in page.text and "Voters with at least one funded" in (
        page.text)


def test_publishing_freezes_a_numbered_publication_and_audits_it(app, client, auth, closed):
    response = publish(client, auth, closed.round_id)
    assert response.status_code == 303
    with app.app_context():
        round_ = db.session.get(Round, closed.round_id)
        assert round_.phase is RoundPhase.PUBLISHED
        publication = db.session.execute(select(Publication)).scalar_one()
        assert publication.number == 1 and publication.ballot_count == 24
        assert publication.result["selected"]
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "results.published")
        ).scalar_one()
        assert event.actor_role == "coordinator"
        with pytest.raises(Exception, match="immutable"):
            db.session.execute(
                Publication.__table__.update().values(rule="mes")
            )
        db.session.rollback()
    again = client.post(f"/manage/rounds/{closed.round_id}/results",
                        data={"action": "publish", "publish-confirm": "y"})
    assert again.status_code == 400 and "already published" in again.text


def test_the_results_page_explains_everything(client, published):
    page = client.get(f"/rounds/{published.round_id}/results").text
    assert "<svg" in page and "<title" in page and "<desc" in page
    assert "Did not fit: only" in page and " left." in page
    assert "lower cost first, then more supporters" in page
    assert "Method of Equal Shares" in page
    assert re.search(r"Online, signed in</th>\s*<td>24</td>", page)
    assert "That is 6% of the 400 residents" in page  # 24 ballots of 400 eligible residents
    assert "Who initiated the funded projects" in page
    assert "python3 pb-vote.pyz tally ballots.pb --rule greedy" in page


def test_json_and_csv_agree_with_the_publication(client, published):
    body = client.get(f"/api/v1/rounds/{published.round_id}/results").get_json()
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/api/v1/rounds/{published.round_id}/results.csv").text)))
    funded_csv = {row["project_id"] for row in rows if row["funded"] == "1"}
    assert funded_csv == set(body["selected"])
    assert body["total_cost"] == sum(int(r["cost_cents"]) for r in rows if r["funded"] == "1")
    assert body["publication"] == 1 and body["rule"] == "greedy"
    page = client.get(f"/rounds/{published.round_id}/results").text
    for project in body["projects"]:
        assert project["title"] in page


@pytest.mark.parametrize("rule", [TallyRule.GREEDY, TallyRule.MES])
def test_pabutools_reading_the_published_ballots_gets_the_published_winners(app, client,
                                                                           tmp_path, rule):
    round_id = scenario(app, factories.published_round, ballots=30, tally_rule=rule).round_id
    published = client.get(f"/api/v1/rounds/{round_id}/results").get_json()
    download = client.get(f"/api/v1/rounds/{round_id}/ballots.pb")
    assert download.status_code == 200
    path = tmp_path / "ballots.pb"
    path.write_text(download.text, encoding="utf-8")

    instance, profile = parse_pabulib(str(path))
    if rule is TallyRule.GREEDY:
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    else:
        outcome = completion_by_rule_combination(
            instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}],
        )
    # pabutools breaks ties by name, as our lexico tie-break does.
    ours = our_tally(our_parse(download.text), published["rule"], tie_break="lexico")
    assert {p.name for p in outcome} == set(ours.selected)

    # Re-counting the file with pb-vote and the round's tie-break gives the published outcome.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert pb_vote_cli(["tally", str(path), "--rule", published["rule"], "--json"]) == 0
    assert json.loads(printed.getvalue())["selected"] == published["selected"]


def test_the_published_ballots_are_anonymized(client, published):
    text = client.get(f"/api/v1/rounds/{published.round_id}/ballots.pb").text
    election = our_parse(text)
    assert len(election.ballots) == 24
    voter_ids = [ballot.voter_id for ballot in election.ballots]
    assert len(set(voter_ids)) == 24 and not set(voter_ids) & {str(n) for n in range(1, 100)}
    assert "voter0@example.org" not in text
    projects_section = text.split("PROJECTS\n")[1].split("VOTES")[0].splitlines()[1:]
    selected = {line.split(";")[0] for line in projects_section if line.endswith(";1")}
    published = client.get(f"/api/v1/rounds/{published.round_id}/results").get_json()
    assert selected == set(published["selected"])


def test_small_rounds_withhold_their_ballots(app, client):
    round_id = scenario(app, factories.published_round, ballots=4).round_id
    response = client.get(f"/api/v1/rounds/{round_id}/ballots.pb")
    assert response.status_code == 403 and "withheld" in response.get_json()["error"]["message"]
    assert "are withheld" in client.get(f"/rounds/{round_id}/results").text


def test_receipts_prove_inclusion(client, published):
    hashes = client.get(f"/api/v1/rounds/{published.round_id}/receipts").get_json()["receipts"]
    assert len(hashes) == 24
    assert sorted(hashes) == sorted(codes.code_hash(code) for code in published.receipts)
    counted = client.post(f"/rounds/{published.round_id}/verify",
                          data={"receipt": published.receipts[0].lower()})
    assert "Your ballot is in the count." in counted.text
    missing = client.post(f"/rounds/{published.round_id}/verify",
                          data={"receipt": "ABCD-EFGH-JKMN-PQRS"})
    assert "not in the count" in missing.text
    wrong = client.post(f"/rounds/{published.round_id}/verify", data={"receipt": "12345"})
    assert wrong.status_code == 400 and "16 letters and numbers" in wrong.text


def test_a_correction_is_a_new_publication_with_its_reason(app, client, auth, published):
    auth.staff("coordinator@example.org")
    first = client.get(f"/api/v1/rounds/{published.round_id}/results").get_json()
    dropped = int(first["selected"][0])
    no_reason = pages.count_and_publish(client, published.round_id, [dropped], reason="")
    assert no_reason.status_code == 400 and "Write the reason" in no_reason.text
    recounted = client.get(f"/manage/rounds/{published.round_id}/results").text
    assert "This count leaves out:" in recounted
    pages.count_and_publish(client, published.round_id, [dropped],
                            reason="The city found the site unsuitable.")
    second = client.get(f"/api/v1/rounds/{published.round_id}/results").get_json()
    assert second["publication"] == 2 and str(dropped) not in second["selected"]
    assert second["correction_reason"] == "The city found the site unsuitable."
    page = client.get(f"/rounds/{published.round_id}/results").text
    assert "Publication history" in page and "The city found the site unsuitable." in page
    old = client.get(f"/rounds/{published.round_id}/results/1").text
    assert "replaced by a correction" in old
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Publication)).scalar() == 2


@pytest.mark.parametrize("problem", ["not_closed", "no_ballots", "no_proposals"])
def test_publishing_refusals_change_nothing(app, client, auth, problem):
    with app.app_context():
        phase = RoundPhase.VOTING if problem == "not_closed" else RoundPhase.CLOSED
        round_ = factories.round_(factories.city().own, phase)
        if problem != "no_proposals":
            factories.proposal(round_, status=ProposalStatus.ACCEPTED)
        db.session.commit()
        round_id = round_.id
    response = publish(client, auth, round_id)
    # Refused when asked for (not closed), or the count fails and its page says why.
    assert response.status_code == (400 if problem == "not_closed" else 200)
    assert "Publish the results" not in response.text
    expected = {"not_closed": "only after voting has closed",
                "no_ballots": "no ballots were cast",
                "no_proposals": "no proposal was on the ballot"}[problem]
    assert expected in response.text
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Publication)).scalar() == 0
        assert db.session.get(Round, round_id).phase is phase


def test_authors_and_voters_who_asked_are_told(app, client, auth, mailbox):
    round_id = scenario(app, ballots=12, notify=1).round_id
    publish(client, auth, round_id)  # the page, which sends the mail
    recipients = {mail.to for mail in mailbox if "Results of" in mail.subject}
    assert recipients == {"author@example.org", "voter0@example.org"}


def test_points_rounds_publish_with_scores(app, client):
    round_id = scenario(app, factories.published_round, ballots=12, **POINTS).round_id
    text = client.get(f"/api/v1/rounds/{round_id}/ballots.pb").text
    assert "vote_type;cumulative" in text and "score" in text
    assert our_parse(text).ballots[0].points is not None


def test_the_table_page_archives_published_rounds(client, published):
    page = client.get("/tables/keskusta").text
    assert f"/rounds/{published.round_id}/results" in page


def test_amounts_with_cents_are_counted_and_published_in_cents(app, client):
    costs = (3_000_050, *factories.BALLOT_COSTS[1:])
    round_id = scenario(app, factories.published_round, ballots=12, costs=costs).round_id
    with app.app_context():
        from pb_vote.services.results import money_unit

        round_ = db.session.get(Round, round_id)
        assert money_unit(round_, {p.id: p for p in round_.proposals}) == 1
    text = client.get(f"/api/v1/rounds/{round_id}/results.csv").text
    assert "3000050" in text
    pb = client.get(f"/api/v1/rounds/{round_id}/ballots.pb").text
    assert "budget;10000000" in pb and "in cents" in pb


def test_whole_euro_rounds_are_published_in_euros(client, published):
    pb = client.get(f"/api/v1/rounds/{published.round_id}/ballots.pb").text
    assert "budget;100000" in pb and "in whole euros" in pb
    body = client.get(f"/api/v1/rounds/{published.round_id}/results").get_json()
    assert body["budget"] == 10_000_000  # the API speaks cents whatever the file's unit


@pytest.mark.parametrize("change", ["reviewed_cost_cents = 123", "status = 'rejected', "
                                    "rejection_reason = 'late'"])
def test_the_database_refuses_to_change_the_ballot_after_voting_opened(app, closed, change):
    from sqlalchemy import text as sql
    from sqlalchemy.exc import DatabaseError

    with app.app_context():
        with pytest.raises(DatabaseError, match="ballot is fixed"):
            db.session.execute(sql(f"UPDATE proposals SET {change} WHERE id = :id"),
                               {"id": closed.proposal_ids[0]})
        db.session.rollback()


def test_the_database_refuses_to_add_to_or_take_from_the_ballot_after_voting_opened(
        app, closed):
    from sqlalchemy import text as sql
    from sqlalchemy.exc import DatabaseError

    with app.app_context():
        round_ = db.session.get(Round, closed.round_id)
        with pytest.raises(DatabaseError, match="ballot is fixed"):
            db.session.add(Proposal(round=round_, origin=ProposalOrigin.CITY,
                                    title="Late idea", estimated_cost_cents=100,
                                    reviewed_cost_cents=100, status=ProposalStatus.ACCEPTED))
            db.session.flush()
        db.session.rollback()
        round_ = db.session.get(Round, closed.round_id)
        with pytest.raises(DatabaseError, match="ballot is fixed"):
            db.session.execute(sql("DELETE FROM proposals WHERE id = :id"),
                               {"id": closed.proposal_ids[0]})
        db.session.rollback()
        # what is not on the ballot may still come and go (a late submission, say)
        late = factories.proposal(round_, title="Late idea")
        db.session.delete(late)
        db.session.commit()
        assert len(voting.ballot_proposals(round_)) == len(closed.proposal_ids)

