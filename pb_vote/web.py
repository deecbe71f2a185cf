"""Request-level wiring: blueprints, template filters, errors, headers. Nothing imports
this module but :func:`pb_vote.create_app`; what views share lives in ``pb_vote.blueprints``
and ``pb_vote.formatting``."""

from flask import Flask, abort, current_app, g, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import IntegerConverter

from pb_vote import cli
from pb_vote.blueprints import (
    about,
    account,
    admin,
    api,
    auth,
    comments,
    coordinate,
    identity_providers,
    images,
    labels,
    moderation,
    opinions,
    proposals,
    public,
    results,
    staff_reports,
    supports,
    voting,
)
from pb_vote.blueprints.languages import (
    LANGUAGE_NAMES,
    category_name,
    lang_attr,
    localized,
    marked,
    missing_texts,
)
from pb_vote.blueprints.uploads import UPLOAD_ENDPOINTS, allow_image_uploads
from pb_vote.extensions import db, login_manager
from pb_vote.formatting import format_locale, local_date, local_datetime, money, number, percent
from pb_vote.services.second_factor import Policy
from pb_vote.services.sign_in import load_login_session
from pb_vote.urls import public_adapter

# The largest id a route takes: an id column is ``integer`` (PostgreSQL: at most 2^31 - 1;
# SQLite's are 64-bit), and a larger number would fail in the database, not find nothing.
MAX_ID = 2**31 - 1
HSTS = "max-age=31536000; includeSubDomains"  # a year, as OWASP ASVS asks


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a whole number up to :data:`MAX_ID`; a larger one is no
    address here (404) rather than an out-of-range error from the database (500)."""

    def __init__(self, url_map, *args, **options):
        options.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **options)


def _load_user(token: str):
    return load_login_session(token, Policy.from_config(current_app.config))


ERROR_TEXTS = {
    400: (lazy_gettext("Bad request"), lazy_gettext("The request could not be understood.")),
    403: (
        lazy_gettext("Not allowed"),
        lazy_gettext("Your account does not have permission to see this page."),
    ),
    404: (lazy_gettext("Page not found"), lazy_gettext("There is nothing at this address.")),
    405: (lazy_gettext("Not allowed"), lazy_gettext("This address does not accept that method.")),
    413: (
        lazy_gettext("Request too large"),
        lazy_gettext("What you sent is larger than this service accepts."),
    ),
    429: (lazy_gettext("Too many requests"), lazy_gettext("Please wait a moment and try again.")),
    500: (
        lazy_gettext("Something went wrong"),
        lazy_gettext("The error has been logged. Nothing you entered was saved; please try again."),
    ),
}


def _error_response(code: int, message: str | None = None):
    title, default_message = ERROR_TEXTS.get(code, ERROR_TEXTS[400])
    text = message or str(default_message)
    if request.path.startswith("/api/"):
        return jsonify({"error": {"status": code, "message": text}}), code
    return render_template("errors/error.html", code=code, title=title, message=text), code


def _handle_http_exception(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    code = error.code if error.code in ERROR_TEXTS else 400 if error.code < 500 else 500
    message = None
    if code == 413 and request.endpoint in UPLOAD_ENDPOINTS:
        message = gettext(
            "The image is too large: a form can send at most %(size)d MB. Go back, choose a "
            "smaller picture and send the form again.",
            size=current_app.config["IMAGE_MAX_UPLOAD_BYTES"] // (1024 * 1024))
    response = make_response(_error_response(code, message))
    # Keep what the error says beyond its page: Allow on a 405, Retry-After on a 429.
    for name, value in error.get_headers(request.environ):
        if name.lower() != "content-type" and name not in response.headers:
            response.headers.add(name, value)
    return response


def _handle_untrusted_host(error: SecurityError):
    """A request for a host not in ``TRUSTED_HOSTS``: Flask refused it before routing, so
    it has no URL adapter; the 400 page's links are built on the public address instead."""
    if request_ctx.url_adapter is None:
        request_ctx.url_adapter = public_adapter()
    return _error_response(400, gettext("This service does not answer at this address."))


def _handle_csrf_error(error: CSRFError):
    return _error_response(
        400,
        gettext(
            "The form had expired or came from another site. Go back, reload the page and "
            "send it again."
        ),
    )


def _handle_unexpected(error: Exception):
    db.session.rollback()
    current_app.logger.exception("unhandled error")
    return _error_response(500)


def _refuse_nul_characters():
    """No address or text field ever needs a NUL character, and PostgreSQL can neither
    store one nor compare with one: refuse the request with 400 rather than fail with 500
    deep inside (the path, every query and form name, every value of each)."""
    if "\x00" in request.path:
        abort(400)
    for values in (request.args, request.form if request.method == "POST" else None):
        for name, value in values.items(multi=True) if values else ():
            if "\x00" in name or "\x00" in value:
                abort(400)


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
    if current_app.config["ENV_NAME"] != "development":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    # Pages marked so (personal data without an account: a typed code, a link sent to an
    # address), and every page seen signed in, are never kept in a cache.
    # (An image everyone may see is the same for all, and may be kept: g.shared_cache.)
    if getattr(g, "no_store", False) or (
            request.endpoint != "static" and not getattr(g, "shared_cache", False)
            and current_user.is_authenticated):
        response.headers["Cache-Control"] = "no-store"
    return response


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that a response every cache may keep (an
    image everyone may see: ``g.shared_cache``) never sets the session cookie: a shared
    cache would hand it to the next visitor."""

    def should_set_cookie(self, app: Flask, session) -> bool:
        if getattr(g, "shared_cache", False):
            return False
        return super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    """Attach blueprints, template helpers, error handlers and the CLI to ``app``."""
    app.session_interface = SessionCookies()
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are rows we can end; see sign_in.py

    identity_providers.init_app(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    for blueprint in (public.bp, auth.bp, account.bp, proposals.bp, voting.bp, results.bp,
                      coordinate.bp, moderation.bp, admin.bp, api.bp, about.bp,
                      staff_reports.bp, opinions.bp, images.bp,
                      comments.bp, supports.bp):
        app.register_blueprint(blueprint)

    app.jinja_env.filters.update(
        money=money, number=number, percent=percent, local_datetime=local_datetime,
        local_date=local_date, localized=localized, category_name=category_name,
        lang_attr=lang_attr, marked=marked,
    )
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale, format_locale=format_locale,
        missing_texts=missing_texts,
        PHASE_LABELS=labels.PHASE_LABELS,
        ORIGIN_LABELS=labels.ORIGIN_LABELS, STATUS_LABELS=labels.STATUS_LABELS,
        FEASIBILITY_LABELS=labels.FEASIBILITY_LABELS,
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def _template_context():
        from pb_vote.services.permissions import Action, is_allowed

        return {"Action": Action, "is_allowed": is_allowed}

    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(SecurityError, _handle_untrusted_host)
    if not app.testing:
        app.register_error_handler(Exception, _handle_unexpected)
    # First of all, before CSRF protection reads the form: the upload size allowed.
    app.before_request_funcs.setdefault(None, []).insert(0, allow_image_uploads)
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)
    cli.init_app(app)
