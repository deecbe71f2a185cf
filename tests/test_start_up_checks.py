"""What create_app refuses to start with outside development: the published development
secrets (whatever debug or testing switch is set), debug mode, and no public address or a
trusted-host list that would not protect it (issue 13)."""

import pytest

from pb_vote import create_app
from pb_vote.config import DEFAULT_SECOND_FACTOR_KEY, ConfigurationError
from tests.conftest import base_test_config

# The suite's own secrets and keys (whichever it has), so only what a test changes is wrong.
SECRETS = {key: value for key, value in base_test_config("sqlite://").items()
           if key in ("SECRET_KEY", "BALLOT_SECRET", "BALLOT_KEYS", "SECOND_FACTOR_KEYS")}
PUBLIC = {"PUBLIC_BASE_URL": "https://pb.example.fi"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    for name in ("PB_VOTE_ENV_NAME", "PB_VOTE_SECRET_KEY", "PB_VOTE_BALLOT_SECRET",
                 "PB_VOTE_PUBLIC_BASE_URL", "PB_VOTE_TRUSTED_HOSTS", "PB_VOTE_DEBUG",
                 "PB_VOTE_TESTING", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PB_VOTE_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    monkeypatch.setenv("PB_VOTE_INSTANCE_PATH", str(tmp_path))


@pytest.mark.parametrize("switch", ["FLASK_DEBUG", "PB_VOTE_DEBUG", "PB_VOTE_TESTING"])
def test_no_switch_skips_the_default_secret_guard(monkeypatch, switch):
    monkeypatch.setenv(switch, "1")
    with pytest.raises(ConfigurationError, match="PB_VOTE_SECRET_KEY"):
        create_app(PUBLIC)


def test_testing_with_its_own_secrets_starts():
    assert create_app({"TESTING": True, **SECRETS, **PUBLIC}).testing


@pytest.mark.parametrize("switch", ["FLASK_DEBUG", "PB_VOTE_DEBUG"])
def test_debug_mode_is_refused_outside_development(monkeypatch, switch):
    monkeypatch.setenv(switch, "1")
    with pytest.raises(ConfigurationError, match="Debug mode"):
        create_app({**SECRETS, **PUBLIC})


def test_development_may_use_the_default_secrets_debug_and_no_public_address(monkeypatch):
    monkeypatch.setenv("PB_VOTE_ENV_NAME", "development")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    app = create_app()
    assert app.debug and app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]


def test_the_public_address_is_required_outside_development():
    with pytest.raises(ConfigurationError, match="PB_VOTE_PUBLIC_BASE_URL"):
        create_app(SECRETS)


@pytest.mark.parametrize("address", ["pb.example.fi", "ftp://pb.example.fi", "https://",
                                     "https://pb.example.fi/?a=1", "https://u:p@pb.example.fi",
                                     "https://pb.example.fi/#top"])
def test_a_public_address_that_is_not_one_is_refused(address):
    with pytest.raises(ConfigurationError, match="must be like"):
        create_app({**SECRETS, "PUBLIC_BASE_URL": address})


def test_only_the_public_host_is_trusted_by_default(monkeypatch):
    monkeypatch.setenv("PB_VOTE_PUBLIC_BASE_URL", "https://pb.example.fi:8443/pb/")
    app = create_app(SECRETS)
    assert app.config["PUBLIC_BASE_URL"] == "https://pb.example.fi:8443/pb"
    assert app.config["TRUSTED_HOSTS"] == ["pb.example.fi"]


def test_trusted_hosts_may_be_listed_with_commas_and_must_include_the_public_host(
        monkeypatch):
    monkeypatch.setenv("PB_VOTE_TRUSTED_HOSTS", "pb.example.fi, .lahti.fi")
    app = create_app({**SECRETS, **PUBLIC})
    assert app.config["TRUSTED_HOSTS"] == ["pb.example.fi", ".lahti.fi"]
    monkeypatch.setenv("PB_VOTE_TRUSTED_HOSTS", "other.example.fi")
    with pytest.raises(ConfigurationError, match=r"must include pb\.example\.fi"):
        create_app({**SECRETS, **PUBLIC})


def test_an_empty_trusted_host_list_is_refused():
    # Werkzeug reads an empty list as "trust every host".
    with pytest.raises(ConfigurationError, match="lists no host"):
        create_app({**SECRETS, **PUBLIC, "TRUSTED_HOSTS": []})


@pytest.mark.parametrize("language", ["en", "de", "", None])
def test_the_city_main_language_is_finnish_or_swedish(language):
    with pytest.raises(ConfigurationError, match="PB_VOTE_CITY_MAIN_LANGUAGE must be fi or sv"):
        create_app({"TESTING": True, **SECRETS, **PUBLIC, "CITY_MAIN_LANGUAGE": language})
    assert create_app({"TESTING": True, **SECRETS, **PUBLIC,
                       "CITY_MAIN_LANGUAGE": "sv"}).config["CITY_MAIN_LANGUAGE"] == "sv"


def test_the_published_second_factor_key_is_refused_outside_development():
    published = {**SECRETS, **PUBLIC, "SECOND_FACTOR_KEYS": [DEFAULT_SECOND_FACTOR_KEY]}
    with pytest.raises(ConfigurationError, match="PB_VOTE_SECOND_FACTOR_KEYS"):
        create_app(published)
    # With the second factor off nothing is sealed, so the key does not matter.
    assert create_app({**published, "STAFF_SECOND_FACTOR": "off"})


@pytest.mark.parametrize("keys", ["", "not base64!", "c2hvcnQ="])
def test_malformed_second_factor_keys_are_refused(keys):
    with pytest.raises(ConfigurationError, match="second-factor key"):
        create_app({**SECRETS, **PUBLIC, "SECOND_FACTOR_KEYS": keys})


def test_an_unknown_second_factor_mode_is_refused():
    with pytest.raises(ConfigurationError, match="PB_VOTE_STAFF_SECOND_FACTOR"):
        create_app({**SECRETS, **PUBLIC, "STAFF_SECOND_FACTOR": "sometimes"})


def test_production_requires_the_second_factor_by_default():
    assert create_app({**SECRETS, **PUBLIC}).config["STAFF_SECOND_FACTOR"] == "required"


def test_a_staff_provider_needs_its_issuer_and_client():
    staff = {"issuer": "https://login.example.fi/tenant/v2.0", "client_id": "pb",
             "client_secret": "s"}
    assert create_app({**SECRETS, **PUBLIC, "STAFF_IDENTITY_PROVIDER": staff})
    for missing in ("issuer", "client_id", "client_secret"):
        with pytest.raises(ConfigurationError, match=f"staff identity provider lacks {missing}"):
            create_app({**SECRETS, **PUBLIC, "STAFF_IDENTITY_PROVIDER": {
                key: value for key, value in staff.items() if key != missing}})
    with pytest.raises(ConfigurationError, match="mfa_acr_values a list"):
        create_app({**SECRETS, **PUBLIC,
                    "STAFF_IDENTITY_PROVIDER": {**staff, "mfa_acr_values": "urn:mfa"}})
