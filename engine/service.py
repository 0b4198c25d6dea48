"""Engine commands. Each is one transaction: load, let SpiffWorkflow run until it waits, write all."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine import audit, instances, queries, state
from engine.audit import AuditEntry
from engine.clock import Clock, system_clock
from engine.db import Database
from engine.deployments import DeploymentCache, DeployResult, LoadedDeployment, deploy, latest_deployment_id
from engine.errors import Conflict, DuplicateTicket, Forbidden, InvalidData, WorkflowFailed
from engine.instances import InstanceHead
from engine.models import Instance, TaskRecord, Ticket
from engine.privacy import PERSONAL_FIELDS, Actor, sees_personal_data
from engine.projection import OPEN, Steps, end_event, ticket_values, update_ticket, waiting_steps, write_tasks
from engine.rules import Rules
from engine.users import Users
from forms import FormDefinition, FormRegistry, FormValidationError, validate

TICKET_PROCESS = "ticket"
# Ticket fields the workflow's gateways and scripts may read; personal data stays out of it.
_WORKFLOW_FIELDS = ("ticket_no", "source", "community", "category_l1", "category_l2", "category_l3",
                    "request_type", "sla_level", "tags", "monthly_theme")


@dataclass(frozen=True)
class CommandResult:
    instance_id: int
    version: int
    status: str
    ticket_id: int | None
    open_tasks: tuple[str, ...]


@dataclass(frozen=True)
class IntakeResult:
    ticket_id: int
    ticket_no: str
    instance_id: int
    created: bool


# A command's own part: change the workflow, return its audit entries and the task it finished.
Step = Callable[[BpmnWorkflow, LoadedDeployment], tuple[list[AuditEntry], str | None]]


class Engine:
    """The one path by which the API, the web pages, the CLI and the scheduler change anything."""

    def __init__(self, db: Database, forms: FormRegistry | None = None, rules: Rules | None = None,
                 clock: Clock = system_clock):
        self.db = db
        self.forms = forms or FormRegistry.from_dir()
        self.rules = rules or Rules.load()
        self.clock = clock
        self.deployments = DeploymentCache()
        self.workflows = state.WorkflowCache()
        self.users = Users(db, self.rules, clock)

    # -- deployments ---------------------------------------------------------------------------

    def deploy(self, xml: bytes, filename: str, actor: Actor) -> DeployResult:
        now = self.clock()
        with self.db.transaction() as conn:
            result, entries = deploy(conn, xml, filename, self.forms, actor.name, now)
            audit.append(conn, entries, now)
        return result

    def deploy_dir(self, folder: Path, actor: Actor) -> list[DeployResult]:
        return [self.deploy(path.read_bytes(), path.name, actor) for path in sorted(folder.glob("*.bpmn"))]

    # -- commands on instances -----------------------------------------------------------------

    def intake(self, fields: dict[str, Any], actor: Actor) -> IntakeResult:
        """Receive a ticket; the same number with the same content returns the existing ticket."""
        clean = _validated(self.forms.get("intake"), fields)
        if clean["received_at"] > self.clock() + timedelta(minutes=10):
            raise InvalidData("来电时间不能晚于当前时间", {"received_at": ["来电时间不能晚于当前时间。"]})
        digest = _intake_hash(clean)
        try:
            return self._intake(clean, digest, actor)
        except IntegrityError:
            # Another node inserted the same ticket number first; answer as if it had been us.
            with self.db.engine.connect() as conn:
                return _same_ticket(conn, clean["ticket_no"], digest)

    def complete_task(self, task_id: str, data: dict[str, Any], actor: Actor,
                      expected_version: int | None = None) -> CommandResult:
        def locate(conn: Connection) -> InstanceHead:
            row, instance = instances.task_and_head(conn, task_id)
            _check_task_access(row, actor)
            if row.kind != "user":
                raise Conflict(f"任务 {row.title} 等待外部消息，不能直接办理")
            found.append(row)
            return instance

        def step(workflow: BpmnWorkflow, deployment: LoadedDeployment) -> tuple[list[AuditEntry], str | None]:
            row = found[0]
            task = _ready_task(workflow, task_id)
            clean = _validated(deployment.forms[row.form_key], data)
            before = {key: task.data.get(key) for key in clean}
            task.set_data(**clean)
            task.run()
            entry = AuditEntry("task.completed", actor.name, row.ticket_id, row.instance_id, task_id,
                               {"step": row.bpmn_id, "title": row.title, "before": before, "after": clean})
            return [entry], task_id

        found: list[TaskRecord] = []
        return self._command(locate, expected_version, actor, step)

    def deliver_message(self, instance_id: int, message: str, payload: dict[str, Any], actor: Actor,
                        expected_version: int | None = None) -> CommandResult:
        def step(workflow: BpmnWorkflow, deployment: LoadedDeployment) -> tuple[list[AuditEntry], str | None]:
            waiting = _waiting_message_task(workflow, deployment, message)
            role = deployment.process.elements[waiting.task_spec.name].get("role")
            if not actor.can_act_as(role):
                raise Forbidden(f"只有{role}角色可以录入消息 {message}")
            clean = _validated(deployment.forms[message], payload)
            workflow.send_event(BpmnEvent(MessageEventDefinition(message), clean))
            entry = AuditEntry("message.delivered", actor.name, None, instance_id, str(waiting.id),
                               {"message": message, "payload": clean})
            return [entry], str(waiting.id)

        return self._command(lambda conn: instances.head(conn, instance_id), expected_version, actor, step)

    def cancel(self, instance_id: int, reason: str, actor: Actor,
               expected_version: int | None = None) -> CommandResult:
        if not reason or not reason.strip():
            raise InvalidData("撤销必须填写原因", {"reason": ["此项为必填项。"]})

        def step(workflow: BpmnWorkflow, deployment: LoadedDeployment) -> tuple[list[AuditEntry], str | None]:
            workflow.cancel()
            return [AuditEntry("instance.cancelled", actor.name, None, instance_id, None,
                               {"reason": reason.strip()})], None

        return self._command(lambda conn: instances.head(conn, instance_id), expected_version, actor, step,
                             final_status="cancelled")

    def claim(self, task_id: str, actor: Actor, release: bool = False) -> None:
        """Take a task (or give it back) so colleagues with the same role see it is being worked on."""
        now = self.clock()
        with self.db.transaction() as conn:
            row, _ = instances.task_and_head(conn, task_id)
            _check_task_access(row, actor)
            conn.execute(update(TaskRecord).where(TaskRecord.id == task_id)
                         .values(assignee=None if release else actor.name))
            event = "task.released" if release else "task.claimed"
            audit.append(conn, [AuditEntry(event, actor.name, row.ticket_id, row.instance_id, task_id)], now)

    # -- reads that need the engine: personal data is masked by role, unmasked reads are audited --

    def view_ticket(self, ticket_no: str, reader: Actor) -> dict[str, Any]:
        """A ticket with its tasks and timeline, as `reader` may see it."""
        with self.db.read() as session:
            ticket = queries.find_ticket(session, ticket_no)
            unmasked = sees_personal_data(reader, self.rules.at(self.clock().date())["personal_data_roles"])
            view = queries.ticket_dict(ticket, unmasked)
            view["tasks"] = queries.ticket_tasks(session, ticket.id)
            view["timeline"] = queries.timeline(session, ticket.id)
        if unmasked and (ticket.caller_name or ticket.caller_phone):
            self._record_read(reader, ticket.id, [f for f in PERSONAL_FIELDS if getattr(ticket, f)])
        return view

    def view_task(self, task_id: str, reader: Actor) -> dict[str, Any]:
        """A task with its form definition (as deployed) and its ticket, for a person of its role."""
        with self.db.read() as session:
            task = queries.find_task(session, task_id)
            if not reader.can_act_as(task["role"]):
                raise Forbidden(f"任务 {task['title']} 不属于您的角色")
            deployment_id = queries.instance_deployment(session, task["instance_id"])
            form = self.deployments.get(session.connection(), deployment_id).forms.get(task["form_key"])
        task["form"] = form.to_dict() if form else None
        task["ticket"] = self.view_ticket(task["ticket_no"], reader) if task["ticket_no"] else None
        return task

    def _record_read(self, reader: Actor, ticket_id: int, fields: list[str]) -> None:
        now = self.clock()
        with self.db.transaction() as conn:
            entry = AuditEntry("personal_data.read", reader.name, ticket_id, data={"fields": fields})
            audit.append(conn, [entry], now)

    # -- the unit of work ----------------------------------------------------------------------

    def _command(self, locate: Callable[[Connection], InstanceHead], expected_version: int | None, actor: Actor,
                 step: Step, final_status: str | None = None) -> CommandResult:
        now = self.clock()
        with self.db.transaction() as conn:
            instance = locate(conn)
            instance.check(expected_version)
            deployment = self.deployments.get(conn, instance.deployment_id)
            workflow = self.workflows.get(instance.id, instance.version) or state.load(
                instances.stored_state(conn, instance.id), deployment.process)
            before = waiting_steps(workflow, deployment.process)
            entries, finished = _run(workflow, lambda: step(workflow, deployment))
            steps = self._write(conn, instance, workflow, deployment, actor, now, entries, finished, before,
                                final_status)
        self.workflows.put(instance.id, instance.version, workflow)
        return CommandResult(instance.id, instance.version, instance.status, instance.ticket_id, tuple(steps))

    def _write(self, conn: Connection, instance: InstanceHead, workflow: BpmnWorkflow,
               deployment: LoadedDeployment, actor: Actor, now: datetime, entries: list[AuditEntry],
               finished: str | None, before: Steps, final_status: str | None) -> Steps:
        """Write state, projections and audit rows; the caller's transaction commits them together."""
        steps = waiting_steps(workflow, deployment.process)
        status, end = final_status or "running", None
        if final_status is None and workflow.completed:
            status, end = "completed", end_event(workflow)
            entries.append(AuditEntry("instance.completed", actor.name, instance.ticket_id, instance.id,
                                      data={"end_event": end}))
        instances.save_state(conn, instance, state.dump(workflow), status, end, now)
        entries += write_tasks(conn, instance, before, steps, now, actor.name, finished)
        if instance.ticket_id is not None:
            update_ticket(conn, instance.ticket_id, ticket_values(_current_data(workflow), status, end, steps, now))
        _finish_audit(conn, instance, entries, now)
        return steps

    def _intake(self, clean: dict[str, Any], digest: str, actor: Actor) -> IntakeResult:
        now = self.clock()
        with self.db.transaction() as conn:
            if conn.scalar(select(Ticket.id).where(Ticket.ticket_no == clean["ticket_no"])) is not None:
                return _same_ticket(conn, clean["ticket_no"], digest)
            deployment = self.deployments.get(conn, latest_deployment_id(conn, TICKET_PROCESS))
            workflow = state.new_workflow(deployment.process)
            _run(workflow, lambda: _start(workflow, self._start_data(clean)))
            steps = waiting_steps(workflow, deployment.process)
            columns = {**_ticket_columns(clean), "intake_hash": digest, "created_at": now,
                       **ticket_values(_current_data(workflow), "running", None, steps, now)}
            ticket_id = conn.scalar(insert(Ticket).values(columns).returning(Ticket.id))
            instance = instances.insert_instance(conn, deployment.id, ticket_id, state.dump(workflow), now)
            public = {k: v for k, v in clean.items() if k not in PERSONAL_FIELDS}
            entries = [AuditEntry("ticket.received", actor.name, ticket_id, instance.id, None, _jsonable(public)),
                       AuditEntry("instance.started", actor.name, ticket_id, instance.id, None,
                                  {"process_id": deployment.process.process_id, "deployment_id": deployment.id})]
            entries += write_tasks(conn, instance, {}, steps, now, actor.name, None)
            _finish_audit(conn, instance, entries, now)
        self.workflows.put(instance.id, instance.version, workflow)
        return IntakeResult(ticket_id, clean["ticket_no"], instance.id, True)

    def _start_data(self, clean: dict[str, Any]) -> dict[str, Any]:
        rules = self.rules.at(clean["received_at"].date())
        data = {key: clean.get(key) for key in _WORKFLOW_FIELDS}
        data.update(received_at=clean["received_at"].isoformat(), max_extensions=rules["max_extensions"],
                    extension_count=0, extension_days_total=0, reopen_count=0)
        return data


def _run(workflow: BpmnWorkflow, step: Callable[[], Any]) -> Any:
    """Run a step and the engine steps after it; diagram errors become WorkflowFailed."""
    try:
        result = step()
        workflow.do_engine_steps()
        return result
    except SpiffWorkflowException as exc:
        where = getattr(getattr(exc, "task_spec", None), "bpmn_name", None) or getattr(exc, "task_spec", "")
        raise WorkflowFailed(f"流程执行出错（{where}）：{exc}") from exc


def _finish_audit(conn: Connection, instance: InstanceHead, entries: list[AuditEntry], now: datetime) -> None:
    for entry in entries:
        entry.ticket_id = entry.ticket_id or instance.ticket_id
    audit.append(conn, entries, now)


def _start(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(**data)


def _validated(form: FormDefinition, data: Any) -> dict[str, Any]:
    try:
        return validate(form, data)
    except FormValidationError as exc:
        raise InvalidData(f"{form.title}：提交的数据有误", exc.errors) from exc


def _check_task_access(row: TaskRecord, actor: Actor) -> None:
    if row.state != OPEN:
        raise Conflict(f"任务 {row.title} 已经结束")
    if not actor.can_act_as(row.role):
        raise Forbidden(f"任务 {row.title} 不属于您的角色")
    if row.assignee not in (None, actor.name) and "admin" not in actor.roles:
        raise Conflict(f"任务 {row.title} 已被 {row.assignee} 认领")


def _ready_task(workflow: BpmnWorkflow, task_id: str):
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise Conflict("任务已不在待办状态，请刷新后重试")
    return task


def _waiting_message_task(workflow: BpmnWorkflow, deployment: LoadedDeployment, message: str):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        if deployment.process.elements.get(task.task_spec.name, {}).get("message") == message:
            return task
    raise Conflict(f"流程当前没有在等待消息 {message}")


def _current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    return workflow.last_task.data if workflow.last_task is not None else {}


def _intake_hash(clean: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(_jsonable(clean), sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def _same_ticket(conn: Connection, ticket_no: str, digest: str) -> IntakeResult:
    ticket_id, stored_digest = conn.execute(
        select(Ticket.id, Ticket.intake_hash).where(Ticket.ticket_no == ticket_no)).one()
    if stored_digest != digest:
        raise DuplicateTicket(f"工单编号 {ticket_no} 已存在且内容不同，不能重复登记")
    instance_id = conn.scalar(select(Instance.id).where(Instance.ticket_id == ticket_id))
    return IntakeResult(ticket_id, ticket_no, instance_id, False)


def _ticket_columns(clean: dict[str, Any]) -> dict[str, Any]:
    return {**clean, "tags": clean.get("tags") or [], "policy_tags": [], "assist_units": []}
