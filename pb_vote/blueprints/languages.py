"""Which language a response speaks, and the names the language switch shows."""

from flask import current_app, request
from flask_login import current_user

from pb_vote.models import LANGUAGES

LANGUAGE_COOKIE = "pb_vote_lang"
LANGUAGE_NAMES = {"fi": "Suomi", "sv": "Svenska", "en": "English"}


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
