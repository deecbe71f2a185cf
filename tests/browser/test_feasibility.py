"""The feasibility workflow in a real browser, in Finnish and Swedish, on a phone (360 px)
and a desktop, with JavaScript and without: a table member asks a city department for an
opinion on a proposal; the department's contact opens the mailed one-time link (which a
second opening does not use up), answers, and sees the link answered; the member gets a
mail, sees the answer on the proposal's page, writes the reviewed cost and accepts the
proposal in bulk from the queue, where an unreviewed one ticked beside it is listed as not
done, with why."""

import itertools
import re

import pytest
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import FeasibilityRequest, Proposal, ProposalStatus, Table
from tests import factories
from tests.browser.helpers import link_in, new_mail

pytestmark = pytest.mark.browser

# (viewport, mode, language): each language on a phone and a desktop, and without
# JavaScript on a phone (the tighter layout).
RUNS = [("phone", "js", "fi"), ("desktop", "js", "sv"), ("phone", "no-js", "sv"),
        ("desktop", "no-js", "fi")]
BROWSER_LOCALES = {"fi": "fi-FI", "sv": "sv-SE"}
_numbers = itertools.count(1)


@pytest.fixture(params=RUNS, ids=["-".join(run) for run in RUNS])
def run(request):
    return request.param


@pytest.fixture
def viewport(run):
    """The viewport of this run (overrides conftest's, which runs every viewport)."""
    return run[0]


def words(app, language: str):
    """The app's own words in ``language``: ``t("msgid", **values)``."""
    def t(message: str, **values) -> str:
        with app.test_request_context(), force_locale(language):
            return gettext(message, **values)
    return t


def _page(new_context, visit, viewport, mode, language):
    """A page of the run's viewport, mode and browser language, watched by ``visit``."""
    locale = BROWSER_LOCALES[language]
    if mode == "js":
        return visit.watch(new_context(viewport, locale=locale).new_page())
    context = new_context(viewport, java_script_enabled=False, locale=locale)
    return visit.watch(context.new_page(),
                       axe_copy_in=new_context(viewport, locale=locale).new_page())


def _people_and_ideas(scenario, language: str, tag: str) -> tuple[str, int, int]:
    """A member of Keskusta who reads ``language``, and two ideas waiting in the ideas
    round; returns the member's email and the ideas' ids."""
    email = f"reviewer{next(_numbers)}@example.org"
    with scenario.app.app_context():
        table = db.session.execute(select(Table).where(Table.slug == "keskusta")).scalar_one()
        factories.user(email, postal_code=None, role="member", at=table, language=language)
        db.session.commit()
    return (email, scenario.submitted_idea(f"Laiturin penkit {tag}"),
            scenario.submitted_idea(f"Skeittiramppi {tag}"))


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/staff/sign-in")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form [type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/staff/sign-in$"))


def test_a_member_asks_a_department_and_accepts_in_bulk(new_context, visit, scenario, run):
    viewport, mode, language = run
    t = words(scenario.app, language)
    tag = f"({viewport}, {mode}, {language})"
    member, idea, unreviewed = _people_and_ideas(scenario, language, tag)
    contact = f"engineer{next(_numbers)}@city.example.org"
    page = _page(new_context, visit, viewport, mode, language)
    _sign_in(page, member, scenario.password)

    # The member asks the department.
    page.goto(f"/manage/proposals/{idea}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    opinions = page.get_by_role("region", name=t("Opinions of city departments"))
    expect(opinions).to_contain_text(t("No opinion has been asked yet."))
    visit(page, "proposal-before")
    opinions.get_by_text(t("Ask a department for an opinion")).click()
    opinions.get_by_label(t("Contact's name")).fill("Eila Insinööri")
    opinions.get_by_label(t("Department"), exact=True).fill("Tekninen toimiala")
    opinions.get_by_label(t("Contact's email address")).fill(contact)
    opinions.get_by_label(t("Your question (optional)")).fill("Kestääkö ranta penkit?")
    opinions.get_by_label(t("Language of the mail")).select_option(language)
    visit(page, "ask-form")
    before = len(outbox(scenario.app))
    opinions.get_by_role("button", name=t("Send the question")).click()
    expect(page.get_by_text(t("The question is sent to %(email)s. You get a mail when they "
                              "answer.", email=contact))).to_be_visible()
    visit(page, "asked")
    link = link_in(new_mail(scenario.app, contact, before).body)

    # The department's contact opens the link twice (a scanner, then the person): it is
    # still unused, and answers it once.
    department = _page(new_context, visit, viewport, mode, language)
    department.goto(link)
    department.goto(link)
    expect(department.get_by_role("heading", name=t("A question on a proposal"),
                                  level=1)).to_be_visible()
    expect(department.get_by_text("Kestääkö ranta penkit?")).to_be_visible()
    visit(department, "department-question")
    department.get_by_role("button", name=t("Send the answer")).click()
    expect(department.locator(".error-summary")).to_contain_text(
        t("Choose whether it can be done."))
    visit(department, "department-error", status=400)
    department.get_by_label(t("Feasible with changes")).check()
    department.get_by_label(t("Estimated cost in euros (optional)")).fill("4 800")
    department.get_by_label(t("Your answer")).fill("Tarvitaan betonijalat.")
    before = len(outbox(scenario.app))
    department.get_by_role("button", name=t("Send the answer")).click()
    expect(department.get_by_role("heading", name=t("This question is answered"),
                                  level=1)).to_be_visible()
    expect(department.get_by_text(t("Thank you. Your answer is sent to the table."))
           ).to_be_visible()
    visit(department, "department-answered")
    department.goto(link)  # once answered, the link shows the answer, no form
    expect(department.get_by_role("button", name=t("Send the answer"))).to_have_count(0)
    assert "Tarvitaan betonijalat." in new_mail(scenario.app, member, before).body
    with scenario.app.app_context():
        assert db.session.execute(select(FeasibilityRequest.estimated_cost_cents).where(
            FeasibilityRequest.contact_email == contact)).scalar_one() == 480_000

    # The member sees the answer, writes the reviewed cost, and accepts in bulk.
    page.goto(f"/manage/proposals/{idea}")
    opinions = page.get_by_role("region", name=t("Opinions of city departments"))
    expect(opinions).to_contain_text(t("Feasible with changes"))
    expect(opinions).to_contain_text("Tarvitaan betonijalat.")
    history = page.get_by_role("region", name=t("History"))
    expect(history).to_contain_text(t("Department's opinion"))
    cost = page.get_by_role("region", name=t("Review the cost"))
    cost.get_by_label(t("Reviewed cost in euros")).fill("4 800")
    cost.get_by_role("button", name=t("Save the reviewed cost")).click()
    expect(page.get_by_text(t("The reviewed cost is saved."))).to_be_visible()
    visit(page, "proposal-answered")

    with scenario.app.app_context():
        round_id = db.session.get(Proposal, idea).round_id
    page.goto(f"/manage/rounds/{round_id}/proposals")
    page.get_by_label(t("Tick #%(id)s", id=idea)).check()
    page.get_by_label(t("Tick #%(id)s", id=unreviewed)).check()
    bulk = page.get_by_role("region", name=t("Decide on the ticked proposals"))
    bulk.get_by_label(t("Accept to the ballot at their reviewed cost")).check()
    bulk.get_by_label(t("Reason"), exact=True).fill("Pöydän kokous 3.3.")
    visit(page, "queue-ticked")
    bulk.get_by_role("button", name=t("Apply to the ticked proposals")).click()
    flashes = page.locator(".flashes")
    with scenario.app.test_request_context(), force_locale(language):
        one_done = ngettext("%(num)d proposal done. Its author gets a mail about it.",
                            "%(num)d proposals done. Their authors get a mail about it.", 1)
    expect(flashes).to_contain_text(one_done)
    expect(flashes).to_contain_text(t(
        "It has no reviewed cost yet: write the reviewed cost on its page first."))
    visit(page, "queue-after-bulk")
    with scenario.app.app_context():
        assert db.session.get(Proposal, idea).status is ProposalStatus.ACCEPTED
        assert db.session.get(Proposal, unreviewed).status is ProposalStatus.SUBMITTED
