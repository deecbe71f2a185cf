"""The department's answer: it parses and validates, nothing more."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from pb_vote.blueprints.fields import MoneyField
from pb_vote.blueprints.labels import FEASIBILITY_LABELS
from pb_vote.models import Feasibility


class AnswerForm(FlaskForm):
    """Feasible or not, an estimated cost in euros (optional), and free text."""

    feasibility = RadioField(
        _l("Can it be done?"),
        choices=[SelectChoice(f.value, FEASIBILITY_LABELS[f.value]) for f in Feasibility],
        validators=[DataRequired(message=_l("Choose whether it can be done."))],
    )
    estimated_cost = MoneyField(
        _l("Estimated cost in euros (optional)"),
        description=_l("For example 12000 or 1 250,50."),
    )
    answer = TextAreaField(
        _l("Your answer"),
        description=_l("What it would take, what to change, what the estimate includes."),
        validators=[Length(max=4000, message=_l("Use at most %(max)d characters.", max=4000))],
    )
    submit = SubmitField(_l("Send the answer"))
