"""Supports: while a round takes ideas, residents of its table's area support the ideas
they want reviewed, one support per person and idea (a unique key decides between two at
once); a round may set a threshold, applied when review starts: an idea short of it does
not go on the ballot unless a moderator accepts it with a reason (services.proposals).

Who may support: the residents who may vote in the round as residents (the same rule,
``voting.resident_refusal``: signed in, home postal code, or the verified one, in the
table's area, identified or old enough where the round asks), not the idea's author.
Only counts are shown; who supported is never shown to anyone.
"""

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    Proposal,
    ProposalStatus,
    ProposalSupport,
    Round,
    RoundPhase,
    User,
)
from pb_vote.services.audit import record_event
from pb_vote.services.voting import resident_refusal

S = ProposalStatus
# Ideas still in the running: these can be supported, and the threshold applies to them
# (a rejected one too: reconsidering it would otherwise skip the threshold).
SUPPORTABLE = frozenset({S.SUBMITTED, S.CHANGES_REQUESTED, S.ACCEPTED})
THRESHOLD_APPLIES = SUPPORTABLE | {S.REJECTED}


class SupportError(ServiceError):
    """Supporting an idea was refused."""


def supports_open(round_: Round) -> bool:
    """Whether ideas of ``round_`` can be supported now: supports are on and the round
    takes ideas (its phase follows the server's clock, see rounds.sync_phase)."""
    return round_.supports_enabled and round_.phase is RoundPhase.PROPOSALS


def support_refusal(user: User | None, proposal: Proposal) -> str | None:
    """Why ``user`` cannot support (or take back a support of) ``proposal``, or None:
    "supports_off", "supports_closed", "not_supportable", "sign_in", "own_idea", or a
    resident refusal of ``voting.resident_refusal`` ("outside_area", "no_postal_code",
    "codes_only", "identify", ...)."""
    round_ = proposal.round
    if not round_.supports_enabled:
        return "supports_off"
    if round_.phase is not RoundPhase.PROPOSALS:
        return "supports_closed"
    if proposal.status not in SUPPORTABLE:
        return "not_supportable"
    if user is None or not user.is_authenticated:
        return "sign_in"
    if proposal.author_id == user.id:
        return "own_idea"
    return resident_refusal(user, round_)


# The refusals that are the supports' own; the others are a resident refusal of voting,
# raised as "support_<code>" (the words differ from the ballot's).
OWN_REFUSALS = frozenset({"supports_off", "supports_closed", "not_supportable", "own_idea"})


def _check(user: User, proposal: Proposal) -> None:
    refusal = support_refusal(user, proposal)
    if refusal is not None:
        raise SupportError(refusal if refusal in OWN_REFUSALS else f"support_{refusal}",
                           postal_code=user.home_postal_code or "")


def support(user: User, proposal: Proposal) -> bool:
    """Support ``proposal`` (flushed); returns False when ``user`` already did (the unique
    key decides between two requests at once: the second stores nothing)."""
    _check(user, proposal)
    try:
        with db.session.begin_nested():
            db.session.add(ProposalSupport(proposal_id=proposal.id, user_id=user.id))
            db.session.flush()
    except IntegrityError:
        return False
    return True


def withdraw_support(user: User, proposal: Proposal) -> bool:
    """Take back ``user``'s support of ``proposal``; returns whether there was one."""
    _check(user, proposal)
    result = db.session.execute(delete(ProposalSupport).where(
        ProposalSupport.proposal_id == proposal.id, ProposalSupport.user_id == user.id))
    return result.rowcount > 0


def support_count(proposal: Proposal) -> int:
    """How many people support ``proposal``."""
    return db.session.execute(select(func.count()).select_from(ProposalSupport).where(
        ProposalSupport.proposal_id == proposal.id)).scalar_one()


def support_counts(round_: Round) -> dict[int, int]:
    """Supports of each idea of ``round_`` that has any: {proposal id: count}."""
    rows = db.session.execute(
        select(ProposalSupport.proposal_id, func.count())
        .join(Proposal, Proposal.id == ProposalSupport.proposal_id)
        .where(Proposal.round_id == round_.id)
        .group_by(ProposalSupport.proposal_id)).all()
    return dict(rows)


def supported_by(user: User | None, round_: Round) -> set[int]:
    """The ideas of ``round_`` that ``user`` supports (for their own buttons only)."""
    if user is None or not user.is_authenticated:
        return set()
    return set(db.session.execute(
        select(ProposalSupport.proposal_id)
        .join(Proposal, Proposal.id == ProposalSupport.proposal_id)
        .where(Proposal.round_id == round_.id, ProposalSupport.user_id == user.id)
    ).scalars())


def apply_threshold(round_: Round) -> list[int]:
    """At the start of review: mark the ideas of ``round_`` still in the running with
    fewer supports than its threshold as short of supports (one accepted early goes back
    to waiting for review: off the ballot), audited with the threshold and the counts.
    Returns the ids marked. Nothing happens without supports or a threshold."""
    threshold = round_.support_threshold
    if not round_.supports_enabled or not threshold:
        return []
    counts = support_counts(round_)
    proposals = db.session.execute(
        select(Proposal).where(Proposal.round_id == round_.id,
                               Proposal.status.in_(THRESHOLD_APPLIES))
        .order_by(Proposal.id)).scalars().all()
    short = [p for p in proposals if counts.get(p.id, 0) < threshold]
    for proposal in short:
        if proposal.status is S.ACCEPTED:
            proposal.status = S.SUBMITTED
        proposal.short_of_supports = True
    db.session.flush()
    record_event(None, "round.support_threshold_applied", "round", round_.id,
                 table_id=round_.table_id,
                 details={"threshold": threshold,
                          "reached": [p.id for p in proposals if p not in short],
                          "short": [p.id for p in short],
                          "counts": {str(p.id): counts.get(p.id, 0) for p in proposals}})
    return [p.id for p in short]
