"""Every BPMN timer kind stored as a row, fired by the engine clock, and removed when it ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import WorkflowFailed
from engine.models import TaskRecord, Timer
from engine.scheduler import fire_due
from engine.service import Engine
from tests.conftest import ADMIN, DATA
from tests.helpers import audit_rows, fire_all, instance_row, notices, snapshot


def deploy(engine: Engine, name: str) -> None:
    engine.deploy((DATA / f"{name}.bpmn").read_bytes(), f"{name}.bpmn", ADMIN)


def timer_rows(engine: Engine) -> dict[str, object]:
    with engine.db.read() as session:
        return {t.bpmn_id: t.due_at for t in session.scalars(select(Timer))}


@pytest.fixture
def kinds(engine, clock):
    """A timer_kinds instance whose deadline is 3 hours after it was started."""
    deploy(engine, "timer_kinds")
    started = clock.now
    result = engine.start_process("timer_kinds", {"deadline": (started + timedelta(hours=3)).isoformat()}, ADMIN)
    return result.instance_id, started


def test_timer_start_waits_then_opens_the_task_with_its_deadline(engine, clock, kinds):
    instance_id, started = kinds
    assert timer_rows(engine) == {"start": started + timedelta(hours=1)}
    clock.advance(minutes=59, seconds=59)
    assert engine.fire_due_timer() is None
    clock.advance(seconds=1)
    assert engine.fire_due_timer() is not None
    assert timer_rows(engine) == {"nag": started + timedelta(hours=1, minutes=30),
                                  "give_up": started + timedelta(hours=3)}
    with engine.db.read() as session:
        task = session.scalar(select(TaskRecord).where(TaskRecord.bpmn_id == "work"))
    assert task.due_at == started + timedelta(hours=3)
    fired = [r for r in audit_rows(engine) if r.event == "timer.fired"]
    assert [(r.data["step"], r.instance_id) for r in fired] == [("start", instance_id)]


def test_cycle_repeats_its_count_then_interrupting_deadline_ends_the_task(engine, clock, db, kinds):
    instance_id, started = kinds
    clock.advance(hours=1)
    fire_all(engine)
    restarted = Engine(db, clock=clock)  # a new process on the same database
    for minutes in (30, 60):
        clock.now = started + timedelta(hours=1, minutes=minutes)
        assert fire_all(restarted) == 1
        assert len(notices(restarted)) == minutes // 30
    assert set(timer_rows(restarted)) == {"give_up"}  # R2: two reminders and no more
    clock.now = started + timedelta(hours=3)
    assert fire_all(restarted) == 1
    assert instance_row(restarted, instance_id).end_event == "end_expired"
    assert timer_rows(restarted) == {}
    with restarted.db.read() as session:
        assert session.scalar(select(TaskRecord.state).where(TaskRecord.bpmn_id == "work")) == "cancelled"


def test_completing_the_task_removes_its_boundary_timers_and_arms_the_catch_event(engine, clock, kinds):
    instance_id, _ = kinds
    clock.advance(hours=1)
    fire_all(engine)
    with engine.db.read() as session:
        task_id = session.scalar(select(TaskRecord.id).where(TaskRecord.bpmn_id == "work"))
    engine.complete_task(task_id, {"is_valid": True, "contact_verified": True}, ADMIN)
    assert timer_rows(engine) == {"pause": clock.now + timedelta(hours=2)}
    clock.advance(hours=2)
    restarted = Engine(engine.db, clock=clock)
    assert fire_all(restarted) == 1
    assert instance_row(restarted, instance_id).end_event == "end_done"
    assert timer_rows(restarted) == {} and notices(restarted) == []


def test_timers_missed_while_down_all_fire_in_order_on_the_next_run(engine, clock, kinds):
    instance_id, _ = kinds
    clock.advance(hours=5)  # start timer, both cycles and the deadline all passed meanwhile
    fire_all(engine)
    fired = [r.data["step"] for r in audit_rows(engine) if r.event == "timer.fired"]
    assert fired[0] == "start" and instance_row(engine, instance_id).end_event == "end_expired"
    assert timer_rows(engine) == {}


def test_cancel_removes_pending_timers(engine, clock, kinds):
    instance_id, _ = kinds
    engine.cancel(instance_id, "不再需要", ADMIN)
    assert timer_rows(engine) == {}


def test_unreadable_timer_value_is_refused_and_changes_nothing(engine, clock):
    deploy(engine, "one_timer")
    before = snapshot(engine)
    with pytest.raises(WorkflowFailed, match="定时器的值"):
        engine.start_process("one_timer", {"due": "下周一"}, ADMIN)
    assert snapshot(engine) == before


def test_timer_whose_step_fails_is_postponed_and_does_not_block_the_others(engine, clock):
    deploy(engine, "one_timer")
    due = clock.now + timedelta(hours=1)
    broken = engine.start_process("one_timer", {"due": due.isoformat(), "total": 10, "parts": 0}, ADMIN)
    fine = engine.start_process("one_timer", {"due": (due + timedelta(seconds=1)).isoformat(), "total": 10,
                                              "parts": 2}, ADMIN)
    clock.advance(hours=2)
    assert fire_due(engine) == 1
    assert instance_row(engine, fine.instance_id).status == "completed"
    assert instance_row(engine, broken.instance_id).version == 1  # nothing of the failed step was written
    assert timer_rows(engine) == {"wait": clock.now + timedelta(minutes=10)}
    failed = [r for r in audit_rows(engine) if r.event == "timer.failed"]
    assert len(failed) == 1 and "流程执行出错" in failed[0].data["error"]



def test_date_without_a_zone_is_beijing_time(engine, clock):
    deploy(engine, "one_timer")
    engine.start_process("one_timer", {"due": "2026-11-20T12:00:00", "total": 1, "parts": 1}, ADMIN)
    assert timer_rows(engine) == {"wait": datetime(2026, 11, 20, 4, 0, tzinfo=UTC)}


def test_a_round_fires_at_most_its_limit_in_one_transaction_and_the_next_round_the_rest(engine, clock):
    deploy(engine, "one_timer")
    due = clock.now + timedelta(hours=1)
    started = [engine.start_process("one_timer", {"due": due.isoformat(), "total": 10, "parts": 2}, ADMIN)
               for _ in range(3)]
    clock.advance(hours=2)
    first = engine.fire_due_timers(2)
    assert (first.claimed, first.fired, first.failed) == (2, 2, [])
    assert len(timer_rows(engine)) == 1
    second = engine.fire_due_timers(2)
    assert (second.claimed, second.fired) == (1, 1)
    assert [instance_row(engine, s.instance_id).status for s in started] == ["completed"] * 3
    fired = [r.instance_id for r in audit_rows(engine) if r.event == "timer.fired"]
    assert sorted(fired) == sorted(s.instance_id for s in started)


def test_timer_ended_by_an_earlier_firing_of_the_same_round_is_skipped(engine, clock):
    """The deadline and the first reminder fall due together: the deadline ends the task, and with it
    the reminder, so the round writes the instance once and leaves no timer row behind."""
    deploy(engine, "timer_kinds")
    started = clock.now
    result = engine.start_process("timer_kinds", {"deadline": (started + timedelta(hours=1, minutes=30)).isoformat()},
                                  ADMIN)
    clock.advance(hours=1)
    assert engine.fire_due_timers(10).fired == 1  # the timer start
    clock.advance(minutes=30)
    assert timer_rows(engine) == {"nag": clock.now, "give_up": clock.now}
    version = instance_row(engine, result.instance_id).version
    round_ = engine.fire_due_timers(10)
    assert (round_.claimed, round_.fired, round_.failed) == (2, 1, [])
    assert timer_rows(engine) == {}
    row = instance_row(engine, result.instance_id)
    assert (row.status, row.end_event, row.version) == ("completed", "end_expired", version + 1)
    assert len([r for r in audit_rows(engine) if r.event == "timer.fired"]) == 2
