"""Browser journeys: Playwright driving Debian's Chromium against the real app, served by a
real (threaded werkzeug) server on a fresh migrated SQLite database for the whole session.

Every journey runs in a phone viewport (360 x 740, touch) and a desktop one (1280 x 800).
Each page a journey reaches is screenshotted to test-results/screenshots/, checked by
axe-core (no serious or critical violation), and must not scroll sideways.

Journeys covered: a resident signs in by link and submits an idea; a member moderates
(accepts with a reviewed cost, rejects with a reason); a resident votes on the approval
round (running tally, review, pending Vote button, receipt) and changes the vote; a resident
votes on the points round; a code holder votes with a printed code; a member enters a paper
ballot; the approval vote with the keyboard only and with JavaScript off; the vote under the
app's real Content-Security-Policy. App defects found are pinned by strict xfail tests.

The results journey (close, preview, publish, read, download the .pb, check a receipt) and
the vote in Finnish, Swedish and English are in test_results.py.

The folder skips (with the reason) when Chromium is missing: set PB_VOTE_CHROMIUM to its
path, or install Debian's ``chromium`` (.ci/run does). axe-core comes from
$PB_VOTE_AXE_JS or the npm cache (see helpers.AXE_INSTALL_HINT).
"""

import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from pb_vote import create_app
from pb_vote.extensions import db
from pb_vote.models import BallotKind, ProposalStatus, Round, RoundPhase, User, VoterEligibility
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.browser.helpers import Visit, served, write_axe_findings
from tests.conftest import base_test_config

CHROMIUM = os.environ.get("PB_VOTE_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
HERE = Path(__file__).resolve().parent
TIMEOUT_MS = 10_000

# The seeded ballots: (title, cost in cents, category).
APPROVAL_BALLOT = [
    ("Benches by the lake", 500_000, "Parks"),
    ("Library open on Sundays", 300_000, "Culture"),
    ("Skate park by the school", 2_000_000, "Sports"),
]
POINTS_BALLOT = [
    ("Bicycle racks at the station", 400_000, "Traffic"),
    ("Community garden", 800_000, "Parks"),
    ("Outdoor gym", 1_500_000, "Sports"),
]


def _why_skip() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return (f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install chromium, "
                "or set PB_VOTE_CHROMIUM to a Chromium executable)")
    return None


def pytest_collection_modifyitems(config, items):
    """Skip this folder, saying why, when there is no Chromium to drive."""
    reason = _why_skip()
    if reason:
        for item in items:
            if HERE in Path(item.path).parents:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionfinish(session, exitstatus):
    write_axe_findings()


@dataclass
class Scenario:
    """The seeded world the journeys start from, and the live server's address."""

    app: object
    url: str
    server_errors: list
    ideas_round: int
    approval_round: int
    points_round: int
    approval_proposals: dict[str, int]
    points_proposals: dict[str, int]
    codes: list[str]
    member: str = "member@example.org"
    coordinator: str = "coordinator@example.org"
    admin: str = "admin@example.org"
    resident: str = "resident@example.org"
    password: str = factories.STAFF_PASSWORD
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def take_code(self) -> str:
        """An unused voting code of the approval round."""
        return self.codes.pop()

    def new_resident(self) -> str:
        """A fresh resident of the table's area (postal code 15100); returns the email."""
        email = f"voter{next(self._numbers)}@example.org"
        with self.app.app_context():
            factories.user(email)
            db.session.commit()
        return email

    def submitted_idea(self, title: str) -> int:
        """A resident's idea waiting for moderation in the ideas round; returns its id."""
        with self.app.app_context():
            author = db.session.execute(
                select(User).where(User.email == self.resident)
            ).scalar_one()
            round_ = db.session.get(Round, self.ideas_round)
            proposal = factories.proposal(round_, author=author, title=title,
                                          cost_cents=450_000)
            db.session.commit()
            return proposal.id

    def current_choices(self, round_id: int, *, email: str | None = None,
                        code: str | None = None) -> dict | None:
        """The ballot stored for a resident or a voting code (read with the ballot secret,
        as the app does to show a voter their own ballot)."""
        with self.app.app_context():
            if email is not None:
                user = db.session.execute(select(User).where(User.email == email)).scalar_one()
                voter = voting.Voter(user_id=user.id)
            else:
                found = voting.find_code(db.session.get(Round, round_id), code)
                voter = voting.Voter(voting_code_id=found.id)
            keys = VoteKeys.from_config(self.app.config)
            return voting.existing_choices(keys, voter, round_id)


def _seed(scenario_kwargs: dict) -> None:
    """A table (15100) with a member, a coordinator, a city admin and a resident; a round
    collecting ideas, an approval round in voting (residents and codes) with codes, and a
    points round in voting."""
    table = factories.table("keskusta", "Keskusta", postal_codes=("15100",))
    factories.user("member@example.org", postal_code=None, role="member", at=table)
    coordinator = factories.user("coordinator@example.org", postal_code=None,
                                 role="coordinator", at=table)
    factories.user("admin@example.org", postal_code=None, city_admin=True)
    factories.user("resident@example.org")
    ideas = factories.round_(table, RoundPhase.PROPOSALS, title="Ideas for Keskusta 2027")
    approval = factories.round_(
        table, RoundPhase.VOTING, title="Keskusta votes 2026", approval_min=1, approval_max=2,
        voter_eligibility=VoterEligibility.BOTH,
    )
    points = factories.round_(
        table, RoundPhase.VOTING, title="Keskusta points vote 2026",
        ballot_kind=BallotKind.POINTS, points_total=10, points_max_per_proposal=5,
    )
    ballots = {}
    for round_, entries in ((approval, APPROVAL_BALLOT), (points, POINTS_BALLOT)):
        ballots[round_.id] = {
            title: factories.proposal(round_, title=title, cost_cents=cost, category=category,
                                      status=ProposalStatus.ACCEPTED).id
            for title, cost, category in entries
        }
    codes = voting.generate_codes(coordinator, approval, 12)
    db.session.commit()
    scenario_kwargs.update(
        ideas_round=ideas.id, approval_round=approval.id, points_round=points.id,
        approval_proposals=ballots[approval.id], points_proposals=ballots[points.id],
        codes=codes,
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on a real threaded server on 127.0.0.1 and a free port, with CSRF on and mail
    kept in ``pb_vote.mail.outbox(app)``; yields the Scenario."""
    path = tmp_path_factory.mktemp("browser") / "pb_vote.sqlite"
    config = base_test_config(f"sqlite:///{path}")
    del config["SERVER_NAME"]
    # Mail goes out as in production: handed to the task queue (immediate in the tests)
    # once the request's transaction commits.
    config.update(WTF_CSRF_ENABLED=True, TESTING=True, DEV_MAILBOX=True,
                  MAIL_DELIVERY="background", IMAGE_FOLDER=str(path.parent / "images"))
    app = create_app(config)
    seeded: dict = {}
    with app.app_context():
        upgrade()
        _seed(seeded)

    with served(app) as (url, errors):
        app.config.update(PUBLIC_BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"])  # links in mail
        try:
            yield Scenario(app=app, url=url, server_errors=errors, **seeded)
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="session")
def browser(live_server):
    """Headless Chromium (closed before the server stops: it depends on it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_context(browser, live_server):
    """Make browser contexts of a viewport kind; all are closed after the test.

    ``bypass_csp`` defaults to True: the app's CSP (script-src 'self') refuses the injected
    axe-core script otherwise. test_csp.py drives the vote under the real policy."""
    made = []

    def make(kind: str, **options):
        options.setdefault("bypass_csp", True)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(base_url=live_server.url, **VIEWPORTS[kind], **options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def phone_context(new_context):
    """A phone: 360 x 740, mobile, touch."""
    return new_context("phone")


@pytest.fixture
def desktop_context(new_context):
    """A desktop browser: 1280 x 800."""
    return new_context("desktop")


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    """Each journey runs once per viewport kind."""
    return request.param


@pytest.fixture
def context(request, viewport):
    """The browser context of this run's viewport."""
    return request.getfixturevalue(f"{viewport}_context")


@pytest.fixture
def visit(request, viewport, live_server):
    """The per-page checks (screenshot, axe-core, no sideways scrolling, no error)."""
    live_server.server_errors.clear()
    check = Visit(test_name=request.node.originalname, viewport=viewport,
                  server_errors=live_server.server_errors)
    yield check
    assert not live_server.server_errors, f"the server raised: {live_server.server_errors}"


@pytest.fixture
def page(context, visit):
    """A page in this run's context, watched by ``visit``."""
    return visit.watch(context.new_page())


@pytest.fixture
def scenario(live_server):
    """The seeded world (the same object as ``live_server``)."""
    return live_server
