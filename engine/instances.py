"""Instance rows: the header a command checks and the versioned write of workflow state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, insert, select, update

from engine.errors import Conflict, NotFound
from engine.models import Instance, TaskRecord, Ticket
from engine.prepared import Prepared

_T = Instance.__table__
_HEAD_COLUMNS = (_T.c.id, _T.c.deployment_id, _T.c.version, _T.c.status, _T.c.ticket_id)
# Built once: the hot path should not rebuild and re-key statements on every command.
_HEAD = Prepared(select(*_HEAD_COLUMNS).where(_T.c.id == bindparam("b_id")))
_STATE = Prepared(select(_T.c.state).where(_T.c.id == bindparam("b_id")))
_TASKS = TaskRecord.__table__
_TASK_COLUMNS = (_TASKS.c.id, _TASKS.c.instance_id, _TASKS.c.ticket_id, _TASKS.c.kind, _TASKS.c.bpmn_id,
                 _TASKS.c.title, _TASKS.c.role, _TASKS.c.form_key, _TASKS.c.state, _TASKS.c.assignee)
_TICKETS = Ticket.__table__
# The ticket's lead unit rides along, so checking a unit user's access costs no extra query.
_TASK_AND_HEAD = Prepared(select(*_TASK_COLUMNS, _TICKETS.c.lead_unit, *_HEAD_COLUMNS[1:])
                          .join(_T, _T.c.id == _TASKS.c.instance_id)
                          .outerjoin(_TICKETS, _TICKETS.c.id == _TASKS.c.ticket_id)
                          .where(_TASKS.c.id == bindparam("b_id")))
_SAVE = Prepared(update(_T).where(_T.c.id == bindparam("b_id"), _T.c.version == bindparam("b_version"))
         .values(state=bindparam("b_state"), version=bindparam("b_new_version"), status=bindparam("b_status"),
                 end_event=bindparam("b_end_event"), updated_at=bindparam("b_now")))


_INSERT = Prepared(insert(_T).values(deployment_id=bindparam("b_deployment"), ticket_id=bindparam("b_ticket"),
                                     status="running", version=1, state=bindparam("b_state"),
                                     created_at=bindparam("b_now"), updated_at=bindparam("b_now")).returning(_T.c.id))


@dataclass
class InstanceHead:
    """What a command needs of an instance before it decides to load the workflow."""

    id: int
    deployment_id: int
    version: int
    status: str
    ticket_id: int | None

    def check(self, expected_version: int | None) -> None:
        if expected_version is not None and expected_version != self.version:
            raise Conflict(f"工单已被他人更新（版本 {self.version}，提交的是 {expected_version}），请刷新后重试")
        if self.status != "running":
            raise Conflict("流程已结束，不能再操作")


def head(conn: Connection, instance_id: int) -> InstanceHead:
    row = _HEAD.first(conn, {"b_id": instance_id}) if 0 < instance_id < 2**31 else None
    if row is None:
        raise NotFound(f"流程实例 {instance_id} 不存在")
    return InstanceHead(*row)


class TaskHead(NamedTuple):
    """What a command checks of a task's projection row before it touches the workflow."""

    id: str
    instance_id: int
    ticket_id: int | None
    kind: str
    bpmn_id: str
    title: str
    role: str | None
    form_key: str | None
    state: str
    assignee: str | None
    lead_unit: str | None  # of the task's ticket


def task_and_head(conn: Connection, task_id: str) -> tuple[TaskHead, InstanceHead]:
    """The task's projection row (with its ticket's lead unit) and its instance's header, in one query."""
    row = _TASK_AND_HEAD.first(conn, {"b_id": task_id})
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在")
    task = TaskHead(*row[:len(TaskHead._fields)])
    deployment_id, version, status, ticket_id = row[len(TaskHead._fields):]
    return task, InstanceHead(task.instance_id, deployment_id, version, status, ticket_id)


def stored_state(conn: Connection, instance_id: int) -> str:
    return _STATE.scalar(conn, {"b_id": instance_id})


def insert_instance(conn: Connection, deployment_id: int, ticket_id: int | None, state: str,
                    now: datetime) -> InstanceHead:
    instance_id = _INSERT.scalar(conn, {"b_deployment": deployment_id, "b_ticket": ticket_id, "b_state": state,
                                        "b_now": now})
    return InstanceHead(instance_id, deployment_id, 1, "running", ticket_id)


def save_state(conn: Connection, instance: InstanceHead, state: str, status: str, end_event: str | None,
               now: datetime) -> None:
    """The versioned write: it matches no row if anyone wrote since we read, and then nothing commits."""
    done = _SAVE.execute(conn, {"b_id": instance.id, "b_version": instance.version, "b_state": state,
                                "b_new_version": instance.version + 1, "b_status": status,
                                "b_end_event": end_event, "b_now": now})
    if done.rowcount != 1:
        raise Conflict("工单已被他人更新，请刷新后重试")
    instance.version += 1
    instance.status = status
