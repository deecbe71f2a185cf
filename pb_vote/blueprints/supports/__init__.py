"""Supports of ideas before review: the support button's one view."""

from pb_vote.blueprints.supports.views import bp

__all__ = ["bp"]
