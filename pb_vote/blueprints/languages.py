"""Which language a response speaks, and the names the language switch shows."""

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from pb_vote.models import LANGUAGES, Round
from pb_vote.models.texts import LocalText

LANGUAGE_COOKIE = "pb_vote_lang"
LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


def select_locale() -> str:
    """The language of this response: the account's, then the cookie's, then the browser's."""
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or current_app.config.get(
        "BABEL_DEFAULT_LOCALE", "fi"
    )


def page_language() -> str:
    """The language this page speaks (fi, sv or en)."""
    return str(get_locale())


def localized(item, field: str) -> LocalText:
    """``item``'s ``field`` (a table's, round's or proposal's text) for this page: in its
    language, or the main language where it has no translation (see models/texts.py)."""
    return item.text_in(field, page_language())


def category_name(round_: Round, name: str | None) -> LocalText | None:
    """Category ``name`` of ``round_`` (stored in the main language) for this page."""
    return round_.category_in(name, page_language()) if name else name


def category_labels(round_: Round) -> dict[str, LocalText]:
    """The round's categories (as stored) with their names for this page, in order."""
    return {name: category_name(round_, name) for name in round_.categories or []}


def lang_attr(text) -> Markup:
    """`` lang="sv"`` for an element holding ``text`` when its language is not the page's
    (WCAG 3.1.2: a screen reader then pronounces it right); nothing otherwise."""
    lang = getattr(text, "lang", None)
    if lang and lang != page_language():
        return Markup(' lang="%s"') % lang
    return Markup("")


def marked(text) -> Markup:
    """``text`` for the page's body, in a ``<span lang>`` when its language is not the
    page's."""
    attribute = lang_attr(text)
    if attribute:
        return Markup("<span%s>%s</span>") % (attribute, text)
    return escape(text if text is not None else "")


# (missing language, main language): what staff pages say of texts without a translation.
_MISSING = {
    ("sv", "fi"): _l("No Swedish text for: %(fields)s. The Finnish text is shown instead."),
    ("en", "fi"): _l("No English text for: %(fields)s. The Finnish text is shown instead."),
    ("fi", "sv"): _l("No Finnish text for: %(fields)s. The Swedish text is shown instead."),
    ("en", "sv"): _l("No English text for: %(fields)s. The Swedish text is shown instead."),
}
_FIELD_NAMES = {"name": _l("name"), "title": _l("title"), "description": _l("description"),
                "categories": _l("categories")}


def missing_texts(item) -> list[str]:
    """For staff: one sentence per language in which ``item`` (a table or round) lacks
    texts, naming them and the language shown instead."""
    main = item.main_language
    return [
        str(_MISSING[(language, main)]) % {
            "fields": ", ".join(str(_FIELD_NAMES[field]) for field in fields)}
        for language, fields in item.missing_languages().items()
    ]
