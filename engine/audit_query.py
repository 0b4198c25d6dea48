"""Audit trail queries: filters, keyset pages by id, and streaming for exports.

Paging by id stays stable while rows arrive: ids only grow, and appends are serialised (advisory lock on
PostgreSQL, the write lock on SQLite) from id allocation to commit, so a committed row never appears
below an id a reader has already passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Select, func, select

from engine.audit import event_label
from engine.errors import Forbidden, InvalidData, NotFound
from engine.models import AuditEvent, Ticket
from engine.privacy import Actor

if TYPE_CHECKING:
    from engine.service import Engine

MAX_PAGE = 1000
_AUDIT = AuditEvent.__table__
_TICKETS = Ticket.__table__
_COLUMNS = (_AUDIT.c.id, _AUDIT.c.at, _AUDIT.c.actor, _AUDIT.c.event, _AUDIT.c.ticket_id, _TICKETS.c.ticket_no,
            _AUDIT.c.instance_id, _AUDIT.c.task_id, _AUDIT.c.data)


@dataclass(frozen=True)
class AuditFilter:
    """What to look for; every given field must match. `since` is inclusive, `until` exclusive (UTC-aware)."""

    ticket_id: int | None = None
    instance_id: int | None = None
    task_id: str | None = None
    actor: str | None = None
    event: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def check(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidData("时间必须带时区", {name: ["时间必须带时区。"]})
        if self.since and self.until and self.since >= self.until:
            raise InvalidData("开始时间必须早于结束时间", {"since": ["开始时间必须早于结束时间。"]})


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]
    # Pass as `after` for the next page; with newest_first=False it also picks up rows written later.
    next_after: int | None
    has_more: bool


def check_reader(engine: Engine, reader: Actor) -> None:
    """Only roles named in the rules' `audit_reader_roles` read the trail."""
    if not set(engine.rules.at(engine.clock().date())["audit_reader_roles"]) & reader.roles:
        raise Forbidden("只有审计员或系统管理员可以查看审计记录")


def audit_page(engine: Engine, reader: Actor, flt: AuditFilter, after: int | None = None, limit: int = 100,
               newest_first: bool = True) -> AuditPage:
    """A page of the trail for an auditor; rows hold no personal data, so nothing is masked or recorded."""
    check_reader(engine, reader)
    with engine.db.engine.connect() as conn:
        return fetch_page(conn, flt, after, limit, newest_first)


def ticket_id_for(conn: Connection, ticket_no: str) -> int:
    found = conn.scalar(select(_TICKETS.c.id).where(_TICKETS.c.ticket_no == ticket_no))
    if found is None:
        raise NotFound(f"工单 {ticket_no} 不存在")
    return found


def fetch_page(conn: Connection, flt: AuditFilter, after: int | None = None, limit: int = 100,
               newest_first: bool = False) -> AuditPage:
    """One page of matching rows after the id `after` (below it when newest_first)."""
    flt.check()
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidData(f"每页条数必须在 1 到 {MAX_PAGE} 之间", {"limit": [f"必须在 1 到 {MAX_PAGE} 之间。"]})
    query = _filtered(select(*_COLUMNS), flt)
    if after is not None:
        query = query.where(_AUDIT.c.id < after if newest_first else _AUDIT.c.id > after)
    query = query.order_by(_AUDIT.c.id.desc() if newest_first else _AUDIT.c.id).limit(limit + 1)
    rows = [row_dict(row) for row in conn.execute(query)]
    has_more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, rows[-1]["id"] if rows else after, has_more)


def head_id(conn: Connection) -> int:
    """The id of the newest row; 0 on an empty trail."""
    return conn.scalar(select(func.coalesce(func.max(_AUDIT.c.id), 0)))


def iter_rows(conn: Connection, flt: AuditFilter, up_to: int, batch: int = 1000,
              extra: tuple = ()) -> Iterator[Any]:
    """Every matching row with id <= up_to, oldest first, in keyset batches (no full load into memory)."""
    flt.check()
    after = 0
    while True:
        query = _filtered(select(*_COLUMNS, *extra), flt).where(_AUDIT.c.id > after, _AUDIT.c.id <= up_to)
        rows = conn.execute(query.order_by(_AUDIT.c.id).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].id


def count(conn: Connection, flt: AuditFilter, up_to: int) -> int:
    """How many rows match, up to an id: the total for an export's progress bar."""
    flt.check()
    return conn.scalar(_where(select(func.count()).select_from(_AUDIT), flt).where(_AUDIT.c.id <= up_to))


def row_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "at": row.at, "actor": row.actor, "event": row.event, "event_label": event_label(row.event),
            "ticket_id": row.ticket_id, "ticket_no": row.ticket_no, "instance_id": row.instance_id,
            "task_id": row.task_id, "data": row.data}


def _filtered(query: Select, flt: AuditFilter) -> Select:
    return _where(query.select_from(_AUDIT.outerjoin(_TICKETS, _TICKETS.c.id == _AUDIT.c.ticket_id)), flt)


def _where(query: Select, flt: AuditFilter) -> Select:
    for column in ("ticket_id", "instance_id", "task_id", "actor", "event"):
        value = getattr(flt, column)
        if value is not None:
            query = query.where(_AUDIT.c[column] == value)
    if flt.since is not None:
        query = query.where(_AUDIT.c.at >= flt.since)
    if flt.until is not None:
        query = query.where(_AUDIT.c.at < flt.until)
    return query
