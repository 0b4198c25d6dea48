"""Notices the workflow raised: stored with their command (and an audit entry each), listed for staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from engine.audit import AuditEntry
from engine.command_context import Notice
from engine.instances import InstanceHead
from engine.models import Notice as NoticeRow
from engine.models import Ticket


def write(conn: Connection, instance: InstanceHead, notices: list[Notice], actor: str,
          now: datetime) -> list[AuditEntry]:
    if not notices:
        return []
    conn.execute(insert(NoticeRow.__table__), [
        {"at": now, "kind": n.kind, "ticket_id": instance.ticket_id, "instance_id": instance.id,
         "recipients": n.recipients, "text": n.text} for n in notices])
    return [AuditEntry("notice.sent", actor, instance.ticket_id, instance.id, None,
                       {"kind": n.kind, "recipients": n.recipients, "text": n.text}) for n in notices]


def for_unit(rows: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    """The notices addressed to a handling unit or to its leader (the ticket diagram's recipients)."""
    return [row for row in rows if unit in row["recipients"] or f"{unit}负责人" in row["recipients"]]


def recent(session: Session, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest notices first, with the ticket number they concern."""
    query = (select(NoticeRow, Ticket.ticket_no).outerjoin(Ticket, Ticket.id == NoticeRow.ticket_id)
             .order_by(NoticeRow.id.desc()).limit(limit))
    if kind is not None:
        query = query.where(NoticeRow.kind == kind)
    return [{"id": n.id, "at": n.at, "kind": n.kind, "ticket_no": ticket_no, "instance_id": n.instance_id,
             "recipients": n.recipients, "text": n.text} for n, ticket_no in session.execute(query)]
