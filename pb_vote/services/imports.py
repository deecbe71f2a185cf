"""Replaying a real election: a Pabulib file becomes a closed round of a table, so anyone
can count, publish and check a real city's vote in pb_vote (``flask import-pabulib``).

Projects become accepted proposals with their costs (whole currency units, stored as
cents); every vote becomes an anonymous ballot, sealed with the configured keys like any
other, with a participation of channel ``import`` (no person, no code, no receipt).
Approval votes stay approval ballots; ordinal votes (Kraków's three ranked choices) become
points ballots worth L, L-1, ... points, which is how Pabulib scores them, and cumulative or
scoring votes keep their points. The file's rule gives the round's rule where pb_vote has it
(``greedy``); every other rule is counted with equal shares.

The round goes through the phases as any other does (``rounds.transition``: review, voting,
closed), so the audit trail shows the import and each move, and the phase rules hold.
"""

import secrets
from datetime import UTC, datetime, timedelta

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    Ballot,
    BallotKind,
    Participation,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Round,
    RoundPhase,
    Table,
    TallyRule,
    User,
    VoteChannel,
)
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.rounds import transition
from pb_vote.services.voting import ballot_size, ballot_spec
from pb_vote.tally import Election, VoteType


def _date(text: str, fallback: datetime) -> datetime:
    try:
        return datetime.strptime(text.strip(), "%d.%m.%Y").replace(tzinfo=UTC)
    except ValueError:
        return fallback


def _points(election: Election, ballot, length: int) -> tuple[int, ...] | None:
    """A vote's points; ``length`` is the file's ordinal length (computed once by the
    caller: ``Election.ordinal_length`` reads every ballot)."""
    if election.vote_type is VoteType.ORDINAL:
        return tuple(length - position for position in range(len(ballot.projects)))
    return tuple(int(p) for p in ballot.points) if ballot.points is not None else None


class ImportRefused(ServiceError):
    """A Pabulib file cannot be replayed as a round."""


def _cents(amount: int, scale: int) -> int:
    """An amount of the file (``scale`` units per currency unit) in whole cents."""
    cents, rest = divmod(amount * 100, scale)
    if rest:
        raise ImportRefused("amount_below_a_cent")
    return cents


def import_election(election: Election, table: Table, keys: VoteKeys, title: str,
                    actor: User | None = None) -> Round:
    """A closed round of ``table`` holding ``election``, imported by ``actor`` (None: the
    command line), audited (flushes; the caller commits). A file without projects is
    refused (``no_projects``): its round could never open for voting."""
    if not election.projects:
        raise ImportRefused("no_projects")
    points = election.vote_type is not VoteType.APPROVAL
    length = election.ordinal_length if election.vote_type is VoteType.ORDINAL else 0
    ballots = [(b.projects, _points(election, b, length)) for b in election.ballots
               if b.projects]
    longest = max((len(projects) for projects, _ in ballots), default=1)
    most_points = max((sum(p) for _, p in ballots if p), default=1)
    most_each = max((max(p) for _, p in ballots if p), default=1)
    scale = getattr(election, "unit_scale", 1)  # a file with decimals: amounts x 10^d
    now = clock.utcnow().replace(microsecond=0)
    close = _date(election.meta.get("date_end", ""), now - timedelta(days=1))
    opened = min(_date(election.meta.get("date_begin", ""), close - timedelta(days=14)), close)
    rule = str(election.meta.get("rule", ""))
    round_ = Round(
        table=table, title=title[:200], description=str(election.meta.get("description", "")),
        budget_cents=_cents(election.budget, scale), phase=RoundPhase.REVIEW,
        currency=(str(election.meta.get("currency", "")) or "EUR")[:3].upper(),
        proposals_open_at=opened - timedelta(days=60), proposals_close_at=opened - timedelta(
            days=30), voting_open_at=opened, voting_close_at=close + timedelta(seconds=1),
        categories=[], tally_rule=TallyRule.GREEDY if rule == "greedy" else TallyRule.MES,
        ballot_kind=BallotKind.POINTS if points else BallotKind.APPROVAL,
        approval_min=None if points else 1, approval_max=None if points else longest,
        points_total=most_points if points else None,
        points_max_per_proposal=most_each if points else None,
    )
    db.session.add(round_)
    db.session.flush()
    record_event(actor, "round.imported", "round", round_.id, table_id=table.id,
                 details={"title": round_.title, "budget_cents": round_.budget_cents,
                          "proposals": len(election.projects), "ballots": len(ballots)})
    ids = {}
    for project in election.projects:
        proposal = Proposal(
            round=round_, origin=ProposalOrigin.CITY, title=project.name[:200],
            description=project.fields.get("description", "") or project.name,
            estimated_cost_cents=_cents(project.cost, scale),
            reviewed_cost_cents=_cents(project.cost, scale),
            category=(project.fields.get("category") or None), status=ProposalStatus.ACCEPTED)
        db.session.add(proposal)
        db.session.flush()
        ids[project.id] = proposal.id
    for phase in (RoundPhase.VOTING, RoundPhase.CLOSED):
        transition(actor, round_, phase, reason="import")
    size = ballot_size(ballot_spec(round_))
    for projects, values in ballots:
        choices = {str(ids[p]): (values[n] if values else 1) for n, p in enumerate(projects)}
        voter_key = secrets.token_hex(32)
        db.session.add(Ballot(id=secrets.token_hex(16), round_id=round_.id,
                              voter_key=voter_key, sealed=keys.keyring.seal(
                                  choices, round_id=round_.id, voter_key=voter_key,
                                  size=size)))
        db.session.add(Participation(round_id=round_.id, channel=VoteChannel.IMPORT,
                                     first_voted_at=close, last_voted_at=close))
    db.session.flush()
    return round_
