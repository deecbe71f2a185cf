"""Staff pages of a partnership table: members, coordinators (and city admins)."""

from pb_vote.blueprints.coordinate import desk  # noqa: F401  (its views join bp)
from pb_vote.blueprints.coordinate.views import bp

__all__ = ["bp"]
