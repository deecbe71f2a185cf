"""Administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, SubmitField
from wtforms.validators import DataRequired

from pb_vote.blueprints.auth.forms import EMAIL_VALIDATORS


class MembershipForm(FlaskForm):
    """Give a person a role at a table."""

    email = EmailField(_l("Email address"), validators=EMAIL_VALIDATORS)
    table_id = SelectField(
        _l("Partnership table"), coerce=int,
        validators=[DataRequired(message=_l("Choose a table."))],
    )
    role = SelectField(
        _l("Role"),
        choices=[("member", _l("Member")), ("coordinator", _l("Coordinator"))],
        validators=[DataRequired(message=_l("Choose a role."))],
    )
    submit = SubmitField(_l("Give the role"))


class RevokeForm(FlaskForm):
    """Remove a role (the button on each row)."""

    submit = SubmitField(_l("Remove"))
