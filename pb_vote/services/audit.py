"""Recording staff actions in the hash-chained audit trail, checking the chain, and
reading the trail page by page, filtered."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, func, or_, select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import GENESIS_HASH, AuditEvent, Proposal, Round, Table, User
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
    role: str | None = None,
) -> AuditEvent:
    """Append an event to the audit trail (flushed, not committed). ``role`` names who
    acted when no account did (e.g. ``department``: a city department's contact answering
    through a one-time link); by default it is the actor's role at the table.

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
        actor_role=role or actor_role(actor, table_id),
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


@dataclass(frozen=True)
class AuditFilter:
    """Which events to list; a field left None does not filter."""

    table_id: int | None = None
    round_id: int | None = None  # the round's own events and its proposals'
    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None  # UTC, inclusive
    before: datetime | None = None  # UTC, exclusive


@dataclass(frozen=True)
class AuditEntry:
    """An event with what it names: who acted, and the round, proposal, table or person it
    is about (None when there is none, or it no longer exists)."""

    event: AuditEvent
    actor: User | None
    round: Round | None = None
    proposal: Proposal | None = None
    person: User | None = None
    table: Table | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered trail, newest first."""

    entries: list[AuditEntry]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the filtered trail has (at least one)."""
        return max(1, -(-self.total // self.per_page))


def _conditions(wanted: AuditFilter) -> list:
    conditions = []
    if wanted.table_id is not None:
        conditions.append(AuditEvent.table_id == wanted.table_id)
    if wanted.round_id is not None:
        proposals = select(cast(Proposal.id, String)).where(
            Proposal.round_id == wanted.round_id)
        conditions.append(or_(
            and_(AuditEvent.object_type == "round",
                 AuditEvent.object_id == str(wanted.round_id)),
            and_(AuditEvent.object_type == "proposal", AuditEvent.object_id.in_(proposals)),
        ))
    if wanted.actor_id is not None:
        conditions.append(AuditEvent.actor_id == wanted.actor_id)
    if wanted.action is not None:
        conditions.append(AuditEvent.action == wanted.action)
    if wanted.since is not None:
        conditions.append(AuditEvent.occurred_at >= wanted.since)
    if wanted.before is not None:
        conditions.append(AuditEvent.occurred_at < wanted.before)
    return conditions


def _by_id(model, ids) -> dict:
    ids = {int(i) for i in ids if i is not None and str(i).isdigit()}
    if not ids:
        return {}
    return {row.id: row for row in db.session.execute(
        select(model).where(model.id.in_(ids))).scalars()}


def event_page(wanted: AuditFilter, page: int = 1, per_page: int = 50) -> AuditPage:
    """Page ``page`` (from 1; past the last, the last) of the events ``wanted``, newest
    first, each with its actor and the round, proposal, table or person it names."""
    conditions = _conditions(wanted)
    total = db.session.execute(
        select(func.count()).select_from(AuditEvent).where(*conditions)).scalar_one()
    page = min(max(page, 1), max(1, -(-total // per_page)))
    events = list(db.session.execute(
        select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).scalars())
    of = {"round": [], "proposal": [], "user": [], "table": []}
    for event in events:
        if event.object_type in of:
            of[event.object_type].append(event.object_id)
    proposals = _by_id(Proposal, of["proposal"])
    rounds = _by_id(Round, of["round"] + [p.round_id for p in proposals.values()])
    people = _by_id(User, of["user"] + [e.actor_id for e in events])
    tables = _by_id(Table, of["table"])

    def named(kind, rows, event):
        if event.object_type != kind or not (event.object_id or "").isdigit():
            return None
        return rows.get(int(event.object_id))

    entries = []
    for event in events:
        proposal = named("proposal", proposals, event)
        round_ = rounds.get(proposal.round_id) if proposal else named("round", rounds, event)
        entries.append(AuditEntry(event, people.get(event.actor_id), round_, proposal,
                                  named("user", people, event), named("table", tables, event)))
    return AuditPage(entries, total, page, per_page)


def recorded_actions() -> list[str]:
    """Every action key that occurs in the trail, sorted."""
    return list(db.session.execute(
        select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def recorded_actors() -> list[User]:
    """The people who appear in the trail as actors (and still have an account), by name."""
    actors = select(AuditEvent.actor_id).where(AuditEvent.actor_id.is_not(None)).distinct()
    return list(db.session.execute(
        select(User).where(User.id.in_(actors)).order_by(User.display_name, User.email)
    ).scalars())


def every_round() -> list[Round]:
    """All rounds, by table, newest first: what the trail can be filtered by."""
    return list(db.session.execute(
        select(Round).order_by(Round.table_id, Round.id.desc())).scalars())
