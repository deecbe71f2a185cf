"""Voting: the ballot page, the review step, the confirmation with a receipt, voting codes."""

from pb_vote.blueprints.voting.views import bp

__all__ = ["bp"]
