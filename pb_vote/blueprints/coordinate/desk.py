"""The voting desk of a table's staff: live turnout, voting codes (in batches, each voidable
when its sheet did not print), the paper ballot to print, and paper ballots from Speak-out
events (entered, and voided when mis-keyed).
Each view: load (404) -> authorize (403) -> validate -> service -> commit -> redirect."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required

from pb_vote import clock
from pb_vote.blueprints.common import cast_with_retry, load_round, no_store, require, vote_keys
from pb_vote.blueprints.coordinate import printing
from pb_vote.blueprints.coordinate.forms import (
    CodeBatchForm,
    PaperBallotForm,
    VoidCodeBatchForm,
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
    """Generate a batch of voting codes and show it once, as a printable A4 sheet of slips in
    the chosen languages; list the batches so far, each of which can be voided."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    form = CodeBatchForm()
    if form.validate_on_submit():
        try:
            issued = voting.generate_batch(current_user, round_, form.count.data,
                                           form.languages.data)
        except voting.VotingError as error:
            db.session.rollback()
            form.submit.errors = [message_for(error)]
        else:
            db.session.commit()
            return _code_sheet(round_, issued)
    return _codes_page(round_, form)


def _code_sheet(round_, issued: voting.IssuedBatch):
    """The sheet of slips: each slip's QR code leads to the code page with its code."""
    link = printing.code_page_link(round_.id)
    slips = [(code, printing.qr_svg(printing.slip_link(round_.id, code)))
             for code in issued.codes]
    how = printing.in_languages(issued.batch.languages, "coordinate/_slip_text.html",
                                round=round_, link=link)
    return render_template("coordinate/code_sheet.html", round=round_, batch=issued.batch,
                           slips=slips, how=how, link=link)


def _codes_page(round_, form, void_forms=None, error=None):
    batches = voting.code_batches(round_)
    void_forms = void_forms or {}
    for summary in batches:
        number = summary.batch.number
        void_forms.setdefault(number, VoidCodeBatchForm(prefix=f"void-{number}",
                                                        formdata=None))
    return render_template("coordinate/codes.html", round=round_, form=form, error=error,
                           batches=batches, void_forms=void_forms,
                           issued=voting.codes_issued(round_)), (
        400 if request.method == "POST" else 200)


@bp.post("/rounds/<int:round_id>/codes/<int:number>/void")
@login_required
def void_code_batch(round_id: int, number: int):
    """The coordinator voids a batch whose sheet did not print, with the reason (audited):
    its unused codes stop working, so a new batch can be printed in its place."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MANAGE_ROUNDS, round_)
    void_form = VoidCodeBatchForm(prefix=f"void-{number}")
    error = None
    if void_form.validate_on_submit():
        try:
            stopped = voting.void_batch(current_user, round_, number, void_form.reason.data)
        except voting.VotingError as refused:
            db.session.rollback()
            error = message_for(refused)
        else:
            db.session.commit()
            flash(ngettext("Batch %(batch)d is voided: %(num)d unused code stopped working.",
                           "Batch %(batch)d is voided: %(num)d unused codes stopped working.",
                           stopped, batch=number), "success")
            return redirect(url_for("coordinate.voting_codes", round_id=round_.id), code=303)
    return _codes_page(round_, CodeBatchForm(formdata=None), {number: void_form}, error)


@bp.get("/rounds/<int:round_id>/paper/print")
@login_required
def printable_ballot(round_id: int):
    """The paper ballot to print for Speak-out events: the proposals with boxes to mark and
    the rules of the ballot, in the languages chosen with ``?lang=`` (default fi and sv)."""
    no_store()
    round_ = load_round(round_id)
    require(Action.MODERATE, round_)
    languages, sound = printing.chosen_languages()
    codes, proposals = voting.codes_admitted(round_), voting.ballot_proposals(round_)
    texts = printing.in_languages(languages, "coordinate/_paper_rules.html", round=round_,
                                  codes=codes)
    return render_template(
        "coordinate/paper_ballot.html", round=round_, languages=languages, texts=texts,
        codes=codes, labels=printing.paper_labels(languages, round_), proposals=proposals,
        costs=printing.costs_in(languages[0], proposals, round_.currency),
        error=None if sound else gettext("Choose at least one language."),
    ), 200 if sound else 400


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
