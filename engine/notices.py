"""Stores the notices a command's workflow raised, each with an audit entry naming it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from engine.audit import AuditEntry
from engine.command_context import Notice
from engine.instances import InstanceHead
from engine.models import Notice as NoticeRow


def write(conn: Connection, instance: InstanceHead, notices: list[Notice], actor: str,
          now: datetime) -> list[AuditEntry]:
    if not notices:
        return []
    conn.execute(insert(NoticeRow.__table__), [
        {"at": now, "kind": n.kind, "ticket_id": instance.ticket_id, "instance_id": instance.id,
         "recipients": n.recipients, "text": n.text} for n in notices])
    return [AuditEntry("notice.sent", actor, instance.ticket_id, instance.id, None,
                       {"kind": n.kind, "recipients": n.recipients, "text": n.text}) for n in notices]
