"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DatabaseError

from pb_vote.extensions import db
from pb_vote.services.audit import record_event


def _differences(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def test_migrated_schema_equals_the_models(app):
    assert _differences(app) == []


def test_every_model_table_exists_after_migration(app):
    with app.app_context():
        present = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= present
    assert "alembic_version" in present


def test_audit_trail_refuses_update_and_delete_in_the_database(app):
    with app.app_context():
        record_event(None, "test.happened", "thing", 1)
        db.session.commit()
        for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(text("SELECT action FROM audit_events")).scalar() == (
            "test.happened"
        )


def test_downgrade_to_nothing_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
    assert _differences(app) == []
