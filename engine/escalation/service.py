"""Escalation commands: detection at intake, staff flags, the duty roster, evidence; each one transaction.

`Engine.escalations` is an instance; the web layer and the CLI call it. Starting an escalation runs
`workflows/escalation.bpmn` in the same transaction as the change that raised it; its first step
puts the duty officers' alerts into the outbox, which `deliver_alerts` (the scheduler) sends.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select

from engine import audit, command_context
from engine.audit import AuditEntry
from engine.command_context import CommandContext
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.escalation import alerts, delivery, detection, evidence, incidents, roster, terms, views
from engine.models import Deployment, Evidence, Incident, Ticket
from engine.privacy import SYSTEM, Actor

if TYPE_CHECKING:
    from engine.service import Engine

ESCALATION_PROCESS = "escalation"
log = logging.getLogger(__name__)


class Escalations:
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- at intake (inside the intake's transaction) --------------------------------------------

    def after_intake(self, conn: Connection, context: CommandContext, ticket_id: int, fields: dict[str, Any],
                     receiver: Actor) -> None:
        """Group detection and sensitive words for a new ticket; escalations start in this transaction.

        What detection finds is recorded as the system's doing, not the receiving staff member's.
        """
        actor = SYSTEM
        entries: list[AuditEntry] = []
        sig = detection.signature(fields, context.values)
        change = detection.detect(conn, ticket_id, sig, fields["received_at"], context.values, context.now)
        if change is not None:
            self._group_changed(conn, context, change, ticket_id, actor, entries)
        hits = terms.sensitive_hits(fields.get("content") or "", context.values)
        if hits and incidents.open_of_ticket(conn, ticket_id, "public_opinion") is None:
            words = "、".join(f"{name}（{'、'.join(found)}）" for name, found in hits.items())
            place = sig.place_label or fields.get("address")
            self._open(conn, context, actor, entries, (ticket_id,), kind="public_opinion", trigger="sensitive_words",
                       title=f"{place}舆情线索", place_label=place, reason=f"命中敏感词：{words}",
                       origin_ticket_id=ticket_id)
        for entry in entries:
            entry.ticket_id = entry.ticket_id or ticket_id
        audit.append(conn, entries, context.now)

    def _group_changed(self, conn: Connection, context: CommandContext, change: detection.GroupChange,
                       ticket_id: int, actor: Actor, entries: list[AuditEntry]) -> None:
        data = {"group_id": change.group_id, "place": change.place_label, "issue": change.issue_key,
                "ticket_count": change.ticket_count, "caller_count": change.caller_count}
        if change.formed:
            entries.append(AuditEntry("group.formed", actor.name, data=data | {"ticket_ids": list(change.ticket_ids)}))
            self._open(conn, context, actor, entries, change.ticket_ids, kind="group_complaint", trigger="group",
                       title=f"{change.place_label}{change.issue_key}群诉", place_label=change.place_label,
                       reason=f"{change.ticket_count} 件工单、{change.caller_count} 位来电人",
                       group_id=change.group_id, origin_ticket_id=ticket_id)
            return
        entries.append(AuditEntry("group.joined", actor.name, data=data))
        incident = incidents.open_of_group(conn, change.group_id)
        if incident is None:
            return
        incidents.link(conn, incident.id, (ticket_id,), context.now)
        limits = context.values["group_complaint"]
        grown = (change.ticket_count >= limits["opinion_min_tickets"]
                 and change.caller_count >= limits["opinion_min_callers"])
        if grown and incident.kind == "group_complaint":
            incidents.upgrade(conn, incident.id, "group_growing")
            note = f"群诉持续增长至 {change.ticket_count} 件，已升级为舆情"
            entries.append(AuditEntry("incident.upgraded", actor.name, None, incident.instance_id,
                                      data={"incident_id": incident.id, "ticket_count": change.ticket_count}))
            queued = alerts.queue(conn, incident.id, 1, context.values, context.now, actor.name, note)
            entries += queued

    def _open(self, conn: Connection, context: CommandContext, actor: Actor, entries: list[AuditEntry],
              ticket_ids: tuple[int, ...], **columns: Any) -> int:
        """Create the incident, link its tickets and start its escalation instance."""
        incident_id = incidents.create(conn, context.now, actor.name, **columns)
        incidents.link(conn, incident_id, ticket_ids, context.now)
        values = context.values
        ack = values["escalation_ack_minutes"]
        data = {"incident_id": incident_id, "title": columns["title"],
                "ack_deadline": (context.now + timedelta(minutes=ack)).isoformat(),
                "alert_cycle": f"R{len(values['escalation']['levels']) - 1}/PT{ack}M"}
        opened = AuditEntry("incident.opened", actor.name, columns.get("origin_ticket_id"), data={
            "incident_id": incident_id, "kind": columns["kind"], "trigger": columns["trigger"],
            "title": columns["title"], "ticket_ids": list(ticket_ids)})
        if not _deployed(conn):
            # A database not yet given escalation.bpmn (run `jiesu init`) must still receive tickets and alert.
            log.error("escalation.bpmn is not deployed: incident %s alerts level 1 without its workflow", incident_id)
            entries.append(opened)
            entries += alerts.queue(conn, incident_id, 1, values, context.now, actor.name)
            return incident_id
        instance, _, _ = self.engine._start(conn, context, ESCALATION_PROCESS, data, None, actor, [opened])
        incidents.set_instance(conn, incident_id, instance.id)
        return incident_id

    # -- staff commands ---------------------------------------------------------------------------

    def flag(self, ticket_no: str, reason: str, actor: Actor) -> int:
        """Staff flag a public-opinion incident from a ticket; its group's tickets are linked too."""
        if not (reason or "").strip():
            raise InvalidData("标记舆情必须填写原因", {"reason": ["此项为必填项。"]})
        with self.engine.db.transaction() as conn, \
                command_context.active(self.engine.clock(), self.engine.rules) as context:
            if not set(context.values["escalation"]["flag_roles"]) & actor.roles:
                raise Forbidden("您的角色不能标记舆情")
            ticket = conn.execute(select(Ticket.id, Ticket.address).where(Ticket.ticket_no == ticket_no)).first()
            if ticket is None:
                raise NotFound(f"工单 {ticket_no} 不存在")
            existing = incidents.open_of_ticket(conn, ticket.id, "public_opinion")
            if existing is not None:
                raise Conflict(f"工单 {ticket_no} 已在处置中的舆情事件 {existing.id} 中")
            group_id = incidents.group_of_ticket(conn, ticket.id)
            linked = incidents.group_tickets(conn, group_id) if group_id else (ticket.id,)
            place = detection.place_of_ticket(conn, ticket.id) or ticket.address
            entries: list[AuditEntry] = []
            incident_id = self._open(conn, context, actor, entries, linked, kind="public_opinion", trigger="staff",
                                     title=f"{place}舆情", place_label=place, reason=reason.strip(),
                                     group_id=group_id, origin_ticket_id=ticket.id)
            audit.append(conn, entries, context.now)
        return incident_id

    def add_duty(self, day: date, shift: str, level: int, person: str, email: str | None, actor: Actor) -> int:
        """Put `person` on the roster for `shift` of Beijing date `day` at `level` (1 duty officer, 2 leader…)."""
        now = self.engine.clock()
        values = self.engine.rules.at(now.date())
        with self.engine.db.transaction() as conn:
            shift_id = roster.add(conn, day, shift, level, person, email, values, actor.name, now)
            audit.append(conn, [AuditEntry("duty.assigned", actor.name, data={
                "duty_id": shift_id, "duty_date": day.isoformat(), "shift": shift, "level": level,
                "person": person.strip()})], now)
        return shift_id

    def remove_duty(self, shift_id: int, actor: Actor) -> None:
        now = self.engine.clock()
        with self.engine.db.transaction() as conn:
            removed = roster.remove(conn, shift_id)
            audit.append(conn, [AuditEntry("duty.removed", actor.name, data={"duty_id": shift_id, **removed})], now)

    def roster(self, first: date, last: date) -> list[dict[str, Any]]:
        with self.engine.db.engine.connect() as conn:
            return roster.listing(conn, first, last, self.engine.rules.at(self.engine.clock().date()))

    def add_evidence(self, incident_id: int, filename: str, content: bytes, actor: Actor) -> dict[str, Any]:
        """Store an evidence file (photo, document) of the incident's on-site check; its row as a dict."""
        from engine.factory import attachments_dir

        now = self.engine.clock()
        name = evidence.clean_name(filename, content, self.engine.rules.at(now.date()))
        with self.engine.db.transaction() as conn:
            if conn.scalar(select(Incident.id).where(Incident.id == incident_id)) is None:
                raise NotFound(f"事件 {incident_id} 不存在")
            stored_as, digest = evidence.store(attachments_dir(), incident_id, name, content)
            row = {"incident_id": incident_id, "filename": name, "stored_as": stored_as, "sha256": digest,
                   "size": len(content), "uploaded_by": actor.name, "uploaded_at": now}
            row["id"] = conn.scalar(insert(Evidence).values(row).returning(Evidence.id))
            audit.append(conn, [AuditEntry("evidence.uploaded", actor.name, data={
                "incident_id": incident_id, "evidence_id": row["id"], "filename": name, "sha256": digest,
                "size": len(content)})], now)
        return row

    # -- reads and delivery -----------------------------------------------------------------------

    def incident(self, incident_id: int) -> dict[str, Any]:
        """Everything the escalation page shows: see engine.escalation.views.incident_view."""
        with self.engine.db.read() as session:
            return views.incident_view(session, incident_id, self.engine.rules.at(self.engine.clock().date()))

    def incidents(self, open_only: bool = False) -> list[dict[str, Any]]:
        with self.engine.db.read() as session:
            return views.incident_list(session, open_only)

    def for_ticket(self, ticket_no: str) -> dict[str, Any]:
        """The groups and incidents a ticket belongs to, for its page."""
        with self.engine.db.read() as session:
            return views.ticket_links(session, ticket_no)

    def deliver_alerts(self) -> delivery.Delivered:
        return delivery.deliver_due(self.engine)


def _deployed(conn: Connection) -> bool:
    return conn.scalar(select(Deployment.id).where(Deployment.process_id == ESCALATION_PROCESS).limit(1)) is not None
