"""Voting forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from pb_vote.blueprints.fields import single_line


class CodeForm(FlaskForm):
    """Type a voting code."""

    code = StringField(_l("Voting code"), validators=[single_line, Length(max=64)])
    submit = SubmitField(_l("Continue"))
