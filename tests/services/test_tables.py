"""Setting tables up: create, change (the area fixed while a round is in voting, the schedule
caught up first), retire and delete, each audited with what changed."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import AuditEvent, RoundPhase, Table
from pb_vote.services import rounds, voting
from pb_vote.services.tables import (
    TableDetails,
    TableError,
    create_table,
    delete_table,
    reinstate_table,
    retire_table,
    update_table,
)
from tests import factories


def _details(**overrides) -> TableDetails:
    values = {"slug": "ita", "name": "Itä", "description": "Idän alue.", "main_language": "fi",
              "area": {"15500": 3000, "15510": None}, "eligible_residents": 5000}
    values.update(overrides)
    return TableDetails(**values)


def _last_event() -> AuditEvent:
    return db.session.execute(select(AuditEvent).order_by(AuditEvent.id.desc())).scalars().first()


def test_create_records_everything_it_was_given(app_ctx):
    admin = factories.user("admin@example.org", city_admin=True)
    table = create_table(admin, _details())
    assert table.postal_codes == ["15500", "15510"] and table.eligible_residents == 5000
    event = _last_event()
    assert (event.action, event.actor_role) == ("table.created", "city_admin")
    assert event.details["by_postal_code"] == {"15500": [None, 3000]}


@pytest.mark.parametrize(("overrides", "code"), [
    ({"slug": "Itä"}, "slug_invalid"),
    ({"slug": "a--b"}, "slug_invalid"),
    ({"name": "  "}, "name_required"),
    ({"main_language": "en"}, "unknown_language"),
    ({"area": {"1550": None}}, "postal_code_invalid"),
    ({"area": {"15100": None}}, "postal_code_taken"),
    ({"eligible_residents": 0}, "eligible_out_of_range"),
])
def test_create_refuses_what_no_table_may_have(app_ctx, overrides, code):
    admin = factories.city().admin
    with pytest.raises(TableError) as refused:
        create_table(admin, _details(**overrides))
    assert refused.value.code == code
    if code == "postal_code_taken":
        assert refused.value.details["table"].slug == "keskusta"


def test_a_change_is_audited_field_by_field(app_ctx):
    town = factories.city()
    changed = update_table(town.admin, town.other, _details(
        slug="pohjoinen", name="Pohjoinen", area={"15200": 800, "15210": None},
        eligible_residents=None), clock.utcnow())
    assert changed["fields"]["name"] == ["Pohjoinen – North", "Pohjoinen"]
    assert changed["fields"]["description"][1] == "Idän alue."
    assert changed["postal_codes_added"] == ["15210"]
    assert changed["by_postal_code"] == {"15200": [None, 800]}
    assert _last_event().details == changed
    # Saving the same again changes nothing, and records nothing.
    before = _last_event().id
    assert update_table(town.admin, town.other, _details(
        slug="pohjoinen", name="Pohjoinen", area={"15200": 800, "15210": None},
        eligible_residents=None), clock.utcnow()) == {}
    assert _last_event().id == before


def test_translations_survive_a_change_of_the_main_text(app_ctx):
    town = factories.city()
    town.other.set_texts("name", {"fi": "Pohjoinen", "sv": "Norr"})
    update_table(town.admin, town.other, _details(slug="pohjoinen", name="Pohjoinen uusi",
                                                  area={"15200": None}), clock.utcnow())
    assert town.other.texts("name") == {"fi": "Pohjoinen uusi", "sv": "Norr"}


def test_the_area_is_fixed_until_the_schedule_closes_voting(app_ctx, frozen_clock):
    scenario = factories.voting_round()
    town_admin = factories.user("boss@example.org", city_admin=True)
    table = scenario.table
    with pytest.raises(TableError) as refused:
        update_table(town_admin, table, _details(slug=table.slug, name=table.name,
                                                 area={"15100": None, "15120": None}),
                     clock.utcnow())
    assert refused.value.code == "area_fixed_in_voting"
    assert refused.value.details["round"] is scenario.round
    # Once voting has closed by the schedule, the area may change.
    frozen_clock.set(scenario.round.voting_close_at + timedelta(seconds=1))
    changed = update_table(town_admin, table, _details(
        slug=table.slug, name=table.name, area={"15100": None, "15120": None}),
        clock.utcnow())
    assert scenario.round.phase is RoundPhase.CLOSED
    assert changed["postal_codes_added"] == ["15120"]


def test_a_resident_who_voted_keeps_their_table_while_voting_is_open(app_ctx):
    """README's rule: a voter's postal code cannot leave the area of an open round they
    voted in; the area cannot leave the voter either."""
    scenario = factories.voting_round(ballots=1)
    voter = scenario.voters[0]
    admin = factories.user("boss@example.org", city_admin=True)
    with pytest.raises(TableError):
        update_table(admin, scenario.table, _details(slug="keskusta", name="K", area={}),
                     clock.utcnow())
    assert voting.open_round_left_by_moving(voter, voter.postal_code, clock.utcnow()) is None


def test_retire_waits_for_every_round_to_end_and_reinstate_undoes_it(app_ctx):
    scenario = factories.closed_round()
    admin = factories.user("boss@example.org", city_admin=True)
    with pytest.raises(TableError) as refused:
        retire_table(admin, scenario.table)
    assert refused.value.code == "round_not_finished"
    rounds.transition(admin, scenario.round, RoundPhase.CANCELLED)
    retire_table(admin, scenario.table)
    assert scenario.table.is_retired and _last_event().action == "table.retired"
    with pytest.raises(rounds.RoundError, match="table_retired"):
        rounds.create_round(admin, scenario.table, None)
    reinstate_table(admin, scenario.table)
    assert not scenario.table.is_retired and _last_event().action == "table.reinstated"


def test_delete_only_a_table_without_rounds(app_ctx):
    town = factories.city()
    factories.round_(town.own)
    with pytest.raises(TableError, match="table_has_rounds"):
        delete_table(town.admin, town.own)
    other_id = town.other.id
    delete_table(town.admin, town.other)
    assert db.session.get(Table, other_id) is None
    assert _last_event().details["postal_codes"] == ["15200"]


def test_a_new_main_language_keeps_the_old_text_as_a_translation(app_ctx):
    town = factories.city()
    town.other.set_texts("name", {"fi": "Pohjoinen", "sv": "Norr"})
    update_table(town.admin, town.other, _details(slug="pohjoinen", name="Norra", area={
        "15200": None}, main_language="sv", description=""), clock.utcnow())
    assert town.other.main_language == "sv" and town.other.name == "Norra"
    assert town.other.texts("name") == {"sv": "Norra", "fi": "Pohjoinen"}
