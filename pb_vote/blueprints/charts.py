"""Bar charts drawn on the server as inline SVG, as the results page draws its own: a label
above each bar (so long labels need no room beside it), the figure after the bar, a title
and a text description for screen readers. Pages show the same figures in a table too."""

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR_HEIGHT = 28
CHART_WIDTH = 320
VALUE_ROOM = 90  # room after the longest bar for its figure


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its length (None: no bar, only ``figure``) and the figure
    written after it."""

    label: str
    value: int | None
    figure: str


def bar_chart(chart_id: str, title: str, bars: list[Bar]) -> Markup:
    """Horizontal bars, ``chart_id`` naming its title and description elements (unique on
    the page). The description reads every bar's label and figure."""
    top = max((bar.value for bar in bars if bar.value), default=1)
    height = len(bars) * BAR_HEIGHT * 2 + 4
    parts = [
        f'<svg class="bar-chart" viewBox="0 0 {CHART_WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">'
        f'{escape("; ".join(f"{bar.label}: {bar.figure}" for bar in bars))}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = index * BAR_HEIGHT * 2
        width = round((CHART_WIDTH - VALUE_ROOM) * bar.value / top) if bar.value else 0
        parts.append(f'<text x="0" y="{y + 16}" class="bar-label">{escape(bar.label[:48])}'
                     '</text>')
        if width:
            parts.append(f'<rect x="0.5" y="{y + 22.5}" width="{max(2, width)}" '
                         f'height="{BAR_HEIGHT - 9}" class="bar count"/>')
        parts.append(f'<text x="{width + 6 if width else 0}" y="{y + 38}" '
                     f'class="bar-value">{escape(bar.figure)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
