"""The identity service: pseudonyms, what is taken from a provider's claims, one account per
person, and the minimum age by month of birth."""

from datetime import UTC, datetime

import pytest
from flask import current_app

from pb_vote.extensions import db
from pb_vote.models import MembershipRole, Round
from pb_vote.services import identity, voting
from tests import factories

SECRET = "a-person-secret-that-is-long-enough-0123456789"


def test_a_pseudonym_is_keyed_and_ignores_case_and_spaces():
    one = identity.person_pseudonym(SECRET, "150380-901N")
    assert one == identity.person_pseudonym(SECRET, " 150380-901n ")
    assert one != identity.person_pseudonym(SECRET + "x", "150380-901N")
    assert "150380" not in one and len(one) == 64


def test_only_what_eligibility_needs_is_taken_from_the_claims():
    person = identity.person_from_claims(
        SECRET, {"hetu": "150380-901N", "given_name": "Aino", "birthdate": "1980-03-15",
                 "address": {"postal_code": "15100", "street_address": "Katu 1"}},
        person_claim="hetu", postal_code_claim="address.postal_code",
        birthdate_claim="birthdate")
    assert person == identity.IdentifiedPerson(
        identity.person_pseudonym(SECRET, "150380-901N"), "15100", "1980-03")
    odd = identity.person_from_claims(
        SECRET, {"hetu": "x", "address": "not an object", "birthdate": "someday"},
        person_claim="hetu", postal_code_claim="address.postal_code",
        birthdate_claim="birthdate")
    assert (odd.postal_code, odd.birth_month) == (None, None)
    with pytest.raises(identity.IdentityError) as refused:
        identity.person_from_claims(SECRET, {"sub": "1"}, person_claim="hetu")
    assert refused.value.code == "identity_incomplete"


def _person(name: str, postal_code: str | None = "15100") -> identity.IdentifiedPerson:
    return identity.IdentifiedPerson(
        identity.person_pseudonym(current_app.config["PERSON_SECRET"], name), postal_code,
        "1990-01")


def test_one_account_per_person_and_an_email_resident_becomes_theirs(app_ctx):
    resident = factories.user("aino@example.org", postal_code="15140")
    user, created = identity.sign_in_identified(_person("aino"), "fi", resident)
    assert (user, created) == (resident, False)
    assert (user.verified_postal_code, user.home_postal_code) == ("15100", "15100")
    again, created = identity.sign_in_identified(_person("aino"), "fi")
    assert (again, created) == (resident, False)
    other, created = identity.sign_in_identified(_person("bertil"), "sv", resident)
    assert created and other.email is None and other.language == "sv"


def test_staff_do_not_sign_in_by_identification(app_ctx):
    table = factories.table()
    staff = factories.user("member@example.org", role=MembershipRole.MEMBER, at=table)
    staff.person_pseudonym = _person("mikael").pseudonym
    db.session.flush()
    with pytest.raises(identity.IdentityError) as refused:
        identity.sign_in_identified(_person("mikael"), "fi")
    assert refused.value.code == "staff_identified"


def test_a_verified_move_out_of_an_open_round_voted_in_waits(app_ctx):
    built = factories.identified_round()
    person = factories.identified_user("aino")
    from pb_vote.services.ballot_box import VoteKeys

    voting.cast_ballot(VoteKeys.from_config(current_app.config), built.round_id,
                       voting.Voter(user_id=person.id, person=person.person_pseudonym),
                       voting.VoteChannel.ONLINE, {built.scenario.proposal_ids[0]: 1})
    moved = identity.IdentifiedPerson(person.person_pseudonym, "15200", "1980-03")
    identity.sign_in_identified(moved, "fi")
    assert person.verified_postal_code == "15100"


@pytest.mark.parametrize(("born", "closes", "allowed"), [
    ("2010-05", datetime(2026, 5, 31, 12, tzinfo=UTC), True),
    ("2010-05", datetime(2026, 5, 30, 12, tzinfo=UTC), False),
    ("2010-12", datetime(2026, 12, 31, 12, tzinfo=UTC), True),
    ("2010-12", datetime(2026, 12, 30, 12, tzinfo=UTC), False),
    (None, datetime(2026, 12, 30, 12, tzinfo=UTC), False),
])
def test_the_minimum_age_counts_a_birthday_as_the_end_of_its_month(app_ctx, born, closes,
                                                                    allowed):
    round_ = Round(min_voter_age=16, voting_close_at=closes, time_zone="Europe/Helsinki")
    person = factories.identified_user("aino", birth_month=born)
    assert voting.identity_age_allows(person, round_) is allowed
