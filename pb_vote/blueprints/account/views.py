"""Account views."""

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, logout_user

from pb_vote import clock
from pb_vote.blueprints.account.forms import DeleteAccountForm, ProfileForm
from pb_vote.blueprints.common import no_store
from pb_vote.extensions import db
from pb_vote.services import accounts, voting
from pb_vote.web import local_datetime

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("", methods=["GET", "POST"])
@login_required
def edit():
    """See and change one's own name, language and postal code."""
    no_store()
    form = ProfileForm(obj=current_user)
    status = 200
    if form.validate_on_submit():
        if _moves_out_of_an_open_vote(form):
            status = 409
        else:
            accounts.update_profile(
                current_user,
                display_name=form.display_name.data or "",
                language=form.language.data,
                postal_code=form.postal_code.data or "",
            )
            db.session.commit()
            flash(gettext("Your details are saved."), "success")
            return redirect(url_for("account.edit"), code=303)
    return render_template("account/edit.html", form=form,
                           delete_form=DeleteAccountForm()), status


def _open_vote_note(round_) -> dict:
    return {"round": round_.title,
            "end": local_datetime(round_.voting_close_at, round_.time_zone, "short")}


def _moves_out_of_an_open_vote(form: ProfileForm) -> bool:
    """True (with the reason on the postal code field) when the new postal code is outside
    the area of a round the person voted in that is still open."""
    left = voting.open_round_left_by_moving(current_user, form.postal_code.data or "",
                                            clock.utcnow())
    if left is not None:
        form.postal_code.errors = [gettext(
            "You have voted in %(round)s, which is open until %(end)s. Your home postal "
            "code can move out of its area once voting has closed.", **_open_vote_note(left))]
    return left is not None


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    """Delete one's own account, after a confirmation."""
    no_store()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if open_votes := voting.open_rounds_voted_in(current_user, clock.utcnow()):
            # A new account with the same address could vote again in the open round.
            form.confirm.errors = [gettext(
                "You have voted in %(round)s, which is open until %(end)s. You can delete "
                "your account once voting has closed; until then you can still change your "
                "vote.", **_open_vote_note(open_votes[0]))]
            return render_template("account/delete.html", form=form), 409
        accounts.delete_account(current_user._get_current_object())
        logout_user()
        session.clear()
        db.session.commit()
        flash(gettext("Your account is deleted."), "success")
        return redirect(url_for("public.home"), code=303)
    return render_template("account/delete.html", form=form)
