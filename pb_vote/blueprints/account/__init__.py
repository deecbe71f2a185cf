"""A person's own account: profile, language, deletion."""

from pb_vote.blueprints.account.views import bp

__all__ = ["bp"]
