"""Amounts people read are in currency units, never in the scaled units a decimal file is
counted in (``Election.unit_scale``): the result's dict, the CLI's JSON and its table."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from fractions import Fraction

import pytest

from pb_vote.tally import tally
from pb_vote.tally.cli import main
from pb_vote.tally.pabulib import parse_pabulib
from pb_vote.tally.result import Phase, ProjectResult, Reason
from tests.tally.conftest import shared_election, shared_path

GROCHOW = "hard/Poland_Warszawa_2019_Grochow_Centrum.pb"

# Counted in grosze (unit_scale 100). Voter 1 alone wants c (0.75); all three want a and b.
# mes-cardinality, one unit of utility per approval, each voter starts with 10.5 / 3 = 3.5:
# c costs 0.75 for one supporter (rho 0.75), a 3.3 for three (rho 1.1): c, then a. Voter 1
# keeps 3.5 - 0.75 - 1.1 = 1.65, voters 2 and 3 keep 2.4 each: 6.45 together, short of b's 7.2.
# b does not fit the 6.45 left either, so add-one stops at once (pabutools: exhaustive).
CARDINAL = """META
key;value
budget;10.5
vote_type;approval
PROJECTS
project_id;cost
a;3.3
b;7.2
c;0.75
VOTES
voter_id;vote
1;a,b,c
2;a,b
3;a,b
"""


def test_a_project_result_shows_amounts_in_currency_units():
    project = ProjectResult("a", 40025, 3, 3, Reason.FUNDED, Phase.MES, 1, money_left=100050,
                            rho=Fraction(110), effective_votes=Fraction(3),
                            supporters_money=Fraction(1, 3))
    assert project.as_dict(100, rho_is_money=True) == {
        "project_id": "a", "cost": "400.25", "support": 3, "supporters": 3, "reason": "funded",
        "funded": True, "phase": "equal shares", "position": 1, "money_left": "1000.5",
        "rho": "1.1", "effective_votes": 3, "supporters_money": "1/300"}
    # rho per unit of cost utility is money per money: the same in grosze and in złoty
    assert project.as_dict(100)["rho"] == 110
    # unit_scale 1: amounts stay numbers of the election's units, as the services expect
    assert project.as_dict()["cost"] == 40025 and project.as_dict()["supporters_money"] == "1/3"


@pytest.fixture
def cardinal_file(tmp_path):
    path = tmp_path / "cardinal.pb"
    path.write_text(CARDINAL, encoding="utf-8")
    return path


def test_equal_shares_per_point_in_currency_units(cardinal_file, capsys):
    election = parse_pabulib(CARDINAL)
    assert election.unit_scale == 100
    data = tally(election, "mes-cardinality").as_dict(election.unit_scale)
    assert (data["budget"], data["voter_budget"], data["total_cost"], data["money_left"]) == (
        "10.5", "3.5", "4.05", "6.45")
    assert data["selected"] == ["c", "a"] and data["unit_scale"] == 100
    shown = {p["project_id"]: p for p in data["projects"]}
    assert (shown["c"]["rho"], shown["a"]["rho"]) == ("0.75", "1.1")
    assert (shown["a"]["money_left"], shown["c"]["money_left"]) == ("9.75", "10.5")
    assert (shown["b"]["supporters_money"], shown["b"]["money_left"]) == ("6.45", "6.45")
    assert [shown[p]["cost"] for p in "abc"] == ["3.3", "7.2", "0.75"]

    assert main(["tally", str(cardinal_file), "--rule", "mes-cardinality", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert {key: cli[key] for key in data} == data
    assert main(["tally", str(cardinal_file), "--rule", "mes-cardinality"]) == 0
    out = capsys.readouterr().out
    assert "Budget:     10.5\n" in out and "4.05 spent, 6.45 left" in out
    assert "Voter budget (equal shares): 3.5\n" in out
    assert "rho=0.75;" in out and "rho=1.1;" in out and "supporters held 6.45" in out


def file_costs(path) -> dict[str, Decimal]:
    """The PROJECTS section's cost column as written in the file."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    start, end = lines.index("PROJECTS") + 1, lines.index("VOTES")
    return {row["project_id"]: Decimal(row["cost"].replace(",", "."))
            for row in csv.DictReader(lines[start:end], delimiter=";")}


@pytest.mark.parametrize("rule", ["greedy", "mes", "mes-cardinality"])
def test_grochow_amounts_are_in_zloty(rule, capsys):
    path = shared_path(GROCHOW)
    assert main(["tally", str(path), "--rule", rule, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    budget = Decimal("376634.74")  # the file's META budget
    assert Decimal(data["budget"]) == budget
    costs = file_costs(path)
    assert {p["project_id"]: Decimal(p["cost"]) for p in data["projects"]} == costs
    assert Decimal(data["total_cost"]) == sum(costs[p] for p in data["selected"])
    assert Decimal(data["money_left"]) == budget - Decimal(data["total_cost"])
    for project in data["projects"]:
        if project["funded"]:
            assert costs[project["project_id"]] <= Decimal(project["money_left"]) <= budget
    assert main(["tally", str(path), "--rule", rule]) == 0
    assert "Budget:     376634.74\n" in capsys.readouterr().out
    if rule == "greedy":
        return
    voters = len(shared_election(GROCHOW).ballots)
    voter_budget = Fraction(data["voter_budget"])
    # add-one raised the voter budget from budget / voters by whole złoty
    steps = voter_budget - Fraction(budget) / voters
    assert steps >= 0 and steps.denominator == 1
    for project in data["projects"]:
        if "supporters_money" in project:  # no more than they all started with
            held = Fraction(project["supporters_money"])
            assert 0 <= held <= voter_budget * project["supporters"]
        if rule == "mes-cardinality" and "rho" in project:
            # each supporter paid min(money, rho): rho złoty, at most a voter's budget
            rho = Fraction(project["rho"])
            assert rho * project["supporters"] >= costs[project["project_id"]]
            assert rho <= voter_budget
