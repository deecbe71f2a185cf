"""Staff pages of a partnership table: members, coordinators (and city admins)."""

from pb_vote.blueprints.coordinate.views import bp

__all__ = ["bp"]
