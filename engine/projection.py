"""Keeps the rows queries read (open tasks, ticket fields and status) in step with the workflow."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, bindparam, insert, select, update

from engine.audit import AuditEntry
from engine.bpmn import ParsedProcess
from engine.errors import WorkflowFailed
from engine.instances import InstanceHead
from engine.models import NO_DEADLINE, TaskRecord, Ticket
from engine.prepared import Prepared
from engine.state import tasks_in
from engine.timer_events import due_at, is_timer, moment

OPEN = "open"
# Workflow data keys that are also ticket columns; the screening form may refine intake values.
TICKET_FIELDS = {
    "category_l1": "category_l1", "category_l2": "category_l2", "category_l3": "category_l3",
    "request_type": "request_type", "sla_level": "sla_level", "policy_tags": "policy_tags",
    "monthly_theme": "monthly_theme", "lead_unit": "lead_unit", "assist_units": "assist_units",
    "contacted": "contacted", "solved": "solved", "satisfaction": "satisfaction",
    "exemption_approved": "exempted",
}

# Spiff task id -> (bpmn id, element info) of every step waiting on a person or a message
Steps = dict[str, tuple[str, dict[str, Any]]]

_TASKS = TaskRecord.__table__
_END_TASK = Prepared(update(_TASKS).where(_TASKS.c.id == bindparam("b_id"))
                     .values(state=bindparam("b_state"), ended_at=bindparam("b_now"), ended_by=bindparam("b_actor")))
_OPEN_TASK = Prepared(insert(_TASKS).values({column.name: bindparam(column.name) for column in _TASKS.columns}))
_TICKETS = Ticket.__table__
_LIST_COLUMNS = {"policy_tags", "assist_units"}
# On a workflow: the ticket columns last written from it, so the next command writes only changes;
# and what it waited on when that command ended, which is what it waits on when the next one starts.
# Kept on the workflow object, read with getattr (see engine.state._ids for why not via __dict__).
_WRITTEN, _WAITED = "_jiesu_ticket", "_jiesu_waiting"
_TICKET_BY_NUMBER = Prepared(select(_TICKETS.c.id).where(_TICKETS.c.ticket_no == bindparam("b_no")))


class Waiting(NamedTuple):
    """What a workflow waits on: steps of people or messages, and timers (task id -> (bpmn id, due))."""

    steps: Steps
    timers: dict[str, tuple[str, datetime]]


NOTHING = Waiting({}, {})


def waiting(workflow: BpmnWorkflow, process: ParsedProcess) -> Waiting:
    """One pass over the workflow's ready and waiting tasks."""
    steps, timers = {}, {}
    for task in tasks_in(workflow, TaskState.READY | TaskState.WAITING):
        info = process.elements.get(task.task_spec.name, {})
        kind = info.get("kind")
        ready_user = kind == "user" and task.state == TaskState.READY
        waiting_message = kind == "message" and task.state == TaskState.WAITING
        if ready_user or waiting_message:
            steps[str(task.id)] = (task.task_spec.name, info)
        elif task.state == TaskState.WAITING and is_timer(task):
            due = due_at(task)
            if due is not None:
                timers[str(task.id)] = (task.task_spec.name, due)
    return Waiting(steps, timers)


def waiting_before(workflow: BpmnWorkflow, process: ParsedProcess) -> Waiting:
    """What the workflow waits on as a command starts: as the last command here left it, if it was one."""
    kept = getattr(workflow, _WAITED, None)
    return kept if kept is not None else waiting(workflow, process)


def waiting_after(workflow: BpmnWorkflow, process: ParsedProcess) -> Waiting:
    """What the workflow waits on as a command ends, kept on it for the next command."""
    after = waiting(workflow, process)
    setattr(workflow, _WAITED, after)
    return after


def due_times(workflow: BpmnWorkflow, before: Steps, after: Steps) -> dict[str, datetime]:
    """Deadlines of newly opened tasks whose element has a due expression (camunda:dueDate)."""
    due = {}
    for task_id, (_, info) in after.items():
        if task_id not in before and info.get("due"):
            task = workflow.get_task_from_id(UUID(task_id))
            try:
                value = workflow.script_engine.evaluate(task, info["due"])
                if value is not None:
                    due[task_id] = moment(value)
            except (SpiffWorkflowException, TypeError, ValueError) as exc:
                raise WorkflowFailed(f"任务 {info['name']} 的期限表达式 {info['due']} 出错：{exc}") from exc
    return due


def write_tasks(conn: Connection, instance: InstanceHead, before: Steps, after: Steps, now: datetime,
                actor: str, finished: str | None, due: dict[str, datetime] | None = None) -> list[AuditEntry]:
    """End rows for steps that are gone, open rows for new ones; audit entries for both."""
    ended = [task_id for task_id in before if task_id not in after]
    cancelled = [task_id for task_id in ended if task_id != finished]
    if ended:
        _END_TASK.executemany(conn, [{"b_id": task_id, "b_state": "completed" if task_id == finished else "cancelled",
                                  "b_now": now, "b_actor": actor} for task_id in ended])
    entries = [_entry("task.cancelled", actor, instance, task_id, *before[task_id]) for task_id in cancelled]
    opened = [task_id for task_id in after if task_id not in before]
    if opened:
        due = due or {}
        _OPEN_TASK.executemany(conn, [_task_row(instance, task_id, *after[task_id], now, due.get(task_id))
                                      for task_id in opened])
        entries += [_entry("task.opened", actor, instance, task_id, *after[task_id]) for task_id in opened]
    return entries


def _task_row(instance: InstanceHead, task_id: str, bpmn_id: str, info: dict[str, Any],
              now: datetime, due_at: datetime | None) -> dict[str, Any]:
    return {"id": task_id, "instance_id": instance.id, "ticket_id": instance.ticket_id, "kind": info["kind"],
            "bpmn_id": bpmn_id, "title": info["name"], "role": info.get("role"), "form_key": info.get("form"),
            "state": OPEN, "assignee": None, "due_at": due_at, "deadline_order": due_at or NO_DEADLINE,
            "created_at": now, "ended_at": None,
            "ended_by": None}


def _entry(event: str, actor: str, instance: InstanceHead, task_id: str, bpmn_id: str,
           info: dict[str, Any]) -> AuditEntry:
    return AuditEntry(event, actor, instance.ticket_id, instance.id, task_id,
                      {"step": bpmn_id, "title": info["name"], "role": info.get("role")})


def end_event(workflow: BpmnWorkflow) -> str | None:
    """The id of the end event a finished workflow reached."""
    ends = [t for t in tasks_in(workflow, TaskState.COMPLETED) if isinstance(t.task_spec, EndEvent)]
    return max(ends, key=lambda t: t.last_state_change).task_spec.name if ends else None


def ticket_values(data: dict[str, Any], status: str, end: str | None, steps: Steps,
                  now: datetime) -> dict[str, Any]:
    """Ticket columns after a command. End events named end_<status> give the final status."""
    # A field the workflow has set (even to nothing) is copied; one it never had keeps the intake value.
    values = {column: _column_value(column, data[key]) for key, column in TICKET_FIELDS.items() if key in data}
    if status == "running":
        values["status"] = "open"
        values["current_step"] = "、".join(sorted({info["name"] for _, info in steps.values()})) or None
    else:
        values["status"] = (end or "end_closed").removeprefix("end_") if status == "completed" else status
        values["current_step"] = None
    if values["status"] == "closed":
        values["closed_at"] = now
    values["updated_at"] = now
    return values


def _column_value(column: str, value: Any) -> Any:
    return (value or []) if column in _LIST_COLUMNS else value


def update_ticket(conn: Connection, ticket_id: int, workflow: BpmnWorkflow, values: dict[str, Any]) -> None:
    """Write the ticket columns whose values differ from what this process last wrote for `workflow`.

    Each indexed column an UPDATE sets costs its index a page at commit, changed or not. A workflow
    read from the database carries no record of what was written, and all of `values` is.
    """
    last = getattr(workflow, _WRITTEN, None)
    _remember(workflow, values)
    if last is not None:
        values = {k: v for k, v in values.items() if k not in last or last[k] != v}
    if values:
        _ticket_update(frozenset(values)).execute(conn, {"b_id": ticket_id,
                                                         **{f"b_{k}": v for k, v in values.items()}})


def insert_ticket(conn: Connection, workflow: BpmnWorkflow, values: dict[str, Any],
                  workflow_values: dict[str, Any]) -> int:
    """Insert the ticket row: `values`, of which `workflow_values` are the columns the workflow sets."""
    _remember(workflow, workflow_values)
    return _ticket_insert(frozenset(values)).scalar(conn, {f"b_{k}": v for k, v in values.items()})


def _remember(workflow: BpmnWorkflow, values: dict[str, Any]) -> None:
    # Copies of lists: a script may change the one in the task data in place.
    setattr(workflow, _WRITTEN, {k: list(v) if isinstance(v, list) else v for k, v in values.items()})


def find_ticket_id(conn: Connection, ticket_no: str) -> int | None:
    return _TICKET_BY_NUMBER.scalar(conn, {"b_no": ticket_no})


@lru_cache(maxsize=16)
def _ticket_insert(columns: frozenset[str]) -> Prepared:
    return Prepared(insert(_TICKETS).values({column: bindparam(f"b_{column}") for column in sorted(columns)})
                    .returning(_TICKETS.c.id))


@lru_cache(maxsize=64)
def _ticket_update(columns: frozenset[str]) -> Prepared:
    # Which columns a command sets depends on how far its workflow got; each set is built once.
    return Prepared(update(_TICKETS).where(_TICKETS.c.id == bindparam("b_id"))
                    .values({column: bindparam(f"b_{column}") for column in sorted(columns)}))
