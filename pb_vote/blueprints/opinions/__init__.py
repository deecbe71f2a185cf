"""City departments answering a reviewer's question through a one-time link."""

from pb_vote.blueprints.opinions.views import bp

__all__ = ["bp"]
