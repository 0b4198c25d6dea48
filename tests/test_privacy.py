"""Callers' names and phones: masked for roles that do not need them, unmasked reads audited."""

from __future__ import annotations

from engine.privacy import mask_name, mask_phone
from tests.conftest import ADMIN, DISPATCHER, INTAKE, UNIT
from tests.helpers import VALID, audit_rows, do, receive


def test_masks():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("010-6512 3456") == "010****3456"
    assert mask_name("张明") == "张*" and mask_name(None) is None


def test_dispatcher_and_admin_see_masked_data_and_leave_no_read_record(engine):
    receive(engine)
    for reader in (DISPATCHER, ADMIN):
        view = engine.view_ticket("T-0001", reader)
        assert (view["caller_name"], view["caller_phone"]) == ("张*", "138****8000")
        assert view["personal_data_masked"] is True
    assert not [r for r in audit_rows(engine) if r.event == "personal_data.read"]


def test_intake_and_unit_see_personal_data_and_each_read_is_audited(engine):
    ticket = receive(engine)
    do(engine, ticket.instance_id, "verify", VALID)
    for reader in (INTAKE, UNIT):
        view = engine.view_ticket("T-0001", reader)
        assert (view["caller_name"], view["caller_phone"]) == ("张明", "13800138000")
    reads = [r for r in audit_rows(engine) if r.event == "personal_data.read"]
    assert [(r.actor, r.ticket_id, r.data["fields"]) for r in reads] == [
        (INTAKE.name, ticket.ticket_id, ["caller_name", "caller_phone"]),
        (UNIT.name, ticket.ticket_id, ["caller_name", "caller_phone"]),
    ]


def test_ticket_view_has_tasks_and_timeline(engine):
    ticket = receive(engine)
    do(engine, ticket.instance_id, "verify", VALID)
    view = engine.view_ticket("T-0001", DISPATCHER)
    assert [(t["step"], t["state"]) for t in view["tasks"]] == [("verify", "completed"), ("screen", "open")]
    assert [e["event"] for e in view["timeline"]][:3] == ["ticket.received", "instance.started", "task.opened"]
