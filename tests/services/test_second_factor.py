"""The second factor's service: who it concerns, the sealed secret, codes once."""

import pytest
from flask import current_app
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, SecondFactor
from pb_vote.services import second_factor
from pb_vote.services.ballot_box import new_key, parse_keys
from tests import factories


@pytest.mark.parametrize(("mode", "members_too", "asked"), [
    ("required", False, {"admin", "coordinator"}),
    ("required", True, {"admin", "coordinator", "member"}),
    ("optional", False, set()),
    ("off", True, set()),
])
def test_who_must_give_a_second_factor(app_ctx, mode, members_too, asked):
    city = factories.city()
    policy = second_factor.Policy(mode, members_too)
    people = {"admin": city.admin, "coordinator": city.coordinator, "member": city.member,
              "resident": city.resident}
    assert {name for name, person in people.items() if policy.required_for(person)} == asked
    assert {name for name, person in people.items() if policy.applies_to(person)} == asked


def test_an_enrolled_member_is_asked_unless_the_second_factor_is_off(app_ctx):
    city = factories.city()
    factories.enrolled(city.member)
    assert second_factor.Policy("optional").applies_to(city.member)
    assert not second_factor.Policy("off").applies_to(city.member)


def test_the_secret_is_sealed_for_its_user_and_opens_after_a_key_rotation(app_ctx):
    old = second_factor.SecretKeys(tuple(parse_keys([new_key()])))
    sealed = old.seal(7, "JBSWY3DPEHPK3PXP")
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert old.open(7, sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(second_factor.SecondFactorKeyError):
        old.open(8, sealed)  # moved to another person's row, it does not open
    rotated = second_factor.SecretKeys((parse_keys([new_key()])[0], *old.keys))
    assert rotated.open(7, sealed) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(second_factor.SecondFactorKeyError):
        second_factor.SecretKeys(tuple(parse_keys([new_key()]))).open(7, sealed)


def test_a_code_works_once_and_none_of_an_earlier_step_after_it(app_ctx, frozen_clock):
    city = factories.city()
    enrolment = factories.enrolled(city.coordinator)
    keys = second_factor.SecretKeys.from_config(current_app.config)

    def check(code):
        attempt = second_factor.admit_attempt(city.coordinator, 100)
        return second_factor.check_code(city.coordinator, keys, code, attempt)

    now, earlier = enrolment.code(), enrolment.code(steps=-1)
    assert check(now)
    assert not check(now)
    assert not check(earlier)  # still in the window, but before the step used
    frozen_clock.advance(seconds=30)
    assert check(enrolment.code())
    assert db.session.get(SecondFactor, city.coordinator.id).last_used_step is not None


def test_the_command_line_resets_a_lone_admins_second_factor(app, runner, mailbox):
    with app.app_context():
        city = factories.city()
        admin_id = factories.enrolled(city.admin).user_id
        db.session.commit()
    refused = runner.invoke(args=["reset-second-factor", "resident@example.org",
                                  "--reason", "x"])
    assert refused.exit_code != 0 and "no staff account" in refused.output
    done = runner.invoke(args=["reset-second-factor", "admin@example.org",
                               "--reason", "Lost phone and codes; the only admin."])
    assert done.exit_code == 0, done.output
    with app.app_context():
        assert db.session.get(SecondFactor, admin_id) is None
        [event] = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "second_factor.reset")).scalars()
        assert event.actor_id is None and event.actor_role == "system"
        assert event.details == {"reason": "Lost phone and codes; the only admin."}
    assert mailbox[-1].to == "admin@example.org"
