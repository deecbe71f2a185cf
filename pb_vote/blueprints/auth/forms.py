"""Sign-in forms: they parse and validate, nothing more."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from pb_vote.blueprints.fields import single_line
from pb_vote.services.accounts import MIN_PASSWORD_LENGTH

EMAIL_VALIDATORS = [
    DataRequired(message=_l("Enter your email address.")),
    single_line,
    Length(max=254, message=_l("An email address is at most 254 characters.")),
    Email(message=_l("Enter an email address like name@example.fi."), check_deliverability=False),
]


def strip_whitespace(value):
    """Remove the spaces phones and copy-paste add around an address."""
    return value.strip() if isinstance(value, str) else value


def email_field() -> EmailField:
    """An email field that trims spaces and explains what is wrong."""
    return EmailField(_l("Email address"), validators=EMAIL_VALIDATORS, filters=[strip_whitespace])


class EmailLinkForm(FlaskForm):
    """Ask for a sign-in link."""

    email = email_field()
    next = HiddenField()
    submit = SubmitField(_l("Send me a sign-in link"))


class ConfirmLinkForm(FlaskForm):
    """The button that uses a sign-in link (so mail scanners opening links do not use it)."""

    submit = SubmitField(_l("Sign in"))


class StaffSignInForm(FlaskForm):
    """Staff sign-in with email and password."""

    email = email_field()
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ForgotPasswordForm(FlaskForm):
    """Ask for a link to set a new password."""

    email = email_field()
    submit = SubmitField(_l("Send me a link"))


class SetPasswordForm(FlaskForm):
    """Choose a password."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(message=_l("Enter a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("Use %(min)d to %(max)d characters.", min=MIN_PASSWORD_LENGTH, max=200),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Save password"))


class SignOutForm(FlaskForm):
    """The sign-out button (a POST, so a link or image cannot sign anyone out)."""

    submit = SubmitField(_l("Sign out"))
