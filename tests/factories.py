"""Build a whole scenario in one call. Each helper flushes, so ids exist; tests commit.

The row helpers (``table``, ``user``, ``round_``, ``proposal``) write rows as they are; the
scenario helpers (``city``, ``voting_round``, ``closed_round``, ``published_round``) build on
them and move the round on through pb_vote's own services, as its staff and voters would.
``saved`` runs one in an app context and commits, for tests that go through the pages.
"""

import io
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

import pyotp
from flask import current_app
from sqlalchemy import select

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    BallotKind,
    MembershipRole,
    NoticeKind,
    Proposal,
    ProposalImage,
    ProposalOrigin,
    ProposalStatus,
    Publication,
    ResidentCheck,
    Round,
    RoundPhase,
    Table,
    TableMembership,
    TablePostalCode,
    User,
    VoteChannel,
    VoterEligibility,
)
from pb_vote.services import (
    accounts,
    counting,
    identity,
    images,
    notices,
    results,
    rounds,
    second_factor,
    voting,
)
from pb_vote.services.ballot_box import VoteKeys

STAFF_PASSWORD = "correct horse battery staple"
_STAFF_HASHES: dict = {}


def _staff_hash() -> str:
    """STAFF_PASSWORD hashed once per hasher: the tests' cheap one (see conftest), or the
    service's own when a benchmark seeds its database."""
    hasher = accounts.PASSWORD_HASHER
    if hasher not in _STAFF_HASHES:
        _STAFF_HASHES[hasher] = hasher.hash(STAFF_PASSWORD)
    return _STAFF_HASHES[hasher]


def table(slug: str = "keskusta", name: str | None = None, postal_codes=None) -> Table:
    """A partnership table. Without ``postal_codes`` its area is 15100, or, when another
    table holds that code already (a code is in one area at most), the first free code
    from 15900 on."""
    if postal_codes is None:
        taken = set(db.session.execute(select(TablePostalCode.postal_code)).scalars())
        postal_codes = ["15100"] if "15100" not in taken else [
            next(str(code) for code in range(15900, 16000) if str(code) not in taken)]
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


def app_code(secret: str, at=None, *, steps: int = 0) -> str:
    """What an authenticator app with ``secret`` shows at ``at`` (default: the service's
    clock now), or ``steps`` of 30 seconds later."""
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(at or clock.utcnow()) + steps)


@dataclass
class Enrolment:
    """A staff member's authenticator app, as a test holds it: the secret and the ten
    recovery codes shown at enrolment."""

    user_id: int
    secret: str
    recovery_codes: list[str]

    def code(self, at=None, *, steps: int = 0) -> str:
        """The app's code at ``at`` (default: the service's clock now), ``steps`` later."""
        return app_code(self.secret, at, steps=steps)


def enrolled(person: User) -> Enrolment:
    """Set up ``person``'s second factor through the service, confirmed with the previous
    step's code (so that the current one is still unused for the test to sign in with)."""
    keys = second_factor.SecretKeys.from_config(current_app.config)
    secret = second_factor.enrolment_secret(person, keys)
    attempt = second_factor.admit_attempt(person, 1000)
    made = second_factor.confirm_enrolment(person, keys, app_code(secret, steps=-1), attempt)
    assert made is not None
    return Enrolment(person.id, secret, made)


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


# --- Scenarios ------------------------------------------------------------------------------

T = TypeVar("T")

# Reviewed costs of a scenario's ballot, in cents: 18,500 € asked of the round's 10,000 €.
BALLOT_COSTS = (3_000_000, 2_500_000, 4_000_000, 1_000_000, 2_000_000, 6_000_000)
# Who initiated them, in turn.
ORIGINS = (ProposalOrigin.RESIDENT, ProposalOrigin.CITY, ProposalOrigin.MEMBER)


@dataclass
class City:
    """Two tables, Keskusta (``own``, postal code 15100) with its coordinator and member and
    Pohjoinen (``other``, 15200); a city admin; a resident of Keskusta. Emails are the role
    at example.org (coordinator@example.org...)."""

    own: Table
    other: Table
    coordinator: User
    member: User
    admin: User
    resident: User
    own_id: int = field(init=False)
    other_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.own_id, self.other_id = self.own.id, self.other.id


def city(*, eligible_residents: int | None = None) -> City:
    """The usual cast of a test: see City. ``eligible_residents`` is Keskusta's figure."""
    own = table("keskusta", name="Keskusta – Centre")
    own.eligible_residents = eligible_residents
    other = table("pohjoinen", name="Pohjoinen – North", postal_codes=["15200"])
    return City(
        own=own,
        other=other,
        coordinator=user("coordinator@example.org", role=MembershipRole.COORDINATOR, at=own),
        member=user("member@example.org", role=MembershipRole.MEMBER, at=own),
        admin=user("admin@example.org", city_admin=True),
        resident=user("resident@example.org"),
    )


@dataclass
class Scenario:
    """A round built by a scenario helper. The ids and receipt codes stay usable once the
    app context that built it is gone (the rows do not)."""

    table: Table
    coordinator: User | None
    round: Round
    proposals: list[Proposal]
    voters: list[User]
    receipts: list[str]  # each voter's receipt code, in the order of ``voters``
    publication: Publication | None = None
    round_id: int = field(init=False)
    proposal_ids: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.round_id = self.round.id
        self.proposal_ids = [p.id for p in self.proposals]


def voting_round(
    at: Table | None = None,
    *,
    ballots: int = 0,
    costs=BALLOT_COSTS,
    notify: int = 0,
    seed: int = 11,
    **settings,
) -> Scenario:
    """A round of ``at`` (default: Keskusta of a new ``city()``) in voting, with ``ballots``
    ballots cast.

    The round is set up in review with one accepted proposal per cost in ``costs`` (titled
    "Project 0"...; origins in the turn of ORIGINS, the residents' ones by
    author@example.org), then its coordinator opens voting (``rounds.transition``). Each of
    ``ballots`` residents (voter0@example.org..., so one such round per test database) votes
    online through ``voting.cast_ballot`` for one to three proposals drawn with ``seed``, as
    the round's ballot allows (points: spread evenly, within the cap; knapsack: within the
    budget); the first ``notify`` of them ask for the results by mail. ``settings`` are the
    round's columns (approval of one to three unless they say otherwise)."""
    at = at or city().own
    coordinator = db.session.execute(
        select(User).join(TableMembership).where(
            TableMembership.table_id == at.id,
            TableMembership.role == MembershipRole.COORDINATOR)
    ).scalars().first()
    author = accounts.find_user_by_email("author@example.org") or user("author@example.org")
    row = round_(at, RoundPhase.REVIEW, **{"approval_min": 1, "approval_max": 3, **settings})
    proposals = []
    for n, cost in enumerate(costs):
        origin = ORIGINS[n % len(ORIGINS)]
        proposals.append(proposal(
            row, title=f"Project {n}", cost_cents=cost, status=ProposalStatus.ACCEPTED,
            origin=origin, author=author if origin is ProposalOrigin.RESIDENT else None))
    rounds.transition(coordinator, row, RoundPhase.VOTING)
    rng = random.Random(seed)
    voters, receipts = [], []
    for number in range(ballots):
        voter = user(f"voter{number}@example.org")
        cast = voting.cast_ballot(
            VoteKeys.from_config(current_app.config), row.id, voting.Voter(user_id=voter.id),
            VoteChannel.ONLINE, _choices(row, proposals, rng), notify_results=number < notify)
        voters.append(voter)
        receipts.append(cast.receipt_code)
    return Scenario(at, coordinator, row, proposals, voters, receipts)


def _choices(row: Round, proposals: list[Proposal], rng: random.Random) -> dict[int, int]:
    """One voter's ballot: one to three proposals, valid for the round's ballot kind."""
    approval = row.ballot_kind is BallotKind.APPROVAL
    most = min(3, len(proposals), row.approval_max if approval else 3)
    chosen = rng.sample(proposals, rng.randint(min(row.approval_min if approval else 1, most),
                                               most))
    if row.ballot_kind is BallotKind.POINTS:
        each = min(row.points_max_per_proposal, row.points_total // len(chosen))
        return {p.id: each for p in chosen}
    if row.ballot_kind is BallotKind.KNAPSACK:
        while len(chosen) > 1 and sum(p.reviewed_cost_cents for p in chosen) > row.budget_cents:
            chosen.pop()
    return {p.id: 1 for p in chosen}


def closed_round(at: Table | None = None, **options) -> Scenario:
    """A ``voting_round`` (same options) whose coordinator has then closed voting."""
    scenario = voting_round(at, **options)
    rounds.transition(scenario.coordinator, scenario.round, RoundPhase.CLOSED)
    return scenario


def published_round(at: Table | None = None, **options) -> Scenario:
    """A ``closed_round`` (same options) whose results its coordinator has then published
    (a count in this process, then ``results.publish``; the mail to subscribers is the
    view's, and not sent here)."""
    scenario = closed_round(at, **options)
    count = counting.count_now(scenario.coordinator, scenario.round,
                               VoteKeys.from_config(current_app.config))
    scenario.publication = results.publish(scenario.coordinator, scenario.round, count.id)
    return scenario


def saved(app, build: Callable[..., T], **options) -> T:
    """``build(**options)`` in an app context of ``app``, committed: for tests that then go
    through the pages, with the ids (``round_id``...) of what was built."""
    with app.app_context():
        built = build(**options)
        db.session.commit()
        return built



# A big city's ballot: long titles in a handful of categories, long descriptions.
BIG_CATEGORIES = ["Puistot ja luonto – Parker och natur", "Liikunta – Idrott",
                  "Kulttuuri – Kultur", "Liikenne ja kadut – Trafik och gator",
                  "Koulut ja nuoret – Skolor och unga", "Esteettömyys – Tillgänglighet"]


def big_round(n: int, at: Table | None = None, *, ballots: int = 30, publish: bool = False,
              uncategorised: int = 0, **settings) -> Scenario:
    """Like ``voting_round`` (with ``publish``, ``published_round``), for a capital: ``n``
    accepted proposals of 1,500-29,000 € spread over BIG_CATEGORIES, plus ``uncategorised``
    without a category, each with a title of about 60 characters and a description of 600;
    a budget of 300,000 € and approval of one to ten; ``ballots`` residents vote
    (big<n>-<round id>@example.org). ``at``: a table with a coordinator (default: Keskusta
    of a new ``city()``)."""
    at = at or city().own
    coordinator = db.session.execute(
        select(User).join(TableMembership).where(
            TableMembership.table_id == at.id,
            TableMembership.role == MembershipRole.COORDINATOR)
    ).scalars().first()
    settings = {"budget_cents": 30_000_000, "categories": BIG_CATEGORIES,
                "approval_min": 1, "approval_max": 10, **settings}
    row = round_(at, RoundPhase.REVIEW, **{"title": "Capital 2027", **settings})
    proposals = []
    for number in range(n + uncategorised):
        proposals.append(proposal(
            row, title=f"Hanke {number}: kävelyreitin valaistus ja penkit – belysning",
            cost_cents=150_000 + (number * 7_919_000) % 2_750_000,
            status=ProposalStatus.ACCEPTED, origin=ORIGINS[number % len(ORIGINS)],
            category=BIG_CATEGORIES[number % len(BIG_CATEGORIES)] if number < n else None))
        proposals[-1].description = "Pitkä kuvaus, kuten oikeassa äänestyksessä. " * 14
    rounds.transition(coordinator, row, RoundPhase.VOTING)
    rng = random.Random(5)
    voters, receipts = [], []
    keys = VoteKeys.from_config(current_app.config)
    for number in range(ballots):
        voter = user(f"big{number}-{row.id}@example.org")
        voters.append(voter)
        receipts.append(voting.cast_ballot(keys, row.id, voting.Voter(user_id=voter.id),
                                           VoteChannel.ONLINE,
                                           _choices(row, proposals, rng)).receipt_code)
    scenario = Scenario(at, coordinator, row, proposals, voters, receipts)
    if publish:
        rounds.transition(coordinator, row, RoundPhase.CLOSED)
        count = counting.count_now(coordinator, row, keys)
        scenario.publication = results.publish(coordinator, row, count.id)
    return scenario


@dataclass
class DemoSite:
    """The demo (pb_vote.demo) with every ballot kind in voting and a corrected result."""

    voting_round_id: int  # the demo's approval round in voting (Keskusta)
    knapsack_round_id: int
    points_round_id: int
    published_round_id: int  # published, then corrected (publication 2)
    codes: list[str]
    long_words_id: int  # an idea with a long address and a long word, as residents write


# The demo's extra ballots (demo_site): what each kind is called in the round's title.
EXTRA_KINDS = {
    "knapsack": {"fi": "budjettiäänestys", "sv": "budgetomröstning", "en": "budget ballot"},
    "points": {"fi": "pisteäänestys", "sv": "poängomröstning", "en": "points ballot"},
}
# Their ideas, in turn (language, title, description, category), as residents write them.
EXTRA_IDEAS = (
    ("fi", "Penkkejä Vesijärven rantaan", "Selkänojallisia penkkejä rantareitin varrelle.",
     "Puistot"),
    ("fi", "Kirjasto auki sunnuntaisin", "Lähikirjasto auki myös sunnuntaisin.",
     "Kulttuuri"),
    ("fi", "Skeittipaikka koulun viereen", "Ramppeja ja kaiteita nuorille.", "Liikunta"),
    ("sv", "Cykelställ vid stationen", "Ett cykelställ med tak för trettio cyklar.",
     "Liikenne"),
    ("fi", "Yhteisöpuutarha", "Viljelylaatikoita kaikille alueen asukkaille.", "Puistot"),
    ("sv", "Utegym i parken", "Enkla redskap för träning utomhus, öppna för alla.",
     "Liikunta"),
)


def _in_the_demos_languages(row: Round, kind: dict[str, str]) -> None:
    """Give an extra round of the demo (built by ``voting_round``, categories in Finnish)
    its title, description and categories in the three languages, as the demo's rounds
    have them, and its ideas in Finnish or Swedish (their costs and ids stay)."""
    from pb_vote import demo

    row.set_texts("title", {language: f"{name} 2027: {kind[language]}"
                            for language, name in row.table.texts("name").items()})
    row.set_texts("description", demo.ROUND_DESCRIPTION)
    row.set_category_translations(demo.CATEGORIES)
    for proposal_row, (language, title, description, category) in zip(
            sorted(row.proposals, key=lambda p: p.id), EXTRA_IDEAS, strict=False):
        proposal_row.language, proposal_row.title = language, title
        proposal_row.description, proposal_row.category = description, category
    db.session.flush()


def demo_site() -> DemoSite:
    """The demo as ``flask seed-demo`` loads it, plus what it lacks for a look at every
    page: a knapsack and a points round in voting at Keskusta (the demo resident's table),
    and a correction of the published round (publication 2, leaving one proposal out), and
    an idea whose title and description hold words longer than a phone's line."""
    from pb_vote import demo

    keys = VoteKeys.from_config(current_app.config)
    seeded = demo.seed_demo(keys)
    keskusta = db.session.execute(select(Table).where(Table.slug == "keskusta")).scalar_one()
    knapsack = voting_round(keskusta, ballot_kind=BallotKind.KNAPSACK,
                            categories=list(demo.CATEGORIES["fi"]))
    points = voting_round(keskusta, ballot_kind=BallotKind.POINTS, points_total=10,
                          points_max_per_proposal=5, categories=list(demo.CATEGORIES["fi"]))
    for extra, kind in ((knapsack, EXTRA_KINDS["knapsack"]), (points, EXTRA_KINDS["points"])):
        _in_the_demos_languages(extra.round, kind)
    published = db.session.execute(
        select(Round).where(Round.phase == RoundPhase.PUBLISHED)).scalars().first()
    admin = accounts.find_user_by_email("admin@example.org")
    left_out = frozenset({published.proposals[0].id})
    count = counting.count_now(admin, published, keys, excluded=left_out)
    results.publish(admin, published, count.id, excluded=left_out, corrects=1,
                    correction_reason="The first proposal is on state land: the city "
                                      "cannot build it.")
    collecting = db.session.execute(
        select(Round).where(Round.phase == RoundPhase.PROPOSALS)).scalars().first()
    long_words = proposal(collecting, author=accounts.find_user_by_email(
        "resident@example.org"), title="Liikennevalo-ohjausjärjestelmäuudistussuunnitelma")
    long_words.description = (
        "Katso https://www.lahti.fi/asuminen-ja-ymparisto/liikenne-ja-kadut/"
        "liikenneturvallisuus/liikenneturvallisuussuunnitelma-2026-2030.pdf ja "
        "katuvalaistusverkostokehittämisohjelma.")
    return DemoSite(voting_round_id=seeded["voting_round"],
                    knapsack_round_id=knapsack.round_id, points_round_id=points.round_id,
                    published_round_id=published.id, codes=seeded["codes"],
                    long_words_id=long_words.id)


def corrected_round(at: Table | None = None, *,
                    reason: str = "The site turned out to be on state land.",
                    **options) -> Scenario:
    """A ``published_round`` (same options) whose coordinator then published a correction:
    publication 2, leaving out the first funded proposal of publication 1, with ``reason``.
    ``scenario.publication`` is the correction."""
    scenario = published_round(at, **options)
    left_out = frozenset({int(scenario.publication.result["selected"][0])})
    keys = VoteKeys.from_config(current_app.config)
    count = counting.count_now(scenario.coordinator, scenario.round, keys, excluded=left_out)
    scenario.publication = results.publish(scenario.coordinator, scenario.round, count.id,
                                           excluded=left_out, corrects=1,
                                           correction_reason=reason)
    return scenario


def turnout_round(at: Table | None = None, *, residents: dict | None = None, codes: int = 0,
                  paper: int = 0, close: bool = True, **settings) -> Scenario:
    """A ``voting_round`` open to residents and codes (``settings`` as there) where, for
    each ``(postal code, language): n`` of ``residents``, n signed-in residents of that
    postal code and account language vote online (res0@example.org...; the table's area
    takes in every postal code named), ``codes`` people vote online with voting codes and
    ``paper`` paper ballots are entered; then its coordinator closes voting (unless not
    ``close``). ``scenario.voters`` are the residents, in order."""
    at = at or city().own
    residents = {("15100", "fi"): 12} if residents is None else residents
    at.postal_codes = sorted({*at.postal_codes, *(code for code, _ in residents)})
    scenario = voting_round(at, voter_eligibility=VoterEligibility.BOTH, **settings)
    keys = VoteKeys.from_config(current_app.config)
    rng = random.Random(5)
    vote = [scenario.proposals[0]]
    for (postal_code, language), count in residents.items():
        for _ in range(count):
            person = user(f"res{len(scenario.voters)}@example.org", postal_code=postal_code,
                          language=language)
            voting.cast_ballot(keys, scenario.round.id, voting.Voter(user_id=person.id),
                               VoteChannel.ONLINE, _choices(scenario.round, vote, rng))
            scenario.voters.append(person)
    typed = voting.generate_codes(scenario.coordinator, scenario.round, codes + paper or 1)
    for number, code in enumerate(typed[:codes + paper]):
        channel, voter = ((VoteChannel.CODE, voting.online_code_voter) if number < codes
                          else (VoteChannel.PAPER, voting.paper_voter))
        voting.cast_ballot(keys, scenario.round.id, voter(scenario.round, code), channel,
                           _choices(scenario.round, vote, rng))
    if close:
        rounds.transition(scenario.coordinator, scenario.round, RoundPhase.CLOSED)
    return scenario


@dataclass
class DashboardCity:
    """A ``city()`` whose tables have rounds in every phase a dashboard shows (ids):
    Keskusta has a draft, a round collecting ideas (three waiting for moderation, one
    waiting for its author's changes, one accepted), a round in voting open to residents and
    codes (three residents online, two codes online, one paper ballot) and a round
    published long ago (an earlier round); Pohjoinen has a round under review with two
    ideas waiting and nothing accepted."""

    city: City
    draft_id: int
    collecting_id: int
    voting_id: int
    old_id: int
    review_id: int


def dashboard_city(*, eligible_residents: int | None = None) -> DashboardCity:
    """See DashboardCity; ``eligible_residents`` is Keskusta's recorded number."""
    cast = city(eligible_residents=eligible_residents)
    old = round_(cast.own, RoundPhase.PUBLISHED, title="Keskusta 2024",
                 updated_at=clock.utcnow() - timedelta(days=400))
    voting = turnout_round(cast.own, residents={("15100", "fi"): 3}, codes=2, paper=1,
                           close=False, title="Keskusta 2027")
    collecting = round_(cast.own, RoundPhase.PROPOSALS, title="Keskusta 2028")
    for number, status in enumerate((ProposalStatus.SUBMITTED, ProposalStatus.SUBMITTED,
                                     ProposalStatus.SUBMITTED,
                                     ProposalStatus.CHANGES_REQUESTED,
                                     ProposalStatus.ACCEPTED)):
        proposal(collecting, author=cast.resident, title=f"Idea {number}", status=status)
    draft = round_(cast.own, RoundPhase.DRAFT, title="Keskusta 2029")
    review = round_(cast.other, RoundPhase.REVIEW, title="Pohjoinen 2027")
    for number in range(2):
        proposal(review, title=f"Pohjoinen idea {number}")
    return DashboardCity(cast, draft.id, collecting.id, voting.round_id, old.id, review.id)


def service_page_text(page: str = "privacy", language: str = "fi", text: str = "## Oma teksti",
                      *, by: User | None = None):
    """The city admin's text of a service page in one language, saved through the service
    (a version, audited); ``by`` defaults to a new city admin."""
    from pb_vote.services import service_pages

    if by is None:
        by = db.session.execute(select(User).where(User.is_city_admin)).scalars().first() \
            or user("pages-admin@example.org", city_admin=True)
    return service_pages.save_text(by, page, language, text)


def opinion(of: Proposal, asked_by: User, *, email: str = "engineer@city.example.org",
            days: int = 30, question: str = "Can the lake shore take benches?"):
    """An opinion asked of a city department's contact on ``of`` (through the service, so
    it is audited); returns the request and the token of its one-time link."""
    from pb_vote.services import reviews

    return reviews.ask_opinion(
        asked_by, of, reviews.OpinionAsked("Eila Insinööri", "Technical services", email,
                                           question, "fi"), timedelta(days=days))


def identified_user(name: str = "aino", *, postal_code: str | None = "15100",
                    birth_month: str | None = "1980-03", email: str | None = None) -> User:
    """A strongly identified resident, as a sign-in through an identity provider leaves
    one: keyed by the pseudonym of a made-up person identifier (``name``), with the verified
    postal code and month of birth, and no email address unless given."""
    person = User(email=email, language="en", verified_postal_code=postal_code,
                  birth_month=birth_month,
                  person_pseudonym=identity.person_pseudonym(
                      current_app.config["PERSON_SECRET"], f"id-of-{name}"))
    db.session.add(person)
    db.session.flush()
    return person


@dataclass
class IdentifiedRound:
    """A round in voting for strongly identified residents (and code holders when it has
    codes), with the codes in plain text."""

    scenario: Scenario
    codes: list[str]

    @property
    def round_id(self) -> int:
        return self.scenario.round_id


def identified_round(at: Table | None = None, *, codes: int = 0,
                     min_voter_age: int | None = None, **settings) -> IdentifiedRound:
    """A round in voting whose residents vote strongly identified only, with ``codes``
    voting codes (then it admits code holders too) and an optional minimum age."""
    eligibility = VoterEligibility.BOTH if codes else VoterEligibility.RESIDENTS
    scenario = voting_round(at, voter_eligibility=eligibility,
                            resident_check=ResidentCheck.IDENTIFIED,
                            min_voter_age=min_voter_age, **settings)
    printed = voting.generate_codes(scenario.coordinator, scenario.round, codes) if codes else []
    return IdentifiedRound(scenario, printed)


@dataclass
class SetUpCity:
    """For the tables' set-up: ``city()`` (Keskusta 15100 with a published round, Pohjoinen
    15200 with its round "Pohjoinen 2027" in voting, coordinated by
    north-coordinator@example.org), and Etelä (15300, 15310) with no round yet. Ids only."""

    admin_id: int
    voting_table_id: int
    published_table_id: int
    empty_table_id: int
    voting_round_id: int
    published_round_id: int


def set_up_city() -> SetUpCity:
    """The tables of ``SetUpCity``: one in voting, one with published results, one empty."""
    town = city()
    published = published_round(town.own, ballots=3)
    user("north-coordinator@example.org", role=MembershipRole.COORDINATOR, at=town.other)
    voting = voting_round(town.other, title="Pohjoinen 2027")
    empty = table("etela", name="Etelä", postal_codes=("15300", "15310"))
    return SetUpCity(town.admin.id, town.other.id, town.own.id, empty.id, voting.round_id,
                     published.round_id)


@dataclass
class NoticeCity:
    """A ``city()`` whose Keskusta has a round in review ready to open for voting (one
    accepted proposal, voting due in a day, closing in ten) and a draft, and residents who
    opted in to notices (``notices.set_subscriptions``): fi@ (Finnish) and sv@ (Swedish)
    of 15100 to every kind; quiet@ of 15100 to none; north@ of Pohjoinen's 15200 and
    nowhere@ (no postal code) to every kind."""

    city: City
    round: Round
    draft: Round
    people: dict[str, User]
    round_id: int = field(init=False)
    draft_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.round_id, self.draft_id = self.round.id, self.draft.id


def notice_city(**settings) -> NoticeCity:
    """See NoticeCity; ``settings`` are the ready round's columns."""
    town = city()
    now = clock.utcnow().replace(microsecond=0)
    day = timedelta(days=1)
    ready = round_(town.own, RoundPhase.REVIEW, title="Keskusta 2027", **{
        "proposals_open_at": now - 30 * day, "proposals_close_at": now - day,
        "voting_open_at": now + day, "voting_close_at": now + 10 * day, **settings})
    proposal(ready, title="Benches", status=ProposalStatus.ACCEPTED)
    draft = round_(town.own, RoundPhase.DRAFT, title="Keskusta 2028")
    every = set(NoticeKind)
    people = {}
    for email, postal_code, language, kinds in (
            ("fi@example.org", "15100", "fi", every), ("sv@example.org", "15100", "sv", every),
            ("quiet@example.org", "15100", "en", set()),
            ("north@example.org", "15200", "en", every),
            ("nowhere@example.org", None, "en", every)):
        person = user(email, postal_code=postal_code, language=language)
        notices.set_subscriptions(person, kinds)
        people[email.split("@")[0]] = person
    return NoticeCity(town, ready, draft, people)


# --- Images ---------------------------------------------------------------------------------

# EXIF tags: the orientation, and the GPS block (GPSInfo) with a latitude in it.
EXIF_ORIENTATION, EXIF_GPS_INFO, GPS_LATITUDE = 0x0112, 0x8825, 2


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (1200, 800), *,
                gps: bool = False, orientation: int | None = None,
                color=(30, 120, 60)) -> bytes:
    """A picture file as a phone would send it: ``fmt`` (JPEG, PNG, WebP...), optionally
    with an EXIF GPS position (Lahti's market square) and an EXIF orientation."""
    from PIL import Image

    picture = Image.new("RGB", size, color)
    # A mark in the top left corner, so a test can tell which way up the picture is.
    picture.paste((250, 10, 10), (0, 0, size[0] // 4, size[1] // 4))
    exif = Image.Exif()
    if gps:
        exif[EXIF_GPS_INFO] = {1: "N", GPS_LATITUDE: (60.0, 59.0, 0.0), 3: "E",
                               4: (25.0, 39.0, 0.0)}
    if orientation:
        exif[EXIF_ORIENTATION] = orientation
    out = io.BytesIO()
    options = {"exif": exif.tobytes()} if (gps or orientation) else {}
    picture.save(out, fmt, **options)
    return out.getvalue()


def proposal_image(of: Proposal, store, *, by: User | None = None,
                   alt_text: str = "The lake shore path with an old bench",
                   data: bytes | None = None, **settings) -> ProposalImage:
    """An image on ``of`` added through the service (by its author unless ``by``), with
    ``settings`` overriding ImageSettings (widths, per_proposal...)."""
    image_settings = images.ImageSettings(**settings)
    processed = images.process_upload(data or image_bytes(), image_settings)
    return images.add_image(by or of.author, of, processed, alt_text, store, image_settings)


@dataclass
class CommentScene:
    """A round collecting ideas at Keskusta (``city``) with one idea by ``author``
    (author@example.org, who asked for comment mail), a resident of Pohjoinen
    (``neighbour``, neighbour@example.org) and a member of Pohjoinen's table
    (``outsider``, outsider@example.org)."""

    city: City
    author: User
    neighbour: User
    outsider: User
    round_id: int
    proposal_id: int


def comment_scene(phase: RoundPhase = RoundPhase.PROPOSALS, *,
                  title: str = "Benches by the lake") -> CommentScene:
    """See CommentScene."""
    cast = city()
    author = user("author@example.org")
    author.mail_on_comments = True
    neighbour = user("neighbour@example.org", postal_code="15200")
    outsider = user("outsider@example.org", role=MembershipRole.MEMBER, at=cast.other)
    row = round_(cast.own, phase, title="Ideas 2027")
    idea = proposal(row, author=author, title=title)
    return CommentScene(cast, author, neighbour, outsider, row.id, idea.id)


@dataclass
class CityDirectory:
    """Staff whose work addresses the city's own provider (tests/oidc_provider, persons
    kaisa and ulla) vouches for, and a resident whose address it vouches for too (bertil):
    only the city admin's roles make staff."""

    coordinator: User  # kaisa.koski@lahti.example, as the provider gives it (confirmed)
    member: User  # ulla.saari@lahti.example: the provider never confirmed her address
    resident: User  # bertil@example.org, a resident's account


def city_directory() -> CityDirectory:
    """A table whose coordinator and member sign in through the city's provider, and a
    resident of the same city."""
    own = table("keskusta", name="Keskusta – Centre")
    return CityDirectory(
        coordinator=user("kaisa.koski@lahti.example", role=MembershipRole.COORDINATOR, at=own),
        member=user("ulla.saari@lahti.example", role=MembershipRole.MEMBER, at=own),
        resident=user("bertil@example.org"))


@dataclass
class SupportScene:
    """A round collecting ideas at Keskusta (``city``) with supports on (threshold
    ``threshold``, None for none) and two ideas by ``author`` (author@example.org):
    ``proposal_id`` and ``other_id``; residents of Keskusta ``supporters`` (supporter1@...
    to supporter3@example.org) and a resident of Pohjoinen (``neighbour``,
    neighbour@example.org)."""

    city: City
    author: User
    supporters: list[User]
    neighbour: User
    round_id: int
    proposal_id: int
    other_id: int


def support_scene(phase: RoundPhase = RoundPhase.PROPOSALS, *, threshold: int | None = 2,
                  enabled: bool = True) -> SupportScene:
    """See SupportScene."""
    cast = city()
    author = user("author@example.org")
    supporters = [user(f"supporter{n}@example.org") for n in (1, 2, 3)]
    neighbour = user("neighbour@example.org", postal_code="15200")
    row = round_(cast.own, phase, title="Ideas 2027", supports_enabled=enabled,
                 support_threshold=threshold if enabled else None)
    idea = proposal(row, author=author, title="Benches by the lake")
    other = proposal(row, author=author, title="A skate ramp", category="Sports")
    return SupportScene(cast, author, supporters, neighbour, row.id, idea.id, other.id)
