"""Reports for a table's staff: the statistics after a round (charts, tables and CSV) and
the exports of a round's proposals with their moderation history and of its settings."""

from pb_vote.blueprints.staff_reports.views import bp

__all__ = ["bp"]
