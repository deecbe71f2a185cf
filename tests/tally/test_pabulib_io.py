"""The Pabulib reader and writer: every shared file, malformed input, round trips."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import pytest
from pabutools.election import CumulativeBallot, OrdinalBallot
from pabutools.election.pabulib import parse_pabulib_from_string

from pb_vote.tally import PabulibError, format_pabulib, make_election, parse_pabulib, read_pabulib
from pb_vote.tally.model import VoteType
from pb_vote.tally.pabulib import parse_pabulib_with_warnings
from tests.tally.conftest import shared_election, shared_path

SMALL_FILES = [
    "Netherlands_Assen_2024.pb",
    "Netherlands_Amsterdam_166.pb",
    "Poland_Swiecie_2023.pb",
    "US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb",
    "US_Stanford_Dataset_Merced_Peoples_Budget_Ballot_2019_vote_rankings.pb",
    "Worldwide_Mechanical_Turk_Utilities_3.pb",
]

VALID = '''META
key;value
description;"A test; with a semicolon"
budget;1000,00
vote_type;approval
PROJECTS
project_id;cost;name
p1;400;"Park ""north"""
p2;700,00;Bench
VOTES
voter_id;vote;age
v1;p1,p2;30
v2;p2;None
'''


def test_every_shared_file_reads_with_its_declared_counts(pabulib_files):
    for path in pabulib_files:
        election = read_pabulib(path)
        assert len(election.projects) == int(election.meta["num_projects"]), path.name
        assert len(election.ballots) == int(election.meta["num_votes"]), path.name
        assert election.vote_type.value == election.meta["vote_type"]


def pabutools_view(instance, profile):
    """Projects, budget and ballots of a pabutools election, in comparable form."""
    projects = {p.name: int(p.cost) for p in instance}
    ballots = Counter()
    for ballot in profile:
        if isinstance(ballot, OrdinalBallot):
            key = tuple(p.name for p in ballot)
        elif isinstance(ballot, CumulativeBallot):
            key = tuple(sorted((p.name, int(v)) for p, v in ballot.items()))
        else:
            key = tuple(sorted(p.name for p in ballot))
        ballots[key] += 1
    return projects, int(instance.budget_limit), ballots


def our_view(election):
    projects = {p.id: p.cost for p in election.projects}
    ballots = Counter()
    for b in election.ballots:
        if election.vote_type.has_points:
            key = tuple(sorted(zip(b.projects, b.points, strict=True)))
        elif election.vote_type is VoteType.ORDINAL:
            key = b.projects
        else:
            key = tuple(sorted(b.projects))
        ballots[key] += 1
    return projects, election.budget, ballots


@pytest.mark.parametrize("name", SMALL_FILES)
def test_reader_agrees_with_pabutools(name):
    text = shared_path(name).read_text(encoding="utf-8-sig")
    assert our_view(parse_pabulib(text)) == pabutools_view(*parse_pabulib_from_string(text))


@pytest.mark.parametrize("name", SMALL_FILES)
def test_writer_round_trip_through_pabutools_and_ourselves(name):
    election = shared_election(name)
    written = format_pabulib(election)
    assert pabutools_view(*parse_pabulib_from_string(written)) == our_view(election)
    again = parse_pabulib(written)
    assert again == election
    assert dict(again.meta) == {**election.meta}
    assert [dict(p.fields) for p in again.projects] == [dict(p.fields) for p in election.projects]
    assert [dict(b.fields) for b in again.ballots] == [dict(b.fields) for b in election.ballots]


def test_writer_round_trip_of_built_elections():
    for vote_type, ballots in [
        ("approval", [["a", "b"], [], ["b"]]),
        ("ordinal", [["b", "a"], ["a"]]),
        ("cumulative", [{"a": 3, "b": 1}, {"b": 4}]),
    ]:
        election = make_election({"a": 5, "b": 7}, ballots, 10, vote_type)
        written = format_pabulib(election)
        assert parse_pabulib(written) == election
        assert pabutools_view(*parse_pabulib_from_string(written)) == our_view(election)


def test_quoted_fields_bom_crlf_and_decimal_commas():
    election = parse_pabulib("\ufeff" + VALID.replace("\n", "\r\n"))
    assert election.budget == 1000
    assert [p.cost for p in election.projects] == [400, 700]
    assert election.projects[0].name == 'Park "north"'
    assert election.meta["description"] == "A test; with a semicolon"
    assert election.ballots[1].fields["age"] == "None"
    assert parse_pabulib(format_pabulib(election)) == election


TWICE = ("META\nkey;value\nbudget;10\nvote_type;{vote_type}\nPROJECTS\n"
         "project_id;cost;votes;score\na;5;{votes};{score}\nb;5;2;3\nVOTES\nvoter_id;vote;points\n"
         "1;a,b,a;1,2,3\n2;b,a;1,1\n")


@pytest.mark.parametrize("vote_type", ["cumulative", "scoring"])
def test_points_given_twice_to_one_project_read_as_pabutools_reads_them(vote_type):
    text = TWICE.format(vote_type=vote_type, votes=2, score=4)
    election, warnings = parse_pabulib_with_warnings(text)
    (ballot, _), (theirs, _) = election.ballots, parse_pabulib_from_string(text)[1]
    assert dict(zip(ballot.projects, ballot.points, strict=True)) == {
        p.name: int(v) for p, v in theirs.items()}
    assert ballot.projects == ("a", "b") and ballot.points == (3, 2)  # the later 3 stands
    # the columns agree with the votes as read (a: 2 ballots, 3 + 1 points): nothing to add
    assert [str(w) for w in warnings] == [
        "VOTES, line 11: the vote names project 'a' more than once: the later points stand"]


def test_a_repeat_warning_says_when_the_files_own_columns_then_disagree():
    # the file counted every copy: a named three times by two ballots, 1 + 3 + 1 points
    text = TWICE.format(vote_type="cumulative", votes=3, score=5)
    _, warnings = parse_pabulib_with_warnings(text)
    assert [str(w) for w in warnings] == [
        "VOTES, line 11: the vote names project 'a' more than once: the later points stand "
        "(the file's votes column gives 'a' 3, the votes as read give it 2; the file's score "
        "column gives 'a' 5, the votes as read give it 4)"]


def exact_view(instance, profile):
    """Like pabutools_view, with exact costs and points (decimal amounts stay exact)."""
    projects = {p.name: Fraction(p.cost) for p in instance}
    ballots = Counter()
    for ballot in profile:
        if isinstance(ballot, OrdinalBallot):
            key = tuple(p.name for p in ballot)
        elif isinstance(ballot, CumulativeBallot):
            key = tuple(sorted((p.name, Fraction(v)) for p, v in ballot.items()))
        else:
            key = tuple(sorted(p.name for p in ballot))
        ballots[key] += 1
    return projects, Fraction(instance.budget_limit), ballots


def our_exact_view(election):
    projects, budget, ballots = our_view(election)
    scale = election.unit_scale
    return ({p: Fraction(cost, scale) for p, cost in projects.items()}, Fraction(budget, scale),
            ballots)


@pytest.mark.parametrize("name", [
    "Poland_Czestochowa_2020.pb",  # cumulative, voter 13026 gives project 579 its point 4 times
    "hard/Poland_Warszawa_2026_Srodmiescie_Poludniowe.pb",  # approval, a project twice
    "hard/Poland_Warszawa_2019_Grochow_Centrum.pb",  # decimal budget
])
def test_reader_agrees_with_pabutools_on_repeats_and_decimals(name):
    text = shared_path(name).read_text(encoding="utf-8-sig")
    election, warnings = parse_pabulib_with_warnings(text)
    assert our_exact_view(election) == exact_view(*parse_pabulib_from_string(text))
    for warning in warnings:  # every warning names a line of the VOTES section
        assert warning.section == "votes" and warning.line


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("budget;1000,00\n", ""), "META: no budget"),
        (lambda t: t.replace("budget;1000,00", "budget;lots"), "budget is not a number"),
        (lambda t: t.replace("vote_type;approval", "vote_type;borda"), "vote_type 'borda'"),
        (
            lambda t: t.replace("p2;700,00;Bench",
            "p2;-3;Bench"), "PROJECTS, line 9: cost of project 'p2' must be positive",
        ),
        (
            lambda t: t.replace("p2;700,00;Bench",
            "p2;700"), "PROJECTS, line 9: 2 fields but the header has 3",
        ),
        (
            lambda t: t.replace("p2;700,00;Bench",
            "p1;700;Bench"), "PROJECTS, line 9: project 'p1' is listed twice",
        ),
        (
            lambda t: t.replace("v1;p1,p2;30",
            "v1;p1,p9;30"), "VOTES, line 12: vote names unknown project 'p9'",
        ),
        (
            lambda t: t.replace("v2;p2;None",
            "v1;p2;None"), "VOTES, line 13: voter 'v1' appears twice",
        ),
        (
            lambda t: t.replace("project_id;cost;name",
            "project_id;price;name"), "PROJECTS, line 7: header lacks column cost",
        ),
        (lambda t: t.split("VOTES")[0], "no VOTES section"),
        (lambda t: "hello\n" + t, "line 1: expected META"),
        (lambda t: t.replace("description;", "description\n"), "META, line 3: expected key;value"),
    ],
)
def test_malformed_files_name_section_line_and_problem(change, message):
    with pytest.raises(PabulibError) as caught:
        parse_pabulib(change(VALID))
    assert message in str(caught.value)


def test_points_must_match_the_vote():
    text = ("META\nkey;value\nbudget;10\nvote_type;cumulative\nPROJECTS\nproject_id;cost\n"
            "a;5\nVOTES\nvoter_id;vote;points\n1;a;1,2\n")
    with pytest.raises(PabulibError, match="VOTES, line 10: 1 projects but 2 points"):
        parse_pabulib(text)


def test_unreadable_file(tmp_path):
    with pytest.raises(PabulibError, match="cannot read"):
        read_pabulib(tmp_path / "missing.pb")
    binary = tmp_path / "binary.pb"
    binary.write_bytes(b"\xff\xfe\x00META")
    with pytest.raises(PabulibError, match="not UTF-8"):
        read_pabulib(binary)
