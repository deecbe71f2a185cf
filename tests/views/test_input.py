"""Input the service must answer clearly, never with a 500 (issue 13, section 4): one-line
fields, NUL characters, ids beyond a column's range, formula cells in CSV exports; and the
answers' headers: HSTS, no-store on personal pages, Allow on 405."""

import csv
import importlib
import io
import pkgutil

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger, Integer, select
from werkzeug.routing import IntegerConverter
from wtforms import HiddenField, PasswordField, StringField, TextAreaField

import pb_vote.blueprints
from pb_vote.blueprints.fields import MoneyField, single_line
from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Proposal, ProposalStatus, RoundPhase
from pb_vote.web import MAX_ID, IdConverter
from tests import factories, pages

ONE_LINE = "Write this on one line, without line breaks or tabs."
FORMULAS = ["=HYPERLINK(\"https://attacker.example\",\"Click\")", "+1+1", "-2+3", "@SUM(1)",
            "\t=1", "\r=1"]


@pytest.fixture
def scene(app):
    with app.app_context():
        table = factories.table("keskusta")
        factories.user("coordinator@example.org", role=MembershipRole.COORDINATOR, at=table)
        resident = factories.user("resident@example.org")
        ideas = factories.round_(table, RoundPhase.PROPOSALS, categories=[])
        own = factories.proposal(ideas, author=resident, category=None)
        voting = factories.round_(table, RoundPhase.VOTING, title="Voting 2027",
                                  approval_min=1, approval_max=6)
        # Titles stored before titles were one line, or by staff: the export must cope.
        ballot = [factories.proposal(voting, title=title, status=ProposalStatus.ACCEPTED,
                                     cost_cents=100_000)
                  for title in FORMULAS]
        db.session.commit()
        return {"ideas": ideas.id, "own": own.id, "voting": voting.id,
                "ballot": [p.id for p in ballot]}


# -- one-line fields ------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["Benches\r\nBcc: x@example.org", "Benches\nby the lake",
                                   "Benches\tby the lake", "Benches\u2028by the lake"])
def test_a_title_with_a_line_break_is_refused_with_a_clear_message(app, client, auth, scene,
                                                                   title):
    auth.resident("resident@example.org")
    response = client.post(f"/rounds/{scene['ideas']}/propose", data={
        "title": title, "description": "Two lines\nare fine here.", "estimated_cost": "1000"})
    assert ONE_LINE in response.text  # the form again, the title's error beside it
    with app.app_context():
        titles = db.session.scalars(select(Proposal.title).where(
            Proposal.round_id == scene["ideas"])).all()
        assert titles == ["Benches by the lake"]  # the scene's own idea, nothing new


def test_the_account_name_is_one_line_too(client, auth, scene):
    auth.resident("resident@example.org")
    response = client.post("/account", data={"display_name": "Anna\r\nBcc: x@example.org",
                                             "language": "en", "postal_code": "15100"})
    assert ONE_LINE in response.text


def _forms():
    for module in pkgutil.walk_packages(pb_vote.blueprints.__path__, "pb_vote.blueprints."):
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, FlaskForm) and value is not FlaskForm:
                yield value


MULTI_LINE_OR_PARSED = (TextAreaField, PasswordField, HiddenField, MoneyField)


def test_every_one_line_text_field_of_every_form_has_the_one_line_rule():
    checked = []
    for form in set(_forms()):
        for name in dir(form):
            unbound = getattr(form, name)
            field_class = getattr(unbound, "field_class", None)
            if (field_class is None or not issubclass(field_class, StringField)
                    or issubclass(field_class, MULTI_LINE_OR_PARSED)):
                continue
            validators = unbound.kwargs.get("validators") or (
                unbound.args[1] if len(unbound.args) > 1 else [])
            assert single_line in validators, f"{form.__name__}.{name}"
            checked.append(f"{form.__name__}.{name}")
    assert "ProposalForm.title" in checked and "EmailLinkForm.email" in checked


def test_a_next_address_with_a_line_break_is_not_followed(client, scene):
    response = client.post("/language", data={"language": "en",
                                              "next": "/rounds\r\nSet-Cookie: a=b"})
    assert response.status_code == 303 and response.headers["Location"] == "/"


# -- NUL characters and ids beyond range ----------------------------------------------------

@pytest.mark.parametrize("path", ["/tables/keskusta%00", "/tables/%00", "/rounds/1%00",
                                  "/?q=a&q=b%00", "/?a%00=b"])
def test_a_nul_anywhere_in_the_address_is_400(client, scene, path):
    response = client.get(path)
    assert response.status_code == 400 and "could not be understood" in response.text


def test_a_nul_in_a_form_name_is_400(client, auth, scene):
    auth.resident("resident@example.org")
    response = client.post("/account", data={"display_name": "Anna", "language": "en",
                                             "x\x00": "y"})
    assert response.status_code == 400


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 10**30])
@pytest.mark.parametrize("template", [
    "/rounds/{}", "/proposals/{}", "/rounds/{}/results", "/rounds/{}/results/{}",
    "/rounds/{}/vote", "/api/v1/rounds/{}", "/api/v1/rounds/{}/results.csv",
])
def test_ids_beyond_any_columns_range_are_404(client, scene, template, number):
    assert client.get(template.format(number, number)).status_code == 404


def test_the_largest_id_is_looked_up_and_not_found(client, scene):
    assert client.get(f"/rounds/{MAX_ID}").status_code == 404
    assert client.get(f"/api/v1/rounds/{MAX_ID}").status_code == 404


def test_every_integer_in_a_route_is_bounded_and_every_id_column_holds_the_bound(app):
    bounded = [converter for rule in app.url_map.iter_rules()
               for converter in rule._converters.values()
               if isinstance(converter, IntegerConverter)]
    assert bounded and all(isinstance(c, IdConverter) and c.max == MAX_ID for c in bounded)
    for table in db.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer):
                # BigInteger would hold more: the bound would still be safe, only too tight.
                assert not isinstance(column.type, BigInteger), column


# -- CSV export -----------------------------------------------------------------------------

def test_the_results_csv_neutralizes_formulas(app, client, auth, scene, frozen_clock):
    round_id = scene["voting"]
    for number in range(3):
        email = f"voter{number}@example.org"
        with app.app_context():
            factories.user(email)
            db.session.commit()
        auth.resident(email)
        assert client.post(f"/rounds/{round_id}/vote",
                           data={"choice": [str(scene["ballot"][number])]}).status_code == 303
        auth.sign_out()
    frozen_clock.advance(days=20)  # voting closes by the schedule
    auth.staff("coordinator@example.org")
    published = pages.count_and_publish(client, round_id)
    assert published.status_code == 303
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/api/v1/rounds/{round_id}/results.csv").text, newline="")))
    assert sorted(row["title"] for row in rows) == sorted("'" + title for title in FORMULAS)
    assert all(row["cost_cents"] == "100000" for row in rows)  # numbers stay numbers


# -- headers --------------------------------------------------------------------------------

def test_hsts_outside_development(client, scene):
    for path in ("/", "/nowhere", "/api/v1/tables"):
        assert (client.get(path).headers["Strict-Transport-Security"]
                == "max-age=31536000; includeSubDomains")


def test_no_hsts_in_development(database_url):
    from pb_vote import create_app
    from tests.conftest import base_test_config

    app = create_app(base_test_config(database_url) | {"ENV_NAME": "development"})
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("put", "/sign-in", {"GET", "HEAD", "OPTIONS", "POST"}),
    ("post", "/", {"GET", "HEAD", "OPTIONS"}),
    ("delete", "/api/v1/tables", {"GET", "HEAD", "OPTIONS"}),
])
def test_405_answers_say_what_is_allowed(client, scene, method, path, allowed):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_pages_with_personal_data_are_not_cached(app, client, auth, scene):
    client.post("/sign-in", data={"email": "resident@example.org"})
    for path in ("/sign-in", "/sign-in/sent", "/password/sent", "/staff/sign-in",
                 f"/rounds/{scene['voting']}/code"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    assert "Cache-Control" not in client.get("/").headers  # a public page, signed out
    auth.resident("resident@example.org")
    for path in ("/", f"/rounds/{scene['ideas']}", f"/proposals/{scene['own']}/edit",
                 "/account", "/my/proposals"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
