"""Migration 0012 moves each publication's receipts and .pb file out of its row and keeps
every byte: the pages and downloads of a round published under 0011 answer as before, a
correction of the same ballots shares their receipts, and the downgrade puts them back."""

import json
from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import JSON, bindparam, func, select, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.models import (
    FileSlice,
    ProposalStatus,
    PublishedReceipt,
    ReceiptSet,
    RoundPhase,
    StoredFile,
)
from pb_vote.models.base import UTCDateTime
from pb_vote.services import codes
from tests import factories

CODES = [codes.format_code(codes.new_code()) for _ in range(30)]
HASHES = [codes.code_hash(code) for code in CODES]
PB = ["META\nkey;value\nnum_votes;30\n" + "\n".join(f"{n};1" for n in range(n_lines))
      for n_lines in (400, 300)]  # the first publication's file, then the correction's
PUBLISHED_AT = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)


def _result(selected: list[str]) -> dict:
    return {"budget": 10_000_000, "selected": selected, "total_cost": 3_000_000,
            "money_left": 7_000_000, "unit_cents": 100, "projects": []}


def _comparison(selected: list[str]) -> dict:
    def side(rule: str) -> dict:
        return {"rule": rule, "selected": selected, "total_cost": 3_000_000,
                "money_left": 7_000_000, "voters_with_a_funded_choice": 20}

    return {"ballots": 30, "used": side("greedy"), "other": side("mes")}


@pytest.fixture
def published_at_0011(app):
    """A round published twice (a correction of the same ballots) under 0011: the ids and
    each publication's receipt list as stored. Back to head afterwards, whatever happened."""
    with app.app_context():
        round_ = factories.round_(factories.city().own, RoundPhase.PUBLISHED)
        proposal = factories.proposal(round_, status=ProposalStatus.ACCEPTED)
        round_id, proposal_id = round_.id, proposal.id
        db.session.commit()
        db.session.remove()  # no transaction of ours may hold a table the downgrade alters
        downgrade(revision="0011")
        lists = [HASHES[::-1], HASHES[1::2] + HASHES[::2]]  # the same set, shuffled twice
        selected = {1: [str(proposal_id)], 2: []}
        insert = text(
            "INSERT INTO publications (round_id, number, published_at, published_by_id, rule, "
            "tie_break, correction_reason, ballot_count, excluded, result, comparison, "
            "turnout, receipts, ballots_pb) VALUES (:round, :number, :at, NULL, 'greedy', "
            "'default', :reason, 30, :excluded, :result, :comparison, :turnout, :receipts, "
            ":pb)"
        ).bindparams(bindparam("at", type_=UTCDateTime()),
                     *(bindparam(name, type_=JSON()) for name in (
                         "excluded", "result", "comparison", "turnout", "receipts")))
        for number, (receipts, pb) in enumerate(zip(lists, PB, strict=True), start=1):
            db.session.execute(insert, {
                "round": round_id, "number": number, "at": PUBLISHED_AT,
                "reason": None if number == 1 else "A cost was wrong.",
                "excluded": [] if number == 1 else [proposal_id],
                "result": _result(selected[number]),
                "comparison": _comparison(selected[number]), "receipts": receipts, "pb": pb,
                "turnout": {"ballots": 30, "by_channel": {"online": 30, "code": 0, "paper": 0},
                            "by_day": [["2026-03-20", 30]], "eligible_residents": None}})
        db.session.commit()
        yield round_id, lists
        db.session.rollback()
        db.session.remove()
        upgrade()


def test_upgrade_keeps_every_receipt_and_file_of_a_published_round(app, client,
                                                                  published_at_0011):
    round_id, lists = published_at_0011
    with app.app_context():
        upgrade()
        # One receipt set for the two publications of the same ballots; two .pb files.
        assert db.session.execute(select(func.count()).select_from(ReceiptSet)).scalar() == 1
        assert db.session.execute(
            select(func.count()).select_from(PublishedReceipt)).scalar() == len(HASHES)
        assert db.session.execute(select(func.count()).select_from(StoredFile)).scalar() == 3
    api = f"/api/v1/rounds/{round_id}"
    first = client.get(f"{api}/publications/1/receipts").get_json()
    assert first == {"round": round_id, "publication": 1, "receipts": lists[0],
                     "hash": "sha256 of the code without dashes, upper case"}
    latest = client.get(f"{api}/receipts").get_json()
    assert latest["publication"] == 2 and sorted(latest["receipts"]) == sorted(lists[1])
    assert client.get(f"{api}/publications/1/ballots.pb").text == PB[0]
    assert client.get(f"{api}/ballots.pb").text == PB[1]
    page = client.get(f"/rounds/{round_id}/results").text
    assert "A cost was wrong." in page and "Publication history" in page
    assert "Your ballot is in the count." in client.post(
        f"/rounds/{round_id}/verify", data={"receipt": CODES[7]}).text
    assert "not in the count" in client.post(
        f"/rounds/{round_id}/verify", data={"receipt": "ABCD-EFGH-JKMN-PQRS"}).text


def test_the_upgraded_publications_stay_immutable(app, published_at_0011):
    with app.app_context():
        upgrade()
        for statement in ("UPDATE publications SET rule = 'mes'",
                          "DELETE FROM publications",
                          "UPDATE published_receipts SET receipt_hash = 'forged'",
                          "DELETE FROM published_receipts",
                          "UPDATE stored_file_slices SET data = NULL",
                          "DELETE FROM stored_files", "DELETE FROM receipt_sets"):
            with pytest.raises(DatabaseError, match="immutable"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(select(func.count()).select_from(FileSlice)).scalar() > 0


def test_downgrade_puts_the_receipts_and_files_back(app, published_at_0011):
    _, lists = published_at_0011
    with app.app_context():
        upgrade()
        downgrade(revision="0011")
        rows = db.session.execute(text(
            "SELECT number, receipts, ballots_pb FROM publications ORDER BY number")).all()
        receipts = [json.loads(r) if isinstance(r, str) else r for _, r, _ in rows]
        assert receipts[0] == lists[0]
        assert sorted(receipts[1]) == sorted(lists[1])
        assert [pb for _, _, pb in rows] == PB
