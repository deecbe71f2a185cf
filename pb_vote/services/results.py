"""Tallying a closed round, publishing the outcome, and what the public pages show.

The count itself is ``pb_vote.tally`` (pure); this module turns the round's ballots into an
election, runs the round's rule and the other rule for comparison, and freezes the outcome as
a numbered, immutable ``Publication``. Counting runs as a background job
(``services.counting``); publishing freezes a stored count and never counts itself.
"""

import hashlib
import json
import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from sqlalchemy import func, insert, literal, select, text
from sqlalchemy.orm import defer

from pb_vote import clock
from pb_vote.errors import ServiceError
from pb_vote.extensions import db
from pb_vote.models import (
    Ballot,
    BallotKind,
    BallotReceipt,
    Count,
    CountStatus,
    Proposal,
    ProposalStatus,
    Publication,
    PublishedReceipt,
    ReceiptSet,
    Round,
    RoundPhase,
    StoredFile,
    TallyRule,
    User,
    VoteChannel,
)
from pb_vote.services import files
from pb_vote.services.audit import record_event
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.codes import code_hash
from pb_vote.services.rounds import hold_round, transition
from pb_vote.services.voting import counted_choices, turnout
from pb_vote.tally import PB_VOTE_MES_META, Election, Project, TallyResult, VoteType, tally
from pb_vote.tally import Ballot as TallyBallot

# Our rule names in pb_vote.tally, and the other rule shown beside each for comparison.
TALLY_RULES = {TallyRule.GREEDY: "greedy", TallyRule.MES: "mes"}
OTHER_RULE = {TallyRule.GREEDY: TallyRule.MES, TallyRule.MES: TallyRule.GREEDY}
# Pabulib's names for them, written into the published .pb file.
PABULIB_RULES = {"greedy": "greedy", "mes": PB_VOTE_MES_META}
TIE_BREAK = "default"
# A publication's figures: read only by the pages that show them (the results page, the
# JSON and CSV); the history, the verify page and the downloads leave them unread.
FIGURES = (Publication.result, Publication.comparison, Publication.turnout)
# How the receipts download says what its hashes are of.
RECEIPT_HASH = "sha256 of the code without dashes, upper case"


class ResultsError(ServiceError):
    """Tallying or publishing was refused."""


def in_cents(result: TallyResult, unit: int) -> dict:
    """A tally result as a JSON-ready dict whose money figures are integer cents. Exact
    figures of equal shares (rho, shares left) stay in the count's unit, named in the dict."""
    data = result.as_dict()
    data["unit_cents"] = unit
    for key in ("budget", "total_cost", "money_left"):
        data[key] = data[key] * unit
    for project in data["projects"]:
        project["cost"] *= unit
        if isinstance(project.get("money_left"), int):
            project["money_left"] *= unit
        elif "money_left" in project:
            project["money_left"] = str(Fraction(project["money_left"]) * unit)
    return data


@dataclass(frozen=True)
class Preview:
    """A tally of a closed round, not yet public."""

    rule: TallyRule
    result: TallyResult
    other_rule: TallyRule
    other: TallyResult
    election: Election
    proposals: dict[int, Proposal]
    satisfied: int  # ballots with at least one funded project among their choices
    other_satisfied: int
    ballot_count: int
    unit: int  # cents per unit of the count (100: whole euros)

    def result_in_cents(self) -> dict:
        """The round's result with money in cents."""
        return in_cents(self.result, self.unit)

    def other_in_cents(self) -> dict:
        """The other rule's result with money in cents."""
        return in_cents(self.other, self.unit)

    def comparison(self) -> dict:
        """What each rule funds with the same ballots, money in cents (as published)."""
        def side(rule: TallyRule, result: TallyResult, satisfied: int) -> dict:
            return {"rule": TALLY_RULES[rule], "selected": list(result.selected),
                    "total_cost": result.total_cost * self.unit,
                    "money_left": result.money_left * self.unit,
                    "voters_with_a_funded_choice": satisfied}

        return {"ballots": self.ballot_count,
                "used": side(self.rule, self.result, self.satisfied),
                "other": side(self.other_rule, self.other, self.other_satisfied)}


def money_unit(round_: Round, proposals: dict[int, Proposal]) -> int:
    """The unit the count runs in: whole euros (100 cents) when the budget and every cost are
    whole euros, as Pabulib files usually are, else cents. The published .pb file uses the
    same unit, so anyone re-counting it gets our outcome; and whole units keep the add-one
    completion of equal shares a hundred times shorter for independent checkers."""
    amounts = [round_.budget_cents, *(p.reviewed_cost_cents for p in proposals.values())]
    return 100 if all(amount % 100 == 0 for amount in amounts) else 1


def build_election(round_: Round, keys: VoteKeys,
                   excluded: frozenset[int] = frozenset()) -> tuple[Election, dict[int, Proposal]]:
    """The round's ballots as an election: random voter ids, shuffled order, proposals on the
    ballot (minus ``excluded``) as projects with their reviewed costs, in ``money_unit``."""
    proposals = {
        p.id: p for p in db.session.execute(
            select(Proposal).where(Proposal.round_id == round_.id,
                                   Proposal.status == ProposalStatus.ACCEPTED)
            .order_by(Proposal.id)
        ).scalars() if p.id not in excluded
    }
    points = round_.ballot_kind is BallotKind.POINTS
    ballots = []
    used_ids: set[str] = set()
    for choices in counted_choices(keys, round_.id):
        kept = [(pid, value) for pid, value in choices.items() if int(pid) in proposals]
        voter_id = secrets.token_hex(6)
        while voter_id in used_ids:
            voter_id = secrets.token_hex(6)
        used_ids.add(voter_id)
        ballots.append(TallyBallot(
            tuple(pid for pid, _ in kept),
            tuple(value for _, value in kept) if points else None,
            voter_id=voter_id,
        ))
    random.SystemRandom().shuffle(ballots)
    unit = money_unit(round_, proposals)
    projects = tuple(
        Project(str(p.id), p.reviewed_cost_cents // unit,
                fields={"name": p.title, "category": p.category or "",
                        "origin": p.origin.value})
        for p in proposals.values()
    )
    meta = {
        "description": f"{round_.table.name}: {round_.title}",
        "country": "Finland",
        "unit": round_.table.name,
        "instance": round_.title,
        "currency": round_.currency,
        "comment": "costs and budget in whole euros" if unit == 100 else
                   "costs and budget in cents",
        "rule": PABULIB_RULES[TALLY_RULES[round_.tally_rule]],
        "date_begin": round_.voting_open_at.strftime("%d.%m.%Y"),
        "date_end": round_.voting_close_at.strftime("%d.%m.%Y"),
    }
    if round_.ballot_kind is BallotKind.APPROVAL:
        meta["min_length"] = str(round_.approval_min)
        meta["max_length"] = str(round_.approval_max)
    if points:
        meta["max_sum_points"] = str(round_.points_total)
        meta["max_points"] = str(round_.points_max_per_proposal)
    election = Election(
        VoteType.CUMULATIVE if points else VoteType.APPROVAL,
        round_.budget_cents // unit, projects, tuple(ballots), meta=meta,
    )
    return election, proposals


def _satisfied(election: Election, result: TallyResult) -> int:
    funded = set(result.selected)
    return sum(1 for ballot in election.ballots if funded.intersection(ballot.projects))


def preview(round_: Round, keys: VoteKeys, excluded: frozenset[int] = frozenset(),
            on_progress: Callable[[int], None] | None = None) -> Preview:
    """Tally a closed (or published) round with its rule and with the other rule; ``keys``
    open its sealed ballots. Slow for a city-size round: only a count job
    (``services.counting``) calls it, and ``on_progress`` hears the percent done after
    each step (equal shares takes most of the time)."""
    shown = [0]

    def step(percent: int) -> None:
        if on_progress is not None and percent > shown[0]:
            shown[0] = percent
            on_progress(percent)

    def searching(first: int, last: int) -> Callable[[Fraction], None]:
        """Equal Shares' add-one search: from ``first`` to ``last`` percent as its outcome
        spends more of the budget."""
        return lambda spent: step(first + int((last - first) * spent))

    if not round_.phase.countable:
        raise ResultsError("not_closed")
    election, proposals = build_election(round_, keys, excluded)
    if not election.projects:
        raise ResultsError("no_proposals")
    if not election.ballots:
        raise ResultsError("no_ballots")
    step(25)
    other_rule = OTHER_RULE[round_.tally_rule]
    mes_first = round_.tally_rule is TallyRule.MES  # equal shares takes most of the time
    result = tally(election, TALLY_RULES[round_.tally_rule], tie_break=TIE_BREAK,
                   progress=searching(25, 90) if mes_first else None)
    step(90 if mes_first else 35)
    other = tally(election, TALLY_RULES[other_rule], tie_break=TIE_BREAK,
                  progress=None if mes_first else searching(35, 90))
    step(95)
    return Preview(round_.tally_rule, result, other_rule, other, election, proposals,
                   _satisfied(election, result), _satisfied(election, other),
                   len(election.ballots), money_unit(round_, proposals))


def turnout_figures(round_: Round) -> dict:
    """Ballots by channel and by local day, and the share of eligible residents."""
    counts = turnout(round_)
    return {
        "ballots": counts["total"],
        "by_channel": {channel.value: n for channel, n in counts["by_channel"].items()},
        "by_day": [(day.isoformat(), n) for day, n in counts["by_day"]],
        "eligible_residents": round_.table.eligible_residents,
    }


def round_turnout(round_: Round) -> dict:
    """Turnout in ``voting.turnout``'s shape. Once a round is published no ballot can change,
    so its figures come from the publication in force (one small column, whatever the
    number of ballots); before, the database counts them."""
    if round_.phase is RoundPhase.PUBLISHED:
        stored = db.session.execute(
            select(Publication.turnout).where(Publication.round_id == round_.id)
            .order_by(Publication.number.desc()).limit(1)).scalar_one_or_none()
        if stored is not None:
            by_channel = dict.fromkeys(VoteChannel, 0)
            by_channel.update({VoteChannel(channel): number
                               for channel, number in stored["by_channel"].items()})
            return {"total": stored["ballots"], "by_channel": by_channel,
                    "by_day": [(date.fromisoformat(day), number)
                               for day, number in stored["by_day"]]}
    return turnout(round_)


def with_selected(election: Election, result: TallyResult) -> Election:
    """The election whose projects carry the outcome (Pabulib's ``selected`` column)."""
    funded = set(result.selected)
    support = {p.project_id: p.support for p in result.projects}
    points = election.vote_type.has_points
    projects = tuple(
        Project(p.id, p.cost, fields={
            **p.fields,
            ("score" if points else "votes"): str(support.get(p.id, 0)),
            "selected": "1" if p.id in funded else "0",
        })
        for p in election.projects
    )
    return Election(election.vote_type, election.budget, projects, election.ballots,
                    meta=election.meta)


def fingerprint(round_: Round, excluded: frozenset[int]) -> tuple[int, str]:
    """The number of the round's ballots and the SHA-256 of what a count reads: every
    ballot's sealed content, the proposals on the ballot with their costs, the rule and the
    exclusions. Sealed bytes need no key, and any change to a ballot changes them.
    PostgreSQL computes it where the ballots are (publishing a capital's round reads none
    of them); SQLite hands them over, the same digest of the same bytes."""
    head = fingerprint_head(round_, excluded)
    if db.session.get_bind().dialect.name == "postgresql":
        ballots, tail = db.session.execute(_BALLOTS_DIGESTED, {"round": round_.id}).one()
        head.update(tail or b"")
        return ballots, head.hexdigest()
    return fingerprint_read(round_, head)


def fingerprint_head(round_: Round, excluded: frozenset[int]):
    """The digest of fingerprint() before its ballots: the rule, the exclusions and the
    proposals on the ballot with their costs."""
    head = hashlib.sha256(f"rule:{round_.tally_rule.value}|excluded:"
                          f"{sorted(excluded)}|".encode())
    for proposal_id, cost in db.session.execute(
            select(Proposal.id, Proposal.reviewed_cost_cents)
            .where(Proposal.round_id == round_.id, Proposal.status == ProposalStatus.ACCEPTED)
            .order_by(Proposal.id)):
        head.update(f"proposal:{proposal_id}:{cost}|".encode())
    return head


# Each ballot as its voter key, ":" and the SHA-256 of its sealed bytes, in the order of the
# voter keys (byte order, as Python sorts): all of them as one value, for fingerprint().
_BALLOTS_DIGESTED = text(
    "SELECT count(*), string_agg(convert_to(voter_key, 'UTF8') || '\\x3a'::bytea"
    " || sha256(sealed), ''::bytea ORDER BY voter_key COLLATE \"C\")"
    " FROM ballots WHERE round_id = :round")


def fingerprint_read(round_: Round, digest) -> tuple[int, str]:
    """fingerprint() by reading the ballots' sealed bytes into the worker."""
    ballots = 0
    for voter_key, sealed in db.session.execute(
            select(Ballot.voter_key, Ballot.sealed).where(Ballot.round_id == round_.id)
            .order_by(Ballot.voter_key)):
        ballots += 1
        digest.update(voter_key.encode() + b":" + hashlib.sha256(sealed).digest())
    return ballots, digest.hexdigest()


def latest_count(round_: Round) -> Count | None:
    """The round's most recent count (in whatever state), or None."""
    return db.session.execute(
        select(Count).where(Count.round_id == round_.id).order_by(Count.id.desc()).limit(1)
    ).scalar_one_or_none()


def _latest_number(round_: Round) -> int:
    """The number of the round's publication in force (0 before the first)."""
    return db.session.execute(
        select(func.max(Publication.number)).where(Publication.round_id == round_.id)
    ).scalar() or 0


def _check_publishable(round_: Round, existing: int, correction_reason: str | None,
                       corrects: int | None) -> None:
    if existing and not (correction_reason or "").strip():
        raise ResultsError("already_published")
    if not existing and round_.phase is not RoundPhase.CLOSED:
        raise ResultsError("not_closed")
    if corrects is not None and existing != corrects:
        raise ResultsError("published_meanwhile")


def publish(
    actor: User, round_: Round, count_id: int | None, *, correction_reason: str | None = None,
    excluded: frozenset[int] | None = None, corrects: int | None = None,
) -> Publication:
    """Freeze a stored count as the round's next numbered publication (audited).

    Nothing is counted here: ``count_id`` names the finished count the coordinator saw
    (``services.counting``). It is refused unless it is the round's latest count and done
    (``count_not_ready``), and when the ballots, the proposals or the exclusions are no
    longer what it was computed from (``count_outdated``; ``excluded``, when given, is what
    the publisher means to leave out). The first publication needs a closed round and moves
    it to published; a later one is a correction and needs a stated reason. ``corrects`` is
    the number of the publication the correction was decided from: when another came
    meanwhile, it is refused (``published_meanwhile``) rather than silently undoing that
    one. Two at once: the round is locked before the numbers are read again, so the second
    waits and is refused.
    """
    _check_publishable(round_, _latest_number(round_), correction_reason, corrects)
    count = db.session.get(Count, count_id) if count_id is not None else None
    if (count is None or count.round_id != round_.id or count.status is not CountStatus.DONE
            or latest_count(round_) is not count):
        raise ResultsError("count_not_ready")
    counted = frozenset(count.excluded)
    if ((excluded is not None and frozenset(excluded) != counted)
            or fingerprint(round_, counted) != (count.ballot_count, count.digest)):
        raise ResultsError("count_outdated")
    hold_round(round_)
    existing = _latest_number(round_)
    _check_publishable(round_, existing, correction_reason, corrects)
    receipts = receipt_set(round_)
    publication = Publication(
        round_id=round_.id, number=existing + 1, published_at=clock.utcnow(),
        published_by_id=actor.id if actor else None, rule=TALLY_RULES[round_.tally_rule],
        tie_break=TIE_BREAK, correction_reason=(correction_reason or "").strip() or None,
        ballot_count=count.ballot_count, excluded=sorted(counted),
        result=count.result, comparison=count.comparison, turnout=turnout_figures(round_),
        receipt_set_id=receipts.id,
        ballots_file_id=count.ballots_file_id or files.store(count.ballots_pb.encode()).id,
    )
    db.session.add(publication)
    db.session.flush()
    if not existing:
        transition(actor, round_, RoundPhase.PUBLISHED)
    record_event(actor, "results.published", "round", round_.id, table_id=round_.table_id,
                 details={"number": publication.number, "count": count.id,
                          "selected": list(count.result["selected"]),
                          "correction_reason": publication.correction_reason})
    return publication


def receipt_set(round_: Round) -> ReceiptSet:
    """The receipt set of the round's counted ballots (flushes): the one stored for the same
    hashes (by a count, or a correction of the same ballots), else a new one, shuffled for
    its download. A count job makes it, so that publishing a capital's round only finds it:
    PostgreSQL computes the digest of the hashes without handing them over."""
    digest = receipts_digest(round_)
    found = db.session.execute(
        select(ReceiptSet).where(ReceiptSet.round_id == round_.id, ReceiptSet.digest == digest)
    ).scalar_one_or_none()
    if found is not None:
        return found
    hashes = receipt_hashes(round_)
    random.SystemRandom().shuffle(hashes)
    receipt_set = ReceiptSet(round_id=round_.id, digest=digest, receipt_count=len(hashes),
                             file_id=files.store(receipts_head(hashes)).id)
    db.session.add(receipt_set)
    db.session.flush()
    # Copied in the database: the hashes never travel to the worker and back.
    db.session.execute(insert(PublishedReceipt).from_select(
        ["receipt_set_id", "receipt_hash"],
        select(literal(receipt_set.id), BallotReceipt.receipt_hash)
        .where(BallotReceipt.round_id == round_.id)))
    return receipt_set


def receipt_hashes(round_: Round) -> list[str]:
    """The round's receipt hashes, read into the worker."""
    return list(db.session.execute(
        select(BallotReceipt.receipt_hash).where(BallotReceipt.round_id == round_.id)
    ).scalars())


# The SHA-256 of the round's receipt hashes sorted (byte order) and joined by newlines.
_RECEIPTS_DIGESTED = text(
    "SELECT encode(sha256(convert_to(coalesce(string_agg(receipt_hash, E'\\n'"
    " ORDER BY receipt_hash COLLATE \"C\"), ''), 'UTF8')), 'hex')"
    " FROM ballot_receipts WHERE round_id = :round")


def receipts_digest(round_: Round) -> str:
    """The digest naming a round's receipt set: of its receipt hashes, sorted and joined."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(_RECEIPTS_DIGESTED, {"round": round_.id}).scalar_one()
    return hashlib.sha256("\n".join(sorted(receipt_hashes(round_))).encode()).hexdigest()


def receipts_head(hashes: list[str]) -> bytes:
    """The receipts download up to its last bytes (``receipts_end``), which name the round
    and the publication: the same for every publication of a receipt set."""
    return (b'{"hash":' + json.dumps(RECEIPT_HASH).encode() + b',"receipts":'
            + json.dumps(hashes, separators=(",", ":")).encode())


def receipts_end(publication: Publication) -> bytes:
    """The last bytes of a publication's receipts download."""
    return (f',"round":{publication.round_id},"publication":{publication.number}}}\n'
            .encode())


def publications(round_: Round) -> list[Publication]:
    """Every publication of a round, newest first, with only their summary columns (the
    figures load on first use)."""
    return list(db.session.execute(
        select(Publication).where(Publication.round_id == round_.id)
        .order_by(Publication.number.desc()).options(*_summary_only())
    ).scalars())


def _summary_only() -> list:
    return [defer(column) for column in FIGURES]


def latest(round_: Round, *, figures: bool = False) -> Publication | None:
    """The publication in force; its tally, comparison and turnout only with ``figures``
    (else on first use)."""
    query = (select(Publication).where(Publication.round_id == round_.id)
             .order_by(Publication.number.desc()).limit(1))
    if not figures:
        query = query.options(*_summary_only())
    return db.session.execute(query).scalar_one_or_none()


def numbered(round_: Round, number: int, *, figures: bool = False) -> Publication | None:
    """A round's publication by its number (1 for the first), or None; its figures only with
    ``figures``."""
    query = select(Publication).where(Publication.round_id == round_.id,
                                      Publication.number == number)
    if not figures:
        query = query.options(*_summary_only())
    return db.session.execute(query).scalar_one_or_none()


def receipt_in_publication(publication: Publication, typed: str) -> bool:
    """Whether a receipt code's hash is in a publication's receipt set (one index lookup)."""
    return db.session.execute(
        select(PublishedReceipt.receipt_hash).where(
            PublishedReceipt.receipt_set_id == publication.receipt_set_id,
            PublishedReceipt.receipt_hash == code_hash(typed))
    ).first() is not None


def ballots_file(publication: Publication) -> StoredFile:
    """The stored Pabulib file of a publication's anonymized ballots."""
    return db.session.get(StoredFile, publication.ballots_file_id)


def receipts_file(publication: Publication) -> tuple[StoredFile, bytes]:
    """The stored start of a publication's receipts download, and the bytes that end it."""
    stored = db.session.execute(
        select(StoredFile).join(ReceiptSet, ReceiptSet.file_id == StoredFile.id)
        .where(ReceiptSet.id == publication.receipt_set_id)
    ).scalar_one()
    return stored, receipts_end(publication)


def funded_by_origin(publication: Publication, proposals: dict[int, Proposal]) -> dict[str, int]:
    """How many funded projects each origin (resident, member, city) initiated."""
    counts = Counter({"resident": 0, "member": 0, "city": 0})
    for project_id in publication.result["selected"]:
        proposal = proposals.get(int(project_id))
        if proposal is not None:
            counts[proposal.origin.value] += 1
    return dict(counts)
