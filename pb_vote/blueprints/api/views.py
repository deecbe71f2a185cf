"""JSON views. Everything here is public open data; drafts are never served."""

from flask import Blueprint, abort, jsonify, url_for

from pb_vote.blueprints.api.openapi import openapi_document
from pb_vote.blueprints.common import load_round
from pb_vote.extensions import csrf
from pb_vote.models import Proposal, Round, Table
from pb_vote.services import catalog

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
        "url": url_for("api.table", slug=table.slug, _external=True),
    }


def round_summary(round_: Round) -> dict:
    """A round's public facts."""
    return {
        "id": round_.id,
        "table": round_.table.slug,
        "title": round_.title,
        "description": round_.description,
        "phase": round_.phase.value,
        "budget_cents": round_.budget_cents,
        "currency": round_.currency,
        "time_zone": round_.time_zone,
        "proposals_open_at": _iso(round_.proposals_open_at),
        "proposals_close_at": _iso(round_.proposals_close_at),
        "voting_open_at": _iso(round_.voting_open_at),
        "voting_close_at": _iso(round_.voting_close_at),
        "url": url_for("api.round_detail", round_id=round_.id, _external=True),
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
        "origin": proposal.origin.value,
        "status": proposal.status.value,
        "category": proposal.category,
        "location": proposal.location,
        "estimated_cost_cents": proposal.estimated_cost_cents,
        "reviewed_cost_cents": proposal.reviewed_cost_cents,
        "public_note": proposal.public_note or None,
        "merged_in": [merged.id for merged in proposal.merged_in],
        "url": url_for("public.proposal_page", proposal_id=proposal.id, _external=True),
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


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
