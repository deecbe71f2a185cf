"""Casting ballots: one ballot per voter per round, secret, with receipts.

A voter is a signed-in resident (channel ``online``) or a voting code (``code`` online,
``paper`` when a table member enters the paper slip). ``cast_ballot`` runs in the caller's
transaction: it checks the round is open by server time to the second, validates the
choices, and upserts the ballot, the receipt and the participation, so that concurrent
submissions by one voter leave exactly one ballot (the database's unique keys decide).
"""

import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from pb_vote import clock
from pb_vote.extensions import db
from pb_vote.models import (
    Ballot,
    BallotReceipt,
    PaperConflictRule,
    Participation,
    Proposal,
    RateLimitEvent,
    Round,
    RoundPhase,
    User,
    VoteChannel,
    VoterEligibility,
    VotingCode,
)
from pb_vote.services import catalog
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_rules import BallotSpec, normalize

# Codes: no look-alike characters (no 0/O, 1/I/L), typed in groups of four, any case.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16  # 31^16 ≈ 2^79: far beyond guessing, even without the rate limit
MAX_CODES_PER_BATCH = 5000


class VotingError(Exception):
    """A vote was refused; ``code`` names why."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Voter:
    """Who casts a ballot: a person, or a voting code."""

    user_id: int | None = None
    voting_code_id: int | None = None

    @property
    def reference(self) -> str:
        """The stable name of this voter inside the HMACs."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"code:{self.voting_code_id}"


@dataclass(frozen=True)
class CastResult:
    """What the voter is told after voting."""

    receipt_code: str  # only its hash is stored; the same for every ballot of this voter
    replaced: bool  # an earlier ballot of this voter was replaced
    choices: dict[str, int]
    cast_at: datetime


def _hmac(secret: str, purpose: str, voter: Voter, round_id: int) -> str:
    message = f"{purpose}|{voter.reference}|round:{round_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def voter_key(secret: str, voter: Voter, round_id: int) -> str:
    """The pseudonym of a voter's ballot in a round."""
    return _hmac(secret, "ballot", voter, round_id)


def receipt_key(secret: str, voter: Voter, round_id: int) -> str:
    """The pseudonym of a voter's receipt in a round (different from the ballot's)."""
    return _hmac(secret, "receipt", voter, round_id)


def receipt_code_for(secret: str, voter: Voter, round_id: int) -> str:
    """The voter's receipt code in a round: the same every time they vote there, so a double
    click or a changed vote never leaves them holding a receipt that no longer counts.
    Derived with the ballot secret, so the database alone cannot produce it."""
    digest = int(_hmac(secret, "receipt-code", voter, round_id), 16)
    symbols = []
    for _ in range(CODE_LENGTH):
        digest, index = divmod(digest, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[index])
    return "".join(symbols)


def normalize_code(typed: str) -> str:
    """A typed code in canonical form: no spaces or dashes, upper case."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def code_hash(typed: str) -> str:
    """The stored hash of a code (voting code or receipt code)."""
    return hashlib.sha256(normalize_code(typed).encode()).hexdigest()


def format_code(code: str) -> str:
    """A code in groups of four for reading and typing."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def looks_like_code(typed: str) -> bool:
    """Whether ``typed`` has the shape of a code (so a typo can be told apart from a miss)."""
    canonical = normalize_code(typed)
    return len(canonical) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in canonical)


def generate_codes(actor: User, round_: Round, count: int) -> list[str]:
    """Create ``count`` voting codes for ``round_``; returns them formatted, the only time
    they exist in plain text (only hashes are stored). Audited (the count, never codes)."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise VotingError("code_count")
    if round_.voter_eligibility is VoterEligibility.RESIDENTS:
        raise VotingError("codes_not_used")
    if round_.phase in (RoundPhase.CLOSED, RoundPhase.PUBLISHED, RoundPhase.CANCELLED):
        raise VotingError("round_over")
    batch = (db.session.execute(
        select(func.max(VotingCode.batch)).where(VotingCode.round_id == round_.id)
    ).scalar() or 0) + 1
    codes = [new_code() for _ in range(count)]
    db.session.add_all(
        VotingCode(round_id=round_.id, code_hash=code_hash(code), batch=batch) for code in codes
    )
    db.session.flush()
    record_event(actor, "voting_codes.generated", "round", round_.id, table_id=round_.table_id,
                 details={"count": count, "batch": batch})
    return [format_code(code) for code in codes]


def find_code(round_: Round, typed: str) -> VotingCode | None:
    """The voting code of ``round_`` matching what was typed, or None."""
    if not looks_like_code(typed):
        return None
    return db.session.execute(
        select(VotingCode).where(
            VotingCode.round_id == round_.id, VotingCode.code_hash == code_hash(typed)
        )
    ).scalar_one_or_none()


def resident_may_vote(user: User | None, round_: Round) -> bool:
    """Signed-in residents vote when the round admits residents and their home postal code
    is in the table's area."""
    return (
        user is not None
        and user.is_authenticated
        and round_.voter_eligibility in (VoterEligibility.RESIDENTS, VoterEligibility.BOTH)
        and user.postal_code is not None
        and user.postal_code in round_.table.postal_codes
    )


def codes_admitted(round_: Round) -> bool:
    """Whether voting codes (online or on paper) count in this round."""
    return round_.voter_eligibility in (VoterEligibility.CODES, VoterEligibility.BOTH)


def ballot_proposals(round_: Round) -> list[Proposal]:
    """The accepted proposals: the ballot."""
    return catalog.ballot(round_)


def ballot_spec(round_: Round, proposals: list[Proposal] | None = None) -> BallotSpec:
    """The rules of ``round_``'s ballot."""
    proposals = ballot_proposals(round_) if proposals is None else proposals
    return BallotSpec(
        kind=round_.ballot_kind.value,
        costs={p.id: p.reviewed_cost_cents for p in proposals},
        budget_cents=round_.budget_cents,
        approval_min=round_.approval_min,
        approval_max=round_.approval_max,
        knapsack_min_spend_percent=round_.knapsack_min_spend_percent,
        points_total=round_.points_total,
        points_max_per_proposal=round_.points_max_per_proposal,
    )


def voting_open(round_: Round, now: datetime) -> bool:
    """Whether ``round_`` takes ballots at ``now`` (server time, to the second)."""
    return (
        round_.phase is RoundPhase.VOTING
        and round_.voting_open_at <= now < round_.voting_close_at
    )


def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def _still_open(round_id: int, now: datetime) -> bool:
    """Read the round's phase and window afresh inside this transaction."""
    phase, opens, closes = db.session.execute(
        select(Round.phase, Round.voting_open_at, Round.voting_close_at).where(
            Round.id == round_id
        )
    ).one()
    return phase is RoundPhase.VOTING and opens <= now < closes


def existing_choices(secret: str, voter: Voter, round_id: int) -> dict[str, int] | None:
    """The voter's current ballot, for showing it back to them (their own only)."""
    return db.session.execute(
        select(Ballot.choices).where(
            Ballot.round_id == round_id, Ballot.voter_key == voter_key(secret, voter, round_id)
        )
    ).scalar_one_or_none()


def cast_ballot(
    secret: str,
    round_id: int,
    voter: Voter,
    channel: VoteChannel,
    choices: dict[int, int],
    *,
    notify_results: bool = False,
) -> CastResult:
    """Record ``voter``'s ballot in ``round_id`` (flushes; the caller commits).

    Raises VotingError("closed") outside the voting window by server time, BallotInvalid for
    a ballot that breaks the round's rules, VotingError("code_used") for a code that already
    voted (or whose other channel stands by the round's rule).
    """
    now = clock.utcnow()
    # The ballot settings cannot change once voting is open (a database trigger refuses it),
    # so the round already loaded by this request serves for them; the phase and the clock
    # are checked again below, after the writes.
    round_ = db.session.get(Round, round_id)
    if round_ is None or not voting_open(round_, now):
        raise VotingError("closed")
    normal = normalize(ballot_spec(round_), choices)
    key = voter_key(secret, voter, round_id)
    if voter.voting_code_id is not None:
        _check_code_use(round_, voter, channel)

    ballot = _insert(Ballot).values(
        id=secrets.token_hex(16), round_id=round_id, voter_key=key, choices=normal
    )
    db.session.execute(ballot.on_conflict_do_update(
        index_elements=["round_id", "voter_key"], set_={"choices": ballot.excluded.choices}
    ))
    receipt_code = receipt_code_for(secret, voter, round_id)
    receipt = _insert(BallotReceipt).values(
        receipt_hash=code_hash(receipt_code), round_id=round_id,
        receipt_key=receipt_key(secret, voter, round_id),
    )
    db.session.execute(receipt.on_conflict_do_update(
        index_elements=["round_id", "receipt_key"],
        set_={"receipt_hash": receipt.excluded.receipt_hash},
    ))
    conflict_column = "user_id" if voter.user_id is not None else "voting_code_id"
    participation = _insert(Participation).values(
        round_id=round_id, user_id=voter.user_id, voting_code_id=voter.voting_code_id,
        channel=channel.value, first_voted_at=now, last_voted_at=now,
        notify_results=notify_results,
    )
    first_voted_at = db.session.execute(participation.on_conflict_do_update(
        index_elements=["round_id", conflict_column],
        set_={"last_voted_at": now, "channel": channel.value,
              "notify_results": participation.excluded.notify_results},
    ).returning(Participation.first_voted_at)).scalar_one()
    replaced = first_voted_at != now
    if voter.voting_code_id is not None and not replaced:
        db.session.execute(
            VotingCode.__table__.update()
            .where(VotingCode.id == voter.voting_code_id, VotingCode.used_at.is_(None))
            .values(used_at=now)
        )
    # Check again now that this transaction holds the write locks (SQLite takes its lock at
    # the first write): a round closed or cancelled meanwhile stores nothing.
    if not _still_open(round_id, clock.utcnow()):
        raise VotingError("closed")
    return CastResult(format_code(receipt_code), replaced, normal, now)


def _check_code_use(round_: Round, voter: Voter, channel: VoteChannel) -> None:
    """Apply the one-ballot-per-code rule (raises VotingError when the code may not vote).

    Online, a code holder may change their vote until close, like a resident (so a double
    click just records the same ballot again). A paper slip is entered once: a second entry
    is refused. A code used both online and on paper: the round's rule decides which stands.
    """
    statement = select(Participation).where(
        Participation.round_id == round_.id,
        Participation.voting_code_id == voter.voting_code_id,
    )
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    earlier = db.session.execute(statement).scalar_one_or_none()
    if earlier is None:
        return
    if earlier.channel is channel:
        if channel is VoteChannel.PAPER:
            raise VotingError("code_used")
        return
    online_wins = round_.paper_conflict_rule is PaperConflictRule.ONLINE_WINS
    newcomer_wins = (channel is VoteChannel.CODE) == online_wins
    if not newcomer_wins:
        raise VotingError("code_used_other_channel", channel=earlier.channel.value)


def turnout(round_: Round) -> dict:
    """Ballots by channel and by local day. Counts of participations: never choices."""
    rows = db.session.execute(
        select(Participation.channel, Participation.first_voted_at).where(
            Participation.round_id == round_.id
        )
    ).all()
    by_channel = Counter(dict.fromkeys(VoteChannel, 0))
    by_day: Counter = Counter()
    for channel, voted_at in rows:
        by_channel[channel] += 1
        by_day[voted_at.astimezone(round_.zone).date()] += 1
    return {
        "total": len(rows),
        "by_channel": dict(by_channel),
        "by_day": sorted(by_day.items()),
    }


def receipt_is_counted(round_id: int, typed: str) -> bool:
    """Whether a receipt code belongs to a ballot in the count of ``round_id``."""
    return db.session.execute(
        select(BallotReceipt.receipt_hash).where(
            BallotReceipt.round_id == round_id, BallotReceipt.receipt_hash == code_hash(typed)
        )
    ).first() is not None


def too_many_attempts(bucket: str, who: str, limit: int, window: timedelta) -> bool:
    """Whether ``who`` (hashed) already made ``limit`` counted attempts within ``window``."""
    since = clock.utcnow() - window
    count = db.session.execute(
        select(func.count()).select_from(RateLimitEvent).where(
            RateLimitEvent.bucket == bucket,
            RateLimitEvent.key_hash == hashlib.sha256(who.encode()).hexdigest(),
            RateLimitEvent.occurred_at > since,
        )
    ).scalar_one()
    return count >= limit


def count_attempt(bucket: str, who: str) -> None:
    """Count one attempt by ``who`` (stored hashed), and forget attempts older than a day."""
    db.session.add(RateLimitEvent(bucket=bucket,
                                  key_hash=hashlib.sha256(who.encode()).hexdigest()))
    db.session.execute(
        RateLimitEvent.__table__.delete().where(
            RateLimitEvent.occurred_at < clock.utcnow() - timedelta(days=1)
        )
    )
    db.session.flush()
