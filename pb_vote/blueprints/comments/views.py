"""Comments on ideas: residents write and report them on the proposal page; the table
answers as the table and hides, with a reason, what breaks the rules.
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pb_vote.blueprints.comments.forms import (
    CommentForm,
    HideForm,
    ReportForm,
)
from pb_vote.blueprints.common import load_or_404, load_round, no_store, require
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.proposal_page import render_proposal_page
from pb_vote.extensions import db
from pb_vote.models import Comment, HiddenReason, Proposal
from pb_vote.services import comments as comment_service
from pb_vote.services.permissions import Action, can_see_round

bp = Blueprint("comments", __name__)


def _limits() -> comment_service.CommentLimits:
    config = current_app.config
    return comment_service.CommentLimits(
        per_window=config["COMMENTS_PER_10_MINUTES"],
        interval=timedelta(seconds=config["COMMENT_INTERVAL_SECONDS"]))


def _visible_proposal(proposal_id: int) -> Proposal:
    """The proposal, 404 unless its page is seen (a draft round's, a hidden or withdrawn
    idea's comments are not shown to the public)."""
    proposal = load_or_404(Proposal, proposal_id)
    round_ = load_round(proposal.round_id)
    is_author = current_user.is_authenticated and proposal.author_id == current_user.id
    if not can_see_round(current_user, round_) or not (proposal.is_public or is_author):
        abort(404)
    return proposal


@bp.post("/proposals/<int:proposal_id>/comments")
@login_required
def post(proposal_id: int):
    """Add a comment (or the table's answer) to an idea."""
    proposal = _visible_proposal(proposal_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_proposal_page(proposal, proposal.round, form, 400)
    try:
        comment = comment_service.post_comment(
            current_user, proposal, form.body.data, show_name=bool(form.show_name.data),
            as_table=bool(form.as_table.data), limits=_limits())
    except comment_service.CommentError as error:
        db.session.rollback()
        form.body.errors = [message_for(error)]
        status = {"comment_rate_limited": 429, "not_at_table": 403,
                  "comments_closed": 409}.get(error.code, 400)
        return render_proposal_page(proposal, proposal.round, form, status)
    db.session.commit()
    flash(gettext("Your comment is published."), "success")
    return redirect(url_for("public.proposal_page", proposal_id=proposal.id,
                            _anchor=f"comment-{comment.id}"), code=303)


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
def report(comment_id: int):
    """Report a comment to the table's moderators, once, with an optional reason."""
    no_store()
    comment = load_or_404(Comment, comment_id)
    proposal = _visible_proposal(comment.proposal_id)
    form = ReportForm()
    already = comment_service.has_reported(current_user, comment)
    if not already and not comment.is_hidden and form.validate_on_submit():
        try:
            comment_service.report_comment(current_user, comment, form.reason.data or "")
        except comment_service.CommentError as error:
            db.session.rollback()
            form.reason.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("Thank you. The table's moderators will look at the comment."),
                  "success")
            return redirect(url_for("public.proposal_page", proposal_id=proposal.id,
                                    _anchor=f"comment-{comment.id}"), code=303)
    status = 400 if form.errors else 200
    return render_template("comments/report.html", comment=comment, proposal=proposal,
                           form=form, already=already), status


@bp.get("/manage/rounds/<int:round_id>/comments")
@login_required
def reported(round_id: int):
    """The moderation area of comments: the round's reported comments still shown."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    return render_template("comments/reported.html", round=round_,
                           reported=comment_service.reported_comments(round_))


@bp.route("/manage/comments/<int:comment_id>/hide", methods=["GET", "POST"])
@login_required
def hide(comment_id: int):
    """Hide a comment with a reason (audited): its text is no longer shown."""
    no_store()
    comment = load_or_404(Comment, comment_id)
    load_round(comment.proposal.round_id)
    require(Action.MODERATE, comment.proposal)
    form = HideForm()
    if not comment.is_hidden and form.validate_on_submit():
        try:
            comment_service.hide_comment(current_user, comment, HiddenReason(form.reason.data),
                                         form.note.data or "")
        except comment_service.CommentError as error:
            db.session.rollback()
            form.reason.errors = [message_for(error)]
        else:
            db.session.commit()
            flash(gettext("The comment is hidden."), "success")
            return redirect(url_for("comments.reported", round_id=comment.proposal.round_id),
                            code=303)
    status = 400 if form.errors else 200
    return render_template("comments/hide.html", comment=comment, form=form,
                           proposal=comment.proposal), status
