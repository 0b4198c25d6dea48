"""The monthly assessment retrospective: started once per month, due in 3 working days, escalated when late."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.errors import InvalidData
from engine.models import Timer
from engine.privacy import Actor
from engine.workdays import LOCAL_TZ
from tests.helpers import do, fire_all, instance_row, notices, open_steps, open_task, snapshot

ANALYST = Actor("分析员孙", frozenset({"analyst"}))
OWNER = Actor("流程管理员周", frozenset({"process_owner"}))
DEADLINE = datetime(2026, 11, 26, tzinfo=LOCAL_TZ)  # recorded Friday 20th: Mon 23rd, Tue 24th, Wed 25th


def test_recording_the_assessment_starts_one_retrospective_with_its_deadline(engine):
    started = engine.record_assessment("2026-11", ANALYST)
    assert engine.record_assessment("2026-11", ANALYST) is None
    task = open_task(engine, started.instance_id, "analysis")
    assert (task.role, task.due_at) == ("analyst", DEADLINE)
    with engine.db.read() as session:
        assert session.scalar(select(Timer.due_at).where(Timer.instance_id == started.instance_id)) == DEADLINE


def test_late_retrospective_is_escalated_to_the_leader_and_can_still_finish(engine, clock):
    started = engine.record_assessment("2026-11", ANALYST)
    analysis = {"lost_points": "满意率下降，集中在供暖类", "weak_categories": ["供暖"]}
    do(engine, started.instance_id, "analysis", analysis, ANALYST)
    clock.now = DEADLINE.astimezone(UTC)
    assert fire_all(engine) == 1
    [escalation] = notices(engine, "escalation")
    assert escalation.recipients == ["分管领导"] and "2026-11" in escalation.text
    assert open_steps(engine, started.instance_id) == ["meeting"]
    do(engine, started.instance_id, "meeting", {"meeting_date": "2026-11-26", "participants": ["王", "李"],
                                                "conclusions": "供暖类工单先联系再上门"}, OWNER)
    do(engine, started.instance_id, "actions", {"actions": "供暖工单2小时内首次联系", "owners": ["城南街道供暖办"],
                                                "due_date": "2026-12-10"}, OWNER)
    assert instance_row(engine, started.instance_id).end_event == "end_done"
    with engine.db.read() as session:
        assert session.scalars(select(Timer)).all() == []


def test_badly_written_month_is_refused_and_changes_nothing(engine):
    before = snapshot(engine)
    with pytest.raises(InvalidData, match="YYYY-MM"):
        engine.record_assessment("2026-13", ANALYST)
    assert snapshot(engine) == before
