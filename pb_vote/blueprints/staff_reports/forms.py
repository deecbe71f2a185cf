"""The one form of the reports: how many residents may vote in a table's area."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField

from pb_vote.blueprints.fields import single_line
from pb_vote.services.statistics import MOST_ELIGIBLE

# Spaces (and dots or apostrophes) between thousands; a line break or tab is refused.
_SPACES = re.compile(r"[ \u00a0\u202f.']")


def parse_residents(text: str) -> int | None:
    """A whole number of residents as typed (spaces between thousands allowed); None for
    an empty text. Raises ValueError with the words to show."""
    cleaned = _SPACES.sub("", text)
    if not cleaned:
        return None
    if not (cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 8
            and 0 < int(cleaned) <= MOST_ELIGIBLE):
        raise ValueError(str(_l("Write a whole number from 1 to 10 000 000, or leave the "
                                "field empty if the number is not known.")))
    return int(cleaned)


class ResidentsField(StringField):
    """A whole number of residents, spaces between thousands allowed; empty is None."""

    raw_text = ""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = None
        self.data = parse_residents(self.raw_text)

    def _value(self):
        if self.raw_text:
            return self.raw_text
        return "" if self.data is None else str(self.data)


class EligibleResidentsForm(FlaskForm):
    """The residents of a table's area entitled to vote, for turnout shares (city admins)."""

    residents = ResidentsField(
        _l("Residents entitled to vote in the area"), validators=[single_line],
        description=_l("From the population register. Leave empty if it is not known."))
    submit = SubmitField(_l("Save the number"))


def eligible_residents_form(table, *, filled: bool) -> EligibleResidentsForm:
    """The form for ``table``: its whole area, then each of its postal codes (optional),
    filled with the recorded numbers when ``filled`` (else read from the request)."""
    codes = table.postal_codes

    class ForTable(EligibleResidentsForm):
        def by_area(self) -> dict[str, int | None]:
            """Each postal code of the area with the number typed for it (None: empty)."""
            return {code: getattr(self, f"area_{n}").data for n, code in enumerate(codes)}

        def area_fields(self) -> list:
            """The postal codes' fields, in the area's order."""
            return [getattr(self, f"area_{n}") for n in range(len(codes))]

    for n, code in enumerate(codes):
        setattr(ForTable, f"area_{n}", ResidentsField(_l("Postal code %(code)s", code=code),
                                                     validators=[single_line]))
    if not filled:
        return ForTable()
    recorded = {row.postal_code: row.eligible_residents for row in table.area}
    return ForTable(residents=table.eligible_residents,
                    **{f"area_{n}": recorded[code] for n, code in enumerate(codes)})
