"""Supports of ideas: a resident of the table's area supports an idea while the round
takes ideas, or takes the support back. Load (404) -> sign in -> validate -> service ->
commit -> redirect back, with the outcome (or the refusal) in a flash message."""

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext
from flask_login import current_user

from pb_vote.blueprints.common import load_or_404, load_round
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.supports.forms import SupportForm
from pb_vote.extensions import db
from pb_vote.models import Proposal
from pb_vote.services import supports as support_service
from pb_vote.services.permissions import can_see_round

bp = Blueprint("supports", __name__)


@bp.post("/proposals/<int:proposal_id>/support")
def toggle(proposal_id: int):
    """Support the idea (``want=support``) or take the support back (``want=withdraw``)."""
    proposal = load_or_404(Proposal, proposal_id)
    round_ = load_round(proposal.round_id)
    if not can_see_round(current_user, round_) or not proposal.is_public:
        abort(404)
    form = SupportForm()
    back = (url_for("public.round_page", round_id=round_.id) + f"#proposal-{proposal.id}"
            if form.back.data == "round"
            else url_for("public.proposal_page", proposal_id=proposal.id) + "#supports")
    if not current_user.is_authenticated:
        flash(gettext("Sign in to support ideas."), "info")
        return redirect(url_for("auth.sign_in",
                                next=url_for("public.proposal_page", proposal_id=proposal.id)),
                        code=303)
    if not form.validate_on_submit() or form.want.data not in ("support", "withdraw"):
        abort(400)
    try:
        if form.want.data == "support":
            support_service.support(current_user, proposal)
            message = gettext("You support this idea.")
        else:
            support_service.withdraw_support(current_user, proposal)
            message = gettext("You no longer support this idea.")
    except support_service.SupportError as error:
        db.session.rollback()
        flash(message_for(error), "error")
        return redirect(back, code=303)
    db.session.commit()
    flash(message, "success")
    return redirect(back, code=303)
