"""Deployments: validated, versioned, stored with their forms; bad diagrams are refused by name."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import DeploymentRejected, Forbidden, WorkflowFailed
from engine.factory import workflows_dir
from engine.models import Deployment
from tests.conftest import ADMIN, UNIT
from tests.helpers import (
    APPROVE,
    REPLY,
    SATISFIED,
    do,
    open_steps,
    open_task,
    receive,
    snapshot,
    ticket_row,
    to_handling,
)

TICKET_XML = (workflows_dir() / "ticket.bpmn").read_bytes()


def _deployments(engine) -> list[tuple[str, int]]:
    """The ticket process's deployments (the engine fixture deploys the other workflows too)."""
    with engine.db.read() as session:
        return [(d.process_id, d.version) for d in session.scalars(
            select(Deployment).where(Deployment.process_id == "ticket").order_by(Deployment.id))]


def test_same_content_twice_is_a_no_op(engine):
    again = engine.deploy(TICKET_XML, "ticket.bpmn", ADMIN)
    assert not again.created and again.version == 1
    assert _deployments(engine) == [("ticket", 1)]


def test_changed_content_gets_next_version_and_running_instances_keep_theirs(engine):
    old = receive(engine, "OLD-1")
    renamed = TICKET_XML.replace('name="办理"'.encode(), 'name="办理答复"'.encode())
    result = engine.deploy(renamed, "ticket.bpmn", ADMIN)
    assert (result.created, result.version) == (True, 2)
    new = receive(engine, "NEW-1")

    to_handling(engine, old.instance_id)
    to_handling(engine, new.instance_id)
    assert ticket_row(engine, old.ticket_id).current_step == "办理"
    assert ticket_row(engine, new.ticket_id).current_step == "办理答复"
    assert open_steps(engine, old.instance_id) == ["handle"]


def test_stored_deployment_keeps_the_forms_it_was_made_from(engine):
    with engine.db.read() as session:
        row = session.scalar(select(Deployment).where(Deployment.process_id == "ticket"))
    assert set(row.forms) == {"verify", "screen", "dispatch", "sign_for", "register", "handle",
                              "approve_extension", "review", "feedback", "return_decision", "exemption_decision"}
    assert '"key": "verify"' in row.forms["verify"]


@pytest.mark.parametrize(("xml", "expected"), [
    (b"<bpmn:definitions", "不是合法的 XML"),
    (b"<?xml version='1.0'?><notbpmn/>", "BPMN 校验失败"),
    (TICKET_XML.replace(b'camunda:formKey="register"', b'camunda:formKey="no_such_form"'),
     "register（登记）引用了不存在的表单 no_such_form"),
    (TICKET_XML.replace(b' camunda:formKey="dispatch"', b""), "dispatch（派单）没有指定表单"),
    (TICKET_XML.replace('name="承办单位"'.encode(), 'name="外包公司"'.encode()), "泳道 外包公司 不对应任何角色"),
    (TICKET_XML.replace(b"reopen_count = reopen_count + 1", b"import os\nreopen_count = 1"),
     "reopen（重新办理）的脚本被拒绝：脚本不允许 import 语句"),
    (TICKET_XML.replace(b">is_valid<", b">is_valid.__class__<"), "flow_valid（有效）的脚本被拒绝"),
    (TICKET_XML.replace(b"closed = True", b"closed = open('/etc/passwd').read()"), "close（办结）的脚本被拒绝"),
    (TICKET_XML.replace(b'isExecutable="true"', b'isExecutable="false"'), "必须恰好包含一个可执行流程"),
])
def test_bad_diagram_is_refused_naming_the_problem_and_nothing_is_stored(engine, xml, expected):
    before = snapshot(engine)
    with pytest.raises(DeploymentRejected) as err:
        engine.deploy(xml, "ticket.bpmn", ADMIN)
    assert expected in err.value.message
    assert snapshot(engine) == before


@pytest.mark.parametrize(("script", "reason"), [
    (b"closed = 1 / 0", "division by zero"),
    (b"closed = os.getcwd()", "os"),  # modules are simply not there at run time
    (b"closed = len(__builtins__)", ""),
])
def test_script_failing_at_run_time_fails_the_command_and_writes_nothing(engine, script, reason):
    xml = TICKET_XML.replace(b"closed = True", script)
    if b"__builtins__" in script:
        with pytest.raises(DeploymentRejected):
            engine.deploy(xml, "ticket.bpmn", ADMIN)
        return
    engine.deploy(xml, "ticket.bpmn", ADMIN)
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", REPLY)
    do(engine, ticket.instance_id, "review", APPROVE)
    before = snapshot(engine)
    with pytest.raises(WorkflowFailed) as err:
        do(engine, ticket.instance_id, "feedback", SATISFIED)
    assert "办结" in err.value.message and reason in err.value.message
    assert snapshot(engine) == before
    assert open_steps(engine, ticket.instance_id) == ["feedback"]


def test_unit_can_not_complete_intake_task(engine):
    ticket = receive(engine)
    with pytest.raises(Forbidden):
        engine.complete_task(open_task(engine, ticket.instance_id, "verify").id, {}, UNIT)
    do(engine, ticket.instance_id, "verify", {"is_valid": True, "contact_verified": True})
