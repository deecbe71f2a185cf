"""What a proposal's own pages say of its result once the round's results are published:
funded or not, and why, in the results page's own words (``results.presentation``)."""

from dataclasses import dataclass

from pb_vote.blueprints.results.presentation import exclusions, explain, why_left_out
from pb_vote.models import Round, RoundPhase
from pb_vote.services import results as results_service


@dataclass(frozen=True)
class Outcome:
    """One proposal's result in the publication in force."""

    funded: bool
    reason: str  # in plain words, as the results page gives it


def published_outcomes(round_: Round, *, with_cost: bool = False) -> dict[int, Outcome]:
    """The outcome of each proposal counted in ``round_``, by proposal id; empty until its
    results are published; a proposal a correction left out has the coordinator's reason.
    ``with_cost``: a reason of money says what the proposal costs too (for a page that does
    not show the cost beside it).
    Reads the publications' summaries and the tally in force only: never their receipts,
    their files or the ballots."""
    if round_.phase is not RoundPhase.PUBLISHED:
        return {}
    history = results_service.publications(round_)
    if not history:
        return {}
    publication = history[0]
    found = {int(project["project_id"]): Outcome(bool(project["funded"]),
                                                 explain(project, round_.currency,
                                                         with_cost=with_cost))
             for project in publication.result["projects"]}
    for proposal_id, since in exclusions(history, publication.number).items():
        found[proposal_id] = Outcome(False, why_left_out(since))
    return found
