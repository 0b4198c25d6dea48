"""Audit rows for every command, in order, with actor and time, chained by hash."""

from __future__ import annotations

from engine.audit import GENESIS_HASH, row_hash
from engine.factory import workflows_dir
from tests.conftest import ADMIN, INTAKE
from tests.helpers import VALID, audit_rows, do, finish, receive, to_handling


def test_every_command_leaves_rows_in_order_with_actor_and_time(engine, clock):
    ticket = receive(engine)
    clock.advance(minutes=5)
    do(engine, ticket.instance_id, "verify", VALID)
    clock.advance(minutes=5)
    engine.cancel(ticket.instance_id, "上级撤回", ADMIN)

    deployed = len(list(workflows_dir().glob("*.bpmn")))
    rows = [(r.event, r.actor, r.at, r.data.get("step")) for r in audit_rows(engine)]
    t0 = rows[deployed][2]
    assert rows == [("deployment.created", ADMIN.name, t0, None)] * deployed + [
        ("ticket.received", INTAKE.name, t0, None),
        ("instance.started", INTAKE.name, t0, None),
        ("task.opened", INTAKE.name, t0, "verify"),
        ("task.completed", INTAKE.name, clock.now.replace(minute=5), "verify"),
        ("task.opened", INTAKE.name, clock.now.replace(minute=5), "screen"),
        ("instance.cancelled", ADMIN.name, clock.now, None),
        ("task.cancelled", ADMIN.name, clock.now, "screen"),
    ]
    assert all(r.ticket_id == ticket.ticket_id for r in audit_rows(engine)[deployed:])


def test_completed_task_row_holds_data_before_and_after(engine):
    ticket = receive(engine)
    do(engine, ticket.instance_id, "verify", VALID)
    row = next(r for r in audit_rows(engine) if r.event == "task.completed")
    assert row.data["after"]["is_valid"] is True
    assert row.data["before"]["is_valid"] is None


def test_chain_recomputes_over_a_mixed_run(engine):
    for number in range(3):
        ticket = receive(engine, f"CH-{number}")
        to_handling(engine, ticket.instance_id)
        finish(engine, ticket.instance_id)
    engine.deploy((workflows_dir() / "ticket.bpmn").read_bytes(), "ticket.bpmn", ADMIN)
    prev = GENESIS_HASH
    rows = audit_rows(engine)
    # deployments; per ticket: intake, start, 8 opened, 8 completed, end
    assert len(rows) == len(list(workflows_dir().glob("*.bpmn"))) + 3 * 19
    for row in rows:
        assert row.prev_hash == prev
        assert row.hash == row_hash(prev, row.at, row)
        prev = row.hash
