"""What a table's staff can take away of a round: its proposals, each with its moderation
history read from the audit trail (who did what, when, and why: internal notes and
departments' opinions included, so this is for staff only), and the round itself."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from pb_vote.extensions import db
from pb_vote.models import AuditEvent, Proposal, ProposalOrigin, Round, User

SUBMITTED = "proposal.submitted"  # a resident's idea arriving: not a staff action, not audited


@dataclass(frozen=True)
class Step:
    """One thing that happened to a proposal: an audit event's action and details, or its
    submission by a resident (``SUBMITTED``, no actor named)."""

    at: datetime
    action: str
    actor: User | None
    actor_role: str
    details: dict


@dataclass(frozen=True)
class ProposalHistory:
    """A proposal as it is now, and what happened to it, oldest first."""

    proposal: Proposal
    steps: list[Step]


def proposal_histories(round_: Round) -> list[ProposalHistory]:
    """Every proposal of ``round_`` (hidden, withdrawn and merged ones too), by id, with
    its moderation history: a resident's submission, then the audited staff actions
    (status changes, cost reviews, opinions asked of departments and their answers,
    internal notes). Two queries and one for the people who acted, whatever the number of
    proposals."""
    proposals = list(db.session.execute(
        select(Proposal).where(Proposal.round_id == round_.id).order_by(Proposal.id)
    ).scalars())
    return _histories(proposals, round_.table_id)


def proposal_history(proposal: Proposal) -> ProposalHistory:
    """One proposal's history, as in :func:`proposal_histories`."""
    return _histories([proposal], proposal.round.table_id)[0]


def _histories(proposals: list[Proposal], table_id: int) -> list[ProposalHistory]:
    ids = [str(proposal.id) for proposal in proposals]
    events = list(db.session.execute(
        select(AuditEvent).where(AuditEvent.object_type == "proposal",
                                 AuditEvent.object_id.in_(ids),
                                 AuditEvent.table_id == table_id)
        .order_by(AuditEvent.id)
    ).scalars()) if ids else []
    actor_ids = {event.actor_id for event in events if event.actor_id is not None}
    actors = {user.id: user for user in db.session.execute(
        select(User).where(User.id.in_(actor_ids))).scalars()} if actor_ids else {}
    steps: dict[str, list[Step]] = {key: [] for key in ids}
    for event in events:
        steps[event.object_id].append(Step(event.occurred_at, event.action,
                                           actors.get(event.actor_id), event.actor_role,
                                           event.details or {}))
    histories = []
    for proposal in proposals:
        own = steps[str(proposal.id)]
        if proposal.origin is ProposalOrigin.RESIDENT:
            own.insert(0, Step(proposal.created_at, SUBMITTED, None, "resident", {}))
        histories.append(ProposalHistory(proposal, own))
    return histories
