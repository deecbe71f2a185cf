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
    ResidentCheck,
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

# The persons of the development identity provider (tests/oidc_provider/provider.js) that
# `make run` starts: sign in with the name and any password.
DEMO_PERSONS = (
    ("aino", "postal code 15100 (Keskusta), born 1980"),
    ("bertil", "postal code 15110 (Keskusta), born 1992"),
    ("ella", "postal code 15100 (Keskusta), born 2015"),
    ("olli", "no address given, born 1975"),
    ("eino", "postal code 15300 (Etelä), born 1988"),
)

# The texts are in Finnish, the tables' main language, with Swedish and English beside them
# ({language: text}). Ideas stay in the language their author wrote.
TABLES = (
    ("keskusta",
     {"fi": "Keskusta", "sv": "Centrum", "en": "City centre"},
     {"fi": "Kaupungin keskusta ja satama.", "sv": "Stadens centrum och hamnen.",
      "en": "The city centre and the harbour."},
     ["15100", "15110", "15140", "15150"]),
    ("pohjoinen",
     {"fi": "Pohjoinen", "sv": "Norr", "en": "North"},
     {"fi": "Kärpänen, Ahtiala ja pohjoiset kylät.", "sv": "Kärpänen, Ahtiala och byarna i norr.",
      "en": "Kärpänen, Ahtiala and the northern villages."},
     ["15200", "15210", "15230", "15240"]),
    ("etela",
     {"fi": "Etelä", "sv": "Söder", "en": "South"},
     {"fi": "Renkomäki, Laune ja Jalkaranta.", "sv": "Renkomäki, Laune och Jalkaranta.",
      "en": "Renkomäki, Laune and Jalkaranta."},
     ["15300", "15320", "15340", "15610"]),
    # The east has no English description yet: English pages show the Finnish one.
    ("ita",
     {"fi": "Itä", "sv": "Öster", "en": "East"},
     {"fi": "Mukkula, Kivimaa ja Villähde.", "sv": "Mukkula, Kivimaa och Villähde."},
     ["15500", "15540", "15550", "15560"]),
)

# The round's categories: stored in Finnish, named in Swedish and English too.
CATEGORIES = {
    "fi": ["Puistot", "Liikunta", "Kulttuuri", "Liikenne"],
    "sv": ["Parker", "Idrott", "Kultur", "Trafik"],
    "en": ["Parks", "Sports", "Culture", "Traffic"],
}
ROUND_DESCRIPTION = {
    "fi": "Ideoita omaan lähiympäristöön. Asukkaat ehdottavat ja äänestävät, mihin rahat "
          "käytetään.",
    "sv": "Idéer för den egna närmiljön. Invånarna föreslår och röstar om hur pengarna "
          "används.",
    "en": "Ideas for the neighbourhood. Residents propose them and vote on how the money is "
          "spent.",
}

# (language, title, description, cost in cents, category, who put it forward)
PROPOSALS = (
    ("fi", "Penkkejä sataman rantareitille",
     "Kymmenen selkänojallista penkkiä rantareitin varrelle, jotta kävelyllä voi levähtää.",
     1_200_000, "Puistot", ProposalOrigin.RESIDENT),
    ("fi", "Valot hiihtoladulle",
     "LED-valot kahden kilometrin latulenkille, jotta talvi-iltoinakin pääsee hiihtämään.",
     4_500_000, "Liikunta", ProposalOrigin.RESIDENT),
    ("sv", "Musikkvällar för unga",
     "Fyra kvällar med musik och en ungdomsarbetare på plats, öppna för alla unga i området.",
     600_000, "Kulttuuri", ProposalOrigin.MEMBER),
    ("fi", "Turvallisempi suojatie koulun luo",
     "Korotettu suojatie ja varoitusmerkki koulun lähelle, jotta lasten koulumatka on "
     "turvallisempi.", 3_000_000, "Liikenne", ProposalOrigin.CITY),
    ("en", "Community garden boxes",
     "Twenty raised garden boxes that anyone in the area can grow vegetables in.",
     800_000, "Puistot", ProposalOrigin.RESIDENT),
    ("sv", "Cykelställ med tak vid busshållplatsen",
     "Ett cykelställ med tak för tjugo cyklar, så att man kan byta till bussen torrskodd.",
     400_000, "Liikenne", ProposalOrigin.RESIDENT),
)


def database_is_empty() -> bool:
    """True when no partnership table exists yet."""
    return db.session.execute(select(func.count()).select_from(Table)).scalar_one() == 0


def _round(table: Table, year: int, phase: RoundPhase, start_offset_days: int) -> Round:
    """A round of ``table`` titled by its name and ``year`` in each language, with the
    description and categories in all three."""
    now = clock.utcnow().replace(minute=0, second=0, microsecond=0)
    start = now + timedelta(days=start_offset_days)
    round_ = Round(
        table=table,
        budget_cents=10_000_000,
        phase=phase,
        proposals_open_at=start,
        proposals_close_at=start + timedelta(days=30),
        voting_open_at=start + timedelta(days=44),
        voting_close_at=start + timedelta(days=58),
        categories=list(CATEGORIES["fi"]),
        approval_min=1,
        approval_max=3,
    )
    round_.set_texts("title", {language: f"{name} {year}"
                               for language, name in table.texts("name").items()})
    round_.set_texts("description", ROUND_DESCRIPTION)
    round_.set_category_translations(CATEGORIES)
    db.session.add(round_)
    return round_


def _ballot_round(table: Table, year: int, start_offset_days: int, authors: dict) -> Round:
    """A round in voting: its proposals were accepted in review, then voting opened (the
    database takes no new ballot entries after that)."""
    round_ = _round(table, year, RoundPhase.REVIEW, start_offset_days)
    _proposals(round_, authors, ProposalStatus.ACCEPTED)
    db.session.flush()
    round_.phase = RoundPhase.VOTING
    return round_


def _proposals(round_: Round, authors: dict, status: ProposalStatus) -> None:
    for language, title, description, cost, category, origin in PROPOSALS:
        db.session.add(
            Proposal(
                round=round_,
                author=authors[(origin, language)],
                origin=origin,
                language=language,
                title=title,
                description=description,
                estimated_cost_cents=cost,
                category=category,
                location=round_.table.name,
                status=status,
                reviewed_cost_cents=cost if status is ProposalStatus.ACCEPTED else None,
            )
        )


def seed_demo(keys: VoteKeys) -> dict:
    """Create the demo data (flushes; the caller commits). Returns the voting codes of the
    round in voting (the only time they exist in plain text) under "codes"."""
    tables = {}
    for slug, names, descriptions, codes in TABLES:
        table = Table(slug=slug, main_language="fi")
        table.set_texts("name", names)
        table.set_texts("description", descriptions)
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
    swedish_speaker, _ = accounts.get_or_create_resident("sara@example.org", "sv")
    swedish_speaker.display_name = "Sara Sjöberg"
    swedish_speaker.postal_code = "15110"
    english_speaker, _ = accounts.get_or_create_resident("tom@example.org", "en")
    english_speaker.display_name = "Tom Walker"
    english_speaker.postal_code = "15140"
    authors = {
        (ProposalOrigin.RESIDENT, "fi"): resident,
        (ProposalOrigin.RESIDENT, "sv"): swedish_speaker,
        (ProposalOrigin.RESIDENT, "en"): english_speaker,
        (ProposalOrigin.MEMBER, "sv"): member,
        (ProposalOrigin.CITY, "fi"): admin,
    }

    voting = _ballot_round(tables["keskusta"], 2027, -46, authors)
    voting.voter_eligibility = VoterEligibility.BOTH
    collecting = _round(tables["pohjoinen"], 2027, RoundPhase.PROPOSALS, -5)
    _proposals(collecting, authors, ProposalStatus.SUBMITTED)
    review = _round(tables["etela"], 2027, RoundPhase.REVIEW, -35)
    _proposals(review, authors, ProposalStatus.SUBMITTED)
    db.session.flush()
    _moderation_examples(review, admin)
    # Strongly identified residents only: one person, one ballot, where the provider says
    # they live.
    identified = _ballot_round(tables["etela"], 2027, -46, authors)
    identified.set_texts("title", {"fi": "Etelä 2027: lähiliikunta",
                                   "sv": "Söder 2027: närmotion",
                                   "en": "South 2027: local sports"})
    identified.resident_check = ResidentCheck.IDENTIFIED
    closed = _ballot_round(tables["ita"], 2026, -45, authors)
    closed.voter_eligibility = VoterEligibility.CODES
    draft = _round(tables["ita"], 2027, RoundPhase.DRAFT, 20)
    # A draft still being written: no Swedish or English texts yet (its staff page says so).
    draft.translations = {}
    cancelled = _round(tables["pohjoinen"], 2026, RoundPhase.CANCELLED, -200)
    cancelled.set_texts("title", {"fi": "Pohjoinen 2026 (peruttu)",
                                  "sv": "Norr 2026 (inställd)",
                                  "en": "North 2026 (cancelled)"})
    cancelled.set_texts("description", {
        "fi": "Peruttiin, kun alueen budjetti siirrettiin vuoden 2027 kierrokselle.",
        "sv": "Inställd när områdets budget flyttades till omgången 2027.",
        "en": "Cancelled when the area's budget moved to the 2027 round."})
    db.session.flush()
    codes = generate_codes(admin, voting, 10)
    _published_results(closed, admin, keys)
    return {"codes": codes, "voting_round": voting.id, "identified_round": identified.id}


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
    moderation.accept(moderator, by_title["Penkkejä sataman rantareitille"], 1_100_000,
                      "Kahdeksan penkkiä: kaksi on jo paikallaan.")
    moderation.reject(moderator, by_title["Valot hiihtoladulle"],
                      "Kaupunki valaisee tämän ladun jo ensi talvesta alkaen.")
    moderation.request_changes(moderator, by_title["Community garden boxes"],
                               "Which park would host the boxes?")
    benches = by_title["Penkkejä sataman rantareitille"]
    duplicate = Proposal(
        round=round_, author=benches.author, origin=ProposalOrigin.RESIDENT, language="fi",
        title="Lisää penkkejä satamaan", description="Paikka levähtää kävelylenkillä.",
        estimated_cost_cents=300_000, category="Puistot", location="Satama",
    )
    db.session.add(duplicate)
    db.session.flush()
    moderation.merge(moderator, [duplicate], benches)
