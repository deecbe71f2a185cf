"""Residents' proposal views: load, check, validate, call the service, commit, redirect."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pb_vote import clock, notifications
from pb_vote.blueprints.common import load_or_404, load_round, no_store
from pb_vote.blueprints.fields import format_euros
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.outcomes import published_outcomes
from pb_vote.blueprints.proposals.forms import ProposalForm, WithdrawForm
from pb_vote.blueprints.uploads import (
    delete_files,
    image_settings,
    image_store,
    uploaded_image,
)
from pb_vote.extensions import db
from pb_vote.models import Proposal
from pb_vote.services import images as image_service
from pb_vote.services import proposals as proposal_service
from pb_vote.services.permissions import can_see_round
from pb_vote.services.rounds import proposal_window_open

bp = Blueprint("proposals", __name__)


@bp.route("/rounds/<int:round_id>/propose", methods=["GET", "POST"])
@login_required
def submit(round_id: int):
    """Submit an idea during the proposal window."""
    round_ = load_round(round_id)
    if not can_see_round(current_user, round_):
        abort(404)
    form = ProposalForm().with_categories(round_)
    window_open = proposal_window_open(round_, clock.utcnow())
    if form.validate_on_submit():
        try:
            upload = uploaded_image(form)
            proposal = proposal_service.submit_proposal(current_user, round_, form.draft())
            if upload:
                image_service.add_image(current_user, proposal, upload, form.image_alt.data,
                                        image_store(), image_settings(), proposal.language)
        except image_service.ImageError as error:
            db.session.rollback()
            form.image.errors = [message_for(error)]
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("Thank you! Your idea is submitted. The table reviews it after the "
                          "proposal window closes; you get mail when its status changes."),
                  "success")
            return redirect(url_for("public.proposal_page", proposal_id=proposal.id), code=303)
    return render_template("proposals/form.html", form=form, round=round_,
                           window_open=window_open, editing=None,
                           images_allowed=image_settings().per_proposal)


def _own_proposal(proposal_id: int) -> Proposal:
    proposal = load_or_404(Proposal, proposal_id)
    if proposal.author_id != current_user.id:
        abort(403)
    load_round(proposal.round_id)
    return proposal


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    """The author edits an idea (and resubmits one sent back for changes)."""
    proposal = _own_proposal(proposal_id)
    round_ = proposal.round
    form = ProposalForm(obj=proposal).with_categories(round_)
    if not form.is_submitted():
        form.estimated_cost.raw_text = format_euros(proposal.estimated_cost_cents)
    form.submit.label.text = gettext("Save changes")
    may_edit = proposal_service.author_may_edit(proposal, clock.utcnow())
    if form.validate_on_submit():
        try:
            upload = uploaded_image(form)
            changed = proposal_service.edit_proposal(current_user, proposal, form.draft())
            unused = []
            for image in proposal.shown_images:
                if image.id in (form.remove_images.data or []):
                    unused += image_service.delete_image(current_user, image)
            if upload:
                image_service.add_image(current_user, proposal, upload, form.image_alt.data,
                                        image_store(), image_settings(), proposal.language)
        except image_service.ImageError as error:
            db.session.rollback()
            form.image.errors = [message_for(error)]
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            for changed_proposal in changed:
                notifications.proposal_status_changed(changed_proposal)
            db.session.commit()
            delete_files(unused)
            flash(gettext("Your changes are saved."), "success")
            return redirect(url_for("public.proposal_page", proposal_id=proposal.id), code=303)
    return render_template("proposals/form.html", form=form, round=round_,
                           window_open=may_edit, editing=proposal,
                           images_allowed=image_settings().per_proposal)


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(proposal_id: int):
    """The author withdraws an idea, after confirming."""
    proposal = _own_proposal(proposal_id)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            proposal_service.withdraw_proposal(current_user, proposal)
        except proposal_service.ProposalError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("Your idea is withdrawn."), "success")
            return redirect(url_for("proposals.mine"), code=303)
    return render_template("proposals/withdraw.html", form=form, proposal=proposal)


@bp.get("/my/proposals")
@login_required
def mine():
    """A person's own proposals and the status of each; once a round's results are
    published, whether each was funded and why."""
    no_store()
    proposals = proposal_service.proposals_of_author(current_user)
    outcomes = {}
    for round_ in {p.round_id: p.round for p in proposals}.values():
        outcomes.update(published_outcomes(round_, with_cost=True))  # no cost shown beside
    return render_template(
        "proposals/mine.html", proposals=proposals, outcomes=outcomes,
        may_edit=lambda p: proposal_service.author_may_edit(p, clock.utcnow()),
    )
