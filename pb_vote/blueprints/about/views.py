"""The service's own pages: about, contact, privacy notice and accessibility statement.
Each shows the city admin's text when one is saved (services/service_pages.py says which
language), else its built-in text: the translated template, with who runs the service and
how to reach them from configuration. Nothing here is cached: an edit shows at once."""

from flask import Blueprint, render_template
from markupsafe import Markup

from pb_vote.blueprints.about.pages import FALLBACK_NOTES, local_day, main_language, page_context
from pb_vote.blueprints.languages import page_language
from pb_vote.services import service_pages

bp = Blueprint("about", __name__)


def _page(page: str):
    """``page`` for this reader: the admin's text (or the main language's, marked) with
    the day it was saved, else the built-in text."""
    language, main = page_language(), main_language()
    shown = service_pages.shown_text(page, language, main)
    return render_template(
        f"about/{page}.html", shown=shown, own_html=Markup(shown.html),
        updated_on=local_day(shown.version.saved_at) if shown.version else None,
        fallback_note=FALLBACK_NOTES.get((language, main)) if shown.fallback else None,
        **page_context(page))


@bp.get("/about")
def about():
    """What the service is, how a round goes, and the partnership tables."""
    return _page("about")


@bp.get("/contact")
def contact():
    """Who runs the service and how to reach them."""
    return _page("contact")


@bp.get("/privacy")
def privacy():
    """The privacy notice: what personal data the service holds, why, for how long."""
    return _page("privacy")


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement the Act on the Provision of Digital Services asks for."""
    return _page("accessibility")
