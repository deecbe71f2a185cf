"""Money, numbers and times in the current language: the filters templates, pages and mail
share. A leaf module: it imports nothing of pb_vote, so anything may import it."""

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import get_locale

# Dates, times, numbers and money follow the conventions of Finland for Finnish and Swedish
# (Finland-Swedish), and British English (24-hour clock, day first) for English.
FORMAT_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}


def format_locale() -> str:
    """The Babel locale for formatting in the current language."""
    language = str(get_locale())
    return FORMAT_LOCALES.get(language, language)


def money(cents: int | None, currency: str = "EUR") -> str:
    """Integer cents as money in the current locale: exact (Decimal), never float.
    Whole amounts are shown without cents ("12 000 €")."""
    if cents is None:
        return ""
    return _money(cents, currency, format_locale())


@lru_cache(maxsize=8192)
def _money(cents: int, currency: str, locale_name: str) -> str:
    """``money`` for one locale, remembered: a results page of a big round formats hundreds
    of amounts, and Babel's formatting parses its patterns on every call."""
    locale = _locale(locale_name)
    amount = Decimal(cents) / 100
    if cents % 100:
        return format_currency(amount, currency, locale=locale)
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return format_currency(amount, currency, locale=locale, format=pattern, currency_digits=False)


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def local_date(value) -> str:
    """A calendar date in the current locale."""
    return format_date(value, "medium", locale=format_locale())


def percent(ratio) -> str:
    """A ratio (0.062) as a percentage in the current locale ("6,2 %" in Finnish)."""
    return format_percent(ratio, "#,##0.#%", locale=_locale(format_locale()))


def number(value) -> str:
    """A number in the current locale."""
    return format_decimal(value, locale=_locale(format_locale()))


def local_datetime(value: datetime | None, time_zone: str = "Europe/Helsinki", style="medium"):
    """A UTC timestamp shown in the given time zone, formatted for the current locale."""
    if value is None:
        return ""
    return format_datetime(value, style, tzinfo=ZoneInfo(time_zone), locale=format_locale())
