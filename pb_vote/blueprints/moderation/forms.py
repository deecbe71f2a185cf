"""Forms of moderation: the queue's filters and one form per action."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from pb_vote.blueprints.auth.forms import EMAIL_VALIDATORS, strip_whitespace
from pb_vote.blueprints.fields import MoneyField, format_euros, require_present, single_line
from pb_vote.blueprints.labels import ORIGIN_LABELS, STATUS_LABELS, label
from pb_vote.blueprints.languages import LANGUAGE_NAMES, category_labels
from pb_vote.formatting import money
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
    support_override = TextAreaField(
        _l("Why it goes on the ballot without enough supports"),
        description=_l("Needed only for an idea that did not reach the round's supports; "
                       "kept in the audit trail."),
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


class RejectForm(ReasonForm):
    """Reject with a public reason, after confirming."""

    confirm = BooleanField(
        _l("Yes, reject this proposal"),
        description=_l("The reason is shown publicly, and the author gets a mail."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class HideForm(ReasonForm):
    """Hide abusive content, after confirming."""

    confirm = BooleanField(
        _l("Yes, hide this content"),
        description=_l("Only the table's staff can see it after this."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class MergeForm(ActionForm):
    """Merge duplicates into this proposal."""

    duplicates = SelectMultipleField(
        _l("Duplicates to merge into this proposal"), coerce=int,
        validators=[DataRequired(message=_l("Choose at least one duplicate."))],
    )
    submit = SubmitField(_l("Merge into this proposal"))


def action_forms(proposal: Proposal) -> dict[str, FlaskForm]:
    """The form of every moderation action on ``proposal``, keyed by the action's name.

    The reviewed cost starts empty (the author's estimate is its hint): a reviewer writes
    the cost they checked, so nothing reaches the ballot unreviewed. Only a cost a reviewer
    wrote (on the ballot, or in a cost review) is shown again, to be kept or changed."""
    merge_form = MergeForm(prefix="merge")
    merge_form.duplicates.choices = [
        SelectChoice(p.id, f"#{p.id} {p.title}")
        for p in proposal.round.proposals
        if p.id != proposal.id and p.status in MODERATABLE
    ]
    accept_form = AcceptForm(prefix="accept")
    accept_form.reviewed_cost.description = gettext(
        "The author's estimate: %(amount)s. Write the cost the table has checked, even when "
        "it is the same.", amount=money(proposal.estimated_cost_cents, proposal.round.currency))
    if not accept_form.is_submitted():
        # On the ballot, or reviewed ahead of the decision (a cost review): someone wrote it.
        if proposal.reviewed_cost_cents is not None:
            accept_form.reviewed_cost.raw_text = format_euros(proposal.reviewed_cost_cents)
        accept_form.public_note.data = proposal.public_note
    return {
        "accept": accept_form,
        "changes": ReasonForm(prefix="changes"),
        "reject": RejectForm(prefix="reject"),
        "hide": HideForm(prefix="hide"),
        "merge": merge_form,
    }


# The order actions are offered in, and the statuses each one starts from (as the service
# allows them; a rejected proposal is reconsidered by accepting it or asking for changes).
ACTION_ORDER = ("accept", "changes", "reject", "merge", "hide")
_STARTS_FROM = {
    "accept": MODERATABLE,
    "changes": MODERATABLE,
    "reject": MODERATABLE - {ProposalStatus.REJECTED},
    "merge": MODERATABLE - {ProposalStatus.REJECTED},
    "hide": MODERATABLE | {ProposalStatus.WITHDRAWN},
}
# What fits each status first; the rest is behind "Other actions".
_MAIN_ACTIONS = {
    ProposalStatus.SUBMITTED: ("accept", "changes"),
    ProposalStatus.CHANGES_REQUESTED: ("accept",),
    ProposalStatus.ACCEPTED: ("accept", "merge"),
}


def offered_actions(proposal: Proposal, forms: dict) -> tuple[list[str], list[str]]:
    """The actions the page shows for ``proposal``'s status: those that fit it first, then
    the other ones still possible. Merging needs a duplicate to choose."""
    possible = [name for name in ACTION_ORDER
                if proposal.status in _STARTS_FROM[name]
                and (name != "merge" or forms["merge"].duplicates.choices)]
    main = _MAIN_ACTIONS.get(proposal.status, ())
    return ([name for name in possible if name in main],
            [name for name in possible if name not in main])


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
        self.category.choices = everything + [
            SelectChoice(name, text) for name, text in category_labels(round_).items()]
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


class CostReviewForm(ActionForm):
    """Write the reviewed cost before deciding (a department's estimate, the table's own
    check), so the proposal can later be accepted, alone or in bulk, at that cost."""

    reviewed_cost = MoneyField(
        _l("Reviewed cost in euros"),
        validators=[require_present(_l("Give the reviewed cost."))],
    )
    note = TextAreaField(
        _l("Where the figure comes from (internal, optional)"),
        validators=[Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    submit = SubmitField(_l("Save the reviewed cost"))


class AskOpinionForm(FlaskForm):
    """Ask a city department's contact for a cost and feasibility opinion."""

    contact_name = StringField(
        _l("Contact's name"),
        validators=[DataRequired(message=_l("Give the contact's name.")), single_line,
                    Length(max=200, message=_l("Use at most %(max)d characters.", max=200))],
    )
    department = StringField(
        _l("Department"),
        validators=[DataRequired(message=_l("Give the department.")), single_line,
                    Length(max=200, message=_l("Use at most %(max)d characters.", max=200))],
    )
    contact_email = EmailField(_l("Contact's email address"), validators=EMAIL_VALIDATORS,
                               filters=[strip_whitespace])
    question = TextAreaField(
        _l("Your question (optional)"),
        validators=[Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    language = SelectField(_l("Language of the mail"))
    submit = SubmitField(_l("Send the question"))


def ask_opinion_form(proposal: Proposal) -> AskOpinionForm:
    """The form to ask an opinion, its mail in the round's main language by default."""
    form = AskOpinionForm(prefix="opinion")
    form.language.choices = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
    if not form.is_submitted():
        form.language.data = proposal.round.main_language
    return form


class NoteForm(FlaskForm):
    """A reviewer's internal note."""

    body = TextAreaField(
        _l("Internal note"),
        description=_l("Only the table's staff see it: never residents, never public pages "
                       "or files."),
        validators=[DataRequired(message=_l("Write the note.")),
                    Length(max=4000, message=_l("Use at most %(max)d characters.", max=4000))],
    )
    submit = SubmitField(_l("Save the note"))


class BulkForm(FlaskForm):
    """Accept or reject the proposals ticked in the queue, with one stated reason."""

    proposal = SelectMultipleField(_l("Proposals"), coerce=int,
                                   validate_choice=False)
    action = RadioField(
        _l("Action"),
        choices=[SelectChoice("accept", _l("Accept to the ballot at their reviewed cost")),
                 SelectChoice("reject", _l("Reject (the reason is shown publicly)"))],
        validators=[DataRequired(message=_l("Choose the action."))],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(message=_l("Write the reason.")),
                    Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    submit = SubmitField(_l("Apply to the ticked proposals"))

    def validate_proposal(self, field) -> None:
        """At least one proposal must be ticked."""
        if not field.data:
            raise ValidationError(_l("Tick at least one proposal."))

    def seen_of(self, proposal_id: int, formdata) -> ProposalStatus | None:
        """The status the queue showed for a ticked proposal."""
        return ProposalStatus._value2member_map_.get(formdata.get(f"seen-{proposal_id}", ""))
