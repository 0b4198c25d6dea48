"""Each kind of change leaves its own audit row; no row holds a caller's name or phone."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engine.audit import EVENTS
from engine.audit_export import export_audit
from engine.audit_query import AuditFilter
from engine.factory import workflows_dir
from engine.handover import export_all, purge_personal_data
from engine.privacy import Actor
from tests.conftest import ADMIN, INTAKE
from tests.helpers import SCREEN_NOT_OURS, VALID, audit_rows, do, open_task, receive, to_handling

READER = Actor("审计员吴", frozenset({"auditor", "intake"}))


def _new_rows(engine, action) -> list[tuple]:
    """(event, actor, ticket) of the rows `action` appended."""
    seen = len(audit_rows(engine))
    action()
    return [(r.event, r.actor, r.ticket_id) for r in audit_rows(engine)[seen:]]


def test_each_kind_of_change_appends_its_rows(engine, clock, tmp_path):
    ticket = receive(engine, "K-1", caller_name="李红", caller_phone="13312345678")
    tid, iid = ticket.ticket_id, ticket.instance_id
    verify_task = open_task(engine, iid, "verify").id
    bpmn = (workflows_dir() / "ticket.bpmn").read_bytes().replace(b"</bpmn:definitions>",
                                                                  b"<!-- v2 --></bpmn:definitions>")
    cases = [
        (lambda: engine.claim(verify_task, INTAKE), [("task.claimed", INTAKE.name, tid)]),
        (lambda: engine.claim(verify_task, INTAKE, release=True), [("task.released", INTAKE.name, tid)]),
        (lambda: do(engine, iid, "verify", VALID),
         [("task.completed", INTAKE.name, tid), ("task.opened", INTAKE.name, tid)]),
        (lambda: do(engine, iid, "screen", SCREEN_NOT_OURS),
         [("task.completed", INTAKE.name, tid), ("task.opened", INTAKE.name, tid)]),
        (lambda: engine.deliver_message(iid, "return_decision", {"return_approved": True}, INTAKE),
         [("message.delivered", INTAKE.name, tid), ("instance.completed", INTAKE.name, tid)]),
        (lambda: engine.view_ticket("K-1", INTAKE), [("personal_data.read", INTAKE.name, tid)]),
        (lambda: engine.deploy(bpmn, "ticket.bpmn", ADMIN), [("deployment.created", ADMIN.name, None)]),
        (lambda: export_audit(engine, READER, AuditFilter(ticket_id=tid), tmp_path / "k.csv"),
         [("personal_data.exported", READER.name, None)]),
        (lambda: export_all(engine, ADMIN, tmp_path / "all"), [("data.exported", ADMIN.name, None)]),
        (lambda: purge_personal_data(engine, ADMIN, tmp_path / "all"), [("personal_data.purged", ADMIN.name, None)]),
    ]
    for action, expected in cases:
        assert _new_rows(engine, action) == expected

    other = receive(engine, "K-2")
    to_handling(engine, other.instance_id)
    cancelled = _new_rows(engine, lambda: engine.cancel(other.instance_id, "诉求人撤诉", ADMIN))
    assert cancelled == [("instance.cancelled", ADMIN.name, other.ticket_id),
                         ("task.cancelled", ADMIN.name, other.ticket_id)]

    rows = audit_rows(engine)
    assert {r.event for r in rows} <= set(EVENTS)
    stored = json.dumps([r.data for r in rows], ensure_ascii=False)
    for secret in ("李红", "13312345678", "张明", "13800138000"):
        assert secret not in stored


def test_every_event_the_code_records_has_a_chinese_label():
    """Auditors read labels, not codes: an event appended anywhere must be in EVENTS."""
    root = Path(__file__).resolve().parent.parent
    used = {m for path in (*root.glob("engine/**/*.py"), *root.glob("api/**/*.py"))
            for m in re.findall(r'AuditEntry\(\s*"([a-z_.]+)"', path.read_text(encoding="utf-8"))}
    used |= {"task.released", "task.claimed", "login.succeeded", "login.failed"}  # chosen at run time
    assert used and used <= set(EVENTS)
