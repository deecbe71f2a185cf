"""The service's own pages (about, contact, privacy notice, accessibility statement) as the
city admin writes them, in Markdown: saving a version (audited), going back to the built-in
text, the history, and what a reader sees in their language. Markdown becomes HTML through
markdown-it-py, and that HTML is then cleaned by nh3 (the Ammonia sanitizer) to a short
list of tags, attributes and link schemes.

What a page shows in a language (``shown_text``): the admin's latest text in that language;
else, for another language than the city's main one, the admin's text in the main language
(marked as such: the page says so and gives it its ``lang``); else the built-in text (the
translated template), which exists in every language.
"""

from dataclasses import dataclass
from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import LANGUAGES, SERVICE_PAGES, ServicePageVersion, User
from pb_vote.models.pages import PAGE_TEXT_MAX_CHARS
from pb_vote.services.audit import record_event

# What a page's HTML may hold. The page's own <h1> is its title, so headings start at h2.
ALLOWED_TAGS = {
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "em", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# Links may lead to web pages, mail and phone numbers, and this service's own pages
# (relative addresses); never to javascript:, data: or any other scheme.
LINK_SCHEMES = {"http", "https", "mailto", "tel"}


class ServicePageError(ServiceError):
    """Saving a service page's text was refused."""


def _image_as_text(self, tokens, idx, options, env) -> str:
    """An image shows as its description: the pages have no images of their own, and one
    from another host would tell that host who reads the page (the Content-Security-Policy
    would refuse it anyway)."""
    return escapeHtml(self.renderInlineAsText(tokens[idx].children or [], options, env))


def _markdown() -> MarkdownIt:
    # CommonMark with tables and strikethrough; raw HTML is off (shown as the text it is).
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("image", _image_as_text)
    return parser


MARKDOWN = _markdown()


def render_markdown(text: str) -> str:
    """``text`` (Markdown) as safe HTML: rendered without raw HTML, its top headings made
    h2 (the page's title is the h1), then cleaned of every tag, attribute and link scheme
    not allowed (so no script, no event handler, no javascript: or data: address)."""
    tokens = MARKDOWN.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag == "h1":
            token.tag = "h2"
    html = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=LINK_SCHEMES, link_rel="noopener noreferrer",
                     strip_comments=True)


@cache
def _page_markdown():
    """The converter of the built-in pages' HTML to Markdown (made on first use: markdownify
    loads BeautifulSoup, which only the editor needs)."""
    from markdownify import MarkdownConverter

    class PageMarkdown(MarkdownConverter):
        """Lists of facts (<dl>) become bullet lists of "**Term:** value", which Markdown
        can say; marked with * rather than the other lists' -, so that a list right after
        them stays a list of its own."""

        def convert_dl(self, el, text, parent_tags):
            return "\n\n" + text.strip() + "\n\n"

        def convert_dt(self, el, text, parent_tags):
            return "\n* **" + " ".join(text.split()) + ":** "

        def convert_dd(self, el, text, parent_tags):
            return " ".join(text.split())

    return PageMarkdown(heading_style="ATX", bullets="-", strip=["abbr", "span"])


def markdown_of(html: str) -> str:
    """A built-in page's HTML as Markdown, the starting text of an editor."""
    converted = _page_markdown().convert(html)
    lines = [line.rstrip() for line in converted.strip().splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text + "\n"


def _check(page: str, language: str) -> None:
    if page not in SERVICE_PAGES or language not in LANGUAGES:
        raise ValueError(f"no service page {page!r} in {language!r}")


def latest_versions(page: str) -> dict[str, ServicePageVersion]:
    """The latest version of ``page`` in each language that has one, by language."""
    newest = (select(func.max(ServicePageVersion.id))
              .where(ServicePageVersion.page == page)
              .group_by(ServicePageVersion.language))
    rows = db.session.execute(
        select(ServicePageVersion).where(ServicePageVersion.id.in_(newest))
        .options(selectinload(ServicePageVersion.saved_by))).scalars()
    return {version.language: version for version in rows}


def own_text(page: str, language: str) -> ServicePageVersion | None:
    """The admin's text of ``page`` in ``language`` in force (None: the built-in text)."""
    _check(page, language)
    version = latest_versions(page).get(language)
    return version if version is not None and version.body is not None else None


@dataclass(frozen=True)
class ShownText:
    """What a page shows a reader: the admin's ``version`` (None: the built-in text),
    written in ``lang``; ``fallback`` when that is the main language standing in for the
    reader's."""

    version: ServicePageVersion | None
    lang: str
    fallback: bool = False

    @property
    def html(self) -> str:
        """The admin's text as safe HTML ("" for the built-in text)."""
        return render_markdown(self.version.body) if self.version is not None else ""


def shown_text(page: str, wanted: str, main: str) -> ShownText:
    """What ``page`` shows a reader of ``wanted``, with ``main`` the city's main language
    (see the module's docstring)."""
    _check(page, wanted)
    versions = {language: version for language, version in latest_versions(page).items()
                if version.body is not None}
    if wanted in versions:
        return ShownText(versions[wanted], wanted)
    if wanted != main and main in versions:
        return ShownText(versions[main], main, fallback=True)
    return ShownText(None, wanted)


@dataclass(frozen=True)
class LanguageState:
    """For staff: what ``page`` shows in ``language``: "own" (the admin's text,
    ``version``), "fallback" (the main language's text) or "built_in"."""

    language: str
    shows: str
    version: ServicePageVersion | None


def language_states(page: str, main: str) -> list[LanguageState]:
    """What ``page`` shows in each language, the main language first."""
    states = []
    for language in sorted(LANGUAGES, key=lambda code: code != main):
        shown = shown_text(page, language, main)
        shows = "built_in" if shown.version is None else "fallback" if shown.fallback else "own"
        states.append(LanguageState(language, shows,
                                    shown.version if shows == "own" else None))
    return states


def history(page: str, language: str) -> list[ServicePageVersion]:
    """Every version of ``page`` in ``language``, newest first, with who saved it."""
    _check(page, language)
    return list(db.session.execute(
        select(ServicePageVersion)
        .where(ServicePageVersion.page == page, ServicePageVersion.language == language)
        .options(selectinload(ServicePageVersion.saved_by))
        .order_by(ServicePageVersion.id.desc())).scalars())


def version_of(page: str, language: str, version_id: int) -> ServicePageVersion | None:
    """Version ``version_id`` when it is one of ``page`` in ``language``."""
    version = db.session.get(ServicePageVersion, version_id)
    if version is None or (version.page, version.language) != (page, language):
        return None
    return version


def clean_text(text: str) -> str:
    """The text as it is kept: Unix line breaks, no blank lines or spaces around it."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def save_text(actor: User, page: str, language: str, text: str, *,
              restored_from: int | None = None) -> ServicePageVersion:
    """Save ``text`` (Markdown) as ``page``'s text in ``language``: a new version, shown at
    once, audited. ``restored_from``: the earlier version the text was started from."""
    _check(page, language)
    body = clean_text(text)
    if not body:
        raise ServicePageError("page_text_empty")
    if len(body) > PAGE_TEXT_MAX_CHARS:
        raise ServicePageError("page_text_too_long", limit=PAGE_TEXT_MAX_CHARS,
                               length=len(body))
    current = own_text(page, language)
    if current is not None and current.body == body:
        raise ServicePageError("page_text_unchanged")
    version = ServicePageVersion(page=page, language=language, body=body, saved_by=actor)
    db.session.add(version)
    db.session.flush()
    details = {"page": page, "language": language, "version": version.id,
               "characters": len(body)}
    if restored_from is not None:
        details["restored_from"] = restored_from
    record_event(actor, "service_page.saved", "service_page", f"{page}/{language}",
                 details=details)
    return version


def use_built_in(actor: User, page: str, language: str) -> ServicePageVersion:
    """Make ``page`` in ``language`` show its built-in text again (a version without a
    text, so the history keeps what was shown before); audited."""
    if own_text(page, language) is None:
        raise ServicePageError("page_already_built_in")
    version = ServicePageVersion(page=page, language=language, body=None, saved_by=actor)
    db.session.add(version)
    db.session.flush()
    record_event(actor, "service_page.built_in", "service_page", f"{page}/{language}",
                 details={"page": page, "language": language, "version": version.id})
    return version
