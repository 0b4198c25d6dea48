"""Checks the audit hash chain row by row, streaming in id order, and names the first broken row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from engine.audit import GENESIS_HASH, row_hash
from engine.models import AuditEvent

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


def verify_chain(conn: Connection, progress: Callable[[int], None] | None = None,
                 batch: int = _BATCH) -> ChainReport:
    """Recompute every row's hash and check it links to the row before it.

    An edited row fails its own hash; a deleted, inserted or moved row breaks the link to its
    predecessor, so the first failure is where the trail stops being trustworthy. Deleting rows at the
    very end leaves a valid shorter chain: compare `head_id`/`head_hash` with a head recorded earlier.
    `progress` receives the number of rows checked in each batch.
    """
    prev_id, prev_hash, checked = None, GENESIS_HASH, 0
    while True:
        query = select(_AUDIT).order_by(_AUDIT.c.id).limit(batch)
        if prev_id is not None:
            query = query.where(_AUDIT.c.id > prev_id)
        rows = conn.execute(query).all()
        for row in rows:
            problem = _problem(row, prev_id, prev_hash)
            if problem:
                return ChainReport(checked, prev_id, prev_hash, row.id, problem)
            prev_id, prev_hash, checked = row.id, row.hash, checked + 1
        if progress:
            progress(len(rows))
        if len(rows) < batch:
            return ChainReport(checked, prev_id, prev_hash)


def expected_rows(conn: Connection) -> int:
    """How many rows a check will read, for progress bars."""
    return conn.scalar(select(func.count()).select_from(_AUDIT))


def _problem(row, prev_id: int | None, prev_hash: str) -> str | None:
    if row.prev_hash != prev_hash:
        before = f"第 {prev_id} 条" if prev_id is not None else "链首"
        return (f"第 {row.id} 条记录的前序哈希与{before}不符：其间有记录被删除、插入或调换了顺序，"
                f"或{before}被改写后重算了哈希")
    if row_hash(row.prev_hash, row.at, row) != row.hash:
        return f"第 {row.id} 条记录的内容与其哈希不符：该记录被修改过"
    return None
