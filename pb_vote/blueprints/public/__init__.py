"""Pages anyone may read: home, tables, rounds; the language switch."""

from pb_vote.blueprints.public.views import bp

__all__ = ["bp"]
