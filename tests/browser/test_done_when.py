"""Issue #16's "Done when", one light check per item in every combination: 320 px, 360 px
and a desktop, in Finnish, Swedish and English, with JavaScript and without.

The journeys of the other files walk each item through; here each item's page of the demo
(``factories.demo_site``, a resident having voted) is opened in each combination, its key
text or element is looked for in that language (the words come from the compiled
catalogues, so a missing translation fails), and the shared page check runs: screenshot,
axe-core (for a page without JavaScript, in a copy), no sideways scrolling, no error.
"""

import re
from dataclasses import dataclass
from functools import cache

import pytest
from babel.support import Translations
from flask_migrate import upgrade
from playwright.sync_api import expect
from sqlalchemy import select

from pb_vote import PROJECT_ROOT, create_app
from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.demo import DEMO_PASSWORD
from pb_vote.extensions import db
from pb_vote.models import Publication, Round, User, VoteChannel
from pb_vote.services import voting
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.browser.helpers import (
    Visit,
    everyone_reads,
    layout_problems,
    served,
    sign_in_by_link,
    sign_in_with_password,
)

pytestmark = pytest.mark.browser

SCREENS = {
    "320": {"viewport": {"width": 320, "height": 640}, "is_mobile": True, "has_touch": True},
    "360": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
LANGUAGES = ("fi", "sv", "en")
MODES = ("js", "no-js")
RESIDENT, ADMIN = "resident@example.org", "admin@example.org"
FOOTER_TITLES = {
    "fi": ("Yhteystiedot", "Tietosuojaseloste", "Saavutettavuusseloste"),
    "sv": ("Kontaktuppgifter", "Dataskyddsbeskrivning", "Tillgänglighetsutlåtande"),
    "en": ("Contact", "Privacy notice", "Accessibility statement"),
}


@cache
def _catalogue(language: str) -> Translations:
    return Translations.load(PROJECT_ROOT / "pb_vote" / "translations", [language])


def said(language: str, msgid: str, plural: str | None = None, n: int = 1, **values) -> str:
    """``msgid`` as the catalogue of ``language`` words it, with ``values`` filled in, up to
    its first placeholder left unfilled (a date, say)."""
    catalogue = _catalogue(language)
    text = catalogue.ngettext(msgid, plural, n) if plural else catalogue.gettext(msgid)
    # A catalogue without the msgid gives it back, as the page would: that is no check.
    assert language == "en" or text not in (msgid, plural), f"no {language} text: {msgid}"
    for name, value in {"num": n, **values}.items():
        text = re.sub(rf"%\({name}\)[sd]", str(value), text)
    return re.split(r"%\(\w+\)[sd]", text)[0].replace("%%", "%").strip()


@dataclass
class Demo:
    """The demo on a live server, and what the checks need to know of it."""

    app: object
    url: str
    errors: list
    site: factories.DemoSite
    review_round: int
    draft_round: int
    funded: int  # a funded proposal of the published round
    not_funded: int  # one that the correction left out
    waiting: int  # an idea waiting for review in the review round
    unreviewed: int  # how many ideas of the review round wait for review


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo site, where the demo resident has voted in the approval round."""
    path = tmp_path_factory.mktemp("done-when") / "demo.sqlite"
    config = base_config(path)
    app = create_app(config)
    with app.app_context():
        upgrade()
        site = factories.demo_site()
        resident = db.session.execute(select(User).where(User.email == RESIDENT)).scalar_one()
        voting_round = db.session.get(Round, site.voting_round_id)
        voting.cast_ballot(VoteKeys.from_config(app.config), voting_round.id,
                           voting.Voter(user_id=resident.id), VoteChannel.ONLINE,
                           {voting_round.proposals[0].id: 1})
        rounds = db.session.execute(select(Round)).scalars().all()
        review = next(r for r in rounds if r.phase.value == "review")
        draft = next(r for r in rounds if r.phase.value == "draft")
        published = db.session.get(Round, site.published_round_id)
        outcome = db.session.execute(
            select(Publication).where(Publication.round_id == published.id)
            .order_by(Publication.number.desc())).scalars().first().result
        selected = [int(pid) for pid in outcome["selected"]]
        unreviewed = [p.id for p in review.proposals
                      if p.status.value in ("submitted", "changes_requested")]
        db.session.commit()
        demo_ids = {"review_round": review.id, "draft_round": draft.id,
                    "funded": selected[0],
                    # the correction left the first out: not funded, for a reason of its own
                    "not_funded": published.proposals[0].id,
                    "waiting": unreviewed[0], "unreviewed": len(unreviewed)}
    with served(app) as (url, errors):
        app.config.update(PUBLIC_BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"])
        yield Demo(app=app, url=url, errors=errors, site=site, **demo_ids)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def base_config(path) -> dict:
    """The tests' configuration on the SQLite file ``path``, mail kept for /dev/mail."""
    from tests.conftest import base_test_config

    config = base_test_config(f"sqlite:///{path}")
    del config["SERVER_NAME"]
    config.update(DEV_MAILBOX=True)
    return config


@pytest.fixture(scope="module")
def signed_in(demo, browser):
    """The resident's and the city admin's browser state (cookies), made once."""
    everyone_reads(demo.app, "en")
    states = {}
    for who in ("resident", "admin"):
        context = browser.new_context(base_url=demo.url, locale="en-GB")
        page = context.new_page()
        if who == "resident":
            sign_in_by_link(page, demo.app, RESIDENT)
        else:
            sign_in_with_password(page, ADMIN, DEMO_PASSWORD)
        states[who] = context.storage_state()
        context.close()
    return states


@dataclass
class Run:
    """One combination, as one person (visitor, resident or admin) sees it: opens pages with
    the page check, words msgids in the combination's language."""

    page: object
    visit: Visit
    language: str
    javascript: bool
    demo: Demo
    at: str | None = None

    def open(self, address: str, step: str):
        """Go to ``address`` and run the page check on it (once: a page already open and
        checked is used as it is)."""
        if self.at != address:
            self.at = None
            self.page.goto(address)
            self.visit(self.page, step)
            self.at = address
        return self.page

    def says(self, msgid: str, plural: str | None = None, n: int = 1, **values) -> str:
        return said(self.language, msgid, plural, n, **values)


def item_01_results_read_on_every_screen(run):
    page = run.open(f"/rounds/{run.demo.site.published_round_id}/results", "results")
    expect(page.locator("main table").first).to_be_visible()
    assert layout_problems(page) == []


def item_06_a_correction_keeps_a_row_for_what_it_left_out(run):
    demo = run.demo
    page = run.open(f"/rounds/{demo.site.published_round_id}/results", "results")
    expect(page.locator("tr.excluded")).to_contain_text(
        run.says("Left out of the count by correction %(number)d: %(reason)s", number=2))
    earlier = run.open(f"/rounds/{demo.site.published_round_id}/results/1", "publication-1")
    expect(earlier.locator("tr.excluded")).to_have_count(0)  # the first kept its own


def item_08_recounting_and_the_chart_key(run):
    page = run.open(f"/rounds/{run.demo.site.published_round_id}/results/1", "publication-1")
    expect(page.get_by_role("link", name=run.says("Download pb-vote (pb-vote.pyz)"))
           ).to_be_visible()
    expect(page.get_by_text(run.says("✓ and a solid bar: funded"))).to_be_visible()


def item_05_a_proposal_gives_the_reason_the_results_give(run):
    demo = run.demo
    page = run.open(f"/rounds/{demo.site.published_round_id}/results", "results")
    reason = page.locator(f"#p{demo.not_funded} td").last.inner_text().strip()
    assert reason
    page = run.open(f"/proposals/{demo.not_funded}", "proposal-not-funded")
    outcome = page.locator("section[aria-labelledby=outcome-heading] p").first
    expect(outcome).to_contain_text(run.says("Not funded"))  # item 3: funded or not
    expect(outcome).to_contain_text(reason)


def item_09_a_compact_header_and_a_footer_with_the_three_pages(run):
    page = run.open("/privacy", "privacy")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 80, f"the header is {header['height']} px high"
    footer = page.locator("footer.site-footer")
    for title in FOOTER_TITLES[run.language]:
        expect(footer.get_by_role("link", name=title)).to_be_visible()
    sign_in = page.locator(".site-header").get_by_role("link", name=run.says("Sign in"))
    box = sign_in.bounding_box()
    assert box["x"] + box["width"] <= page.viewport_size["width"]


def item_10_the_demo_speaks_the_visitors_language(run):
    names = {"fi": "Keskusta", "sv": "Centrum", "en": "City centre"}
    page = run.open("/tables/keskusta", "table")
    expect(page.get_by_role("heading", level=1)).to_have_text(names[run.language])
    expect(page.get_by_role("link", name=f"{names[run.language]} 2027", exact=True)
           ).to_be_visible()


def item_02_the_live_tally_starts_neutral_and_follows_the_choices(run):
    page = run.open(f"/rounds/{run.demo.site.knapsack_round_id}/vote", "knapsack-ballot")
    tally = page.locator("#tally")
    if not run.javascript:
        expect(tally).to_be_hidden()  # no tally that cannot follow; the server checks
        return
    expect(tally.locator("[data-tally=advice]")).to_have_text("")
    before = tally.locator("[data-tally=line]").inner_text()
    page.locator("input[name=choice]").first.check()
    run.at = None  # the page has changed
    expect(tally.locator("[data-tally=line]")).not_to_have_text(before)
    expect(tally.locator("[data-tally=advice]")).not_to_have_text("")


def item_03_the_round_says_when_you_voted(run):
    page = run.open(f"/rounds/{run.demo.site.voting_round_id}", "round-voted")
    expect(page.get_by_role("main")).to_contain_text(
        run.says("You voted on %(when)s; you can change your vote until %(end)s."))


def item_04_the_ballot_says_how_the_money_is_shared_and_the_tie_break(run):
    page = run.open(f"/rounds/{run.demo.site.points_round_id}/vote", "points-ballot")
    rules = page.locator("details.rules")
    expect(rules.locator("summary")).to_have_text(
        run.says("Voting rules and how the money is shared"))
    expect(rules).to_contain_text(run.says(
        "If two proposals are tied, the cheaper one goes first; if they also cost the same, "
        "the one chosen by more voters; and then the one submitted earlier."))


def item_07_the_home_page_shows_every_round_to_act_on(run):
    page = run.open("/", "home")
    for heading in ("Vote now", "Propose ideas", "Results just published", "Coming up"):
        expect(page.get_by_role("heading", name=run.says(heading), exact=True)).to_be_visible()


def item_11_a_draft_can_be_opened_for_ideas_by_hand(run):
    page = run.open(f"/manage/rounds/{run.demo.draft_round}/phase", "open-draft")
    expect(page.locator("#move-heading")).to_have_text(run.says("Open the round for ideas"))
    expect(page.get_by_role("button", name=run.says("Open for ideas"))).to_be_visible()


def item_12_the_reviewed_cost_starts_empty(run):
    page = run.open(f"/manage/proposals/{run.demo.waiting}", "moderate")
    # The accept form's field (the review section below has its own, also empty).
    accept_cost = page.locator("#accept-reviewed_cost")
    expect(accept_cost).to_have_accessible_name(run.says("Reviewed cost in euros"))
    expect(accept_cost).to_have_value("")
    expect(page.get_by_role("main")).to_contain_text(
        run.says("The author's estimate: %(amount)s. Write the cost the table has checked, "
                 "even when it is the same."))


def item_13_opening_voting_lists_the_ideas_left_unreviewed(run):
    page = run.open(f"/manage/rounds/{run.demo.review_round}/phase", "open-voting")
    expect(page.locator("#waiting")).to_have_text(run.says(
        "Still waiting for review: %(num)d proposal",
        "Still waiting for review: %(num)d proposals", run.demo.unreviewed))


def item_14_the_round_form_groups_each_ballots_settings(run):
    page = run.open("/manage/tables/keskusta/rounds/new", "new-round")
    for legend in ("Only for an approval ballot", "Only for a knapsack ballot",
                   "Only for a points ballot"):
        expect(page.locator("legend", has_text=run.says(legend))).to_have_count(1)


def item_15_staff_pages_use_the_screen(run):
    page = run.open(f"/manage/rounds/{run.demo.review_round}/proposals", "queue")
    width = page.viewport_size["width"]
    main = page.get_by_role("main").bounding_box()["width"]
    assert main >= (1000 if width > 1000 else width - 40), f"main is {main} px of {width}"


def item_16_codes_in_finnish_and_swedish_and_the_paper_ballot(run):
    round_id = run.demo.site.voting_round_id
    page = run.open(f"/manage/rounds/{round_id}/codes", "codes")
    for value, ticked in (("fi", True), ("sv", True), ("en", False)):
        expect(page.locator(f"input[name=languages][value={value}]")).to_be_checked(
            checked=ticked)
    page = run.open(f"/manage/rounds/{round_id}/paper/print", "paper-ballot")
    expect(page.locator('.paper-rules[lang="fi"] h2')).to_contain_text("Äänestyslippu")
    expect(page.locator('.paper-rules[lang="sv"] h2')).to_contain_text("Valsedel")


def item_17_the_audit_trail_reads_in_plain_words_and_filters(run):
    page = run.open("/admin/audit?action=round.phase_changed", "audit")
    expect(page.locator("tr[id^=event-]").first).to_contain_text(
        run.says("Moved a round to another phase"))
    expect(page.locator("select[name=action]")).to_have_value("round.phase_changed")


# Who looks, and the items they check, in the order their pages are shared.
CHECKS = {
    "visitor": [item_01_results_read_on_every_screen,
                item_06_a_correction_keeps_a_row_for_what_it_left_out,
                item_08_recounting_and_the_chart_key,
                item_05_a_proposal_gives_the_reason_the_results_give,
                item_09_a_compact_header_and_a_footer_with_the_three_pages,
                item_10_the_demo_speaks_the_visitors_language],
    "resident": [item_02_the_live_tally_starts_neutral_and_follows_the_choices,
                 item_03_the_round_says_when_you_voted,
                 item_04_the_ballot_says_how_the_money_is_shared_and_the_tie_break,
                 item_07_the_home_page_shows_every_round_to_act_on],
    "admin": [item_11_a_draft_can_be_opened_for_ideas_by_hand,
              item_12_the_reviewed_cost_starts_empty,
              item_13_opening_voting_lists_the_ideas_left_unreviewed,
              item_14_the_round_form_groups_each_ballots_settings,
              item_15_staff_pages_use_the_screen,
              item_16_codes_in_finnish_and_swedish_and_the_paper_ballot,
              item_17_the_audit_trail_reads_in_plain_words_and_filters],
}


def test_the_checks_cover_every_item():
    numbers = sorted(int(check.__name__.split("_")[1]) for checks in CHECKS.values()
                     for check in checks)
    assert numbers == list(range(1, 18))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_item_in_this_combination(browser, demo, signed_in, screen, language, mode):
    """Each item's check at this screen, in this language, with or without JavaScript;
    what fails is reported together, item by item."""
    everyone_reads(demo.app, language)
    demo.errors.clear()
    javascript = mode == "js"
    failures = []
    for who, checks in CHECKS.items():
        made = []

        def context(enabled: bool, who=who, made=made):
            made.append(browser.new_context(
                base_url=demo.url, locale="en-GB", bypass_csp=True,
                java_script_enabled=enabled, storage_state=signed_in.get(who),
                **SCREENS[screen]))
            made[-1].add_cookies([{"name": LANGUAGE_COOKIE, "value": language,
                                   "url": demo.url}])
            made[-1].set_default_timeout(5_000)
            return made[-1]

        visit = Visit(test_name=f"done-{who}", viewport=f"{screen}-{language}-{mode}",
                      server_errors=demo.errors)
        page = visit.watch(context(javascript).new_page(),
                           axe_copy_in=None if javascript else context(True).new_page())
        run = Run(page, visit, language, javascript, demo)
        for check in checks:
            try:
                check(run)
            except AssertionError as failed:
                failures.append(f"{check.__name__}: {str(failed).strip()[:600]}")
                run.at = None
        for each in made:
            each.close()
    assert not failures, "\n".join(failures)
    assert not demo.errors, f"the server raised: {demo.errors}"
