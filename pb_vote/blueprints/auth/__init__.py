"""Signing in and out: emailed links for residents, passwords for staff."""

from pb_vote.blueprints.auth.views import bp

__all__ = ["bp"]
