"""Forms of the staff pages: round set-up, phase moves, voting codes, paper ballots and
results."""

from zoneinfo import available_timezones

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
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
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from pb_vote.blueprints.fields import (
    LocalDateTimeField,
    MoneyField,
    require_present,
    single_line,
)
from pb_vote.blueprints.languages import LANGUAGE_NAMES
from pb_vote.blueprints.messages import setting_problem
from pb_vote.models import (
    BallotKind,
    PaperConflictRule,
    ResidentCheck,
    RoundPhase,
    TallyRule,
    VoterEligibility,
)
from pb_vote.models.texts import MAIN_LANGUAGES, other_languages
from pb_vote.services.rounds import RoundSettings
from pb_vote.services.voting import DEFAULT_SLIP_LANGUAGES

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


_TRANSLATION_LABELS = {
    "fi": (_l("Title in Finnish"), _l("Description in Finnish"), _l("Categories in Finnish")),
    "sv": (_l("Title in Swedish"), _l("Description in Swedish"), _l("Categories in Swedish")),
    "en": (_l("Title in English"), _l("Description in English"), _l("Categories in English")),
}
_TRANSLATED_CATEGORIES_HINT = _l("One per line, in the same order as the categories in the "
                                 "main language. A line left empty keeps that category in the "
                                 "main language.")


def _translation_fields(cls):
    """Give ``cls`` a title, description and categories field per language (the form shows
    those of the languages other than the table's main one)."""
    for language, (title, description, categories) in _TRANSLATION_LABELS.items():
        setattr(cls, f"title_{language}", StringField(title, validators=[
            Optional(), single_line,
            Length(max=200, message=_l("Use at most %(max)d characters.", max=200))]))
        setattr(cls, f"description_{language}", TextAreaField(description, validators=[
            Length(max=5000, message=_l("Use at most %(max)d characters.", max=5000))]))
        setattr(cls, f"categories_{language}", TextAreaField(
            categories, description=_TRANSLATED_CATEGORIES_HINT, validators=[
                Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))]))
    return cls


# The settings that belong to one ballot kind.
KIND_FIELDS = {
    BallotKind.APPROVAL.value: ("approval_min", "approval_max"),
    BallotKind.KNAPSACK.value: ("knapsack_min_spend_percent",),
    BallotKind.POINTS.value: ("points_total", "points_max_per_proposal"),
}


def _required(message):
    return [DataRequired(message=message)]


class TranslatedTexts:
    """The fields of a round's texts in the languages besides the table's main one (see
    :func:`_translation_fields`), read and shown; the categories are translated in the
    order of :meth:`main_categories`."""

    main_language = "fi"

    def main_categories(self) -> list[str]:
        """The round's categories in the main language, in order."""
        raise NotImplementedError

    def in_language(self, main: str):
        """Take the texts in ``main`` (the table's language) and translations into the
        others."""
        self.main_language = main
        return self

    @property
    def other_languages(self) -> tuple[str, ...]:
        """The languages the texts may be translated into."""
        return other_languages(self.main_language)

    def show_texts(self, round_) -> None:
        """Fill the translations' fields from ``round_``."""
        for language in self.other_languages:
            for name in round_.TRANSLATED:
                text = round_.texts(name).get(language, "")
                getattr(self, f"{name}_{language}").data = text
            getattr(self, f"categories_{language}").data = "\n".join(
                round_.category_texts(c).get(language, "") for c in round_.categories
            ).rstrip("\n")

    def validate_translated_categories(self) -> bool:
        """A translation of the categories has no more lines than there are categories."""
        count, valid = len(self.main_categories()), True
        for language in self.other_languages:
            field = getattr(self, f"categories_{language}")
            if len(self._translated_lines(field)) > count:
                field.errors = [*field.errors, gettext(
                    "Write at most one line per category (there are %(num)d).", num=count)]
                valid = False
        return valid

    @staticmethod
    def _translated_lines(field) -> list[str]:
        return [line.strip()[:100] for line in (field.data or "").strip().splitlines()]

    def translations(self) -> dict:
        """The texts in the other languages, as ``Round.translations`` holds them."""
        stored: dict = {}
        for name in ("title", "description"):
            texts = {language: getattr(self, f"{name}_{language}").data.strip()
                     for language in self.other_languages
                     if (getattr(self, f"{name}_{language}").data or "").strip()}
            if texts:
                stored[name] = texts
        lines = {language: self._translated_lines(getattr(self, f"categories_{language}"))
                 for language in self.other_languages}
        categories = {}
        for position, category in enumerate(self.main_categories()):
            texts = {language: given[position] for language, given in lines.items()
                     if position < len(given) and given[position]}
            if texts:
                categories[category] = texts
        if categories:
            stored["categories"] = categories
        return stored


@_translation_fields
class RoundForm(TranslatedTexts, FlaskForm):
    """Set up or change a round. Dates are local times in the round's time zone. Title,
    description and categories are in the table's main language, with optional
    translations into the other two (``title_sv``, ... see :meth:`in_language`)."""

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
    resident_check = RadioField(
        _l("How residents sign in to vote"),
        choices=[
            SelectChoice(ResidentCheck.ANY.value,
                         _l("By emailed link (with the postal code they state) or by strong "
                            "identification")),
            SelectChoice(ResidentCheck.IDENTIFIED.value,
                         _l("Only by strong identification: one person, one ballot, where "
                            "the identity provider says they live")),
        ],
        default=ResidentCheck.ANY.value,
    )
    min_voter_age = IntegerField(
        _l("Minimum age by the close of voting (optional)"),
        description=_l("Checked from the date of birth the identity provider gives: with a "
                       "minimum age, only strongly identified residents vote."),
        validators=[Optional(), NumberRange(min=1, max=120,
                                            message=_l("Use a number from 1 to 120."))],
    )
    supports_enabled = BooleanField(
        _l("Residents can support ideas before review"),
        description=_l("While the round takes ideas, residents of the area support the ideas "
                       "they want reviewed, one support per person; the counts are shown."),
    )
    support_threshold = IntegerField(
        _l("Supports an idea needs to reach review (optional)"),
        description=_l("When review starts, an idea with fewer supports does not go on the "
                       "ballot unless a moderator accepts it with a reason."),
        validators=[Optional(), NumberRange(min=1, max=100000,
                                            message=_l("Use a number from 1 to 100000."))],
    )
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
        fields stop their own validator chain, so this runs at form level); the other
        kinds' settings are not checked."""
        super().validate(extra_validators)
        self.validate_translated_categories()
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
        # The other ballot kinds' settings are not used (the service clears them): what is
        # typed there cannot hold the form back.
        for kind, names in KIND_FIELDS.items():
            if kind != self.ballot_kind.data:
                for name in names:
                    self[name].errors = []
        return not self.form_errors and not any(field.errors for field in self)

    def main_categories(self) -> list[str]:
        """The categories as typed in the main language."""
        return self.category_list()

    def show_texts(self, round_) -> None:
        """Fill the text fields from ``round_`` (the main language's and each translation)."""
        self.categories.data = "\n".join(round_.categories)
        super().show_texts(round_)

    def category_list(self) -> list[str]:
        """The categories, one per line, trimmed, without duplicates."""
        seen: list[str] = []
        for line in (self.categories.data or "").splitlines():
            name = line.strip()[:100]
            if name and name not in seen:
                seen.append(name)
        return seen

    def validate_settings(self, check) -> bool:
        """The fields' own checks and the round's rules at once (``check``: settings ->
        the service's (field, code) problems), so every error shows in one pass."""
        valid = self.validate()
        problems = check(self.settings())
        self.add_problems(problems)
        return valid and not problems

    def settings(self) -> RoundSettings:
        """The round's settings as typed, local times turned to UTC; what could not be read
        is None (or, for a choice, its default), for the checks to report."""
        zone = self.time_zone.data if self.time_zone.data in ZONES else self.time_zone.default
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
            translations=self.translations(),
            voter_eligibility=_choice(VoterEligibility, self.voter_eligibility),
            ballot_kind=_choice(BallotKind, self.ballot_kind),
            approval_min=self.approval_min.data,
            approval_max=self.approval_max.data,
            knapsack_min_spend_percent=self.knapsack_min_spend_percent.data,
            points_total=self.points_total.data,
            points_max_per_proposal=self.points_max_per_proposal.data,
            tally_rule=_choice(TallyRule, self.tally_rule),
            paper_conflict_rule=_choice(PaperConflictRule, self.paper_conflict_rule),
            resident_check=_choice(ResidentCheck, self.resident_check),
            min_voter_age=self.min_voter_age.data,
            supports_enabled=bool(self.supports_enabled.data),
            support_threshold=self.support_threshold.data,
        )

    def add_problems(self, problems) -> None:
        """Show the service's (field, code) problems next to the fields; a field whose own
        check already found it missing or unreadable keeps that message alone."""
        for name, code in problems:
            field = getattr(self, name, None) or self.title
            if not (code == "required" and field.errors):
                field.errors = [*field.errors, setting_problem(code)]


def _choice(kind, field):
    """The enum member a radio field chose, or its default when the value is not one."""
    return kind._value2member_map_.get(field.data) or kind(field.default)


class PhaseForm(FlaskForm):
    """Move a round on to its next phase by hand, after confirming. ``target`` is the phase
    the page offered: a page shown before the round moved by itself moves nothing."""

    target = HiddenField()
    leave_unreviewed = BooleanField(
        _l("Open voting without them"),
        description=_l("They will not be on the ballot, and they can no longer be reviewed."),
    )
    confirm = BooleanField(
        _l("I have checked this: the change is recorded and people may be notified."),
        validators=_required(_l("Tick the box to confirm.")),
    )
    submit = SubmitField(_l("Move the round"))

    def chosen_target(self, offered: RoundPhase | None) -> RoundPhase | None:
        """The phase to move to: ``offered``, if that is the one the page showed."""
        if offered is not None and self.target.data == offered.value:
            return offered
        return None

    def show_refusal(self, message: str, code: str) -> None:
        """Show a refused move beside the field it concerns."""
        field = self.leave_unreviewed if code == "unreviewed_proposals" else self.submit
        field.errors = [message]


class CancelForm(FlaskForm):
    """Cancel a round for good, with the reason (audited), after confirming."""

    reason = TextAreaField(
        _l("Why the round is cancelled (kept in the audit trail)"),
        validators=[DataRequired(message=_l("Write the reason.")),
                    Length(max=500, message=_l("Use at most %(max)d characters.", max=500))],
    )
    confirm = BooleanField(
        _l("Yes, cancel this round for good"),
        description=_l("It cannot be reopened, and no results are counted from it."),
        validators=_required(_l("Tick the box to confirm.")),
    )
    submit = SubmitField(_l("Cancel the round"))


class CodeBatchForm(FlaskForm):
    """Generate a batch of voting codes."""

    count = IntegerField(
        _l("How many codes"),
        description=_l("Ten slips fit on one A4 sheet."),
        # InputRequired, not DataRequired: 0 is a number, and is out of range.
        validators=[InputRequired(message=_l("Give the number of codes.")),
                    NumberRange(min=1, max=5000, message=_l("Use a number from 1 to 5000."))],
    )
    languages = SelectMultipleField(
        _l("Languages on the slips"),
        description=_l("Each slip says how to vote in every language chosen."),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
        default=list(DEFAULT_SLIP_LANGUAGES),
        # Values that are not ours are left out (the service keeps only its languages);
        # with none of ours left, the same words as with none ticked.
        validate_choice=False,
        validators=[lambda form, field: _one_of_ours(field)],
    )
    submit = SubmitField(_l("Generate and show the sheet"))


def _one_of_ours(field) -> None:
    if not set(field.data or ()) & set(LANGUAGE_NAMES):
        raise StopValidation(_l("Choose at least one language."))


class VoidCodeBatchForm(FlaskForm):
    """Void a batch of voting codes whose sheet did not print, with the reason (audited)."""

    reason = TextAreaField(
        _l("Why the batch is voided (kept in the audit trail)"),
        validators=[DataRequired(message=_l("Write the reason.")),
                    Length(max=2000, message=_l("Use at most %(max)d characters.", max=2000))],
    )
    confirm = BooleanField(
        _l("I understand that the unused codes of this batch stop working for good."),
        validators=[DataRequired(message=_l("Confirm that the codes stop working."))],
    )
    submit = SubmitField(_l("Void the batch"))


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


_TABLE_TEXT_LABELS = {
    "fi": (_l("Name in Finnish"), _l("Description in Finnish")),
    "sv": (_l("Name in Swedish"), _l("Description in Swedish")),
    "en": (_l("Name in English"), _l("Description in English")),
}


def _table_text_fields(cls):
    """Give ``cls`` a name and a description field per language."""
    for language, (name, description) in _TABLE_TEXT_LABELS.items():
        setattr(cls, f"name_{language}", StringField(name, validators=[
            Optional(), single_line,
            Length(max=120, message=_l("Use at most %(max)d characters.", max=120))]))
        setattr(cls, f"description_{language}", TextAreaField(description, validators=[
            Length(max=5000, message=_l("Use at most %(max)d characters.", max=5000))]))
    return cls


@_table_text_fields
class TableTextsForm(FlaskForm):
    """A table's main language, and its name and description in each language (the main
    language's name required)."""

    main_language = RadioField(
        _l("Main language"),
        description=_l("The language the table's texts are written in; the pages show it "
                       "where a translation is missing. It can change only while the table "
                       "has no rounds."),
        choices=[SelectChoice(code, Markup('<span lang="%s">%s</span>') % (code, name))
                 for code, name in LANGUAGE_NAMES.items() if code in MAIN_LANGUAGES],
        validators=[DataRequired(message=_l("Choose the main language."))],
    )
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then the name in the main language."""
        valid = super().validate(extra_validators)
        main = self.main_language.data
        if main in MAIN_LANGUAGES and not (getattr(self, f"name_{main}").data or "").strip():
            field = getattr(self, f"name_{main}")
            field.errors = [*field.errors, gettext("Give the name in the main language.")]
            valid = False
        return valid

    def show(self, table) -> None:
        """Fill the fields from ``table``."""
        self.main_language.data = table.main_language
        for field in table.TRANSLATED:
            for language, text in table.texts(field).items():
                getattr(self, f"{field}_{language}").data = text

    def texts(self) -> dict[str, dict[str, str]]:
        """What was typed: {field: {language: text}}."""
        return {field: {language: getattr(self, f"{field}_{language}").data or ""
                        for language in _TABLE_TEXT_LABELS}
                for field in ("name", "description")}


@_translation_fields
class RoundTextsForm(TranslatedTexts, FlaskForm):
    """A round's title, description and categories in the languages besides the main one.
    No vote depends on them, so they may be mended in any phase, voting included."""

    submit = SubmitField(_l("Save the translations"))

    def for_round(self, round_) -> "RoundTextsForm":
        """Translate ``round_``'s texts, from its table's main language."""
        self._categories = list(round_.categories or [])
        return self.in_language(round_.main_language)

    def main_categories(self) -> list[str]:
        """The round's own categories, in order."""
        return self._categories

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then no more category lines than categories."""
        valid = super().validate(extra_validators)
        return self.validate_translated_categories() and valid
