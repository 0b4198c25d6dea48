"""Database connection, SQLite tuning, transactions and migrations."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine import checkpoint

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def default_url(instance_dir: Path | None = None) -> str:
    """JIESU_DATABASE_URL, else a SQLite file in the instance folder."""
    url = os.environ.get("JIESU_DATABASE_URL")
    if url:
        return url
    folder = instance_dir or Path(os.environ.get("JIESU_INSTANCE_DIR", "instance"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'jiesu.sqlite3').resolve()}"


class Database:
    """One engine per process; `transaction()` is the only way commands write."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.is_sqlite = self.url.startswith("sqlite")
        self.engine = _make_engine(self.url, self.is_sqlite)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Writers on SQLite take the write lock up front: a deferred transaction that reads
        # and then writes fails outright when another writer got in between.
        self._write_engine = self.engine.execution_options(jiesu_write=True)
        self._sqlite_write_lock = threading.Lock()
        self._writer: Connection | None = None
        self._writer_pid = 0
        self._checkpointer: checkpoint.Checkpointer | None = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A unit of work: commits when the block ends, rolls back on any exception."""
        if not self.is_sqlite:
            with self._write_engine.begin() as connection:
                yield connection
            return
        # SQLite has one writer at a time. Threads of this process queue here; without it they would
        # meet SQLite's busy handler, which sleeps in growing steps and leaves long tails of latency.
        # The turn comes with the process's one writing connection, kept open between commands.
        with self._sqlite_write_lock:
            connection = self._sqlite_writer()
            if self._checkpointer is not None:
                self._checkpointer.catch_up(connection.connection.driver_connection)
            try:
                with connection.begin():
                    yield connection
            except BaseException:
                if connection.invalidated:
                    self._writer = None
                raise

    def _sqlite_writer(self) -> Connection:
        if self._writer is None or self._writer_pid != os.getpid():
            self._writer, self._writer_pid = self._write_engine.connect(), os.getpid()
            self._checkpoint_in_background(self._writer)
        return self._writer

    def _checkpoint_in_background(self, writer: Connection) -> None:
        path, seconds = self.engine.url.database, checkpoint.interval()
        if not path or path == ":memory:" or seconds <= 0:
            return
        if self._checkpointer is None or not self._checkpointer.running:
            self._checkpointer = checkpoint.Checkpointer(path, seconds).start()
        writer.connection.driver_connection.execute("PRAGMA wal_autocheckpoint=0")

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        with self._sqlite_write_lock:
            if self._writer is not None and self._writer_pid == os.getpid():
                self._writer.close()
            self._writer = None
            if self._checkpointer is not None:
                self._checkpointer.stop()
                self._checkpointer = None
        self.engine.dispose()


def json_text(value: object) -> str:
    """JSON columns' text. orjson is several times faster than json, whose output it equals as data;
    what it refuses (integers past 64 bits) goes through json as before.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def _sqlite_synchronous() -> str:
    """NORMAL by default: in WAL mode a commit survives any crash of the process, and only a power cut
    can roll back the last commits (never corrupt). FULL also fsyncs every commit, at about 0.3 ms each.
    """
    value = os.environ.get("JIESU_SQLITE_SYNCHRONOUS", "NORMAL").upper()
    if value not in ("NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"JIESU_SQLITE_SYNCHRONOUS must be NORMAL, FULL or EXTRA, not {value}")
    return value


def _make_engine(url: str, is_sqlite: bool) -> Engine:
    if not is_sqlite:
        return create_engine(url, pool_pre_ping=True, json_serializer=json_text)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           json_serializer=json_text)

    @event.listens_for(engine, "connect")
    def _tune(dbapi_connection, _record) -> None:
        # Let SQLAlchemy emit BEGIN itself (see _begin), as the SQLAlchemy docs advise for pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={_sqlite_synchronous()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        write = connection.get_execution_options().get("jiesu_write", False)
        # On the DBAPI connection directly: every command begins here, and nothing needs a result object.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
