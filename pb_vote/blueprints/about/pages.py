"""What the service's own pages need from the request: their titles, the city's main
language, who runs the service (configuration), the built-in text's template context, and
the built-in text as Markdown for the editor. Shared by the public pages (about.views) and
the admin's editor (admin.service_pages)."""

from datetime import date
from zoneinfo import ZoneInfo

from babel import Locale
from flask import current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from pb_vote.blueprints.languages import page_language
from pb_vote.models.texts import MAIN_LANGUAGES
from pb_vote.services import catalog, service_pages

PAGE_TITLES = {
    "about": _l("About the service"),
    "contact": _l("Contact"),
    "privacy": _l("Privacy notice"),
    "accessibility": _l("Accessibility statement"),
}
# (reader's language, main language): what a page says above a text that stands in for a
# translation not written.
FALLBACK_NOTES = {
    ("sv", "fi"): _l("This page has not been written in Swedish. It is shown in Finnish."),
    ("en", "fi"): _l("This page has not been written in English. It is shown in Finnish."),
    ("fi", "sv"): _l("This page has not been written in Finnish. It is shown in Swedish."),
    ("en", "sv"): _l("This page has not been written in English. It is shown in Swedish."),
}


def main_language() -> str:
    """The city's main language (``CITY_MAIN_LANGUAGE``: fi or sv, checked at start-up):
    the service's pages fall back to it where a translation is missing."""
    language = current_app.config["CITY_MAIN_LANGUAGE"]
    return language if language in MAIN_LANGUAGES else "fi"


def language_name(code: str) -> str:
    """The name of language ``code`` in this page's language ("Swedish", "ruotsi")."""
    return Locale.parse(page_language()).languages.get(code, code)


def service_provider() -> dict:
    """Who runs the service and how to reach them, from configuration (None: not set)."""
    config = current_app.config
    email = config.get("CITY_CONTACT_EMAIL") or None
    return {
        "city": config.get("CITY_NAME") or None,
        "email": email,
        "phone": config.get("CITY_CONTACT_PHONE") or None,
        "postal_address": config.get("CITY_POSTAL_ADDRESS") or None,
        "data_protection_email": config.get("DATA_PROTECTION_EMAIL") or email,
        "address": config.get("PUBLIC_BASE_URL") or request.host_url.rstrip("/"),
    }


def statement_date() -> date | None:
    """The day the built-in accessibility statement was reviewed (configuration)."""
    try:
        return date.fromisoformat(str(current_app.config.get("ACCESSIBILITY_STATEMENT_DATE")))
    except ValueError:
        return None  # not configured as YYYY-MM-DD: the statement leaves the date out


def page_context(page: str) -> dict:
    """What the template of ``page`` needs, its built-in text included."""
    config = current_app.config
    context = {"page": page, "page_title": PAGE_TITLES[page], "provider": service_provider()}
    if page == "privacy":
        context.update(link_minutes=config["SIGN_IN_LINK_MAX_AGE_SECONDS"] // 60,
                       session_days=config["LOGIN_SESSION_DAYS"],
                       min_ballots=config["RESULTS_MIN_BALLOTS"],
                       min_cell=config["STATISTICS_MIN_CELL"])
    elif page == "accessibility":
        context.update(reviewed_on=statement_date())
    elif page == "about":
        context.update(tables=catalog.list_tables())
    return context


def local_day(moment) -> date:
    """The city's calendar day of a UTC timestamp."""
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def built_in_html(page: str, language: str) -> str:
    """The built-in text of ``page`` (its template's ``page_text`` block) in ``language``,
    as HTML, with the configuration's contact details and limits filled in."""
    with force_locale(language):
        template = current_app.jinja_env.get_template(f"about/{page}.html")
        values = page_context(page)
        current_app.update_template_context(values)
        return "".join(template.blocks["page_text"](template.new_context(values)))


def built_in_markdown(page: str, language: str) -> str:
    """The built-in text of ``page`` in ``language``, written out as Markdown."""
    return service_pages.markdown_of(built_in_html(page, language))
