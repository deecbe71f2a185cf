"""Signing in and out: emailed links for residents, passwords for staff."""

from pb_vote.blueprints.auth import second_step  # noqa: F401  (its views join bp)
from pb_vote.blueprints.auth.views import bp

__all__ = ["bp"]
