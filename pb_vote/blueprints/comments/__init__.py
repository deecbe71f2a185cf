"""Comments on ideas: writing, reporting, and the table's moderation of them."""

from pb_vote.blueprints.comments.views import bp

__all__ = ["bp"]
