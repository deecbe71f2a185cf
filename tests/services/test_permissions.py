"""Who may do what: every role against its own table and another table."""

import pytest
from flask_login import AnonymousUserMixin

from pb_vote.models import RoundPhase
from pb_vote.services.permissions import Action, can_see_round, is_allowed
from tests import factories


@pytest.fixture
def world(app_ctx):
    """Two tables; a member and a coordinator of table A; a resident; a city admin."""
    town = factories.city()
    table_a, table_b = town.own, town.other
    people = {"resident": town.resident, "member": town.member,
              "coordinator": town.coordinator, "admin": town.admin}
    round_a = factories.round_(table_a)
    round_b = factories.round_(table_b)
    return {
        "people": people,
        "tables": {"own": table_a, "other": table_b},
        "rounds": {"own": round_a, "other": round_b},
        "proposals": {
            "own": factories.proposal(round_a, author=people["resident"]),
            "other": factories.proposal(round_b, author=people["member"]),
        },
    }


# Expected answers: (role, action, which table) -> allowed. Tables are "own" (the table of
# the member and the coordinator) and "other".
TABLE_ACTIONS = {
    Action.VIEW_STAFF_PAGES: {"resident": set(), "member": {"own"}, "coordinator": {"own"},
                              "admin": {"own", "other"}},
    Action.MANAGE_ROUNDS: {"resident": set(), "member": set(), "coordinator": {"own"},
                           "admin": {"own", "other"}},
    Action.MODERATE: {"resident": set(), "member": {"own"}, "coordinator": {"own"},
                      "admin": {"own", "other"}},
}


@pytest.mark.parametrize("action", list(TABLE_ACTIONS))
@pytest.mark.parametrize("role", ["resident", "member", "coordinator", "admin"])
@pytest.mark.parametrize("which", ["own", "other"])
@pytest.mark.parametrize("target_kind", ["tables", "rounds", "proposals"])
def test_table_actions(world, action, role, which, target_kind):
    target = world[target_kind][which]
    expected = which in TABLE_ACTIONS[action][role]
    assert is_allowed(world["people"][role], action, target) is expected


@pytest.mark.parametrize("role", ["resident", "member", "coordinator", "admin"])
def test_only_city_admins_administer(world, role):
    assert is_allowed(world["people"][role], Action.ADMINISTER) is (role == "admin")


@pytest.mark.parametrize("role", ["resident", "member", "coordinator", "admin"])
def test_the_dashboard_is_for_anyone_holding_a_staff_role(world, role):
    assert is_allowed(world["people"][role], Action.VIEW_DASHBOARD) is (role != "resident")


@pytest.mark.parametrize(
    ("role", "which", "expected"),
    [
        ("resident", "own", True),  # the resident wrote the proposal in table A
        ("resident", "other", False),
        ("member", "own", False),  # members moderate; they do not edit others' words
        ("member", "other", True),  # the member wrote this one
        ("coordinator", "own", False),
        ("admin", "own", True),
    ],
)
def test_people_edit_their_own_proposals(world, role, which, expected):
    proposal = world["proposals"][which]
    assert is_allowed(world["people"][role], Action.EDIT_PROPOSAL, proposal) is expected


@pytest.mark.parametrize("action", list(Action))
def test_nobody_signed_in_may_do_nothing(world, action):
    assert is_allowed(AnonymousUserMixin(), action, world["tables"]["own"]) is False
    assert is_allowed(None, action, world["tables"]["own"]) is False


@pytest.mark.parametrize(
    ("role", "own_draft", "other_draft"),
    [
        (None, False, False),
        ("resident", False, False),
        ("member", True, False),
        ("coordinator", True, False),
        ("admin", True, True),
    ],
)
def test_drafts_are_seen_only_by_their_tables_staff(world, role, own_draft, other_draft):
    world["rounds"]["own"].phase = RoundPhase.DRAFT
    world["rounds"]["other"].phase = RoundPhase.DRAFT
    user = world["people"][role] if role else None
    assert can_see_round(user, world["rounds"]["own"]) is own_draft
    assert can_see_round(user, world["rounds"]["other"]) is other_draft
    world["rounds"]["own"].phase = RoundPhase.VOTING
    assert can_see_round(user, world["rounds"]["own"]) is True
