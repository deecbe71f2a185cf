"""Published results: the public page, the history, receipt checks."""

from pb_vote.blueprints.results.views import bp

__all__ = ["bp"]
