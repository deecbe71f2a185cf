"""The public results pages: one reason per project in the page, the CSV and the JSON; every
publication with its own page and files; a correction saying what it left out and why; the
chart told apart without colour; the re-count instructions; a row per proposal to link to."""

import contextlib
import csv
import html as html_module
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from pb_vote.blueprints.results.presentation import exclusions, explain
from pb_vote.extensions import db
from pb_vote.models import Publication, Round, TallyRule
from pb_vote.services import accounts, counting, results
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.tally import cli as tally_cli
from pb_vote.tally.result import Reason
from tests import factories
from tests.queries import statements, touching

REASON = "The site turned out to be on state land."


def words(html: str) -> str:
    """A page's words without its tags, no-break spaces as plain spaces."""
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", html))).replace(
        "\xa0", " ")


def row_of(html: str, proposal_id) -> str:
    """The results table's row of a proposal (by its anchor)."""
    found = re.search(rf'<tr id="p{proposal_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row for proposal {proposal_id}"
    return found.group(1)


@pytest.fixture
def equal_shares(app):
    """A published Equal Shares round where the greedy fill could not afford two projects
    its supporters' shares had not bought."""
    return factories.saved(app, factories.published_round, ballots=12,
                           tally_rule=TallyRule.MES)


@dataclass
class Corrected:
    """A published round (its id) whose correction left out ``dropped``, funding
    ``selected``."""

    round_id: int
    dropped: int
    selected: list[str]


@pytest.fixture
def corrected(app):
    """A published round whose correction (publication 2) left out a funded proposal."""
    with app.app_context():
        scenario = factories.corrected_round(ballots=24, reason=REASON)
        db.session.commit()
        return Corrected(scenario.round_id, scenario.publication.excluded[0],
                         list(scenario.publication.result["selected"]))


def test_equal_shares_reasons_are_the_tallys_in_the_page_csv_and_json(app, client,
                                                                      equal_shares):
    round_id = equal_shares.round_id
    body = client.get(f"/api/v1/rounds/{round_id}/results").get_json()
    csv_rows = {row["project_id"]: row for row in csv.DictReader(io.StringIO(
        client.get(f"/api/v1/rounds/{round_id}/results.csv").text))}
    page = client.get(f"/rounds/{round_id}/results").text
    filled = [p for p in body["projects"] if p["phase"] == "greedy fill" and not p["funded"]]
    assert filled, "the scenario has no project the greedy fill left out"
    for project in body["projects"]:
        row = csv_rows[project["project_id"]]
        assert row["reason"] == project["reason"] == Reason(project["reason"]).value
        assert row["phase"] == project.get("phase", "")
        assert row["money_left_cents"] == str(project.get("money_left", ""))
        with app.test_request_context(), force_locale("en"):
            said = explain(project, "EUR")
        assert words(said) in words(row_of(page, project["project_id"]))
    for project in filled:
        shown = words(row_of(page, project["project_id"]))
        # Equal Shares did not buy it: its supporters' shares ran out; then the money left
        # (the figure the CSV and the JSON give) was too little.
        assert "supporters' shares of the budget ran out" in shown
        assert "Did not fit:" not in shown
        assert f"only €{project['money_left'] // 100:,} was left after that" in shown


def test_a_reason_of_money_can_say_the_cost_beside_the_money_left(app, client, equal_shares):
    """For "My proposals", which shows no cost beside the reason: the same words, then what
    the proposal costs."""
    body = client.get(f"/api/v1/rounds/{equal_shares.round_id}/results").get_json()
    filled = [p for p in body["projects"] if p["phase"] == "greedy fill" and not p["funded"]]
    assert filled
    for project in filled:
        with app.test_request_context(), force_locale("en"):
            plain, costed = explain(project, "EUR"), explain(project, "EUR", with_cost=True)
        assert costed.startswith(plain[:-1])
        assert costed.endswith(f"; it costs €{project['cost'] // 100:,}.")


def test_the_outcome_on_the_proposal_page_is_the_results_pages(client, equal_shares):
    body = client.get(f"/api/v1/rounds/{equal_shares.round_id}/results").get_json()
    results_page = client.get(f"/rounds/{equal_shares.round_id}/results").text
    for project in body["projects"][:3]:
        page = client.get(f"/proposals/{project['project_id']}").text
        outcome = re.search(r'<section aria-labelledby="outcome-heading".*?</section>', page,
                            re.S).group(0)
        assert (f'href="/rounds/{equal_shares.round_id}/results#p'
                f'{project["project_id"]}"') in outcome
        reason = re.findall(r"<td>(.*?)</td>", row_of(results_page, project["project_id"]))[-1]
        assert words(reason) in words(outcome)


def test_each_publication_keeps_its_page_and_files(app, client, corrected):
    round_id, dropped = corrected.round_id, corrected.dropped
    asked = client.get(f"/rounds/{round_id}/results?publication=1")
    assert asked.status_code == 302
    assert asked.headers["Location"].endswith(f"/rounds/{round_id}/results/1")
    first = client.get(f"/rounds/{round_id}/results/1").text
    assert "replaced by a correction" in first
    for name in ("results", "results.csv", "receipts", "ballots.pb"):
        assert f'href="/api/v1/rounds/{round_id}/publications/1/{name}"' in first
        assert f"/publications/2/{name}" in first  # from the history
    assert str(dropped) in client.get(
        f"/api/v1/rounds/{round_id}/publications/1/results").get_json()["selected"]
    assert "Funded" in row_of(first, dropped)
    second = client.get(f"/rounds/{round_id}/results").text
    for name in ("results", "results.csv", "receipts", "ballots.pb"):
        assert f'href="/api/v1/rounds/{round_id}/publications/2/{name}"' in second
    assert f'href="/rounds/{round_id}/results/1"' in second
    assert f'href="/rounds/{round_id}/results/2" aria-current="page"' in second
    assert client.get(f"/rounds/{round_id}/results/2").text.count(REASON) >= 2


def test_a_correction_shows_what_it_left_out_and_why(client, corrected):
    round_id, dropped = corrected.round_id, corrected.dropped
    page = client.get(f"/rounds/{round_id}/results").text
    notice = words(re.search(r'<section class="notice correction".*?</section>', page,
                             re.S).group(0))
    assert "Correction of publication 1" in notice
    assert f"Reason given by the table's coordinator: “{REASON}”" in words(
        page.replace("<q>", "“").replace("</q>", "”"))
    assert "This count leaves out 1 proposal:" in notice
    assert f'href="#p{dropped}"' in page
    row = words(row_of(page, dropped))
    assert "Not counted" in row and f"Left out of the count by correction 2: {REASON}" in row
    proposal = words(client.get(f"/proposals/{dropped}").text)
    assert f"Not funded. Left out of the count by correction 2: {REASON}" in proposal


@pytest.mark.parametrize("asked", ["0", "3", "-1", "abc", "1.5", "", " ", "١", "9" * 40,
                                   "1 OR 1=1", "%00"])
def test_a_publication_the_round_lacks_gets_a_clear_404(client, corrected, asked):
    page = client.get(f"/rounds/{corrected.round_id}/results", query_string={
        "publication": asked})
    assert page.status_code == 404
    assert "No such publication" in page.text and "See the results in force" in page.text
    assert f'href="/rounds/{corrected.round_id}/results/1"' in page.text


def test_a_numbered_page_the_round_lacks_is_a_404_in_the_readers_language(client, corrected):
    client.post("/language", data={"language": "fi", "next": "/"})
    for path in ("/results/3", "/results/0", "/results/99999999999"):
        page = client.get(f"/rounds/{corrected.round_id}{path}")
        assert page.status_code == 404 and "<h1>" in page.text
    page = client.get(f"/rounds/{corrected.round_id}/results/3")
    assert "Julkaisua ei ole" in page.text


def test_the_publications_pages_read_no_receipt_file_or_ballot(app, client, corrected):
    for path in ("/results?publication=1", "/results/1", "/results/2", "/results"):
        with statements(app) as heard:
            assert client.get(f"/rounds/{corrected.round_id}{path}").status_code in (200, 302)
        for table in ("published_receipts", "ballot_receipts", "stored_file_slices",
                      "ballots", "participations"):
            assert touching(heard, table) == [], (path, table)


def test_the_chart_tells_funded_from_not_funded_without_colour(client, corrected):
    page = client.get(f"/rounds/{corrected.round_id}/results").text
    chart = re.search(r'<svg class="bar-chart".*?</svg>', page, re.S).group(0)
    assert 'id="not-funded-stripes"' in chart
    bars = re.findall(r'<rect [^>]*class="(bar(?: funded)?)"', chart)
    labels = re.findall(r'class="bar-label">([^<]*)<', chart)
    assert len(bars) == len(labels) == 5  # the six proposals minus the one left out
    for css, label in zip(bars, labels, strict=True):
        assert (css == "bar funded") == label.startswith("\u2713 ")
    assert "bar funded" in bars and "bar" in bars
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", chart).group(1)
    assert desc.count(", not funded") == bars.count("bar") and ", funded" in desc
    caption = words(re.search(r"<figcaption>.*?</figcaption>", page, re.S).group(0))
    assert "Filled bars" not in caption
    assert "✓ and a solid bar: funded" in caption and "Striped bar: not funded" in caption


def test_days_on_the_results_page_are_written_as_in_the_language(client, corrected):
    client.post("/language", data={"language": "fi", "next": "/"})
    page = client.get(f"/rounds/{corrected.round_id}/results").text
    by_day = page.split("<caption>Uudet äänestäjät päivittäin</caption>")[1].split("</table>")[0]
    days = re.findall(r'<th scope="row">([^<]*)</th>', by_day)
    assert days and all(re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", day) for day in days)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", words(page))
    assert re.search(r"Julkaisu 2, \d{1,2}\.\d{1,2}\.\d{4} klo \d{1,2}\.\d{2}\.", words(page))


def test_the_counting_program_downloaded_from_the_page_recounts_the_ballots(app, client,
                                                                          corrected,
                                                                          tmp_path):
    page = client.get(f"/rounds/{corrected.round_id}/results").text
    commands = re.search(r"<code>(curl -o ballots.pb .*?)</code>", page, re.S).group(1)
    ballots_url, tool_url, run = re.fullmatch(
        r"curl -o ballots.pb (\S+)\ncurl -o pb-vote.pyz (\S+)\n(python3 pb-vote.pyz .*)",
        commands).groups()
    (tmp_path / "ballots.pb").write_bytes(client.get(ballots_url).data)
    tool = client.get(tool_url)
    assert tool.status_code == 200 and tool.data.startswith(b"#!/usr/bin/env python3")
    (tmp_path / "pb-vote.pyz").write_bytes(tool.data)
    counted = subprocess.run([sys.executable, *run.split()[1:], "--json"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=120, check=True)
    selected = json.loads(counted.stdout)["selected"]
    assert sorted(selected) == sorted(corrected.selected)
    assert re.search(r'<a href="/tools/pb-vote.pyz">Download pb-vote', page)


def test_the_receipt_check_does_not_say_a_changed_vote_loses_its_receipt(client, corrected):
    missing = client.post(f"/rounds/{corrected.round_id}/verify",
                          data={"receipt": "ABCD-EFGH-JKMN-PQRS"}).text
    assert "This receipt code is not in the count." in missing
    assert "changing your vote does not change the receipt code" in missing
    assert "only the receipt of your last ballot" not in missing


def test_each_left_out_proposal_is_explained_by_the_correction_that_began_it():
    first, second, third, fourth = (
        SimpleNamespace(number=n, excluded=left_out, correction_reason=reason)
        for n, left_out, reason in [(1, [], None), (2, ["5"], "A"), (3, [5, 7], "B"),
                                    (4, [7], "C")])
    history = [fourth, third, second, first]  # newest first, as the page reads them
    assert exclusions(history, 1) == {}
    assert exclusions(history, 2) == {5: second}
    assert exclusions(history, 3) == {5: second, 7: third}
    assert exclusions(history, 4) == {7: third}


def test_a_second_correction_says_since_when_a_proposal_is_left_out(app, client, corrected):
    with app.app_context():
        round_ = db.session.get(Round, corrected.round_id)
        coordinator = accounts.find_user_by_email("coordinator@example.org")
        also = next(p.id for p in round_.proposals if str(p.id) not in corrected.selected
                    and p.id != corrected.dropped)
        left_out = frozenset({corrected.dropped, also})
        count = counting.count_now(coordinator, round_, VoteKeys.from_config(app.config),
                                   excluded=left_out)
        results.publish(coordinator, round_, count.id, excluded=left_out, corrects=2,
                        correction_reason="A second site was unsuitable too.")
        db.session.commit()
    page = client.get(f"/rounds/{corrected.round_id}/results").text
    notice = words(re.search(r'<section class="notice correction".*?</section>', page,
                             re.S).group(0))
    assert "Correction of publication 2" in notice and "leaves out 2 proposals" in notice
    assert f"left out since publication 2: {REASON}" in notice
    assert f"Left out of the count by correction 2: {REASON}" in words(
        row_of(page, corrected.dropped))
    assert "Left out of the count by correction 3: A second site was unsuitable too." in words(
        row_of(page, also))


def test_the_published_file_names_the_rule_it_was_counted_with(app, client, equal_shares,
                                                                 tmp_path):
    """Counted without --rule, the .pb file's own META rule gives the published outcome
    (equal shares with its greedy fill, as pb_vote counts it)."""
    with app.app_context():
        published = db.session.execute(select(Publication)).scalar_one().result["selected"]
    pb = tmp_path / "ballots.pb"
    pb.write_bytes(client.get(f"/api/v1/rounds/{equal_shares.round_id}/ballots.pb").data)
    assert "rule;equalshares/add1-greedy" in pb.read_text()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert tally_cli.main(["tally", str(pb), "--json"]) == 0
    counted = json.loads(out.getvalue())
    assert counted["rule"] == "mes" and "META rule" in counted["rule_source"]
    assert sorted(counted["selected"]) == sorted(published)
