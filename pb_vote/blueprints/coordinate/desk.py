"""The voting desk of a table's staff: live turnout, voting codes, and paper ballots from
Speak-out events (entered, and voided when mis-keyed).
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

import segno
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required
from markupsafe import Markup

from pb_vote import clock
from pb_vote.blueprints.common import cast_with_retry, load_round, no_store, require, vote_keys
from pb_vote.blueprints.coordinate.forms import (
    CodeBatchForm,
    PaperBallotForm,
    VoidPaperBallotForm,
)
from pb_vote.blueprints.coordinate.views import bp
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.voting.ballot_form import kept_choices, parse_choices
from pb_vote.extensions import db
from pb_vote.models import VoteChannel
from pb_vote.services import results as results_service
from pb_vote.services import voting
from pb_vote.services.ballot_rules import BallotInvalid
from pb_vote.services.permissions import Action
from pb_vote.urls import public_url


@bp.get("/rounds/<int:round_id>/turnout")
@login_required
def turnout(round_id: int):
    """Live turnout for the table's staff: ballots by channel and by day, never choices."""
    no_store()
    round_ = load_round(round_id)
    require(Action.VIEW_STAFF_PAGES, round_)
    return render_template("coordinate/turnout.html", round=round_,
                           turnout=results_service.round_turnout(round_))


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
            # The slips outlive the request: the QR code leads to the public address.
            link = public_url("voting.enter_code", round_id=round_.id)
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
    kind = round_.ballot_kind.value
    error = None
    # A slip is entered once its form is complete; a round without codes says at once that
    # it takes none.
    if not voting.codes_admitted(round_) or form.validate_on_submit():
        try:
            voter = voting.paper_voter(round_, form.code.data or "")
            choices = parse_choices(request.form, kind)
            result = cast_with_retry(
                round_.id, voter, VoteChannel.PAPER, choices,
                before_commit=lambda _: voting.record_paper_entry(current_user, round_))
        except (BallotInvalid, voting.VotingError) as refused:
            error = message_for(refused, currency=round_.currency)
        else:
            flash(gettext("The paper ballot is recorded. Receipt for the slip: %(code)s",
                          code=result.receipt_code), "success")
            return redirect(url_for("coordinate.paper_ballot", round_id=round_.id), code=303)
    return _paper_page(round_, form, VoidPaperBallotForm(prefix="void"), error,
                       kept_choices(request.form, kind))


def _paper_page(round_, form, void_form, error=None, choices=None):
    return render_template(
        "coordinate/paper.html", round=round_, form=form, void_form=void_form,
        proposals=voting.ballot_proposals(round_), choices=choices or {}, error=error,
        open=voting.voting_open(round_, clock.utcnow()),
    ), (400 if request.method == "POST" else 200)


@bp.post("/rounds/<int:round_id>/paper/void")
@login_required
def void_paper_ballot(round_id: int):
    """The coordinator voids a mis-keyed paper entry, with its reason (audited), so that
    the slip can be entered again."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    void_form = VoidPaperBallotForm(prefix="void")
    error = None
    if void_form.validate_on_submit():
        try:
            voting.void_paper_ballot(current_user, vote_keys(), round_, void_form.code.data,
                                     void_form.reason.data)
        except voting.VotingError as refused:
            db.session.rollback()
            error = message_for(refused)
        else:
            db.session.commit()
            flash(gettext("The paper entry is voided: the slip can be entered again."),
                  "success")
            return redirect(url_for("coordinate.paper_ballot", round_id=round_.id), code=303)
    return _paper_page(round_, PaperBallotForm(formdata=None), void_form, error)
