"""Forms of moderation: the queue's filters and one form per action."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from pb_vote.blueprints.fields import MoneyField, format_euros, require_present, single_line
from pb_vote.blueprints.labels import ORIGIN_LABELS, STATUS_LABELS, label
from pb_vote.models import Proposal, ProposalOrigin, ProposalStatus, Round
from pb_vote.services.proposals import MODERATABLE


class ActionForm(FlaskForm):
    """A moderation action's form. It sends the status its page showed, the one the
    moderator decided from: an action on a proposal someone else changed meanwhile is
    refused, not done over their change."""

    seen = HiddenField()

    def seen_status(self) -> ProposalStatus | None:
        """The status the page showed, or None when the form did not say."""
        return ProposalStatus._value2member_map_.get(self.seen.data or "")


class AcceptForm(ActionForm):
    """Put a proposal on the ballot."""

    reviewed_cost = MoneyField(
        _l("Reviewed cost in euros"),
        validators=[require_present(_l("Give the reviewed cost."))],
    )
    public_note = TextAreaField(
        _l("Public note (optional)"),
        validators=[Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    submit = SubmitField(_l("Accept to the ballot"))


class ReasonForm(ActionForm):
    """An action that needs a reason or a message (request changes, reject, hide)."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Write the reason.")),
                    Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    submit = SubmitField(_l("Send"))


class MergeForm(ActionForm):
    """Merge duplicates into this proposal."""

    duplicates = SelectMultipleField(
        _l("Duplicates to merge into this proposal"), coerce=int,
        validators=[DataRequired(message=_l("Choose at least one duplicate."))],
    )
    submit = SubmitField(_l("Merge into this proposal"))


def action_forms(proposal: Proposal) -> dict[str, FlaskForm]:
    """The form of every moderation action on ``proposal``, keyed by the action's name."""
    merge_form = MergeForm(prefix="merge")
    merge_form.duplicates.choices = [
        SelectChoice(p.id, f"#{p.id} {p.title}")
        for p in proposal.round.proposals
        if p.id != proposal.id and p.status in MODERATABLE
    ]
    accept_form = AcceptForm(prefix="accept")
    if not accept_form.is_submitted():
        accept_form.reviewed_cost.raw_text = format_euros(proposal.cost_cents)
        accept_form.public_note.data = proposal.public_note
    return {
        "accept": accept_form,
        "changes": ReasonForm(prefix="changes"),
        "reject": ReasonForm(prefix="reject"),
        "hide": ReasonForm(prefix="hide"),
        "merge": merge_form,
    }


class QueueFilterForm(FlaskForm):
    """Filters of the moderation queue (a GET form)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[single_line])
    status = SelectField(_l("Status"))
    origin = SelectField(_l("Origin"))
    category = SelectField(_l("Category"))
    submit = SubmitField(_l("Filter"))

    def with_choices(self, round_: Round) -> "QueueFilterForm":
        """Offer every status, every origin and the round's categories, each or all."""
        everything = [SelectChoice("", gettext("All"))]
        self.status.choices = everything + [
            SelectChoice(s.value, label(STATUS_LABELS, s)) for s in ProposalStatus]
        self.origin.choices = everything + [
            SelectChoice(o.value, label(ORIGIN_LABELS, o)) for o in ProposalOrigin]
        self.category.choices = everything + [SelectChoice(c, c) for c in round_.categories]
        return self

    def statuses(self) -> list[ProposalStatus]:
        """The statuses asked for (all of them unless one is chosen)."""
        if self.status.data in ProposalStatus._value2member_map_:
            return [ProposalStatus(self.status.data)]
        return list(ProposalStatus)

    def chosen_origin(self) -> ProposalOrigin | None:
        """The origin asked for, or None for all."""
        if self.origin.data in ProposalOrigin._value2member_map_:
            return ProposalOrigin(self.origin.data)
        return None
