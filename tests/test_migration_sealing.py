"""Migration 0010 seals the ballots older versions stored in plain text, with the key from
configuration, and keeps every choice; its downgrade opens them again."""

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pb_vote.extensions import db
from pb_vote.models import BallotKind, ProposalStatus, RoundPhase
from pb_vote.services import voting
from pb_vote.services.ballot_box import BallotKeyError, VoteKeys
from tests import factories

OTHER_KEY = "b3RoZXIta2V5LW9mLTMyLWJ5dGVzLXh4eHh4eHh4eHg="
PLAIN = {  # round -> the choices stored by the old version, by voter key
    "approval": {"k1": {"1": 1, "2": 1}, "k2": {"2": 1}, "k3": {"1": 1, "2": 1, "3": 1}},
    "points": {"k1": {"4": 7, "5": 3}, "k2": {"6": 10}},
}


@pytest.fixture
def plain_ballots(app):
    """Two rounds in voting at 0009 with ballots stored the old way (plain JSON choices);
    put back to head afterwards whatever happened."""
    with app.app_context():
        table = factories.table()
        rounds = {
            "approval": factories.round_(table, RoundPhase.VOTING, title="Approval"),
            "points": factories.round_(table, RoundPhase.VOTING, title="Points",
                                       ballot_kind=BallotKind.POINTS, points_total=10,
                                       points_max_per_proposal=8),
        }
        for round_ in rounds.values():
            for _ in range(3):
                factories.proposal(round_, status=ProposalStatus.ACCEPTED)
        ids = {kind: round_.id for kind, round_ in rounds.items()}
        db.session.commit()
        downgrade(revision="0009")
        for kind, ballots in PLAIN.items():
            for number, (voter_key, choices) in enumerate(ballots.items()):
                db.session.execute(text(
                    "INSERT INTO ballots (id, round_id, voter_key, choices) "
                    "VALUES (:id, :round, :key, :choices)"),
                    {"id": f"{kind}-{number}".ljust(32, "0"), "round": ids[kind],
                     "key": voter_key, "choices": json.dumps(choices)})
        db.session.commit()
        yield ids
        db.session.rollback()
        db.session.execute(text("DELETE FROM ballots"))
        db.session.commit()
        upgrade()


def test_upgrade_seals_every_stored_ballot_and_keeps_its_choices(app, plain_ballots):
    with app.app_context():
        upgrade()
        columns = {c["name"] for c in inspect(db.engine).get_columns("ballots")}
        assert columns == {"id", "round_id", "voter_key", "sealed"}
        keys = VoteKeys.from_config(app.config)
        for kind, round_id in plain_ballots.items():
            opened = sorted(voting.counted_choices(keys, round_id), key=json.dumps)
            assert opened == sorted(PLAIN[kind].values(), key=json.dumps)
            sealed = db.session.execute(text(
                "SELECT sealed FROM ballots WHERE round_id = :round"), {"round": round_id}
            ).scalars().all()
            assert len({len(bytes(s)) for s in sealed}) == 1  # one length per round
            for ballot in sealed:
                for choices in PLAIN[kind].values():
                    assert json.dumps(choices, separators=(",", ":")).encode() not in bytes(
                        ballot)
        # A ballot cast after the upgrade has the length of the ones sealed by it.
        rules = voting.rules_of(plain_ballots["points"])
        new = keys.keyring.seal({"4": 1}, round_id=plain_ballots["points"], voter_key="k9",
                                size=rules.sealed_size)
        assert len(new) == len(bytes(sealed[0]))


def test_the_upgrade_needs_the_key_that_will_open_them(app, plain_ballots):
    with app.app_context():
        upgrade()
        other = VoteKeys.from_config({**app.config, "BALLOT_KEYS": [OTHER_KEY]})
        with pytest.raises(BallotKeyError, match="not configured"):
            voting.counted_choices(other, plain_ballots["approval"])


def test_downgrade_opens_them_again(app, plain_ballots):
    with app.app_context():
        upgrade()
        downgrade(revision="0009")
        rows = db.session.execute(text("SELECT round_id, voter_key, choices FROM ballots")).all()
        found = {(round_id, key): json.loads(c) if isinstance(c, str) else c
                 for round_id, key, c in rows}
        expected = {(plain_ballots[kind], key): choices
                    for kind, ballots in PLAIN.items() for key, choices in ballots.items()}
        assert found == expected
