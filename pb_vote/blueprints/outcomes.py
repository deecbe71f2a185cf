"""What a proposal's own pages say of its result once the round's results are published:
funded or not, and why, in the results page's own words (``results.presentation``)."""

from dataclasses import dataclass

from pb_vote.blueprints.results.presentation import explain
from pb_vote.models import Round, RoundPhase
from pb_vote.services import results as results_service


@dataclass(frozen=True)
class Outcome:
    """One proposal's result in the publication in force."""

    funded: bool
    reason: str  # in plain words, as the results page gives it


def published_outcomes(round_: Round) -> dict[int, Outcome]:
    """The outcome of each proposal counted in ``round_``, by proposal id; empty until its
    results are published. Reads the publication in force's summary and tally only: never
    its receipts, its files or the ballots."""
    if round_.phase is not RoundPhase.PUBLISHED:
        return {}
    publication = results_service.latest(round_)
    if publication is None:
        return {}
    return {int(project["project_id"]): Outcome(bool(project["funded"]),
                                                explain(project, round_.currency))
            for project in publication.result["projects"]}
