"""Public pages."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from pb_vote.blueprints.common import load_or_404, no_store, safe_next_url
from pb_vote.extensions import db
from pb_vote.mail import outbox
from pb_vote.models import LANGUAGES, Round
from pb_vote.services import catalog
from pb_vote.services.permissions import can_see_round
from pb_vote.web import LANGUAGE_COOKIE

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The tables and what each is doing now."""
    tables = catalog.list_tables()
    featured = {table.id: catalog.current_round(table) for table in tables}
    return render_template("public/home.html", tables=tables, featured=featured)


@bp.get("/tables/<slug>")
def table(slug: str):
    """One partnership table: its area and its public rounds."""
    table_ = catalog.table_by_slug(slug) or abort(404)
    return render_template(
        "public/table.html", table=table_, rounds=catalog.public_rounds(table_)
    )


@bp.get("/rounds/<int:round_id>")
def round_page(round_id: int):
    """A budget round: phase, schedule, budget and its public proposals."""
    round_ = load_or_404(Round, round_id)
    if not can_see_round(current_user, round_):
        abort(404)  # a draft is not public; do not reveal that it exists
    return render_template(
        "public/round.html", round=round_, proposals=catalog.public_proposals(round_)
    )


@bp.post("/language")
def set_language():
    """Remember the chosen language (cookie, and the account when signed in)."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    target = safe_next_url(request.form.get("next"), url_for("public.home"))
    response = redirect(target, code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
    )
    if current_user.is_authenticated and current_user.language != language:
        current_user.language = language
        db.session.commit()
    return response


@bp.get("/dev/mail")
def dev_mailbox():
    """Development only: the mail the service would have sent, newest first."""
    if not current_app.config.get("DEV_MAILBOX"):
        abort(404)
    no_store()
    return render_template("public/dev_mail.html", messages=list(reversed(outbox(current_app))))
