"""Account views."""

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, logout_user

from pb_vote.blueprints.account.forms import CommentMailForm, DeleteAccountForm, ProfileForm
from pb_vote.blueprints.common import no_store
from pb_vote.blueprints.messages import message_for
from pb_vote.extensions import db
from pb_vote.services import accounts
from pb_vote.services.comments import set_mail_on_comments

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("", methods=["GET", "POST"])
@login_required
def edit():
    """See and change one's own name, language and postal code."""
    no_store()
    form = ProfileForm(obj=current_user)
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user,
                display_name=form.display_name.data or "",
                language=form.language.data,
                postal_code=form.postal_code.data or "",
            )
        except accounts.OpenVoteHolds as held:
            form.postal_code.errors = [message_for(held)]
            status = 409
        else:
            db.session.commit()
            flash(gettext("Your details are saved."), "success")
            return redirect(url_for("account.edit"), code=303)
    return render_template("account/edit.html", form=form,
                           comment_mail_form=CommentMailForm(obj=current_user),
                           delete_form=DeleteAccountForm()), status


@bp.post("/comment-mail")
@login_required
def comment_mail():
    """Turn the mail about new comments on one's ideas on or off."""
    form = CommentMailForm()
    if form.validate_on_submit():
        set_mail_on_comments(current_user, bool(form.mail_on_comments.data))
        db.session.commit()
        flash(gettext("Your choice about comment mail is saved."), "success")
    return redirect(url_for("account.edit", _anchor="comment-mail"), code=303)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    """Delete one's own account, after a confirmation."""
    no_store()
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            accounts.delete_account(current_user._get_current_object())
        except accounts.OpenVoteHolds as held:
            form.confirm.errors = [message_for(held)]
            return render_template("account/delete.html", form=form), 409
        logout_user()
        session.clear()
        db.session.commit()
        flash(gettext("Your account is deleted."), "success")
        return redirect(url_for("public.home"), code=303)
    return render_template("account/delete.html", form=form)
