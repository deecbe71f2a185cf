"""The one source of "now" for the service, so tests can move time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime, truncated to microseconds."""
    return datetime.now(UTC)
