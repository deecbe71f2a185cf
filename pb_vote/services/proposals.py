"""Proposals: residents submit, edit and withdraw ideas; staff add them for the table or
the city; members moderate and review them. Every staff action is audited with who and why.

Functions return the proposals whose status changed, so the caller can notify the authors.

Every change of an existing proposal is a conditional update on the status it was decided
from: when someone else acted on the proposal at the same moment (two moderators, or the
author and a moderator), the later action changes nothing and is refused
(``acted_meanwhile``). Moderation also holds the round, so its phase cannot move under it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    LANGUAGES,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Round,
    RoundPhase,
    User,
)
from pb_vote.services.audit import record_event
from pb_vote.services.locking import locked
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
    language: str | None = None  # fi, sv or en; None: the round's main language


def _check_draft(round_: Round, draft: ProposalDraft) -> None:
    if not draft.title.strip():
        raise ProposalError("title_required")
    if draft.estimated_cost_cents <= 0:
        raise ProposalError("cost_not_positive")
    if draft.estimated_cost_cents > round_.budget_cents:
        raise ProposalError("cost_above_budget")
    if round_.categories and draft.category not in round_.categories:
        raise ProposalError("unknown_category")


def _written(draft: ProposalDraft) -> dict:
    """The columns an author's draft sets (the language only when it names one)."""
    language = {"language": draft.language} if draft.language in LANGUAGES else {}
    return {
        **language,
        "title": draft.title.strip(),
        "description": draft.description.strip(),
        "estimated_cost_cents": draft.estimated_cost_cents,
        "category": draft.category or None,
        "location": (draft.location or "").strip(),
        "link": (draft.link or "").strip() or None,
    }


def _change_if_unchanged(proposal: Proposal, seen: ProposalStatus, values: dict) -> None:
    """Write ``values`` to the proposal only if its status is still ``seen``, the one the
    change was decided from (one conditional UPDATE; it waits for anyone changing the row
    at the same moment, then finds their status). Raises ProposalError("acted_meanwhile")
    when the status moved meanwhile. The object is reloaded on its next use."""
    changed = db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == seen)
        .values(**values, updated_at=clock.utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise ProposalError("acted_meanwhile")
    db.session.expire(proposal)


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
    proposal = Proposal(round=round_, author=author, origin=origin, status=S.SUBMITTED,
                        **{"language": round_.main_language, **_written(draft)})
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
    seen = proposal.status
    values = _written(draft)
    if seen is S.CHANGES_REQUESTED:
        values["status"] = S.SUBMITTED
    _change_if_unchanged(proposal, seen, values)
    return [proposal] if seen is S.CHANGES_REQUESTED else []


def withdraw_proposal(author: User, proposal: Proposal) -> list[Proposal]:
    """The author withdraws their idea, until review starts."""
    if proposal.author_id != author.id:
        raise ProposalError("not_author")
    if proposal.status not in (S.SUBMITTED, S.CHANGES_REQUESTED) or not proposal_window_open(
        proposal.round, clock.utcnow()
    ):
        raise ProposalError("window_closed")
    _change_if_unchanged(proposal, proposal.status, {"status": S.WITHDRAWN})
    return [proposal]


def _hold_round(round_: Round) -> None:
    """Hold the round while moderating, and check that it still takes moderation: its phase
    cannot move until this commits (PostgreSQL: the row FOR SHARE, as a ballot holds it;
    SQLite: the write lock), so nothing reaches a ballot that voting has fixed."""
    locked(select(Round).where(Round.id == round_.id), share=True)
    if not round_.phase.moderation_open:
        raise ProposalError("moderation_closed")


def _moderate(actor: User, proposal: Proposal, action: str, details: dict, values: dict,
              allowed_from=MODERATABLE, seen: ProposalStatus | None = None) -> None:
    """One moderation action: the round held, the proposal changed only from the status it
    was decided from (``seen``: the one the moderator's page showed; by default the one
    this request read), the action audited."""
    seen = seen or proposal.status
    _hold_round(proposal.round)
    if seen not in allowed_from:
        raise ProposalError("wrong_state", status=seen.value)
    _change_if_unchanged(proposal, seen, values)
    record_event(actor, f"proposal.{action}", "proposal", proposal.id,
                 table_id=proposal.round.table_id, details=details)


def _check_reviewed_cost(proposal: Proposal, reviewed_cost_cents: int | None) -> None:
    if reviewed_cost_cents is None or reviewed_cost_cents <= 0:
        raise ProposalError("cost_not_positive")
    if reviewed_cost_cents > proposal.round.budget_cents:
        raise ProposalError("cost_above_budget")


def accept(actor: User, proposal: Proposal, reviewed_cost_cents: int,
           public_note: str = "", *, seen: ProposalStatus | None = None,
           reason: str = "", support_override: str = "") -> list[Proposal]:
    """Put a proposal on the ballot with its reviewed cost (required) and a public note.
    ``seen``, here and in every moderation action: the status the moderator decided from.
    ``reason``: why, for the audit trail only (a bulk decision's stated reason). An idea
    short of the round's supports (services.supports) goes on the ballot only with
    ``support_override``, the moderator's reason (audited), else ``short_of_supports``."""
    _check_reviewed_cost(proposal, reviewed_cost_cents)
    details = {"reviewed_cost_cents": reviewed_cost_cents, "note": public_note}
    values = {"reviewed_cost_cents": reviewed_cost_cents, "public_note": public_note.strip(),
              "status": S.ACCEPTED}
    if reason.strip():
        details["reason"] = reason.strip()
    if proposal.short_of_supports:
        if not support_override.strip():
            raise ProposalError("short_of_supports",
                                threshold=proposal.round.support_threshold or 0)
        details["support_override"] = support_override.strip()
        values["short_of_supports"] = False
    _moderate(actor, proposal, "accepted", details, values, seen=seen)
    return [proposal]


# A cost is reviewed ahead of the decision on a proposal not (or no longer) on the ballot;
# on the ballot, accepting again changes it.
COST_REVIEWABLE = frozenset({S.SUBMITTED, S.CHANGES_REQUESTED, S.REJECTED})


def review_cost(actor: User, proposal: Proposal, reviewed_cost_cents: int, note: str = "",
                *, seen: ProposalStatus | None = None) -> None:
    """Write the reviewed cost of a proposal before deciding on it (its status stays): a
    later accept, single or in bulk, puts it on the ballot at this cost. ``note`` says
    where the figure comes from, for the staff's history only."""
    _check_reviewed_cost(proposal, reviewed_cost_cents)
    details = {"reviewed_cost_cents": reviewed_cost_cents}
    if note.strip():
        details["internal_note"] = note.strip()
    _moderate(actor, proposal, "cost_reviewed", details,
              {"reviewed_cost_cents": reviewed_cost_cents}, allowed_from=COST_REVIEWABLE,
              seen=seen)


BULK_ACTIONS = ("accept", "reject")


@dataclass
class BulkOutcome:
    """What a bulk decision did: the proposals it changed, and those it left as they were,
    each with the refusal that says why."""

    done: list[Proposal]
    refused: list[tuple[Proposal, ProposalError]]


def bulk_moderate(actor: User, chosen: list[tuple[Proposal, ProposalStatus | None]],
                  action: str, reason: str) -> BulkOutcome:
    """Accept or reject several proposals with one stated reason, each by the same rules
    as one at a time: accepting needs the reviewed cost already written (a cost review, or
    an earlier acceptance), and puts the proposal on the ballot at that cost; rejecting
    makes the reason the public one. ``chosen``: each proposal with the status its page
    showed. A proposal that cannot be done is left as it was and reported; the rest are
    done (a refusal is raised before anything of that proposal is written)."""
    if action not in BULK_ACTIONS:
        raise ProposalError("unknown_action")
    if not reason.strip():
        raise ProposalError("reason_required")
    if not chosen:
        raise ProposalError("nothing_chosen")
    outcome = BulkOutcome([], [])
    for proposal, seen in sorted(chosen, key=lambda pair: pair[0].id):
        try:
            shown = seen or proposal.status
            if shown not in MODERATABLE:
                raise ProposalError("wrong_state", status=shown.value)
            if shown is (S.ACCEPTED if action == "accept" else S.REJECTED):
                raise ProposalError("already_so")
            if action == "accept":
                if proposal.reviewed_cost_cents is None:
                    raise ProposalError("no_reviewed_cost")
                accept(actor, proposal, proposal.reviewed_cost_cents,
                       proposal.public_note or "", seen=seen, reason=reason)
            else:
                reject(actor, proposal, reason, seen=seen)
        except ProposalError as error:
            if error.code == "moderation_closed":
                raise  # the round's phase: true of every proposal, nothing is done
            outcome.refused.append((proposal, error))
        else:
            outcome.done.append(proposal)
    return outcome


def request_changes(actor: User, proposal: Proposal, message: str, *,
                    seen: ProposalStatus | None = None) -> list[Proposal]:
    """Ask the author for changes; the message is shown to the author."""
    if not message.strip():
        raise ProposalError("reason_required")
    _moderate(actor, proposal, "changes_requested", {"message": message.strip()},
              {"change_request": message.strip(), "status": S.CHANGES_REQUESTED}, seen=seen)
    return [proposal]


def reject(actor: User, proposal: Proposal, reason: str, *,
           seen: ProposalStatus | None = None) -> list[Proposal]:
    """Reject with a public reason."""
    if not reason.strip():
        raise ProposalError("reason_required")
    _moderate(actor, proposal, "rejected", {"reason": reason.strip()},
              {"rejection_reason": reason.strip(), "status": S.REJECTED}, seen=seen)
    return [proposal]


def hide(actor: User, proposal: Proposal, reason: str, *,
         seen: ProposalStatus | None = None) -> list[Proposal]:
    """Hide abusive content: the reason is kept, the content is no longer shown."""
    if not reason.strip():
        raise ProposalError("reason_required")
    _moderate(actor, proposal, "hidden", {"reason": reason.strip()},
              {"hidden_reason": reason.strip(), "status": S.HIDDEN},
              allowed_from=MODERATABLE | {S.WITHDRAWN}, seen=seen)
    return [proposal]


def merge(actor: User, duplicates: list[Proposal], survivor: Proposal, *,
          seen: ProposalStatus | None = None) -> list[Proposal]:
    """Merge duplicate proposals into ``survivor``; their authors are credited on it.

    The survivor must still have the status it was decided from (``seen``, by default the
    one this request read; its row is touched to hold it), and every duplicate the status
    this request read: merged while someone hides, merges or moves one of them, the later
    action is refused and nothing is merged (the caller rolls back, as on any refusal)."""
    duplicates = list({duplicate.id: duplicate for duplicate in duplicates}.values())
    if not duplicates:
        raise ProposalError("nothing_to_merge")
    survivor_seen = seen or survivor.status
    if survivor_seen not in MODERATABLE - {S.REJECTED}:
        raise ProposalError("wrong_state", status=survivor_seen.value)
    for duplicate in duplicates:
        if duplicate.id == survivor.id or duplicate.round_id != survivor.round_id:
            raise ProposalError("merge_mismatch")
    # Check every duplicate before changing any: a refused merge merges none of them.
    decided_from = {proposal.id: proposal.status for proposal in duplicates} | {
        survivor.id: survivor_seen}
    _hold_round(survivor.round)
    for duplicate in duplicates:
        if decided_from[duplicate.id] not in MODERATABLE:
            raise ProposalError("wrong_state", status=decided_from[duplicate.id].value)
    # In id order, so two merges of overlapping proposals wait for each other rather than
    # lock each other out.
    for proposal in sorted((survivor, *duplicates), key=lambda p: p.id):
        values = {} if proposal is survivor else {"status": S.MERGED,
                                                   "merged_into_id": survivor.id}
        _change_if_unchanged(proposal, decided_from[proposal.id], values)
    # Proposals merged into a duplicate follow it to the survivor (read now, under the
    # duplicates' locks, so one merged into a duplicate at the same moment follows too).
    db.session.execute(
        update(Proposal)
        .where(Proposal.merged_into_id.in_([duplicate.id for duplicate in duplicates]))
        .values(merged_into_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    for loaded in list(db.session.identity_map.values()):
        if isinstance(loaded, Proposal):
            db.session.expire(loaded)  # merged_into and merged_in are read again
    for duplicate in duplicates:
        record_event(actor, "proposal.merged", "proposal", duplicate.id,
                     table_id=survivor.round.table_id, details={"into": survivor.id})
    return duplicates


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


def last_changed(round_: Round) -> datetime | None:
    """When a proposal of ``round_`` last changed (None without proposals): pages kept
    rendered are rendered again after it."""
    return db.session.execute(
        select(func.max(Proposal.updated_at)).where(Proposal.round_id == round_.id)
    ).scalar()
