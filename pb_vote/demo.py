"""The demo: four partnership tables of a Lahti-like city, rounds in different phases,
proposals by residents, members and the city, and one account per role."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

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
    VoterEligibility,
)
from pb_vote.services import accounts
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.voting import generate_codes

DEMO_PASSWORD = "pb-vote-demo-2026"


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in the demo prints."""

    role: str
    email: str
    how: str


DEMO_ACCOUNTS = (
    DemoAccount("city admin", "admin@example.org", f"password {DEMO_PASSWORD}"),
    DemoAccount("coordinator (Keskusta)", "coordinator@example.org", f"password {DEMO_PASSWORD}"),
    DemoAccount("member (Keskusta)", "member@example.org", f"password {DEMO_PASSWORD}"),
    DemoAccount("resident (postal code 15100)", "resident@example.org",
                "emailed link: the mail appears on /dev/mail"),
)

TABLES = (
    ("keskusta", "Keskusta – Centre", "The city centre and the harbour.",
     ["15100", "15110", "15140", "15150"]),
    ("pohjoinen", "Pohjoinen – North", "Kärpänen, Ahtiala and the northern villages.",
     ["15200", "15210", "15230", "15240"]),
    ("etela", "Etelä – South", "Renkomäki, Laune and Jalkaranta.",
     ["15300", "15320", "15340", "15610"]),
    ("ita", "Itä – East", "Mukkula, Kivimaa and Villähde.",
     ["15500", "15540", "15550", "15560"]),
)

PROPOSALS = (
    ("Benches along the harbour path", "Ten benches with backrests for walkers.", 1_200_000,
     "Parks", ProposalOrigin.RESIDENT),
    ("Lights for the ski track", "LED lights on the 2 km loop for winter evenings.", 4_500_000,
     "Sports", ProposalOrigin.RESIDENT),
    ("Speak-out evenings for young people", "Four evenings with music and a youth worker.",
     600_000, "Culture", ProposalOrigin.MEMBER),
    ("Safer school crossing", "A raised crossing and a warning sign near the school.",
     3_000_000, "Traffic", ProposalOrigin.CITY),
    ("Community garden boxes", "Twenty raised garden boxes for anyone to grow in.", 800_000,
     "Parks", ProposalOrigin.RESIDENT),
)


def database_is_empty() -> bool:
    """True when no partnership table exists yet."""
    return db.session.execute(select(func.count()).select_from(Table)).scalar_one() == 0


def _round(table: Table, title: str, phase: RoundPhase, start_offset_days: int) -> Round:
    now = clock.utcnow().replace(minute=0, second=0, microsecond=0)
    start = now + timedelta(days=start_offset_days)
    round_ = Round(
        table=table,
        title=title,
        description="Ideas for the neighbourhood, chosen by its residents.",
        budget_cents=10_000_000,
        phase=phase,
        proposals_open_at=start,
        proposals_close_at=start + timedelta(days=30),
        voting_open_at=start + timedelta(days=44),
        voting_close_at=start + timedelta(days=58),
        categories=["Parks", "Sports", "Culture", "Traffic"],
        approval_min=1,
        approval_max=3,
    )
    db.session.add(round_)
    return round_


def _ballot_round(table: Table, title: str, start_offset_days: int, authors: dict) -> Round:
    """A round in voting: its proposals were accepted in review, then voting opened (the
    database takes no new ballot entries after that)."""
    round_ = _round(table, title, RoundPhase.REVIEW, start_offset_days)
    _proposals(round_, authors, ProposalStatus.ACCEPTED)
    db.session.flush()
    round_.phase = RoundPhase.VOTING
    return round_


def _proposals(round_: Round, authors: dict, status: ProposalStatus) -> None:
    for title, description, cost, category, origin in PROPOSALS:
        db.session.add(
            Proposal(
                round=round_,
                author=authors[origin],
                origin=origin,
                title=title,
                description=description,
                estimated_cost_cents=cost,
                category=category,
                location=round_.table.name.split(" – ")[0],
                status=status,
                reviewed_cost_cents=cost if status is ProposalStatus.ACCEPTED else None,
            )
        )


def seed_demo(keys: VoteKeys) -> dict:
    """Create the demo data (flushes; the caller commits). Returns the voting codes of the
    round in voting (the only time they exist in plain text) under "codes"."""
    tables = {}
    for slug, name, description, codes in TABLES:
        table = Table(slug=slug, name=name, description=description)
        table.postal_codes = codes
        db.session.add(table)
        tables[slug] = table
    db.session.flush()

    admin, _ = accounts.get_or_create_resident("admin@example.org", "en")
    admin.display_name = "Aino Admin"
    accounts.set_password(admin, DEMO_PASSWORD)
    accounts.make_city_admin(admin)
    coordinator, _ = accounts.get_or_create_resident("coordinator@example.org", "fi")
    coordinator.display_name = "Kaisa Koordinaattori"
    accounts.set_password(coordinator, DEMO_PASSWORD)
    accounts.grant_membership(admin, coordinator, tables["keskusta"], MembershipRole.COORDINATOR)
    member, _ = accounts.get_or_create_resident("member@example.org", "sv")
    member.display_name = "Mikael Medlem"
    accounts.set_password(member, DEMO_PASSWORD)
    accounts.grant_membership(admin, member, tables["keskusta"], MembershipRole.MEMBER)
    resident, _ = accounts.get_or_create_resident("resident@example.org", "fi")
    resident.display_name = "Riikka Resident"
    resident.postal_code = "15100"
    authors = {
        ProposalOrigin.RESIDENT: resident,
        ProposalOrigin.MEMBER: member,
        ProposalOrigin.CITY: admin,
    }

    voting = _ballot_round(tables["keskusta"], "Keskusta 2027", -46, authors)
    voting.voter_eligibility = VoterEligibility.BOTH
    collecting = _round(tables["pohjoinen"], "Pohjoinen 2027", RoundPhase.PROPOSALS, -5)
    _proposals(collecting, authors, ProposalStatus.SUBMITTED)
    review = _round(tables["etela"], "Etelä 2027", RoundPhase.REVIEW, -35)
    _proposals(review, authors, ProposalStatus.SUBMITTED)
    db.session.flush()
    _moderation_examples(review, admin)
    closed = _ballot_round(tables["ita"], "Itä 2026", -45, authors)
    closed.voter_eligibility = VoterEligibility.CODES
    _round(tables["ita"], "Itä 2027", RoundPhase.DRAFT, 20)
    cancelled = _round(tables["pohjoinen"], "Pohjoinen 2026 (cancelled)", RoundPhase.CANCELLED,
                       -200)
    cancelled.description = "Cancelled when the area's budget moved to the 2027 round."
    db.session.flush()
    codes = generate_codes(admin, voting, 10)
    _published_results(closed, admin, keys)
    return {"codes": codes, "voting_round": voting.id}


def _published_results(round_: Round, admin, keys: VoteKeys) -> None:
    """Cast 36 ballots with voting codes (some on paper), close the round and publish it."""
    import random

    from pb_vote.services import counting, results, rounds, voting

    rng = random.Random(2026)
    proposal_ids = [p.id for p in round_.proposals]
    for number, code in enumerate(generate_codes(admin, round_, 36)):
        found = voting.find_code(round_, code)
        chosen = rng.sample(proposal_ids, rng.randint(1, 3))
        channel = voting.VoteChannel.PAPER if number % 6 == 0 else voting.VoteChannel.CODE
        voting.cast_ballot(keys, round_.id, voting.Voter(voting_code_id=found.id),
                           channel, dict.fromkeys(chosen, 1))
    rounds.transition(admin, round_, RoundPhase.CLOSED)
    results.publish(admin, round_, counting.count_now(admin, round_, keys).id)


def _moderation_examples(round_: Round, moderator) -> None:
    """Show every moderation outcome in the review round (audited like real actions)."""
    from pb_vote.services import proposals as moderation

    by_title = {p.title: p for p in round_.proposals}
    moderation.accept(moderator, by_title["Benches along the harbour path"], 1_100_000,
                      "Eight benches; two already exist.")
    moderation.reject(moderator, by_title["Lights for the ski track"],
                      "The city already lights this track from next winter.")
    moderation.request_changes(moderator, by_title["Community garden boxes"],
                               "Which park would host the boxes?")
    benches = by_title["Benches along the harbour path"]
    duplicate = Proposal(
        round=round_, author=benches.author, origin=ProposalOrigin.RESIDENT,
        title="More benches by the harbour", description="Somewhere to rest on the walk.",
        estimated_cost_cents=300_000, category="Parks", location="Harbour",
    )
    db.session.add(duplicate)
    db.session.flush()
    moderation.merge(moderator, [duplicate], benches)
