"""Real Pabulib elections: official outcomes reproduced, and the same selection as pabutools.

pabutools comparisons that take it more than a few seconds are marked ``slow``
(``pytest -m slow``); the benchmark (benchmarks/tally.py) runs all of them.
"""

from __future__ import annotations

from functools import cache

import pytest

from pb_vote.tally import tally
from pb_vote.tally.rules import META_RULES
from tests.tally.conftest import shared_election
from tests.tally.oracle import pabutools_selection

OFFICIAL = [
    # file, META rule, expected number of funded projects
    ("Netherlands_Assen_2024.pb", "equalshares/add1", 9),
    ("Poland_Katowice_2023.pb", "greedy-threshold", 6),
    ("Poland_Krakow_2024.pb", "greedy", 10),
    ("Poland_Lodz_2022.pb", "greedy-threshold", 16),
    ("Poland_Swiecie_2023.pb", "equalshares/add1", 17),
    ("Poland_Warszawa_2023_Mokotow.pb", "greedy", 24),
    ("Poland_Warszawa_2026.pb", "greedy-threshold", 17),
    ("Poland_Wieliczka_2023_Green_Budget.pb", "equalshares/add1-comparison", 30),
    ("Poland_Wroclaw_2023.pb", "greedy-no-skip", 7),
]

JERSEY = "US_Stanford_Dataset_2022_Jersey_City_Ward_B_vote_knapsacks.pb"
MERCED = "US_Stanford_Dataset_Merced_Peoples_Budget_Ballot_2019_vote_rankings.pb"
MTURK = "Worldwide_Mechanical_Turk_Utilities_3.pb"
ASSEN = "Netherlands_Assen_2024.pb"
AMSTERDAM = "Netherlands_Amsterdam_166.pb"
SWIECIE = "Poland_Swiecie_2023.pb"
WIELICZKA = "Poland_Wieliczka_2023_Green_Budget.pb"
MOKOTOW = "Poland_Warszawa_2023_Mokotow.pb"
CZESTOCHOWA = "Poland_Czestochowa_2020.pb"
KATOWICE = "Poland_Katowice_2023.pb"
BIG = [
    "Hungary_Budapest_2024.pb",
    "Poland_Krakow_2024.pb",
    "Poland_Lodz_2022.pb",
    "Poland_Warszawa_2026.pb",
    "Poland_Wroclaw_2023.pb",
]
SMALL = [JERSEY, MERCED, MTURK, ASSEN, AMSTERDAM, SWIECIE]
slow = pytest.mark.slow


def official_ids(election):
    return {p.id for p in election.projects if p.fields.get("selected") == "1"}


@pytest.mark.parametrize(("name", "meta_rule", "funded"), OFFICIAL, ids=[o[0] for o in OFFICIAL])
def test_official_outcome_reproduced(name, meta_rule, funded):
    election = shared_election(name)
    assert election.meta["rule"] == meta_rule
    rule = META_RULES[meta_rule]
    result = tally(election, rule, add_one_stopping="pabulib")
    assert set(result.selected) == official_ids(election)
    assert len(result.selected) == funded


def test_wieliczka_needs_the_pabulib_checker_stopping():
    election = shared_election(WIELICZKA)
    result = tally(election, "mes-add1", add_one_stopping="pabutools")
    assert len(result.selected) == 31
    assert set(result.selected) != official_ids(election)


@cache
def oracle(name: str, rule: str, tie_break: str = "lexico") -> tuple[str, ...]:
    """pabutools' selection, computed once per session."""
    election = shared_election(name)
    threshold = None
    if rule == "greedy-threshold":
        threshold = int(election.meta.get("min_project_score_threshold", "100"))
    return tuple(pabutools_selection(election, rule, tie_break, threshold=threshold))


def check(name: str, rule: str, tie_break: str = "lexico") -> None:
    election = shared_election(name)
    ours = tally(election, rule, tie_break=tie_break, threshold=None if rule != "greedy-threshold"
                 else int(election.meta.get("min_project_score_threshold", "100")))
    assert ours.selected == oracle(name, rule, tie_break)


GREEDY_CASES = [
    *[(name, rule) for name in SMALL for rule in ("greedy", "greedy-no-skip", "greedy-threshold")],
    (WIELICZKA, "greedy"),
    (MOKOTOW, "greedy"),
    pytest.param(CZESTOCHOWA, "greedy", marks=slow),
    pytest.param(KATOWICE, "greedy-threshold", marks=slow),
    *[pytest.param(name, "greedy", marks=slow) for name in BIG],
    pytest.param("Poland_Wroclaw_2023.pb", "greedy-no-skip", marks=slow),
    *[pytest.param(name, "greedy-threshold", marks=slow)
      for name in ("Poland_Lodz_2022.pb", "Poland_Warszawa_2026.pb")],
]


@pytest.mark.parametrize(("name", "rule"), GREEDY_CASES)
def test_greedy_rules_equal_pabutools(name, rule):
    check(name, rule)


@pytest.mark.parametrize("name", [JERSEY, MERCED, MTURK, ASSEN])
@pytest.mark.parametrize("tie_break", ["lexico", "default"])
def test_greedy_with_our_tie_break_equals_pabutools_with_it(name, tie_break):
    check(name, "greedy", tie_break)


MES_CASES = [
    *[(name, rule) for name in (JERSEY, MERCED, MTURK, ASSEN)
      for rule in ("mes", "mes-raw", "mes-add1", "mes-cardinality")],
    (AMSTERDAM, "mes-raw"),
    (SWIECIE, "mes-raw"),
    (WIELICZKA, "mes-raw"),
    pytest.param(AMSTERDAM, "mes", marks=slow),
    pytest.param(SWIECIE, "mes", marks=slow),
    pytest.param(WIELICZKA, "mes", marks=slow),
    pytest.param(WIELICZKA, "mes-add1", marks=slow),
    pytest.param(MOKOTOW, "mes-raw", marks=slow),
    pytest.param(CZESTOCHOWA, "mes-raw", marks=slow),
    pytest.param(KATOWICE, "mes-raw", marks=slow),
]


@pytest.mark.parametrize(("name", "rule"), MES_CASES)
def test_equal_shares_equals_pabutools(name, rule):
    check(name, rule)


@pytest.mark.parametrize("name", [ASSEN, MERCED])
def test_equal_shares_with_our_tie_break_equals_pabutools_with_it(name):
    check(name, "mes", "default")
