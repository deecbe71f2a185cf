"""Proposal forms."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import (
    BooleanField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Length, Optional, ValidationError

from pb_vote.blueprints.fields import MoneyField, require_present, single_line
from pb_vote.blueprints.languages import LANGUAGE_NAMES, category_labels, page_language
from pb_vote.models import ProposalOrigin, Round
from pb_vote.services.images import ALT_TEXT_MAX
from pb_vote.services.proposals import ProposalDraft


def _length(limit: int) -> Length:
    return Length(max=limit, message=_l("Use at most %(max)d characters.", max=limit))


# Room in a request for the form's other fields beside the file.
FORM_ROOM = 64 * 1024


def _limit_upload(form) -> None:
    """Tell the page's script how large a file the request may carry."""
    limit = current_app.config["IMAGE_MAX_UPLOAD_BYTES"] - FORM_ROOM
    form.image.render_kw = {**(form.image.render_kw or {}), "data-max-bytes": limit}


class ProposalForm(FlaskForm):
    """An idea: what, why, where, and about how much it costs."""

    title = StringField(
        _l("Title"),
        description=_l("A short name for the idea, for example: Benches along the shore path."),
        validators=[DataRequired(message=_l("Give the idea a title.")), single_line,
                    _length(200)],
    )
    description = TextAreaField(
        _l("Description"),
        description=_l("What should be done, and why would it help the area?"),
        validators=[DataRequired(message=_l("Describe the idea.")), _length(5000)],
    )
    estimated_cost = MoneyField(
        _l("Estimated cost in euros"),
        description=_l("A rough estimate is fine: the table reviews the cost."),
        validators=[require_present(_l("Give an estimated cost in euros."))],
    )
    category = SelectField(_l("Category"), validators=[Optional()])
    location = StringField(_l("Location"), description=_l("A street, a park or a place name."),
                           validators=[single_line, _length(200)])
    language = RadioField(
        _l("Language of the idea"),
        description=_l("The language you write in. Ideas are shown as their authors wrote "
                       "them."),
        choices=[SelectChoice(code, Markup('<span lang="%s">%s</span>') % (code, name))
                 for code, name in LANGUAGE_NAMES.items()],
        default=page_language,
        validators=[Optional()],  # not sent: the page's language
    )
    link = URLField(
        _l("Link (optional)"),
        description=_l("A web page with more about the idea."),
        validators=[Optional(), single_line,
                    URL(message=_l("Write a full address starting with https://.")),
                    _length(500)],
    )
    image = FileField(
        _l("Image (optional)"),
        description=_l("A photo or a picture of the place: JPEG, PNG or WebP. Its location "
                       "and other details are removed from it."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    image_alt = StringField(
        _l("Describe the image"),
        description=_l("What the picture shows, for people who cannot see it, in the "
                       "language of the idea. Required with an image."),
        validators=[single_line, _length(ALT_TEXT_MAX)],
    )
    # On the edit page: the images to take off.
    remove_images = SelectMultipleField(_l("Remove images"), coerce=int, choices=[],
                                        validate_choice=False, validators=[Optional()])
    submit = SubmitField(_l("Submit the idea"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_upload(self)

    def validate_image_alt(self, field) -> None:
        """An image needs its alt text."""
        if self.image.data and not (field.data or "").strip():
            raise ValidationError(_l("Describe the image for people who cannot see it."))

    def with_categories(self, round_: Round) -> "ProposalForm":
        """Offer the round's categories, named in the page's language (or hide the field
        when the round has none)."""
        categories = round_.categories or []
        self.category.choices = [SelectChoice("", _l("Choose a category"))] + [
            SelectChoice(name, text) for name, text in category_labels(round_).items()
        ]
        if categories:
            self.category.validators = [DataRequired(message=_l("Choose a category."))]
        return self

    def draft(self) -> ProposalDraft:
        """What the person wrote, for the service."""
        return ProposalDraft(
            title=self.title.data or "",
            description=self.description.data or "",
            estimated_cost_cents=self.estimated_cost.data,
            category=self.category.data or None,
            location=self.location.data or "",
            link=self.link.data or None,
            language=self.language.data or page_language(),
        )


class StaffProposalForm(ProposalForm):
    """A proposal added by staff on behalf of the table or the city."""

    origin = RadioField(
        _l("On whose behalf"),
        choices=[
            SelectChoice(ProposalOrigin.MEMBER.value, _l("The partnership table")),
            SelectChoice(ProposalOrigin.CITY.value, _l("The city")),
        ],
        default=ProposalOrigin.MEMBER.value,
        validators=[DataRequired(message=_l("Choose on whose behalf."))],
    )


class WithdrawForm(FlaskForm):
    """Confirm withdrawing one's own idea."""

    confirm = BooleanField(_l("Yes, withdraw my idea"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Withdraw"))


class ImageForm(FlaskForm):
    """Staff add an image to a proposal (the same fields as on the proposal form)."""

    image = FileField(
        _l("Image"),
        description=_l("A photo or a picture of the place: JPEG, PNG or WebP. Its location "
                       "and other details are removed from it."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    image_alt = StringField(
        _l("Describe the image"),
        description=_l("What the picture shows, for people who cannot see it, in the "
                       "language of the idea. Required with an image."),
        validators=[single_line, _length(ALT_TEXT_MAX)],
    )
    submit = SubmitField(_l("Add the image"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _limit_upload(self)

    def validate_image(self, field) -> None:
        """Here the image itself is required."""
        if not field.data:
            raise ValidationError(_l("Choose an image."))

    def validate_image_alt(self, field) -> None:
        """An image needs its alt text."""
        if self.image.data and not (field.data or "").strip():
            raise ValidationError(_l("Describe the image for people who cannot see it."))


class ImageRemovalForm(FlaskForm):
    """A moderator removes an image with a reason the author is shown."""

    reason = TextAreaField(
        _l("Reason for removing the image"),
        description=_l("Shown to the author on their proposals page."),
        validators=[DataRequired(message=_l("Write the reason.")), _length(2000)],
    )
    submit = SubmitField(_l("Remove the image"))
