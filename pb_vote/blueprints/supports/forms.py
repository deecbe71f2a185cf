"""The support button: a form of hidden fields, so it works without JavaScript."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class SupportForm(FlaskForm):
    """Support an idea, or take the support back (``want``: what the button said, so a
    button pressed twice at once does not undo itself); ``back``: the page to return to."""

    want = HiddenField()
    back = HiddenField()
    submit = SubmitField()
