"""Setting up tables against the running service (gunicorn, several workers, SQLite and
PostgreSQL), with parallel requests: two admins giving one postal code to two tables at
once leave it in one area, the other told which table holds it; an area change racing a
round's opening of voting is either made before voting opens or refused; never a 5xx."""

import re

from tests import factories
from tests.attack.test_races import at_once, prepared, staff

TRIALS = 4


def seed(scenario: dict) -> None:
    factories.user("admin@example.org", postal_code=None, city_admin=True)
    factories.user("other.admin@example.org", postal_code=None, city_admin=True)
    coordinator = None
    scenario["racing"] = []
    for n in range(TRIALS):
        table = factories.table(f"race-{n}", f"Race {n}", postal_codes=(f"16{n}00",))
        if coordinator is None:
            coordinator = factories.user("coordinator@example.org", postal_code=None,
                                         role="coordinator", at=table)
        else:
            coordinator.memberships.append(factories.TableMembership(
                table=table, role=factories.MembershipRole.COORDINATOR))
        round_ = factories.round_(table, factories.RoundPhase.REVIEW, title=f"Race {n} 2027")
        factories.proposal(round_, title=f"Idea {n}", status=factories.ProposalStatus.ACCEPTED)
        scenario["racing"].append({"n": n, "table": table.id, "round": round_.id,
                                   "code": f"16{n}00"})


def _table_fields(name: str, slug: str, area: str) -> list:
    return [("name", name), ("slug", slug), ("description", ""), ("main_language", "fi"),
            ("area", area), ("eligible_residents", "")]


def test_one_postal_code_given_to_two_new_tables_at_once_lands_in_one(service):
    first, second = staff(service, "admin@example.org"), staff(service, "other.admin@example.org")
    for n in range(TRIALS):
        code = f"17{n}00"
        answers = at_once(
            prepared(first, "/admin/tables/new", _table_fields(f"A {n}", f"a-{n}", code)),
            prepared(second, "/admin/tables/new", _table_fields(f"B {n}", f"b-{n}", code)))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [303, 400], statuses
        refused = next(answer for answer in answers if answer.status_code == 400)
        assert re.search(rf"The postal code {code} is already in the area of [AB] {n}\.",
                         refused.text)
        rows = service.sql("SELECT count(*) FROM table_postal_codes WHERE postal_code = :c",
                           c=code)
        assert rows[0][0] == 1
    assert service.server_errors() == []


def test_an_area_change_racing_the_opening_of_voting_is_made_first_or_refused(service):
    admin, coordinator = staff(service, "admin@example.org"), staff(service)
    for racing in service.scenario["racing"]:
        n, table, round_id, code = (racing[key] for key in ("n", "table", "round", "code"))
        new_code = code[:-1] + "9"
        change = prepared(admin, f"/admin/tables/{table}", _table_fields(
            f"Race {n}", f"race-{n}", f"{code}\n{new_code}"))
        open_voting = prepared(coordinator, f"/manage/rounds/{round_id}/phase",
                               [("target", "voting"), ("confirm", "y")])
        changed, opened = at_once(change, open_voting)
        assert opened.status_code == 303, opened.status_code
        area = {row[0] for row in service.sql(
            "SELECT postal_code FROM table_postal_codes WHERE table_id = :t", t=table)}
        if changed.status_code == 303:  # made before voting opened, so the voters see it
            assert area == {code, new_code}
            events = [row[0] for row in service.sql(
                "SELECT action FROM audit_events WHERE table_id = :t AND action IN "
                "('table.changed', 'round.phase_changed') ORDER BY id", t=table)]
            assert events == ["table.changed", "round.phase_changed"]
        else:
            assert changed.status_code == 400, changed.status_code
            assert "The area cannot change while" in changed.text
            assert area == {code}
    assert service.server_errors() == []
