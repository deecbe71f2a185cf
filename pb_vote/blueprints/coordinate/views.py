"""Staff views of a table: rounds (set-up, phases) and moderation of proposals.
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms import SelectChoice

from pb_vote import clock, notifications
from pb_vote.blueprints.common import load_or_404, load_round, no_store, require
from pb_vote.blueprints.coordinate.forms import (
    AcceptForm,
    CodeBatchForm,
    CorrectionForm,
    MergeForm,
    PaperBallotForm,
    PhaseForm,
    PublishForm,
    QueueFilterForm,
    ReasonForm,
    RoundForm,
)
from pb_vote.blueprints.fields import format_euros
from pb_vote.blueprints.labels import ORIGIN_LABELS, PHASE_LABELS, STATUS_LABELS, label
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.proposals.forms import StaffProposalForm
from pb_vote.blueprints.results import presentation
from pb_vote.blueprints.voting.ballot_form import kept_choices, parse_choices
from pb_vote.blueprints.voting.views import cast_with_retry
from pb_vote.extensions import db
from pb_vote.mail import queue_mail
from pb_vote.models import (
    BallotKind,
    PaperConflictRule,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    RoundPhase,
    TallyRule,
    VoteChannel,
    VoterEligibility,
)
from pb_vote.services import catalog, voting
from pb_vote.services import proposals as proposal_service
from pb_vote.services import results as results_service
from pb_vote.services import rounds as round_service
from pb_vote.services.ballot_rules import BallotInvalid
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


def _settings_from(form: RoundForm) -> round_service.RoundSettings:
    zone = form.time_zone.data
    return round_service.RoundSettings(
        title=form.title.data or "",
        description=form.description.data or "",
        budget_cents=form.budget.data,
        time_zone=zone,
        proposals_open_at=form.proposals_open_at.utc(zone),
        proposals_close_at=form.proposals_close_at.utc(zone),
        voting_open_at=form.voting_open_at.utc(zone),
        voting_close_at=form.voting_close_at.utc(zone),
        categories=form.category_list(),
        voter_eligibility=VoterEligibility(form.voter_eligibility.data),
        ballot_kind=BallotKind(form.ballot_kind.data),
        approval_min=form.approval_min.data,
        approval_max=form.approval_max.data,
        knapsack_min_spend_percent=form.knapsack_min_spend_percent.data,
        points_total=form.points_total.data,
        points_max_per_proposal=form.points_max_per_proposal.data,
        tally_rule=TallyRule(form.tally_rule.data),
        paper_conflict_rule=PaperConflictRule(form.paper_conflict_rule.data),
    )


@bp.route("/tables/<slug>/rounds/new", methods=["GET", "POST"])
@login_required
def new_round(slug: str):
    """Set up a new round (it starts as a draft)."""
    no_store()
    table_ = catalog.table_by_slug(slug) or abort(404)
    require(Action.MANAGE_ROUNDS, table_)
    form = RoundForm()
    if form.validate_on_submit():
        settings = _settings_from(form)
        problems = round_service.check_settings(settings, clock.utcnow())
        if problems:
            form.add_problems(problems)
        else:
            round_ = round_service.create_round(current_user, table_, settings)
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
    form = RoundForm(obj=round_)
    if not form.is_submitted():
        form.budget.raw_text = format_euros(round_.budget_cents)
        form.categories.data = "\n".join(round_.categories)
        for name in ("proposals_open_at", "proposals_close_at", "voting_open_at",
                     "voting_close_at"):
            getattr(form, name).show(getattr(round_, name), round_.time_zone)
    if not round_.phase.settings_editable:
        return render_template("coordinate/round_form.html", form=form, table=round_.table,
                               round=round_, frozen=True)
    if form.validate_on_submit():
        settings = _settings_from(form)
        try:
            round_service.update_round(current_user, round_, settings)
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


@bp.route("/rounds/<int:round_id>/phase", methods=["GET", "POST"])
@login_required
def move_phase(round_id: int):
    """Move a round's phase by hand, after confirming."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    form = PhaseForm()
    # Publishing goes through the results page, with the tally.
    targets = sorted(round_service.ALLOWED_TRANSITIONS[round_.phase] - {RoundPhase.PUBLISHED},
                     key=list(RoundPhase).index)
    form.target.choices = [SelectChoice(t.value, label(PHASE_LABELS, t)) for t in targets]
    if form.validate_on_submit():
        try:
            round_service.transition(current_user, round_, RoundPhase(form.target.data))
        except round_service.RoundError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The round has moved to its next phase."), "success")
            return redirect(url_for("coordinate.round_overview", round_id=round_.id), code=303)
    return render_template("coordinate/phase.html", form=form, round=round_, targets=targets)


@bp.get("/rounds/<int:round_id>/proposals")
@login_required
def queue(round_id: int):
    """The moderation queue with filters (status, origin, category, search)."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    filters = QueueFilterForm(request.args)
    filters.status.choices = [SelectChoice("", gettext("All"))] + [
        SelectChoice(s.value, label(STATUS_LABELS, s)) for s in ProposalStatus
    ]
    filters.origin.choices = [SelectChoice("", gettext("All"))] + [
        SelectChoice(o.value, label(ORIGIN_LABELS, o)) for o in ProposalOrigin
    ]
    filters.category.choices = [SelectChoice("", gettext("All"))] + [
        SelectChoice(c, c) for c in round_.categories
    ]
    statuses = list(ProposalStatus)
    if filters.status.data in ProposalStatus._value2member_map_:
        statuses = [ProposalStatus(filters.status.data)]
    proposals = catalog.public_proposals(
        round_, query=filters.q.data or "", category=filters.category.data or None,
        sort="oldest", statuses=statuses,
    )
    if filters.origin.data in ProposalOrigin._value2member_map_:
        proposals = [p for p in proposals if p.origin.value == filters.origin.data]
    return render_template("coordinate/queue.html", round=round_, proposals=proposals,
                           filters=filters)


@bp.route("/rounds/<int:round_id>/proposals/new", methods=["GET", "POST"])
@login_required
def add_proposal(round_id: int):
    """Staff add a proposal on behalf of the table or the city."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    form = StaffProposalForm().with_categories(round_.categories)
    if form.validate_on_submit():
        try:
            proposal = proposal_service.submit_proposal(
                current_user, round_, form.draft(), origin=ProposalOrigin(form.origin.data)
            )
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The proposal is added."), "success")
            return redirect(url_for("coordinate.moderate", proposal_id=proposal.id), code=303)
    window_open = round_.phase.moderation_open
    return render_template("proposals/form.html", form=form, round=round_,
                           window_open=window_open, editing=None)


def _moderation_forms(proposal: Proposal) -> dict:
    merge_form = MergeForm(prefix="merge")
    merge_form.duplicates.choices = [
        SelectChoice(p.id, f"#{p.id} {p.title}")
        for p in proposal.round.proposals
        if p.id != proposal.id and p.status in proposal_service.MODERATABLE
    ]
    accept_form = AcceptForm(prefix="accept")
    if not accept_form.is_submitted():
        accept_form.reviewed_cost.raw_text = format_euros(proposal.cost_cents)
        accept_form.public_note.data = proposal.public_note
    return {
        "accept": accept_form,
        "changes": ReasonForm(prefix="changes"),
        "reject": ReasonForm(prefix="reject"),
        "hide": ReasonForm(prefix="hide"),
        "merge": merge_form,
    }


@bp.get("/proposals/<int:proposal_id>")
@login_required
def moderate(proposal_id: int):
    """A proposal from the moderators' side, with every action."""
    no_store()
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    return render_template("coordinate/moderate.html", proposal=proposal,
                           forms=_moderation_forms(proposal))


@bp.post("/proposals/<int:proposal_id>/<action>")
@login_required
def moderation_action(proposal_id: int, action: str):
    """Run one moderation action; the author is told by mail."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    forms = _moderation_forms(proposal)
    form = forms.get(action) or abort(404)
    if form.validate_on_submit():
        try:
            if action == "accept":
                changed = proposal_service.accept(current_user, proposal,
                                                  form.reviewed_cost.data,
                                                  form.public_note.data or "")
            elif action == "changes":
                changed = proposal_service.request_changes(current_user, proposal,
                                                           form.reason.data)
            elif action == "reject":
                changed = proposal_service.reject(current_user, proposal, form.reason.data)
            elif action == "hide":
                changed = proposal_service.hide(current_user, proposal, form.reason.data)
            else:
                duplicates = [load_or_404(Proposal, i) for i in form.duplicates.data]
                changed = proposal_service.merge(current_user, duplicates, proposal)
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            for changed_proposal in changed:
                notifications.proposal_status_changed(changed_proposal)
            if action == "merge":
                notifications.proposal_merged_into_yours(proposal, changed)
            db.session.commit()
            flash(gettext("Done. The author gets a mail about it."), "success")
            return redirect(url_for("coordinate.moderate", proposal_id=proposal.id), code=303)
    return render_template("coordinate/moderate.html", proposal=proposal, forms=forms,
                           failed=action), 400


@bp.get("/rounds/<int:round_id>/turnout")
@login_required
def turnout(round_id: int):
    """Live turnout for the table's staff: ballots by channel and by day, never choices."""
    no_store()
    round_ = load_round(round_id)
    require(Action.VIEW_STAFF_PAGES, round_)
    return render_template("coordinate/turnout.html", round=round_,
                           turnout=voting.turnout(round_))


@bp.route("/rounds/<int:round_id>/codes", methods=["GET", "POST"])
@login_required
def voting_codes(round_id: int):
    """Generate voting codes and show them once, as a printable A4 sheet of slips."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    form = CodeBatchForm()
    if form.validate_on_submit():
        try:
            codes = voting.generate_codes(current_user, round_, form.count.data)
        except voting.VotingError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            link = url_for("voting.enter_code", round_id=round_.id, _external=True)
            qr = segno.make(link, error="m").svg_inline(scale=3)
            return render_template("coordinate/code_sheet.html", round=round_, codes=codes,
                                   qr=Markup(qr), link=link)
    return render_template("coordinate/codes.html", round=round_, form=form,
                           issued=voting.codes_issued(round_)), (
        400 if request.method == "POST" else 200)


@bp.route("/rounds/<int:round_id>/paper", methods=["GET", "POST"])
@login_required
def paper_ballot(round_id: int):
    """Members enter paper ballots from Speak-out events one by one, each with its slip's
    code; a slip entered twice is refused."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    form = PaperBallotForm()
    proposals = voting.ballot_proposals(round_)
    kind = round_.ballot_kind.value
    error = receipt = None
    kept: dict[int, int] = {}
    if request.method == "POST":
        kept = kept_choices(request.form, kind)
    if not voting.codes_admitted(round_):
        error = gettext("This round takes no voting codes, so no paper ballots either.")
    elif form.validate_on_submit():
        code = voting.find_code(round_, form.code.data)
        if code is None:
            error = gettext("No voting code of this round matches. Check the slip.")
        else:
            try:
                choices = parse_choices(request.form, kind)
                result = cast_with_retry(round_.id, voting.Voter(voting_code_id=code.id),
                                         VoteChannel.PAPER, choices)
            except BallotInvalid as invalid:
                error = message_for(invalid, currency=round_.currency)
            except voting.VotingError as refused:
                error = message_for(refused)
            else:
                flash(gettext("The paper ballot is recorded. Receipt for the slip: %(code)s",
                              code=result.receipt_code), "success")
                return redirect(url_for("coordinate.paper_ballot", round_id=round_.id),
                                code=303)
    refused = request.method == "POST" and (error is not None or bool(form.errors))
    return render_template(
        "coordinate/paper.html", round=round_, form=form, proposals=proposals,
        choices=kept, error=error, receipt=receipt,
        open=voting.voting_open(round_, clock.utcnow()),
    ), (400 if refused else 200)


@bp.route("/rounds/<int:round_id>/results", methods=["GET", "POST"])
@login_required
def results(round_id: int):
    """The coordinator's preview of the tally (every reason, the other rule beside it) and
    the publish button; after publishing, corrections. Nobody else sees the preview."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    publish_form = PublishForm(prefix="publish")
    correction_form = CorrectionForm(prefix="correction")
    correction_form.excluded.choices = [
        SelectChoice(p.id, p.title) for p in voting.ballot_proposals(round_)
    ]
    published = results_service.latest(round_)
    error = None
    action = request.form.get("action") if request.method == "POST" else None
    form = correction_form if action == "correct" else publish_form
    if request.method == "POST" and form.validate_on_submit():
        try:
            if action == "correct":
                results_service.publish(
                    current_user, round_, correction_reason=correction_form.reason.data,
                    excluded=frozenset(correction_form.excluded.data or []))
            else:
                results_service.publish(current_user, round_)
        except results_service.ResultsError as refused:
            db.session.rollback()
            error = message_for(refused)
        else:
            _notify_results(round_)
            db.session.commit()
            flash(gettext("The results are published."), "success")
            return redirect(url_for("results.latest", round_id=round_.id), code=303)
    view = None
    if error is None or request.method == "POST":
        try:
            view = results_service.preview(round_)
        except results_service.ResultsError as refused:
            error = error or message_for(refused)
    context = {}
    if view is not None:
        proposals = {p.id: p for p in round_.proposals}
        points = round_.ballot_kind is BallotKind.POINTS
        result = view.result_in_cents()
        other = view.other_in_cents()
        table_rows = presentation.rows(result, proposals, round_.currency)
        context = {
            "rows": table_rows, "points": points, "result": result,
            "used": {"rule": result["rule"], "selected": result["selected"],
                     "total_cost": result["total_cost"],
                     "voters_with_a_funded_choice": view.satisfied},
            "other": {"rule": other["rule"], "selected": other["selected"],
                      "total_cost": other["total_cost"],
                      "voters_with_a_funded_choice": view.other_satisfied},
            "titles": {str(pid): p.title for pid, p in proposals.items()},
            "ballot_count": view.ballot_count,
        }
    status = 400 if request.method == "POST" else 200
    return render_template("coordinate/results.html", round=round_, error=error,
                           publish_form=publish_form, correction_form=correction_form,
                           published=published, **context), status


def _notify_results(round_) -> None:
    """Queue mail to proposal authors and voters who asked for it, each in their language
    (sent after the response: thousands of messages never hold up the publication)."""
    link = url_for("results.latest", round_id=round_.id, _external=True)
    for person in results_service.people_to_notify(round_):
        with force_locale(person.language):
            subject = gettext("Results of %(round)s", round=round_.title)
            body = render_template("mail/results_published.txt", round=round_, link=link)
        queue_mail(person.email, subject, body)
