"""Durability and concurrency: reload in a new process, stale versions, refused input changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from sqlalchemy import select

from engine import state
from engine.errors import Conflict, InvalidData, NotFound
from engine.models import Instance
from engine.service import Engine
from engine.state import WorkflowCache
from engine.workflow import EngineWorkflow
from tests.conftest import INTAKE
from tests.helpers import (
    APPROVE,
    DISPATCH,
    EXTEND,
    REGISTER,
    REPLY,
    SATISFIED,
    SCREEN_OK,
    VALID,
    audit_rows,
    do,
    finish,
    instance_row,
    open_steps,
    open_task,
    receive,
    snapshot,
    stored_workflow,
    ticket_row,
    to_handling,
)

ROOT = Path(__file__).resolve().parent.parent


def test_state_reloaded_in_a_new_process_continues(engine, database_url):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    script = textwrap.dedent(f"""
        from engine.db import Database
        from engine.service import Engine
        from tests.helpers import finish
        engine = Engine(Database({database_url!r}))
        finish(engine, {ticket.instance_id})
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)
    assert ticket_row(engine, ticket.ticket_id).status == "closed"
    assert instance_row(engine, ticket.instance_id).status == "completed"


def test_stale_version_is_refused_and_nothing_changes(engine):
    ticket = receive(engine)
    seen = instance_row(engine, ticket.instance_id).version
    do(engine, ticket.instance_id, "verify", VALID)
    task = open_task(engine, ticket.instance_id, "screen")
    before = snapshot(engine)
    with pytest.raises(Conflict) as err:
        engine.complete_task(task.id, {"category_l1": "城市管理", "request_type": "投诉", "sla_level": "7d",
                                       "is_responsible": True}, INTAKE, expected_version=seen)
    assert "已被他人更新" in err.value.message
    assert snapshot(engine) == before


def test_two_nodes_sharing_a_database_see_each_others_writes(engine, db, clock):
    other = Engine(db, clock=clock)  # a second node: its own caches, same database
    ticket = receive(engine)
    do(other, ticket.instance_id, "verify", VALID)
    version_after_other = instance_row(engine, ticket.instance_id).version
    task = open_task(engine, ticket.instance_id, "screen")
    engine.complete_task(task.id, {"category_l1": "城市管理", "request_type": "投诉", "sla_level": "7d",
                                   "is_responsible": True}, INTAKE, expected_version=version_after_other)
    assert open_steps(other, ticket.instance_id) == ["dispatch"]
    with pytest.raises(Conflict):  # `other` still holds the old version in its cache
        other.complete_task(task.id, {}, INTAKE, expected_version=version_after_other)


def test_invalid_form_data_is_refused_per_field_and_nothing_changes(engine):
    ticket = receive(engine)
    task = open_task(engine, ticket.instance_id, "verify")
    before = snapshot(engine)
    with pytest.raises(InvalidData) as err:
        engine.complete_task(task.id, {"is_valid": "也许", "unknown_field": 1}, INTAKE)
    assert err.value.field_errors == {"is_valid": ["格式不正确。"], "contact_verified": ["此项为必填项。"],
                                      "unknown_field": ["不是此表单的字段。"]}
    with pytest.raises(InvalidData) as err:
        engine.complete_task(task.id, {"is_valid": False, "contact_verified": True}, INTAKE)
    assert err.value.field_errors == {"invalid_reason": ["此项为必填项。"]}
    assert snapshot(engine) == before


@pytest.mark.parametrize("payload", [None, [], "text", 42])
def test_form_data_that_is_not_an_object_is_refused(engine, payload):
    ticket = receive(engine)
    task = open_task(engine, ticket.instance_id, "verify")
    with pytest.raises(InvalidData):
        engine.complete_task(task.id, payload, INTAKE)


def test_unknown_and_finished_tasks(engine):
    ticket = receive(engine)
    with pytest.raises(NotFound):
        engine.complete_task("00000000-0000-0000-0000-000000000000", VALID, INTAKE)
    task = open_task(engine, ticket.instance_id, "verify")
    engine.complete_task(task.id, VALID, INTAKE)
    with pytest.raises(Conflict):
        engine.complete_task(task.id, VALID, INTAKE)
    with pytest.raises(NotFound):
        engine.deliver_message(99999, "return_decision", {"return_approved": True}, INTAKE)


def test_claimed_task_is_reserved_for_its_claimant(engine):
    from engine.privacy import Actor

    colleague = Actor("受理员孙", frozenset({"intake"}))
    ticket = receive(engine)
    task = open_task(engine, ticket.instance_id, "verify")
    engine.claim(task.id, INTAKE)
    with pytest.raises(Conflict):
        engine.claim(task.id, colleague)
    with pytest.raises(Conflict):
        engine.complete_task(task.id, VALID, colleague)
    engine.claim(task.id, INTAKE, release=True)
    engine.complete_task(task.id, VALID, colleague)
    events = [r.event for r in audit_rows(engine) if r.task_id == task.id]
    assert events == ["task.opened", "task.claimed", "task.released", "task.completed"]


def test_stored_state_holds_no_spec_and_no_personal_data(engine):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    finish(engine, ticket.instance_id)
    with engine.db.read() as session:
        from engine.models import Instance

        stored = session.get(Instance, ticket.instance_id).state
    assert "13800138000" not in stored and "张明" not in stored
    assert '"spec"' not in json.loads(stored) and len(stored) < 60_000


def test_stored_state_restores_exactly_what_ran_at_every_step(engine):
    """The cached workflow and the one read back from the database serialize identically (Spiff's own
    serializer), after every command of a long path: the custom state format loses nothing."""
    stock = BpmnWorkflowSerializer()
    # The engine runs Spiff's BpmnWorkflow with faster walks; Spiff's serializer treats it as its own.
    stock.registry.typenames[EngineWorkflow] = stock.registry.typenames[BpmnWorkflow]
    ticket = receive(engine)

    def check() -> None:
        instance = instance_row(engine, ticket.instance_id)
        cached = engine.workflows.get(ticket.instance_id, instance.version)
        assert cached is not None
        assert stock.to_dict(stored_workflow(engine, ticket.instance_id)) == stock.to_dict(cached)
        engine.workflows.put(ticket.instance_id, instance.version, cached)

    check()
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH),
                       ("sign_for", {"accepted": True}), ("register", REGISTER), ("handle", EXTEND),
                       ("approve_extension", {"extension_approved": True}), ("handle", REPLY),
                       ("review", {"review_decision": "send_back", "review_comment": "补充照片"}),
                       ("handle", REPLY), ("review", APPROVE)):
        do(engine, ticket.instance_id, step, data)
        check()


def test_commands_on_workflows_read_back_from_the_database_store_full_states(engine):
    """With nothing cached, every command starts from the stored state, of which the dump keeps the
    settled tasks' dicts; what it stores is still what converting every task afresh gives."""
    ticket = receive(engine)
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH),
                       ("sign_for", {"accepted": True}), ("register", REGISTER), ("handle", EXTEND),
                       ("approve_extension", {"extension_approved": True}), ("handle", REPLY),
                       ("review", {"review_decision": "send_back", "review_comment": "补充照片"}),
                       ("handle", REPLY), ("review", APPROVE)):
        engine.workflows = WorkflowCache()
        do(engine, ticket.instance_id, step, data)
        workflow = stored_workflow(engine, ticket.instance_id)
        kept = [task.__dict__.pop("_jiesu_dict", None) for task in workflow.tasks.values()]
        assert any(kept)  # else loading kept nothing, and this would compare a full conversion with itself
        with engine.db.read() as session:
            stored = session.scalar(select(Instance.state).where(Instance.id == ticket.instance_id))
        assert json.loads(state.dump(workflow)) == json.loads(stored)
    assert open_steps(engine, ticket.instance_id) == ["feedback"]


def test_ticket_rows_written_by_changes_equal_full_writes(engine):
    """A cached workflow's command writes only the ticket columns it changed; one read back from the
    database writes them all. Along a path that sets, keeps and changes columns, both give the same row."""
    cached, fresh = receive(engine, "CHG-1"), receive(engine, "CHG-2")

    def columns(ticket) -> dict:
        row = vars(ticket_row(engine, ticket.ticket_id))
        return {c: v for c, v in row.items() if c not in ("id", "ticket_no", "intake_hash") and c[0] != "_"}

    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH),
                       ("sign_for", {"accepted": True}), ("register", REGISTER), ("handle", EXTEND),
                       ("approve_extension", {"extension_approved": True}), ("handle", REPLY),
                       ("review", {"review_decision": "send_back", "review_comment": "补充照片"}),
                       ("handle", REPLY), ("review", APPROVE), ("feedback", SATISFIED)):
        engine.workflows.get(fresh.instance_id, version=0)  # a version never stored: evicts it
        do(engine, fresh.instance_id, step, data)
        do(engine, cached.instance_id, step, data)
        assert columns(cached) == columns(fresh), step
    assert columns(cached)["status"] == "closed"
