"""The add-one completion on the slowest real files: skipping steps gives exactly what computing
every step gives, and (where pabutools finishes in reasonable time) what pabutools selects.

Computing every step is the definition of add-one (pabutools' loop); it is checked against
pabutools on random elections in ``test_properties``, so here it stands in for pabutools on
files where pabutools takes minutes. The files are in ``hard/`` of the shared Pabulib folder.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb_vote.tally import tally
from pb_vote.tally.mes import MesProfile, add_one, run_mes
from pb_vote.tally.rules import _prepare
from tests.tally.conftest import shared_election
from tests.tally.test_pabulib_hard import pabutools_outcome

SLOW_FILES = [
    "hard/France_Toulouse_2022.pb",
    "hard/Poland_Warszawa_2024_Wlochy.pb",
    "hard/Poland_Warszawa_2019_Targowek_Mieszkaniowy.pb",
    "hard/US_Stanford_Dataset_SF_Tenderloin_December_2022_vote_knapsacks.pb",
    "hard/Poland_Warszawa_2026_Srodmiescie_Poludniowe.pb",
]


def profile_of(name: str) -> tuple[MesProfile, int]:
    election = shared_election(name)
    prepared = _prepare(election, "lexico")
    profile = MesProfile(prepared.costs, prepared.weights, prepared.costs, prepared.tie_rank,
                         election.budget)
    return profile, election.unit_scale


def every_step(profile: MesProfile, step: int) -> tuple[Fraction, tuple[int, ...], int]:
    """pabutools' loop, one whole MES run per step: (chosen start budget, purchases, runs)."""
    supported = [j for j in range(len(profile.costs)) if profile.supported[j]]
    t, previous, runs = Fraction(profile.budget, profile.voters), None, 0
    while True:
        outcome = run_mes(profile, t)
        runs += 1
        if outcome.total_cost > profile.budget:
            return previous.start_budget, tuple(previous.selected), runs
        chosen = set(outcome.selected)
        left = profile.budget - outcome.total_cost
        if all(j in chosen or profile.costs[j] > left for j in supported):
            return t, tuple(outcome.selected), runs
        previous, t = outcome, t + step


@pytest.mark.parametrize("name", SLOW_FILES)
def test_skipping_steps_gives_what_every_step_gives(name):
    profile, step = profile_of(name)
    completed = add_one(profile, "pabutools", step)
    start, selected, runs = every_step(profile, step)
    assert (completed.run.start_budget, tuple(completed.run.selected)) == (start, selected)
    assert completed.runs < runs  # it did skip


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hard/Poland_Warszawa_2019_Targowek_Mieszkaniowy.pb"])
def test_a_slow_file_selects_what_pabutools_selects(name):
    assert tally(shared_election(name), "mes", tie_break="lexico").selected == (
        pabutools_outcome(name, "mes"))
