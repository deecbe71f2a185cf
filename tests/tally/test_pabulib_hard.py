"""Pabulib files the reader used to refuse: decimal amounts and a project named twice in a vote.

The shared files are in ``hard/`` of the shared Pabulib folder; pabutools reads each file itself
here (its own parser is the oracle for what the file means), and every rule must select what
pabutools selects.
"""

from __future__ import annotations

import json
from fractions import Fraction
from functools import cache

import pytest
from pabutools.election import Cost_Sat
from pabutools.election import parse_pabulib as pabutools_parse
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)
from pabutools.tiebreaking import lexico_tie_breaking

from pb_vote.tally import tally
from pb_vote.tally.cli import main
from pb_vote.tally.model import format_amount
from pb_vote.tally.pabulib import (
    format_pabulib,
    parse_pabulib,
    parse_pabulib_with_warnings,
    read_pabulib_with_warnings,
)
from tests.tally.conftest import shared_election, shared_path

GROCHOW = "hard/Poland_Warszawa_2019_Grochow_Centrum.pb"
SRODMIESCIE = "hard/Poland_Warszawa_2026_Srodmiescie_Poludniowe.pb"

DECIMALS = """META
key;value
budget;1000.5
vote_type;approval
PROJECTS
project_id;cost
a;400.25
b;600,2
c;300.0
VOTES
voter_id;vote
1;a,b
2;b,c
3;a,a,c
"""


def points_file(vote_type: str) -> str:
    """A small points (or ordinal) file whose voter 2 names project a twice, on line 12."""
    points = "" if vote_type == "ordinal" else ";points"
    return (f"META\nkey;value\nbudget;10\nvote_type;{vote_type}\nPROJECTS\nproject_id;cost\n"
            f"a;5\nb;5\nVOTES\nvoter_id;vote{points}\n"
            + ("1;a,b\n2;a,b,a\n" if vote_type == "ordinal" else "1;a,b;1,2\n2;a,b,a;1,2,3\n"))


def test_decimal_amounts_are_scaled_exactly_to_whole_units():
    election = parse_pabulib(DECIMALS)
    assert election.unit_scale == 100  # 400.25 needs two decimals; 300.0 and 1000.5 fewer
    assert election.budget == 100050
    assert [p.cost for p in election.projects] == [40025, 60020, 30000]
    assert [election.amount_text(p.cost) for p in election.projects] == ["400.25", "600.2", "300"]


def test_whole_amounts_written_with_decimals_keep_the_unit():
    election = parse_pabulib(DECIMALS.replace("1000.5", "1000.00").replace("400.25", "400")
                             .replace("600,2", "600.0"))
    assert election.unit_scale == 1
    assert election.budget == 1000


def test_decimal_amounts_round_trip_through_the_writer_and_pabutools_reads_them_alike():
    election = parse_pabulib(DECIMALS)
    written = format_pabulib(election)
    assert "budget;1000.5\n" in written and "a;400.25\n" in written
    again = parse_pabulib(written)
    assert again == election and again.unit_scale == election.unit_scale


@pytest.mark.parametrize(
    ("value", "scale", "text"),
    [(37663474, 100, "376634.74"), (5, 100, "0.05"), (-5, 10, "-0.5"), (12, 1, "12"),
     (1, 3, "1/3"), (300000, 100, "3000")],
)
def test_amounts_print_exactly(value, scale, text):
    assert format_amount(value, scale) == text


def test_a_project_named_twice_in_an_approval_vote_counts_once_with_a_warning():
    election, warnings = parse_pabulib_with_warnings(DECIMALS)
    assert election.ballots[2].projects == ("a", "c")
    assert [str(w) for w in warnings] == [
        "VOTES, line 14: the vote names project 'a' more than once: counted once"]
    assert (warnings[0].section, warnings[0].line) == ("votes", 14)


@pytest.mark.parametrize(
    ("vote_type", "projects", "points", "how"),
    [
        ("scoring", ("a", "b"), (3, 2), "the later points stand"),
        ("cumulative", ("a", "b"), (3, 2), "the later points stand"),  # as pabutools 1.2.3
        ("ordinal", ("a", "b"), None, "kept at its first place"),
    ],
)
def test_a_project_named_twice_in_a_points_or_ordinal_vote(vote_type, projects, points, how):
    election, warnings = parse_pabulib_with_warnings(points_file(vote_type))
    assert election.ballots[1].projects == projects
    assert election.ballots[1].points == points
    assert [str(w) for w in warnings] == [
        f"VOTES, line 12: the vote names project 'a' more than once: {how}"]


def test_the_cli_prints_amounts_in_the_files_units_and_warnings_to_stderr(tmp_path, capsys):
    path = tmp_path / "decimals.pb"
    path.write_text(DECIMALS, encoding="utf-8")
    assert main(["tally", str(path), "--rule", "greedy"]) == 0
    out, err = capsys.readouterr()
    assert "Budget:     1000.5\n" in out
    assert "700.25 spent, 300.25 left" in out  # ties: cheaper first, c and a fit, b not
    assert "400.25" in out and "600.2" in out
    assert err == ("pb-vote: warning: VOTES, line 14: the vote names project 'a' more than "
                   "once: counted once\n")
    assert main(["tally", str(path), "--rule", "greedy", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["budget"], data["total_cost"], data["money_left"]) == ("1000.5", "700.25",
                                                                         "300.25")
    assert data["unit_scale"] == 100
    assert {p["project_id"]: p["cost"] for p in data["projects"]} == {
        "a": "400.25", "b": "600.2", "c": "300"}


def test_the_shared_hard_files_are_read():
    grochow, warnings = read_pabulib_with_warnings(shared_path(GROCHOW))
    assert grochow.unit_scale == 100 and grochow.amount_text(grochow.budget) == "376634.74"
    assert warnings == []
    srodmiescie, warnings = read_pabulib_with_warnings(shared_path(SRODMIESCIE))
    assert [str(w) for w in warnings] == [
        "VOTES, line 656: the vote names project '174' more than once: counted once (the "
        "file's votes column gives '174' 39, the votes as read give it 38)"]
    for election in (grochow, srodmiescie):
        assert len(election.projects) == int(election.meta["num_projects"])
        assert len(election.ballots) == int(election.meta["num_votes"])


@cache
def pabutools_outcome(name: str, rule: str) -> tuple[str, ...]:
    """What pabutools selects, reading the file with its own parser (lexicographic ties)."""
    instance, profile = pabutools_parse(str(shared_path(name)))
    greedy = {"sat_class": Cost_Sat, "tie_breaking": lexico_tie_breaking}
    if rule == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, **greedy)
    else:
        mes = {**greedy, "voter_budget_increment": 1}
        outcome = completion_by_rule_combination(
            instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
            [mes, greedy])
    return tuple(p.name for p in outcome)


@pytest.mark.parametrize("name", [GROCHOW, SRODMIESCIE])
@pytest.mark.parametrize("rule", ["greedy", "mes"])
def test_the_hard_files_select_what_pabutools_selects(name, rule):
    ours = tally(shared_election(name), rule, tie_break="lexico")
    assert ours.selected == pabutools_outcome(name, rule)


def test_the_add_one_completion_steps_by_one_currency_unit_not_one_cent():
    election = shared_election(GROCHOW)
    result = tally(election, "mes", tie_break="lexico")
    assert result.voter_budget is not None
    start = Fraction(election.budget, len(election.ballots))
    # the voter budget moved from budget / voters by whole złoty, counted in grosze (1/100)
    assert (result.voter_budget - start) % 100 == 0
