"""Recording staff actions in the hash-chained audit trail, and checking the chain."""

from dataclasses import dataclass

from sqlalchemy import select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import GENESIS_HASH, AuditEvent, User
from pb_vote.services.locking import named_lock

CHAIN_LOCK = "audit_events.chain"


def actor_role(user: User | None, table_id: int | None) -> str:
    """The role under which ``user`` acts at ``table_id``: city_admin, coordinator, member,
    resident, or system when no person acts (scheduled jobs)."""
    if user is None:
        return "system"
    if user.is_city_admin:
        return "city_admin"
    role = user.role_at(table_id) if table_id is not None else None
    return role.value if role else "resident"


def record_event(
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    table_id: int | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append an event to the audit trail (flushed, not committed).

    Never put ballot contents or secrets in ``details``.
    """
    session = db.session
    # Serialise appends, so two transactions never read the same last hash: the unique
    # prev_hash would refuse the second as a fork (an error for a staff action that is
    # sound). The lock lasts until the action commits.
    named_lock(CHAIN_LOCK)
    last_hash = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    event = AuditEvent(
        occurred_at=clock.utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=actor_role(actor, table_id),
        table_id=table_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
        prev_hash=last_hash or GENESIS_HASH,
    )
    event.hash = event.compute_hash()
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of checking the audit trail."""

    events_checked: int
    first_broken_id: int | None

    @property
    def intact(self) -> bool:
        """True when every event's hash matches its content and its predecessor."""
        return self.first_broken_id is None


def verify_chain() -> ChainCheck:
    """Recompute every hash in order; report the first event that does not match."""
    expected_prev = GENESIS_HASH
    count = 0
    result = db.session.execute(
        select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=500)
    )
    try:
        for event in result.scalars():
            count += 1
            if event.prev_hash != expected_prev or event.compute_hash() != event.hash:
                return ChainCheck(count, event.id)
            expected_prev = event.hash
    finally:
        result.close()
    return ChainCheck(count, None)
