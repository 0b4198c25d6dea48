"""Hot-path statements: compiled once per dialect, run on the DBAPI cursor of the command's connection.

SQLAlchemy builds and compiles them, so they are the same SQL, with the same type conversions, on
SQLite and PostgreSQL, inside the same transaction as everything else. What is skipped is its
per-execution machinery (cache key, execution context, result object): for the one-row statements
every command runs, that machinery costs several times what the database does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool  # qmark and format paramstyles: parameters go as a sequence in `binds` order
    binds: tuple[tuple[str, Callable[[Any], Any] | None], ...]  # name and bind processor
    fixed: dict[str, Any]  # values written into the statement itself, e.g. where(state == "open")
    defaults: dict[str, Callable[[Any], Any]]  # Python-side column defaults of an insert or update
    results: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """One statement whose binds are all named bindparams (insert and update values included)."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, conn: Connection, params: dict[str, Any]) -> Any:
        """Run with one set of parameters; the DBAPI cursor (rowcount, fetches via `first`/`all`)."""
        compiled = self._for(conn.dialect)
        cursor = conn.connection.driver_connection.cursor()
        self._call(conn, compiled, cursor.execute, _bound(compiled, params))
        return cursor

    def executemany(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(conn.dialect)
        cursor = conn.connection.driver_connection.cursor()
        self._call(conn, compiled, cursor.executemany, [_bound(compiled, row) for row in rows])

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple | None:
        row = self.execute(conn, params).fetchone()
        return None if row is None else _converted(self._compiled[conn.dialect.name], row)

    def all(self, conn: Connection, params: dict[str, Any]) -> list[tuple]:
        compiled = self._for(conn.dialect)
        return [_converted(compiled, row) for row in self.execute(conn, params).fetchall()]

    def scalar(self, conn: Connection, params: dict[str, Any]) -> Any:
        row = self.first(conn, params)
        return None if row is None else row[0]

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return compiled

    def _call(self, conn: Connection, compiled: _Compiled, run: Callable[[str, Any], Any], params: Any) -> None:
        try:
            run(compiled.sql, params)
        except conn.dialect.loaded_dbapi.Error as exc:
            # The same exception classes as a statement run through SQLAlchemy would raise.
            raise DBAPIError.instance(compiled.sql, params, exc, conn.dialect.loaded_dbapi.Error) from exc


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """What the block writes is undone if it raises; the transaction around it goes on."""
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute("SAVEPOINT jiesu_step")
    try:
        yield
    except BaseException:
        cursor.execute("ROLLBACK TO SAVEPOINT jiesu_step")
        raise
    cursor.execute("RELEASE SAVEPOINT jiesu_step")


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    names = compiled.positiontup if compiled.positional else compiled.binds
    binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)) for name in names)
    fixed = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
    defaults = {column.key: column.default.arg for column in compiled.insert_prefetch}
    defaults |= {column.key: column.onupdate.arg for column in compiled.update_prefetch}
    columns = statement.selected_columns if isinstance(statement, Select) else ()
    results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return _Compiled(compiled.string, bool(compiled.positional), binds, fixed, defaults, results)


def _bound(compiled: _Compiled, params: dict[str, Any]) -> Any:
    given = compiled.fixed | params if compiled.fixed else params
    for name, default in compiled.defaults.items():
        if name not in params:
            given = {**given, name: default(None) if callable(default) else default}
    if compiled.positional:
        return [process(given[name]) if process else given[name] for name, process in compiled.binds]
    return {name: process(given[name]) if process else given[name] for name, process in compiled.binds}


def _converted(compiled: _Compiled, row: Sequence[Any]) -> tuple:
    if not any(compiled.results):
        return tuple(row)
    return tuple(process(value) if process else value for process, value in zip(compiled.results, row, strict=True))
