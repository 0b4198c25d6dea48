"""Checks the audit hash chain row by row, streaming in id order, and names the first broken row."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from engine.audit import GENESIS_HASH, row_hash
from engine.audit_query import check_reader
from engine.models import AuditEvent
from engine.privacy import Actor
from engine.tabular import Progress

if TYPE_CHECKING:
    from engine.service import Engine

_AUDIT = AuditEvent.__table__
_BATCH = 5000


@dataclass(frozen=True)
class ChainReport:
    checked: int
    head_id: int | None  # the last row that verified
    head_hash: str
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain(conn: Connection, progress: Progress = None, batch: int = _BATCH) -> ChainReport:
    """Check the trail in the database, reading it in id order in batches (never all of it at once)."""
    return check_rows(_stored_rows(conn, batch, progress))


def check_rows(rows: Iterable[Any]) -> ChainReport:
    """Recompute every row's hash and check it links to the row before it.

    An edited row fails its own hash; a deleted, inserted or moved row breaks the link to its
    predecessor, so the first failure is where the trail stops being trustworthy. Deleting rows at the
    very end leaves a valid shorter chain: compare `head_id`/`head_hash` with a head recorded earlier.
    """
    prev_id, prev_hash, checked = None, GENESIS_HASH, 0
    for row in rows:
        problem = _problem(row, prev_id, prev_hash)
        if problem:
            return ChainReport(checked, prev_id, prev_hash, row.id, problem)
        prev_id, prev_hash, checked = row.id, row.hash, checked + 1
    return ChainReport(checked, prev_id, prev_hash)


def verify_export(path: Path, progress: Progress = None) -> ChainReport:
    """Check the audit_events.csv of a contract-end export, without the database it came from."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return check_rows(_csv_row(line, progress) for line in csv.DictReader(handle))


def _stored_rows(conn: Connection, batch: int, progress: Progress) -> Iterator[Any]:
    after = 0
    while True:
        rows = conn.execute(select(_AUDIT).where(_AUDIT.c.id > after).order_by(_AUDIT.c.id).limit(batch)).all()
        yield from rows
        if progress:
            progress(len(rows))
        if len(rows) < batch:
            return
        after = rows[-1].id


def _csv_row(line: dict[str, str], progress: Progress) -> SimpleNamespace:
    """A row as export-all wrote it: ISO times, JSON data, empty cells for no value."""
    if progress:
        progress(1)
    return SimpleNamespace(
        id=int(line["id"]), at=datetime.fromisoformat(line["at"]), actor=line["actor"], event=line["event"],
        ticket_id=_optional_int(line["ticket_id"]), instance_id=_optional_int(line["instance_id"]),
        task_id=line["task_id"] or None, data=json.loads(line["data"]), prev_hash=line["prev_hash"],
        hash=line["hash"])


def verify_trail(engine: Engine, reader: Actor, anchor: tuple[int, str] | None = None,
                 progress: Progress = None) -> ChainReport:
    """The whole check for an auditor; `anchor` is a (row id, hash) recorded earlier that must still hold."""
    check_reader(engine, reader)
    with engine.db.engine.connect() as conn:
        report = verify_chain(conn, progress)
        if report.ok and anchor is not None:
            problem = anchor_problem(conn, *anchor)
            if problem:
                return ChainReport(report.checked, report.head_id, report.head_hash, anchor[0], problem)
        return report


def anchor_problem(conn: Connection, row_id: int, expected_hash: str) -> str | None:
    """Whether a row recorded earlier (e.g. a head hash printed by a previous check) is still there.

    With the chain intact up to the end, this row being unchanged proves nothing before it changed;
    its absence shows the end of the trail was cut off.
    """
    found = conn.scalar(select(_AUDIT.c.hash).where(_AUDIT.c.id == row_id))
    if found is None:
        return f"之前记录的第 {row_id} 条已不存在：审计链末尾被截掉了"
    if found != expected_hash:
        return f"第 {row_id} 条的哈希与之前记录的不同：该条及其之前的记录被改写过"
    return None


def expected_rows(conn: Connection) -> int:
    """How many rows a check will read, for progress bars."""
    return conn.scalar(select(func.count()).select_from(_AUDIT))


def _optional_int(text: str) -> int | None:
    return int(text) if text else None


def _problem(row, prev_id: int | None, prev_hash: str) -> str | None:
    if row.prev_hash != prev_hash:
        before = f"第 {prev_id} 条" if prev_id is not None else "链首"
        return (f"第 {row.id} 条记录的前序哈希与{before}不符：其间有记录被删除、插入或调换了顺序，"
                f"或{before}被改写后重算了哈希")
    if row_hash(row.prev_hash, row.at, row) != row.hash:
        return f"第 {row.id} 条记录的内容与其哈希不符：该记录被修改过"
    return None
