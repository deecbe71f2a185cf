"""Staff views of a table: rounds (set-up, phases) and results (the voting desk is in
desk.py, moderation in its own blueprint).
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from pb_vote import clock, tasks
from pb_vote.blueprints.common import load_round, no_store, require
from pb_vote.blueprints.coordinate.forms import (
    CancelForm,
    CorrectionForm,
    CountForm,
    PhaseForm,
    PublishForm,
    RoundForm,
    RoundTextsForm,
    TableTextsForm,
)
from pb_vote.blueprints.fields import format_euros
from pb_vote.blueprints.labels import PHASE_LABELS, label
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.results import presentation
from pb_vote.extensions import db
from pb_vote.models import (
    CountStatus,
    ProposalStatus,
    RoundPhase,
)
from pb_vote.services import catalog, counting, notices, voting
from pb_vote.services import dashboard as dashboard_service
from pb_vote.services import results as results_service
from pb_vote.services import rounds as round_service
from pb_vote.services import tables as table_service
from pb_vote.services.permissions import Action
from pb_vote.services.rounds import sync_phase

bp = Blueprint("coordinate", __name__, url_prefix="/manage")
REFRESH_SECONDS = 3  # how often a results page reloads itself while its count runs


@bp.get("")
@login_required
def dashboard():
    """Where staff start after signing in: for each table this person works for (every
    table for a city admin) its current rounds with their phase, the schedule's next date,
    what the person can do next, what waits for moderation and the turnout so far. A fixed
    number of queries, whatever the number of tables and rounds."""
    no_store()
    require(Action.VIEW_DASHBOARD)
    tables, now = dashboard_service.staff_tables(current_user), clock.utcnow()
    # Each round caught up with its schedule first, as load_round does for a round's page
    # (no query unless one is due: the phase clock usually got there first).
    if [round_ for table in tables for round_ in table.rounds if sync_phase(round_, now)]:
        db.session.commit()
    return render_template("coordinate/dashboard.html",
                           summaries=dashboard_service.summarize(current_user, tables, now))


@bp.get("/tables/<slug>")
@login_required
def table(slug: str):
    """A table's staff overview: every round (drafts included) and the people in roles."""
    no_store()
    table_ = catalog.table_by_slug(slug) or abort(404)
    require(Action.VIEW_STAFF_PAGES, table_)
    return render_template("coordinate/table.html", table=table_)


@bp.route("/tables/<slug>/texts", methods=["GET", "POST"])
@login_required
def table_texts(slug: str):
    """A table's main language, and its name and description in each language."""
    no_store()
    table_ = catalog.table_by_slug(slug) or abort(404)
    require(Action.MANAGE_ROUNDS, table_)
    form = TableTextsForm()
    if not form.is_submitted():
        form.show(table_)
    if form.validate_on_submit():
        try:
            table_service.set_table_texts(current_user, table_, form.main_language.data,
                                          form.texts())
        except table_service.TableError as error:
            db.session.rollback()
            form.main_language.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The table's name and description are saved."), "success")
            return redirect(url_for("coordinate.table", slug=table_.slug), code=303)
    return render_template("coordinate/table_texts.html", form=form, table=table_)


@bp.route("/tables/<slug>/rounds/new", methods=["GET", "POST"])
@login_required
def new_round(slug: str):
    """Set up a new round (it starts as a draft)."""
    no_store()
    table_ = catalog.table_by_slug(slug) or abort(404)
    require(Action.MANAGE_ROUNDS, table_)
    if table_.is_retired:
        flash(message_for(round_service.RoundError("table_retired")), "error")
        return redirect(url_for("coordinate.table", slug=table_.slug), code=303)
    form = RoundForm().in_language(table_.main_language)
    if form.is_submitted() and form.validate_settings(
            lambda settings: round_service.check_settings(settings, clock.utcnow())):
        try:
            round_ = round_service.create_round(current_user, table_, form.settings())
        except round_service.RoundError as error:  # a minute passed since the check
            db.session.rollback()
            form.add_problems(error.details.get("problems", []))
        else:
            db.session.commit()
            flash(gettext("The round is saved as a draft. Open it when it is ready."),
                  "success")
            return redirect(url_for("coordinate.round_overview", round_id=round_.id), code=303)
    return render_template("coordinate/round_form.html", form=form, table=table_, round=None)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
def edit_round(round_id: int):
    """Change a round's settings until voting opens."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    form = RoundForm(obj=round_).in_language(round_.main_language)
    if not form.is_submitted():
        form.budget.raw_text = format_euros(round_.budget_cents)
        form.show_texts(round_)
        for name in ("proposals_open_at", "proposals_close_at", "voting_open_at",
                     "voting_close_at"):
            getattr(form, name).show(getattr(round_, name), round_.time_zone)
    if not round_.phase.settings_editable:
        return render_template("coordinate/round_form.html", form=form, table=round_.table,
                               round=round_, frozen=True)
    if form.is_submitted() and form.validate_settings(
            lambda settings: round_service.check_change(round_, settings, clock.utcnow())):
        try:
            round_service.update_round(current_user, round_, form.settings())
        except round_service.RoundError as error:
            db.session.rollback()
            if error.code == "invalid_settings":
                form.add_problems(error.details["problems"])
            else:
                form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The round's settings are saved."), "success")
            return redirect(url_for("coordinate.round_overview", round_id=round_.id), code=303)
    return render_template("coordinate/round_form.html", form=form, table=round_.table,
                           round=round_, frozen=False)


@bp.route("/rounds/<int:round_id>/texts", methods=["GET", "POST"])
@login_required
def round_texts(round_id: int):
    """A round's title, description and categories in the other languages, in any phase."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    form = RoundTextsForm().for_round(round_)
    if not form.is_submitted():
        form.show_texts(round_)
    if form.validate_on_submit():
        round_service.set_translations(current_user, round_, form.translations())
        db.session.commit()
        flash(gettext("The translations are saved."), "success")
        return redirect(url_for("coordinate.round_overview", round_id=round_.id), code=303)
    return render_template("coordinate/round_texts.html", form=form, round=round_)


@bp.get("/rounds/<int:round_id>")
@login_required
def round_overview(round_id: int):
    """A round from the staff side: settings, phase, proposals by status."""
    no_store()
    round_ = load_round(round_id)
    require(Action.VIEW_STAFF_PAGES, round_)
    counts = dict.fromkeys(ProposalStatus, 0)
    for proposal in round_.proposals:
        counts[proposal.status] += 1
    return render_template("coordinate/round.html", round=round_, counts=counts)


def _phase_offered(round_) -> RoundPhase | None:
    """The phase the page offers to move on to (publishing goes through the results page,
    cancelling has its own form)."""
    offered = round_service.NEXT_PHASE.get(round_.phase)
    return None if offered is RoundPhase.PUBLISHED else offered


def _phase_page(round_, form, cancel_form, status: int = 200):
    """The phase page: the move on (what voting would put on the ballot and leave behind),
    and cancelling apart from it."""
    offered = _phase_offered(round_)
    readiness = (round_service.ballot_readiness(round_)
                 if offered is RoundPhase.VOTING else None)
    cancellable = RoundPhase.CANCELLED in round_service.ALLOWED_TRANSITIONS[round_.phase]
    return render_template("coordinate/phase.html", form=form, cancel_form=cancel_form,
                           round=round_, offered=offered, readiness=readiness,
                           cancellable=cancellable), status


@bp.route("/rounds/<int:round_id>/phase", methods=["GET", "POST"])
@login_required
def move_phase(round_id: int):
    """Move a round on to its next phase by hand, after confirming; voting opens with
    proposals still waiting for review only when the coordinator says so."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    form = PhaseForm()
    if form.validate_on_submit():
        target = form.chosen_target(_phase_offered(round_))
        try:
            if target is None:  # the page was older than the round's phase
                raise round_service.RoundError("changed_meanwhile")
            round_service.transition(current_user, round_, target,
                                     leave_unreviewed=form.leave_unreviewed.data)
        except round_service.RoundError as error:
            db.session.rollback()
            form.show_refusal(message_for(error), error.code)
        else:
            db.session.commit()
            flash(gettext("The round is now in the phase: %(phase)s.",
                          phase=label(PHASE_LABELS, target)), "success")
            return redirect(url_for("coordinate.round_overview", round_id=round_.id), code=303)
    return _phase_page(round_, form, CancelForm(prefix="cancel", formdata=None),
                       400 if form.is_submitted() else 200)


@bp.post("/rounds/<int:round_id>/cancel")
@login_required
def cancel_round(round_id: int):
    """Cancel a round for good, with its reason (audited), after confirming."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    cancel_form = CancelForm(prefix="cancel")
    if cancel_form.validate_on_submit():
        try:
            round_service.transition(current_user, round_, RoundPhase.CANCELLED,
                                     reason=cancel_form.reason.data.strip())
        except round_service.RoundError as error:
            db.session.rollback()
            cancel_form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The round is cancelled. Its public page says so."), "success")
            return redirect(url_for("coordinate.round_overview", round_id=round_.id), code=303)
    return _phase_page(round_, PhaseForm(formdata=None), cancel_form, 400)


def _results_forms(round_) -> tuple[CountForm, PublishForm, CorrectionForm]:
    return (CountForm(prefix="count").with_proposals(voting.ballot_proposals(round_)),
            PublishForm(prefix="publish"), CorrectionForm(prefix="correction"))


def _results_page(round_, forms, error: str | None = None, status: int = 200):
    """The latest count (its progress while it runs: the page refreshes itself; every
    reason and the other rule once done) with the forms. Nothing is counted here."""
    count = counting.latest_count(round_)
    if count is not None and counting.is_stale(count):
        tasks.enqueue_count(count.id)  # its worker died or the queue lost it
    shown = {}
    if not round_.phase.countable:
        error = error or message_for(results_service.ResultsError("not_closed"))
    elif count is not None and count.status is CountStatus.DONE:
        shown = presentation.outcome(count.result, count.comparison, round_,
                                     {p.id: p for p in round_.proposals})
        shown["ballot_count"] = count.ballot_count
    elif count is not None and count.status is CountStatus.FAILED:
        error = error or message_for(results_service.ResultsError(count.error or ""))
    running = count is not None and count.status in counting.UNFINISHED
    response = make_response(render_template(
        "coordinate/results.html", round=round_, error=error, count=count, running=running,
        forms=forms, published=results_service.latest(round_), **shown), status)
    if running:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.get("/rounds/<int:round_id>/results")
@login_required
def results(round_id: int):
    """The coordinator's view of the latest count and the publish button; after
    publishing, corrections. Nobody else sees a count before it is published."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    return _results_page(round_, _results_forms(round_))


def _ask_for_count(round_, forms):
    """Store a count request and hand it to the task queue; the page then shows it."""
    if not forms[0].validate_on_submit():
        return _results_page(round_, forms, None, 400)
    try:
        count, new = counting.request_count(current_user, round_,
                                            frozenset(forms[0].excluded.data or []))
    except results_service.ResultsError as refused:
        db.session.rollback()
        return _results_page(round_, forms, message_for(refused), 400)
    db.session.commit()
    if new:
        tasks.enqueue_count(count.id)
    return redirect(url_for("coordinate.results", round_id=round_.id), code=303)


@bp.post("/rounds/<int:round_id>/results")
@login_required
def publish_results(round_id: int):
    """Ask for a count (``action=count``), publish the count shown, or (``action=correct``)
    publish it as a correction with its reason; the people who asked are told by mail."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    forms = _results_forms(round_)
    action = request.form.get("action")
    if action == "count":
        return _ask_for_count(round_, forms)
    form = forms[2] if action == "correct" else forms[1]
    error = None
    if form.validate_on_submit():
        try:
            publication = results_service.publish(current_user, round_,
                                                  **form.publication_options())
        except results_service.ResultsError as refused:
            db.session.rollback()
            error = message_for(refused)
        else:
            publication_id = notices.plan_notices(publication).publication_id
            db.session.commit()
            tasks.enqueue_results_mail(publication_id)  # a job tells who asked, in batches
            flash(gettext("The results are published."), "success")
            return redirect(url_for("results.latest", round_id=round_.id), code=303)
    return _results_page(round_, forms, error, 400)
