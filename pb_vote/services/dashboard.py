"""The staff dashboard: for each table a person works for (every table for a city admin),
its current rounds with their phase, the next date of their schedule, what waits for
moderation and the turnout so far.

It reads a fixed number of queries whatever the number of tables and rounds: the tables,
their rounds, one count of the proposals by round and status, one sum of the turnout the
database keeps (``turnout_counts``) by round and channel. No participation is read.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pb_vote.extensions import db
from pb_vote.models import (
    MembershipRole,
    Proposal,
    ProposalStatus,
    Round,
    RoundPhase,
    Table,
    TableMembership,
    TurnoutCount,
    User,
    VoteChannel,
)

P = RoundPhase
# Finished rounds (published, cancelled) stay on the dashboard this long after their last
# change; older ones are on the table's own page.
RECENT_DAYS = 60
# Phases in which ballots exist, so turnout is worth showing.
WITH_BALLOTS = frozenset({P.VOTING, P.CLOSED, P.PUBLISHED})
# The schedule's next date in each phase, and what happens then.
NEXT_DATE = {
    P.DRAFT: ("proposals_open_at", "ideas_open"),
    P.PROPOSALS: ("proposals_close_at", "review_starts"),
    P.REVIEW: ("voting_open_at", "voting_opens"),
    P.VOTING: ("voting_close_at", "voting_closes"),
}


@dataclass
class RoundSummary:
    """One round on the dashboard."""

    round: Round
    next_event: str | None  # "ideas_open", "review_starts", "voting_opens", "voting_closes"
    next_at: datetime | None  # when, in UTC (shown in the round's time zone)
    waiting: int  # proposals submitted and waiting for a moderator (moderation open)
    changes_requested: int  # proposals the author has been asked to change
    accepted: int  # proposals on the ballot
    ballots: dict[VoteChannel, int]  # ballots by channel, from the kept turnout
    eligible_residents: int | None  # the table's recorded number, if any

    @property
    def total_ballots(self) -> int:
        """Every ballot so far, all channels."""
        return sum(self.ballots.values())

    @property
    def eligible_share(self) -> float | None:
        """Ballots as a share of the residents entitled to vote, where the table records
        their number."""
        if not self.eligible_residents:
            return None
        return self.total_ballots / self.eligible_residents

    @property
    def shows_turnout(self) -> bool:
        """Whether ballots can exist (voting opened, and the round was not cancelled)."""
        return self.round.phase in WITH_BALLOTS

    @property
    def empty_ballot(self) -> bool:
        """Under review with nothing accepted: the schedule will not open voting."""
        return self.round.phase is P.REVIEW and self.accepted == 0


@dataclass
class TableSummary:
    """One table on the dashboard: the person's role there (None for a city admin who
    holds none), its current rounds (newest first), and how many older ones it has."""

    table: Table
    role: MembershipRole | None
    rounds: list[RoundSummary] = field(default_factory=list)
    earlier: int = 0

    @property
    def waiting(self) -> int:
        """Proposals of the table waiting for a moderator, over its rounds."""
        return sum(summary.waiting for summary in self.rounds)


def staff_tables(user: User) -> list[Table]:
    """The tables ``user`` works for (every table for a city admin), by name, with their
    rounds loaded: two queries."""
    statement = select(Table).options(selectinload(Table.rounds)).order_by(Table.name)
    if not user.is_city_admin:
        statement = statement.where(Table.id.in_(
            select(TableMembership.table_id).where(TableMembership.user_id == user.id)))
    return list(db.session.execute(statement).scalars())


def is_current(round_: Round, now: datetime) -> bool:
    """Whether a round belongs on the dashboard: not finished, or finished lately."""
    if round_.phase not in (P.PUBLISHED, P.CANCELLED):
        return True
    return round_.updated_at >= now - timedelta(days=RECENT_DAYS)


def _proposal_counts(rounds: list[Round]) -> dict[int, dict[ProposalStatus, int]]:
    """Proposals by status, for the rounds whose moderation is open: one query."""
    wanted = [round_.id for round_ in rounds if round_.phase.moderation_open]
    counts: dict[int, dict[ProposalStatus, int]] = defaultdict(dict)
    if not wanted:
        return counts
    for round_id, status, number in db.session.execute(
            select(Proposal.round_id, Proposal.status, func.count())
            .where(Proposal.round_id.in_(wanted),
                   Proposal.status.in_([ProposalStatus.SUBMITTED,
                                        ProposalStatus.CHANGES_REQUESTED,
                                        ProposalStatus.ACCEPTED]))
            .group_by(Proposal.round_id, Proposal.status)):
        counts[round_id][ProposalStatus(status)] = number
    return counts


def _ballots(rounds: list[Round]) -> dict[int, dict[VoteChannel, int]]:
    """Ballots by round and channel from the counts the database keeps (``turnout_counts``,
    a few rows per round and hour): one query, no participation read."""
    wanted = [round_.id for round_ in rounds if round_.phase in WITH_BALLOTS]
    ballots: dict[int, dict[VoteChannel, int]] = defaultdict(dict)
    if not wanted:
        return ballots
    for round_id, channel, number in db.session.execute(
            select(TurnoutCount.round_id, TurnoutCount.channel, func.sum(TurnoutCount.voters))
            .where(TurnoutCount.round_id.in_(wanted))
            .group_by(TurnoutCount.round_id, TurnoutCount.channel)):
        if number:
            ballots[round_id][VoteChannel(channel)] = int(number)
    return ballots


def summarize(user: User, tables: list[Table], now: datetime) -> list[TableSummary]:
    """The dashboard of ``user`` over ``tables`` (as ``staff_tables`` gives them, rounds
    loaded): two more queries, whatever their number."""
    current = {table.id: [r for r in table.rounds if is_current(r, now)] for table in tables}
    shown = [round_ for rounds in current.values() for round_ in rounds]
    counts, ballots = _proposal_counts(shown), _ballots(shown)
    summaries = []
    for table in tables:
        summary = TableSummary(table, user.role_at(table.id),
                               earlier=len(table.rounds) - len(current[table.id]))
        for round_ in current[table.id]:
            column, event = NEXT_DATE.get(round_.phase, (None, None))
            statuses = counts.get(round_.id, {})
            by_channel = ballots.get(round_.id, {})
            summary.rounds.append(RoundSummary(
                round=round_, next_event=event,
                next_at=getattr(round_, column) if column else None,
                waiting=statuses.get(ProposalStatus.SUBMITTED, 0),
                changes_requested=statuses.get(ProposalStatus.CHANGES_REQUESTED, 0),
                accepted=statuses.get(ProposalStatus.ACCEPTED, 0),
                ballots={channel: by_channel.get(channel, 0) for channel in VoteChannel},
                eligible_residents=table.eligible_residents,
            ))
        summaries.append(summary)
    return summaries
