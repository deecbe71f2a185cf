"""Identity providers are configured by issuer, client and person claim; outside
development they need a PERSON_SECRET of their own."""

import pytest

from pb_vote.config import DEFAULT_PERSON_SECRET, ConfigurationError, check_identity_providers

PROVIDER = {"issuer": "https://id.example.fi", "client_id": "pb", "client_secret": "s",
            "person_claim": "hetu"}
SECRET = "a-person-secret-that-is-long-enough-0123456789"


def _settings(**more) -> dict:
    return {"ENV_NAME": "production", "SECRET_KEY": "k" * 40, "BALLOT_SECRET": "b" * 40,
            "IDENTITY_PROVIDERS": {"bank": PROVIDER}, "PERSON_SECRET": SECRET, **more}


def test_a_complete_provider_with_its_own_secret_passes():
    check_identity_providers(_settings())
    check_identity_providers(_settings(IDENTITY_PROVIDERS={}, PERSON_SECRET=None))


@pytest.mark.parametrize("missing", ["issuer", "client_id", "client_secret", "person_claim"])
def test_a_provider_lacking_a_setting_is_refused(missing):
    provider = {key: value for key, value in PROVIDER.items() if key != missing}
    with pytest.raises(ConfigurationError, match=missing):
        check_identity_providers(_settings(IDENTITY_PROVIDERS={"bank": provider}))


@pytest.mark.parametrize("secret", [DEFAULT_PERSON_SECRET, "short", "k" * 40, "b" * 40])
def test_the_person_secret_must_be_set_and_apart(secret):
    with pytest.raises(ConfigurationError, match="PERSON_SECRET"):
        check_identity_providers(_settings(PERSON_SECRET=secret))
    check_identity_providers(_settings(PERSON_SECRET=secret, ENV_NAME="development"))


def test_a_provider_name_must_fit_in_an_address():
    with pytest.raises(ConfigurationError, match="name"):
        check_identity_providers(_settings(IDENTITY_PROVIDERS={"bank/id": PROVIDER}))
