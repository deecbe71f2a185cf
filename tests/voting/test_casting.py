"""One ballot per voter per round, under concurrency and across the closing second; secrecy."""

import hashlib
import logging
import random
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select, text

from pb_vote import create_app
from pb_vote.blueprints.common import cast_with_retry
from pb_vote.extensions import db
from pb_vote.models import (
    AuditEvent,
    Ballot,
    BallotReceipt,
    Participation,
    ProposalStatus,
    Round,
    RoundPhase,
    VoteChannel,
    VoterEligibility,
    VotingCode,
)
from pb_vote.services import codes, rounds, voting
from pb_vote.services.ballot_box import VoteKeys
from pb_vote.services.ballot_rules import BallotInvalid
from tests import factories
from tests.conftest import base_test_config

VOTERS = 50
SUBMISSIONS_EACH = 32


@pytest.fixture
def open_round(app):
    """A round in voting (approval, 1 to 3 of 5), its voters, and the ballot's ids."""
    with app.app_context():
        table = factories.table()
        round_ = factories.round_(table, RoundPhase.VOTING, approval_min=1, approval_max=3)
        proposals = [
            factories.proposal(round_, title=f"Idea {n}", status=ProposalStatus.ACCEPTED,
                               cost_cents=100_000 * (n + 1))
            for n in range(5)
        ]
        voters = [factories.user(f"voter{n}@example.org").id for n in range(VOTERS)]
        db.session.commit()
        return {"round": round_.id, "proposals": [p.id for p in proposals], "voters": voters,
                "close": round_.voting_close_at}


def _count(model, round_id):
    return db.session.execute(
        select(func.count()).select_from(model).where(model.round_id == round_id)
    ).scalar_one()


def test_a_race_of_parallel_submissions_leaves_one_unmixed_ballot_per_voter(app, open_round):
    proposals = open_round["proposals"]
    variants = [{proposals[0]: 1}, {proposals[1]: 1, proposals[2]: 1},
                {proposals[2]: 1, proposals[3]: 1, proposals[4]: 1}, {proposals[4]: 1}]
    submitted = {frozenset(v) for v in variants}
    failures = []
    lock = threading.Lock()

    def submit(voter_id: int, attempt: int):
        with app.app_context():
            try:
                cast_with_retry(open_round["round"], voting.Voter(user_id=voter_id),
                                VoteChannel.ONLINE, variants[attempt % len(variants)])
            except Exception as error:  # every submission must succeed: report any
                with lock:
                    failures.append(repr(error))

    jobs = [(voter, attempt) for attempt in range(SUBMISSIONS_EACH)
            for voter in open_round["voters"]]
    random.Random(5).shuffle(jobs)
    with ThreadPoolExecutor(max_workers=SUBMISSIONS_EACH) as pool:
        list(pool.map(lambda job: submit(*job), jobs))

    assert failures == []
    with app.app_context():
        round_id = open_round["round"]
        assert _count(Ballot, round_id) == VOTERS
        assert _count(Participation, round_id) == VOTERS
        assert _count(BallotReceipt, round_id) == VOTERS
        secret = VoteKeys.from_config(app.config)
        for choices in voting.counted_choices(secret, round_id):
            assert frozenset(int(pid) for pid in choices) in submitted  # never a mixture
        for voter_id in open_round["voters"]:
            stored = voting.existing_choices(secret, voting.Voter(user_id=voter_id), round_id)
            assert stored is not None


def test_a_load_across_the_closing_second_stores_exactly_the_acknowledged_ballots(
    app, open_round, frozen_clock
):
    frozen_clock.set(open_round["close"] - timedelta(seconds=1))
    acknowledged, refused = [], []
    lock = threading.Lock()
    flipped = threading.Event()

    def submit(index: int, voter_id: int):
        if index == VOTERS // 2:
            frozen_clock.set(open_round["close"])  # the closing second arrives mid-load
            flipped.set()
        with app.app_context():
            try:
                cast_with_retry(open_round["round"], voting.Voter(user_id=voter_id),
                                VoteChannel.ONLINE, {open_round["proposals"][0]: 1})
            except voting.VotingError as error:
                assert error.code == "closed"
                with lock:
                    refused.append(voter_id)
            else:
                with lock:
                    acknowledged.append(voter_id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: submit(*job), enumerate(open_round["voters"])))

    assert flipped.is_set() and refused and acknowledged
    assert len(acknowledged) + len(refused) == VOTERS
    with app.app_context():
        secret = VoteKeys.from_config(app.config)
        round_id = open_round["round"]
        assert _count(Ballot, round_id) == len(acknowledged)
        for voter_id in acknowledged:
            assert voting.existing_choices(secret, voting.Voter(user_id=voter_id), round_id)
        for voter_id in refused:
            assert voting.existing_choices(secret, voting.Voter(user_id=voter_id),
                                           round_id) is None
        voted = set(db.session.execute(
            select(Participation.user_id).where(Participation.round_id == round_id)
        ).scalars())
        assert voted == set(acknowledged)


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_nothing_is_stored_at_or_after_close(app, open_round, frozen_clock, offset):
    frozen_clock.set(open_round["close"] + offset)
    with app.app_context():
        with pytest.raises(voting.VotingError, match="closed"):
            cast_with_retry(open_round["round"], voting.Voter(user_id=open_round["voters"][0]),
                            VoteChannel.ONLINE, {open_round["proposals"][0]: 1})
        assert _count(Ballot, open_round["round"]) == 0
        assert _count(Participation, open_round["round"]) == 0


def test_one_second_before_close_is_in_time(app, open_round, frozen_clock):
    frozen_clock.set(open_round["close"] - timedelta(seconds=1))
    with app.app_context():
        cast_with_retry(open_round["round"], voting.Voter(user_id=open_round["voters"][0]),
                        VoteChannel.ONLINE, {open_round["proposals"][0]: 1})
        assert _count(Ballot, open_round["round"]) == 1


def test_an_invalid_ballot_stores_nothing(app, open_round):
    with app.app_context():
        with pytest.raises(BallotInvalid):
            cast_with_retry(open_round["round"], voting.Voter(user_id=open_round["voters"][0]),
                            VoteChannel.ONLINE, dict.fromkeys(open_round["proposals"], 1))
        assert _count(Ballot, open_round["round"]) == 0
        assert _count(BallotReceipt, open_round["round"]) == 0


def test_changing_the_vote_replaces_the_ballot_and_keeps_the_receipt(app, open_round):
    voter = voting.Voter(user_id=open_round["voters"][0])
    with app.app_context():
        first = cast_with_retry(open_round["round"], voter, VoteChannel.ONLINE,
                                {open_round["proposals"][0]: 1})
        second = cast_with_retry(open_round["round"], voter, VoteChannel.ONLINE,
                                 {open_round["proposals"][1]: 1})
        assert (first.replaced, second.replaced) == (False, True)
        # The receipt stays the same when the vote changes, and it is counted.
        assert first.receipt_code == second.receipt_code
        assert voting.receipt_is_counted(open_round["round"], second.receipt_code)
        other = cast_with_retry(open_round["round"], voting.Voter(user_id=open_round["voters"][1]),
                                VoteChannel.ONLINE, {open_round["proposals"][1]: 1})
        assert other.receipt_code != first.receipt_code
        assert voting.receipt_is_counted(open_round["round"], second.receipt_code.lower())
        secret = VoteKeys.from_config(app.config)
        assert voting.existing_choices(secret, voter, open_round["round"]) == {
            str(open_round["proposals"][1]): 1}
        assert _count(Ballot, open_round["round"]) == 2  # this voter's one, and the other's


def test_ballots_and_participations_cannot_be_joined_without_the_secret(app, open_round):
    round_id = open_round["round"]
    with app.app_context():
        for voter_id in open_round["voters"][:5]:
            cast_with_retry(round_id, voting.Voter(user_id=voter_id), VoteChannel.ONLINE,
                            {open_round["proposals"][0]: 1})
        columns = {column["name"] for column in inspect(db.engine).get_columns("ballots")}
        assert columns == {"id", "round_id", "voter_key", "sealed"}  # no person, no time
        foreign = inspect(db.engine).get_foreign_keys("ballots")
        assert [fk["referred_table"] for fk in foreign] == ["rounds"]
        keys = set(db.session.execute(select(Ballot.voter_key)).scalars())
        receipt_keys = set(db.session.execute(select(BallotReceipt.receipt_key)).scalars())
        assert not keys & receipt_keys  # receipts cannot be joined to ballots either
        voter = open_round["voters"][0]
        # Nothing derivable from the voter's identity alone finds their ballot...
        for guess in (f"user:{voter}|round:{round_id}", f"{voter}:{round_id}", str(voter)):
            assert hashlib.sha256(guess.encode()).hexdigest() not in keys
        assert codes.voter_key("a-wrong-secret", voting.Voter(user_id=voter), round_id) not in (
            keys)
        # ...while the secret does (an operator holding both can link: said in the README).
        secret = app.config["BALLOT_SECRET"]
        assert codes.voter_key(secret, voting.Voter(user_id=voter), round_id) in keys
        ids = list(db.session.execute(select(Ballot.id)).scalars())
        assert all(len(ballot_id) == 32 for ballot_id in ids) and len(set(ids)) == 5
        if db.engine.dialect.name == "sqlite":
            create = db.session.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'ballots'")
            ).scalar_one()
            assert "WITHOUT ROWID" in create  # no insertion order to match participations


def test_no_log_line_or_audit_event_carries_ballot_contents(app, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, with values
    with app.app_context():
        table = factories.table()
        round_ = factories.round_(table, RoundPhase.VOTING,
                                  voter_eligibility=VoterEligibility.BOTH)
        marker = [factories.proposal(round_, title=f"Idea {n}",
                                     status=ProposalStatus.ACCEPTED).id for n in range(7)][-1]
        staff = factories.user("member@example.org", role="member", at=table)
        resident = factories.user("voter@example.org")
        code = voting.generate_codes(staff, round_, 1)[0]
        db.session.commit()
        cast_with_retry(round_.id, voting.Voter(user_id=resident.id), VoteChannel.ONLINE,
                        {marker: 1})
        cast_with_retry(round_.id, voting.paper_voter(round_, code), VoteChannel.PAPER,
                        {marker: 1},
                        before_commit=lambda _: voting.record_paper_entry(staff, round_))
        audited = db.session.execute(select(AuditEvent)).scalars().all()
    assert {"voting_codes.generated", "paper_ballot.entered"} <= {e.action for e in audited}
    for entry in audited:
        assert "choice" not in str(entry.details) and str(marker) not in str(entry.details), (
            entry.details)
    assert "INSERT INTO participations" in caplog.text  # the statements were logged...
    assert f'"{marker}"' not in caplog.text and "choices" not in caplog.text  # ...not choices


def test_voting_codes_are_random_hashed_and_free_of_look_alikes(app, open_round):
    with app.app_context():
        admin = factories.user("admin@example.org", city_admin=True)
        round_ = factories.round_(factories.table("ita"), RoundPhase.VOTING,
                                  voter_eligibility=VoterEligibility.BOTH)
        generated = voting.generate_codes(admin, round_, 200)
        db.session.commit()
        assert len(set(generated)) == 200
        for code in generated:
            groups = code.split("-")
            assert [len(g) for g in groups] == [4, 4, 4, 4]
            assert not set(code.replace("-", "")) & set("01OIL")
        stored = set(db.session.execute(select(VotingCode.code_hash)).scalars())
        assert not any(code.replace("-", "") in stored or code in stored for code in generated)
        assert voting.find_code(round_, generated[0].lower().replace("-", " ")) is not None
        altered = generated[0][:-1] + ("2" if generated[0][-1] != "2" else "3")
        assert voting.find_code(round_, altered) is None
        other_round = factories.round_(factories.table("etela"), RoundPhase.VOTING,
                                       voter_eligibility=VoterEligibility.CODES)
        assert voting.find_code(other_round, generated[0]) is None
        # 16 symbols of 31 carry more than 64 bits.
        assert codes.CODE_LENGTH * 4.95 > 64


def _statements_of(engine, action) -> list[str]:
    """The SQL statements ``action()`` sends through ``engine``."""
    sent = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return sent


def test_a_ballot_is_one_statement_on_postgresql(app, open_round):
    voters = [voting.Voter(user_id=voter_id) for voter_id in open_round["voters"][:2]]
    with app.app_context():
        cast_with_retry(open_round["round"], voters[0], VoteChannel.ONLINE,
                        {open_round["proposals"][0]: 1})  # the round's rules are now known
        sent = _statements_of(db.engine, lambda: cast_with_retry(
            open_round["round"], voters[1], VoteChannel.ONLINE, {open_round["proposals"][1]: 1}))
        dialect = db.engine.dialect.name
    # PostgreSQL: all writes behind the open-round check; SQLite: the participation behind
    # it, then the ballot, the receipt, and the re-check of the round.
    assert len(sent) == (1 if dialect == "postgresql" else 4), sent


def test_rules_are_kept_per_database_even_where_round_ids_repeat(app, open_round,
                                                                 migrated_sqlite_file, tmp_path):
    """Another database (as in every test) may hold another round under the same id."""
    path = tmp_path / "other.sqlite"
    shutil.copy(migrated_sqlite_file, path)
    other_app = create_app(base_test_config(f"sqlite:///{path}"))
    voter = voting.Voter(user_id=open_round["voters"][0])
    with app.app_context():
        cast_with_retry(open_round["round"], voter, VoteChannel.ONLINE,
                        {open_round["proposals"][0]: 1})
    with other_app.app_context():
        round_ = factories.round_(factories.table(), RoundPhase.VOTING)
        for _ in open_round["proposals"]:  # the same ids as there, not on this ballot
            factories.proposal(round_, status=ProposalStatus.REJECTED)
        proposal = factories.proposal(round_, status=ProposalStatus.ACCEPTED, title="Other")
        other_voter = voting.Voter(user_id=factories.user("voter0@example.org").id)
        db.session.commit()
        assert round_.id == open_round["round"]
        assert proposal.id not in open_round["proposals"]
        with pytest.raises(BallotInvalid):
            cast_with_retry(round_.id, other_voter, VoteChannel.ONLINE,
                            {open_round["proposals"][0]: 1})
        cast_with_retry(round_.id, other_voter, VoteChannel.ONLINE, {proposal.id: 1})
        db.session.remove()
        db.engine.dispose()


def test_a_round_cancelled_after_its_rules_are_known_takes_no_ballot(app, open_round):
    voter = voting.Voter(user_id=open_round["voters"][0])
    with app.app_context():
        cast_with_retry(open_round["round"], voter, VoteChannel.ONLINE,
                        {open_round["proposals"][0]: 1})
        rounds.transition(None, db.session.get(Round, open_round["round"]),
                          RoundPhase.CANCELLED)
        db.session.commit()
        with pytest.raises(voting.VotingError, match="closed"):
            cast_with_retry(open_round["round"], voter, VoteChannel.ONLINE,
                            {open_round["proposals"][1]: 1})
        with pytest.raises(voting.VotingError, match="closed"):  # invalid, and closed
            cast_with_retry(open_round["round"], voter, VoteChannel.ONLINE, {})
        secret = VoteKeys.from_config(app.config)
        assert voting.existing_choices(secret, voter, open_round["round"]) == {
            str(open_round["proposals"][0]): 1}


def _in_thread(app, work):
    """Run ``work`` in an application context on its own thread; returns the thread and a
    list that receives its result or exception."""
    outcome = []

    def run():
        with app.app_context():
            try:
                outcome.append(work())
            except Exception as error:
                outcome.append(error)
            finally:
                db.session.rollback()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_close_by_hand_waits_for_the_ballots_in_flight(app, open_round):
    written, go = threading.Event(), threading.Event()
    voter = voting.Voter(user_id=open_round["voters"][0])

    def vote():
        result = voting.cast_ballot(VoteKeys.from_config(app.config), open_round["round"], voter,
                                    VoteChannel.ONLINE, {open_round["proposals"][0]: 1})
        written.set()
        go.wait(10)
        db.session.commit()
        return result

    def close():
        rounds.transition(None, db.session.get(Round, open_round["round"]), RoundPhase.CLOSED)
        db.session.commit()
        return "closed"

    voting_thread, voted = _in_thread(app, vote)
    assert written.wait(10)
    closing_thread, closed = _in_thread(app, close)
    closing_thread.join(0.5)
    assert closing_thread.is_alive()  # the close waits for the ballot's transaction
    go.set()
    voting_thread.join(10)
    closing_thread.join(10)
    assert isinstance(voted[0], voting.CastResult) and closed == ["closed"]
    with app.app_context():
        assert _count(Ballot, open_round["round"]) == 1


def test_a_ballot_behind_a_close_in_flight_is_refused(app, open_round):
    changed, go = threading.Event(), threading.Event()
    voter = voting.Voter(user_id=open_round["voters"][0])

    def close():
        rounds.transition(None, db.session.get(Round, open_round["round"]), RoundPhase.CLOSED)
        db.session.flush()
        changed.set()
        go.wait(10)
        db.session.commit()
        return "closed"

    closing_thread, closed = _in_thread(app, close)
    assert changed.wait(10)
    voting_thread, voted = _in_thread(app, lambda: cast_with_retry(
        open_round["round"], voter, VoteChannel.ONLINE, {open_round["proposals"][0]: 1}))
    voting_thread.join(0.5)
    assert voting_thread.is_alive()  # the ballot waits for the close's transaction
    go.set()
    closing_thread.join(10)
    voting_thread.join(10)
    assert closed == ["closed"]
    assert isinstance(voted[0], voting.VotingError) and voted[0].code == "closed"
    with app.app_context():
        assert _count(Ballot, open_round["round"]) == 0
        assert _count(Participation, open_round["round"]) == 0
