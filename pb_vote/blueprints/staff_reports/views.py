"""Reports for a table's staff (members, coordinators, city admins): a round's statistics
once voting has closed, as a page of charts and tables and as CSV, and the round's
proposals with their moderation history and its settings as CSV. City admins set the
number of residents entitled to vote in a table's area here, for the turnout shares.
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pb_vote import clock
from pb_vote.blueprints import downloads
from pb_vote.blueprints.common import load_round, no_store, require
from pb_vote.blueprints.staff_reports import presentation
from pb_vote.blueprints.staff_reports.forms import (
    EligibleResidentsForm,
    eligible_residents_form,
)
from pb_vote.extensions import db
from pb_vote.services import exports, statistics
from pb_vote.services.permissions import Action, is_allowed

bp = Blueprint("staff_reports", __name__, url_prefix="/manage/rounds/<int:round_id>")
PRIVATE = "private, no-store"


def _staff_round(round_id: int):
    round_ = load_round(round_id)
    require(Action.VIEW_STAFF_PAGES, round_)
    return round_


def _statistics(round_):
    return statistics.round_statistics(round_, current_app.config["STATISTICS_MIN_CELL"])


def _statistics_page(round_, form: EligibleResidentsForm, status: int = 200):
    stats = _statistics(round_) if round_.phase.countable else None
    may_set = is_allowed(current_user, Action.ADMINISTER)
    return render_template(
        "staff_reports/statistics.html", round=round_, stats=stats, form=form,
        may_set=may_set, sections=presentation.sections(stats) if stats else [],
    ), status


def _csv(content: bytes, name: str):
    return downloads.send_small(content, "text/csv; charset=utf-8", cache_control=PRIVATE,
                                headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/statistics")
@login_required
def statistics_page(round_id: int):
    """Turnout by channel, day, home postal code and account language, once voting has
    closed: charts with the same figures in tables; no group under the minimum shown."""
    no_store()
    round_ = _staff_round(round_id)
    return _statistics_page(round_, eligible_residents_form(round_.table, filled=True))


@bp.post("/eligible-residents")
@login_required
def set_eligible_residents(round_id: int):
    """A city admin records how many residents of the round's table may vote."""
    no_store()
    round_ = _staff_round(round_id)
    require(Action.ADMINISTER)
    form = eligible_residents_form(round_.table, filled=False)
    if not form.validate_on_submit():
        return _statistics_page(round_, form, status=400)
    statistics.set_eligible_residents(current_user, round_.table, form.residents.data,
                                      form.by_area())
    db.session.commit()
    flash(gettext("The number of residents entitled to vote is saved."), "success")
    return redirect(url_for("staff_reports.statistics_page", round_id=round_.id), code=303)


@bp.get("/statistics.csv")
@login_required
def statistics_csv(round_id: int):
    """The statistics page's figures as CSV, hidden ones as on the page."""
    round_ = _staff_round(round_id)
    if not round_.phase.countable:
        abort(404)
    return _csv(presentation.statistics_csv(_statistics(round_)),
                f"round-{round_.id}-statistics.csv")


@bp.get("/proposals.csv")
@login_required
def proposals_csv(round_id: int):
    """Every proposal of the round with its moderation history: who, when, what, why."""
    round_ = _staff_round(round_id)
    return _csv(presentation.proposals_csv(round_, exports.proposal_histories(round_)),
                f"round-{round_.id}-proposals.csv")


@bp.get("/settings.csv")
@login_required
def settings_csv(round_id: int):
    """The round's settings, one per line."""
    round_ = _staff_round(round_id)
    return _csv(presentation.settings_csv(round_, clock.utcnow()),
                f"round-{round_.id}-settings.csv")
