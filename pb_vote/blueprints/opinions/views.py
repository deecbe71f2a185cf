"""A city department's contact answers a reviewer's question on a proposal, without an
account, through the one-time link in their mail. Opening the link (GET) only shows the
proposal and the form, so a mail scanner or a preview that opens links cannot use it up;
sending the form (POST) answers, once. An unknown, expired or answered link gets a page
that says so. Each view: load (404/410) -> validate -> service -> commit -> redirect."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext

from pb_vote import notifications
from pb_vote.blueprints.common import no_store
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.opinions.forms import AnswerForm
from pb_vote.extensions import db
from pb_vote.models import Feasibility
from pb_vote.services import reviews

bp = Blueprint("opinions", __name__, url_prefix="/opinions")
STATUS_OF = {"opinion_link_invalid": 404, "opinion_link_expired": 410,
             "opinion_not_needed": 410, "opinion_answered": 409}


def _problem(error: reviews.ReviewError, opinion=None):
    zone = opinion.proposal.round.time_zone if opinion is not None else "Europe/Helsinki"
    return render_template("opinions/problem.html", message=message_for(error, zone=zone),
                           opinion=opinion), STATUS_OF.get(error.code, 400)


def _page(opinion, form: AnswerForm, status: int = 200):
    return render_template("opinions/answer.html", opinion=opinion,
                           proposal=opinion.proposal, form=form), status


@bp.get("/<token>")
def answer_page(token: str):
    """The proposal and the question, with the answer form; an answered link shows the
    answer given."""
    no_store()
    try:
        opinion = reviews.request_for_token(token)
    except reviews.ReviewError as error:
        return _problem(error)
    if opinion.answered:
        return render_template("opinions/answered.html", opinion=opinion)
    return _page(opinion, AnswerForm())


@bp.post("/<token>")
def answer(token: str):
    """Record the answer (once) and tell the reviewer who asked."""
    no_store()
    try:
        opinion = reviews.request_for_token(token)
    except reviews.ReviewError as error:
        return _problem(error)
    form = AnswerForm()
    if opinion.answered:
        return _problem(reviews.ReviewError("opinion_answered",
                                            answered_at=opinion.answered_at), opinion)
    if not form.validate_on_submit():
        return _page(opinion, form, 400)
    given = reviews.OpinionGiven(Feasibility(form.feasibility.data), form.estimated_cost.data,
                                 form.answer.data or "")
    try:
        answered = reviews.answer_opinion(token, given)
    except reviews.ReviewError as error:
        db.session.rollback()
        return _problem(error, opinion)
    notifications.opinion_answered(answered)
    db.session.commit()
    flash(gettext("Thank you. Your answer is sent to the table."), "success")
    return redirect(url_for("opinions.answer_page", token=token), code=303)
