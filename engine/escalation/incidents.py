"""Incident rows and the tickets they link; an incident is open while its escalation instance runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from engine.models import ComplaintGroupTicket, Incident, IncidentTicket, Instance

_I = Incident.__table__
_IT = IncidentTicket.__table__
_OPEN = (select(_I).join(Instance.__table__, Instance.__table__.c.id == _I.c.instance_id)
         .where(Instance.__table__.c.status == "running"))


def create(conn: Connection, now: datetime, actor: str, **columns: Any) -> int:
    row = {"created_at": now, "created_by": actor, "alerted_level": 0, **columns}
    return conn.scalar(insert(_I).values(row).returning(_I.c.id))


def link(conn: Connection, incident_id: int, ticket_ids: tuple[int, ...], now: datetime) -> None:
    known = set(conn.scalars(select(_IT.c.ticket_id).where(_IT.c.incident_id == incident_id)))
    rows = [{"incident_id": incident_id, "ticket_id": t, "linked_at": now} for t in ticket_ids if t not in known]
    if rows:
        conn.execute(insert(_IT), rows)


def set_instance(conn: Connection, incident_id: int, instance_id: int) -> None:
    conn.execute(update(_I).where(_I.c.id == incident_id).values(instance_id=instance_id))


def upgrade(conn: Connection, incident_id: int, trigger: str) -> None:
    conn.execute(update(_I).where(_I.c.id == incident_id).values(kind="public_opinion", trigger=trigger))


def open_of_group(conn: Connection, group_id: int) -> Any:
    return conn.execute(_OPEN.where(_I.c.group_id == group_id).order_by(_I.c.id.desc()).limit(1)).first()


def open_of_ticket(conn: Connection, ticket_id: int, kind: str) -> Any:
    linked = select(_IT.c.incident_id).where(_IT.c.ticket_id == ticket_id)
    return conn.execute(_OPEN.where(_I.c.id.in_(linked), _I.c.kind == kind).limit(1)).first()


def group_tickets(conn: Connection, group_id: int) -> tuple[int, ...]:
    return tuple(conn.scalars(select(ComplaintGroupTicket.ticket_id).where(ComplaintGroupTicket.group_id == group_id)
                              .order_by(ComplaintGroupTicket.ticket_id)))


def group_of_ticket(conn: Connection, ticket_id: int) -> int | None:
    return conn.scalar(select(ComplaintGroupTicket.group_id).where(ComplaintGroupTicket.ticket_id == ticket_id)
                       .order_by(ComplaintGroupTicket.group_id.desc()).limit(1))
