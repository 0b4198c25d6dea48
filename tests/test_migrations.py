"""Migrations build exactly the schema the models declare; the audit and user-unit migrations go down and up."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from engine.db import MIGRATIONS_DIR, Database
from engine.models import Base


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
