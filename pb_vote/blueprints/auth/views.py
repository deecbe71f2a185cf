"""Sign-in views. Links in mail lead to a confirmation button on a clean URL: the token is
swapped into the session at once (out of the address bar, history and Referer), and used
only when the person presses the button, so a mail scanner that opens links cannot use it."""

from datetime import timedelta

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
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
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from joserfc.errors import JoseError

from pb_vote import notifications
from pb_vote.blueprints import identity_providers
from pb_vote.blueprints.auth.forms import (
    ConfirmLinkForm,
    EmailLinkForm,
    ForgotPasswordForm,
    SetPasswordForm,
    SignOutForm,
    StaffSignInForm,
)
from pb_vote.blueprints.common import link_max_age, no_store, safe_next_url
from pb_vote.blueprints.messages import message_for
from pb_vote.extensions import db
from pb_vote.models import LANGUAGES, SignInMethod, TokenPurpose, User
from pb_vote.services import accounts, identity, second_factor, staff_identity
from pb_vote.services import sign_in as login_links
from pb_vote.urls import public_url

bp = Blueprint("auth", __name__)
# Every page here shows or takes an address, a link token or a password: none is cached.
bp.before_request(no_store)

PENDING = {TokenPurpose.SIGN_IN: "pending_sign_in", TokenPurpose.SET_PASSWORD: "pending_password"}
# How long a session opened with a password waits for its second factor.
SECOND_STEP_TIME = timedelta(minutes=10)


def second_factor_policy() -> second_factor.Policy:
    """Who must give a second factor, from the configuration."""
    return second_factor.Policy.from_config(current_app.config)


def _rate_limited(email: str, purpose: TokenPurpose) -> bool:
    limit = current_app.config["SIGN_IN_LINKS_PER_EMAIL_PER_HOUR"]
    if login_links.recent_link_count(email, purpose, timedelta(hours=1)) >= limit:
        current_app.logger.warning("link rate limit reached for a %s request", purpose.value)
        return True
    return False


def _sign_in_page(form=None, problem: str | None = None, status: int = 200):
    """The sign-in page: the identity providers, the emailed link; after a failed
    identification, why it failed."""
    form = form or EmailLinkForm(next=request.args.get("next", ""))
    return render_template("auth/sign_in.html", form=form, problem=problem,
                           providers=identity_providers.offered(),
                           next_url=safe_next_url(form.next.data, "")), status


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Residents: ask for a one-time sign-in link by email, or choose an identity
    provider."""
    form = EmailLinkForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        email = accounts.normalize_email(form.email.data)
        next_url = safe_next_url(form.next.data, "") or None
        if not _rate_limited(email, TokenPurpose.SIGN_IN):
            user = accounts.find_user_by_email(email)
            if user is not None and user.is_staff:
                notifications.staff_use_password(user)
            else:
                notifications.one_time_link(email, TokenPurpose.SIGN_IN, next_url)
            db.session.commit()
        session["link_sent_to"] = email
        return redirect(url_for("auth.link_sent"), code=303)
    return _sign_in_page(form)


def _to_provider(client, callback: str, provider: str, refused):
    """Off to provider ``provider`` (discovery, then the authorization request with state,
    nonce and a PKCE challenge kept in the session), to come back to ``callback``;
    ``refused(code, status)`` answers when the provider is down."""
    try:
        return client.authorize_redirect(callback, ui_locales=str(get_locale()))
    except (requests.RequestException, OAuthError, ValueError, KeyError) as problem:
        current_app.logger.warning("identity provider %s unreachable: %r", provider, problem)
        return refused("identity_provider_down", 503)


def _refusal(problem: Exception, provider: str) -> tuple[str, int]:
    """The refusal code and status for what went wrong with a provider's answer (one of
    ``ANSWER_PROBLEMS``)."""
    if isinstance(problem, MismatchingStateError):  # replayed, or another browser's
        return "identification_expired", 400
    if isinstance(problem, requests.RequestException):
        current_app.logger.warning("identity provider %s unreachable: %r", provider, problem)
        return "identity_provider_down", 503
    if isinstance(problem, identity.IdentityError):
        return problem.code, 400
    current_app.logger.warning("identification by %s refused: %r", provider, problem)
    return "identification_invalid", 400  # signature, issuer, audience, expiry, nonce


# What checking a provider's answer may raise (see _refusal).
ANSWER_PROBLEMS = (requests.RequestException, OAuthError, JoseError, ValueError,
                   identity.IdentityError)


@bp.get("/sign-in/identify/<provider>")
def identify(provider: str):
    """Strong identification: off to the identity provider."""
    client = identity_providers.client(provider) or abort(404)
    session["identify_next"] = safe_next_url(request.args.get("next"), "")
    return _to_provider(client, public_url("auth.identified", provider=provider), provider,
                        lambda code, status: _identify_problem(code, provider, status))


def _identify_problem(code: str, provider: str, status: int):
    db.session.rollback()  # nothing half-made stays
    return _sign_in_page(problem=message_for(identity.IdentityError(code),
                                             provider=identity_providers.label_of(provider)),
                         status=status)


def _verified_claims(client) -> dict:
    """The person's claims once the provider's answer checks out: the code exchanged (with
    the PKCE verifier), the ID token's signature, issuer, audience, expiry and nonce
    checked; then the userinfo, which must be about the same subject."""
    if request.args.get("error"):
        raise identity.IdentityError("identification_cancelled")
    token = client.authorize_access_token()
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise identity.IdentityError("identification_invalid")
    if client.load_server_metadata().get("userinfo_endpoint"):
        more = dict(client.userinfo(token=token))
        if more.get("sub") != claims["sub"]:
            raise identity.IdentityError("identification_invalid")
        claims = {**more, **claims}
    return claims


@bp.get("/sign-in/identify/<provider>/done")
def identified(provider: str):
    """The provider's answer: check it, then sign the person in (their account, keyed by
    the pseudonym of their person identifier, made on the first sign-in)."""
    client = identity_providers.client(provider) or abort(404)
    settings = identity_providers.settings_of(provider)
    try:
        claims = _verified_claims(client)
        person = identity.person_from_claims(
            current_app.config["PERSON_SECRET"], claims,
            person_claim=settings["person_claim"],
            postal_code_claim=settings.get("postal_code_claim"),
            birthdate_claim=settings.get("birthdate_claim"))
        # The account itself, not the proxy: it becomes the current user below.
        signed_in = current_user._get_current_object() if current_user.is_authenticated else None
        user, created = identity.sign_in_identified(person, str(get_locale()), signed_in)
    except ANSWER_PROBLEMS as problem:
        code, status = _refusal(problem, provider)
        return _identify_problem(code, provider, status)
    next_url = session.get("identify_next") or ""
    _start_session(user, SignInMethod.IDENTIFIED)
    db.session.commit()
    if created and not user.home_postal_code:
        flash_in_their_language(user, _l("Welcome! Your identity is confirmed. Add your postal "
                                         "code, so we can show the rounds you can vote in."))
        return redirect(url_for("account.edit"), code=303)
    flash_in_their_language(user, _l("You are signed in with strong identification."))
    return redirect(safe_next_url(next_url, url_for("public.home")), code=303)


@bp.get("/sign-in/sent")
def link_sent():
    """Tell the person to check their mail."""
    return render_template(
        "auth/link_sent.html",
        email=session.get("link_sent_to"),
        minutes=link_max_age(TokenPurpose.SIGN_IN) // 60,
        dev_mailbox=current_app.config.get("DEV_MAILBOX"),
    )


def _link_problem(error: login_links.LinkError, purpose: TokenPurpose):
    message = message_for(error, minutes=link_max_age(purpose) // 60)
    if purpose is TokenPurpose.SIGN_IN:
        form = EmailLinkForm(email=error.email or "")
    else:
        form = ForgotPasswordForm(email=error.email or "")
    return render_template(
        "auth/link_problem.html", message=message, form=form, purpose=purpose.value
    ), 400


def _stash_link(purpose: TokenPurpose, token: str, confirm_endpoint: str):
    try:
        login_links.read_link_token(current_app.config["SECRET_KEY"], token, purpose,
                                link_max_age(purpose))
    except login_links.LinkError as error:
        return _link_problem(error, purpose)
    session[PENDING[purpose]] = token
    session["pending_next"] = safe_next_url(request.args.get("next"), "")
    return redirect(url_for(confirm_endpoint), code=303)


def _pending_claims(purpose: TokenPurpose):
    token = session.get(PENDING[purpose])
    if not token:
        return None, None
    try:
        claims = login_links.read_link_token(
            current_app.config["SECRET_KEY"], token, purpose, link_max_age(purpose)
        )
    except login_links.LinkError as error:
        session.pop(PENDING[purpose], None)
        return None, error
    return claims, None


@bp.get("/sign-in/link/<token>")
def open_link(token: str):
    """The address in the sign-in mail: keep the token in the session, go to a clean URL."""
    return _stash_link(TokenPurpose.SIGN_IN, token, "auth.confirm_link")


@bp.route("/sign-in/confirm", methods=["GET", "POST"])
def confirm_link():
    """One button that uses the link and signs the person in."""
    claims, error = _pending_claims(TokenPurpose.SIGN_IN)
    if error is not None:
        return _link_problem(error, TokenPurpose.SIGN_IN)
    if claims is None:
        return redirect(url_for("auth.sign_in"))
    form = ConfirmLinkForm()
    if form.validate_on_submit():
        secret = current_app.config["SECRET_KEY"]
        try:
            claims = login_links.use_link_token(
                secret, session[PENDING[TokenPurpose.SIGN_IN]], TokenPurpose.SIGN_IN,
                link_max_age(TokenPurpose.SIGN_IN),
            )
        except login_links.LinkError as error:
            db.session.rollback()
            return _link_problem(error, TokenPurpose.SIGN_IN)
        user, created = accounts.get_or_create_resident(claims.email, str(get_locale()))
        if user.is_staff:
            db.session.commit()
            flash(gettext("Staff accounts sign in with a password."), "info")
            return redirect(url_for("auth.staff_sign_in"))
        next_url = session.get("pending_next") or ""
        _start_session(user, SignInMethod.LINK)
        db.session.commit()
        if created or not user.postal_code:
            flash_in_their_language(user, _l("Welcome! Add your name and postal code, so we "
                                             "can show the rounds you can vote in."))
            return redirect(url_for("account.edit"), code=303)
        flash_in_their_language(user, _l("You are signed in."))
        return redirect(safe_next_url(next_url, url_for("public.home")), code=303)
    return render_template("auth/confirm_link.html", form=form, email=claims.email)


def _start_session(user: User, method: SignInMethod, *,
                   passed_second_factor: bool = False) -> None:
    """Open a login session. When the staff second factor concerns ``user`` and was not
    given yet, the session only waits for it (briefly): ``user.second_factor_pending``."""
    session.clear()  # nothing from before sign-in carries over (session fixation)
    waiting = not passed_second_factor and second_factor_policy().applies_to(user)
    login_links.open_login_session(
        user, method, current_app.config["LOGIN_SESSION_DAYS"],
        passed_second_factor=passed_second_factor,
        lasts=SECOND_STEP_TIME if waiting else None)
    user.second_factor_pending = waiting
    login_user(user)
    session.permanent = True


def flash_in_their_language(user: User, message) -> None:
    """Flash ``message`` (a lazy string) in ``user``'s language: this request's language was
    chosen before the sign-in made the account the current user."""
    with force_locale(user.language if user.language in LANGUAGES else str(get_locale())):
        flash(str(message), "success")


def _after_password(user: User, next_url: str, message):
    """Where a staff sign-in (password, or the city's provider) leads: the second factor
    when it is due, else ``next_url`` with ``message`` (lazy, said in the account's
    language)."""
    if user.second_factor_pending:
        session["pending_next"] = next_url
        return redirect(url_for("auth.second_factor"), code=303)
    flash_in_their_language(user, message)
    return redirect(next_url, code=303)


def _staff_sign_in_page(form=None, problem: str | None = None, status: int = 200):
    """The staff sign-in page: the city's provider when there is one, the password form;
    after a failed sign-in through the provider, why it failed."""
    form = form or StaffSignInForm(next=request.args.get("next", ""))
    return render_template("auth/staff_sign_in.html", form=form, problem=problem,
                           staff_provider=identity_providers.staff_label(),
                           next_url=safe_next_url(form.next.data, "")), status


@bp.route("/staff/sign-in", methods=["GET", "POST"])
def staff_sign_in():
    """Staff: sign in with email and password (or through the city's provider)."""
    form = StaffSignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        limit = current_app.config["STAFF_PASSWORD_ATTEMPTS_PER_15_MINUTES"]
        attempt = accounts.admit_staff_attempt(form.email.data, limit)
        # Counted for good before the password is checked, so that parallel guesses count
        # each other and a burst gets no more checks than the limit.
        db.session.commit()
        if attempt is None:
            current_app.logger.warning("staff password attempts limit reached")
            form.password.errors.append(gettext(
                "Too many wrong passwords for this address. Wait 15 minutes, or set a new "
                "password with the link below."))
            return _staff_sign_in_page(form, status=429)
        user = accounts.authenticate_staff(form.email.data, form.password.data, attempt)
        if user is None:
            form.password.errors.append(gettext("The email address or password is wrong."))
        else:
            next_url = safe_next_url(form.next.data, url_for("coordinate.dashboard"))
            _start_session(user, SignInMethod.PASSWORD)
            db.session.commit()
            return _after_password(user, next_url, _l("You are signed in."))
    return _staff_sign_in_page(form)


def _staff_provider_problem(code: str, status: int, **details):
    db.session.rollback()  # nothing half-made stays
    problem = identity.IdentityError(code, **details)
    return _staff_sign_in_page(problem=message_for(
        problem, provider=identity_providers.staff_label(), staff=True), status=status)


@bp.get("/staff/sign-in/provider")
def staff_identify():
    """Staff: off to the city's own identity provider."""
    client = identity_providers.staff_client() or abort(404)
    session["identify_next"] = safe_next_url(request.args.get("next"), "")
    return _to_provider(client, public_url("auth.staff_identified"), identity_providers.STAFF,
                        _staff_provider_problem)


@bp.get("/staff/sign-in/provider/done")
def staff_identified():
    """The city's provider's answer: check it as a resident provider's, then open the
    session of the staff account of the work address it vouches for (never a new one).
    The second step follows unless the city trusts the provider's own multi-factor
    sign-in and the ID token says it was used."""
    client = identity_providers.staff_client() or abort(404)
    settings = identity_providers.staff_settings()
    try:
        claims = _verified_claims(client)
        user = staff_identity.staff_account(staff_identity.work_email(
            claims, settings.get("email_claim") or staff_identity.EMAIL))
    except ANSWER_PROBLEMS as problem:
        code, status = _refusal(problem, identity_providers.STAFF)
        details = problem.details if isinstance(problem, identity.IdentityError) else {}
        return _staff_provider_problem(code, status, **details)
    trusted = bool(current_app.config.get("STAFF_PROVIDER_TRUSTED_MFA")) and (
        staff_identity.mfa_from_claims(claims, settings.get("mfa_acr_values") or ()))
    next_url = safe_next_url(session.get("identify_next"), url_for("coordinate.dashboard"))
    _start_session(user, SignInMethod.STAFF_PROVIDER, passed_second_factor=trusted)
    db.session.commit()
    return _after_password(user, next_url, _l("You are signed in."))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Staff: ask for a link to set a new password."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = accounts.normalize_email(form.email.data)
        user = accounts.find_user_by_email(email)
        if user is not None and user.is_staff and not _rate_limited(
            email, TokenPurpose.SET_PASSWORD
        ):
            notifications.one_time_link(email, TokenPurpose.SET_PASSWORD)
            db.session.commit()
        session["link_sent_to"] = email
        return redirect(url_for("auth.password_link_sent"), code=303)
    return render_template("auth/forgot_password.html", form=form)


@bp.get("/password/sent")
def password_link_sent():
    """Tell staff to check their mail."""
    return render_template(
        "auth/link_sent.html",
        email=session.get("link_sent_to"),
        minutes=link_max_age(TokenPurpose.SET_PASSWORD) // 60,
        dev_mailbox=current_app.config.get("DEV_MAILBOX"),
    )


@bp.get("/password/link/<token>")
def open_password_link(token: str):
    """The address in the password mail."""
    return _stash_link(TokenPurpose.SET_PASSWORD, token, "auth.set_password")


@bp.route("/password/new", methods=["GET", "POST"])
def set_password():
    """Choose a new password; every other session of the account ends."""
    claims, error = _pending_claims(TokenPurpose.SET_PASSWORD)
    if error is not None:
        return _link_problem(error, TokenPurpose.SET_PASSWORD)
    if claims is None:
        return redirect(url_for("auth.forgot_password"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            claims = login_links.use_link_token(
                current_app.config["SECRET_KEY"], session[PENDING[TokenPurpose.SET_PASSWORD]],
                TokenPurpose.SET_PASSWORD, link_max_age(TokenPurpose.SET_PASSWORD),
            )
        except login_links.LinkError as error:
            db.session.rollback()
            return _link_problem(error, TokenPurpose.SET_PASSWORD)
        user = accounts.find_user_by_email(claims.email)
        if user is None:
            db.session.rollback()
            return _link_problem(login_links.LinkInvalid(), TokenPurpose.SET_PASSWORD)
        accounts.set_password(user, form.password.data)
        login_links.end_all_login_sessions(user)
        _start_session(user, SignInMethod.PASSWORD)
        db.session.commit()
        return _after_password(user, url_for("coordinate.dashboard"),
                               _l("Your password is saved and you are signed in."))
    return render_template("auth/set_password.html", form=form, email=claims.email)


@bp.post("/sign-out")
def sign_out():
    """End this session for good: the stored session row is deleted (also one that still
    waits for its second factor)."""
    form = SignOutForm()
    if current_user.is_anonymous or not form.validate_on_submit():
        return redirect(url_for("public.home"))
    if current_user.login_session_token:
        login_links.end_login_session(current_user.login_session_token)
    logout_user()
    session.clear()
    db.session.commit()
    flash(gettext("You are signed out."), "success")
    return redirect(url_for("public.home"), code=303)
