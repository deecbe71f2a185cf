"""Upgrades keep the data: rows written in the 0001 schema survive 0002 with their values,
and the new columns and constraints are filled from what was there."""

from datetime import UTC, datetime

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DatabaseError

from pb_vote import PROJECT_ROOT
from pb_vote.extensions import db
from pb_vote.models import (
    BallotKind,
    MembershipRole,
    Proposal,
    ProposalOrigin,
    ProposalStatus,
    Round,
    RoundPhase,
    Table,
    TallyRule,
    User,
    VoterEligibility,
)
from pb_vote.models.base import UTCDateTime

CREATED = datetime(2026, 1, 5, 8, 30, 15, 123456, tzinfo=UTC)
SCHEDULE = {
    "proposals_open_at": datetime(2026, 2, 1, 7, 0, tzinfo=UTC),
    "proposals_close_at": datetime(2026, 3, 1, 7, 0, tzinfo=UTC),
    "voting_open_at": datetime(2026, 3, 15, 7, 0, tzinfo=UTC),
    "voting_close_at": datetime(2026, 3, 29, 21, 59, 59, tzinfo=UTC),
}
# A proposal in each status the later constraints care about (merged apart); all in round 1.
OLD_PROPOSALS = [
    # id, author, origin, title, estimate, category, location, status
    (1, 1, "resident", "Benches by the lake", 500_000, "Parks", "Lakeside", "accepted"),
    (2, 1, "resident", "A skate park", 9_000_000, "Sports", "", "rejected"),
    (3, None, "city", "Crossing lights", 1_234_567, None, "Main street", "submitted"),
    (4, 1, "member", "Rude words", 100, "Culture", "", "hidden"),
    (5, 1, "resident", "Dog park", 300_000, "Parks", "North", "withdrawn"),
    (6, None, "resident", "Library hours", 80_000, "Culture", "", "changes_requested"),
]


def _head() -> str:
    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()


def _revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _execute(statement: str, **values) -> None:
    """Run raw SQL; datetimes are bound with the service's UTC column type on both databases."""
    clause = text(statement)
    times = [name for name, value in values.items() if isinstance(value, datetime)]
    if times:
        clause = clause.bindparams(*(bindparam(name, type_=UTCDateTime()) for name in times))
    db.session.execute(clause, values)


@pytest.fixture
def at_0001(app):
    """The app's database downgraded to 0001; put back to head afterwards whatever happened,
    so the shared PostgreSQL database stays usable for the tests that follow (each SQLite
    test has its own file)."""
    with app.app_context():
        downgrade(revision="0001")
        assert _revision() == "0001"
        dialect = db.engine.dialect.name
        yield
        db.session.rollback()
        db.session.remove()
        if dialect == "postgresql" and _revision() != _head():
            # PostgreSQL migrates in one transaction: a failed upgrade left 0001 intact.
            for name in ("proposals", "rounds", "table_memberships", "table_postal_codes",
                         "users", "partnership_tables"):
                db.session.execute(text(f"DELETE FROM {name}"))
            db.session.commit()
            db.session.remove()
            upgrade()


def _insert_0001_rows() -> None:
    """A table with its area, a coordinator, a round in review and a proposal per status."""
    _execute(
        "INSERT INTO partnership_tables (id, slug, name, description, created_at) "
        "VALUES (1, 'keskusta', 'Keskusta', 'The centre.', :created)",
        created=CREATED,
    )
    _execute("INSERT INTO table_postal_codes (table_id, postal_code) VALUES (1, '15100')")
    _execute(
        "INSERT INTO users (id, email, display_name, language, postal_code, is_city_admin, "
        "password_hash, created_at, last_sign_in_at) VALUES (1, 'aino@example.org', 'Aino', "
        "'sv', '15100', :admin, 'argon2-hash', :created, :signed_in)",
        admin=False, created=CREATED, signed_in=CREATED.replace(hour=9),
    )
    _execute(
        "INSERT INTO table_memberships (id, user_id, table_id, role, created_at) "
        "VALUES (1, 1, 1, 'coordinator', :created)",
        created=CREATED,
    )
    _execute(
        "INSERT INTO rounds (id, table_id, title, description, budget_cents, currency, "
        "time_zone, phase, proposals_open_at, proposals_close_at, voting_open_at, "
        "voting_close_at, created_at, updated_at) VALUES (1, 1, 'Round 2026', 'Ideas welcome.', "
        "12000000, 'EUR', 'Europe/Helsinki', 'review', :proposals_open_at, "
        ":proposals_close_at, :voting_open_at, :voting_close_at, :created, :created)",
        created=CREATED, **SCHEDULE,
    )
    for number, author, origin, title, estimate, category, location, status in OLD_PROPOSALS:
        _execute(
            "INSERT INTO proposals (id, round_id, author_id, origin, title, description, "
            "estimated_cost_cents, category, location, status, created_at, updated_at) "
            "VALUES (:id, 1, :author, :origin, :title, :description, :estimate, :category, "
            ":location, :status, :created, :created)",
            id=number, author=author, origin=origin, title=title,
            description=f"Description of {title}.", estimate=estimate, category=category,
            location=location, status=status, created=CREATED,
        )
    db.session.commit()
    db.session.remove()


def test_upgrade_from_0001_keeps_every_row_and_value(app, at_0001):
    _insert_0001_rows()
    upgrade()
    assert _revision() == _head()

    table = db.session.get(Table, 1)
    assert (table.slug, table.name, table.description, table.created_at) == (
        "keskusta", "Keskusta", "The centre.", CREATED)
    assert table.postal_codes == ["15100"]

    person = db.session.get(User, 1)
    assert (person.email, person.display_name, person.language, person.postal_code,
            person.is_city_admin, person.password_hash) == (
        "aino@example.org", "Aino", "sv", "15100", False, "argon2-hash")
    assert (person.created_at, person.last_sign_in_at) == (CREATED, CREATED.replace(hour=9))
    assert person.role_at(1) is MembershipRole.COORDINATOR

    round_ = db.session.get(Round, 1)
    assert (round_.table_id, round_.title, round_.description, round_.budget_cents,
            round_.currency, round_.time_zone, round_.phase) == (
        1, "Round 2026", "Ideas welcome.", 12_000_000, "EUR", "Europe/Helsinki",
        RoundPhase.REVIEW)
    assert {name: getattr(round_, name) for name in SCHEDULE} == SCHEDULE
    assert (round_.created_at, round_.updated_at) == (CREATED, CREATED)

    rows = db.session.execute(select(Proposal).order_by(Proposal.id)).scalars().all()
    assert [
        (p.id, p.author_id, p.origin, p.title, p.description, p.estimated_cost_cents,
         p.category, p.location, p.status, p.created_at)
        for p in rows
    ] == [
        (number, author, ProposalOrigin(origin), title, f"Description of {title}.", estimate,
         category, location, ProposalStatus(status), CREATED)
        for number, author, origin, title, estimate, category, location, status in OLD_PROPOSALS
    ]
    # New proposal columns: empty, except what the constraints now require.
    assert [(p.link, p.public_note, p.change_request, p.merged_into_id) for p in rows] == [
        (None, "", None, None)] * len(OLD_PROPOSALS)


def test_upgrade_fills_what_the_new_constraints_require(app, at_0001):
    _insert_0001_rows()
    upgrade()
    filled = {
        p.status: (p.reviewed_cost_cents, p.rejection_reason, p.hidden_reason)
        for p in db.session.execute(select(Proposal)).scalars()
    }
    unknown = "No reason was recorded."
    assert filled == {
        ProposalStatus.ACCEPTED: (500_000, None, None),  # the estimate became the reviewed cost
        ProposalStatus.REJECTED: (None, unknown, None),
        ProposalStatus.HIDDEN: (None, None, unknown),
        ProposalStatus.SUBMITTED: (None, None, None),
        ProposalStatus.WITHDRAWN: (None, None, None),
        ProposalStatus.CHANGES_REQUESTED: (None, None, None),
    }


def test_upgrade_gives_old_rounds_the_default_settings(app, at_0001):
    _insert_0001_rows()
    upgrade()
    round_ = db.session.get(Round, 1)
    assert round_.ballot_kind is BallotKind.APPROVAL
    assert round_.tally_rule is TallyRule.GREEDY
    assert round_.voter_eligibility is VoterEligibility.RESIDENTS
    assert round_.categories == []
    assert (round_.approval_min, round_.approval_max) == (1, 5)
    assert (round_.knapsack_min_spend_percent, round_.points_total,
            round_.points_max_per_proposal) == (None, None, None)
    # Stored as the plain values, so raw SQL and reports read them too.
    raw = db.session.execute(
        text("SELECT ballot_kind, tally_rule, voter_eligibility FROM rounds WHERE id = 1")
    ).one()
    assert tuple(raw) == ("approval", "greedy", "residents")


def test_upgraded_database_enforces_the_new_rules(app, at_0001):
    _insert_0001_rows()
    upgrade()
    round_ = db.session.get(Round, 1)
    round_.phase = RoundPhase.VOTING
    db.session.commit()
    with pytest.raises(DatabaseError, match="frozen"):
        db.session.execute(text("UPDATE rounds SET budget_cents = 1 WHERE id = 1"))
    db.session.rollback()
    assert db.session.get(Round, 1).budget_cents == 12_000_000


def test_a_proposal_merged_under_0001_survives_as_rejected(app, at_0001):
    """0001 could mark a proposal merged without saying into what; the target cannot be
    recovered, so the upgrade keeps the row and says what happened."""
    _insert_0001_rows()
    _execute(
        "INSERT INTO proposals (id, round_id, author_id, origin, title, description, "
        "estimated_cost_cents, category, location, status, created_at, updated_at) "
        "VALUES (7, 1, 1, 'resident', 'Lakeside benches', 'Same as 1.', 400000, 'Parks', '', "
        "'merged', :created, :created)",
        created=CREATED,
    )
    db.session.commit()
    db.session.remove()
    upgrade()
    legacy = db.session.get(Proposal, 7)
    assert (legacy.title, legacy.description, legacy.author_id, legacy.estimated_cost_cents) == (
        "Lakeside benches", "Same as 1.", 1, 400_000)
    assert (legacy.status, legacy.merged_into_id) == (ProposalStatus.REJECTED, None)
    assert legacy.rejection_reason == (
        "Merged with another proposal before merge targets were recorded.")
    assert db.session.execute(select(func.count()).select_from(Proposal)).scalar_one() == 7
