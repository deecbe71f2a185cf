"""The city's provider's claims for staff: which address counts, which account it leads
to (an existing staff one only), and when the provider's login was multi-factor."""

import pytest

from pb_vote.extensions import db
from pb_vote.models import User
from pb_vote.services import staff_identity
from pb_vote.services.identity import IdentityError
from tests import factories


@pytest.mark.parametrize(("claims", "email_claim", "expected"), [
    ({"email": " Kaisa.Koski@Lahti.example ", "email_verified": True}, "email",
     "kaisa.koski@lahti.example"),
    ({"email": "kaisa@lahti.example", "email_verified": "true"}, "email",
     "kaisa@lahti.example"),
    ({"preferred_username": "Ulla@Lahti.example"}, "preferred_username",
     "ulla@lahti.example"),
    ({"upn": "ulla@lahti.example", "email": "other@example.org"}, "upn",
     "ulla@lahti.example"),
])
def test_the_address_the_provider_vouches_for(claims, email_claim, expected):
    assert staff_identity.work_email(claims, email_claim) == expected


@pytest.mark.parametrize(("claims", "email_claim"), [
    ({"email": "kaisa@lahti.example"}, "email"),  # not said to be verified
    ({"email": "kaisa@lahti.example", "email_verified": False}, "email"),
    ({"email": "kaisa@lahti.example", "email_verified": "false"}, "email"),
    ({"email_verified": True}, "email"),
    ({"preferred_username": "kaisa"}, "preferred_username"),  # not an address
    ({"email": "kaisa@lahti.example", "email_verified": True}, "upn"),  # upn missing
])
def test_no_confirmed_address_is_refused(claims, email_claim):
    with pytest.raises(IdentityError) as refused:
        staff_identity.work_email(claims, email_claim)
    assert refused.value.code == "staff_email_unverified"


def test_only_an_existing_staff_account_is_found(app_ctx):
    directory = factories.city_directory()
    assert staff_identity.staff_account("kaisa.koski@lahti.example") is directory.coordinator
    before = db.session.query(User).count()
    for email in ("bertil@example.org", "nobody@lahti.example"):
        with pytest.raises(IdentityError) as refused:
            staff_identity.staff_account(email)
        assert refused.value.code == "staff_account_missing"
        assert refused.value.details == {"email": email}
    assert db.session.query(User).count() == before


@pytest.mark.parametrize(("claims", "acr_values", "expected"), [
    ({"amr": ["pwd", "mfa"]}, (), True),
    ({"amr": "mfa"}, (), True),
    ({"amr": ["pwd"]}, (), False),
    ({}, (), False),
    ({"acr": "urn:city:mfa"}, ("urn:city:mfa",), True),
    ({"acr": "urn:city:mfa"}, (), False),
    ({"acr": "urn:city:pwd", "amr": ["pwd"]}, ("urn:city:mfa",), False),
])
def test_a_multi_factor_login_is_what_amr_or_acr_says(claims, acr_values, expected):
    assert staff_identity.mfa_from_claims(claims, acr_values) is expected
