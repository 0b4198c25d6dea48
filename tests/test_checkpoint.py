"""SQLite's WAL is moved into the database file by a thread beside the writers, not inside a commit."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing

import pytest
from sqlalchemy import text

from engine import checkpoint
from engine.db import Database
from engine.factory import workflows_dir
from engine.service import Engine
from tests.conftest import ADMIN
from tests.helpers import receive


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch):
    monkeypatch.setenv("JIESU_SQLITE_CHECKPOINT_SECONDS", "3600")  # the thread waits; the test checkpoints
    database = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    database.migrate()
    yield database
    database.dispose()


def test_commits_leave_the_wal_to_the_checkpoint_thread(sqlite_db):
    engine = Engine(sqlite_db)
    engine.deploy_dir(workflows_dir(), ADMIN)
    with sqlite_db.transaction() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    for n in range(40):  # well past SQLite's automatic limit of 1,000 pages
        receive(engine, f"W-{n:03d}")
    busy, frames, moved = checkpoint.checkpoint(sqlite_db.engine.url.database)
    assert (busy, moved) == (0, frames) and frames > 1000
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tickets")).scalar() == 40


def test_after_a_round_the_writer_starts_the_wal_over(sqlite_db):
    """Under steady writes a round never finds every frame moved: commands append while it copies. The
    writer's catch-up between two commands moves the rest, and the next command writes the WAL from its
    start instead of growing it. Here a reader's snapshot keeps the round from the last frames instead."""
    engine = Engine(sqlite_db)
    engine.deploy_dir(workflows_dir(), ADMIN)
    path = sqlite_db.engine.url.database
    for n in range(20):
        receive(engine, f"W-{n:03d}")
    with closing(sqlite3.connect(path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM tickets").fetchone()  # holds its snapshot
        for n in range(20, 40):
            receive(engine, f"W-{n:03d}")
        sqlite_db._checkpointer.round()  # what the thread does every JIESU_SQLITE_CHECKPOINT_SECONDS
        reader.execute("COMMIT")
    wal_bytes = os.path.getsize(f"{path}-wal")
    receive(engine, "W-next")
    busy, frames, moved = checkpoint.checkpoint(path)
    assert (busy, moved) == (0, frames) and 0 < frames < 100  # the last command's frames only
    assert os.path.getsize(f"{path}-wal") == wal_bytes  # written over from the start, not grown
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tickets")).scalar() == 41


def test_no_checkpoint_thread_when_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("JIESU_SQLITE_CHECKPOINT_SECONDS", "0")
    database = Database(f"sqlite:///{tmp_path / 'auto.sqlite3'}")
    try:
        with database.transaction() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert database._checkpointer is None
    finally:
        database.dispose()


def test_checkpoint_of_a_database_that_is_gone_fails_without_creating_one(tmp_path):
    missing = tmp_path / "gone.sqlite3"
    with pytest.raises(sqlite3.OperationalError):
        checkpoint.checkpoint(str(missing))
    assert not missing.exists()


def test_a_failed_catch_up_is_logged_and_never_fails_the_command(sqlite_db, caplog):
    with sqlite_db.transaction():
        pass  # the first transaction opens the writer and starts the thread
    checkpointer = sqlite_db._checkpointer
    checkpointer.round()
    broken = sqlite3.connect(":memory:")
    broken.close()
    checkpointer.catch_up(broken)  # raises nothing
    assert "WAL catch-up checkpoint failed" in caplog.text
    with sqlite_db.transaction() as conn:  # and the next command runs as ever
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
