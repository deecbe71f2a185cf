"""Proposals: residents submit, edit and withdraw ideas; staff add them for the table or
the city; members moderate and review them. Every staff action is audited with who and why.

Functions return the proposals whose status changed, so the caller can notify the authors.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Round,
    RoundPhase,
    User,
)
from pb_vote.services.audit import record_event
from pb_vote.services.rounds import proposal_window_open

S = ProposalStatus
# Where each moderation action may start from.
MODERATABLE = frozenset({S.SUBMITTED, S.CHANGES_REQUESTED, S.ACCEPTED, S.REJECTED})


class ProposalError(ServiceError):
    """A proposal operation was refused."""


@dataclass
class ProposalDraft:
    """What an author writes."""

    title: str
    description: str
    estimated_cost_cents: int
    category: str | None = None
    location: str = ""
    link: str | None = None


def _check_draft(round_: Round, draft: ProposalDraft) -> None:
    if not draft.title.strip():
        raise ProposalError("title_required")
    if draft.estimated_cost_cents <= 0:
        raise ProposalError("cost_not_positive")
    if draft.estimated_cost_cents > round_.budget_cents:
        raise ProposalError("cost_above_budget")
    if round_.categories and draft.category not in round_.categories:
        raise ProposalError("unknown_category")


def _write(proposal: Proposal, draft: ProposalDraft) -> None:
    proposal.title = draft.title.strip()
    proposal.description = draft.description.strip()
    proposal.estimated_cost_cents = draft.estimated_cost_cents
    proposal.category = draft.category or None
    proposal.location = (draft.location or "").strip()
    proposal.link = (draft.link or "").strip() or None


def submit_proposal(
    author: User, round_: Round, draft: ProposalDraft,
    origin: ProposalOrigin = ProposalOrigin.RESIDENT,
) -> Proposal:
    """Submit an idea. Residents: only inside the proposal window (server time decides).
    Staff adding for the table (``member``) or the city (``city``): during proposals or review.
    """
    now = clock.utcnow()
    if origin is ProposalOrigin.RESIDENT:
        if not proposal_window_open(round_, now):
            raise ProposalError("window_closed")
    elif not round_.phase.moderation_open:
        raise ProposalError("window_closed")
    _check_draft(round_, draft)
    proposal = Proposal(round=round_, author=author, origin=origin, status=S.SUBMITTED)
    _write(proposal, draft)
    db.session.add(proposal)
    db.session.flush()
    if origin is not ProposalOrigin.RESIDENT:
        record_event(author, "proposal.added", "proposal", proposal.id,
                     table_id=round_.table_id, details={"origin": origin.value})
    return proposal


def author_may_edit(proposal: Proposal, now: datetime) -> bool:
    """Authors edit until review starts; when asked for changes, during proposals or review."""
    round_ = proposal.round
    if proposal.status is S.CHANGES_REQUESTED:
        return round_.phase.moderation_open
    return proposal.status is S.SUBMITTED and proposal_window_open(round_, now)


def edit_proposal(author: User, proposal: Proposal, draft: ProposalDraft) -> list[Proposal]:
    """The author changes their idea; an idea sent back for changes is resubmitted."""
    if proposal.author_id != author.id:
        raise ProposalError("not_author")
    if not author_may_edit(proposal, clock.utcnow()):
        raise ProposalError("window_closed")
    _check_draft(proposal.round, draft)
    _write(proposal, draft)
    changed = []
    if proposal.status is S.CHANGES_REQUESTED:
        proposal.status = S.SUBMITTED
        changed.append(proposal)
    db.session.flush()
    return changed


def withdraw_proposal(author: User, proposal: Proposal) -> list[Proposal]:
    """The author withdraws their idea, until review starts."""
    if proposal.author_id != author.id:
        raise ProposalError("not_author")
    if proposal.status not in (S.SUBMITTED, S.CHANGES_REQUESTED) or not proposal_window_open(
        proposal.round, clock.utcnow()
    ):
        raise ProposalError("window_closed")
    proposal.status = S.WITHDRAWN
    db.session.flush()
    return [proposal]


def _moderate(actor: User, proposal: Proposal, action: str, details: dict,
              allowed_from=MODERATABLE) -> None:
    if not proposal.round.phase.moderation_open:
        raise ProposalError("moderation_closed")
    if proposal.status not in allowed_from:
        raise ProposalError("wrong_state", status=proposal.status.value)
    record_event(actor, f"proposal.{action}", "proposal", proposal.id,
                 table_id=proposal.round.table_id, details=details)


def accept(actor: User, proposal: Proposal, reviewed_cost_cents: int,
           public_note: str = "") -> list[Proposal]:
    """Put a proposal on the ballot with its reviewed cost (required) and a public note."""
    if reviewed_cost_cents is None or reviewed_cost_cents <= 0:
        raise ProposalError("cost_not_positive")
    if reviewed_cost_cents > proposal.round.budget_cents:
        raise ProposalError("cost_above_budget")
    _moderate(actor, proposal, "accepted",
              {"reviewed_cost_cents": reviewed_cost_cents, "note": public_note})
    proposal.reviewed_cost_cents = reviewed_cost_cents
    proposal.public_note = public_note.strip()
    proposal.status = S.ACCEPTED
    db.session.flush()
    return [proposal]


def request_changes(actor: User, proposal: Proposal, message: str) -> list[Proposal]:
    """Ask the author for changes; the message is shown to the author."""
    if not message.strip():
        raise ProposalError("reason_required")
    _moderate(actor, proposal, "changes_requested", {"message": message.strip()})
    proposal.change_request = message.strip()
    proposal.status = S.CHANGES_REQUESTED
    db.session.flush()
    return [proposal]


def reject(actor: User, proposal: Proposal, reason: str) -> list[Proposal]:
    """Reject with a public reason."""
    if not reason.strip():
        raise ProposalError("reason_required")
    _moderate(actor, proposal, "rejected", {"reason": reason.strip()})
    proposal.rejection_reason = reason.strip()
    proposal.status = S.REJECTED
    db.session.flush()
    return [proposal]


def hide(actor: User, proposal: Proposal, reason: str) -> list[Proposal]:
    """Hide abusive content: the reason is kept, the content is no longer shown."""
    if not reason.strip():
        raise ProposalError("reason_required")
    _moderate(actor, proposal, "hidden", {"reason": reason.strip()},
              allowed_from=MODERATABLE | {S.WITHDRAWN})
    proposal.hidden_reason = reason.strip()
    proposal.status = S.HIDDEN
    db.session.flush()
    return [proposal]


def merge(actor: User, duplicates: list[Proposal], survivor: Proposal) -> list[Proposal]:
    """Merge duplicate proposals into ``survivor``; their authors are credited on it."""
    if not duplicates:
        raise ProposalError("nothing_to_merge")
    if survivor.status not in MODERATABLE - {S.REJECTED}:
        raise ProposalError("wrong_state", status=survivor.status.value)
    for duplicate in duplicates:
        if duplicate.id == survivor.id or duplicate.round_id != survivor.round_id:
            raise ProposalError("merge_mismatch")
    # Check every duplicate before changing any: a refused merge merges none of them.
    if not survivor.round.phase.moderation_open:
        raise ProposalError("moderation_closed")
    for duplicate in duplicates:
        if duplicate.status not in MODERATABLE:
            raise ProposalError("wrong_state", status=duplicate.status.value)
    for duplicate in duplicates:
        _moderate(actor, duplicate, "merged", {"into": survivor.id})
        duplicate.merged_into = survivor
        duplicate.status = S.MERGED
        # Proposals merged into the duplicate follow it to the survivor.
        for earlier in list(duplicate.merged_in):
            earlier.merged_into = survivor
    db.session.flush()
    return list(duplicates)


def credited_authors(proposal: Proposal) -> list[User]:
    """The authors of the proposal and of every proposal merged into it."""
    authors = [proposal.author] if proposal.author else []
    for merged in proposal.merged_in:
        if merged.author and merged.author not in authors:
            authors.append(merged.author)
    return authors


def proposals_of_author(author: User) -> list[Proposal]:
    """A person's own proposals, newest first, with their status."""
    return list(
        db.session.execute(
            select(Proposal).where(Proposal.author_id == author.id).order_by(Proposal.id.desc())
        ).scalars()
    )


def origin_shares(table_id: int) -> dict[ProposalOrigin, int]:
    """How many public proposals each origin put forward across a table's public rounds."""
    rows = db.session.execute(
        select(Proposal.origin, func.count())
        .join(Round, Round.id == Proposal.round_id)
        .where(
            Round.table_id == table_id,
            Round.phase != RoundPhase.DRAFT,
            Proposal.status.not_in([S.HIDDEN, S.WITHDRAWN]),
        )
        .group_by(Proposal.origin)
    ).all()
    counts = dict.fromkeys(ProposalOrigin, 0)
    counts.update(dict(rows))
    return counts
