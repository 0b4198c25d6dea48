"""The append-only audit trail with a hash chain that makes edits, deletions and reordering visible."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text

from engine.models import AuditEvent

GENESIS_HASH = "0" * 64
# Any constant works; it names the lock that orders chain appends across PostgreSQL sessions.
_CHAIN_LOCK_KEY = 0x6A696573
_LAST_HASH = select(AuditEvent.__table__.c.hash).order_by(AuditEvent.__table__.c.id.desc()).limit(1)
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


@dataclass
class AuditEntry:
    """One thing that happened, collected during a command and written at its end."""

    event: str
    actor: str
    ticket_id: int | None = None
    instance_id: int | None = None
    task_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def row_hash(prev_hash: str, at: datetime, entry: AuditEntry | AuditEvent) -> str:
    body = json.dumps(
        [prev_hash, at.isoformat(), entry.actor, entry.event, entry.ticket_id, entry.instance_id,
         entry.task_id, entry.data],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def append(conn: Connection, entries: list[AuditEntry], at: datetime) -> None:
    """Chain `entries` onto the trail inside the caller's transaction.

    On PostgreSQL a transaction-scoped advisory lock makes "read the last hash, insert after it"
    atomic across writers until commit; SQLite's BEGIN IMMEDIATE already serialises writers.
    Callers append last, so the lock is held only for the end of the transaction.
    """
    if not entries:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"key": _CHAIN_LOCK_KEY})
    prev = conn.scalar(_LAST_HASH) or GENESIS_HASH
    rows = []
    for entry in entries:
        digest = row_hash(prev, at, entry)
        rows.append({"at": at, "actor": entry.actor, "event": entry.event, "ticket_id": entry.ticket_id,
                     "instance_id": entry.instance_id, "task_id": entry.task_id, "data": entry.data,
                     "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(insert(AuditEvent.__table__), rows)
