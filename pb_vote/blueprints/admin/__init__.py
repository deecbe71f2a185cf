"""City administration: tables, staff roles, the audit trail."""

from pb_vote.blueprints.admin.views import bp

__all__ = ["bp"]
