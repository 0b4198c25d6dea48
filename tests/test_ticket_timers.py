"""The ticket's own timers: sign-for urge, handling reminder and escalation, extensions, callback follow-up.

The clock starts on Friday 20 November 2026, 09:00 Beijing time; the SLA level is 7 working days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from engine.factory import workflows_dir
from engine.models import Timer
from engine.rules import RuleEntry, Rules
from engine.service import Engine
from engine.workdays import LOCAL_TZ
from tests.conftest import ADMIN
from tests.helpers import (
    APPROVE,
    DISPATCH,
    EXTEND,
    REGISTER,
    REPLY,
    SCREEN_OK,
    VALID,
    audit_rows,
    do,
    finish,
    fire_all,
    notices,
    open_steps,
    open_task,
    receive,
    to_handling,
)

LEAD = DISPATCH["lead_unit"]
SIGN_FOR_DUE = datetime(2026, 11, 24, tzinfo=LOCAL_TZ)  # end of Monday 23rd, the next working day
SLA_DEADLINE = datetime(2026, 12, 2, tzinfo=LOCAL_TZ)  # end of the 7th working day, Tuesday 1 December


def dispatched(engine: Engine) -> int:
    ticket = receive(engine)
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH)):
        do(engine, ticket.instance_id, step, data)
    return ticket.instance_id


def timer_rows(engine: Engine, instance_id: int) -> dict[str, datetime]:
    with engine.db.read() as session:
        return {t.bpmn_id: t.due_at for t in session.scalars(select(Timer).where(Timer.instance_id == instance_id))}


def test_missed_sign_for_deadline_urges_the_unit_and_its_leader(engine, clock):
    instance_id = dispatched(engine)
    assert open_task(engine, instance_id, "sign_for").due_at == SIGN_FOR_DUE
    clock.now = SIGN_FOR_DUE.astimezone(UTC) - timedelta(seconds=1)
    assert fire_all(engine) == 0 and notices(engine) == []
    clock.now = SIGN_FOR_DUE.astimezone(UTC)
    assert fire_all(engine) == 1
    [urge] = notices(engine, "urge")
    assert urge.recipients == [LEAD, f"{LEAD}负责人"] and "T-0001" in urge.text
    assert open_steps(engine, instance_id) == ["sign_for"]  # the urge does not take the task away
    events = [r.event for r in audit_rows(engine)]
    assert events[-2:] == ["timer.fired", "notice.sent"]


def test_handling_deadline_reminds_then_escalates_and_the_task_shows_it(engine, clock):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    assert open_task(engine, ticket.instance_id, "handle").due_at == SLA_DEADLINE
    timers = timer_rows(engine, ticket.instance_id)
    assert timers["handle_overdue"] == SLA_DEADLINE
    started = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    assert timers["handle_reminder"] == started + (SLA_DEADLINE - started) * 0.75

    clock.now = timers["handle_reminder"]
    assert fire_all(engine) == 1
    assert [n.recipients for n in notices(engine, "reminder")] == [[LEAD]]
    clock.now = SLA_DEADLINE.astimezone(UTC)
    assert fire_all(engine) == 1
    [escalation] = notices(engine, "escalation")
    assert escalation.recipients == ["值班员", f"{LEAD}负责人"]
    assert open_steps(engine, ticket.instance_id) == ["handle"]
    finish(engine, ticket.instance_id)
    assert timer_rows(engine, ticket.instance_id) == {}


def test_approved_extension_moves_the_deadline_by_working_days(engine, clock):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", EXTEND)  # 2 working days
    do(engine, ticket.instance_id, "approve_extension", {"extension_approved": True})
    extended = datetime(2026, 12, 4, tzinfo=LOCAL_TZ)  # end of Thursday 3 December
    assert open_task(engine, ticket.instance_id, "handle").due_at == extended
    assert timer_rows(engine, ticket.instance_id)["handle_overdue"] == extended
    clock.now = SLA_DEADLINE.astimezone(UTC)
    fire_all(engine)
    assert notices(engine, "escalation") == []  # the old deadline no longer counts


def test_callback_not_done_in_time_prompts_a_follow_up(engine, clock, db):
    ticket = receive(engine)
    to_handling(engine, ticket.instance_id)
    do(engine, ticket.instance_id, "handle", REPLY)
    do(engine, ticket.instance_id, "review", APPROVE)
    clock.now = datetime(2026, 11, 25, tzinfo=LOCAL_TZ).astimezone(UTC)  # 2 working days: Mon 23rd, Tue 24th
    restarted = Engine(db, clock=clock)
    assert fire_all(restarted) == 1
    [follow_up] = notices(restarted, "follow_up")
    assert follow_up.recipients == ["受理员"]
    assert open_steps(restarted, ticket.instance_id) == ["feedback"]


def test_sla_clock_can_start_at_sign_for(db, clock):
    rules = Rules([*Rules.load().entries, RuleEntry(date(2020, 1, 2), {"sla_clock_starts_at": "sign_for"})])
    engine = Engine(db, rules=rules, clock=clock)
    engine.deploy_dir(workflows_dir(), ADMIN)
    instance_id = dispatched(engine)
    clock.now = datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_TZ).astimezone(UTC)  # signed on Monday
    do(engine, instance_id, "sign_for", {"accepted": True})
    do(engine, instance_id, "register", REGISTER)
    assert open_task(engine, instance_id, "handle").due_at == datetime(2026, 12, 3, tzinfo=LOCAL_TZ)
