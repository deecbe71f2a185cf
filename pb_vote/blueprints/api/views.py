"""JSON views. Everything here is public open data; drafts are never served."""

import csv
import io

from flask import Blueprint, abort, current_app, jsonify

from pb_vote.blueprints import downloads
from pb_vote.blueprints.api.openapi import openapi_document
from pb_vote.blueprints.common import load_round
from pb_vote.blueprints.kept import kept
from pb_vote.extensions import csrf
from pb_vote.models import Proposal, Round, Table
from pb_vote.services import catalog
from pb_vote.services import results as results_service
from pb_vote.tally import DEFAULT_TIE_BREAK
from pb_vote.text import csv_cell
from pb_vote.urls import public_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.after_request
def _open_data_headers(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _iso(value):
    return value.isoformat() if value is not None else None


def table_summary(table: Table) -> dict:
    """A table as listed."""
    return {
        "slug": table.slug,
        "name": table.name,
        "language": table.main_language,
        "translations": {field: table.texts(field) for field in table.TRANSLATED},
        "url": public_url("api.table", slug=table.slug),
    }


def round_summary(round_: Round) -> dict:
    """A round's public facts."""
    return {
        "id": round_.id,
        "table": round_.table.slug,
        "title": round_.title,
        "description": round_.description,
        "language": round_.main_language,
        "translations": {field: round_.texts(field) for field in round_.TRANSLATED},
        "categories": {name: round_.category_texts(name) for name in round_.categories or []},
        "phase": round_.phase.value,
        "budget_cents": round_.budget_cents,
        "currency": round_.currency,
        "time_zone": round_.time_zone,
        "proposals_open_at": _iso(round_.proposals_open_at),
        "proposals_close_at": _iso(round_.proposals_close_at),
        "voting_open_at": _iso(round_.voting_open_at),
        "voting_close_at": _iso(round_.voting_close_at),
        "url": public_url("api.round_detail", round_id=round_.id),
    }


@bp.get("/tables")
def tables():
    """Every partnership table."""
    return jsonify({"tables": [table_summary(t) for t in catalog.list_tables()]})


@bp.get("/tables/<slug>")
def table(slug: str):
    """One table with its area and public rounds."""
    table_ = catalog.table_by_slug(slug) or abort(404)
    return jsonify(
        {
            **table_summary(table_),
            "description": table_.description,
            "postal_codes": table_.postal_codes,
            "rounds": [round_summary(r) for r in catalog.public_rounds(table_)],
        }
    )


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int):
    """One public round."""
    round_ = load_round(round_id)
    if not round_.phase.is_public:
        abort(404)
    return jsonify(round_summary(round_))


def proposal_summary(proposal: Proposal) -> dict:
    """A proposal's public facts."""
    return {
        "id": proposal.id,
        "title": proposal.title,
        "description": proposal.description,
        "language": proposal.language,
        "origin": proposal.origin.value,
        "status": proposal.status.value,
        "category": proposal.category,
        "location": proposal.location,
        "estimated_cost_cents": proposal.estimated_cost_cents,
        "reviewed_cost_cents": proposal.reviewed_cost_cents,
        "public_note": proposal.public_note or None,
        "merged_in": [merged.id for merged in proposal.merged_in],
        "url": public_url("public.proposal_page", proposal_id=proposal.id),
    }


@bp.get("/rounds/<int:round_id>/proposals")
def round_proposals(round_id: int):
    """The accepted proposals of a public round (the ballot), with reviewed costs."""
    round_ = load_round(round_id)
    if not round_.phase.is_public:
        abort(404)
    return jsonify({
        "round": round_.id,
        "proposals": [proposal_summary(p) for p in catalog.ballot(round_)],
    })


def _publication(round_id: int, number: int | None):
    """The round, its publication (the one in force, or the numbered one: 404 when there is
    none) and how long a cache may keep what is served of it."""
    round_ = load_round(round_id)
    if not round_.phase.is_public:
        abort(404)
    if number is None:
        publication = results_service.latest(round_)
        cache_control = downloads.IN_FORCE
    else:
        publication = results_service.numbered(round_, number)
        cache_control = downloads.IMMUTABLE
    if publication is None:
        abort(404)
    return round_, publication, cache_control


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@bp.get("/rounds/<int:round_id>/results")
@bp.get("/rounds/<int:round_id>/publications/<int:number>/results")
def round_results(round_id: int, number: int | None = None):
    """The published results: rule, tie-break, budget, selection, every project's reason."""
    round_, publication, cache_control = _publication(round_id, number)
    body = kept("results.json", round_, publication,
                lambda: _results_json(round_, publication))
    return downloads.send_small(body, "application/json", cache_control=cache_control)


def _results_json(round_: Round, publication) -> bytes:
    titles = {str(p.id): p.title for p in round_.proposals}
    return jsonify({
        "round": round_.id,
        "publication": publication.number,
        "published_at": publication.published_at.isoformat(),
        "correction_reason": publication.correction_reason,
        "rule": publication.rule,
        "tie_break": publication.tie_break,
        "tie_break_rule": DEFAULT_TIE_BREAK,
        "budget": publication.result["budget"],
        "currency": round_.currency,
        "selected": publication.result["selected"],
        "total_cost": publication.result["total_cost"],
        "money_left": publication.result["money_left"],
        "ballots": publication.ballot_count,
        "projects": [
            {**project, "title": titles.get(project["project_id"], "")}
            for project in publication.result["projects"]
        ],
        "comparison": publication.comparison,
        "turnout": publication.turnout,
        "excluded": publication.excluded,
    }).get_data()


@bp.get("/rounds/<int:round_id>/ballots.pb")
@bp.get("/rounds/<int:round_id>/publications/<int:number>/ballots.pb")
def ballots_pb(round_id: int, number: int | None = None):
    """The anonymized ballots in Pabulib format (withheld for very small rounds)."""
    _, publication, cache_control = _publication(round_id, number)
    minimum = current_app.config["RESULTS_MIN_BALLOTS"]
    if publication.ballot_count < minimum:
        return jsonify({"error": {"status": 403, "message": (
            f"withheld: fewer than {minimum} ballots, publishing them could reveal votes")}}), 403
    return downloads.send_stored(
        results_service.ballots_file(publication), "text/plain", cache_control=cache_control,
        headers=_attachment(f"round-{round_id}-ballots.pb"))


@bp.get("/rounds/<int:round_id>/results.csv")
@bp.get("/rounds/<int:round_id>/publications/<int:number>/results.csv")
def results_csv(round_id: int, number: int | None = None):
    """One line per project: the same figures as the page and the JSON, with the tally's
    own reason and the step of the rule that decided it (Equal Shares, or the greedy fill
    of the money it left)."""
    round_, publication, cache_control = _publication(round_id, number)
    body = kept("results.csv", round_, publication, lambda: _results_csv(round_, publication))
    return downloads.send_small(body, "text/csv", cache_control=cache_control,
                                headers=_attachment(f"round-{round_id}-results.csv"))


def _results_csv(round_: Round, publication) -> bytes:
    titles = {str(p.id): p.title for p in round_.proposals}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["project_id", "title", "cost_cents", "support", "supporters", "funded",
                     "position", "reason", "phase", "money_left_cents"])
    for project in publication.result["projects"]:
        writer.writerow([csv_cell(cell) for cell in (
            project["project_id"], titles.get(project["project_id"], ""), project["cost"],
            project["support"], project["supporters"], 1 if project["funded"] else 0,
            project.get("position", ""), project["reason"], project.get("phase", ""),
            project.get("money_left", ""))])
    return out.getvalue().encode()


@bp.get("/rounds/<int:round_id>/receipts")
@bp.get("/rounds/<int:round_id>/publications/<int:number>/receipts")
def receipts(round_id: int, number: int | None = None):
    """The SHA-256 hashes of the counted ballots' receipt codes, shuffled."""
    _, publication, cache_control = _publication(round_id, number)
    stored, end = results_service.receipts_file(publication)
    return downloads.send_stored(stored, "application/json", extra=end,
                                 cache_control=cache_control)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
