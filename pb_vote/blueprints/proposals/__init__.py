"""Residents' ideas: submit, edit, withdraw, and follow their status."""

from pb_vote.blueprints.proposals.views import bp

__all__ = ["bp"]
