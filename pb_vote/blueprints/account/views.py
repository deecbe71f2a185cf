"""Account views: the profile, the notices one asks for, deletion; and the unsubscribe
link of every notice, which works without signing in."""

from contextlib import nullcontext

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from pb_vote.blueprints.account.forms import (
    CommentMailForm,
    DeleteAccountForm,
    NoticesForm,
    ProfileForm,
)
from pb_vote.blueprints.common import no_store
from pb_vote.blueprints.messages import message_for
from pb_vote.extensions import csrf, db
from pb_vote.models import NoticeKind
from pb_vote.services import accounts, notices
from pb_vote.services.comments import set_mail_on_comments

bp = Blueprint("account", __name__, url_prefix="/account")
# What the unsubscribe page calls each kind of notice (as the account page's boxes do).
KIND_NAMES = {
    NoticeKind.IDEAS_OPEN: _l("When a round in my area takes ideas"),
    NoticeKind.VOTING_OPEN: _l("When voting opens in my area"),
    NoticeKind.VOTING_REMINDER: _l("A reminder before voting closes, if I have not voted "
                                   "yet"),
    NoticeKind.RESULTS: _l("When results are published in my area"),
}
# What an RFC 8058 one-click POST sends (a mail client, without a session or CSRF token).
ONE_CLICK = ("List-Unsubscribe", "One-Click")


def _notices_form(user_id: int, formdata=None) -> NoticesForm:
    """The notices form, ticked as the person chose (from ``formdata`` when posted)."""
    subscribed = notices.subscribed_kinds(user_id)
    form = NoticesForm(formdata=formdata, prefix="notices",
                       data={kind.value: kind in subscribed for kind in NoticeKind})
    form.voting_reminder.description = gettext(
        "Sent %(hours)s hours before voting ends.",
        hours=current_app.config["VOTING_REMINDER_HOURS_BEFORE_CLOSE"])
    return form


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
                           notices_form=_notices_form(current_user.id),
                           comment_mail_form=CommentMailForm(obj=current_user),
                           delete_form=DeleteAccountForm()), status


@bp.post("/notices")
@login_required
def save_notices():
    """Opt in to or out of each kind of notice (the account page's boxes)."""
    no_store()
    form = _notices_form(current_user.id, formdata=request.form)
    if form.validate_on_submit():
        notices.set_subscriptions(current_user, {
            kind for kind in NoticeKind if form[kind.value].data})
        db.session.commit()
        flash(gettext("Your notices are saved."), "success")
    return redirect(url_for("account.edit", _anchor="notices"), code=303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the authority; a mail client's one-click POST has no form
def unsubscribe(token: str):
    """A notice's unsubscribe link: GET shows a button (a mail scanner opening the link
    changes nothing), POST unsubscribes that address from that kind of notice, also the
    RFC 8058 one-click POST of a mail client, without a session. In the language of the
    account the link was made for."""
    no_store()
    try:
        claims = notices.read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    except notices.UnsubscribeLinkInvalid:
        return render_template("account/unsubscribe.html", state="invalid"), 400
    person = notices.person_of(claims)
    with force_locale(person.language) if person is not None else nullcontext():
        page = {"kind": claims.kind, "kind_name": KIND_NAMES[claims.kind], "token": token}
        if person is None:
            return render_template("account/unsubscribe.html", state="gone", **page)
        if request.method == "POST":
            notices.unsubscribe(person, claims.kind)
            db.session.commit()
            if request.form.get(ONE_CLICK[0]) == ONE_CLICK[1]:  # answered, never redirected
                return render_template("account/unsubscribe.html", state="done", **page)
            return redirect(url_for("account.unsubscribe", token=token), code=303)
        state = "done" if notices.is_unsubscribed(person, claims.kind) else "ask"
        return render_template("account/unsubscribe.html", state=state, **page)


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
