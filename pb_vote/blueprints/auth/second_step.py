"""The staff second factor: enrolment (a QR code and the secret as text, put in effect by a
first code), the code asked after the password, recovery codes, and their renewal.

A session that waits for the second factor counts as not signed in: a guard sends every
request of it to the second step, except the few pages that step needs (below)."""

import segno
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from pb_vote import notifications
from pb_vote.blueprints.auth.forms import (
    RecoveryCodeForm,
    RenewRecoveryCodesForm,
    SecondFactorCodeForm,
    SignOutForm,
)
from pb_vote.blueprints.auth.views import (
    _start_session,
    bp,
    flash_in_their_language,
    second_factor_policy,
)
from pb_vote.blueprints.common import safe_next_url
from pb_vote.extensions import db
from pb_vote.models import SignInMethod, User
from pb_vote.services import second_factor
from pb_vote.services import sign_in as login_links

# What a session waiting for its second factor may reach.
OPEN_WHILE_WAITING = {
    "auth.second_factor", "auth.recovery_code", "auth.enrol_second_factor", "auth.sign_out",
    "auth.staff_sign_in", "auth.staff_identify", "auth.staff_identified",
    "public.set_language", "static",
}


@bp.before_app_request
def _second_factor_first():
    """Send a session that gave only a password to the second step: nothing else is
    served to it (a POST is not run either)."""
    if request.endpoint in OPEN_WHILE_WAITING:
        return None
    if getattr(current_user, "second_factor_pending", False):
        return redirect(url_for("auth.second_factor"), code=303)
    return None


def _keys() -> second_factor.SecretKeys:
    keys = current_app.extensions.get("pb_vote.second_factor_keys")
    if keys is None:
        keys = current_app.extensions["pb_vote.second_factor_keys"] = (
            second_factor.SecretKeys.from_config(current_app.config))
    return keys


def _person() -> User | None:
    """Whoever this session belongs to, signed in fully or waiting for the second step."""
    return None if current_user.is_anonymous else current_user._get_current_object()


def _admit(user: User, field):
    """Count this code before checking it (committed at once); None, with the error on
    ``field``, when the account typed too many wrong codes."""
    attempt = second_factor.admit_attempt(
        user, current_app.config["SECOND_FACTOR_ATTEMPTS_PER_15_MINUTES"])
    db.session.commit()
    if attempt is None:
        current_app.logger.warning("second-factor attempts limit reached")
        field.errors.append(gettext(
            "Too many wrong codes. Wait 15 minutes and try again, or ask a city admin to "
            "reset your second factor."))
    return attempt


def _passed(user: User):
    """The second factor is given: a new, full session, opened as the waiting one was (a
    password, or the city's provider), replaces it."""
    next_url = safe_next_url(session.get("pending_next"), url_for("coordinate.dashboard"))
    method = SignInMethod.PASSWORD
    if user.login_session_token:
        method = login_links.method_of(user.login_session_token) or method
        login_links.end_login_session(user.login_session_token)
    _start_session(user, method, passed_second_factor=True)
    return next_url


def _keys_lost(form, recovery_form):
    """The secret does not open with SECOND_FACTOR_KEYS (a key removed from the
    configuration): say so rather than call the code wrong; recovery codes still work."""
    db.session.rollback()
    current_app.logger.error("a second-factor secret does not open with SECOND_FACTOR_KEYS")
    form.code.errors.append(gettext(
        "Your second factor cannot be checked now. Use a recovery code, or ask a city admin "
        "to reset your second factor."))
    return _challenge_page(form, recovery_form, 503)


def _challenge_page(form, recovery_form, status: int = 200):
    return render_template("auth/second_factor.html", form=form, recovery_form=recovery_form,
                           sign_out_form=SignOutForm()), status


@bp.route("/staff/second-factor", methods=["GET", "POST"], endpoint="second_factor")
def second_factor_step():
    """After the password: a code from the authenticator app (or a recovery code)."""
    user = _person()
    if user is None or not user.second_factor_pending:
        return redirect(url_for("coordinate.dashboard" if user else "auth.staff_sign_in"))
    if not second_factor.is_enrolled(user):
        return redirect(url_for("auth.enrol_second_factor"))
    form = SecondFactorCodeForm()
    recovery_form = RecoveryCodeForm(formdata=None)
    if form.validate_on_submit():
        attempt = _admit(user, form.code)
        if attempt is None:
            return _challenge_page(form, recovery_form, 429)
        try:
            right = second_factor.check_code(user, _keys(), form.code.data, attempt)
        except second_factor.SecondFactorKeyError:
            return _keys_lost(form, recovery_form)
        if right:
            next_url = _passed(user)
            db.session.commit()
            flash_in_their_language(user, _l("You are signed in."))
            return redirect(next_url, code=303)
        db.session.commit()
        form.code.errors.append(gettext(
            "This code is wrong or was used already. Type the code your app shows now."))
    return _challenge_page(form, recovery_form, 400 if form.errors else 200)


@bp.post("/staff/second-factor/recovery")
def recovery_code():
    """After the password: one of the recovery codes, instead of the app (used up)."""
    user = _person()
    if user is None or not user.second_factor_pending:
        return redirect(url_for("auth.staff_sign_in"))
    form = SecondFactorCodeForm(formdata=None)
    recovery_form = RecoveryCodeForm()
    if recovery_form.validate_on_submit():
        attempt = _admit(user, recovery_form.recovery_code)
        if attempt is None:
            return _challenge_page(form, recovery_form, 429)
        if second_factor.use_recovery_code(user, recovery_form.recovery_code.data, attempt):
            left = second_factor.recovery_codes_left(user)
            next_url = _passed(user)
            notifications.second_factor_changed(user, "recovery_code_used")
            db.session.commit()
            flash(ngettext(
                "You are signed in with a recovery code. %(num)d code is left: make new "
                "ones on the second factor page.",
                "You are signed in with a recovery code. %(num)d codes are left: make new "
                "ones on the second factor page.", left), "success")
            return redirect(next_url, code=303)
        db.session.commit()
        recovery_form.recovery_code.errors.append(gettext(
            "This recovery code is wrong or was used already."))
    return _challenge_page(form, recovery_form, 400)


def _qr_code(link: str) -> Markup:
    return Markup(segno.make_qr(link, error="m").svg_inline(
        scale=4, omitsize=True, title=gettext("QR code for your authenticator app")))


def _issuer() -> str:
    configured = current_app.config.get("SECOND_FACTOR_ISSUER")
    if configured:
        return configured
    base = current_app.config.get("PUBLIC_BASE_URL") or "pb_vote"
    return base.split("://", 1)[-1].split("/", 1)[0]


def _enrolment_secret(user: User) -> str:
    try:
        return second_factor.enrolment_secret(user, _keys())
    except second_factor.SecondFactorKeyError:
        # An enrolment begun under a key no longer configured: begin it again.
        second_factor.forget_enrolment(user)
        return second_factor.enrolment_secret(user, _keys())


@bp.route("/staff/second-factor/enrol", methods=["GET", "POST"])
def enrol_second_factor():
    """Set up the authenticator app: scan the QR code (or type the secret), then give the
    first code, which puts it in effect and shows the recovery codes once."""
    if not second_factor_policy().enabled:
        abort(404)
    user = _person()
    if user is None:
        return redirect(url_for("auth.staff_sign_in"))
    if not user.is_staff:
        abort(403)
    if second_factor.is_enrolled(user):
        return redirect(url_for("auth.second_factor" if user.second_factor_pending
                                else "auth.second_factor_settings"))
    secret = _enrolment_secret(user)
    db.session.commit()
    form = SecondFactorCodeForm()
    if form.validate_on_submit() and (attempt := _admit(user, form.code)) is not None:
        made = second_factor.confirm_enrolment(user, _keys(), form.code.data, attempt)
        if made is not None:
            was_waiting = user.second_factor_pending
            next_url = _passed(user)  # a full session either way, on a new token
            notifications.second_factor_changed(user, "enrolled")
            db.session.commit()
            return render_template(
                "auth/recovery_codes.html", codes=made, first=True,
                next_url=next_url if was_waiting else url_for("auth.second_factor_settings"))
        db.session.commit()
        form.code.errors.append(gettext(
            "This code is wrong. Check that the app's clock is right, and type the code it "
            "shows now."))
    uri = second_factor.provisioning_uri(user, secret, _issuer())
    return render_template(
        "auth/enrol_second_factor.html", form=form, qr_code=_qr_code(uri),
        secret=second_factor.format_secret(secret), sign_out_form=SignOutForm(),
    ), 400 if form.errors else 200


@bp.get("/staff/second-factor/settings")
@login_required
def second_factor_settings():
    """A staff member's second factor: whether it is set up, the recovery codes left."""
    if not current_user.is_staff:
        abort(403)
    enrolled = second_factor.is_enrolled(current_user)
    return render_template(
        "auth/second_factor_settings.html", enrolled=enrolled,
        enabled=second_factor_policy().enabled,
        left=second_factor.recovery_codes_left(current_user) if enrolled else 0,
        renew_form=RenewRecoveryCodesForm(),
    )


@bp.post("/staff/second-factor/recovery-codes")
@login_required
def renew_recovery_codes():
    """Make ten new recovery codes (the old ones stop working) and show them once."""
    if not current_user.is_staff or not second_factor.is_enrolled(current_user):
        abort(403)
    if not RenewRecoveryCodesForm().validate_on_submit():
        return redirect(url_for("auth.second_factor_settings"), code=303)
    made = second_factor.renew_recovery_codes(current_user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=made,
                           next_url=url_for("auth.second_factor_settings"), first=False)
