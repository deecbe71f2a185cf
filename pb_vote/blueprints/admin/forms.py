"""Administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from pb_vote.blueprints.auth.forms import email_field

ROLE_NAMES = {"member": _l("member"), "coordinator": _l("coordinator")}


class MembershipForm(FlaskForm):
    """Give a person a role at a table."""

    email = email_field()
    table_id = SelectField(
        _l("Partnership table"), coerce=int,
        validators=[DataRequired(message=_l("Choose a table."))],
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("member", _l("Member")),
            SelectChoice("coordinator", _l("Coordinator")),
        ],
        validators=[DataRequired(message=_l("Choose a role."))],
    )
    submit = SubmitField(_l("Give the role"))


class RevokeForm(FlaskForm):
    """Remove a role (the button on each row)."""

    submit = SubmitField(_l("Remove"))


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
