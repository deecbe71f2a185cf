"""The city admin's editor of the service's own pages (about, contact, privacy notice,
accessibility statement) in each language: Markdown with a preview (a button that renders
the form again, no JavaScript), each save a new version (audited), the history with each
version to open again, and a way back to the built-in text."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from pb_vote.blueprints.about.pages import (
    PAGE_TITLES,
    built_in_markdown,
    language_name,
    main_language,
)
from pb_vote.blueprints.admin.views import bp
from pb_vote.blueprints.common import no_store, require
from pb_vote.blueprints.messages import message_for
from pb_vote.extensions import db
from pb_vote.models import LANGUAGES, SERVICE_PAGES
from pb_vote.models.pages import PAGE_TEXT_MAX_CHARS
from pb_vote.services import service_pages
from pb_vote.services.permissions import Action


class PageTextForm(FlaskForm):
    """A page's text in one language, to preview or to save."""

    text = TextAreaField(
        _l("Text of the page (Markdown)"),
        description=_l("Plain text with Markdown formatting: see “How to format” below."),
        validators=[InputRequired(message=_l("Write the page's text, or go back to the "
                                             "built-in text below.")),
                    Length(max=PAGE_TEXT_MAX_CHARS,
                           message=_l("The text is too long: at most %(max)d characters."))])
    restored_from = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save and publish"))


class BuiltInForm(FlaskForm):
    """Show the built-in text again."""

    submit = SubmitField(_l("Go back to the built-in text"))


def _known(page: str, language: str) -> None:
    if page not in SERVICE_PAGES or language not in LANGUAGES:
        abort(404)


def _starting_text(page: str, language: str, asked: str | None) -> tuple[str, str, int | None]:
    """The editor's first text, what it is ("own", "version", "built_in") and the version
    it comes from: ``?from=<id>`` an earlier version, ``?from=built-in`` the built-in
    text; else the text in force, or the built-in text when there is none."""
    if asked and asked.isascii() and asked.isdigit() and len(asked) <= 9:
        version = service_pages.version_of(page, language, int(asked)) or abort(404)
        if version.body is not None:
            return version.body, "version", version.id
    current = service_pages.own_text(page, language)
    if current is not None and asked != "built-in":
        return current.body, "own", None
    return built_in_markdown(page, language), "built_in", None


def _restored_from(page: str, language: str, value: str | None) -> int | None:
    if value and value.isascii() and value.isdigit() and len(value) <= 9:
        version = service_pages.version_of(page, language, int(value))
        return version.id if version is not None else None
    return None


def _editor(page: str, language: str, form: PageTextForm, started: str, preview=None):
    return render_template(
        "admin/service_page.html", page=page, text_language=language, form=form,
        started=started, preview=preview, page_title=PAGE_TITLES[page],
        language_name=language_name, main=main_language(),
        states=service_pages.language_states(page, main_language()),
        history=service_pages.history(page, language),
        current=service_pages.own_text(page, language), built_in_form=BuiltInForm(),
    ), 400 if form.errors else 200


@bp.get("/pages")
@login_required
def service_pages_index():
    """The service's own pages, and what each shows in each language."""
    no_store()
    require(Action.ADMINISTER)
    main = main_language()
    return render_template(
        "admin/service_pages.html", titles=PAGE_TITLES, main=main,
        language_name=language_name,
        states={page: service_pages.language_states(page, main) for page in SERVICE_PAGES})


@bp.route("/pages/<page>/<language>", methods=["GET", "POST"])
@login_required
def edit_service_page(page: str, language: str):
    """Edit ``page`` in ``language``: Preview renders the form again with the page as it
    would look; Save keeps a new version and shows it on the page at once."""
    no_store()
    _known(page, language)
    require(Action.ADMINISTER)
    form = PageTextForm()
    if request.method == "GET":
        form.text.data, started, version_id = _starting_text(page, language,
                                                            request.args.get("from"))
        form.restored_from.data = version_id or ""
        return _editor(page, language, form, started)
    if not form.validate_on_submit():
        return _editor(page, language, form, "posted")
    if form.preview.data:
        preview = Markup(service_pages.render_markdown(form.text.data))
        return _editor(page, language, form, "posted", preview)
    try:
        service_pages.save_text(current_user, page, language, form.text.data,
                                restored_from=_restored_from(page, language,
                                                             form.restored_from.data))
    except service_pages.ServicePageError as error:
        form.text.errors.append(message_for(error))
        return _editor(page, language, form, "posted")
    db.session.commit()
    flash(gettext("Saved. The page shows the new text now."), "success")
    return redirect(url_for("admin.edit_service_page", page=page, language=language), code=303)


@bp.post("/pages/<page>/<language>/built-in")
@login_required
def service_page_built_in(page: str, language: str):
    """Show ``page`` in ``language`` with its built-in text again (the history keeps the
    text it had)."""
    _known(page, language)
    require(Action.ADMINISTER)
    if BuiltInForm().validate_on_submit():
        try:
            service_pages.use_built_in(current_user, page, language)
        except service_pages.ServicePageError as error:
            flash(message_for(error), "error")
        else:
            db.session.commit()
            flash(gettext("The page shows its built-in text again."), "success")
    return redirect(url_for("admin.edit_service_page", page=page, language=language), code=303)
