"""Moderation of proposals by a table's members and coordinator."""

from pb_vote.blueprints.moderation.views import bp

__all__ = ["bp"]
