"""The alert outbox: alerts are rows written in the transaction of the change that raises them.

`queue` picks the people on duty at the level, writes one row per person and e-mail channel and one
per webhook channel, and returns the audit entries; engine.escalation.delivery sends them after commit.
Alert text names the incident, the place, the count, the deadline and the pages; never a caller.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from engine.audit import AuditEntry
from engine.escalation import roster
from engine.localtime import staff_text
from engine.models import Alert, ComplaintGroup, Incident, IncidentTicket, Ticket

_A = Alert.__table__
KIND_LABELS = {"group_complaint": "群诉", "public_opinion": "舆情"}
TRIGGER_LABELS = {"group": "群诉自动识别", "staff": "人工标记", "sensitive_words": "敏感词自动识别",
                  "group_growing": "群诉持续增长"}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def base_url(values: dict[str, Any]) -> str:
    """JIESU_BASE_URL, else alerts.base_url from the rules; the web app's address staff open."""
    return (os.environ.get("JIESU_BASE_URL") or values["alerts"]["base_url"]).rstrip("/")


def queue(conn: Connection, incident_id: int, level: int | None, values: dict[str, Any], now: datetime,
          actor: str, note: str | None = None) -> list[AuditEntry]:
    """Write the alerts of one round at `level` (None: one level above the last round); audit entries."""
    reached = conn.scalar(select(Incident.alerted_level).where(Incident.id == incident_id))
    level = level or reached + 1
    if str(level) not in values["escalation"]["levels"]:
        return []  # the top level has been alerted already
    if level > reached:
        conn.execute(update(Incident).where(Incident.id == incident_id).values(alerted_level=level))
    people = roster.on_duty(conn, now, level)
    message = compose(conn, incident_id, level, people, values, now, note)
    rows = _rows(incident_id, level, people, message, values, now)
    entries = []
    if not people:
        entries.append(AuditEntry("alert.unstaffed", actor, data={"incident_id": incident_id, "level": level}))
    if rows:
        ids = conn.execute(insert(_A).returning(_A.c.id), rows).scalars().all()
        entries += [AuditEntry("alert.queued", actor, data={
            "alert_id": alert_id, "incident_id": incident_id, "level": level, "channel": row["channel"],
            "recipient": row["recipient"]}) for alert_id, row in zip(ids, rows, strict=True)]
    return entries


def acknowledgment(conn: Connection, incident_id: int, actor: str) -> AuditEntry:
    """The audit entry of `actor` acknowledging the incident's alerts, with the level they had reached."""
    reached = conn.scalar(select(Incident.alerted_level).where(Incident.id == incident_id))
    return AuditEntry("alert.acknowledged", actor, data={"incident_id": incident_id, "alerted_level": reached})


def _rows(incident_id: int, level: int, people: list[roster.OnDuty], message: Message, values: dict[str, Any],
          now: datetime) -> list[dict[str, Any]]:
    base = {"incident_id": incident_id, "level": level, "subject": message.subject, "body": message.body,
            "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
    rows = []
    for name, channel in values["alerts"]["channels"].items():
        if channel["kind"] == "email":
            rows += [base | {"channel": name, "recipient": p.person, "address": p.email} for p in people if p.email]
        else:
            rows.append(base | {"channel": name, "recipient": channel.get("label", name), "address": None})
    return rows


def compose(conn: Connection, incident_id: int, level: int, people: list[roster.OnDuty], values: dict[str, Any],
            now: datetime, note: str | None = None) -> Message:
    incident = conn.execute(select(Incident).where(Incident.id == incident_id)).one()
    count, first_ticket = _tickets(conn, incident_id)
    levels = values["escalation"]["levels"]
    deadline = now + timedelta(minutes=values["escalation_ack_minutes"])
    following = levels.get(str(level + 1))
    kind = KIND_LABELS[incident.kind]
    base = base_url(values)
    lines = [
        f"事件：{incident.title}（事件编号 {incident_id}）",
        f"类型：{kind}（{TRIGGER_LABELS.get(incident.trigger, incident.trigger)}）",
        f"地点：{incident.place_label or '未识别'}",
        f"关联工单：{count} 件" + _callers(conn, incident.group_id),
        f"接报：{levels[str(level)]} {'、'.join(p.person for p in people) or '（当前无人在岗，请群内人员接报）'}",
        f"确认时限：{staff_text(deadline)[:16]}（北京时间）前确认"
        + (f"，逾期将上报{following}" if following else ""),
    ]
    if note:
        lines.insert(1, f"说明：{note}")
    if first_ticket:
        lines.append(f"工单页面：{base}{values['alerts']['ticket_path'].format(ticket_no=first_ticket)}")
    lines.append(f"事件页面：{base}{values['alerts']['incident_path'].format(incident_id=incident_id)}")
    return Message(f"【{kind}预警·{levels[str(level)]}】{incident.title}", "\n".join(lines))


def _tickets(conn: Connection, incident_id: int) -> tuple[int, str | None]:
    """How many tickets the incident links, and the number of the earliest one."""
    linked = select(Ticket.ticket_no).join(IncidentTicket, IncidentTicket.ticket_id == Ticket.id).where(
        IncidentTicket.incident_id == incident_id)
    count = conn.scalar(select(func.count()).select_from(linked.subquery()))
    first = conn.scalar(linked.order_by(Ticket.received_at, Ticket.id).limit(1))
    return count, first


def _callers(conn: Connection, group_id: int | None) -> str:
    if group_id is None:
        return ""
    callers = conn.scalar(select(ComplaintGroup.caller_count).where(ComplaintGroup.id == group_id))
    return f"，来电人 {callers} 位"
