"""Migrations build exactly the schema the models declare; the audit, user-unit and audit-hash migrations go down
and up."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from engine.db import MIGRATIONS_DIR, Database
from engine.models import Base
from tests.helpers import audit_rows, receive


def test_migrated_schema_matches_the_models(db):
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def _audit_indexes(db: Database) -> set[str]:
    return {index["name"] for index in inspect(db.engine).get_indexes("audit_events")}


def _triggers(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())


def test_audit_migration_downgrades_and_upgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    composite = {"ix_audit_events_ticket_id_id", "ix_audit_events_actor_at", "ix_audit_events_event_id"}
    assert composite <= _audit_indexes(db)
    assert _triggers(db) == {"audit_events_no_update", "audit_events_no_delete"}
    _downgrade(db, "0001")
    assert not composite & _audit_indexes(db) and "ix_audit_events_ticket_id" in _audit_indexes(db)
    assert _triggers(db) == set()
    db.migrate()
    assert composite <= _audit_indexes(db) and len(_triggers(db)) == 2
    db.dispose()


def _downgrade(db: Database, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _user_columns(db: Database) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns("users")}


def test_user_unit_migration_downgrades_and_upgrades(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    db.migrate()
    assert "unit" in _user_columns(db)
    _downgrade(db, "0007_escalation")
    assert "unit" not in _user_columns(db) and "roles" in _user_columns(db)
    db.migrate()
    assert "unit" in _user_columns(db)
    db.dispose()


def _hash_is_unique(db: Database) -> bool:
    found = inspect(db.engine)
    return (any(c["column_names"] == ["hash"] for c in found.get_unique_constraints("audit_events"))
            or any(i["column_names"] == ["hash"] and i["unique"] for i in found.get_indexes("audit_events")))


def _audit_refuses_changes(db: Database) -> bool:
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    return True


def test_audit_hash_migration_keeps_rows_and_triggers(db, engine):
    receive(engine)
    rows = [(row.id, row.hash) for row in audit_rows(engine)]
    assert rows and not _hash_is_unique(db) and _audit_refuses_changes(db)
    try:
        _downgrade(db, "0008_user_unit")
        assert _hash_is_unique(db) and _audit_refuses_changes(db)
        assert [(row.id, row.hash) for row in audit_rows(engine)] == rows
    finally:
        db.migrate()
    assert not _hash_is_unique(db) and _audit_refuses_changes(db)
    assert [(row.id, row.hash) for row in audit_rows(engine)] == rows
