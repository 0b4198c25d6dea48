"""Fixtures: each test runs on SQLite and, where JIESU_TEST_PG names a database, on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, text

from api.cli import main
from engine.db import Database
from engine.factory import workflows_dir
from engine.models import Base
from engine.privacy import Actor
from engine.service import Engine

DATA = Path(__file__).parent / "data"
pytest_plugins = ["tests.web_fixtures", "tests.escalation_fixtures"]
ADMIN = Actor("管理员甲", frozenset({"admin"}))
INTAKE = Actor("受理员王", frozenset({"intake"}))
DISPATCHER = Actor("派单员李", frozenset({"dispatcher"}))
UNIT = Actor("承办人赵", frozenset({"unit"}))


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def unguarded_audit(connection: Connection) -> Iterator[None]:
    """Switch off the append-only triggers for this transaction, as someone with database rights can."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER USER")
        yield
        connection.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER USER")
        return
    triggers = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'").all()
    for name, _ in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    for _, ddl in triggers:
        connection.exec_driver_sql(ddl)


def _backends() -> list:
    pg = pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("JIESU_TEST_PG"), reason="JIESU_TEST_PG not set"))
    return ["sqlite", pg]


@pytest.fixture(scope="session", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'jiesu.sqlite3'}"
    else:
        url = os.environ["JIESU_TEST_PG"]
        fresh = Database(url)
        with fresh.engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        fresh.dispose()
    db = Database(url)
    db.migrate()
    db.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    with database.engine.begin() as connection, unguarded_audit(connection):
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _attachments_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files the engine writes (evidence, filed reports) go to the test's own folder, never the checkout."""
    monkeypatch.setenv("JIESU_ATTACHMENTS_DIR", str(tmp_path / "attachments"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(db: Database, clock: FakeClock) -> Engine:
    eng = Engine(db, clock=clock)
    eng.deploy_dir(workflows_dir(), ADMIN)
    return eng


@pytest.fixture
def run(db, database_url):
    """Run the jiesu command line in-process against the test database."""
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(main, list(args), input=stdin, env={"JIESU_DATABASE_URL": database_url})

    return invoke
