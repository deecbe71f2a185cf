"""Read-only queries for the public pages and the API: tables and their public rounds."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pb_vote.extensions import db
from pb_vote.models import (
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Publication,
    Round,
    RoundPhase,
    Table,
)

PUBLIC_PROPOSAL_STATUSES = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.CHANGES_REQUESTED,
    ProposalStatus.ACCEPTED,
    ProposalStatus.REJECTED,
    ProposalStatus.MERGED,
)


def list_tables() -> list[Table]:
    """Every partnership table, by name, with its rounds loaded."""
    return list(
        db.session.execute(
            select(Table).options(selectinload(Table.rounds), selectinload(Table.area))
            .order_by(Table.name)
        ).scalars()
    )


def table_by_slug(slug: str) -> Table | None:
    """The table with this slug, or None."""
    return db.session.execute(select(Table).where(Table.slug == slug)).scalar_one_or_none()


def public_rounds(table: Table) -> list[Round]:
    """A table's rounds that anyone may see (not drafts), newest first."""
    return [r for r in table.rounds if r.phase.is_public]


SORTS = {
    "newest": (Proposal.id.desc(),),
    "oldest": (Proposal.id,),
    "title": (func.lower(Proposal.title), Proposal.id),
    "cost": (func.coalesce(Proposal.reviewed_cost_cents, Proposal.estimated_cost_cents),
             Proposal.id),
}


def public_proposals(
    round_: Round,
    *,
    query: str = "",
    category: str | None = None,
    sort: str = "newest",
    statuses=PUBLIC_PROPOSAL_STATUSES,
    origin: ProposalOrigin | None = None,
) -> list[Proposal]:
    """The proposals of a round that anyone may see (not hidden or withdrawn), searched in
    title and description, filtered by category (and origin), sorted."""
    statement = select(Proposal).where(
        Proposal.round_id == round_.id, Proposal.status.in_(statuses)
    )
    if query.strip():
        pattern = "%" + query.strip().lower().replace("%", "").replace("_", "") + "%"
        statement = statement.where(
            func.lower(Proposal.title).like(pattern)
            | func.lower(Proposal.description).like(pattern)
        )
    if category:
        statement = statement.where(Proposal.category == category)
    if origin is not None:
        statement = statement.where(Proposal.origin == origin)
    statement = statement.order_by(*SORTS.get(sort, SORTS["newest"]))
    return list(db.session.execute(statement).scalars())


def ballot(round_: Round) -> list[Proposal]:
    """The accepted proposals: the ballot once voting opens."""
    return public_proposals(round_, sort="title", statuses=(ProposalStatus.ACCEPTED,))


# How long a round's results stay on the front page after their last publication.
RECENT_RESULTS_DAYS = 60
# The front page's groups, in the order it shows them: what a resident can do now first.
HOME_GROUPS = ("voting", "proposals", "results", "coming")


def last_published(tables: list[Table]) -> dict[int, datetime]:
    """When each published round of ``tables`` (rounds loaded) last published its results
    (UTC), by round id: one query of the publications' summaries."""
    published = [r.id for table in tables for r in table.rounds
                 if r.phase is RoundPhase.PUBLISHED]
    if not published:
        return {}
    return {round_id: as_utc(moment) for round_id, moment in db.session.execute(
        select(Publication.round_id, func.max(Publication.published_at))
        .where(Publication.round_id.in_(published)).group_by(Publication.round_id))}


def rounds_to_act_on(tables: list[Table], now: datetime,
                     when: dict[int, datetime]) -> dict[str, list[Round]]:
    """Every public round of ``tables`` (with their rounds loaded) that a resident can do
    something with now, by what: "voting" (vote, soonest closing first), "proposals"
    (propose an idea, soonest closing first), "results" (published, by ``when``, in the
    last RECENT_RESULTS_DAYS days, newest first) and "coming" (ideas under review, soonest
    vote first, then votes being counted). Drafts, cancelled rounds and old results are
    left to the tables' pages."""
    rounds = [r for table in tables for r in public_rounds(table)]
    recent = now - timedelta(days=RECENT_RESULTS_DAYS)
    groups: dict[str, list[Round]] = {name: [] for name in HOME_GROUPS}
    for round_ in rounds:
        if round_.phase is RoundPhase.VOTING:
            groups["voting"].append(round_)
        elif round_.phase is RoundPhase.PROPOSALS:
            groups["proposals"].append(round_)
        elif round_.phase is RoundPhase.PUBLISHED and when.get(round_.id, recent) > recent:
            groups["results"].append(round_)
        elif round_.phase in (RoundPhase.REVIEW, RoundPhase.CLOSED):
            groups["coming"].append(round_)
    groups["voting"].sort(key=lambda r: _soonest(r.voting_close_at, r.id))
    groups["proposals"].sort(key=lambda r: _soonest(r.proposals_close_at, r.id))
    groups["results"].sort(key=lambda r: (when[r.id], r.id), reverse=True)
    groups["coming"].sort(key=lambda r: (r.phase is RoundPhase.CLOSED,
                                         *_soonest(r.voting_open_at, r.id)))
    return groups


def _soonest(moment: datetime | None, round_id: int) -> tuple:
    """A sort key: the earliest time first, rounds without one last."""
    return (moment is None, as_utc(moment) if moment else datetime.min.replace(tzinfo=UTC),
            round_id)


def as_utc(moment: datetime) -> datetime:
    """A timestamp as an aware UTC datetime (SQLite's aggregates come back naive)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
