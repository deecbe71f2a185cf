"""Administration forms."""

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from pb_vote.blueprints.auth.forms import email_field
from pb_vote.blueprints.fields import single_line
from pb_vote.blueprints.languages import LANGUAGE_NAMES
from pb_vote.blueprints.messages import message_for
from pb_vote.blueprints.staff_reports.forms import ResidentsField, parse_residents
from pb_vote.models.texts import MAIN_LANGUAGES
from pb_vote.services.tables import TableDetails, TableError

ROLE_NAMES = {"member": _l("member"), "coordinator": _l("coordinator")}
ROLE_CHOICES = [SelectChoice("member", _l("Member")),
                SelectChoice("coordinator", _l("Coordinator"))]


class MembershipForm(FlaskForm):
    """Give a person a role at a table."""

    email = email_field()
    table_id = SelectField(
        _l("Partnership table"), coerce=int,
        validators=[DataRequired(message=_l("Choose a table."))],
    )
    role = SelectField(
        _l("Role"), choices=ROLE_CHOICES,
        validators=[DataRequired(message=_l("Choose a role."))],
    )
    submit = SubmitField(_l("Give the role"))


class RevokeForm(FlaskForm):
    """Remove a role (the button on each row)."""

    submit = SubmitField(_l("Remove"))


# What may stand between a postal code and its number on a line of the area.
_AREA_LINE = re.compile(r"^(\S+)(?:[\s:;,=]+(.*))?$")


class AreaField(TextAreaField):
    """A table's area: one postal code a line, each optionally followed by its number of
    eligible residents ("15100 4 200"). ``.data`` is {postal code: number or None}; every
    wrong line is named in the errors, and the text stays as typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.raw_text = ""
        self.line_errors: list[str] = []

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        self.data, self.line_errors = {}, []
        for line in self.raw_text.splitlines():
            if not line.strip():
                continue
            code, number_text = _AREA_LINE.match(line.strip()).groups()
            if not re.fullmatch(r"\d{5}", code):
                self.line_errors.append(message_for(TableError("postal_code_invalid",
                                                               postal_code=code)))
                continue
            if code in self.data:
                self.line_errors.append(gettext("The postal code %(code)s is listed twice.",
                                                code=code))
                continue
            try:
                self.data[code] = parse_residents(number_text or "")
            except ValueError as error:
                self.line_errors.append(gettext("Postal code %(code)s: %(problem)s",
                                                code=code, problem=error))

    def pre_validate(self, form):
        if self.line_errors:
            raise ValidationError(" ".join(self.line_errors))

    def _value(self):
        if self.raw_text:
            return self.raw_text
        return "\n".join(code if number is None else f"{code} {number}"
                         for code, number in (self.data or {}).items())


def area_text(table) -> dict[str, int | None]:
    """A table's area as the area field shows it."""
    return {row.postal_code: row.eligible_residents for row in table.area}


class TableForm(FlaskForm):
    """A partnership table's details (city admins)."""

    name = StringField(
        _l("Name"), validators=[DataRequired(message=_l("Give the name in the main language.")),
                                Length(max=120, message=_l("Use at most %(max)d characters.",
                                                           max=120)), single_line],
        description=_l("In the table's main language. Translations have their own page."))
    slug = StringField(
        _l("Short name for addresses"),
        validators=[DataRequired(message=_l("Give a short name for the table's addresses.")),
                    single_line],
        description=_l("Small letters a–z, digits and hyphens; the table's page is "
                       "/tables/short-name. Changing it changes the addresses."))
    description = TextAreaField(_l("Description"),
                                description=_l("In the table's main language."))
    main_language = RadioField(
        _l("Main language"),
        description=_l("The language the table's texts are written in. It can change only "
                       "while the table has no rounds."),
        choices=[SelectChoice(code, Markup('<span lang="%s">%s</span>') % (code, name))
                 for code, name in LANGUAGE_NAMES.items() if code in MAIN_LANGUAGES],
        default="fi",
        validators=[DataRequired(message=_l("Choose the main language."))],
    )
    area = AreaField(
        _l("Postal codes of the area"), render_kw={"rows": 6},
        description=_l("One postal code a line (five digits), each followed by its number "
                       "of eligible residents when it is known, for example “15100 4200”. "
                       "A postal code can be in one table's area only."))
    eligible_residents = ResidentsField(
        _l("Eligible residents of the whole area"), validators=[single_line],
        description=_l("For turnout shares, from the population register. Leave empty if "
                       "it is not known."))
    submit = SubmitField(_l("Save the table"))

    def show(self, table) -> None:
        """Fill the fields from ``table``."""
        self.name.data = table.name
        self.slug.data = table.slug
        self.description.data = table.description
        self.main_language.data = table.main_language
        self.area.data = area_text(table)
        self.eligible_residents.data = table.eligible_residents

    def details(self) -> TableDetails:
        """What was typed, for the tables service."""
        return TableDetails(
            slug=(self.slug.data or "").strip(), name=(self.name.data or "").strip(),
            description=self.description.data or "", main_language=self.main_language.data,
            area=self.area.data or {}, eligible_residents=self.eligible_residents.data)

    def show_refusal(self, error: TableError) -> None:
        """Put a refusal of the tables service on the field it concerns."""
        field = {"name_required": self.name, "name_too_long": self.name,
                 "slug_invalid": self.slug, "slug_taken": self.slug,
                 "main_language_locked": self.main_language,
                 "unknown_language": self.main_language,
                 }.get(error.code, self.area)
        if error.code == "eligible_out_of_range":
            field = self.eligible_residents
        field.errors = [*field.errors, message_for(error)]


class PersonForm(FlaskForm):
    """Give a person (on the staff already, or invited by email) a role at one table."""

    email = email_field()
    role = SelectField(_l("Role"), choices=ROLE_CHOICES,
                       validators=[DataRequired(message=_l("Choose a role."))])
    submit = SubmitField(_l("Add to the table"))


class RetireForm(FlaskForm):
    """Retire a table (no confirmation box: it can be taken back)."""

    submit = SubmitField(_l("Retire the table"))


class ReinstateForm(FlaskForm):
    """Take a retired table back into use."""

    submit = SubmitField(_l("Take the table back into use"))


class DeleteTableForm(FlaskForm):
    """Delete a table that never had a round, after confirming."""

    confirm = BooleanField(
        _l("Yes, delete this table for good"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Delete the table"))


class ResetSecondFactorForm(FlaskForm):
    """Remove a staff member's second factor (a lost phone), with a reason for the audit."""

    email = email_field()
    reason = TextAreaField(
        _l("Reason"),
        description=_l("For the audit trail, e.g. how the person asked and why."),
        validators=[DataRequired(message=_l("Give a reason.")),
                    Length(max=500, message=_l("At most %(max)d characters.", max=500))],
    )
    submit = SubmitField(_l("Reset the second factor"))
