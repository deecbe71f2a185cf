"""Sign-in forms: they parse and validate, nothing more."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

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


def _no_spaces(value):
    """Drop the spaces an app shows inside a code ("123 456")."""
    return "".join(value.split()) if isinstance(value, str) else value


class SecondFactorCodeForm(FlaskForm):
    """A six-digit code from the authenticator app (sign-in, and confirming an enrolment)."""

    code = StringField(
        _l("Code from your authenticator app"),
        description=_l("Six digits; the app shows a new one every 30 seconds."),
        validators=[DataRequired(message=_l("Enter the six-digit code your app shows.")),
                    single_line, Regexp(r"^\d{6}$", message=_l("A code is six digits."))],
        filters=[_no_spaces],
    )
    submit = SubmitField(_l("Continue"))


class RecoveryCodeForm(FlaskForm):
    """One of the recovery codes, instead of the app."""

    recovery_code = StringField(
        _l("Recovery code"),
        description=_l("16 letters and digits, as on your list; dashes and case do not matter."),
        validators=[DataRequired(message=_l("Enter one of your recovery codes.")), single_line,
                    Length(max=40, message=_l("A recovery code is 16 letters and digits."))],
        filters=[strip_whitespace],
    )
    submit = SubmitField(_l("Use the recovery code"))


class RenewRecoveryCodesForm(FlaskForm):
    """Replace the recovery codes (the old ones stop working)."""

    submit = SubmitField(_l("Make new recovery codes"))
