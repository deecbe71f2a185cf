"""The append-only audit trail of staff actions, chained by hashes so tampering shows."""

import hashlib
import json
from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from pb_vote.extensions import db
from pb_vote.models.base import UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    """One staff action. Rows are never updated or deleted (database triggers refuse it).

    ``actor_id`` and ``table_id`` are plain numbers, not foreign keys: deleting an account
    must not rewrite history. ``prev_hash`` is unique, so the chain cannot fork.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None]
    actor_role: Mapped[str] = mapped_column(String(20))
    table_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def compute_hash(self) -> str:
        """The SHA-256 of this event's content and the previous event's hash."""
        content = {
            "prev": self.prev_hash,
            "at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor": self.actor_id,
            "role": self.actor_role,
            "table": self.table_id,
            "action": self.action,
            "object": [self.object_type, self.object_id],
            "details": self.details or {},
        }
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
