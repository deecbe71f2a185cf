"""The read-only JSON API, /api/v1/."""

from pb_vote.blueprints.api.views import bp

__all__ = ["bp"]
