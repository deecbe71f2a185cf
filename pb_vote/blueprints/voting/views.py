"""Voting views: ballot -> review -> Vote -> confirmation with receipt.

Every page works without JavaScript; the server is the authority on every rule. The phase
and the clock are checked again inside the transaction that stores the ballot.
"""

import secrets
from datetime import datetime
from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from pb_vote import clock, notifications
from pb_vote.blueprints import identity_providers
from pb_vote.blueprints.categories import by_category
from pb_vote.blueprints.common import cast_with_retry, load_round, no_store, vote_keys
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.voting.ballot_form import (
    as_query,
    kept_choices,
    parse_choices,
    typed_points,
)
from pb_vote.blueprints.voting.forms import CodeForm
from pb_vote.blueprints.voting.live_tally import live_tally
from pb_vote.extensions import db
from pb_vote.models import Round, VoteChannel
from pb_vote.services import images as image_service
from pb_vote.services import rate_limits, voting
from pb_vote.services.ballot_rules import BallotInvalid, normalize, summary
from pb_vote.services.permissions import can_see_round

bp = Blueprint("voting", __name__)


def _public_round(round_id: int) -> Round:
    round_ = load_round(round_id)
    if not can_see_round(current_user, round_):
        abort(404)
    return round_


def _identified_person() -> str | None:
    """The pseudonym of the strongly identified person signed in here, if any: whichever
    way they vote, they have one ballot per round."""
    if current_user.is_authenticated:
        return current_user.person_pseudonym
    return None


def _code_voter(round_id: int, rules) -> voting.Voter | None:
    """The voting code this browser holds for the round (``rules``: a Round or VotingRules)."""
    held = session.get("vote_code")
    if held and held.get("round") == round_id and voting.codes_admitted(rules):
        return voting.Voter(voting_code_id=held["code"], person=_identified_person())
    return None


def current_voter(round_: Round):
    """(voter, channel, reason): who votes in this browser, or why nobody can."""
    if code_voter := _code_voter(round_.id, round_):
        return code_voter, VoteChannel.CODE, None
    reason = voting.resident_refusal(current_user, round_)
    if reason is None:
        return (voting.Voter(user_id=current_user.id, person=_identified_person()),
                VoteChannel.ONLINE, None)
    return None, None, reason


def _render_ballot(round_: Round, proposals, choices: dict, error: str | None = None,
                   status: int = 200, refused: BallotInvalid | voting.VotingError | None = None):
    """The ballot page; after a refusal, with the voter's own typing and the field it
    concerns (``refused``'s proposal) marked and linked from the error summary."""
    spec = voting.ballot_spec(round_, proposals)
    field = refused.details.get("proposal_id") if refused is not None else None
    return render_template(
        "voting/ballot.html", round=round_, proposals=proposals, spec=spec,
        groups=by_category(proposals, lambda p: p.category, round_.categories or ()),
        choices={int(k): v for k, v in choices.items()}, error=error,
        typed=typed_points(request.form) if refused is not None else {},
        error_proposal=next((p for p in proposals if p.id == field), None),
        channel=current_voter(round_)[1], tally=live_tally(spec, round_.currency),
        thumbnails=image_service.first_images(p.id for p in proposals)
        if len(proposals) <= current_app.config["IMAGE_BALLOT_THUMBNAILS_MAX"] else {},
    ), status


@bp.get("/rounds/<int:round_id>/vote")
def ballot(round_id: int):
    """The ballot (or how to get to it)."""
    no_store()
    round_ = _public_round(round_id)
    now = clock.utcnow()
    if not voting.voting_open(round_, now):
        return render_template("voting/closed.html", round=round_, now=now)
    voter, _, reason = current_voter(round_)
    if voter is None:
        return render_template("voting/start.html", round=round_, reason=reason,
                               codes=voting.codes_admitted(round_),
                               providers=identity_providers.offered())
    proposals = voting.ballot_proposals(round_)
    if request.args:
        try:
            choices = parse_choices(request.args, round_.ballot_kind.value)
        except BallotInvalid:
            choices = {}
    else:
        choices = voting.existing_choices(vote_keys(), voter, round_.id) or {}
    return _render_ballot(round_, proposals, choices)


@bp.post("/rounds/<int:round_id>/vote/review")
def review(round_id: int):
    """Check the choices and show them back before the final Vote button."""
    no_store()
    round_ = _public_round(round_id)
    voter, channel, _ = current_voter(round_)
    if voter is None or not voting.voting_open(round_, clock.utcnow()):
        return redirect(url_for("voting.ballot", round_id=round_id), code=303)
    proposals = voting.ballot_proposals(round_)
    spec = voting.ballot_spec(round_, proposals)
    kind = round_.ballot_kind.value
    try:
        raw = parse_choices(request.form, kind)
        choices = normalize(spec, raw)
    except BallotInvalid as error:
        kept = kept_choices(request.form, kind)
        return _render_ballot(round_, proposals, kept,
                              message_for(error, currency=round_.currency), 400, error)
    by_id = {p.id: p for p in proposals}
    return render_template(
        "voting/review.html", round=round_, choices=choices, by_id=by_id,
        totals=summary(spec, choices), change_query=as_query(choices, kind), channel=channel,
    )


@bp.post("/rounds/<int:round_id>/vote")
def cast(round_id: int):
    """Record the ballot; then show the confirmation with the receipt code."""
    no_store()
    rules = voting.rules_of(round_id) or abort(404)
    # A code holder's vote needs no read of the round: the writes check the phase and the
    # clock themselves.
    round_ = None
    if voter := _code_voter(round_id, rules):
        channel = VoteChannel.CODE
    else:
        round_ = _public_round(round_id)
        voter, channel, _ = current_voter(round_)
        if voter is None:
            return redirect(url_for("voting.ballot", round_id=round_id), code=303)
    # A signed-in resident also gets the receipt by mail, stored with the vote.
    mail_receipt = (partial(notifications.vote_receipt, current_user, round_)
                    if channel is VoteChannel.ONLINE else None)
    try:
        choices = parse_choices(request.form, rules.spec.kind)
        result = cast_with_retry(round_id, voter, channel, choices,
                                 notify_results=bool(request.form.get("notify_results")),
                                 before_commit=mail_receipt)
    except (BallotInvalid, voting.VotingError) as refused:
        return _not_recorded(round_id, rules.spec.kind, refused)
    # The choices stay out of the (signed, readable) session cookie: the confirmation page
    # reads them back from the voter's own ballot.
    session["vote_done"] = {
        "round": round_id, "receipt": result.receipt_code, "replaced": result.replaced,
        "at": result.cast_at.isoformat(),
    }
    return redirect(url_for("voting.done", round_id=round_id), code=303)


def _not_recorded(round_id: int, kind: str, refused: BallotInvalid | voting.VotingError):
    """The ballot again with the voter's picks and why it was refused; after close, the
    closed page with the picks, so the voter sees what was not recorded."""
    if refused.code == "account_gone":  # deleted while this vote was on its way
        session.clear()
        return redirect(url_for("public.home"), code=303)
    round_ = _public_round(round_id)
    kept = kept_choices(request.form, kind)
    proposals = voting.ballot_proposals(round_)
    if refused.code == "closed":
        picks = [(p, kept[p.id]) for p in proposals if p.id in kept]
        return render_template("voting/closed.html", round=round_, now=clock.utcnow(),
                               refused=True, picks=picks), 409
    return _render_ballot(round_, proposals, kept,
                          message_for(refused, currency=round_.currency),
                          400 if isinstance(refused, BallotInvalid) else 409, refused)


@bp.get("/rounds/<int:round_id>/vote/done")
def done(round_id: int):
    """The unmistakable confirmation: recorded, what, when, the receipt (shown once)."""
    no_store()
    round_ = _public_round(round_id)
    stash = session.get("vote_done")
    if not stash or stash.get("round") != round_id:
        return redirect(url_for("voting.ballot", round_id=round_id), code=303)
    receipt = stash.pop("receipt", None)
    session["vote_done"] = stash
    voter, channel, _ = current_voter(round_)
    choices = voting.existing_choices(vote_keys(), voter, round_id) if (
        voter) else None
    if not choices:
        return redirect(url_for("voting.ballot", round_id=round_id), code=303)
    proposals = {p.id: p for p in voting.ballot_proposals(round_)}
    return render_template(
        "voting/done.html", round=round_, receipt=receipt, replaced=stash["replaced"],
        choices=choices, by_id=proposals,
        cast_at=datetime.fromisoformat(stash["at"]), channel=channel,
    )


@bp.route("/rounds/<int:round_id>/code", methods=["GET", "POST"])
def enter_code(round_id: int):
    """Vote with a printed voting code."""
    no_store()
    round_ = _public_round(round_id)
    if not voting.codes_admitted(round_):
        abort(404)
    error = None
    typed = ""
    if request.method == "POST":
        typed = (CodeForm().code.data or "")[:64]
        address = f"{request.remote_addr}"
        # a random name for this browser, kept in its session, for its own limit
        browser = session.setdefault("browser", secrets.token_urlsafe(16))
        attempt = rate_limits.admit_code_attempt(
                address, browser, current_app.config["CODE_ATTEMPTS_PER_15_MINUTES"],
                current_app.config["CODE_ATTEMPTS_PER_BROWSER_PER_15_MINUTES"])
        db.session.commit()  # counted for good before the code is looked up
        if attempt is None:
            return render_template("voting/code.html", round=round_, typed=typed,
                                   form=CodeForm(formdata=None), error=message_for(
                                       voting.VotingError("too_many_code_attempts"))), 429
        try:
            voter = voting.online_code_voter(round_, typed)
        except voting.VotingError as refused:
            error = message_for(refused)
        else:
            rate_limits.take_back(attempt)  # a right code is no guess
            db.session.commit()
            session["vote_code"] = {"round": round_.id, "code": voter.voting_code_id}
            return redirect(url_for("voting.ballot", round_id=round_id), code=303)
    return render_template("voting/code.html", round=round_, typed=typed, error=error,
                           form=CodeForm(formdata=None)), (400 if error else 200)


@bp.post("/rounds/<int:round_id>/code/forget")
def forget_code(round_id: int):
    """Stop using the code in this browser (on a shared device, say). CSRF-checked like
    every POST."""
    session.pop("vote_code", None)
    session.pop("vote_done", None)
    flash(gettext("The code is no longer remembered in this browser."), "success")
    return redirect(url_for("public.round_page", round_id=round_id), code=303)
