"""City administration: tables, staff roles, the audit trail, the service's own pages."""

from pb_vote.blueprints.admin import service_pages  # noqa: F401  (its routes join bp)
from pb_vote.blueprints.admin.views import bp

__all__ = ["bp"]
