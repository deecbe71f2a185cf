"""Turning a tally result (as stored in a publication) into what pages show: rows in plain
language and a bar chart drawn on the server as inline SVG.

Every project's outcome is said from the reason the tally gave it (``tally.result.Reason``,
stored as its value in the publication, as the JSON and the CSV give it), and from the step
of the rule that decided it: the page, the proposal pages and the open data never say two
different things."""

from dataclasses import dataclass
from fractions import Fraction

from flask_babel import gettext, ngettext
from markupsafe import Markup, escape

from pb_vote.formatting import money, number
from pb_vote.models import BallotKind, Proposal
from pb_vote.tally.result import Phase, Reason

BAR_HEIGHT = 28
LABEL_WIDTH = 0  # labels sit above the bars, so long titles wrap nowhere
CHART_WIDTH = 320


@dataclass(frozen=True)
class ResultRow:
    """One project on the results page."""

    project_id: str
    title: str
    origin: str
    cost: int | None
    support: Fraction | int | None  # None: left out of the count
    supporters: int
    funded: bool
    position: int | None
    reason: str
    excluded: bool = False  # left out of the count by the coordinator (a correction)

    @property
    def anchor(self) -> str:
        """The id of the project's row, linked from its proposal page."""
        return proposal_anchor(self.project_id)


def proposal_anchor(project_id) -> str:
    """The element id of a proposal's row on the results page."""
    return f"p{project_id}"


def _number(value) -> Fraction | int:
    if isinstance(value, str):
        return Fraction(value)
    return value


def explain(project: dict, currency: str, *, with_cost: bool = False) -> str:
    """A project's outcome in plain language, with the figures behind it: the tally's own
    reason (``project["reason"]``), worded for the step that decided it. Its cost is not
    said again unless ``with_cost`` asks for it (a page that shows no cost beside the
    reason, such as "My proposals"): the money left then stands beside what it costs."""
    reason = Reason(project["reason"])
    if reason is Reason.FUNDED:
        return gettext("Funded")
    if reason is Reason.DID_NOT_FIT:
        left = money(int(_number(project.get("money_left", 0))), currency)  # cents
        cost = money(int(_number(project["cost"])), currency) if with_cost else None
        if project.get("phase") == Phase.GREEDY_FILL.value:
            # Equal Shares did not buy it (its supporters' shares ran out), and the money
            # the shares left unspent was then too little for it.
            if cost:
                return gettext("Its supporters' shares of the budget ran out before it "
                               "could be paid for, and only %(left)s was left after that; "
                               "it costs %(cost)s.", left=left, cost=cost)
            return gettext("Its supporters' shares of the budget ran out before it could "
                           "be paid for, and only %(left)s was left after that.", left=left)
        if cost:
            return gettext("Did not fit: only %(left)s left, and it costs %(cost)s.",
                           left=left, cost=cost)
        return gettext("Did not fit: only %(left)s left.", left=left)
    if reason is Reason.NOT_ENOUGH_SUPPORT_LEFT:
        return gettext("Its supporters' shares of the budget ran out before it could be paid "
                       "for.")
    if reason is Reason.BELOW_THRESHOLD:
        return gettext("Below the support threshold.")
    return gettext("Not reached: counting stopped at the first project that did not fit.")


def rows(result: dict, proposals: dict[int, Proposal], currency: str,
         excluded: dict[int, str] | None = None) -> list[ResultRow]:
    """Funded projects in selection order, then the others by support, then the proposals
    the count left out (``excluded``: proposal id to why, in words)."""
    made = []
    for project in result["projects"]:
        proposal = proposals.get(int(project["project_id"]))
        made.append(ResultRow(
            project_id=project["project_id"],
            # As written, with its language (a page in another one tags it).
            title=proposal.text_in("title", proposal.language) if proposal
            else project["project_id"],
            origin=proposal.origin.value if proposal else "",
            cost=project["cost"],
            support=_number(project["support"]),
            supporters=project["supporters"],
            funded=project["funded"],
            position=project.get("position"),
            reason=explain(project, currency),
        ))
    order = {pid: n for n, pid in enumerate(result["selected"])}
    made.sort(key=lambda r: (not r.funded, order.get(r.project_id, 0), -r.support))
    for proposal_id, why in (excluded or {}).items():
        proposal = proposals.get(proposal_id)
        made.append(ResultRow(
            project_id=str(proposal_id),
            title=proposal.text_in("title", proposal.language) if proposal else str(proposal_id),
            origin=proposal.origin.value if proposal else "",
            cost=proposal.reviewed_cost_cents if proposal else None, support=None,
            supporters=0, funded=False, position=None, reason=why, excluded=True))
    return made


def exclusions(history: list, number: int) -> dict[int, object]:
    """For each proposal left out of publication ``number``, the publication that began
    leaving it out (whose correction reason says why), from the publications' summaries
    (``history``, in any order)."""
    since: dict[int, object] = {}
    for item in sorted(history, key=lambda p: p.number):
        if item.number > number:
            break
        since = {int(pid): since.get(int(pid), item) for pid in item.excluded or ()}
    return since


def why_left_out(publication) -> str:
    """Why a proposal is not in a publication's count, in words: the reason the
    coordinator gave for the publication that left it out."""
    if publication.correction_reason:
        return gettext("Left out of the count by correction %(number)d: %(reason)s",
                       number=publication.number, reason=publication.correction_reason)
    return gettext("Left out of the count by the table's coordinator.")


def outcome(result: dict, comparison: dict, round_, proposals: dict[int, Proposal],
            excluded: dict[int, str] | None = None) -> dict:
    """What a results page shows of one count (published or previewed): the rows with their
    reasons (and the proposals it left out, with why), and the rule used beside the other
    rule."""
    return {
        "rows": rows(result, proposals, round_.currency, excluded),
        "points": round_.ballot_kind is BallotKind.POINTS,
        "result": result,
        "used": comparison["used"],
        "other": comparison["other"],
        "titles": {str(pid): p.title for pid, p in proposals.items()},
    }


def bar_chart(items: list[ResultRow], title: str, points: bool) -> Markup:
    """Support per project as horizontal bars, with a title and a text description for
    screen readers; the page also has the same figures as a table. Funded and not funded
    differ in more than colour: a funded project's bar is solid and its label starts with
    a check mark, the others' bars are striped."""
    items = [row for row in items if not row.excluded]
    top = max((float(r.support) for r in items), default=1) or 1
    height = len(items) * (BAR_HEIGHT * 2) + 4
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        '<defs><pattern id="not-funded-stripes" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="stripe-ground"/>'
        '<line x1="1" y1="0" x2="1" y2="6" class="stripe"/></pattern></defs>',
    ]
    funded, not_funded = gettext("funded"), gettext("not funded")

    def support(row: ResultRow) -> str:
        count, shown = int(row.support), number(row.support)
        if points:
            return ngettext("%(count)s point", "%(count)s points", count, count=shown)
        return ngettext("%(count)s vote", "%(count)s votes", count, count=shown)

    described = "; ".join(
        f"{r.title}: {support(r)}, {funded if r.funded else not_funded}" for r in items)
    parts.append(f'<desc id="chart-desc">{escape(described)}</desc>')
    for index, row in enumerate(items):
        y = index * BAR_HEIGHT * 2
        width = max(2, round((CHART_WIDTH - 70) * float(row.support) / top))
        css = "bar funded" if row.funded else "bar"
        label = ("\u2713 " if row.funded else "") + row.title[:48]
        parts.append(f'<text x="0" y="{y + 16}" class="bar-label">{escape(label)}</text>')
        parts.append(f'<rect x="0.5" y="{y + 22.5}" width="{width}" height="{BAR_HEIGHT - 9}" '
                     f'class="{css}"/>')
        parts.append(f'<text x="{width + 6}" y="{y + 38}" class="bar-value">'
                     f'{escape(number(row.support))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
