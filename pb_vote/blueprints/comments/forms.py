"""Forms of comments: write, report, hide."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from pb_vote.models import COMMENT_MAX_LENGTH, REPORT_REASON_MAX_LENGTH, HiddenReason

HIDDEN_REASON_LABELS = {
    HiddenReason.SPAM: _l("Spam or advertising"),
    HiddenReason.ABUSE: _l("Abusive or offensive"),
    HiddenReason.PERSONAL_DATA: _l("Personal data of someone"),
    HiddenReason.OFF_TOPIC: _l("Not about the idea"),
    HiddenReason.OTHER: _l("Against the rules of the service"),
}


class CommentForm(FlaskForm):
    """A comment on an idea; staff of its table may answer as the table."""

    body = TextAreaField(
        _l("Your comment"),
        description=_l("Plain text, at most %(max)d characters. Be kind: the table's "
                       "members hide comments that break the rules.",
                       max=COMMENT_MAX_LENGTH),
        validators=[DataRequired(message=_l("Write your comment.")),
                    Length(max=COMMENT_MAX_LENGTH,
                           message=_l("Use at most %(max)d characters.",
                                      max=COMMENT_MAX_LENGTH))],
    )
    show_name = BooleanField(_l("Show my name with the comment (otherwise: “a resident”)"),
                             default=True)
    as_table = BooleanField(_l("Answer as the table (the public sees the table's name, "
                               "not yours)"))
    post_comment = SubmitField(_l("Send the comment"))


class ReportForm(FlaskForm):
    """Report a comment to the table's moderators."""

    reason = TextAreaField(
        _l("Why should the moderators look at it? (optional)"),
        validators=[Length(max=REPORT_REASON_MAX_LENGTH,
                           message=_l("Use at most %(max)d characters.",
                                      max=REPORT_REASON_MAX_LENGTH))],
    )
    submit = SubmitField(_l("Report the comment"))


class HideForm(FlaskForm):
    """Hide a comment, with the reason shown in its place."""

    reason = SelectField(
        _l("Reason shown in its place"),
        choices=[SelectChoice(reason.value, label) for reason, label
                 in HIDDEN_REASON_LABELS.items()],
        validators=[DataRequired(message=_l("Choose the reason."))],
    )
    note = TextAreaField(
        _l("Note for the table and the audit trail (optional, not public)"),
        validators=[Length(max=1000, message=_l("Use at most %(max)d characters.",
                                                 max=1000))],
    )
    submit = SubmitField(_l("Hide the comment"))
