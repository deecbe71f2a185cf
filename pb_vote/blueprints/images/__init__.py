"""Images of proposals: serving the renditions, and what the upload forms share."""

from pb_vote.blueprints.images.views import bp

__all__ = ["bp"]
