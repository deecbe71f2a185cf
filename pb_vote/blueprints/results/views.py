"""Public results pages: the latest publication, any earlier one, and receipt checks."""

from flask import Blueprint, abort, current_app, render_template, request

from pb_vote.blueprints.categories import by_category
from pb_vote.blueprints.common import load_round, no_store
from pb_vote.blueprints.results.presentation import bar_chart, outcome
from pb_vote.models import Proposal, Publication, Round
from pb_vote.services import results as results_service
from pb_vote.services.codes import looks_like_code
from pb_vote.urls import public_url

bp = Blueprint("results", __name__)
# The chart shows the first rows of the table (the funded, then the most supported): a bar per
# project of a 300-project round would make a page of its own.
CHART_ROWS = 15


def published_round(round_id: int, *, figures: bool = False) -> tuple[Round, Publication]:
    """A round that has at least one publication, and the one in force (404 otherwise:
    nothing leaks early); with ``figures``, the publication's tally comes in the same
    query."""
    round_ = load_round(round_id)
    publication = results_service.latest(round_, figures=figures)
    if publication is None:
        abort(404)
    return round_, publication


def proposals_of(round_: Round) -> dict[int, Proposal]:
    """Every proposal of the round by id (titles and origins for the pages)."""
    return {p.id: p for p in round_.proposals}


def page_context(round_: Round, publication: Publication) -> dict:
    """Everything the results page shows for one publication; the history is read as its
    summaries only."""
    proposals = proposals_of(round_)
    shown = outcome(publication.result, publication.comparison, round_, proposals)
    category = {str(pid): p.category for pid, p in proposals.items()}
    return {
        **shown,
        "round": round_,
        "publication": publication,
        "history": results_service.publications(round_),
        "chart": bar_chart(shown["rows"][:CHART_ROWS], round_.title, shown["points"]),
        "chart_rows": min(len(shown["rows"]), CHART_ROWS),
        "groups": by_category(shown["rows"], lambda row: category.get(row.project_id),
                              round_.categories or ()),
        "by_origin": results_service.funded_by_origin(publication, proposals),
        "min_ballots": current_app.config["RESULTS_MIN_BALLOTS"],
        "pb_url": public_url("api.ballots_pb", round_id=round_.id),
    }


@bp.get("/rounds/<int:round_id>/results")
def latest(round_id: int):
    """The results in force."""
    round_, publication = published_round(round_id, figures=True)
    return render_template("results/page.html", **page_context(round_, publication))


@bp.get("/rounds/<int:round_id>/results/<int:number>")
def earlier(round_id: int, number: int):
    """An earlier (corrected) publication, kept for the record."""
    round_, _ = published_round(round_id)
    publication = results_service.numbered(round_, number, figures=True) or abort(404)
    return render_template("results/page.html", **page_context(round_, publication))


@bp.route("/rounds/<int:round_id>/verify", methods=["GET", "POST"])
def verify(round_id: int):
    """A voter checks with their receipt code that their ballot is in the count."""
    no_store()  # the page shows the typed receipt code again
    round_, publication = published_round(round_id)
    typed = (request.form.get("receipt") or "")[:64] if request.method == "POST" else ""
    outcome = None
    status = 200
    if request.method == "POST":
        if not looks_like_code(typed):
            outcome, status = "format", 400
        elif results_service.receipt_in_publication(publication, typed):
            outcome = "counted"
        else:
            outcome = "missing"
    return render_template("results/verify.html", round=round_, publication=publication,
                           typed=typed, outcome=outcome), status
