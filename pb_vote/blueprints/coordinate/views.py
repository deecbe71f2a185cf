"""Staff views of a table."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from pb_vote.blueprints.common import no_store, require
from pb_vote.services import catalog
from pb_vote.services.permissions import Action, is_allowed

bp = Blueprint("coordinate", __name__, url_prefix="/manage")


@bp.get("")
@login_required
def dashboard():
    """The tables this person works for (every table for a city admin)."""
    no_store()
    tables = [
        table
        for table in catalog.list_tables()
        if is_allowed(current_user, Action.VIEW_STAFF_PAGES, table)
    ]
    return render_template("coordinate/dashboard.html", tables=tables)


@bp.get("/tables/<slug>")
@login_required
def table(slug: str):
    """A table's staff overview: every round (drafts included) and the people in roles."""
    no_store()
    table_ = catalog.table_by_slug(slug) or abort(404)
    require(Action.VIEW_STAFF_PAGES, table_)
    return render_template("coordinate/table.html", table=table_)
