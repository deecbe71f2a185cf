"""Moderation of a table's proposals by its members and coordinator: the queue, staff
proposals, and the actions (accept, ask for changes, reject, hide, merge).
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pb_vote import notifications
from pb_vote.blueprints.common import load_or_404, load_round, no_store, require
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.moderation.forms import QueueFilterForm, action_forms, offered_actions
from pb_vote.blueprints.proposals.forms import StaffProposalForm
from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalOrigin
from pb_vote.services import catalog
from pb_vote.services import proposals as proposal_service
from pb_vote.services.permissions import Action

bp = Blueprint("moderation", __name__, url_prefix="/manage")


@bp.get("/rounds/<int:round_id>/proposals")
@login_required
def queue(round_id: int):
    """The moderation queue with filters (status, origin, category, search)."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    filters = QueueFilterForm(request.args).with_choices(round_)
    proposals = catalog.public_proposals(
        round_, query=filters.q.data or "", category=filters.category.data or None,
        sort="oldest", statuses=filters.statuses(), origin=filters.chosen_origin(),
    )
    return render_template("moderation/queue.html", round=round_, proposals=proposals,
                           filters=filters)


@bp.route("/rounds/<int:round_id>/proposals/new", methods=["GET", "POST"])
@login_required
def add_proposal(round_id: int):
    """Staff add a proposal on behalf of the table or the city."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    form = StaffProposalForm().with_categories(round_)
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
            return redirect(url_for("moderation.moderate", proposal_id=proposal.id), code=303)
    return render_template("proposals/form.html", form=form, round=round_,
                           window_open=round_.phase.moderation_open, editing=None)


@bp.get("/proposals/<int:proposal_id>")
@login_required
def moderate(proposal_id: int):
    """A proposal from the moderators' side: the actions that fit its status, the other
    ones still possible behind a disclosure."""
    no_store()
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    forms = action_forms(proposal)
    return render_template("moderation/moderate.html", proposal=proposal, forms=forms,
                           offered=offered_actions(proposal, forms))


def _run(action: str, proposal: Proposal, form) -> list[Proposal]:
    """Call the service for one moderation action with its form's values, from the status
    its page showed."""
    seen = form.seen_status()
    if action == "accept":
        return proposal_service.accept(current_user, proposal, form.reviewed_cost.data,
                                       form.public_note.data or "", seen=seen)
    if action == "merge":
        duplicates = [load_or_404(Proposal, i) for i in form.duplicates.data]
        return proposal_service.merge(current_user, duplicates, proposal, seen=seen)
    act = {"changes": proposal_service.request_changes, "reject": proposal_service.reject,
           "hide": proposal_service.hide}[action]
    return act(current_user, proposal, form.reason.data, seen=seen)


@bp.post("/proposals/<int:proposal_id>/<action>")
@login_required
def moderation_action(proposal_id: int, action: str):
    """Run one moderation action; the authors are told by mail."""
    proposal = load_or_404(Proposal, proposal_id)
    load_round(proposal.round_id)
    require(Action.MODERATE, proposal)
    forms = action_forms(proposal)
    form = forms.get(action) or abort(404)
    if form.validate_on_submit():
        try:
            changed = _run(action, proposal, form)
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            notifications.proposals_moderated(proposal, changed, merged=action == "merge")
            db.session.commit()
            flash(gettext("Done. The author gets a mail about it."), "success")
            return redirect(url_for("moderation.moderate", proposal_id=proposal.id), code=303)
    return render_template("moderation/moderate.html", proposal=proposal, forms=forms,
                           offered=offered_actions(proposal, forms), failed=action), 400
