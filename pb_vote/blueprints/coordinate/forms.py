"""Forms of the staff pages: round set-up, phase moves, voting codes, paper ballots and
results."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from pb_vote.blueprints.fields import (
    LocalDateTimeField,
    MoneyField,
    require_present,
    single_line,
)
from pb_vote.blueprints.messages import setting_problem
from pb_vote.models import BallotKind, PaperConflictRule, TallyRule, VoterEligibility
from pb_vote.services.rounds import RoundSettings

# A Finnish city's rounds run in European time; UTC for the odd exception.
ZONES = ["UTC", *sorted(z for z in available_timezones() if z.startswith("Europe/"))]

ELIGIBILITY_CHOICES = [
    SelectChoice(VoterEligibility.RESIDENTS.value,
                 _l("Signed-in residents whose home postal code is in the table's area")),
    SelectChoice(VoterEligibility.CODES.value, _l("Only holders of voting codes")),
    SelectChoice(VoterEligibility.BOTH.value, _l("Both")),
]
BALLOT_CHOICES = [
    SelectChoice(BallotKind.APPROVAL.value, _l("Approval: pick between a minimum and a maximum "
                                              "number of proposals")),
    SelectChoice(BallotKind.KNAPSACK.value, _l("Knapsack: pick proposals whose costs fit the "
                                              "budget")),
    SelectChoice(BallotKind.POINTS.value, _l("Points: distribute points among proposals")),
]
RULE_CHOICES = [
    SelectChoice(TallyRule.GREEDY.value, _l("Greedy: most support first, skip what no longer "
                                           "fits (what Lahti uses)")),
    SelectChoice(TallyRule.MES.value, _l("Method of Equal Shares: every voter gets an equal "
                                        "share of the budget")),
]


def _required(message):
    return [DataRequired(message=message)]


class RoundForm(FlaskForm):
    """Set up or change a round. Dates are local times in the round's time zone."""

    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Give the round a title.")), single_line,
                    Length(max=200, message=_l("Use at most %(max)d characters.", max=200))],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=5000, message=_l("Use at most %(max)d characters.", max=5000))],
    )
    budget = MoneyField(
        _l("Budget in euros"), whole_euros=True,
        validators=[require_present(_l("Give the budget in whole euros."))],
    )
    time_zone = SelectField(_l("Time zone"), choices=[SelectChoice(z, z) for z in ZONES],
                            default="Europe/Helsinki")
    proposals_open_at = LocalDateTimeField(
        _l("Ideas: window opens"),
        validators=[DataRequired(message=_l("Give a date and time."))],
    )
    proposals_close_at = LocalDateTimeField(
        _l("Ideas: window closes (review starts)"),
        validators=[DataRequired(message=_l("Give a date and time."))],
    )
    voting_open_at = LocalDateTimeField(
        _l("Voting opens"), validators=[DataRequired(message=_l("Give a date and time."))]
    )
    voting_close_at = LocalDateTimeField(
        _l("Voting closes"), validators=[DataRequired(message=_l("Give a date and time."))]
    )
    categories = TextAreaField(
        _l("Categories"),
        description=_l("One per line, for example Parks. Leave empty for no categories."),
        validators=[Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    voter_eligibility = RadioField(_l("Who may vote"), choices=ELIGIBILITY_CHOICES,
                                   default=VoterEligibility.RESIDENTS.value)
    ballot_kind = RadioField(_l("Ballot"), choices=BALLOT_CHOICES,
                             default=BallotKind.APPROVAL.value)
    approval_min = IntegerField(
        _l("Approval: at least this many proposals"), default=1,
        validators=[Optional(), NumberRange(min=1, max=1000,
                                            message=_l("Use a number from 1 to 1000."))],
    )
    approval_max = IntegerField(
        _l("Approval: at most this many proposals"), default=5,
        validators=[Optional(), NumberRange(min=1, max=1000,
                                            message=_l("Use a number from 1 to 1000."))],
    )
    knapsack_min_spend_percent = IntegerField(
        _l("Knapsack: spend at least this percentage of the budget (optional)"),
        validators=[Optional(), NumberRange(min=0, max=100,
                                            message=_l("A percentage is between 0 and 100."))],
    )
    points_total = IntegerField(
        _l("Points: total points per voter"), default=10,
        validators=[Optional(), NumberRange(min=1, max=1000,
                                            message=_l("Use a number from 1 to 1000."))],
    )
    points_max_per_proposal = IntegerField(
        _l("Points: at most this many points per proposal"), default=5,
        validators=[Optional(), NumberRange(min=1, max=1000,
                                            message=_l("Use a number from 1 to 1000."))],
    )
    tally_rule = RadioField(_l("How votes become funded projects"), choices=RULE_CHOICES,
                            default=TallyRule.GREEDY.value)
    paper_conflict_rule = RadioField(
        _l("When one voting code is used both online and on paper"),
        choices=[
            SelectChoice(PaperConflictRule.ONLINE_WINS.value,
                         _l("The online ballot stands; the paper entry is refused")),
            SelectChoice(PaperConflictRule.PAPER_WINS.value,
                         _l("The paper ballot replaces the online one")),
        ],
        default=PaperConflictRule.ONLINE_WINS.value,
    )
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the numbers the chosen ballot kind needs (empty optional
        fields stop their own validator chain, so this runs at form level)."""
        valid = super().validate(extra_validators)
        needed = {
            BallotKind.APPROVAL.value: [
                (self.approval_min, _l("Give the minimum number of proposals.")),
                (self.approval_max, _l("Give the maximum number of proposals.")),
            ],
            BallotKind.POINTS.value: [
                (self.points_total, _l("Give the total number of points.")),
                (self.points_max_per_proposal, _l("Give the most points one proposal may get.")),
            ],
        }
        for field, message in needed.get(self.ballot_kind.data, []):
            if field.data is None and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid

    def category_list(self) -> list[str]:
        """The categories, one per line, trimmed, without duplicates."""
        seen: list[str] = []
        for line in (self.categories.data or "").splitlines():
            name = line.strip()[:100]
            if name and name not in seen:
                seen.append(name)
        return seen

    def settings(self) -> RoundSettings:
        """The round's settings as typed, local times turned to UTC."""
        zone = self.time_zone.data
        return RoundSettings(
            title=self.title.data or "",
            description=self.description.data or "",
            budget_cents=self.budget.data,
            time_zone=zone,
            proposals_open_at=self.proposals_open_at.utc(zone),
            proposals_close_at=self.proposals_close_at.utc(zone),
            voting_open_at=self.voting_open_at.utc(zone),
            voting_close_at=self.voting_close_at.utc(zone),
            categories=self.category_list(),
            voter_eligibility=VoterEligibility(self.voter_eligibility.data),
            ballot_kind=BallotKind(self.ballot_kind.data),
            approval_min=self.approval_min.data,
            approval_max=self.approval_max.data,
            knapsack_min_spend_percent=self.knapsack_min_spend_percent.data,
            points_total=self.points_total.data,
            points_max_per_proposal=self.points_max_per_proposal.data,
            tally_rule=TallyRule(self.tally_rule.data),
            paper_conflict_rule=PaperConflictRule(self.paper_conflict_rule.data),
        )

    def add_problems(self, problems) -> None:
        """Show the service's (field, code) problems next to the fields."""
        names = {"budget": "budget"}
        for name, code in problems:
            field = getattr(self, names.get(name, name), None) or self.title
            field.errors = [*field.errors, setting_problem(code)]


class PhaseForm(FlaskForm):
    """Move a round to another phase by hand, after confirming."""

    target = RadioField(_l("Move the round to"), validators=_required(_l("Choose a phase.")))
    confirm = BooleanField(
        _l("I have checked this: the change is recorded and people may be notified."),
        validators=_required(_l("Tick the box to confirm.")),
    )
    submit = SubmitField(_l("Move the round"))


class CodeBatchForm(FlaskForm):
    """Generate a batch of voting codes."""

    count = IntegerField(
        _l("How many codes"),
        description=_l("Ten slips fit on one A4 sheet."),
        # InputRequired, not DataRequired: 0 is a number, and is out of range.
        validators=[InputRequired(message=_l("Give the number of codes.")),
                    NumberRange(min=1, max=5000, message=_l("Use a number from 1 to 5000."))],
    )
    submit = SubmitField(_l("Generate and show the sheet"))


class PaperBallotForm(FlaskForm):
    """The slip code of a paper ballot (the choices come from the ballot fields)."""

    code = StringField(
        _l("Code printed on the paper slip"),
        validators=[DataRequired(message=_l("Type the slip's code.")), single_line,
                    Length(max=64)],
    )
    submit = SubmitField(_l("Record this paper ballot"))


class VoidPaperBallotForm(FlaskForm):
    """Void a mis-keyed paper entry, by its slip's code, with the reason (audited)."""

    code = StringField(
        _l("Code printed on the paper slip"),
        validators=[DataRequired(message=_l("Type the slip's code.")), single_line,
                    Length(max=64)],
    )
    reason = TextAreaField(
        _l("Why the entry is voided (kept in the audit trail)"),
        validators=[DataRequired(message=_l("Write the reason.")),
                    Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    confirm = BooleanField(
        _l("I have checked the slip: void this entry so that it can be entered again."),
        validators=_required(_l("Tick the box to confirm.")),
    )
    submit = SubmitField(_l("Void the paper entry"))


class CountForm(FlaskForm):
    """Ask for a count of the ballots, optionally without proposals that cannot be carried
    out (for a correction); it runs in the background."""

    excluded = SelectMultipleField(
        _l("Proposals that cannot be carried out (their funds go to the next in line)"),
        coerce=int,
    )
    submit = SubmitField(_l("Count the ballots"))

    def with_proposals(self, proposals) -> "CountForm":
        """Offer the proposals of the ballot for exclusion."""
        self.excluded.choices = [SelectChoice(p.id, p.title) for p in proposals]
        return self


def _number(field) -> int | None:
    text = (field.data or "").strip()
    return int(text) if text.isdigit() else None


class PublishForm(FlaskForm):
    """Publish the results of the count on the page, after confirming."""

    confirm = BooleanField(
        _l("I have checked the results: publish them for everyone. A publication cannot be "
           "undone; a later correction is published beside it with its reason."),
        validators=_required(_l("Tick the box to confirm.")),
    )
    # The count the page showed: that one is published, or none.
    count = HiddenField()
    submit = SubmitField(_l("Publish the results"))

    def publication_options(self) -> dict:
        """What ``results.publish`` needs besides the round: the count shown."""
        return {"count_id": _number(self.count)}


class CorrectionForm(FlaskForm):
    """Publish a correction: the count shown (with the proposals it leaves out) and the
    reason, which is required and shown publicly."""

    reason = TextAreaField(
        _l("Why the results are corrected (shown publicly)"),
        validators=[DataRequired(message=_l("Write the reason for the correction.")),
                    Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    confirm = BooleanField(_l("Publish this correction for everyone."),
                           validators=_required(_l("Tick the box to confirm.")))
    # The number of the publication on the page when the correction was written: a
    # correction published by someone else meanwhile is not silently overridden.
    corrects = HiddenField()
    count = HiddenField()
    submit = SubmitField(_l("Publish the correction"))

    def publication_options(self) -> dict:
        """The count shown, the correction's reason, and the publication it corrects (when
        the page said)."""
        return {"count_id": _number(self.count), "correction_reason": self.reason.data,
                "corrects": _number(self.corrects)}
