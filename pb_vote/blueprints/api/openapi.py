"""The OpenAPI document. A test checks that it lists exactly the served routes and that
every response matches its schema."""

import copy

from pb_vote.models import RoundPhase

_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

_TRANSLATIONS = {
    "type": "object",
    "description": "every language's text of each translated field: {field: {language: text}}; "
                   "the plain fields hold the main language's",
    "additionalProperties": {
        "type": "object",
        "propertyNames": {"enum": ["fi", "sv", "en"]},
        "additionalProperties": {"type": "string"},
    },
}
_MAIN_LANGUAGE = {"type": "string", "enum": ["fi", "sv"],
                  "description": "the language the texts are written in (and exports use)"}


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
        "required": ["slug", "name", "language", "translations", "url"],
        "additionalProperties": False,
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "language": _MAIN_LANGUAGE,
            "translations": _TRANSLATIONS,
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Round": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id", "table", "title", "description", "language", "translations", "categories",
            "phase", "budget_cents", "currency", "time_zone", "proposals_open_at",
            "proposals_close_at", "voting_open_at", "voting_close_at", "url",
        ],
        "properties": {
            "id": {"type": "integer"},
            "table": {"type": "string", "description": "slug of the partnership table"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "language": _MAIN_LANGUAGE,
            "translations": _TRANSLATIONS,
            "categories": {**_TRANSLATIONS, "description": (
                "the categories, each under its main-language name (what a proposal's "
                "category holds), with its name in each language")},
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
        "id", "title", "description", "language", "origin", "status", "category", "location",
        "estimated_cost_cents", "reviewed_cost_cents", "public_note", "merged_in", "url",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "language": {"type": "string", "enum": ["fi", "sv", "en"],
                     "description": "the language the author wrote in (never translated)"},
        "origin": {"type": "string", "enum": ["resident", "member", "city"],
                   "description": "who initiated the proposal"},
        "status": {"type": "string", "enum": ["accepted"]},
        "category": {"type": ["string", "null"],
                     "description": "in the round's main language"},
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
SCHEMAS["Results"] = {
    "type": "object",
    "required": [
        "round", "publication", "published_at", "correction_reason", "rule", "tie_break",
        "tie_break_rule", "budget", "currency", "selected", "total_cost", "money_left",
        "ballots", "projects", "comparison", "turnout", "excluded",
    ],
    "properties": {
        "round": {"type": "integer"},
        "publication": {"type": "integer", "minimum": 1,
                        "description": "publication number; a correction has the next one"},
        "published_at": {"type": "string", "format": "date-time"},
        "correction_reason": {"type": ["string", "null"]},
        "rule": {"type": "string", "enum": ["greedy", "mes"]},
        "tie_break": {"type": "string"},
        "tie_break_rule": {"type": "string", "description": "the tie-break rule in words"},
        "budget": {"type": "integer", "description": "cents"},
        "currency": {"type": "string"},
        "selected": {"type": "array", "items": {"type": "string"},
                     "description": "funded proposal ids in selection order"},
        "total_cost": {"type": "integer"},
        "money_left": {"type": "integer"},
        "ballots": {"type": "integer"},
        "projects": {"type": "array", "items": {
            "type": "object",
            "required": ["project_id", "title", "cost", "support", "supporters", "reason",
                         "funded"],
            "properties": {
                "project_id": {"type": "string"},
                "title": {"type": "string"},
                "cost": {"type": "integer"},
                "support": {"type": ["integer", "string"],
                            "description": "exact; a fraction is written as p/q"},
                "supporters": {"type": "integer"},
                "reason": {"type": "string", "enum": [
                    "funded", "did not fit the money left",
                    "not enough support left among its supporters",
                    "below the support threshold",
                    "not reached: counting stopped at the first project that did not fit"]},
                "funded": {"type": "boolean"},
                "phase": {"type": "string", "enum": ["greedy", "equal shares", "greedy fill"],
                          "description": "the step of the rule that decided the project: "
                                         "under Equal Shares, 'greedy fill' is the filling "
                                         "of the money its shares left"},
                "position": {"type": "integer", "description": "order of selection"},
                "money_left": {"type": ["integer", "string"],
                               "description": "cents left when the project was decided"},
            },
        }},
        "comparison": {"type": "object"},
        "turnout": {"type": "object"},
        "excluded": {"type": "array", "items": {"type": "integer"}},
    },
}
SCHEMAS["Receipts"] = {
    "type": "object",
    "required": ["round", "publication", "hash", "receipts"],
    "properties": {
        "round": {"type": "integer"},
        "publication": {"type": "integer"},
        "hash": {"type": "string"},
        "receipts": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
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
ROUND_ID = {"name": "round_id", "in": "path", "required": True, "schema": {"type": "integer"}}
PUBLICATION_NUMBER = {"name": "number", "in": "path", "required": True,
                      "schema": {"type": "integer", "minimum": 1},
                      "description": "publication number (1 for the first)"}


def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document for /api/v1."""
    document = {
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
            "/rounds/{round_id}/results": {
                "get": {
                    "operationId": "getRoundResults",
                    "summary": "The published results with every project's reason",
                    "parameters": [ROUND_ID],
                    "responses": {"200": _json("Results", "The results in force"),
                                  "404": NOT_FOUND},
                }
            },
            "/rounds/{round_id}/ballots.pb": {
                "get": {
                    "operationId": "getRoundBallots",
                    "summary": "The anonymized ballots in Pabulib format (random voter ids, "
                               "shuffled; withheld below a minimum number of ballots)",
                    "parameters": [ROUND_ID],
                    "responses": {
                        "200": {"description": "A Pabulib .pb file",
                                "content": {"text/plain": {"schema": {"type": "string"}}}},
                        "403": _json("Error", "Withheld: too few ballots"),
                        "404": NOT_FOUND,
                    },
                }
            },
            "/rounds/{round_id}/results.csv": {
                "get": {
                    "operationId": "getRoundResultsCsv",
                    "summary": "The results as CSV, one line per project",
                    "description": "Columns: project_id, title, cost_cents, support, "
                                   "supporters, funded (1 or 0), position, reason, phase "
                                   "and money_left_cents, as in the JSON's projects.",
                    "parameters": [ROUND_ID],
                    "responses": {
                        "200": {"description": "CSV",
                                "content": {"text/csv": {"schema": {"type": "string"}}}},
                        "404": NOT_FOUND,
                    },
                }
            },
            "/rounds/{round_id}/receipts": {
                "get": {
                    "operationId": "getRoundReceipts",
                    "summary": "SHA-256 hashes of the counted ballots' receipt codes, shuffled",
                    "parameters": [ROUND_ID],
                    "responses": {"200": _json("Receipts", "The receipt hashes"),
                                  "404": NOT_FOUND},
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
    paths = document["paths"]
    for name in ("results", "ballots.pb", "results.csv", "receipts"):
        operation = copy.deepcopy(paths[f"/rounds/{{round_id}}/{name}"]["get"])
        operation["operationId"] += "ByNumber"
        operation["summary"] += " (one publication by its number: it never changes)"
        operation["parameters"] = [ROUND_ID, PUBLICATION_NUMBER]
        paths[f"/rounds/{{round_id}}/publications/{{number}}/{name}"] = {"get": operation}
    return document
