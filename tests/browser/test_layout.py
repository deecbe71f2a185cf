"""The layout check of issue 16 on every page of the demo.

The demo (``flask seed-demo``, with a knapsack and a points round in voting and a corrected
result added: ``factories.demo_site``) is served, and its pages are visited as a visitor, a
resident, a member, a coordinator and the city admin: the visitor's fixed list (sign-in
pages, the voting-code page, the receipt check, the footer's pages, an error page) and what
only a form reaches (the "check your email" page; a voting code's ballot, its review and
receipt), then every page reached by following the links from the home page (resident,
who also votes on the knapsack and the points ballot: review and receipt) and from the
staff and admin pages (admin); members and coordinators see their own staff dashboard.
Pages of one kind (the same address but for its numbers) are looked at twice at most,
except the pages of a round (one per round: their phases differ).

At each page LAYOUT_CHECKS runs (nothing wider than the screen, no table cell narrower
than its longest word, no word or amount broken over two lines) and a full screenshot is
saved as test-results/screenshots/layout-<width>-<language>-<who>-<address>.png. Every page
at 360 px in Finnish, Swedish and English; at 320 px in Finnish (the longest words) and
English (the longest name of the service); at 1280 px in Swedish. The problems of all
pages are reported together.
"""

import re
from urllib.parse import urlsplit

import pytest
from flask_migrate import upgrade

from pb_vote import create_app
from pb_vote.blueprints.languages import LANGUAGE_COOKIE
from pb_vote.demo import DEMO_PASSWORD
from pb_vote.extensions import db
from tests import factories
from tests.browser.helpers import (
    SCREENSHOT_DIR,
    everyone_reads,
    layout_problems,
    save_screenshot,
    served,
    sign_in_by_link,
    sign_in_with_password,
)
from tests.conftest import base_test_config

pytestmark = pytest.mark.browser

SCREENS = [(360, "fi"), (360, "sv"), (360, "en"), (320, "fi"), (320, "en"), (1280, "sv")]
STAFF = {"admin": "admin@example.org", "coordinator": "coordinator@example.org",
         "member": "member@example.org"}
RESIDENT = "resident@example.org"
# Addresses never followed: data, files (a name with a dot), one-time links.
NOT_PAGES = re.compile(r"^/(api|static)/|^/sign-in/link/|^/password/link/|\.[a-z]+$")
ROUND_PAGE = re.compile(r"^/(manage/)?rounds/N(/[a-z]+)?$")
PER_KIND = 2


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo site on a live server: (app, address, server errors, DemoSite)."""
    path = tmp_path_factory.mktemp("layout") / "demo.sqlite"
    config = base_test_config(f"sqlite:///{path}")
    del config["SERVER_NAME"]
    config.update(DEV_MAILBOX=True)
    app = create_app(config)
    with app.app_context():
        upgrade()
        site = factories.demo_site()
        db.session.commit()
    with served(app) as (url, errors):
        app.config.update(PUBLIC_BASE_URL=url, TRUSTED_HOSTS=["127.0.0.1"])
        yield app, url, errors, site
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def sessions(demo, browser):
    """Each role's signed-in browser state (cookies), made once."""
    app, url, _, _ = demo
    everyone_reads(app, "en")
    states = {}
    for who, email in [("resident", RESIDENT), *STAFF.items()]:
        context = browser.new_context(base_url=url, locale="en-GB")
        page = context.new_page()
        if who == "resident":
            sign_in_by_link(page, app, email)
        else:
            sign_in_with_password(page, email, DEMO_PASSWORD)
        states[who] = context.storage_state()
        context.close()
    return states


def _kind(address: str) -> str:
    parts = urlsplit(address)
    keys = "&".join(sorted(name.split("=")[0] for name in parts.query.split("&") if name))
    return re.sub(r"\d+", "N", parts.path) + ("?" + keys if keys else "")


class Crawl:
    """Visits pages at one screen size and language, collecting what is wrong."""

    def __init__(self, page, screen: str, who: str, origin: str):
        self.page, self.screen, self.who, self.origin = page, screen, who, origin
        self.problems: list[str] = []
        self.seen: set[str] = set()
        self.kinds: dict[str, int] = {}

    def look(self, address: str, status: int = 200) -> list[str]:
        """Open one page, screenshot it, check its layout; returns the links on it."""
        self.seen.add(address)
        self._check(address, self.page.goto(address), status)
        return self.page.evaluate("() => [...document.links].map(a => a.href)")

    def send(self, form: str, step: str) -> None:
        """Send the form ``form`` (a selector) of the page, then check the page it leads to
        (a page only a form reaches: the review of a ballot, its receipt...)."""
        with self.page.expect_navigation() as sent:
            self.page.locator(f"{form} [type=submit]").first.click()
        self.seen.add(step)
        self._check(f"{urlsplit(self.page.url).path} ({step})", sent.value, 200)

    def _check(self, where: str, response, status: int) -> None:
        if response is None or response.status != status:
            self.problems.append(f"{self.who} {where}: answered "
                                 f"{response.status if response else None}, not {status}")
        slug = re.sub(r"[^a-z0-9]+", "-", where.lower()).strip("-") or "home"
        save_screenshot(self.page,
                        SCREENSHOT_DIR / f"layout-{self.screen}-{self.who}-{slug}.png")
        self.problems += [f"{self.who} {where}: {problem}"
                          for problem in layout_problems(self.page)]

    def vote(self, kind: str) -> None:
        """Fill the ballot with valid choices, check its review, vote, check the receipt."""
        page = self.page
        if kind == "points":
            for field in page.locator("input[name^=points-]").all()[:2]:
                field.fill("5")
        else:
            page.locator("input[name=choice]").first.check()
        self.send("form#ballot", f"{kind}-review")
        self.send("form.vote-form", f"{kind}-receipt")

    def follow(self, starts: list[str], inside: re.Pattern) -> None:
        """Visit ``starts`` and the pages their links lead to whose path ``inside``
        matches, a few of each kind."""
        queue = list(starts)
        while queue:
            address = queue.pop(0)
            for link in self.look(address):
                parts = urlsplit(link)
                found = parts.path + (f"?{parts.query}" if parts.query else "")
                if (not link.startswith(self.origin) or found in self.seen
                        or found in queue or NOT_PAGES.search(parts.path)
                        or not inside.search(parts.path)):
                    continue
                kind = _kind(found)
                if self.kinds.get(kind, 0) >= (12 if ROUND_PAGE.match(kind) else PER_KIND):
                    continue
                self.kinds[kind] = self.kinds.get(kind, 0) + 1
                queue.append(found)


@pytest.mark.parametrize(("width", "language"), SCREENS, ids=[f"{w}-{lang}"
                                                              for w, lang in SCREENS])
def test_every_page_fits_the_screen(browser, demo, sessions, width, language):
    """No page of the demo is wider than the screen, squeezes a table cell below its
    longest word or breaks a word or an amount, at this width and in this language."""
    app, url, errors, site = demo
    everyone_reads(app, language)
    errors.clear()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    phone = width < 1000
    problems, pages = [], 0
    for who in ("visitor", "resident", "admin", "coordinator", "member"):
        context = browser.new_context(
            base_url=url, locale="en-GB", viewport={"width": width, "height": 740},
            is_mobile=phone, has_touch=phone, storage_state=sessions.get(who))
        context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": url}])
        crawl = Crawl(context.new_page(), f"{width}-{language}", who, url)
        if who == "visitor":
            for address in ("/", "/sign-in", "/staff/sign-in", "/password/forgot",
                            f"/rounds/{site.voting_round_id}/code",
                            f"/rounds/{site.published_round_id}/verify",
                            "/contact", "/privacy", "/accessibility"):
                crawl.look(address)
            crawl.look("/rounds/999999", status=404)
            crawl.look("/sign-in")
            crawl.page.locator("main input[name=email]").fill(f"new-{width}-{language}@example.org")
            crawl.send("main form", "link-sent")
            crawl.look(f"/rounds/{site.voting_round_id}/code")
            crawl.page.locator("main input[name=code]").fill(site.codes.pop())
            crawl.send("main form", "code-ballot")
            crawl.vote("approval")
        elif who == "resident":
            crawl.follow(["/"], re.compile(
                r"^/(?!manage|admin|sign-in|staff|password|contact|privacy|accessibility)"))
            crawl.look(f"/proposals/{site.long_words_id}")
            crawl.look("/dev/mail")
            for round_id, kind in ((site.knapsack_round_id, "knapsack"),
                                   (site.points_round_id, "points")):
                crawl.look(f"/rounds/{round_id}/vote")
                crawl.vote(kind)
        elif who == "admin":
            crawl.follow(["/manage", "/admin"], re.compile(r"^/(manage|admin)(/|$)"))
        else:
            crawl.look("/manage")
        context.close()
        problems += crawl.problems
        pages += len(crawl.seen)
    assert not problems, f"{len(problems)} problems on {pages} pages:\n" + "\n".join(problems)
    assert not errors, f"the server raised: {errors}"
    assert pages > 40, f"only {pages} pages were reached"
