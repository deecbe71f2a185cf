"""Public results pages: the latest publication, any earlier one, and receipt checks."""

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup

from pb_vote.blueprints.categories import by_category
from pb_vote.blueprints.common import load_round, no_store
from pb_vote.blueprints.kept import kept
from pb_vote.blueprints.languages import localized, page_language
from pb_vote.blueprints.results.presentation import bar_chart, exclusions, outcome, why_left_out
from pb_vote.blueprints.results.tool import counting_tool_file
from pb_vote.models import Proposal, Publication, Round
from pb_vote.services import results as results_service
from pb_vote.services.codes import looks_like_code
from pb_vote.urls import public_url

bp = Blueprint("results", __name__)
# The chart shows the first rows of the table (the funded, then the most supported): a bar per
# project of a 300-project round would make a page of its own.
CHART_ROWS = 15


def published_round(round_id: int) -> tuple[Round, Publication]:
    """A round that has at least one publication, and the one in force as its summary (404
    otherwise: nothing leaks early)."""
    round_ = load_round(round_id)
    publication = results_service.latest(round_)
    if publication is None:
        abort(404)
    return round_, publication


def proposals_of(round_: Round) -> dict[int, Proposal]:
    """Every proposal of the round by id (titles and origins for the pages)."""
    return {p.id: p for p in round_.proposals}


def page_context(round_: Round, publication: Publication,
                 history: list[Publication]) -> dict:
    """Everything the results page shows for one publication; ``history``: every
    publication of the round as its summary, newest first."""
    proposals = proposals_of(round_)
    left_out = exclusions(history, publication.number)
    shown = outcome(publication.result, publication.comparison, round_, proposals,
                    {pid: why_left_out(since) for pid, since in left_out.items()})
    category = {str(pid): p.category for pid, p in proposals.items()}
    counted = [row for row in shown["rows"] if not row.excluded]
    return {
        **shown,
        "round": round_,
        "publication": publication,
        "history": history,
        "left_out": [(proposals.get(pid), since) for pid, since in left_out.items()],
        "chart": bar_chart(counted[:CHART_ROWS], localized(round_, "title"),
                           shown["points"]),
        "chart_rows": min(len(counted), CHART_ROWS),
        "counted_rows": len(counted),
        "groups": by_category(shown["rows"], lambda row: category.get(row.project_id),
                              round_.categories or ()),
        "by_origin": results_service.funded_by_origin(publication, proposals),
        "min_ballots": current_app.config["RESULTS_MIN_BALLOTS"],
        "pb_url": public_url("api.ballots_pb", round_id=round_.id,
                             number=publication.number),
        "tool_url": public_url("results.counting_tool"),
    }


def asked_number(text: str) -> int | None:
    """The publication number in a ``?publication=`` parameter: a whole number of at most
    nine digits (a database integer holds it), or None for anything else."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        return None
    return int(text) or None


def no_such_publication(round_: Round, asked: str):
    """The 404 page for a publication number the round does not have, with the ones it
    has."""
    history = results_service.publications(round_)
    return render_template("results/no_publication.html", round=round_, asked=asked[:12],
                           history=history), 404


def publication_page(round_: Round, history: list[Publication], publication: Publication):
    """The results page of ``publication``. Its body is rendered once per publication,
    language, publication in force and state of the round and its proposals, then kept
    (a publication never changes): a visit on results day reads no figures."""
    def render() -> str:
        with_figures = results_service.numbered(round_, publication.number, figures=True)
        return render_template("results/_publication.html",
                               **page_context(round_, with_figures, history))

    body = kept("results-page", round_, publication, render, history[0].number,
                page_language())
    return render_template("results/page.html", round=round_, body=Markup(body))


def round_history(round_id: int) -> tuple[Round, list[Publication]]:
    """A round with at least one publication, and its publications' summaries, newest
    first (404 otherwise: nothing leaks early)."""
    round_ = load_round(round_id)
    history = results_service.publications(round_)
    if not history:
        abort(404)
    return round_, history


@bp.get("/rounds/<int:round_id>/results")
def latest(round_id: int):
    """The results in force; ``?publication=n`` leads to publication n."""
    asked = request.args.get("publication")
    round_, history = round_history(round_id)
    if asked is not None:
        number = asked_number(asked)
        if number is None or number > history[0].number:
            return no_such_publication(round_, asked)
        return redirect(url_for("results.earlier", round_id=round_id, number=number))
    return publication_page(round_, history, history[0])


@bp.get("/rounds/<int:round_id>/results/<int:number>")
def earlier(round_id: int, number: int):
    """Publication ``number`` of the round, the one in force or an earlier one kept for the
    record."""
    round_, history = round_history(round_id)
    publication = next((item for item in history if item.number == number), None)
    if publication is None:
        return no_such_publication(round_, str(number))
    return publication_page(round_, history, publication)


@bp.get("/tools/pb-vote.pyz")
def counting_tool():
    """pb_vote's counting program (``pb-vote``) as one file that Python runs, to count a
    round's published ballots again."""
    return send_file(io.BytesIO(counting_tool_file()), mimetype="application/zip",
                     as_attachment=True, download_name="pb-vote.pyz", max_age=3600)


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
