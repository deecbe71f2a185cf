"""Request-level wiring: blueprints, locale choice, template filters, errors, headers."""

import sqlite3
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Flask, abort, current_app, g, jsonify, render_template, request
from flask_babel import get_locale, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from pb_vote.extensions import db, login_manager
from pb_vote.models import LANGUAGES

LANGUAGE_COOKIE = "pb_vote_lang"
LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}
# Dates, times, numbers and money follow the conventions of Finland for Finnish and Swedish
# (Finland-Swedish), and British English (24-hour clock, day first) for English.
FORMAT_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}


def format_locale() -> str:
    """The Babel locale for formatting in the current language."""
    language = str(get_locale())
    return FORMAT_LOCALES.get(language, language)


def select_locale() -> str:
    """The language of this response: the account's, then the cookie's, then the browser's."""
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return request.accept_languages.best_match(LANGUAGES) or current_app.config.get(
        "BABEL_DEFAULT_LOCALE", "fi"
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, and use WAL so readers never block the writer."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@login_manager.user_loader
def _load_user(token: str):
    from pb_vote.services.sign_in import load_login_session

    return load_login_session(token)


def money(cents: int | None, currency: str = "EUR") -> str:
    """Integer cents as money in the current locale: exact (Decimal), never float.
    Whole amounts are shown without cents ("12 000 €")."""
    if cents is None:
        return ""
    locale = format_locale()
    amount = Decimal(cents) / 100
    if cents % 100:
        return format_currency(amount, currency, locale=locale)
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(amount, currency, locale=locale, format=pattern, currency_digits=False)


def local_date(value) -> str:
    """A calendar date in the current locale."""
    return format_date(value, "medium", locale=format_locale())


def percent(ratio) -> str:
    """A ratio (0.062) as a percentage in the current locale ("6,2 %" in Finnish)."""
    return format_percent(ratio, "#,##0.#%", locale=format_locale())


def number(value) -> str:
    """A number in the current locale."""
    return format_decimal(value, locale=format_locale())


def local_datetime(value: datetime | None, time_zone: str = "Europe/Helsinki", style="medium"):
    """A UTC timestamp shown in the given time zone, formatted for the current locale."""
    if value is None:
        return ""
    return format_datetime(value, style, tzinfo=ZoneInfo(time_zone), locale=format_locale())


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
    return _error_response(code)


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
    """No text field ever needs a NUL character, and PostgreSQL cannot store one: refuse the
    request with 400 rather than fail with 500 deep inside."""
    for values in (request.args, request.form if request.method == "POST" else {}):
        for value in values.values() if values else ():
            if "\x00" in value:
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
    if getattr(g, "no_store", False):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Attach blueprints, template helpers, error handlers and the CLI to ``app``."""
    from pb_vote import cli
    from pb_vote.blueprints import (
        account,
        admin,
        api,
        auth,
        coordinate,
        labels,
        proposals,
        public,
        results,
        voting,
    )

    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = lazy_gettext("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are rows we can end; see sign_in.py

    for blueprint in (public.bp, auth.bp, account.bp, proposals.bp, voting.bp, results.bp,
                      coordinate.bp, admin.bp, api.bp):
        app.register_blueprint(blueprint)

    app.jinja_env.filters.update(
        money=money, number=number, percent=percent, local_datetime=local_datetime,
        local_date=local_date,
    )
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, get_locale=get_locale, format_locale=format_locale,
        PHASE_LABELS=labels.PHASE_LABELS,
        ORIGIN_LABELS=labels.ORIGIN_LABELS, STATUS_LABELS=labels.STATUS_LABELS,
    )
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def _template_context():
        from pb_vote.services.permissions import Action, is_allowed

        return {"Action": Action, "is_allowed": is_allowed}

    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    if not app.testing:
        app.register_error_handler(Exception, _handle_unexpected)
    app.before_request(_refuse_nul_characters)
    app.after_request(_security_headers)
    cli.init_app(app)
