"""Every path through workflows/ticket.bpmn, driven through the engine API."""

from __future__ import annotations

import pytest
from lxml import etree
from SpiffWorkflow.util.task import TaskState

from engine.errors import Conflict
from engine.factory import workflows_dir
from tests.conftest import INTAKE
from tests.helpers import (
    APPROVE,
    DISPATCH,
    EXTEND,
    REGISTER,
    REPLY,
    SCREEN_NOT_OURS,
    SCREEN_OK,
    VALID,
    audit_rows,
    do,
    finish,
    instance_row,
    open_steps,
    receive,
    stored_workflow,
    ticket_row,
    to_handling,
)
from tests.ticket_paths import ALL_PATHS


def test_main_path_closes_ticket_with_callback_figures(engine):
    ticket = receive(engine)
    assert open_steps(engine, ticket.instance_id) == ["verify"]
    to_handling(engine, ticket.instance_id)
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    finish(engine, ticket.instance_id)

    row = ticket_row(engine, ticket.ticket_id)
    assert row.status == "closed" and row.closed_at is not None
    assert (row.contacted, row.solved, row.satisfaction) == (True, True, "满意")
    assert (row.category_l1, row.request_type, row.sla_level) == ("城市管理", "投诉", "7d")
    assert row.lead_unit == "城南街道综合执法队" and row.assist_units == ["龙锦苑社区居委会"]
    assert row.policy_tags == ["宜居性"]
    assert instance_row(engine, ticket.instance_id).status == "completed"
    assert open_steps(engine, ticket.instance_id) == []


def test_invalid_ticket_ends_at_verification_with_reason(engine):
    ticket = receive(engine, category_l1="城市管理", tags=["噪音"])
    do(engine, ticket.instance_id, "verify",
       {"is_valid": False, "invalid_reason": "malicious", "contact_verified": False})
    row = ticket_row(engine, ticket.ticket_id)
    assert (row.status, row.category_l1, row.tags, row.policy_tags) == ("invalid", "城市管理", ["噪音"], [])
    completed = [r for r in audit_rows(engine) if r.event == "task.completed"]
    assert completed[-1].data["after"]["invalid_reason"] == "malicious"


def test_return_upstream_approved_ends_as_returned(engine):
    ticket = receive(engine)
    do(engine, ticket.instance_id, "verify", VALID)
    do(engine, ticket.instance_id, "screen", SCREEN_NOT_OURS)
    assert open_steps(engine, ticket.instance_id) == ["wait_return"]
    engine.deliver_message(ticket.instance_id, "return_decision", {"return_approved": True}, INTAKE)
    assert ticket_row(engine, ticket.ticket_id).status == "returned"


def test_return_upstream_rejected_goes_to_dispatch(engine):
    ticket = receive(engine)
    do(engine, ticket.instance_id, "verify", VALID)
    do(engine, ticket.instance_id, "screen", SCREEN_NOT_OURS)
    engine.deliver_message(ticket.instance_id, "return_decision",
                           {"return_approved": False, "return_comment": "属地管理，应由街道办理"}, INTAKE)
    assert open_steps(engine, ticket.instance_id) == ["dispatch"]
    for step, data in (("dispatch", DISPATCH), ("sign_for", {"accepted": True}), ("register", REGISTER)):
        do(engine, ticket.instance_id, step, data)
    finish(engine, ticket.instance_id)
    assert ticket_row(engine, ticket.ticket_id).status == "closed"


def test_message_not_awaited_is_refused(engine):
    ticket = receive(engine)
    with pytest.raises(Conflict):
        engine.deliver_message(ticket.instance_id, "return_decision", {"return_approved": True}, INTAKE)


def test_unit_rejection_goes_back_to_screening_for_reassignment(engine):
    ticket = receive(engine)
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH)):
        do(engine, ticket.instance_id, step, data)
    do(engine, ticket.instance_id, "sign_for", {"accepted": False, "sign_reject_reason": "不属于本单位职责"})
    assert open_steps(engine, ticket.instance_id) == ["screen"]
    do(engine, ticket.instance_id, "screen", SCREEN_OK)
    do(engine, ticket.instance_id, "dispatch", {"lead_unit": "城南街道城市管理办公室"})
    do(engine, ticket.instance_id, "sign_for", {"accepted": True})
    do(engine, ticket.instance_id, "register", REGISTER)
    finish(engine, ticket.instance_id)
    row = ticket_row(engine, ticket.ticket_id)
    assert row.status == "closed" and row.lead_unit == "城南街道城市管理办公室"
    assert row.assist_units == []  # the second dispatch named none: the first one's do not linger


def test_extension_approved_and_denied_both_return_to_handling(engine):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", EXTEND)
    assert open_steps(engine, ticket.instance_id) == ["approve_extension"]
    do(engine, ticket.instance_id, "approve_extension", {"extension_approved": True})
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    do(engine, ticket.instance_id, "handle", EXTEND)
    do(engine, ticket.instance_id, "approve_extension", {"extension_approved": False, "extension_comment": "理由不足"})
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    data = _workflow_data(engine, ticket.instance_id)
    assert (data["extension_count"], data["extension_days_total"]) == (1, 2)


def test_fourth_extension_is_refused_without_approval_task(engine):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    for _ in range(3):
        do(engine, ticket.instance_id, "handle", EXTEND)
        do(engine, ticket.instance_id, "approve_extension", {"extension_approved": True})
    do(engine, ticket.instance_id, "handle", EXTEND)
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    data = _workflow_data(engine, ticket.instance_id)
    assert data["extension_count"] == 3
    assert data["extension_refused_reason"] == "延期次数已达上限"


def test_review_sends_weak_reply_back_to_the_unit(engine):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", REPLY)
    do(engine, ticket.instance_id, "review", {"review_decision": "send_back", "review_comment": "缺少现场照片"})
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    finish(engine, ticket.instance_id)
    assert ticket_row(engine, ticket.ticket_id).status == "closed"


@pytest.mark.parametrize("approved", [True, False])
def test_exemption_application_waits_for_district_decision(engine, approved):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", REPLY)
    do(engine, ticket.instance_id, "review",
       APPROVE | {"apply_exemption": True, "exemption_reason": "诉求人要求超出政策规定，已有书面说明"})
    assert open_steps(engine, ticket.instance_id) == ["wait_exemption"]
    engine.deliver_message(ticket.instance_id, "exemption_decision", {"exemption_approved": approved}, INTAKE)
    do(engine, ticket.instance_id, "feedback", {"contacted": True, "solved": False, "satisfaction": "不满意"})
    row = ticket_row(engine, ticket.ticket_id)
    assert row.status == "closed" and row.exempted is approved


def test_unsatisfied_citizen_reopens_ticket(engine):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", REPLY)
    do(engine, ticket.instance_id, "review", APPROVE)
    do(engine, ticket.instance_id, "feedback",
       {"contacted": True, "solved": False, "satisfaction": "不满意", "reopen_requested": True})
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    assert ticket_row(engine, ticket.ticket_id).status == "open"
    finish(engine, ticket.instance_id)
    row = ticket_row(engine, ticket.ticket_id)
    assert (row.status, row.satisfaction) == ("closed", "满意")
    assert _workflow_data(engine, ticket.instance_id)["reopen_count"] == 1


def test_unsatisfied_without_reopen_closes(engine):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", REPLY)
    do(engine, ticket.instance_id, "review", APPROVE)
    do(engine, ticket.instance_id, "feedback", {"contacted": True, "solved": False, "satisfaction": "不满意"})
    assert ticket_row(engine, ticket.ticket_id).status == "closed"


def test_cancel_ends_instance_and_its_open_tasks(engine):
    ticket = receive(engine)
    do(engine, ticket.instance_id, "verify", VALID)
    engine.cancel(ticket.instance_id, "上级撤回工单", INTAKE)
    assert ticket_row(engine, ticket.ticket_id).status == "cancelled"
    assert open_steps(engine, ticket.instance_id) == []
    events = [(r.event, r.data.get("step")) for r in audit_rows(engine)]
    assert events[-2:] == [("instance.cancelled", None), ("task.cancelled", "screen")]
    with pytest.raises(Conflict):
        engine.cancel(ticket.instance_id, "再次撤销", INTAKE)


def test_every_flow_node_of_the_diagram_is_reached_by_the_paths(engine):
    """The path tests above, replayed, visit every flow node of ticket.bpmn."""
    visited: set[str] = set()
    for number, path in enumerate(ALL_PATHS):
        ticket = receive(engine, f"COV-{number}")
        path(engine, ticket.instance_id)
        visited |= _visited_steps(engine, ticket.instance_id)
    assert _diagram_flow_nodes() - visited == set()


def _workflow_data(engine, instance_id: int) -> dict:
    return stored_workflow(engine, instance_id).last_task.data


def _visited_steps(engine, instance_id: int) -> set[str]:
    reached = TaskState.COMPLETED | TaskState.READY | TaskState.WAITING
    return {t.task_spec.name for t in stored_workflow(engine, instance_id).get_tasks(state=reached)}


def _diagram_flow_nodes() -> set[str]:
    root = etree.parse(str(workflows_dir() / "ticket.bpmn")).getroot()
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    process = root.find("bpmn:process", ns)
    skip = {"sequenceFlow", "laneSet", "documentation"}
    return {el.get("id") for el in process if etree.QName(el).localname not in skip}
