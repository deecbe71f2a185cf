"""The OpenAPI document. A test checks that it lists exactly the served routes and that
every response matches its schema."""

from pb_vote.models import RoundPhase

_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
            }
        },
    },
    "TableSummary": {
        "type": "object",
        "required": ["slug", "name", "url"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Round": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id", "table", "title", "description", "phase", "budget_cents", "currency",
            "time_zone", "proposals_open_at", "proposals_close_at", "voting_open_at",
            "voting_close_at", "url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "table": {"type": "string", "description": "slug of the partnership table"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "phase": {
                "type": "string",
                "enum": [p.value for p in RoundPhase if p.is_public],
            },
            "budget_cents": {"type": "integer", "minimum": 1,
                             "description": "budget in integer cents"},
            "currency": {"type": "string", "minLength": 3, "maxLength": 3},
            "time_zone": {"type": "string", "description": "IANA zone in which dates are shown"},
            "proposals_open_at": _TIMESTAMP,
            "proposals_close_at": _TIMESTAMP,
            "voting_open_at": _TIMESTAMP,
            "voting_close_at": _TIMESTAMP,
            "url": {"type": "string", "format": "uri"},
        },
    },
}
SCHEMAS["Proposal"] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id", "title", "description", "origin", "status", "category", "location",
        "estimated_cost_cents", "reviewed_cost_cents", "public_note", "merged_in", "url",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "origin": {"type": "string", "enum": ["resident", "member", "city"],
                   "description": "who initiated the proposal"},
        "status": {"type": "string", "enum": ["accepted"]},
        "category": {"type": ["string", "null"]},
        "location": {"type": "string"},
        "estimated_cost_cents": {"type": ["integer", "null"]},
        "reviewed_cost_cents": {"type": "integer", "minimum": 1,
                                "description": "the cost that counts on the ballot, in cents"},
        "public_note": {"type": ["string", "null"]},
        "merged_in": {"type": "array", "items": {"type": "integer"},
                      "description": "ids of duplicate proposals merged into this one"},
        "url": {"type": "string", "format": "uri"},
    },
}
SCHEMAS["ProposalList"] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["round", "proposals"],
    "properties": {
        "round": {"type": "integer"},
        "proposals": {"type": "array", "items": {"$ref": "#/components/schemas/Proposal"}},
    },
}
SCHEMAS["TableList"] = {
    "type": "object",
    "required": ["tables"],
    "additionalProperties": False,
    "properties": {
        "tables": {"type": "array", "items": {"$ref": "#/components/schemas/TableSummary"}}
    },
}
SCHEMAS["Table"] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slug", "name", "url", "description", "postal_codes", "rounds"],
    "properties": {
        **SCHEMAS["TableSummary"]["properties"],
        "description": {"type": "string"},
        "postal_codes": {"type": "array", "items": {"type": "string"}},
        "rounds": {"type": "array", "items": {"$ref": "#/components/schemas/Round"}},
    },
}


def _json(schema: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


NOT_FOUND = _json("Error", "Not found (drafts are never public)")


def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document for /api/v1."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pb_vote open data API",
            "version": "1",
            "description": "Read-only public data of the participatory budgeting service. "
            "Money is in integer cents; times are UTC (ISO 8601).",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/tables": {
                "get": {
                    "operationId": "listTables",
                    "summary": "Every partnership table",
                    "responses": {"200": _json("TableList", "The tables")},
                }
            },
            "/tables/{slug}": {
                "get": {
                    "operationId": "getTable",
                    "summary": "One table with its public rounds",
                    "parameters": [
                        {"name": "slug", "in": "path", "required": True,
                         "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _json("Table", "The table"), "404": NOT_FOUND},
                }
            },
            "/rounds/{round_id}": {
                "get": {
                    "operationId": "getRound",
                    "summary": "One public budget round",
                    "parameters": [
                        {"name": "round_id", "in": "path", "required": True,
                         "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": _json("Round", "The round"), "404": NOT_FOUND},
                }
            },
            "/rounds/{round_id}/proposals": {
                "get": {
                    "operationId": "listRoundProposals",
                    "summary": "The accepted proposals of a public round, with reviewed costs",
                    "parameters": [
                        {"name": "round_id", "in": "path", "required": True,
                         "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": _json("ProposalList", "The ballot"), "404": NOT_FOUND},
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
