"""Keeps the rows queries read (open tasks, ticket fields and status) in step with the workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import AuditEntry
from engine.bpmn import ParsedProcess
from engine.models import Instance, TaskRecord, Ticket

OPEN = "open"
# Workflow data keys that are also ticket columns; the screening form may refine intake values.
TICKET_FIELDS = {
    "category_l1": "category_l1", "category_l2": "category_l2", "category_l3": "category_l3",
    "request_type": "request_type", "sla_level": "sla_level", "policy_tags": "policy_tags",
    "monthly_theme": "monthly_theme", "lead_unit": "lead_unit", "assist_units": "assist_units",
    "contacted": "contacted", "solved": "solved", "satisfaction": "satisfaction",
    "exemption_approved": "exempted",
}


def waiting_steps(workflow: BpmnWorkflow, process: ParsedProcess) -> dict[str, tuple[str, dict[str, Any]]]:
    """Spiff task id -> (bpmn id, element info) for every step waiting on a person or a message."""
    steps = {}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        info = process.elements.get(task.task_spec.name, {})
        kind = info.get("kind")
        ready_user = kind == "user" and task.state == TaskState.READY
        waiting_message = kind == "message" and task.state == TaskState.WAITING
        if ready_user or waiting_message:
            steps[str(task.id)] = (task.task_spec.name, info)
    return steps


def sync_tasks(session: Session, instance: Instance, steps: dict[str, tuple[str, dict[str, Any]]],
               now: datetime, actor: str, finished_task: str | None) -> list[AuditEntry]:
    """Open rows for new steps, end rows for steps that are gone; return audit entries for both."""
    current = {row.id: row for row in session.scalars(
        select(TaskRecord).where(TaskRecord.instance_id == instance.id, TaskRecord.state == OPEN))}
    entries = []
    for task_id, row in current.items():
        if task_id not in steps:
            row.state = "completed" if task_id == finished_task else "cancelled"
            row.ended_at, row.ended_by = now, actor
            if row.state == "cancelled":
                entries.append(_entry("task.cancelled", actor, instance, row))
    for task_id, (bpmn_id, info) in steps.items():
        if task_id in current:
            continue
        row = TaskRecord(id=task_id, instance_id=instance.id, ticket_id=instance.ticket_id, kind=info["kind"],
                         bpmn_id=bpmn_id, title=info["name"], role=info.get("role"),
                         form_key=info.get("form"), state=OPEN, created_at=now)
        session.add(row)
        entries.append(_entry("task.opened", actor, instance, row))
    return entries


def _entry(event: str, actor: str, instance: Instance, row: TaskRecord) -> AuditEntry:
    return AuditEntry(event, actor, instance.ticket_id, instance.id, row.id,
                      {"step": row.bpmn_id, "title": row.title, "role": row.role})


def end_event(workflow: BpmnWorkflow) -> str | None:
    """The id of the end event a finished workflow reached."""
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
    return max(ends, key=lambda t: t.last_state_change).task_spec.name if ends else None


def ticket_status(instance: Instance, steps: dict[str, tuple[str, dict[str, Any]]]) -> tuple[str, str | None]:
    """(status, current step names). End events named end_<status> give the final status."""
    if instance.status == "cancelled":
        return "cancelled", None
    if instance.status == "completed":
        return (instance.end_event or "end_closed").removeprefix("end_"), None
    names = sorted({info["name"] for _, info in steps.values()})
    return "open", "、".join(names) or None


def update_ticket(ticket: Ticket, data: dict[str, Any], status: str, step: str | None, now: datetime) -> None:
    for key, column in TICKET_FIELDS.items():
        if key in data and data[key] is not None:
            setattr(ticket, column, data[key])
    ticket.status, ticket.current_step, ticket.updated_at = status, step, now
    if status == "closed" and ticket.closed_at is None:
        ticket.closed_at = now
