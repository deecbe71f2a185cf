"""Money, numbers and times in the current language: the filters templates, pages and mail
share. A leaf module: it imports nothing of pb_vote, so anything may import it."""

from datetime import date, datetime
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


# One way to write a date, and a time of day, per language, on every page and in every mail:
# Finnish and Swedish as in Finland (5.3.2026 klo 9.04, 5.3.2026 kl. 9.04), English with
# the month spelt out (5 March 2026 at 09:04), which no reader takes for 3 May.
DATE_PATTERNS = {"fi_FI": "d.M.yyyy", "sv_FI": "d.M.yyyy", "en_GB": "d MMMM yyyy"}
TIME_PATTERNS = {"fi_FI": ("'klo' H.mm", "'klo' H.mm.ss"),
                 "sv_FI": ("'kl.' H.mm", "'kl.' H.mm.ss"),
                 "en_GB": ("'at' HH:mm", "'at' HH:mm:ss")}
TIME_STYLES = ("short", "medium")  # medium adds the seconds (the audit trail)


def local_date(value: date | str | None) -> str:
    """A calendar date (or its ISO text, as publications store days) in the current
    locale."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    locale = format_locale()
    return format_date(value, DATE_PATTERNS.get(locale, "short"), locale=locale)


def percent(ratio) -> str:
    """A ratio (0.062) as a percentage in the current locale ("6,2 %" in Finnish)."""
    return format_percent(ratio, "#,##0.#%", locale=_locale(format_locale()))


def number(value) -> str:
    """A number in the current locale."""
    return format_decimal(value, locale=_locale(format_locale()))


def local_datetime(value: datetime | None, time_zone: str = "Europe/Helsinki",
                   style: str = "medium") -> str:
    """A UTC timestamp shown in the given time zone (the round's), as the current locale
    writes it (``DATE_PATTERNS``, ``TIME_PATTERNS``); ``style`` "short" leaves out the
    seconds."""
    if value is None:
        return ""
    locale = format_locale()
    if locale not in DATE_PATTERNS:
        return format_datetime(value, style, tzinfo=ZoneInfo(time_zone), locale=locale)
    time_pattern = TIME_PATTERNS[locale][TIME_STYLES.index(style) if style in TIME_STYLES
                                         else 1]
    return format_datetime(value, f"{DATE_PATTERNS[locale]} {time_pattern}",
                           tzinfo=ZoneInfo(time_zone), locale=locale)
