"""Issue #17's "Done when" for the tables: a new city runs it itself. Starting from an
EMPTY database (migrations applied, no demo), ``flask create-admin`` makes the first city
admin, who signs in and creates four partnership tables with their areas (postal codes,
eligible residents), coordinators and members in the browser; then one table's round
runs through every phase, driven in the browser by the people in it: the coordinator sets
it up and moves it on, a resident proposes, the member accepts, residents vote, the
coordinator counts and publishes, and anyone reads the results.

It runs on a phone (360 px) without JavaScript and on a desktop with it; the residents
vote once in each mode (one without JavaScript, one with). Every page gets the shared page
check (screenshot, axe-core, no sideways scrolling, no error). Counts run on the tests'
immediate task queue (a worker in production), as in test_results.py.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from pb_vote import clock, create_app
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import AuditEvent, Round, RoundPhase, Table, User
from tests.browser.helpers import (
    Visit,
    choose_language,
    link_in,
    new_mail,
    served,
    sign_in_with_password,
)
from tests.conftest import base_test_config

pytestmark = pytest.mark.browser
HELSINKI = ZoneInfo("Europe/Helsinki")
ADMIN, ADMIN_PASSWORD = "first.admin@lahti.example", "the city's own admin password"
STAFF_PASSWORD = "a table's long password"
# The city's tables: name, short name, area (a postal code a line, with its eligible
# residents where known), eligible residents of the whole area.
TABLES = [
    ("Keskusta", "keskusta", "15100 4 200\n15110 3100", "7300"),
    ("Pohjoinen", "pohjoinen", "15200 2500\n15210", "5000"),
    ("Etelä", "etela", "15300 3300", "3300"),
    ("Itä", "ita", "15500 2000\n15510 1800", "3800"),
]
RUNS = [("phone", "no-js"), ("desktop", "js")]


@pytest.fixture(params=RUNS, ids=["-".join(run) for run in RUNS])
def run(request):
    return request.param


@pytest.fixture
def viewport(run):
    """This run's viewport (overrides conftest's, which runs every viewport)."""
    return run[0]


@pytest.fixture
def mode(run):
    return run[1]


@dataclass
class City:
    """An empty city on a live server of its own (a fresh database for each run)."""

    app: object
    url: str
    errors: list


@pytest.fixture
def city(tmp_path):
    """A fresh SQLite database with the migrations applied and nothing else, served."""
    config = base_test_config(f"sqlite:///{tmp_path / 'city.sqlite'}")
    del config["SERVER_NAME"]
    config.update(WTF_CSRF_ENABLED=True, TESTING=True, DEV_MAILBOX=True,
                  MAIL_DELIVERY="background")
    app = create_app(config)
    with app.app_context():
        upgrade()
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0
        assert db.session.execute(select(func.count()).select_from(Table)).scalar() == 0
    with served(app) as (url, errors):
        app.config.update(PUBLIC_BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"])
        yield City(app, url, errors)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@dataclass
class People:
    """Opens a browser for each person, in a viewport and mode, each page watched."""

    browser: object
    city: City
    visit: Visit
    viewport: str
    contexts: list = field(default_factory=list)

    def page(self, mode: str) -> Page:
        from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS

        def context(**options):
            made = self.browser.new_context(base_url=self.city.url, locale="en-GB",
                                            bypass_csp=True, **VIEWPORTS[self.viewport],
                                            **options)
            made.set_default_timeout(TIMEOUT_MS)
            self.contexts.append(made)
            return made

        if mode == "js":
            return self.visit.watch(context().new_page())
        return self.visit.watch(context(java_script_enabled=False).new_page(),
                                axe_copy_in=context().new_page())


@pytest.fixture
def people(browser, city, request, viewport):
    check = Visit(test_name=request.node.originalname, viewport=viewport,
                  server_errors=city.errors)
    made = People(browser, city, check, viewport)
    yield made
    for context in made.contexts:
        context.close()
    assert not city.errors, f"the server raised: {city.errors}"


def _local(days: int) -> str:
    moment = (clock.utcnow() + timedelta(days=days)).astimezone(HELSINKI)
    return moment.replace(hour=12, minute=0).strftime("%Y-%m-%dT%H:%M")


def create_the_first_admin(city: City) -> None:
    """`flask --app pb_vote create-admin EMAIL`, as an operator runs it on the new city."""
    result = city.app.test_cli_runner().invoke(
        args=["create-admin", ADMIN, "--language", "en"],
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "/staff/sign-in" in result.output and "/admin/tables" in result.output


def create_a_table(page: Page, visit, name: str, slug: str, area: str, eligible: str) -> None:
    """On /admin/tables/new: the table's details and area; ends on the table's page."""
    page.get_by_role("link", name="New table").click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Short name for addresses").fill(slug)
    page.get_by_label("Description", exact=True).fill(f"{name}: the area's own table.")
    page.get_by_label("Postal codes of the area").fill(area)
    page.get_by_label("Eligible residents of the whole area").fill(eligible)
    page.get_by_role("button", name="Save the table").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_text(f"The table {name} is created.")).to_be_visible()


def add_a_person(page: Page, email: str, role: str) -> None:
    """On a table's admin page: invite ``email`` as ``role`` ("Coordinator" or "Member")."""
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Role", exact=True).select_option(label=role)
    page.get_by_role("button", name="Add to the table").click()
    expect(page.locator("#people + .table-scroll")).to_contain_text(email)


# The city's own texts of two service pages, written by the admin in the browser.
CITY_PAGES = (
    ("About the service", "Finnish", "## Lahden osallistuva budjetointi\n\nNeljä "
     "kumppanuuspöytää jakaa omat määrärahansa asukkaiden ideoille."),
    ("About the service", "Swedish", "## Deltagande budgetering i Lahtis\n\nFyra "
     "partnerskapsbord fördelar sina anslag på invånarnas idéer."),
    ("Contact", "Finnish", "## Yhteystiedot\n\n- **Sähköposti:** "
     "[osallisuus@lahti.example](mailto:osallisuus@lahti.example)"),
)


def edit_the_service_pages(page: Page, people: "People", mode: str) -> None:
    """The city admin writes the about page (in Finnish and Swedish) and the contact page
    (in Finnish) on /admin/pages; a visitor reads them from the footer, in Finnish, and
    the about page in Swedish."""
    visit = people.visit
    page.goto("/admin")
    page.get_by_role("link", name="The service's own pages").click()
    visit(page, "service-pages")
    for title, language, text in CITY_PAGES:
        page.get_by_role("link", name=f"Edit {title} in {language}").click()
        page.get_by_label("Text of the page (Markdown)").fill(text)
        page.get_by_role("button", name="Save and publish").click()
        expect(page.get_by_text("Saved. The page shows the new text now.")).to_be_visible()
        page.goto("/admin/pages")
    visitor = people.page(mode)
    visitor.goto("/")
    choose_language(visitor, "fi")
    visitor.locator(".site-footer").get_by_role("link", name="Tietoa palvelusta").click()
    expect(visitor.get_by_role("heading", name="Lahden osallistuva budjetointi")).to_be_visible()
    visitor.locator(".site-footer").get_by_role("link", name="Yhteystiedot").click()
    expect(visitor.locator(".page-text")).to_contain_text("osallisuus@lahti.example")
    choose_language(visitor, "sv")
    visitor.locator(".site-footer").get_by_role("link", name="Om tjänsten").click()
    expect(visitor.get_by_role("heading", name="Deltagande budgetering i Lahtis")).to_be_visible()
    visit(visitor, "city-about-sv")


def choose_the_password(page: Page, city: City, email: str, before: int, visit) -> None:
    """Open the invitation mailed to ``email`` and choose a password; ends signed in."""
    page.goto(link_in(new_mail(city.app, email, before).body))
    visit(page, "choose-password")
    page.get_by_label("New password").fill(STAFF_PASSWORD)
    page.get_by_label("Repeat the password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Save password").click()
    expect(page.locator("html")).to_have_attribute("lang", "fi")  # the table's language
    expect(page.get_by_role("heading", level=1)).to_have_text("Työtila")
    choose_language(page, "en")  # the person's own choice, kept on their account
    expect(page.get_by_role("heading", name="Staff pages", level=1)).to_be_visible()


def resident_signs_up(page: Page, city: City, email: str, postal_code: str, visit) -> None:
    """A new resident: a sign-in link by mail, then the home postal code on the account."""
    page.goto("/sign-in")
    before = len(outbox(city.app))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    page.goto(link_in(new_mail(city.app, email, before).body))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(re.compile("^Welcome!"))).to_be_visible()
    page.get_by_label("Home postal code").fill(postal_code)
    page.get_by_role("main").get_by_role("button", name="Save", exact=True).click()
    visit(page, "resident-account")


def move_the_round(page: Page, round_id: int, button: str, visit, step: str) -> None:
    """The coordinator moves the round on by hand, after confirming."""
    page.goto(f"/manage/rounds/{round_id}/phase")
    visit(page, step)
    page.get_by_label(re.compile("I have checked this")).check()
    page.get_by_role("button", name=button).click()
    expect(page.get_by_text(re.compile("The round is now in the phase"))).to_be_visible()


def vote_for(page: Page, round_id: int, titles: list[str], visit, step: str) -> None:
    page.goto(f"/rounds/{round_id}")
    page.get_by_role("main").get_by_role("link", name="Vote", exact=True).click()
    visit(page, f"{step}-ballot")
    for title in titles:
        page.get_by_label(title).check()
    page.get_by_role("button", name="Review my choices").click()
    page.get_by_role("button", name="Vote", exact=True).click()
    expect(page.get_by_role("heading", name="Your vote is recorded", level=1)).to_be_visible()
    visit(page, f"{step}-recorded")


def test_a_new_city_sets_itself_up_and_runs_a_round(people, city, mode):
    visit, other = people.visit, "js" if mode == "no-js" else "no-js"
    create_the_first_admin(city)

    # The admin signs in and sets up the four tables, each with a coordinator and a member.
    admin = people.page(mode)
    sign_in_with_password(admin, ADMIN, ADMIN_PASSWORD, visit)
    expect(admin.get_by_text("No partnership tables yet. Create the first one.")
           ).to_be_visible()
    admin.get_by_role("main").get_by_role("link", name="Partnership tables").click()
    visit(admin, "no-tables")
    mail_before = len(outbox(city.app))
    for number, (name, slug, area, eligible) in enumerate(TABLES):
        if number == 1:  # a postal code of Keskusta: refused, naming the table; nothing lost
            admin.get_by_role("link", name="New table").click()
            admin.get_by_label("Name", exact=True).fill(name)
            admin.get_by_label("Short name for addresses").fill(slug)
            admin.get_by_label("Postal codes of the area").fill("15200\n15110\n152")
            admin.get_by_role("button", name="Save the table").click()
            errors = admin.locator(".error-summary")
            expect(errors).to_contain_text("“152” is not a Finnish postal code")
            visit(admin, "table-errors", status=400)
            admin.get_by_label("Postal codes of the area").fill("15200\n15110")
            admin.get_by_role("button", name="Save the table").click()
            expect(errors).to_contain_text(
                "The postal code 15110 is already in the area of Keskusta.")
            expect(admin.get_by_label("Name", exact=True)).to_have_value(name)
            admin.get_by_role("link", name="Partnership tables").first.click()
        create_a_table(admin, visit, name, slug, area, eligible)
        add_a_person(admin, f"coordinator.{slug}@lahti.example", "Coordinator")
        add_a_person(admin, f"member.{slug}@lahti.example", "Member")
        if number == 0:
            visit(admin, "table-with-people")
        admin.get_by_role("link", name="Partnership tables").first.click()
    listing = admin.get_by_role("main").locator("table")
    for name, _slug, _area, _eligible in TABLES:
        expect(listing).to_contain_text(name)
    visit(admin, "four-tables")
    edit_the_service_pages(admin, people, mode)
    with city.app.app_context():
        tables = {t.slug: t for t in db.session.execute(select(Table)).scalars()}
        assert tables["keskusta"].postal_codes == ["15100", "15110"]
        assert {r.postal_code: r.eligible_residents for r in tables["keskusta"].area} == {
            "15100": 4200, "15110": 3100}
        assert tables["pohjoinen"].eligible_residents == 5000
        assert all(len(t.memberships) == 2 for t in tables.values())
        created = db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "table.created")).scalar()
        assert created == 4

    # Keskusta's coordinator chooses a password from the invitation and sets up a round.
    coordinator = people.page(mode)
    choose_the_password(coordinator, city, "coordinator.keskusta@lahti.example", mail_before,
                        visit)
    coordinator.get_by_role("link", name="Keskusta").click()
    coordinator.get_by_role("link", name="New round").click()
    coordinator.get_by_label("Title", exact=True).fill("Keskusta 2027")
    coordinator.get_by_label("Budget in euros").fill("50 000")
    coordinator.get_by_label("Ideas: window opens").fill(_local(1))
    coordinator.get_by_label("Ideas: window closes (review starts)").fill(_local(31))
    coordinator.get_by_label("Voting opens").fill(_local(45))
    coordinator.get_by_label("Voting closes").fill(_local(59))
    coordinator.get_by_role("button", name="Save").click()
    expect(coordinator.get_by_role("heading", name="Keskusta 2027", level=1)).to_be_visible()
    round_id = int(re.search(r"/manage/rounds/(\d+)", coordinator.url).group(1))
    visit(coordinator, "draft")
    move_the_round(coordinator, round_id, "Open for ideas", visit, "open-for-ideas")

    # A resident of the area proposes two ideas.
    resident = people.page(mode)
    resident_signs_up(resident, city, "aino@example.org", "15110", visit)
    ideas = ["Benches by the harbour", "Lights on the ski track"]
    for title, cost in zip(ideas, ("4 000", "12 000"), strict=True):
        resident.goto(f"/rounds/{round_id}")
        resident.get_by_role("link", name="Propose an idea").click()
        resident.get_by_label("Title").fill(title)
        resident.get_by_label("Description").fill(f"{title}, for everyone in Keskusta.")
        resident.get_by_label("Estimated cost in euros").fill(cost)
        resident.get_by_role("button", name="Submit the idea").click()
        expect(resident.get_by_text("Thank you! Your idea is submitted.")).to_be_visible()
    visit(resident, "idea-submitted")

    # The member, invited by the admin, accepts both to the ballot.
    member = people.page(mode)
    choose_the_password(member, city, "member.keskusta@lahti.example", mail_before, visit)
    for title, cost in zip(ideas, ("4 500", "11 000"), strict=True):
        member.goto(f"/manage/rounds/{round_id}/proposals")
        member.get_by_role("link", name=re.compile(title)).click()
        accept = member.get_by_role("region", name="Accept to the ballot")
        accept.get_by_label("Reviewed cost in euros").fill(cost)
        accept.get_by_role("button", name="Accept to the ballot").click()
        expect(member.locator("p.meta")).to_contain_text("On the ballot")
    visit(member, "accepted")

    # The coordinator starts the review and opens voting; two residents vote, one with
    # JavaScript and one without; the coordinator closes voting.
    move_the_round(coordinator, round_id, "Start the review", visit, "start-review")
    move_the_round(coordinator, round_id, "Open voting", visit, "open-voting")
    vote_for(resident, round_id, ideas[:1], visit, f"vote-{mode}")
    neighbour = people.page(other)
    resident_signs_up(neighbour, city, "bertel@example.org", "15100", visit)
    vote_for(neighbour, round_id, ideas, visit, f"vote-{other}")
    move_the_round(coordinator, round_id, "Close voting", visit, "close-voting")

    # The coordinator counts (a background job) and publishes; anyone reads the results.
    coordinator.goto(f"/manage/rounds/{round_id}/results")
    coordinator.get_by_role("button", name="Count the ballots").click()
    expect(coordinator.get_by_role("heading", name="The count")).to_be_visible()
    visit(coordinator, "count")
    coordinator.get_by_label(re.compile("I have checked the results")).check()
    coordinator.get_by_role("button", name="Publish the results").click()
    expect(coordinator.get_by_text("The results are published.")).to_be_visible()
    visitor = people.page(mode)
    visitor.goto("/tables/keskusta")
    visitor.get_by_role("link", name="Keskusta 2027").first.click()
    visitor.goto(f"/rounds/{round_id}/results")
    expect(visitor.get_by_role("table").first).to_contain_text("Funded")
    expect(visitor.get_by_role("main")).to_contain_text("Benches by the harbour")
    visit(visitor, "results")
    with city.app.app_context():
        round_ = db.session.get(Round, round_id)
        assert round_.phase is RoundPhase.PUBLISHED
        moves = db.session.execute(select(AuditEvent.details).where(
            AuditEvent.action == "round.phase_changed")).scalars().all()
        assert [m["to"] for m in moves] == ["proposals", "review", "voting", "closed",
                                            "published"]
