"""Helpers of the browser journeys: the page checks every visited page gets (screenshot,
axe-core, no horizontal scrolling, no server error), signing in, keyboard-only moves."""

import json
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import got_request_exception
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from pb_vote import PROJECT_ROOT
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import User

RESULTS_DIR = PROJECT_ROOT / "test-results"
SCREENSHOT_DIR = RESULTS_DIR / "screenshots"
AXE_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pb_vote-axe"
AXE_INSTALL_HINT = (
    'npm install --prefix "${XDG_CACHE_HOME:-$HOME/.cache}/pb_vote-axe" axe-core@4 '
    "(.ci/run does), or set PB_VOTE_AXE_JS to an axe.min.js"
)
# What WCAG 2.1 AA asks, plus axe's best practices; only serious and critical ones fail.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}


def axe_script() -> Path | None:
    """axe.min.js from $PB_VOTE_AXE_JS or the npm cache, or None when it is not there."""
    configured = os.environ.get("PB_VOTE_AXE_JS")
    candidates = [Path(configured)] if configured else []
    candidates.append(AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js")
    return next((path for path in candidates if path.is_file()), None)


AXE_JS = axe_script()
AXE_FINDINGS: list[dict] = []  # every violation of any impact, written out at the session end
AXE_PAGES: list[str] = []  # the pages checked


def everyone_reads(app, language: str) -> None:
    """Every account reads ``language`` (an account's language wins over the cookie)."""
    with app.app_context():
        for user in db.session.execute(select(User)).scalars():
            user.language = language
        db.session.commit()


def save_screenshot(page: Page, path: Path) -> None:
    """The whole page as a PNG at ``path``; when Chromium cannot capture a page that tall
    (it refuses now and then on a busy machine), what the screen shows."""
    try:
        page.screenshot(path=path, full_page=True)
    except PlaywrightError as error:
        if "Unable to capture screenshot" not in str(error):
            raise
        page.screenshot(path=path)


def check_axe(page: Page, where: str = "") -> list[dict]:
    """Run axe-core in ``page`` and fail on any serious or critical violation (printing each
    one's id, targets and help). Returns all violations; a no-op without axe.min.js
    (test_axe_core_is_available reports that skip)."""
    if AXE_JS is None:
        return []
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # The app's CSP (script-src 'self') blocks the injected inline script unless the
        # context bypasses it; the journeys' contexts do (see conftest.py).
        page.add_script_tag(path=str(AXE_JS))
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            raise AssertionError("axe-core could not be injected: create the context with "
                                 "bypass_csp=True")
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags},
                                               resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                helpUrl: v.helpUrl, targets: v.nodes.map(n => n.target.join(" ")),
                summaries: v.nodes.map(n => n.failureSummary)}));
        }""",
        AXE_TAGS,
    )
    url = page.url
    AXE_PAGES.append(where or url)
    for violation in result:
        AXE_FINDINGS.append({"where": where, "url": url, **violation})
    failing = [v for v in result if v["impact"] in FAILING_IMPACTS]
    if failing:
        lines = [f"axe-core: {len(failing)} serious or critical violation(s) on {url}"]
        for v in failing:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
            for target, summary in zip(v["targets"], v["summaries"], strict=True):
                lines.append(f"    {target}: {summary.splitlines()[-1].strip()}")
        print("\n".join(lines))
        raise AssertionError("\n".join(lines))
    return result


def check_axe_copy(axe_page: Page, page: Page, where: str = "") -> list[dict]:
    """axe-core for a page seen with JavaScript off. axe needs JavaScript (its timers do not
    run in such a page), so its HTML is served, at the same address, to ``axe_page`` (a
    JavaScript-enabled page whose own scripts are blocked) and checked there."""
    url, html = page.url, page.content()

    def serve(route):
        if route.request.url == url:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif route.request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    axe_page.route("**/*", serve)
    try:
        axe_page.goto(url)
    finally:
        axe_page.unroute("**/*", serve)
    return check_axe(axe_page, where)


def write_axe_findings() -> None:
    """Keep every violation (serious or not) of the pages checked as a CI artifact."""
    if AXE_PAGES:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        report = {"pages_checked": len(AXE_PAGES), "violations": AXE_FINDINGS}
        (RESULTS_DIR / "axe-findings.json").write_text(json.dumps(report, indent=1))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Visit:
    """Checks each page a journey reaches: ``visit(page, "ballot")`` saves
    test-results/screenshots/<test>-<viewport>-<nn>-<step>.png, runs axe-core, asserts no
    horizontal scrolling, no error status and no server exception."""

    test_name: str
    viewport: str
    server_errors: list
    statuses: dict = field(default_factory=dict)
    count: int = 0
    axe: bool = True
    axe_copies: dict = field(default_factory=dict)

    def watch(self, page: Page, *, axe_copy_in: Page | None = None) -> Page:
        """Record the status of every document the page loads. ``axe_copy_in``: for a page
        with JavaScript off, the page where copies of it are checked by axe-core."""
        page.on("response", lambda r: self._record(page, r))
        if axe_copy_in is not None:
            self.axe_copies[id(page)] = axe_copy_in
        return page

    def _record(self, page: Page, response) -> None:
        if response.request.resource_type == "document" and response.frame == page.main_frame:
            self.statuses[id(page)] = response.status

    def __call__(self, page: Page, step: str, *, status: int = 200) -> None:
        self.count += 1
        page.wait_for_load_state("load")
        name = f"{self.test_name}-{self.viewport}-{self.count:02d}-{_slug(step)}"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        save_screenshot(page, SCREENSHOT_DIR / f"{name}.png")
        assert not self.server_errors, f"the server raised: {self.server_errors}"
        seen = self.statuses.get(id(page))
        assert seen == status, f"{step}: {page.url} answered {seen}, expected {status}"
        width = page.viewport_size["width"]
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, (
            f"{step}: {page.url} scrolls sideways at {width} px (scrollWidth {scroll_width})"
        )
        if self.axe and id(page) in self.axe_copies:
            check_axe_copy(self.axe_copies[id(page)], page, where=name)
        elif self.axe:
            check_axe(page, where=name)


# The layout checks of issue 16, run in the page: returns what is wrong, one line each.
# - nothing sticks out of the viewport, and no box scrolls sideways inside the page (a
#   shell command in a <pre> may: it cannot wrap without changing what it says; so may a
#   text field's value);
# - no table cell is narrower than its content (its longest word);
# - no word and no amount is broken over two lines, unless the word alone is wider than
#   its whole box (a long address in an idea must break somewhere); in a heading, only a
#   word of more than 24 letters may (the service's own headings must fit, a soft hyphen
#   marking where a long compound may break; a resident's title may hold a longer word).
# Words are split at spaces and after hyphens, dashes and soft hyphens (where Chromium
# breaks lines), not at slashes or no-break spaces: "12 000 €" is one word.
LAYOUT_CHECKS = """() => {
    const problems = [];
    const width = window.innerWidth;
    const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.classList.length ? "." + [...el.classList].join(".") : "");
    const text = el => (el.textContent || "").trim().replace(/\\s+/g, " ").slice(0, 50);
    // Shown (not in a closed <details>), and not hidden the visually-hidden way (a box of
    // a pixel or so).
    const shown = el => {
        const rect = el.getBoundingClientRect();
        return el.checkVisibility() && rect.width > 4 && rect.height > 4;
    };
    const page = document.documentElement.scrollWidth;
    if (page > width) problems.push(`the page is ${page} px wide, the screen ${width} px`);
    const outside = [];  // only the outermost element sticking out is reported
    for (const el of document.body.querySelectorAll("*")) {
        if (!shown(el) || el.closest("pre")) continue;
        const rect = el.getBoundingClientRect();
        if ((rect.right > width + 1 || rect.left < -1) && !outside.some(o => o.contains(el))) {
            outside.push(el);
            problems.push(`${name(el)} sticks out of the screen (${Math.round(rect.left)}`
                          + `..${Math.round(rect.right)} px): "${text(el)}"`);
        }
        const overflow = getComputedStyle(el).overflowX;
        if (overflow !== "visible" && el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 1
                && !el.matches("input, textarea, select"))
            problems.push(`${name(el)} scrolls sideways (${el.scrollWidth} px in `
                          + `${el.clientWidth} px): "${text(el)}"`);
        if ((el.tagName === "TD" || el.tagName === "TH") && el.scrollWidth > el.clientWidth + 1)
            problems.push(`${name(el)} is narrower (${el.clientWidth} px) than its content `
                          + `(${el.scrollWidth} px): "${text(el)}"`);
    }
    const box = node => {
        let el = node.parentElement;
        while (el && getComputedStyle(el).display.startsWith("inline")) el = el.parentElement;
        return el;
    };
    const lines = range => new Set([...range.getClientRects()].filter(r => r.width > 0)
        .map(r => Math.round(r.top))).size;
    const range = document.createRange();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const words = /[^ \\t\\n\\r\\f\\-\\u2010-\\u2014\\u00ad]+[\\-\\u2010-\\u2014\\u00ad]*/g;
    const amount = /(?:€\\s?)?\\d[\\d\\u00a0\\u202f ,.]*\\d(?:[\\u00a0\\u202f ]?€)|€\\d[\\d,.]*/g;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const value = node.nodeValue;
        if (!value.trim() || !node.parentElement || !shown(node.parentElement)) continue;
        if (node.parentElement.closest("script, style, pre")) continue;
        const heading = node.parentElement.closest("h1, h2, h3, h4, h5, h6");
        for (const pattern of [words, amount]) {
            for (const match of value.matchAll(pattern)) {
                if (match[0].length < 2) continue;
                // After a soft hyphen that broke the line, Chromium counts the hyphen it
                // drew into the next word's first character: start one later.
                const soft = value[match.index - 1] === "\\u00ad" ? 1 : 0;
                range.setStart(node, match.index + soft);
                range.setEnd(node, match.index + match[0].replace(/[ ]+$/, "").length);
                if (lines(range) < 2) continue;
                const container = box(node);
                const wide = [...range.getClientRects()].reduce((sum, r) => sum + r.width, 0);
                const own = heading && match[0].length <= 24;  // the service's own word
                if (pattern === words && !own && container && wide > container.clientWidth)
                    continue;
                const where = container ? name(container) : "?";
                problems.push(`"${match[0]}" is broken over two lines in ${where}: `
                              + `"${text(node.parentElement)}"`);
            }
        }
    }
    for (const el of document.querySelectorAll(".amount"))
        if (shown(el) && lines((range.selectNodeContents(el), range)) > 1)
            problems.push(`the amount "${text(el)}" is on two lines`);
    return [...new Set(problems)];
}"""


def layout_problems(page: Page) -> list[str]:
    """What the layout checks (LAYOUT_CHECKS) find wrong on the page, one line each."""
    return page.evaluate(LAYOUT_CHECKS)


class _QuietHandler(WSGIRequestHandler):
    """No access log lines (errors are still logged)."""

    def log_request(self, code="-", size="-"):
        pass


@contextmanager
def served(app):
    """Serve ``app`` on a real threaded server on 127.0.0.1 and a free port; yields its
    address and the list of exceptions its requests raise (as they happen)."""
    errors: list[str] = []

    def record(sender, exception, **extra):
        errors.append(repr(exception))

    got_request_exception.connect(record, app, weak=False)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="pb_vote-live-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", errors
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        got_request_exception.disconnect(record, app)


def new_mail(app, to: str, before: int, wait_seconds: float = 5.0):
    """The newest mail to ``to`` sent after the first ``before`` messages. The server sends
    mail once its response has gone out, so the message may still be on its way: wait a
    little for it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        for mail in reversed(outbox(app)[before:]):
            if mail.to == to:
                return mail
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to}")
        time.sleep(0.02)


def link_in(body: str) -> str:
    """The first address in a mail body."""
    match = re.search(r"https?://\S+", body)
    assert match, f"no link in mail: {body!r}"
    return match.group(0)


def sign_in_by_link(page: Page, app, email: str, visit: Visit | None = None) -> None:
    """Ask for a sign-in link on /sign-in, open the mailed link, press Sign in."""
    check = visit or (lambda *a, **k: None)
    page.goto("/sign-in")
    check(page, "sign-in")
    before = len(outbox(app))
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()
    check(page, "link-sent")
    page.goto(link_in(new_mail(app, email, before).body))
    expect(page).to_have_url(re.compile(r"/sign-in/confirm$"))  # the token left the address
    check(page, "confirm-link")
    page.get_by_role("button", name="Sign in").click()
    # In the account's language (a new account takes the page's).
    expect(page.get_by_text(re.compile(
        r"^(You are signed in\.|Olet kirjautunut sisään\.|Du är inloggad\.)$"))).to_be_visible()


def sign_in_with_password(page: Page, email: str, password: str,
                          visit: Visit | None = None) -> None:
    """Staff sign-in with email and password; ends on the staff dashboard."""
    page.goto("/staff/sign-in")
    if visit:
        visit(page, "staff-sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Staff pages", level=1)).to_be_visible()


LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def choose_language(page: Page, language: str) -> None:
    """Choose ``language`` in the header's language menu (a disclosure at every width)."""
    page.locator(".language-menu summary").click()
    page.locator("form.language-switch").get_by_role(
        "button", name=LANGUAGE_NAMES[language]).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def header_link(page: Page, name: str):
    """A link of the header, opening the phone's Menu first when the links are in it."""
    menu = page.locator(".phone-menu")
    if menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return page.locator(".site-header").get_by_role("link", name=name)


def tab_to(page: Page, selector: str, *, limit: int = 60, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until the focused element matches ``selector``; asserts it
    got there and that the focus is visible (WCAG 2.4.7). Returns what is focused."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(
            """(selector) => {
                const el = document.activeElement;
                if (!el || el === document.body) return null;
                const style = getComputedStyle(el);
                return {matches: el.matches(selector), tag: el.tagName.toLowerCase(),
                        outline: style.outlineStyle !== "none"
                                 && parseFloat(style.outlineWidth) > 0};
            }""",
            selector,
        )
        if focused and focused["matches"]:
            assert focused["outline"], f"{selector} has no visible focus outline"
            return focused
    raise AssertionError(f"Tab never reached {selector} in {limit} presses")
