"""Read-only queries for the public pages and the API: tables and their public rounds."""

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pb_vote.extensions import db
from pb_vote.models import Proposal, ProposalOrigin, ProposalStatus, Round, RoundPhase, Table

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


def current_round(table: Table) -> Round | None:
    """The round to feature for a table: the newest public round that is not cancelled."""
    for round_ in public_rounds(table):
        if round_.phase is not RoundPhase.CANCELLED:
            return round_
    return None


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
