"""Casting ballots: one ballot per voter per round, secret, with receipts.

A voter is a signed-in resident (channel ``online``) or a voting code (``code`` online,
``paper`` when a table member enters the paper slip). ``cast_ballot`` runs in the caller's
transaction: it checks the round is open by server time to the second, validates the
choices, and upserts the ballot, the receipt and the participation, so that concurrent
submissions by one voter leave exactly one ballot (the database's unique keys decide).
The codes and the pseudonyms the rows are stored under are made in ``services.codes``.
"""

import secrets
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from sqlalchemy import (
    Boolean,
    and_,
    bindparam,
    delete,
    exists,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    Ballot,
    BallotReceipt,
    PaperConflictRule,
    Participation,
    Proposal,
    ResidentCheck,
    Round,
    RoundPhase,
    TablePostalCode,
    TurnoutCount,
    User,
    VoteChannel,
    VoterEligibility,
    VotingCode,
    VotingCodeBatch,
)
from pb_vote.services import catalog, codes
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_box import VoteKeys, sealed_size
from pb_vote.services.ballot_rules import BallotInvalid, BallotSpec, normalize
from pb_vote.services.locking import locked

MAX_CODES_PER_BATCH = 5000


class VotingError(ServiceError):
    """A vote or a batch of voting codes was refused."""


@dataclass(frozen=True)
class Voter:
    """Who casts a ballot: a person, or a voting code; with the pseudonym of the strongly
    identified person casting it, if any (one ballot per such person per round, however
    they vote)."""

    user_id: int | None = None
    voting_code_id: int | None = None
    person: str | None = None

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


SLIP_LANGUAGES = ("fi", "sv", "en")
DEFAULT_SLIP_LANGUAGES = ("fi", "sv")  # a bilingual city's two; English when asked


@dataclass(frozen=True)
class IssuedBatch:
    """A batch just generated: the record, and its codes in plain text (this once only)."""

    batch: VotingCodeBatch
    codes: list[str]  # formatted, ABCD-EFGH-...


def generate_batch(actor: User, round_: Round, count: int,
                   languages=DEFAULT_SLIP_LANGUAGES) -> IssuedBatch:
    """Create a batch of ``count`` voting codes for ``round_``, its slips in ``languages``;
    the codes are returned formatted, the only time they exist in plain text (only hashes
    are stored). Audited (the count and the languages, never codes)."""
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise VotingError("code_count")
    languages = [code for code in SLIP_LANGUAGES if code in set(languages)]
    if not languages:
        raise VotingError("slip_languages")
    if round_.voter_eligibility is VoterEligibility.RESIDENTS:
        raise VotingError("codes_not_used")
    if round_.phase.voting_over:
        raise VotingError("round_over")
    # Two batches at once: the second waits here, then numbers itself after the first.
    locked(select(Round).where(Round.id == round_.id))
    number = (db.session.execute(
        select(func.max(VotingCodeBatch.number)).where(VotingCodeBatch.round_id == round_.id)
    ).scalar() or 0) + 1
    batch = VotingCodeBatch(round_id=round_.id, number=number, count=count,
                            languages=languages, created_by_id=actor.id if actor else None)
    db.session.add(batch)
    db.session.flush()
    fresh = [codes.new_code() for _ in range(count)]
    db.session.add_all(
        VotingCode(round_id=round_.id, code_hash=codes.code_hash(code), batch=number)
        for code in fresh
    )
    db.session.flush()
    record_event(actor, "voting_codes.generated", "round", round_.id, table_id=round_.table_id,
                 details={"count": count, "batch": number, "languages": languages})
    return IssuedBatch(batch, [codes.format_code(code) for code in fresh])


def generate_codes(actor: User, round_: Round, count: int,
                   languages=DEFAULT_SLIP_LANGUAGES) -> list[str]:
    """Like ``generate_batch``; returns only the formatted codes."""
    return generate_batch(actor, round_, count, languages).codes


@dataclass(frozen=True)
class BatchSummary:
    """A batch as the codes page lists it."""

    batch: VotingCodeBatch
    used: int  # codes that have voted
    stopped: int  # codes the void stopped before they were used


def code_batches(round_: Round) -> list[BatchSummary]:
    """The round's batches, newest first, with how many of each were used or stopped."""
    used = func.count(VotingCode.used_at)
    stopped = func.count(VotingCode.voided_at)
    counts = {
        number: (u, v) for number, u, v in db.session.execute(
            select(VotingCode.batch, used, stopped).where(VotingCode.round_id == round_.id)
            .group_by(VotingCode.batch))
    }
    batches = db.session.execute(
        select(VotingCodeBatch).where(VotingCodeBatch.round_id == round_.id)
        .order_by(VotingCodeBatch.number.desc())
    ).scalars()
    return [BatchSummary(b, *counts.get(b.number, (0, 0))) for b in batches]


def void_batch(actor: User, round_: Round, number: int, reason: str) -> int:
    """Void batch ``number`` of ``round_`` (its sheet did not print, or went missing): its
    codes not used by now stop working; a ballot already cast with one stays. Audited with
    the reason. Returns how many codes stopped. Raises VotingError("reason_required"),
    ("batch_unknown"), ("batch_voided") when already voided, ("round_over") once the
    results are published or the round cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise VotingError("reason_required")
    if round_.phase in (RoundPhase.PUBLISHED, RoundPhase.CANCELLED):
        raise VotingError("round_over")
    found = locked(select(VotingCodeBatch).where(VotingCodeBatch.round_id == round_.id,
                                                 VotingCodeBatch.number == number))
    if not found:
        raise VotingError("batch_unknown")
    batch = found[0]
    if batch.voided_at is not None:
        raise VotingError("batch_voided")
    now = clock.utcnow()
    stopped = db.session.execute(
        update(VotingCode).where(VotingCode.round_id == round_.id, VotingCode.batch == number,
                                 VotingCode.used_at.is_(None))
        .values(voided_at=now).execution_options(synchronize_session=False)
    ).rowcount
    batch.voided_at, batch.voided_by_id, batch.void_reason = now, actor.id, reason
    db.session.flush()
    record_event(actor, "voting_codes.voided", "round", round_.id, table_id=round_.table_id,
                 details={"batch": number, "stopped": stopped, "reason": reason})
    return stopped


def find_code(round_: Round, typed: str) -> VotingCode | None:
    """The voting code of ``round_`` matching what was typed, or None."""
    if not codes.looks_like_code(typed):
        return None
    return db.session.execute(
        select(VotingCode).where(
            VotingCode.round_id == round_.id, VotingCode.code_hash == codes.code_hash(typed)
        )
    ).scalar_one_or_none()


def paper_voter(round_: Round, typed_code: str) -> Voter:
    """The voter a paper slip is entered for: the voting code printed on it.

    Raises VotingError("no_paper_ballots") when ``round_`` takes no voting codes, and
    VotingError("paper_code_unknown") when no code of ``round_`` matches what was typed.
    """
    if not codes_admitted(round_):
        raise VotingError("no_paper_ballots")
    code = find_code(round_, typed_code)
    if code is None:
        raise VotingError("paper_code_unknown")
    if code.voided_at is not None:
        raise VotingError("paper_code_voided")
    return Voter(voting_code_id=code.id)


def online_code_voter(round_: Round, typed_code: str) -> Voter:
    """The voter a code typed online stands for. Raises VotingError("code_not_usable"),
    with the same words whether the code does not exist or cannot be used here (its paper
    ballot stands by the round's rule), so a guess learns nothing."""
    code = find_code(round_, typed_code)
    if code is None or code.voided_at is not None or code_held_back_by_paper(round_, code.id):
        raise VotingError("code_not_usable")
    return Voter(voting_code_id=code.id)


def record_paper_entry(actor: User, round_: Round) -> None:
    """Audit that ``actor`` entered a paper ballot in ``round_`` (who, where, when: never the
    code or the choices)."""
    record_event(actor, "paper_ballot.entered", "round", round_.id, table_id=round_.table_id)


def void_paper_ballot(actor: User, keys: VoteKeys, round_: Round, typed_code: str,
                      reason: str) -> None:
    """Void a mis-keyed paper entry so that its slip can be entered again: its ballot,
    receipt and participation go, and the code is unused again. Only before results are
    published; audited with the reason (never the code or the choices). Raises
    VotingError("reason_required"), ("round_over") once published or cancelled,
    ("paper_code_unknown"), or ("not_a_paper_entry") when the code's ballot was not entered
    on paper."""
    if not (reason or "").strip():
        raise VotingError("reason_required")
    if round_.phase in (RoundPhase.PUBLISHED, RoundPhase.CANCELLED):
        raise VotingError("round_over")
    voter = paper_voter(round_, typed_code)
    locked(select(Participation).where(Participation.round_id == round_.id,
                                       Participation.voting_code_id == voter.voting_code_id))
    if code_channel(round_.id, voter.voting_code_id) is not VoteChannel.PAPER:
        raise VotingError("not_a_paper_entry")
    secret = keys.pseudonym_secret
    db.session.execute(delete(Ballot).where(
        Ballot.round_id == round_.id,
        Ballot.voter_key == codes.voter_key(secret, voter, round_.id)))
    db.session.execute(delete(BallotReceipt).where(
        BallotReceipt.round_id == round_.id,
        BallotReceipt.receipt_key == codes.receipt_key(secret, voter, round_.id)))
    db.session.execute(delete(Participation).where(
        Participation.round_id == round_.id,
        Participation.voting_code_id == voter.voting_code_id))
    db.session.execute(update(VotingCode).where(VotingCode.id == voter.voting_code_id)
                       .values(used_at=None))
    record_event(actor, "paper_ballot.voided", "round", round_.id, table_id=round_.table_id,
                 details={"reason": reason.strip()})


def resident_may_vote(user: User | None, round_: Round) -> bool:
    """Signed-in residents vote when the round admits residents, their home postal code
    (the verified one of a strongly identified person, else the stated one) is in the
    table's area, they are strongly identified where the round asks for it, and they have
    reached the round's minimum age, if any (known only from a provider's date of birth)."""
    return resident_refusal(user, round_) is None


def resident_refusal(user: User | None, round_: Round) -> str | None:
    """Why a signed-in ``user`` cannot vote in ``round_`` as a resident, or None:
    "sign_in", "codes_only", "identify" (the round needs strong identification, which a
    minimum age does too), "no_postal_code", "outside_area", "age_unknown" (the provider
    gave no date of birth) or "too_young"."""
    if user is None or not user.is_authenticated:
        return "sign_in"
    if round_.voter_eligibility not in (VoterEligibility.RESIDENTS, VoterEligibility.BOTH):
        return "codes_only"
    needs_identity = round_.resident_check is ResidentCheck.IDENTIFIED or bool(
        round_.min_voter_age)
    if needs_identity and not user.is_identified:
        return "identify"
    if not user.home_postal_code:
        return "no_postal_code"
    if user.home_postal_code not in round_.table.postal_codes:
        return "outside_area"
    if round_.min_voter_age and not user.birth_month:
        return "age_unknown"
    if not identity_age_allows(user, round_):
        return "too_young"
    return None


def identity_age_allows(user: User, round_: Round) -> bool:
    """Whether ``user`` has reached ``round_``'s minimum age by the day voting closes (in
    the round's time zone), counting a birthday as the last day of its month."""
    if not round_.min_voter_age:
        return True
    if not user.birth_month:
        return False
    closes = (round_.voting_close_at or clock.utcnow()).astimezone(round_.zone).date()
    year, month = (int(part) for part in user.birth_month.split("-"))
    year += round_.min_voter_age
    reached = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return closes >= reached


def codes_admitted(round_) -> bool:
    """Whether voting codes (online or on paper) count in this round (a Round, or its
    VotingRules)."""
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

    @cached_property
    def sealed_size(self) -> int:
        """The one length every sealed ballot of the round is padded to."""
        return ballot_size(self.spec)


def ballot_size(spec: BallotSpec) -> int:
    """The padded length of a round's sealed ballots: that of the largest ballot its rules
    allow, so the size of a sealed ballot tells nothing of what it holds."""
    most = 1
    if spec.kind == "points":
        most = spec.points_max_per_proposal or spec.points_total or 1
    return sealed_size(spec.costs, most)


# The rules of rounds seen voting, per database engine (so per application: tests that reuse
# round ids in fresh databases get fresh engines). A round never returns to voting once it
# leaves, and while it votes the database refuses changes to its settings, to the status
# and cost of its proposals, and accepted proposals joining or leaving it (migrations 0002,
# 0003, 0006, 0009), so the rules cannot go stale. The phase and the clock are never taken
# from here.
_rules_of_voting_rounds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _known_rules(round_id: int) -> VotingRules | None:
    """The rules of a round already seen voting (no database read), or None."""
    return _rules_of_voting_rounds.get(db.engine, {}).get(round_id)


def _rules_read(round_: Round) -> VotingRules:
    """The rules of ``round_`` from the database, kept for next time when it is voting."""
    rules = VotingRules(round_.id, round_.voter_eligibility, round_.paper_conflict_rule,
                        ballot_spec(round_))
    if round_.phase is RoundPhase.VOTING:
        _rules_of_voting_rounds.setdefault(db.engine, {})[round_.id] = rules
    return rules


def rules_of(round_id: int) -> VotingRules | None:
    """The rules a ballot in round ``round_id`` is checked against (who may vote, the
    ballot's kind and limits), or None when there is no such round. Whether the round is
    open is not among them: ``cast_ballot`` checks that when it writes. While the round
    votes its rules are fixed, so a vote there needs no read of the round."""
    rules = _known_rules(round_id)
    if rules is None:
        round_ = db.session.get(Round, round_id)
        if round_ is None:
            return None
        rules = _rules_read(round_)
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


def existing_choices(keys: VoteKeys, voter: Voter, round_id: int) -> dict[str, int] | None:
    """The voter's current ballot, for showing it back to them (their own only). A ballot
    entered on paper is never shown online: the slip passed through staff hands, and
    whoever holds its code must not read (or copy) what was written on it."""
    if voter.voting_code_id is not None and code_channel(
            round_id, voter.voting_code_id) is VoteChannel.PAPER:
        return None
    voter_key = codes.voter_key(keys.pseudonym_secret, voter, round_id)
    sealed = db.session.execute(
        select(Ballot.sealed).where(Ballot.round_id == round_id, Ballot.voter_key == voter_key)
    ).scalar_one_or_none()
    if sealed is None:
        return None
    return keys.keyring.open(sealed, round_id=round_id, voter_key=voter_key)


def counted_choices(keys: VoteKeys, round_id: int) -> list[dict[str, int]]:
    """Every ballot of a round, opened for the count (in no particular order, and with
    nothing that says whose)."""
    rows = db.session.execute(
        select(Ballot.voter_key, Ballot.sealed).where(Ballot.round_id == round_id))
    return [keys.keyring.open(sealed, round_id=round_id, voter_key=voter_key)
            for voter_key, sealed in rows]


def reseal_ballots(keys: VoteKeys) -> int:
    """Seal again with the first key every ballot sealed with another (after a new key was
    put first in ``BALLOT_KEYS``), so the old key can then be retired. Returns how many were
    resealed (flushes; the caller commits)."""
    sealing = keys.keyring.sealing_key_id
    resealed = 0
    for round_id in db.session.execute(select(Ballot.round_id).distinct()).scalars():
        round_ = db.session.get(Round, round_id)
        size = ballot_size(ballot_spec(round_))
        for ballot in db.session.execute(
                select(Ballot).where(Ballot.round_id == round_id)).scalars():
            if keys.keyring.sealed_with(ballot.sealed) == sealing:
                continue
            choices = keys.keyring.open(ballot.sealed, round_id=round_id,
                                        voter_key=ballot.voter_key)
            ballot.sealed = keys.keyring.seal(choices, round_id=round_id,
                                              voter_key=ballot.voter_key, size=size)
            resealed += 1
    db.session.flush()
    return resealed


def may_follow(earlier: VoteChannel, channel: VoteChannel, rule: PaperConflictRule) -> bool:
    """Whether a ballot arriving by ``channel`` stands over the same voter's ``earlier`` one.

    Online, a voter may change their vote until close (so a double click just records the
    same ballot again). A paper slip is entered once: a second entry is refused. A code used
    both online and on paper: the round's rule decides which stands.
    """
    if earlier is channel:
        return channel is not VoteChannel.PAPER
    return (channel is VoteChannel.CODE) == (rule is PaperConflictRule.ONLINE_WINS)


# -- The writes of a ballot ------------------------------------------------------------------
# One statement on PostgreSQL (data-modifying CTEs), four on SQLite; the same rows and the
# same conditions on both. Every value is a bound parameter typed like the column it goes to
# and named like it, except ``now`` (the times), ``ballot_id`` and ``round``: SQLAlchemy
# would add a parameter named like a column of voting_codes (``round_id``) to the UPDATE's
# SET clause.
#
# The participation is written first, and only while the round is open at ``now`` and the
# voter's earlier ballot (if any) gives way by may_follow(), passed in as ``may_repeat`` (the
# earlier ballot came by the same channel) and ``may_override`` (by the other one). The
# ballot, the receipt and the code's use are written only when the participation was. Each
# voter's concurrent submissions queue on their participation row. A voting code votes only
# while no void of its batch has stopped it (``voided_at``), checked by the same writes.

_participations = Participation.__table__
_ballots = Ballot.__table__
_receipts = BallotReceipt.__table__
_codes = VotingCode.__table__
_rounds = Round.__table__
_users = User.__table__
_areas = TablePostalCode.__table__


def _value(column, name: str | None = None):
    """The bound parameter ``name`` (default: the column's name), typed like ``column``."""
    return bindparam(name or column.name, type_=column.type)


_PARTICIPATION_ROW = {
    "round_id": _value(_participations.c.round_id, "round"),
    "user_id": _value(_participations.c.user_id),
    "voting_code_id": _value(_participations.c.voting_code_id),
    "channel": _value(_participations.c.channel),
    "first_voted_at": _value(_participations.c.first_voted_at, "now"),
    "last_voted_at": _value(_participations.c.last_voted_at, "now"),
    "notify_results": _value(_participations.c.notify_results),
    "person_key": _value(_participations.c.person_key),
}
_BALLOT_ROW = {
    "id": _value(_ballots.c.id, "ballot_id"),
    "round_id": _value(_ballots.c.round_id, "round"),
    "voter_key": _value(_ballots.c.voter_key),
    "sealed": _value(_ballots.c.sealed),
}
_RECEIPT_ROW = {
    "receipt_hash": _value(_receipts.c.receipt_hash),
    "round_id": _value(_receipts.c.round_id, "round"),
    "receipt_key": _value(_receipts.c.receipt_key),
}


def _while_open(query):
    """``query`` over the round's row, which it finds only while the round is open at
    ``now``."""
    now = _value(_rounds.c.voting_open_at, "now")
    return query.where(
        _rounds.c.id == _value(_rounds.c.id, "round"),
        _rounds.c.phase == RoundPhase.VOTING,
        _rounds.c.voting_open_at <= now,
        now < _rounds.c.voting_close_at,
    )


def _resident_in_area():
    """The voting resident's account, found only while its home postal code is in the area
    of the round's table: checked when the ballot is written, so a postal-code move at the
    same moment cannot let one person vote in two tables' rounds."""
    table = select(_rounds.c.table_id).where(
        _rounds.c.id == _value(_rounds.c.id, "round")).scalar_subquery()
    return select(_users.c.id).where(
        _users.c.id == _value(_participations.c.user_id),
        func.coalesce(_users.c.verified_postal_code, _users.c.postal_code).in_(
            select(_areas.c.postal_code).where(_areas.c.table_id == table)),
    )


def _person_unvoted(key: str):
    """True unless another voter's participation in the round carries the person's key (a
    strongly identified person voted another way: with their account or with a code). The
    unique index on (round, person key) is the truth; this turns a conflict already
    committed into a plain refusal rather than an error."""
    other = _participations.c[key].is_(None) | (
        _participations.c[key] != _value(_participations.c[key]))
    return ~exists().where(
        _participations.c.round_id == _value(_participations.c.round_id, "round"),
        _participations.c.person_key == _value(_participations.c.person_key),
        other)


def _usable_code():
    """The voting code's row, found only while no void of its batch has stopped it."""
    return select(_codes.c.id).where(_codes.c.id == _value(_codes.c.id, "voting_code_id"),
                                     _codes.c.voided_at.is_(None))


def _participation_upsert(insert, key: str, rows):
    """Write the voter's participation from ``rows`` (one row while the round is open,
    else none), keyed by ``key`` (``user_id`` or ``voting_code_id``): a new one, or the
    earlier one updated when its ballot gives way. Returns when the voter first voted; no
    row when nothing was written."""
    statement = insert(_participations).from_select(list(_PARTICIPATION_ROW), rows)
    arriving = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_participations.c.round_id, _participations.c[key]],
        set_={"channel": arriving.channel, "last_voted_at": arriving.last_voted_at,
              "notify_results": arriving.notify_results},
        where=or_(
            and_(_participations.c.channel == arriving.channel,
                 bindparam("may_repeat", type_=Boolean)),
            and_(_participations.c.channel != arriving.channel,
                 bindparam("may_override", type_=Boolean)),
        ),
    ).returning(_participations.c.first_voted_at)


def _ballot_upsert(statement):
    """The voter's ballot: a new one, or their earlier one's sealed choices replaced."""
    return statement.on_conflict_do_update(
        index_elements=[_ballots.c.round_id, _ballots.c.voter_key],
        set_={"sealed": statement.excluded.sealed},
    )


def _receipt_insert(statement):
    """The voter's receipt. Their receipt code is the same for every ballot they cast in a
    round (codes.receipt_code_for), so a receipt once stored stays as it is."""
    return statement.on_conflict_do_nothing(
        index_elements=[_receipts.c.round_id, _receipts.c.receipt_key])


def _code_used(*conditions):
    """The voting code's first use (a resident's ballot has no code: nothing changes)."""
    return update(_codes).where(
        _codes.c.id == _value(_codes.c.id, "voting_code_id"), _codes.c.used_at.is_(None),
        *conditions,
    ).values(used_at=_value(_codes.c.used_at, "now"))


def _postgresql_ballot(key: str):
    """PostgreSQL: the whole ballot in one statement. The round row is locked FOR SHARE, so
    a close or cancel waits for the ballots in flight, and a ballot after it sees the round
    closed and writes nothing. Returns the participation's first vote and the round's close,
    or no row when nothing was written."""
    open_round = _while_open(select(_rounds.c.voting_close_at)).with_for_update(
        read=True).cte("open_round")
    voters = open_round.join(_usable_code().cte("usable_code"), true()) if (
        key == "voting_code_id") else open_round
    unvoted = _person_unvoted(key)
    if key == "user_id":
        # The account is locked FOR SHARE too: a postal-code move or a deletion waits for
        # this ballot, and then sees it (accounts.update_profile, delete_account).
        resident = _resident_in_area().with_for_update(read=True).cte("resident")
        voters = open_round.join(resident, true())
    participation = _participation_upsert(
        postgresql.insert, key,
        select(*_PARTICIPATION_ROW.values()).select_from(voters).where(unvoted)
    ).cte("participation")
    ballot = _ballot_upsert(postgresql.insert(_ballots).from_select(
        list(_BALLOT_ROW), select(*_BALLOT_ROW.values()).select_from(participation)))
    receipt = _receipt_insert(postgresql.insert(_receipts).from_select(
        list(_RECEIPT_ROW), select(*_RECEIPT_ROW.values()).select_from(participation)))
    code = _code_used(exists().select_from(participation))
    return (
        select(participation.c.first_voted_at, open_round.c.voting_close_at)
        .select_from(participation.join(open_round, true()))
        .add_cte(ballot.cte("ballot"), receipt.cte("receipt"), code.cte("code"))
    )


# SQLite takes its write lock at the first write, so the round cannot change after the
# participation is written; the other rows follow in their own statements.
_SQLITE_BALLOT = (
    _ballot_upsert(sqlite.insert(_ballots).values(_BALLOT_ROW)),
    _receipt_insert(sqlite.insert(_receipts).values(_RECEIPT_ROW)),
)
_CAST_STATEMENTS = {
    "postgresql": {key: _postgresql_ballot(key) for key in ("user_id", "voting_code_id")},
    "sqlite": {
        key: _participation_upsert(sqlite.insert, key, _while_open(
            select(*_PARTICIPATION_ROW.values())
            .where(exists(_resident_in_area() if key == "user_id" else _usable_code()),
                   _person_unvoted(key))))
        for key in ("user_id", "voting_code_id")
    },
}
_SQLITE_CODE_USED = _code_used()


def cast_ballot(
    keys: VoteKeys,
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
    voted (or whose other channel stands by the round's rule), VotingError("person_voted")
    when the strongly identified person casting it already voted in the round another way
    (the first way stands: one person, one ballot). Two such ballots at the same moment:
    the unique index on (round, person key) refuses the second with an IntegrityError
    (the caller rolls back and casts again, and is then refused in words).
    """
    now = clock.utcnow()
    # The rules cannot change once voting is open; the phase and the clock are checked by the
    # writes themselves, and the clock once more after them.
    rules = _known_rules(round_id)
    if rules is None:
        round_ = db.session.get(Round, round_id)
        if round_ is None or not voting_open(round_, now):
            raise VotingError("closed")
        rules = _rules_read(round_)
    try:
        normal = normalize(rules.spec, choices)
    except BallotInvalid:
        if not _still_open(round_id, now):
            raise VotingError("closed") from None
        raise
    secret = keys.pseudonym_secret
    receipt_code = codes.receipt_code_for(secret, voter, round_id)
    voter_key = codes.voter_key(secret, voter, round_id)
    other = VoteChannel.PAPER if channel is VoteChannel.CODE else VoteChannel.CODE
    rule = rules.paper_conflict_rule
    values = {
        "round": round_id, "user_id": voter.user_id,
        "voting_code_id": voter.voting_code_id, "channel": channel, "now": now,
        "notify_results": notify_results,
        "may_repeat": may_follow(channel, channel, rule),
        "may_override": channel is not VoteChannel.ONLINE and may_follow(other, channel, rule),
        "ballot_id": secrets.token_hex(16),
        "voter_key": voter_key,
        "sealed": keys.keyring.seal(normal, round_id=round_id, voter_key=voter_key,
                                    size=rules.sealed_size),
        "receipt_hash": codes.code_hash(receipt_code),
        "receipt_key": codes.receipt_key(secret, voter, round_id),
        "person_key": (codes.person_key(secret, voter.person, round_id)
                       if voter.person else None),
    }
    key = "user_id" if voter.user_id is not None else "voting_code_id"
    dialect = db.session.get_bind().dialect.name
    row = db.session.execute(_CAST_STATEMENTS[dialect][key], values).first()
    if row is None:
        raise _refusal(round_id, voter, channel, now, values["person_key"])
    if dialect == "postgresql":
        # The round stays locked until commit: only the clock can still close it.
        still_open = clock.utcnow() < row.voting_close_at
    else:
        for statement in _SQLITE_BALLOT:
            db.session.execute(statement, values)
        if voter.voting_code_id is not None:
            db.session.execute(_SQLITE_CODE_USED, values)
        still_open = _still_open(round_id, clock.utcnow())
    if not still_open:
        raise VotingError("closed")
    return CastResult(codes.format_code(receipt_code), row.first_voted_at != now, normal, now)


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


def _refusal(round_id: int, voter: Voter, channel: VoteChannel, now: datetime,
             person_key: str | None = None) -> VotingError:
    """Why nothing was written: the round was not open at ``now``, the identified person
    voted another way, or the voter's earlier ballot stands (a paper slip entered twice, or
    the other channel wins by the round's rule)."""
    if not _still_open(round_id, now):
        return VotingError("closed")
    if person_key is not None:
        earlier = db.session.execute(select(Participation).where(
            Participation.round_id == round_id, Participation.person_key == person_key)
        ).scalar_one_or_none()
        if earlier is not None and (earlier.user_id, earlier.voting_code_id) != (
                voter.user_id, voter.voting_code_id):
            return VotingError("person_voted", earlier="code" if earlier.voting_code_id
                               else "account")
    if voter.user_id is not None:
        # Only the resident's area can have refused it: they moved out, or the account went.
        person = db.session.get(User, voter.user_id, populate_existing=True)
        if person is None:
            return VotingError("account_gone")
        return VotingError("outside_area", postal_code=person.postal_code or "")
    if db.session.scalar(select(VotingCode.voided_at).where(
            VotingCode.id == voter.voting_code_id)) is not None:
        return VotingError("code_not_usable" if channel is VoteChannel.CODE
                           else "paper_code_voided")
    earlier = code_channel(round_id, voter.voting_code_id)
    if earlier is channel:
        return VotingError("code_used", channel=channel.value)
    if earlier is not None:
        return VotingError("code_used_other_channel", channel=channel.value,
                           earlier=earlier.value)
    return VotingError("closed")


def turnout(round_: Round) -> dict:
    """Ballots by channel and by local day, from the counts the database keeps per UTC hour
    (``TurnoutCount``): a few hundred rows whatever the number of ballots; no participation
    is read, and never a choice."""
    by_channel = Counter(dict.fromkeys(VoteChannel, 0))
    by_day: Counter = Counter()
    for channel, hour, number in db.session.execute(
            select(TurnoutCount.channel, TurnoutCount.hour, func.sum(TurnoutCount.voters))
            .where(TurnoutCount.round_id == round_.id)
            .group_by(TurnoutCount.channel, TurnoutCount.hour)):
        if number:
            by_channel[VoteChannel(channel)] += number
            by_day[hour.astimezone(round_.zone).date()] += number
    return {
        "total": sum(by_day.values()),
        "by_channel": dict(by_channel),
        "by_day": sorted(by_day.items()),
    }


def receipt_is_counted(round_id: int, typed: str) -> bool:
    """Whether a receipt code belongs to a ballot in the count of ``round_id``."""
    return db.session.execute(
        select(BallotReceipt.receipt_hash).where(
            BallotReceipt.round_id == round_id,
            BallotReceipt.receipt_hash == codes.code_hash(typed),
        )
    ).first() is not None


def participation_of(user: User, round_: Round) -> Participation | None:
    """The participation of a signed-in resident in ``round_`` (when they voted, and last
    changed their vote), or None when they have not voted there. Read-only."""
    return db.session.execute(
        select(Participation).where(Participation.round_id == round_.id,
                                    Participation.user_id == user.id)
    ).scalar_one_or_none()
