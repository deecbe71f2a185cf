"""Turning a tally result (as stored in a publication) into what pages show: rows in plain
language and a bar chart drawn on the server as inline SVG."""

from dataclasses import dataclass
from fractions import Fraction

from flask_babel import gettext
from markupsafe import Markup, escape

from pb_vote.formatting import money, number
from pb_vote.models import BallotKind, Proposal
from pb_vote.tally.result import Reason

BAR_HEIGHT = 28
LABEL_WIDTH = 0  # labels sit above the bars, so long titles wrap nowhere
CHART_WIDTH = 320


@dataclass(frozen=True)
class ResultRow:
    """One project on the results page."""

    project_id: str
    title: str
    origin: str
    cost: int
    support: Fraction | int
    supporters: int
    funded: bool
    position: int | None
    reason: str


def _number(value) -> Fraction | int:
    if isinstance(value, str):
        return Fraction(value)
    return value


def explain(project: dict, currency: str) -> str:
    """A project's outcome in plain language, with the figures behind it."""
    reason = Reason(project["reason"])
    if reason is Reason.FUNDED:
        return gettext("Funded")
    if reason is Reason.DID_NOT_FIT:
        left = _number(project.get("money_left", 0))  # integer cents in a publication
        return gettext("Did not fit: %(left)s was left, it costs %(cost)s.",
                       left=money(int(left), currency), cost=money(project["cost"], currency))
    if reason is Reason.NOT_ENOUGH_SUPPORT_LEFT:
        return gettext("Its supporters' shares of the budget ran out before it could be paid "
                       "for.")
    if reason is Reason.BELOW_THRESHOLD:
        return gettext("Below the support threshold.")
    return gettext("Not reached: counting stopped at the first project that did not fit.")


def rows(result: dict, proposals: dict[int, Proposal], currency: str) -> list[ResultRow]:
    """Funded projects in selection order, then the others by support."""
    made = []
    for project in result["projects"]:
        proposal = proposals.get(int(project["project_id"]))
        made.append(ResultRow(
            project_id=project["project_id"],
            title=proposal.title if proposal else project["project_id"],
            origin=proposal.origin.value if proposal else "",
            cost=project["cost"],
            support=_number(project["support"]),
            supporters=project["supporters"],
            funded=project["funded"],
            position=project.get("position"),
            reason=explain(project, currency),
        ))
    order = {pid: n for n, pid in enumerate(result["selected"])}
    return sorted(made, key=lambda r: (not r.funded, order.get(r.project_id, 0), -r.support))


def outcome(result: dict, comparison: dict, round_, proposals: dict[int, Proposal]) -> dict:
    """What a results page shows of one count (published or previewed): the rows with their
    reasons, and the rule used beside the other rule."""
    return {
        "rows": rows(result, proposals, round_.currency),
        "points": round_.ballot_kind is BallotKind.POINTS,
        "result": result,
        "used": comparison["used"],
        "other": comparison["other"],
        "titles": {str(pid): p.title for pid, p in proposals.items()},
    }


def bar_chart(items: list[ResultRow], title: str, points: bool) -> Markup:
    """Support per project as horizontal bars (funded ones filled), with a title and a text
    description for screen readers; the page also has the same figures as a table."""
    top = max((float(r.support) for r in items), default=1) or 1
    height = len(items) * (BAR_HEIGHT * 2) + 4
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    unit = gettext("points") if points else gettext("votes")
    funded = gettext("funded")
    described = "; ".join(
        f"{r.title}: {number(r.support)} {unit}" + (f", {funded}" if r.funded else "")
        for r in items
    )
    parts.append(f'<desc id="chart-desc">{escape(described)}</desc>')
    for index, row in enumerate(items):
        y = index * BAR_HEIGHT * 2
        width = max(2, round((CHART_WIDTH - 70) * float(row.support) / top))
        css = "bar funded" if row.funded else "bar"
        parts.append(f'<text x="0" y="{y + 16}" class="bar-label">{escape(row.title[:48])}</text>')
        parts.append(f'<rect x="0" y="{y + 22}" width="{width}" height="{BAR_HEIGHT - 8}" '
                     f'class="{css}"/>')
        parts.append(f'<text x="{width + 6}" y="{y + 38}" class="bar-value">'
                     f'{escape(number(row.support))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
