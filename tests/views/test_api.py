"""The JSON API serves exactly what its OpenAPI document describes; drafts never appear."""

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from pb_vote.extensions import db
from pb_vote.models import RoundPhase
from tests import factories


@pytest.fixture
def published_data(app):
    with app.app_context():
        own = factories.table("keskusta", name="Keskusta – Centre", postal_codes=["15100", "15110"])
        factories.table("pohjoinen", name="Pohjoinen – North")
        voting = factories.round_(own, RoundPhase.VOTING, title="Keskusta 2027")
        draft = factories.round_(own, RoundPhase.DRAFT, title="Secret 2028")
        db.session.commit()
        return {"voting": voting.id, "draft": draft.id}


def _validator(client, schema_name):
    document = client.get("/api/v1/openapi.json").get_json()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:openapi", resource)
    schema = {"$ref": f"urn:openapi#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_tables_lists_every_table(client, published_data):
    body = client.get("/api/v1/tables").get_json()
    assert [t["slug"] for t in body["tables"]] == ["keskusta", "pohjoinen"]
    _validator(client, "TableList").validate(body)


def test_table_has_its_public_rounds_only(client, published_data):
    body = client.get("/api/v1/tables/keskusta").get_json()
    assert body["postal_codes"] == ["15100", "15110"]
    assert [r["id"] for r in body["rounds"]] == [published_data["voting"]]
    assert body["rounds"][0]["phase"] == "voting"
    assert body["rounds"][0]["budget_cents"] == 10_000_000
    _validator(client, "Table").validate(body)


def test_round_detail_and_drafts_are_404(client, published_data):
    body = client.get(f"/api/v1/rounds/{published_data['voting']}").get_json()
    assert body["title"] == "Keskusta 2027"
    assert body["voting_open_at"].endswith("+00:00")
    _validator(client, "Round").validate(body)
    missing = client.get(f"/api/v1/rounds/{published_data['draft']}")
    assert missing.status_code == 404
    _validator(client, "Error").validate(missing.get_json())
    assert client.get("/api/v1/tables/nowhere").status_code == 404


def test_openapi_describes_exactly_the_served_routes(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    jsonschema.Draft202012Validator.check_schema(document["components"]["schemas"]["Round"])
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", f"{{{argument}}}").replace(
                f"<{argument}>", f"{{{argument}}}"
            )
        served |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served


def test_api_is_open_data(client, published_data):
    assert client.get("/api/v1/tables").headers["Access-Control-Allow-Origin"] == "*"
