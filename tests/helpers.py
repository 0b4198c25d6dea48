"""Small helpers that drive tickets through the engine's public API, as staff would."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import select

from engine import state
from engine.models import AuditEvent, Base, Instance, Notice, TaskRecord, Ticket
from engine.privacy import Actor
from engine.service import Engine, IntakeResult
from tests.conftest import ADMIN, DISPATCHER, INTAKE, UNIT

ROLE_ACTORS = {"intake": INTAKE, "dispatcher": DISPATCHER, "unit": UNIT}


def ticket_fields(ticket_no: str = "T-0001", **overrides: Any) -> dict[str, Any]:
    fields = {
        "ticket_no": ticket_no, "source": "hotline", "received_at": "2026-11-20T09:00:00+08:00",
        "caller_name": "张明", "caller_phone": "13800138000", "address": "城南街道龙锦苑东五区3号楼",
        "community": "龙锦苑社区", "content": "楼下烧烤店油烟扰民，希望尽快处理。",
    }
    return fields | overrides


def receive(engine: Engine, ticket_no: str = "T-0001", **overrides: Any) -> IntakeResult:
    return engine.intake(ticket_fields(ticket_no, **overrides), INTAKE)


def open_steps(engine: Engine, instance_id: int) -> list[str]:
    with engine.db.read() as session:
        return sorted(session.scalars(select(TaskRecord.bpmn_id).where(
            TaskRecord.instance_id == instance_id, TaskRecord.state == "open")))


def open_task(engine: Engine, instance_id: int, step: str) -> TaskRecord:
    with engine.db.read() as session:
        row = session.scalar(select(TaskRecord).where(
            TaskRecord.instance_id == instance_id, TaskRecord.bpmn_id == step, TaskRecord.state == "open"))
    assert row is not None, f"{step} is not open; open: {open_steps(engine, instance_id)}"
    return row


def do(engine: Engine, instance_id: int, step: str, data: dict[str, Any], actor: Actor | None = None):
    """Complete the open task `step` as a person of its role."""
    row = open_task(engine, instance_id, step)
    return engine.complete_task(row.id, data, actor or ROLE_ACTORS.get(row.role, ADMIN))


def stored_workflow(engine: Engine, instance_id: int) -> BpmnWorkflow:
    """The workflow as the database holds it, read back without the engine's cache."""
    with engine.db.read() as session:
        instance = session.get(Instance, instance_id)
        return state.load(instance.state, engine.deployments.get(session.connection(), instance.deployment_id).process)


def ticket_row(engine: Engine, ticket_id: int) -> Ticket:
    with engine.db.read() as session:
        return session.get(Ticket, ticket_id)


def instance_row(engine: Engine, instance_id: int) -> Instance:
    with engine.db.read() as session:
        return session.get(Instance, instance_id)


def audit_rows(engine: Engine) -> list[AuditEvent]:
    with engine.db.read() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused command changed nothing."""
    with engine.db.read() as session:
        return {table.name: sorted(map(tuple, session.execute(table.select()).all()), key=repr)
                for table in Base.metadata.sorted_tables}


VALID = {"is_valid": True, "contact_verified": True}
SCREEN_OK = {"category_l1": "城市管理", "category_l2": "环境卫生", "request_type": "投诉", "sla_level": "7d",
             "is_responsible": True, "policy_tags": ["宜居性"]}
SCREEN_NOT_OURS = {"category_l1": "市场监管", "request_type": "投诉", "sla_level": "7d", "is_responsible": False,
                   "return_reason": "事发地不在本街道辖区", "return_evidence": "地址核实截图"}
DISPATCH = {"lead_unit": "城南街道综合执法队", "assist_units": ["龙锦苑社区居委会"]}
REGISTER = {"handler_name": "刘建国", "handling_plan": "联系诉求人并现场核实", "citizen_contacted": True}
REPLY = {"handle_action": "reply", "handling_result": "已现场处理并告知诉求人", "evidence": ["照片1.jpg"]}
EXTEND = {"handle_action": "extend", "extension_days": 2, "extension_reason": "需协调多个部门"}
APPROVE = {"review_decision": "approve"}
SATISFIED = {"contacted": True, "solved": True, "satisfaction": "满意"}


def to_handling(engine: Engine, instance_id: int) -> None:
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH),
                       ("sign_for", {"accepted": True}), ("register", REGISTER)):
        do(engine, instance_id, step, data)


def finish(engine: Engine, instance_id: int) -> None:
    """From handling to close along the main path."""
    for step, data in (("handle", REPLY), ("review", APPROVE), ("feedback", SATISFIED)):
        do(engine, instance_id, step, data)


def fire_all(engine: Engine) -> int:
    """Fire every timer due by the engine's clock, as the scheduler would."""
    fired = 0
    while engine.fire_due_timer() is not None:
        fired += 1
    return fired


def notices(engine: Engine, kind: str | None = None) -> list[Notice]:
    with engine.db.read() as session:
        query = select(Notice).order_by(Notice.id)
        return list(session.scalars(query if kind is None else query.where(Notice.kind == kind)))
