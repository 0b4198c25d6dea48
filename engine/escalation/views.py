"""Reads for the escalation page and the ticket page; callers' names and phones are never included."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.escalation.alerts import KIND_LABELS, TRIGGER_LABELS
from engine.models import (
    Alert,
    ComplaintGroup,
    ComplaintGroupTicket,
    Evidence,
    Incident,
    IncidentTicket,
    Instance,
    TaskRecord,
    Ticket,
)

STATUS_LABELS = {"running": "处置中", "completed": "已办结", "cancelled": "已撤销"}
ACK_STEP = "acknowledge"


def incident_view(session: Session, incident_id: int, values: dict[str, Any]) -> dict[str, Any]:
    """The incident, its tickets (timeline order), alerts (who, when, delivery), acknowledgment, steps, evidence.

    `timeline` merges tickets received, alerts sent and steps done, oldest first; times are UTC datetimes.
    """
    row = session.execute(select(Incident, Instance.status).outerjoin(Instance, Instance.id == Incident.instance_id)
                       .where(Incident.id == incident_id)).first()
    if row is None:
        raise NotFound(f"事件 {incident_id} 不存在")
    incident, status = row
    view = _summary(incident, status)
    view["group"] = _group(session, incident.group_id)
    view["tickets"] = _tickets(session, incident_id)
    view["alerts"] = _alerts(session, incident_id, values["escalation"]["levels"])
    view["steps"] = _steps(session, incident.instance_id)
    done = [s for s in view["steps"] if s["step"] == ACK_STEP and s["state"] == "completed"]
    view["acknowledged"] = {"by": done[0]["ended_by"], "at": done[0]["ended_at"]} if done else None
    view["evidence"] = _evidence(session, incident_id)
    view["timeline"] = _timeline(view)
    return view


def incident_list(session: Session, open_only: bool = False) -> list[dict[str, Any]]:
    counts = (select(IncidentTicket.incident_id, func.count().label("n")).group_by(IncidentTicket.incident_id)
              .subquery())
    query = (select(Incident, Instance.status, counts.c.n)
             .outerjoin(Instance, Instance.id == Incident.instance_id)
             .outerjoin(counts, counts.c.incident_id == Incident.id).order_by(Incident.id.desc()))
    if open_only:
        query = query.where(Instance.status == "running")
    return [_summary(incident, status) | {"ticket_count": n or 0} for incident, status, n in session.execute(query)]


def ticket_links(session: Session, ticket_no: str) -> dict[str, Any]:
    """The groups and incidents a ticket belongs to, with the other tickets of each group."""
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.ticket_no == ticket_no))
    if ticket_id is None:
        raise NotFound(f"工单 {ticket_no} 不存在")
    group_ids = session.scalars(select(ComplaintGroupTicket.group_id)
                                .where(ComplaintGroupTicket.ticket_id == ticket_id))
    rows = session.execute(select(Incident, Instance.status).outerjoin(Instance, Instance.id == Incident.instance_id)
                        .join(IncidentTicket, IncidentTicket.incident_id == Incident.id)
                        .where(IncidentTicket.ticket_id == ticket_id).order_by(Incident.id)).all()
    return {"groups": [_group(session, g) for g in sorted(group_ids)],
            "incidents": [_summary(incident, status) for incident, status in rows]}


def _summary(incident: Incident, status: str | None) -> dict[str, Any]:
    return {"id": incident.id, "kind": incident.kind, "kind_label": KIND_LABELS[incident.kind],
            "trigger": incident.trigger, "trigger_label": TRIGGER_LABELS.get(incident.trigger, incident.trigger),
            "title": incident.title, "place": incident.place_label, "reason": incident.reason,
            "group_id": incident.group_id, "instance_id": incident.instance_id,
            "status": status, "status_label": STATUS_LABELS.get(status or "", "未启动"),
            "created_at": incident.created_at, "created_by": incident.created_by}


def _group(session: Session, group_id: int | None) -> dict[str, Any] | None:
    if group_id is None:
        return None
    group = session.execute(select(ComplaintGroup).where(ComplaintGroup.id == group_id)).scalar_one()
    members = select(Ticket.ticket_no).join(ComplaintGroupTicket, ComplaintGroupTicket.ticket_id == Ticket.id)
    numbers = session.scalars(members.where(ComplaintGroupTicket.group_id == group_id)
                           .order_by(Ticket.received_at, Ticket.id))
    return {"id": group.id, "place": group.place_label, "issue": group.issue_key, "ticket_count": group.ticket_count,
            "caller_count": group.caller_count, "first_at": group.first_at, "last_at": group.last_at,
            "ticket_nos": list(numbers)}


def _tickets(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(Ticket.ticket_no, Ticket.received_at, Ticket.address, Ticket.content,
                               Ticket.category_l1, Ticket.status, Ticket.current_step, IncidentTicket.linked_at)
                        .join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id)
                        .where(IncidentTicket.incident_id == incident_id).order_by(Ticket.received_at, Ticket.id))
    return [dict(r._mapping) for r in rows]


def _alerts(session: Session, incident_id: int, levels: dict[str, str]) -> list[dict[str, Any]]:
    rows = session.execute(select(Alert).where(Alert.incident_id == incident_id).order_by(Alert.id)).scalars()
    return [{"id": a.id, "level": a.level, "level_label": levels.get(str(a.level), str(a.level)),
             "channel": a.channel, "recipient": a.recipient, "state": a.state, "attempts": a.attempts,
             "created_at": a.created_at, "sent_at": a.sent_at, "last_error": a.last_error,
             "subject": a.subject} for a in rows]


def _steps(session: Session, instance_id: int | None) -> list[dict[str, Any]]:
    if instance_id is None:
        return []
    rows = sorted(session.scalars(select(TaskRecord).where(TaskRecord.instance_id == instance_id)),
                  key=lambda t: (t.created_at, t.ended_at is None, t.ended_at or t.created_at))
    return [{"task_id": t.id, "step": t.bpmn_id, "title": t.title, "role": t.role, "state": t.state,
             "assignee": t.assignee, "due_at": t.due_at, "created_at": t.created_at, "ended_at": t.ended_at,
             "ended_by": t.ended_by} for t in rows]


def _evidence(session: Session, incident_id: int) -> list[dict[str, Any]]:
    rows = session.execute(select(Evidence).where(Evidence.incident_id == incident_id).order_by(Evidence.id)).scalars()
    return [{"id": e.id, "filename": e.filename, "stored_as": e.stored_as, "sha256": e.sha256, "size": e.size,
             "uploaded_by": e.uploaded_by, "uploaded_at": e.uploaded_at} for e in rows]


def _timeline(view: dict[str, Any]) -> list[dict[str, Any]]:
    events = [{"at": t["received_at"], "what": "来电", "detail": f"工单 {t['ticket_no']}：{t['address']}"}
              for t in view["tickets"]]
    events += [{"at": a["sent_at"], "what": "提醒送达",
                "detail": f"{a['level_label']} {a['recipient']}（{a['channel']}）"}
               for a in view["alerts"] if a["sent_at"]]
    events += [{"at": s["ended_at"], "what": s["title"], "detail": f"{s['ended_by']} 完成"}
               for s in view["steps"] if s["state"] == "completed"]
    return sorted(events, key=lambda e: e["at"])
