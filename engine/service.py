"""Engine commands. Each is one transaction: load, let SpiffWorkflow run until it waits, write all."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from engine import audit, command_context, instances, notices, once, queries, state, timers
from engine.audit import AuditEntry
from engine.clock import Clock, system_clock
from engine.command_context import CommandContext
from engine.db import Database
from engine.deployments import DeploymentCache, DeployResult, LoadedDeployment, deploy, latest_deployment_id
from engine.errors import Conflict, DuplicateTicket, Forbidden, InvalidData, WorkflowFailed
from engine.escalation import alerts
from engine.escalation.service import Escalations
from engine.instances import InstanceHead, TaskHead
from engine.models import Instance, TaskRecord, Ticket
from engine.prepared import savepoint
from engine.privacy import PERSONAL_FIELDS, SYSTEM, Actor, sees_personal_data
from engine.projection import (
    NOTHING,
    OPEN,
    Steps,
    Waiting,
    due_times,
    end_event,
    find_ticket_id,
    insert_ticket,
    ticket_values,
    update_ticket,
    waiting,
    waiting_after,
    waiting_before,
    write_tasks,
)
from engine.rules import Rules
from engine.users import Users
from forms import FormDefinition, FormRegistry, FormValidationError, validate

TICKET_PROCESS = "ticket"
RETROSPECTIVE_PROCESS = "retrospective"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
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
    open_tasks: tuple[str, ...]  # the ticket's open tasks, so a client needs no query to go on


# A command's own part: change the workflow, return its audit entries and the task it finished.
Step = Callable[[BpmnWorkflow, LoadedDeployment], tuple[list[AuditEntry], str | None]]


@dataclass(frozen=True)
class TimerRound:
    """One round of firing: how many timers were claimed, how many fired, and why others failed."""

    claimed: int
    fired: int
    failed: list[str]


@dataclass(frozen=True)
class _Applied:
    """A command's changes, written except for the audit entries, which the transaction's owner appends."""

    instance: InstanceHead
    workflow: BpmnWorkflow
    steps: Steps
    entries: list[AuditEntry]


class _NothingDue(Exception):
    """No timer is due (or every due one is held by another worker): nothing to do, nothing written."""


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
        self.escalations = Escalations(self)

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
                               {"step": row.bpmn_id, "title": row.title, "before": _jsonable(before),
                                "after": _jsonable(clean)})
            return [entry], task_id

        found: list[TaskHead] = []
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

    def start_process(self, process_id: str, data: dict[str, Any], actor: Actor) -> CommandResult:
        """Start an instance of the newest deployment of `process_id` that belongs to no ticket."""
        with self.db.transaction() as conn, command_context.active(self.clock(), self.rules) as context:
            instance, workflow, steps = self._start(conn, context, process_id, data, None, actor, [])
        self._keep(instance, workflow)
        return CommandResult(instance.id, instance.version, instance.status, None, tuple(steps))

    def start_once(self, job: str, period: str, process_id: str, data: dict[str, Any],
                   actor: Actor) -> CommandResult | None:
        """Start `process_id` as `job`'s work for `period`, unless any node already did; then None."""
        with self.db.transaction() as conn, command_context.active(self.clock(), self.rules) as context:
            if not once.claim(conn, job, period, context.now):
                return None
            started = AuditEntry("recurring.started", actor.name, data={"job": job, "period": period})
            instance, workflow, steps = self._start(conn, context, process_id, data, None, actor, [started])
            once.link(conn, job, period, instance.id)
        self._keep(instance, workflow)
        return CommandResult(instance.id, instance.version, instance.status, None, tuple(steps))

    def record_assessment(self, month: str, actor: Actor) -> CommandResult | None:
        """The district's detailed assessment for `month` (YYYY-MM) has arrived: start its retrospective.

        Recording the same month again starts nothing and returns None.
        """
        if not _MONTH.fullmatch(month or ""):
            raise InvalidData("考核月份格式应为 YYYY-MM，例如 2026-11", {"month": ["格式应为 YYYY-MM。"]})
        return self.start_once(RETROSPECTIVE_PROCESS, month, RETROSPECTIVE_PROCESS, {"month": month}, actor)

    def fire_due_timer(self) -> CommandResult | None:
        """Fire the oldest due timer as one command; None when nothing is due.

        The row is claimed (FOR UPDATE SKIP LOCKED on PostgreSQL) in the command's own transaction
        and deleted by it, so a timer fires exactly once: a crash before commit leaves it due.
        """
        claimed: list[timers.DueTimer] = []

        def locate(conn: Connection) -> InstanceHead:
            claimed.extend(timers.claim_due(conn, self.clock()))
            if not claimed:
                raise _NothingDue
            return instances.head(conn, claimed[0].instance_id)

        try:
            return self._command(locate, None, SYSTEM, lambda workflow, deployment: _fire(workflow, deployment,
                                                                                         claimed[0]))
        except _NothingDue:
            return None
        except WorkflowFailed as exc:
            with self.db.transaction() as conn:
                self._postpone(conn, claimed[0], exc.message)
            raise

    def fire_due_timers(self, limit: int) -> TimerRound:
        """Fire up to `limit` due timers in one transaction, each firing in a savepoint of its own.

        Nobody waits on a timer's answer, so one commit can serve many firings: a crash before it
        leaves every one of them due, and they fire again. A firing that fails rolls back alone and
        its timer is postponed; one whose instance another node changed first stays due.
        """
        done: list[_Applied] = []
        failed: list[str] = []
        with self.db.transaction() as conn:
            claimed = timers.claim_due(conn, self.clock(), limit)
            for timer in claimed:
                try:
                    with savepoint(conn), command_context.active(self.clock(), self.rules) as context:
                        head = instances.head(conn, timer.instance_id)
                        done.append(self._apply(conn, context, head, None, SYSTEM, partial(_fire, timer=timer)))
                except (_NothingDue, Conflict):
                    continue
                except WorkflowFailed as exc:
                    failed.append(exc.message)
                    self._postpone(conn, timer, exc.message)
            # One append for the round: on PostgreSQL the chain's lock is then held only at its end.
            audit.append(conn, [entry for applied in done for entry in applied.entries], self.clock())
        for applied in done:
            self._keep(applied.instance, applied.workflow)
        return TimerRound(len(claimed), len(done), failed)

    def _postpone(self, conn: Connection, timer: timers.DueTimer, error: str) -> None:
        """A timer whose step fails is retried later rather than blocking every timer behind it."""
        now = self.clock()
        retry = now + timedelta(minutes=self.rules.at(now.date())["timer_retry_minutes"])
        timers.postpone(conn, timer.id, retry)
        audit.append(conn, [AuditEntry("timer.failed", SYSTEM.name, None, timer.instance_id, timer.task_id,
                                       {"step": timer.bpmn_id, "error": error, "retry_at": retry.isoformat()})], now)

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
            allowed = self.rules.at(self.clock().date())["personal_data_roles"]
            unmasked = sees_personal_data(reader, allowed, ticket.lead_unit)
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
            _check_may_see(reader, task["title"], task["role"], task.pop("lead_unit"))
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
        with self.db.transaction() as conn, command_context.active(self.clock(), self.rules) as context:
            applied = self._apply(conn, context, locate(conn), expected_version, actor, step, final_status)
            audit.append(conn, applied.entries, context.now)
        instance = applied.instance
        self._keep(instance, applied.workflow)
        return CommandResult(instance.id, instance.version, instance.status, instance.ticket_id, tuple(applied.steps))

    def _keep(self, instance: InstanceHead, workflow: BpmnWorkflow) -> None:
        """Cache a committed workflow for the instance's next command; a finished one has none, so it goes.

        Finished workflows kept only weighed on every full garbage collection (1 ms per ticket
        lifecycle in bench/lifecycle.py with the cache full of them).
        """
        if instance.status == "running":
            self.workflows.put(instance.id, instance.version, workflow)
        else:
            state.discard(workflow)

    def _apply(self, conn: Connection, context: CommandContext, instance: InstanceHead, expected_version: int | None,
               actor: Actor, step: Step, final_status: str | None = None) -> _Applied:
        """Run `step` on the instance's workflow and write what it changed, except the audit entries it returns."""
        instance.check(expected_version)
        deployment = self.deployments.get(conn, instance.deployment_id)
        workflow = self.workflows.get(instance.id, instance.version) or state.load(
            instances.stored_state(conn, instance.id), deployment.process)
        before = waiting_before(workflow, deployment.process)
        entries, finished = _run(workflow, lambda: step(workflow, deployment))
        steps = self._write(conn, instance, workflow, deployment, actor, context, entries, finished, before,
                            final_status)
        return _Applied(instance, workflow, steps, entries)

    def _write(self, conn: Connection, instance: InstanceHead, workflow: BpmnWorkflow,
               deployment: LoadedDeployment, actor: Actor, context: CommandContext, entries: list[AuditEntry],
               finished: str | None, before: Waiting, final_status: str | None) -> Steps:
        """Write state, projections, timers and notices; `entries` gains their audit entries."""
        now = context.now
        after = waiting_after(workflow, deployment.process)
        status, end = final_status or "running", None
        if final_status is None and workflow.completed:
            status, end = "completed", end_event(workflow)
            entries.append(AuditEntry("instance.completed", actor.name, instance.ticket_id, instance.id,
                                      data={"end_event": end}))
        instances.save_state(conn, instance, state.dump(workflow), status, end, now)
        if instance.ticket_id is not None:
            update_ticket(conn, instance.ticket_id, workflow,
                          ticket_values(_current_data(workflow), status, end, after.steps, now))
        _record(conn, instance, workflow, before, after, context, actor, finished, entries)
        return after.steps

    def _intake(self, clean: dict[str, Any], digest: str, actor: Actor) -> IntakeResult:
        with self.db.transaction() as conn, command_context.active(self.clock(), self.rules) as context:
            if find_ticket_id(conn, clean["ticket_no"]) is not None:
                return _same_ticket(conn, clean["ticket_no"], digest)

            def ticket_row(workflow: BpmnWorkflow, steps: Steps) -> int:
                values = ticket_values(_current_data(workflow), "running", None, steps, context.now)
                columns = {**_ticket_columns(clean), "intake_hash": digest, "created_at": context.now, **values}
                return insert_ticket(conn, workflow, columns, values)

            public = {k: v for k, v in clean.items() if k not in PERSONAL_FIELDS}
            received = [AuditEntry("ticket.received", actor.name, None, None, None, _jsonable(public))]
            instance, workflow, steps = self._start(conn, context, TICKET_PROCESS, self.ticket_start_data(clean),
                                                    ticket_row, actor, received)
            self.escalations.after_intake(conn, context, instance.ticket_id, clean, actor)
        self._keep(instance, workflow)
        return IntakeResult(instance.ticket_id, clean["ticket_no"], instance.id, True, tuple(steps))

    def _start(self, conn: Connection, context: CommandContext, process_id: str, data: dict[str, Any],
               make_ticket: Callable[[BpmnWorkflow, Steps], int] | None, actor: Actor,
               entries: list[AuditEntry]) -> tuple[InstanceHead, BpmnWorkflow, Steps]:
        """Create and run a new instance; `make_ticket` makes the ticket row it belongs to, if any."""
        deployment = self.deployments.get(conn, latest_deployment_id(conn, process_id))
        workflow = state.new_workflow(deployment.process)
        _run(workflow, lambda: _start(workflow, data))
        after = waiting_after(workflow, deployment.process)
        ticket_id = make_ticket(workflow, after.steps) if make_ticket else None
        instance = instances.insert_instance(conn, deployment.id, ticket_id, state.dump(workflow), context.now)
        for entry in entries:
            entry.instance_id = instance.id
        entries.append(AuditEntry("instance.started", actor.name, ticket_id, instance.id, None,
                                  {"process_id": deployment.process.process_id, "deployment_id": deployment.id}))
        _record(conn, instance, workflow, NOTHING, after, context, actor, None, entries)
        audit.append(conn, entries, context.now)
        return instance, workflow, after.steps

    def ticket_start_data(self, clean: dict[str, Any]) -> dict[str, Any]:
        """The data a ticket's workflow starts with, from its validated intake fields."""
        rules = self.rules.at(clean["received_at"].date())
        data = {key: clean.get(key) for key in _WORKFLOW_FIELDS}
        data.update(received_at=clean["received_at"].isoformat(), max_extensions=rules["max_extensions"],
                    extension_count=0, extension_days_total=0, reopen_count=0,
                    sla_started_at=None, sla_deadline=None)  # the SLA clock starts at dispatch or sign-for
        return data


def _fire(workflow: BpmnWorkflow, deployment: LoadedDeployment,
          timer: timers.DueTimer) -> tuple[list[AuditEntry], str | None]:
    """The step of a timer's firing: Spiff fires whatever of the workflow's timers is due now."""
    task = workflow.get_task_from_id(UUID(timer.task_id))
    if task is None or task.state != TaskState.WAITING:
        raise _NothingDue  # an earlier firing in the same round ended it
    workflow.refresh_timers()
    if waiting(workflow, deployment.process).timers.get(timer.task_id, (None, None))[1] == timer.due_at:
        raise _NothingDue  # due by the claim's reading of the clock, not yet by the command's
    name = deployment.process.elements.get(timer.bpmn_id, {}).get("name", timer.bpmn_id)
    return [AuditEntry("timer.fired", SYSTEM.name, None, timer.instance_id, timer.task_id,
                       {"step": timer.bpmn_id, "title": name, "due_at": timer.due_at.isoformat()})], None


def _run(workflow: BpmnWorkflow, step: Callable[[], Any]) -> Any:
    """Run a step and the engine steps after it; diagram errors become WorkflowFailed."""
    try:
        result = step()
        workflow.do_engine_steps()
        return result
    except SpiffWorkflowException as exc:
        where = getattr(getattr(exc, "task_spec", None), "bpmn_name", None) or getattr(exc, "task_spec", "")
        raise WorkflowFailed(f"流程执行出错（{where}）：{exc}") from exc


def _record(conn: Connection, instance: InstanceHead, workflow: BpmnWorkflow, before: Waiting, after: Waiting,
            context: CommandContext, actor: Actor, finished: str | None, entries: list[AuditEntry]) -> None:
    """Task rows, timer rows and notices of a command that has saved its state; `entries` gains their entries."""
    due = due_times(workflow, before.steps, after.steps)
    entries += write_tasks(conn, instance, before.steps, after.steps, context.now, actor.name, finished, due)
    timers.sync(conn, instance.id, before.timers, after.timers)
    entries += notices.write(conn, instance, context.notices, actor.name, context.now)
    context.notices.clear()  # a command may start a second instance (an escalation) in its transaction
    entries += _queue_alerts(conn, instance, context, actor)
    for entry in entries:
        entry.ticket_id = entry.ticket_id or instance.ticket_id


def _queue_alerts(conn: Connection, instance: InstanceHead, context: CommandContext,
                  actor: Actor) -> list[AuditEntry]:
    """Alerts the instance's scripts asked for, into the outbox of this transaction."""
    requests, entries = list(context.alerts), []
    context.alerts.clear()
    for request in requests:
        if request.acknowledged:
            entries.append(alerts.acknowledgment(conn, request.incident_id, actor.name))
        else:
            entries += alerts.queue(conn, request.incident_id, request.level, context.values, context.now,
                                    actor.name)
    for entry in entries:
        entry.instance_id = instance.id
    return entries


def _start(workflow: BpmnWorkflow, data: dict[str, Any]) -> None:
    for task in workflow.get_tasks(state=TaskState.READY):
        task.set_data(**data)


def _validated(form: FormDefinition, data: Any) -> dict[str, Any]:
    try:
        return validate(form, data)
    except FormValidationError as exc:
        raise InvalidData(f"{form.title}：提交的数据有误", exc.errors) from exc


def _check_task_access(row: TaskHead, actor: Actor) -> None:
    if row.state != OPEN:
        raise Conflict(f"任务 {row.title} 已经结束")
    _check_may_see(actor, row.title, row.role, row.lead_unit)
    if row.assignee not in (None, actor.name) and "admin" not in actor.roles:
        raise Conflict(f"任务 {row.title} 已被 {row.assignee} 认领")


def _check_may_see(actor: Actor, title: str, role: str | None, lead_unit: str | None) -> None:
    """A task is for its role, and a unit's task only for that unit's users (see Actor.scoped_unit)."""
    if not actor.can_act_as(role):
        raise Forbidden(f"任务 {title} 不属于您的角色")
    if not actor.may_handle(role, lead_unit):
        raise Forbidden(f"任务 {title} 不属于您的单位")


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
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in data.items()}  # datetime is a date too


def _same_ticket(conn: Connection, ticket_no: str, digest: str) -> IntakeResult:
    ticket_id, stored_digest = conn.execute(
        select(Ticket.id, Ticket.intake_hash).where(Ticket.ticket_no == ticket_no)).one()
    if stored_digest != digest:
        raise DuplicateTicket(f"工单编号 {ticket_no} 已存在且内容不同，不能重复登记")
    instance_id = conn.scalar(select(Instance.id).where(Instance.ticket_id == ticket_id))
    open_tasks = conn.scalars(select(TaskRecord.id).where(TaskRecord.instance_id == instance_id,
                                                          TaskRecord.state == "open").order_by(TaskRecord.created_at))
    return IntakeResult(ticket_id, ticket_no, instance_id, False, tuple(open_tasks))


def _ticket_columns(clean: dict[str, Any]) -> dict[str, Any]:
    return {**clean, "tags": clean.get("tags") or [], "policy_tags": [], "assist_units": []}
