"""Casting ballots: one ballot per voter per round, secret, with receipts.

A voter is a signed-in resident (channel ``online``) or a voting code (``code`` online,
``paper`` when a table member enters the paper slip). ``cast_ballot`` runs in the caller's
transaction: it checks the round is open by server time to the second, validates the
choices, and upserts the ballot, the receipt and the participation, so that concurrent
submissions by one voter leave exactly one ballot (the database's unique keys decide).
"""

import hashlib
import hmac
import re
import secrets
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, bindparam, func, select, text

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    Ballot,
    BallotReceipt,
    PaperConflictRule,
    Participation,
    Proposal,
    Round,
    RoundPhase,
    User,
    VoteChannel,
    VoterEligibility,
    VotingCode,
)
from pb_vote.models.base import UTCDateTime
from pb_vote.services import catalog
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_rules import BallotInvalid, BallotSpec, normalize

# Codes: no look-alike characters (no 0/O, 1/I/L), typed in groups of four, any case.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16  # 31^16 ≈ 2^79: far beyond guessing, even without the rate limit
MAX_CODES_PER_BATCH = 5000


class VotingError(ServiceError):
    """A vote or a batch of voting codes was refused."""


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
    if round_.phase.voting_over:
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


@dataclass(frozen=True)
class VotingRules:
    """What a ballot in a round is checked against; fixed once the round votes."""

    round_id: int
    voter_eligibility: VoterEligibility
    paper_conflict_rule: PaperConflictRule
    spec: BallotSpec


# The rules of rounds seen voting, per database engine (so per application: tests that reuse
# round ids in fresh databases get fresh engines). A round never returns to voting once it
# leaves, and while it votes the database refuses changes to its settings, to the status
# and cost of its proposals, and accepted proposals joining or leaving it (migrations 0002,
# 0003, 0006, 0009), so the rules cannot go stale. The phase and the clock are never taken
# from here.
_rules_of_voting_rounds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def known_rules(round_id: int) -> VotingRules | None:
    """The rules of a round already seen voting (no database read), or None."""
    return _rules_of_voting_rounds.get(db.engine, {}).get(round_id)


def voting_rules(round_: Round) -> VotingRules:
    """The rules of ``round_``, kept for next time when it is voting."""
    rules = known_rules(round_.id)
    if rules is None:
        rules = VotingRules(round_.id, round_.voter_eligibility, round_.paper_conflict_rule,
                            ballot_spec(round_))
        if round_.phase is RoundPhase.VOTING:
            _rules_of_voting_rounds.setdefault(db.engine, {})[round_.id] = rules
    return rules


def voting_open(round_: Round, now: datetime) -> bool:
    """Whether ``round_`` takes ballots at ``now`` (server time, to the second)."""
    return (
        round_.phase is RoundPhase.VOTING
        and round_.voting_open_at <= now < round_.voting_close_at
    )


def open_rounds_voted_in(user: User, now: datetime) -> list[Round]:
    """The rounds still taking ballots at ``now`` in which ``user`` has voted as a resident.

    While such a round is open, the person may not delete the account (a new account with
    the same address could vote again) nor move their home postal code out of its table's
    area (they could vote in a second table's round at the same time)."""
    rounds = db.session.execute(
        select(Round).join(Participation, Participation.round_id == Round.id).where(
            Participation.user_id == user.id, Round.phase == RoundPhase.VOTING)
    ).scalars().all()
    return [round_ for round_ in rounds if voting_open(round_, now)]


def open_round_left_by_moving(user: User, postal_code: str, now: datetime) -> Round | None:
    """An open round ``user`` voted in whose table's area ``postal_code`` is outside, if any:
    the move is refused until that round closes (see :func:`open_rounds_voted_in`)."""
    postal_code = postal_code.strip()
    for round_ in open_rounds_voted_in(user, now):
        if postal_code not in round_.table.postal_codes:
            return round_
    return None


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


def may_follow(earlier: VoteChannel, channel: VoteChannel, rule: PaperConflictRule) -> bool:
    """Whether a ballot arriving by ``channel`` stands over the same voter's ``earlier`` one.

    Online, a voter may change their vote until close (so a double click just records the
    same ballot again). A paper slip is entered once: a second entry is refused. A code used
    both online and on paper: the round's rule decides which stands.
    """
    if earlier is channel:
        return channel is not VoteChannel.PAPER
    return (channel is VoteChannel.CODE) == (rule is PaperConflictRule.ONLINE_WINS)


# The participation is written first, and only while the round is open at ``now`` and the
# voter's earlier ballot (if any) gives way by may_follow(); everything else is written only
# when it was. Each voter's concurrent submissions queue on their participation row.
_OPEN = (
    f"rounds WHERE id = :round_id AND phase = '{RoundPhase.VOTING.value}'"
    " AND voting_open_at <= :now AND :now < voting_close_at"
)
_PARTICIPATION = (
    "INSERT INTO participations (round_id, user_id, voting_code_id, channel, first_voted_at,"
    " last_voted_at, notify_results)"
    " SELECT :round_id, :user_id, :code_id, :channel, :now, :now, :notify FROM {source}"
    " ON CONFLICT (round_id, {column}) DO UPDATE SET channel = excluded.channel,"
    " last_voted_at = excluded.last_voted_at, notify_results = excluded.notify_results"
    " WHERE (participations.channel = excluded.channel AND :may_repeat)"
    " OR (participations.channel <> excluded.channel AND :may_override)"
    " RETURNING first_voted_at"
)
_BALLOT = (
    "INSERT INTO ballots (id, round_id, voter_key, choices) {source}"
    " ON CONFLICT (round_id, voter_key) DO UPDATE SET choices = excluded.choices"
)
# A voter's receipt code is the same for every ballot they cast in a round
# (receipt_code_for), so a receipt once stored stays as it is.
_RECEIPT = (
    "INSERT INTO ballot_receipts (receipt_hash, round_id, receipt_key) {source}"
    " ON CONFLICT (round_id, receipt_key) DO NOTHING"
)
_CODE_USED = "UPDATE voting_codes SET used_at = :now WHERE id = :code_id AND used_at IS NULL"
_PARAMETER_TYPES = {
    "round_id": Integer, "user_id": Integer, "code_id": Integer, "channel": String,
    "now": UTCDateTime, "notify": Boolean, "may_repeat": Boolean, "may_override": Boolean,
    "ballot_id": String, "voter_key": String, "choices": JSON, "receipt_hash": String,
    "receipt_key": String,
}


def _statement(sql: str, **columns):
    """A text statement whose parameters and result columns convert like the models'."""
    return text(sql).bindparams(
        *(bindparam(name, type_=_PARAMETER_TYPES[name]) for name in set(re.findall(r":(\w+)", sql)))
    ).columns(**columns)


def postgresql_cast_statement(column: str):
    """PostgreSQL: the whole ballot in one statement (data-modifying CTEs). The round row is
    locked FOR SHARE, so a close or cancel waits for the ballots in flight, and a ballot
    after it sees the round closed and writes nothing. ``column``: ``user_id`` or
    ``voting_code_id``, the participation's key."""
    return _statement(
        f"WITH open_round AS (SELECT voting_close_at FROM {_OPEN} FOR SHARE),"
        f" participation AS ({_PARTICIPATION.format(source='open_round', column=column)}),"
        " ballot AS ("
        + _BALLOT.format(source="SELECT :ballot_id, :round_id, :voter_key, :choices"
                                " FROM participation")
        + "), receipt AS ("
        + _RECEIPT.format(source="SELECT :receipt_hash, :round_id, :receipt_key"
                                 " FROM participation")
        + f"), code AS ({_CODE_USED} AND EXISTS (SELECT FROM participation))"
        " SELECT participation.first_voted_at, open_round.voting_close_at"
        " FROM participation, open_round",
        first_voted_at=UTCDateTime(), voting_close_at=UTCDateTime(),
    )


_CAST_STATEMENTS = {
    "postgresql": {
        column: postgresql_cast_statement(column) for column in ("user_id", "voting_code_id")
    },
    "sqlite": {
        # SQLite takes its write lock at the first write, so the round cannot change after
        # the participation is written; the other rows follow in their own statements.
        column: _statement(_PARTICIPATION.format(source=_OPEN, column=column),
                           first_voted_at=UTCDateTime())
        for column in ("user_id", "voting_code_id")
    },
}
_SQLITE_FOLLOWERS = (
    _statement(_BALLOT.format(source="VALUES (:ballot_id, :round_id, :voter_key, :choices)")),
    _statement(_RECEIPT.format(source="VALUES (:receipt_hash, :round_id, :receipt_key)")),
)
_SQLITE_CODE_USED = _statement(_CODE_USED)


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
    # The rules cannot change once voting is open; the phase and the clock are checked by the
    # writes themselves, and the clock once more after them.
    rules = known_rules(round_id)
    if rules is None:
        round_ = db.session.get(Round, round_id)
        if round_ is None or not voting_open(round_, now):
            raise VotingError("closed")
        rules = voting_rules(round_)
    try:
        normal = normalize(rules.spec, choices)
    except BallotInvalid:
        if not _still_open(round_id, now):
            raise VotingError("closed") from None
        raise
    receipt_code = receipt_code_for(secret, voter, round_id)
    other = VoteChannel.PAPER if channel is VoteChannel.CODE else VoteChannel.CODE
    rule = rules.paper_conflict_rule
    values = {
        "round_id": round_id, "user_id": voter.user_id, "code_id": voter.voting_code_id,
        "channel": channel.value, "now": now, "notify": notify_results,
        "may_repeat": may_follow(channel, channel, rule),
        "may_override": channel is not VoteChannel.ONLINE and may_follow(other, channel, rule),
        "ballot_id": secrets.token_hex(16), "voter_key": voter_key(secret, voter, round_id),
        "choices": normal, "receipt_hash": code_hash(receipt_code),
        "receipt_key": receipt_key(secret, voter, round_id),
    }
    column = "user_id" if voter.user_id is not None else "voting_code_id"
    dialect = db.session.get_bind().dialect.name
    row = db.session.execute(_CAST_STATEMENTS[dialect][column], values).first()
    if row is None:
        raise _refusal(round_id, voter, channel, now)
    if dialect == "postgresql":
        # The round stays locked until commit: only the clock can still close it.
        still_open = clock.utcnow() < row.voting_close_at
    else:
        for statement in _SQLITE_FOLLOWERS:
            db.session.execute(statement, values)
        if voter.voting_code_id is not None:
            db.session.execute(_SQLITE_CODE_USED, values)
        still_open = _still_open(round_id, clock.utcnow())
    if not still_open:
        raise VotingError("closed")
    return CastResult(format_code(receipt_code), row.first_voted_at != now, normal, now)


def codes_issued(round_: Round) -> int:
    """How many voting codes a round has (all batches)."""
    return db.session.execute(
        select(func.count()).select_from(VotingCode).where(VotingCode.round_id == round_.id)
    ).scalar_one()


def code_channel(round_id: int, code_id: int) -> VoteChannel | None:
    """How a voting code's ballot in the round was cast (online or on paper), or None."""
    return db.session.execute(
        select(Participation.channel).where(
            Participation.round_id == round_id, Participation.voting_code_id == code_id
        )
    ).scalar_one_or_none()


def code_held_back_by_paper(round_: Round, code_id: int) -> bool:
    """Whether a code's paper ballot stands by the round's rule, so it cannot vote online."""
    if may_follow(VoteChannel.PAPER, VoteChannel.CODE, round_.paper_conflict_rule):
        return False
    return code_channel(round_.id, code_id) is VoteChannel.PAPER


def _refusal(round_id: int, voter: Voter, channel: VoteChannel, now: datetime) -> VotingError:
    """Why nothing was written: the round was not open at ``now``, or the voter's earlier
    ballot stands (a paper slip entered twice, or the other channel wins by the round's
    rule)."""
    if not _still_open(round_id, now):
        return VotingError("closed")
    earlier = code_channel(round_id, voter.voting_code_id)
    if earlier is channel:
        return VotingError("code_used", channel=channel.value)
    if earlier is not None:
        return VotingError("code_used_other_channel", channel=channel.value,
                           earlier=earlier.value)
    return VotingError("closed")


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
