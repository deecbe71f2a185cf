"""The service's own pages, linked from every page's footer: contact, privacy notice,
accessibility statement."""

from pb_vote.blueprints.about.views import bp

__all__ = ["bp"]
