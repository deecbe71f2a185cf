"""A real OpenID Provider for the tests: panva's certified ``oidc-provider`` (npm), run with
the machine's Node.js from tests/oidc_provider (installed there by `make` and .ci/run:
``npm ci --prefix tests/oidc_provider``). Tests that need it skip, saying why, when node or
the package is missing.

``local_providers`` starts two provider instances for the session ("bank" and "suomifi",
as a city might configure a bank-ID broker and Suomi.fi), each with its own keys and its
own ``sub`` for a person, and the same personal identity code: the same person. A test
tells one to misbehave with ``provider.misbehave(mode)``; every test starts with them
behaving. ``identify`` signs a test person in through the pages with the Flask test client,
the provider's own login page driven by ``requests``.
"""

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
INSTALL_HINT = "npm ci --prefix tests/oidc_provider (make and .ci/run do it)"
CLIENT_ID = "pb-vote"
CLIENT_SECRET = "pb-vote-test-secret"
PERSONS = ("aino", "bertil", "ella", "olli")  # see provider.js
STAFF = ("kaisa", "ulla")  # the city's directory: work addresses (provider.js)


def why_no_provider() -> str | None:
    """Why the local provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "OpenID Connect tests skipped: no node on PATH (apt-get install nodejs)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return f"OpenID Connect tests skipped: oidc-provider is not installed ({INSTALL_HINT})"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalProvider:
    """One running provider instance."""

    tag: str
    port: int
    process: subprocess.Popen
    log: IO[str]

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def misbehave(self, mode: str) -> None:
        """"normal", "bad_signature", "wrong_nonce" or "expired"; or "mfa" or "mfa_acr"
        for a multi-factor login (see provider.js)."""
        requests.post(f"{self.issuer}/_test/mode", json={"mode": mode},
                      timeout=5).raise_for_status()

    def settings(self, **more) -> dict:
        """The IDENTITY_PROVIDERS entry for this instance."""
        return {"issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "label": {"fi": f"Testi {self.tag}", "sv": f"Test {self.tag}",
                          "en": f"Test {self.tag}"},
                "scope": "openid profile address personal_identity_code",
                "person_claim": "hetu", "postal_code_claim": "address.postal_code",
                "birthdate_claim": "birthdate", **more}

    def staff_settings(self, **more) -> dict:
        """The STAFF_IDENTITY_PROVIDER setting for this instance: the city's directory."""
        return {"issuer": self.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "label": {"fi": "Lahden kaupunki", "sv": "Lahtis stad", "en": "City of Lahti"},
                **more}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def start_provider(tag: str, port: int | None = None) -> LocalProvider:
    """Start an instance and wait until its discovery document answers."""
    port = port or free_port()
    # Closed by stop(): the file outlives this function, as the process does.
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115
        "w+", prefix=f"oidc-{tag}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        ["node", "provider.js", "--port", str(port), "--tag", tag,
         "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET],
        cwd=PROVIDER_DIR, stdout=log, stderr=subprocess.STDOUT)
    provider = LocalProvider(tag, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{provider.issuer}/.well-known/openid-configuration",
                         timeout=1).raise_for_status()
            return provider
        except requests.RequestException:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    provider.stop()
    said = Path(log.name).read_text()[-2000:]
    raise RuntimeError(f"the local OpenID Provider {tag} did not start: {said}")


@pytest.fixture(scope="session")
def local_providers():
    """Two running providers, {"bank": ..., "suomifi": ...}, or a skip saying why."""
    reason = why_no_provider()
    if reason:
        pytest.skip(reason)
    started = {tag: start_provider(tag) for tag in ("bank", "suomifi")}
    yield started
    for provider in started.values():
        provider.stop()


@pytest.fixture
def providers(local_providers):
    """The providers, behaving, for one test (and behaving again after it)."""
    for provider in local_providers.values():
        provider.misbehave("normal")
    yield local_providers
    for provider in local_providers.values():
        provider.misbehave("normal")


def provider_config(providers: dict) -> dict:
    """The app settings for ``providers``."""
    return {"IDENTITY_PROVIDERS": {name: provider.settings()
                                   for name, provider in providers.items()},
            "PERSON_SECRET": "test-person-secret-that-is-long-enough-24680"}


def log_in_at_provider(authorize_url: str, person: str, browser: requests.Session,
                       stop_host: str) -> str:
    """Sign ``person`` in on the provider's login page (its development interactions),
    from the authorization request to the redirect back to the service (on ``stop_host``);
    returns that redirect's address."""
    url = authorize_url
    for _ in range(10):
        if urlsplit(url).netloc == stop_host:
            return url
        answer = browser.get(url, allow_redirects=False, timeout=10)
        if answer.status_code in (302, 303):
            url = requests.compat.urljoin(url, answer.headers["Location"])
            continue
        assert answer.status_code == 200, answer.text
        assert 'name="login"' in answer.text, answer.text[:500]
        answer = browser.post(url, data={"prompt": "login", "login": person,
                                         "password": "any"},
                              allow_redirects=False, timeout=10)
        assert answer.status_code in (302, 303), answer.text[:500]
        url = requests.compat.urljoin(url, answer.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def identify(client, provider_name: str, person: str, *, next_url: str | None = None,
             browser: requests.Session | None = None):
    """Sign ``person`` in through provider ``provider_name``, the whole way, with the
    Flask test ``client``; returns the service's answer to the provider's redirect. The
    callback's address is returned too (``answer.callback``), to replay it."""
    return through_provider(client, f"/sign-in/identify/{provider_name}", person,
                            next_url=next_url, browser=browser)


def staff_identify(client, person: str, *, next_url: str | None = None,
                   browser: requests.Session | None = None):
    """:func:`identify`, through the city's staff provider from /staff/sign-in."""
    return through_provider(client, "/staff/sign-in/provider", person, next_url=next_url,
                            browser=browser)


def through_provider(client, start: str, person: str, *, next_url: str | None = None,
                     browser: requests.Session | None = None, answered_by=None):
    """Sign ``person`` in from the service's address ``start`` (which sends the browser to a
    provider), through the provider's login page, back to the service (to the test client
    ``answered_by`` when given: another browser than the one that started)."""
    query = {"next": next_url} if next_url else {}
    start = client.get(start, query_string=query)
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    callback = log_in_at_provider(start.headers["Location"], person,
                                  browser or requests.Session(), "pb.test")
    parts = urlsplit(callback)
    answer = (answered_by or client).get(parts.path + "?" + parts.query)
    answer.callback = parts.path + "?" + parts.query
    return answer
