"""``pb-vote tally``: JSON and table output, META rule choice, exit code 2 on bad input."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from pb_vote.tally.cli import main
from tests.tally.conftest import shared_path

SMALL = """META
key;value
budget;9
vote_type;approval
rule;greedy
PROJECTS
project_id;cost;selected
a;5;1
b;4;0
c;3;1
d;2;0
VOTES
voter_id;vote
1;a,b
2;a,c
3;a
4;b,d
5;c
"""


@pytest.fixture
def small_file(tmp_path):
    path = tmp_path / "small.pb"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_json_output(small_file, capsys):
    assert main(["tally", str(small_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rule"] == "greedy"
    assert data["rule_source"] == "the file's META rule 'greedy'"
    assert data["budget"] == 9
    assert data["selected"] == ["a", "c"]
    assert data["total_cost"] == 8
    assert data["matches_official"] is True
    reasons = {p["project_id"]: (p["reason"], p.get("money_left")) for p in data["projects"]}
    assert reasons == {"a": ("funded", 9), "b": ("did not fit the money left", 1),
                       "c": ("funded", 4), "d": ("did not fit the money left", 1)}


def test_table_output_and_rule_option(small_file, capsys):
    assert main(["tally", str(small_file), "--rule", "mes-raw", "--tie-break", "lexico"]) == 0
    out = capsys.readouterr().out
    assert "Rule:       mes-raw (--rule)" in out
    assert "not enough support left among its supporters" in out
    assert "rho=" in out


def test_fractions_are_strings_in_json(small_file, capsys):
    assert main(["tally", str(small_file), "--rule", "mes-raw", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["voter_budget"] == "9/5"
    priced = [p["rho"] for p in data["projects"] if p.get("rho") is not None]
    assert priced  # equal shares priced the projects it bought...
    for rho in priced:  # ...and each price is an exact fraction written as a string
        assert isinstance(rho, str) and Fraction(rho) > 0


def test_unknown_meta_rule_falls_back_to_greedy(small_file, capsys):
    small_file.write_text(SMALL.replace("rule;greedy", "rule;unknown"), encoding="utf-8")
    assert main(["tally", str(small_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rule"] == "greedy"
    assert "not one we implement" in data["rule_source"]


def test_threshold_option(small_file, capsys):
    args = ["tally", str(small_file), "--rule", "greedy-threshold", "--threshold", "3", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["selected"] == ["a"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            SMALL.replace("c;3;1", "c;three;1"),
            "PROJECTS, line 10: cost of project 'c' is not a number",
        ),
        (SMALL.replace("4;b,d", "4;b,z"), "VOTES, line 17: vote names unknown project 'z'"),
        (SMALL.replace("rule;greedy", "rule;greedy-threshold"), "needs a threshold"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(small_file, capsys, content, message):
    small_file.write_text(content, encoding="utf-8")
    assert main(["tally", str(small_file)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_missing_file_and_bad_option(tmp_path, capsys):
    assert main(["tally", str(tmp_path / "nope.pb")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:
        main(["tally", str(tmp_path / "nope.pb"), "--rule", "borda"])
    assert stopped.value.code == 2


def test_wieliczka_official_result_from_the_meta_rule(capsys):
    path = shared_path("Poland_Wieliczka_2023_Green_Budget.pb")
    assert main(["tally", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rule"] == "mes-add1"
    assert data["add_one_stopping"] == "pabulib"
    assert data["matches_official"] is True
    assert len(data["selected"]) == 30
