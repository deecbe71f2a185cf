"""Form fields shared by several blueprints: money in euros, local date-times, and the
one-line rule of every text field that is not a text area."""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, StringField
from wtforms.validators import ValidationError

from pb_vote.text import is_one_line

MAX_EUROS = Decimal(1_000_000_000)
_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_euros(text: str, *, whole: bool = False) -> int:
    """"1 200,50" or "1200.50" or "1200 €" as integer cents (exact, no float).
    Raises ValueError with a short code: "format", "cents" (when whole euros are required),
    "range"."""
    cleaned = _SPACES.sub("", text or "").removesuffix("€").removesuffix("EUR")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        raise ValueError("format")
    try:
        euros = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("format") from None
    if whole and euros != euros.to_integral_value():
        raise ValueError("cents")
    if euros <= 0 or euros > MAX_EUROS:
        raise ValueError("range")
    return int(euros * 100)


def format_euros(cents: int | None) -> str:
    """Cents as the plain text a money field shows again ("1200" or "1200.50")."""
    if cents is None:
        return ""
    euros, rest = divmod(cents, 100)
    return f"{euros}" if rest == 0 else f"{euros}.{rest:02d}"


class MoneyField(StringField):
    """Euros typed as text (spaces, comma or point decimals), kept as integer cents in
    ``.data``; what the person typed is shown again when it is wrong."""

    def __init__(self, label=None, validators=None, whole_euros=False, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.whole_euros = whole_euros
        self.raw_text = ""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        if not self.raw_text.strip():
            self.data = None
            return
        try:
            self.data = parse_euros(self.raw_text, whole=self.whole_euros)
        except ValueError as error:
            self.data = None
            messages = {
                "format": _l("Write an amount in euros, for example 12000 or 1 250,50."),
                "cents": _l("Write whole euros, without cents."),
                "range": _l("The amount must be more than zero and at most one billion."),
            }
            raise ValueError(str(messages[str(error)])) from None

    def _value(self):
        return self.raw_text if self.raw_text else format_euros(self.data)


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed in the round's time zone; ``utc`` gives it as aware UTC."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format="%Y-%m-%dT%H:%M", **kwargs)

    def utc(self, zone: str) -> datetime | None:
        """The typed local time as aware UTC; an ambiguous or missing hour (DST) counts
        as the first occurrence."""
        if self.data is None:
            return None
        return self.data.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))

    def show(self, moment: datetime | None, zone: str) -> None:
        """Fill the field with ``moment`` (UTC) as local time in ``zone``."""
        self.data = (
            moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if moment else None
        )


def single_line(form, field) -> None:
    """A validator for every one-line text field: no line break, tab or other control
    character (a browser's text box cannot type one; a crafted request can, and the text goes
    into mail subjects, page titles and CSV cells)."""
    if isinstance(field.data, str) and not is_one_line(field.data):
        raise ValidationError(_l("Write this on one line, without line breaks or tabs."))


def require_present(message):
    """A validator: the field must have parsed to something."""

    def check(form, field):
        # Text that could not be read has said so already (MoneyField's own message).
        if field.data is None and not field.errors:
            raise ValidationError(message)

    return check
