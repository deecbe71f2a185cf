"""The audit trail: append-only, hash-chained, tamper-evident."""

import pytest
from sqlalchemy import select, text

from pb_vote.extensions import db
from pb_vote.models import GENESIS_HASH, AuditEvent, MembershipRole
from pb_vote.services import accounts
from pb_vote.services.audit import record_event, verify_chain
from tests import factories


def test_events_chain_each_to_the_previous(app_ctx):
    table = factories.table()
    admin = factories.user("admin@example.org", city_admin=True)
    first = record_event(admin, "round.created", "round", 1, table_id=table.id, details={"a": 1})
    second = record_event(None, "round.opened", "round", 1, table_id=table.id)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.actor_role == "city_admin"
    assert second.actor_role == "system"
    assert verify_chain().intact
    assert verify_chain().events_checked == 2


def test_role_is_recorded_as_held_at_that_table(app_ctx):
    table = factories.table()
    other = factories.table("ita")
    coordinator = factories.user("c@example.org", role=MembershipRole.COORDINATOR, at=table)
    assert record_event(coordinator, "x", "round", table_id=table.id).actor_role == "coordinator"
    assert record_event(coordinator, "x", "round", table_id=other.id).actor_role == "resident"


def test_granting_a_role_is_audited(app_ctx):
    table = factories.table()
    admin = factories.user("admin@example.org", city_admin=True)
    person = factories.user("new@example.org")
    accounts.grant_membership(admin, person, table, MembershipRole.MEMBER)
    event = db.session.execute(select(AuditEvent)).scalars().one()
    assert (event.action, event.actor_id, event.table_id) == (
        "membership.granted", admin.id, table.id)
    assert event.details == {"role": "member", "previous_role": None}


def test_tampering_shows_even_when_the_triggers_are_bypassed(app):
    with app.app_context():
        for number in range(3):
            record_event(None, f"event.{number}", "thing", number)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            db.session.execute(text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(
            text("UPDATE audit_events SET object_id = '99' WHERE action = 'event.1'")
        )
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
        db.session.commit()
        check = verify_chain()
        assert not check.intact
        broken = db.session.execute(
            select(AuditEvent.id).where(AuditEvent.action == "event.1")
        ).scalar_one()
        assert check.first_broken_id == broken


def test_the_chain_cannot_fork(app):
    with app.app_context():
        record_event(None, "first", "thing")
        db.session.commit()
        forged = AuditEvent(
            occurred_at=db.session.execute(select(AuditEvent.occurred_at)).scalar_one(),
            actor_role="system", action="fork", object_type="thing", details={},
            prev_hash=GENESIS_HASH, hash="f" * 64,
        )
        db.session.add(forged)
        with pytest.raises(Exception, match=r"(?i)unique"):
            db.session.commit()
        db.session.rollback()
