"""Migration 0015 records the batches of the voting codes made before it, from the codes
themselves, and keeps every code working; its downgrade refuses to bring a voided batch's
codes back to life."""

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import bindparam, select, text

from pb_vote.extensions import db
from pb_vote.models import Round, RoundPhase, VoterEligibility, VotingCode, VotingCodeBatch
from pb_vote.models.base import UTCDateTime
from pb_vote.services import codes, voting
from tests import factories

MADE = [datetime(2026, 3, 1, 8, 0, tzinfo=UTC), datetime(2026, 3, 2, 8, 0, tzinfo=UTC)]


@pytest.fixture
def round_at_0014(app):
    """A round taking codes, and the database at 0014 with five codes of it in two batches
    (as 0014 numbered them). Back to head afterwards, whatever happened."""
    with app.app_context():
        table = factories.table()
        round_ = factories.round_(table, RoundPhase.VOTING,
                                  voter_eligibility=VoterEligibility.CODES)
        round_id = round_.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0014")
        insert = text("INSERT INTO voting_codes (round_id, code_hash, batch, created_at) "
                      "VALUES (:round, :hash, :batch, :at)").bindparams(
            bindparam("at", type_=UTCDateTime()))
        typed = []
        for number, count in ((1, 3), (2, 2)):
            for _ in range(count):
                code = codes.new_code()
                typed.append(code)
                db.session.execute(insert, {"round": round_id, "hash": codes.code_hash(code),
                                            "batch": number, "at": MADE[number - 1]})
        db.session.commit()
        yield round_id, typed
        db.session.rollback()
        db.session.remove()
        upgrade()


def test_upgrade_records_the_batches_from_their_codes(app, round_at_0014):
    round_id, typed = round_at_0014
    with app.app_context():
        upgrade()
        batches = db.session.execute(select(VotingCodeBatch).order_by(
            VotingCodeBatch.number)).scalars().all()
        assert [(b.round_id, b.number, b.count, b.languages, b.created_at, b.created_by_id,
                 b.voided_at) for b in batches] == [
            (round_id, 1, 3, [], MADE[0], None, None),
            (round_id, 2, 2, [], MADE[1], None, None)]
        round_ = db.session.get(Round, round_id)
        assert all(voting.find_code(round_, code).voided_at is None for code in typed)
        # The next batch numbers itself after them.
        coordinator = factories.user("c@example.org", role="coordinator", at=round_.table)
        assert voting.generate_batch(coordinator, round_, 1).batch.number == 3
        db.session.commit()


def test_downgrade_refuses_while_a_batch_is_voided(app, round_at_0014, capfd):
    round_id, _ = round_at_0014
    with app.app_context():
        upgrade()
        round_ = db.session.get(Round, round_id)
        coordinator = factories.user("c@example.org", role="coordinator", at=round_.table)
        voting.void_batch(coordinator, round_, 2, "The printer jammed.")
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate's way of failing a command
            downgrade(revision="0014")
        assert "1 voting-code batches are voided" in capfd.readouterr().err
        db.session.remove()
        stopped = db.session.execute(select(VotingCode.voided_at).where(
            VotingCode.batch == 2)).scalars().all()
        assert len(stopped) == 2 and None not in stopped
