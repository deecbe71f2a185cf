"""The statistics and exports in words: each breakdown as labelled rows with its figures
and shares, a chart of it, and the CSV files (UTF-8 with a byte order mark and semicolons,
as a spreadsheet set to Finnish or Swedish opens them; cells that a spreadsheet would run
as formulas neutralized)."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from pb_vote.blueprints.charts import Bar, bar_chart
from pb_vote.blueprints.labels import (
    FEASIBILITY_LABELS,
    ORIGIN_LABELS,
    PHASE_LABELS,
    STATUS_LABELS,
    label,
)
from pb_vote.formatting import format_locale, local_date, local_datetime, money, number, percent
from pb_vote.models import BallotKind, Round, TallyRule, VoterEligibility
from pb_vote.services import exports
from pb_vote.services.statistics import (
    PROTECTED,
    SMALL,
    UNKNOWN,
    Breakdown,
    Cell,
    RoundStatistics,
)
from pb_vote.text import csv_cell

CHANNEL_LABELS = {
    "online": _l("Online, signed in"),
    "code": _l("Online, with a voting code"),
    "paper": _l("Paper"),
    "import": _l("Imported from a Pabulib file"),
}
LANGUAGE_LABELS = {"fi": _l("Finnish"), "sv": _l("Swedish"), "en": _l("English")}
ROLE_WORDS = {
    "city_admin": _l("city admin"),
    "coordinator": _l("coordinator"),
    "member": _l("table member"),
    "resident": _l("resident"),
    "system": _l("the service, by the schedule"),
    "department": _l("city department"),
}

STEP_WORDS = {
    exports.SUBMITTED: STATUS_LABELS["submitted"],
    "proposal.added": _l("Added by the table or the city"),
    "proposal.accepted": STATUS_LABELS["accepted"],
    "proposal.changes_requested": STATUS_LABELS["changes_requested"],
    "proposal.rejected": STATUS_LABELS["rejected"],
    "proposal.hidden": STATUS_LABELS["hidden"],
    "proposal.merged": STATUS_LABELS["merged"],
    "proposal.cost_reviewed": _l("Cost reviewed"),
    "proposal.opinion_requested": _l("Opinion asked of a department"),
    "proposal.opinion_answered": _l("Department's opinion"),
    "proposal.note_added": _l("Internal note"),
}


@dataclass(frozen=True)
class Row:
    """One group as shown: its label, its figure in words, its share (or "")."""

    label: str
    figure: str
    share: str
    value: int | None  # the bar's length; None when hidden
    ratio: float | None = None  # the share as a number, for the CSV


@dataclass(frozen=True)
class Section:
    """One breakdown on the page and in the CSV."""

    key: str
    heading: str
    group_heading: str
    rows: list[Row]
    total: Row
    withheld: str | None  # why nothing is shown, or None
    with_shares: bool

    @property
    def chart(self) -> Markup:
        """The breakdown as bars, the total left out."""
        return bar_chart(f"chart-{self.key}", self.heading,
                         [Bar(row.label, row.value, row.figure) for row in self.rows])


def hidden_words(cell: Cell, minimum: int) -> str:
    """How a hidden figure reads: "fewer than 10", or "not shown" for one held back."""
    if cell.hidden == PROTECTED:
        return gettext("not shown")
    return gettext("fewer than %(minimum)d", minimum=minimum)


def _row(stats: RoundStatistics, text: str, cell: Cell, with_shares: bool,
         area: str | None = None) -> Row:
    figure = number(cell.count) if cell.shown is not None else hidden_words(
        cell, stats.minimum)
    share = stats.share(cell.shown, area) if with_shares else None
    return Row(text, figure, "" if share is None else percent(share), cell.shown, share)


def _group_label(key: str, cell: Cell) -> str:
    if key == "channel":
        return label(CHANNEL_LABELS, cell.key)
    if key == "day":
        return local_date(cell.key)
    if cell.key == UNKNOWN:
        return gettext("Not known")
    return label(LANGUAGE_LABELS, cell.key) if key == "language" else cell.key


def _why_withheld(stats: RoundStatistics, key: str, breakdown: Breakdown) -> str | None:
    if not breakdown.withheld:
        return None
    if stats.too_few:
        return gettext("Fewer than %(minimum)d people voted: no breakdown is shown, so that "
                       "nobody's vote can be told apart.", minimum=stats.minimum)
    if key in ("area", "language") and not stats.by_channel.withheld:
        return gettext("Not shown: the number of signed-in voters is held back above, and "
                       "these figures would add up to it.")
    return gettext("Not shown: the groups are too small to show any of them without "
                   "revealing the others.")


def sections(stats: RoundStatistics) -> list[Section]:
    """The four breakdowns in the order the page shows them."""
    made = []
    for key, heading, group, breakdown in (
            ("channel", _l("By channel"), _l("Channel"), stats.by_channel),
            ("day", _l("By day of the first vote"), _l("Day"), stats.by_day),
            ("area", _l("By home postal code"), _l("Postal code"), stats.by_area),
            ("language", _l("By language of the account"), _l("Language"),
             stats.by_language)):
        by_area = key == "area"
        with_shares = (bool(stats.eligible_by_area) if by_area
                       else key in ("channel", "day") and bool(stats.eligible_residents))
        total = Cell("", breakdown.total, SMALL if stats.too_few else None)
        made.append(Section(
            key, str(heading), str(group),
            [_row(stats, _group_label(key, cell), cell, with_shares,
                  cell.key if by_area else None) for cell in breakdown.cells],
            # signed-in voters are not all the area's voters: no share of the area's total
            _row(stats, gettext("Total"), total, with_shares and not by_area),
            _why_withheld(stats, key, breakdown), with_shares))
    return made


def _csv(rows: list[list]) -> bytes:
    """Rows as a CSV file a spreadsheet opens in Finland: UTF-8 with a byte order mark,
    semicolons between cells, formulas neutralized."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _decimal(value: float) -> str:
    return format_decimal(value, "0.0", locale=format_locale())


def statistics_csv(stats: RoundStatistics) -> bytes:
    """The breakdowns as one table: breakdown, group, voters, share of the residents
    entitled to vote (in percent, when known). Hidden figures read as on the page."""
    rows = [[gettext("Breakdown"), gettext("Group"), gettext("Voters"),
             gettext("Share of residents entitled to vote, %")]]
    for section in sections(stats):
        if section.withheld:
            rows.append([section.heading, "", section.withheld, ""])
            continue
        for row in [*section.rows, section.total]:
            rows.append([section.heading, row.label,
                         row.value if row.value is not None else row.figure,
                         "" if row.ratio is None else _decimal(100 * row.ratio)])
    return _csv(rows)


def _euros(cents: int | None) -> str:
    if cents is None:
        return ""
    return format_decimal(cents / 100, "0.##", locale=format_locale())


def _moment(value: datetime | None, round_: Round) -> str:
    """A time as a spreadsheet reads it, in the round's time zone: 2027-03-01 14:05."""
    return value.astimezone(round_.zone).strftime("%Y-%m-%d %H:%M") if value else ""


def step_words(step: exports.Step) -> str:
    """What happened, in a few words."""
    return str(STEP_WORDS.get(step.action, step.action))


def step_details(step: exports.Step, round_: Round) -> str:
    """The figures and words of one step: a cost, a reason, a note, an opinion."""
    details = step.details
    parts = []
    if step.action == "proposal.opinion_requested":
        contact = details.get("contact", "")
        if details.get("department"):
            contact += f", {details['department']}"
        parts.append(gettext("Asked %(contact)s (%(email)s)", contact=contact,
                             email=details.get("email", "")))
        if details.get("question"):
            parts.append(str(details["question"]))
    if step.action == "proposal.opinion_answered":
        parts.append(label(FEASIBILITY_LABELS, details.get("feasibility", "")))
        if details.get("estimated_cost_cents") is not None:
            parts.append(gettext("Estimated cost %(cost)s",
                                 cost=money(details["estimated_cost_cents"], round_.currency)))
        if details.get("answer"):
            parts.append(str(details["answer"]))
    if step.action in ("proposal.accepted", "proposal.cost_reviewed") and details.get(
            "reviewed_cost_cents"):
        parts.append(gettext("Reviewed cost %(cost)s",
                             cost=money(details["reviewed_cost_cents"], round_.currency)))
    if step.action == "proposal.merged" and details.get("into"):
        parts.append(gettext("Into proposal %(id)s", id=details["into"]))
    parts += [str(details[name]) for name in ("reason", "message", "note", "internal_note")
              if details.get(name)]
    return ". ".join(parts)


def step_who(step: exports.Step) -> str:
    """Who did it: staff by name, a department's contact by name and department;
    residents are not named in staff files."""
    if step.action == exports.SUBMITTED:
        return ""
    if step.actor_role == "department":
        contact = step.details.get("contact", "")
        department = step.details.get("department")
        return f"{contact}, {department}" if department else contact
    if step.actor is None:
        return "" if step.actor_role == "system" else gettext("(account deleted)")
    return step.actor.name_or_email


def proposals_csv(round_: Round, histories: list[exports.ProposalHistory]) -> bytes:
    """One line per thing that happened to a proposal (a proposal without any has one
    line), each with the proposal as it is now: its moderation history, oldest first."""
    rows = [[gettext("Proposal number"), gettext("Title"), gettext("Origin"),
             gettext("Category"), gettext("Status now"), gettext("Estimated cost, €"),
             gettext("Reviewed cost, €"), gettext("When"), gettext("What"), gettext("Who"),
             gettext("Role"), gettext("Reason, message or note")]]
    for history in histories:
        proposal = history.proposal
        about = [proposal.id, proposal.title, label(ORIGIN_LABELS, proposal.origin),
                 proposal.category or "", label(STATUS_LABELS, proposal.status),
                 _euros(proposal.estimated_cost_cents), _euros(proposal.reviewed_cost_cents)]
        for step in history.steps or [None]:
            if step is None:
                rows.append(about + [""] * 5)
                continue
            rows.append([
                *about, _moment(step.at, round_), step_words(step),
                step_who(step), label(ROLE_WORDS, step.actor_role), step_details(step, round_)])
    return _csv(rows)


def _ballot_words(round_: Round) -> str:
    if round_.ballot_kind is BallotKind.APPROVAL:
        return gettext("Approval: pick %(min)d to %(max)d proposals", min=round_.approval_min,
                       max=round_.approval_max)
    if round_.ballot_kind is BallotKind.KNAPSACK:
        words = gettext("Knapsack: pick proposals that fit the budget")
        if round_.knapsack_min_spend_percent:
            words += " (" + gettext("spend at least %(percent)d %%",
                                    percent=round_.knapsack_min_spend_percent) + ")"
        return words
    return gettext("Points: %(total)d points, at most %(per)d per proposal",
                   total=round_.points_total, per=round_.points_max_per_proposal)


VOTER_WORDS = {
    VoterEligibility.RESIDENTS: _l("Residents of the area"),
    VoterEligibility.CODES: _l("Holders of voting codes"),
    VoterEligibility.BOTH: _l("Residents of the area and holders of voting codes"),
}


def settings_csv(round_: Round, exported_at: datetime) -> bytes:
    """The round's settings, one per line: what it is, and its value as staff read it."""
    zone = round_.time_zone
    eligible = round_.table.eligible_residents
    rows = [
        [gettext("Setting"), gettext("Value")],
        [gettext("Partnership table"), round_.table.name],
        [gettext("Round"), round_.title],
        [gettext("Round number"), round_.id],
        [gettext("Phase"), label(PHASE_LABELS, round_.phase)],
        [gettext("Budget"), money(round_.budget_cents, round_.currency)],
        [gettext("Who may vote"), str(VOTER_WORDS[round_.voter_eligibility])],
        [gettext("Ballot"), _ballot_words(round_)],
        [gettext("Tally rule"), gettext("Greedy") if round_.tally_rule is TallyRule.GREEDY
         else gettext("Method of Equal Shares")],
        [gettext("When one voting code is used both online and on paper"),
         gettext("The online ballot stands; the paper entry is refused")
         if round_.paper_conflict_rule.value == "online_wins"
         else gettext("The paper ballot replaces the online one")],
        [gettext("Categories"), ", ".join(round_.categories or [])],
        [gettext("Time zone"), zone],
        [gettext("Ideas: window opens"), _moment(round_.proposals_open_at, round_)],
        [gettext("Ideas: window closes (review starts)"),
         _moment(round_.proposals_close_at, round_)],
        [gettext("Voting opens"), _moment(round_.voting_open_at, round_)],
        [gettext("Voting closes"), _moment(round_.voting_close_at, round_)],
        [gettext("Residents entitled to vote in the area"),
         eligible if eligible is not None else gettext("Not known")],
        [gettext("Exported"), local_datetime(exported_at, zone)],
    ]
    return _csv(rows)
