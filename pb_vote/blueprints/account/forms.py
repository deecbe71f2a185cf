"""Account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from pb_vote.blueprints.fields import single_line
from pb_vote.blueprints.languages import LANGUAGE_NAMES


class ProfileForm(FlaskForm):
    """Name, language and home postal code."""

    display_name = StringField(
        _l("Name"),
        description=_l("Shown with your proposals. You may use a first name or a nickname."),
        validators=[single_line,
                    Length(max=100, message=_l("Use at most %(max)d characters.", max=100))],
    )
    language = RadioField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        validators=[DataRequired(message=_l("Choose a language."))],
    )
    postal_code = StringField(
        _l("Home postal code"),
        description=_l("Five digits, for example 15100. It decides which table's rounds "
                       "you can vote in."),
        validators=[
            Optional(),
            single_line,
            Regexp(r"^\s*\d{5}\s*$", message=_l("A postal code is five digits, like 15100.")),
        ],
    )
    submit = SubmitField(_l("Save"))


class NoticesForm(FlaskForm):
    """The notices a person asks for by mail, each kind a box (all off until ticked). The
    field names are the kinds (``NoticeKind``)."""

    ideas_open = BooleanField(_l("When a round in my area takes ideas"))
    voting_open = BooleanField(_l("When voting opens in my area"))
    voting_reminder = BooleanField(_l("A reminder before voting closes, if I have not voted "
                                      "yet"))
    results = BooleanField(
        _l("When results are published in my area"),
        description=_l("You also hear of the results of rounds where you proposed an idea "
                       "or asked for them when voting, unless you unsubscribe from results "
                       "notices."))
    save_notices = SubmitField(_l("Save my notices"))


class DeleteAccountForm(FlaskForm):
    """Confirm deleting the account."""

    confirm = BooleanField(
        _l("I understand that my account is deleted for good."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Delete my account"))


class CommentMailForm(FlaskForm):
    """Whether to be mailed about new comments on one's ideas (a section of its own)."""

    mail_on_comments = BooleanField(
        _l("Mail me when my ideas get new comments"),
        description=_l("At most one mail per idea per hour."),
    )
    save_comment_mail = SubmitField(_l("Save my comment mail choice"))
