"""Build a whole scenario in one call. Each helper flushes, so ids exist; tests commit."""

from datetime import timedelta

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    MembershipRole,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Round,
    RoundPhase,
    Table,
    TableMembership,
    User,
)
from pb_vote.services import accounts

STAFF_PASSWORD = "correct horse battery staple"
_STAFF_HASHES: dict = {}


def _staff_hash() -> str:
    """STAFF_PASSWORD hashed once per hasher: the tests' cheap one (see conftest), or the
    service's own when a benchmark seeds its database."""
    hasher = accounts.PASSWORD_HASHER
    if hasher not in _STAFF_HASHES:
        _STAFF_HASHES[hasher] = hasher.hash(STAFF_PASSWORD)
    return _STAFF_HASHES[hasher]


def table(slug: str = "keskusta", name: str | None = None, postal_codes=("15100",)) -> Table:
    """A partnership table."""
    row = Table(slug=slug, name=name or slug.title(), description=f"The {slug} area.")
    row.postal_codes = list(postal_codes)
    db.session.add(row)
    db.session.flush()
    return row


def user(
    email: str = "resident@example.org",
    *,
    postal_code: str | None = "15100",
    role: MembershipRole | str | None = None,
    at: Table | None = None,
    city_admin: bool = False,
    language: str = "en",
) -> User:
    """A person: a resident, or staff (with the shared test password) when given a role."""
    person = User(
        email=email.lower(),
        display_name=email.split("@")[0].title(),
        postal_code=postal_code,
        language=language,
        is_city_admin=city_admin,
    )
    if role is not None or city_admin:
        person.password_hash = _staff_hash()
    db.session.add(person)
    db.session.flush()
    if role is not None:
        db.session.add(TableMembership(user=person, table=at, role=MembershipRole(role)))
        db.session.flush()
    return person


def round_(
    at: Table,
    phase: RoundPhase = RoundPhase.PROPOSALS,
    *,
    title: str = "Round 2027",
    budget_cents: int = 10_000_000,
    **settings,
) -> Round:
    """A round whose schedule matches its phase relative to now; ``settings`` override
    any other column (ballot kind, categories...)."""
    now = clock.utcnow().replace(microsecond=0)
    offsets = {
        RoundPhase.DRAFT: 10,
        RoundPhase.PROPOSALS: -5,
        RoundPhase.REVIEW: -35,
        RoundPhase.VOTING: -50,
        RoundPhase.CLOSED: -70,
        RoundPhase.PUBLISHED: -80,
        RoundPhase.CANCELLED: -5,
    }
    start = now + timedelta(days=offsets[phase])
    row = Round(
        table=at,
        title=title,
        description="A test round.",
        budget_cents=budget_cents,
        phase=phase,
        proposals_open_at=start,
        proposals_close_at=start + timedelta(days=30),
        voting_open_at=start + timedelta(days=44),
        voting_close_at=start + timedelta(days=58),
        categories=["Parks", "Sports", "Culture", "Traffic"],
        approval_min=1,
        approval_max=5,
    )
    for name, value in settings.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.flush()
    return row


def proposal(
    in_round: Round,
    *,
    author: User | None = None,
    origin: ProposalOrigin = ProposalOrigin.RESIDENT,
    title: str = "Benches by the lake",
    cost_cents: int = 500_000,
    status: ProposalStatus = ProposalStatus.SUBMITTED,
    category: str | None = "Parks",
) -> Proposal:
    """A proposal in a round; an accepted one gets its estimate as the reviewed cost.

    An accepted proposal in a round whose voting has opened is put on the ballot as the
    service would have, before voting: the round passes through review around the insert
    (the database refuses new ballot entries once voting has opened)."""
    fixed = status is ProposalStatus.ACCEPTED and in_round.phase in BALLOT_FIXED
    if fixed:
        phase = in_round.phase
        in_round.phase = RoundPhase.REVIEW
        db.session.flush()
    row = Proposal(
        round=in_round,
        author=author,
        origin=origin,
        title=title,
        description="Something good for the neighbourhood.",
        estimated_cost_cents=cost_cents,
        category=category,
        status=status,
        reviewed_cost_cents=cost_cents if status is ProposalStatus.ACCEPTED else None,
        rejection_reason="Not feasible." if status is ProposalStatus.REJECTED else None,
        hidden_reason="Abusive." if status is ProposalStatus.HIDDEN else None,
    )
    db.session.add(row)
    db.session.flush()
    if fixed:
        in_round.phase = phase
        db.session.flush()
    return row


BALLOT_FIXED = (RoundPhase.VOTING, RoundPhase.CLOSED, RoundPhase.PUBLISHED)
