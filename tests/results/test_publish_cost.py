"""What publishing costs at a capital's size: the count job stores the .pb file and the
receipt set beforehand, and PostgreSQL checks that the ballots are still the counted ones
where they are, so the publish request reads no ballot and no receipt into the worker."""

import hashlib

from flask import current_app
from sqlalchemy import func, select

from pb_vote.extensions import db
from pb_vote.models import Ballot, ReceiptSet, Round, StoredFile, User
from pb_vote.services import counting, files, results
from pb_vote.services.ballot_box import VoteKeys
from tests import factories
from tests.queries import statements, touching


def _stored() -> tuple[int, int]:
    return tuple(db.session.execute(select(func.count()).select_from(model)).scalar_one()
                 for model in (StoredFile, ReceiptSet))


def test_the_database_digests_the_ballots_and_receipts_as_the_worker_would(app_ctx):
    """PostgreSQL's digests (SQL aggregates) equal the ones made by reading every ballot and
    receipt; on SQLite both are the reading."""
    scenario = factories.closed_round(ballots=9)
    round_ = scenario.round
    for excluded in (frozenset(), frozenset({scenario.proposals[0].id})):
        read = results.fingerprint_read(round_, results.fingerprint_head(round_, excluded))
        assert results.fingerprint(round_, excluded) == read
        assert read[0] == 9
    hashes = sorted(results.receipt_hashes(round_))
    assert len(hashes) == 9
    assert results.receipts_digest(round_) == hashlib.sha256(
        "\n".join(hashes).encode()).hexdigest()


def test_a_changed_ballot_changes_the_digest(app_ctx):
    scenario = factories.closed_round(ballots=4)
    before = results.fingerprint(scenario.round, frozenset())
    ballot = db.session.execute(select(Ballot).where(
        Ballot.round_id == scenario.round_id).limit(1)).scalar_one()
    ballot.sealed = bytes(reversed(ballot.sealed))
    db.session.flush()
    assert results.fingerprint(scenario.round, frozenset()) != before


def test_publishing_finds_what_the_count_stored(app, database_url):
    """The count job stored the .pb file and the receipt set; publishing adds neither, and
    on PostgreSQL no ballot or receipt row reaches the worker (only aggregates)."""
    with app.app_context():
        scenario = factories.closed_round(ballots=12)
        count = counting.count_now(scenario.coordinator, scenario.round,
                                   VoteKeys.from_config(app.config))
        db.session.commit()
        round_id, count_id, coordinator_id = scenario.round_id, count.id, scenario.coordinator.id
        stored = _stored()
    with app.app_context(), statements(app) as heard:
        publication = results.publish(db.session.get(User, coordinator_id),
                                      db.session.get(Round, round_id), count_id)
        db.session.commit()
        assert publication.number == 1
        assert _stored() == stored
    if database_url.startswith("postgresql"):
        for table in ("ballots", "ballot_receipts"):
            reads = touching(heard, table)
            assert reads, f"publishing never checked {table}"
            assert all("string_agg" in statement or "INSERT" in statement
                       for statement in reads), reads


def test_a_count_made_before_its_file_was_kept_apart_still_publishes(app_ctx):
    """Counts before migration 0018 hold their .pb text: publishing one stores its file."""
    scenario = factories.closed_round(ballots=10)
    count = counting.count_now(scenario.coordinator, scenario.round,
                               VoteKeys.from_config(current_app.config))
    stored = db.session.get(StoredFile, count.ballots_file_id)
    text = b"".join(files.read_slices(stored.id, files.IDENTITY, files.slice_count(
        stored.size, stored.slice_size))).decode()
    count.ballots_file_id, count.ballots_pb = None, text
    db.session.flush()
    publication = results.publish(scenario.coordinator, scenario.round, count.id)
    assert publication.ballots_file_id == stored.id  # the same bytes: the same stored file
    assert publication.ballots_pb == text
