"""Recurring work: period keys, once per period whatever runs it, and the spot-check sample."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from docx import Document
from sqlalchemy import func, select

from engine import recurring
from engine.analysis.filing import reports_dir
from engine.db import Database
from engine.factory import workflows_dir
from engine.models import Instance, RecurringRun
from engine.rules import RuleEntry, Rules
from engine.service import Engine
from engine.workdays import LOCAL_TZ
from tests.conftest import ADMIN
from tests.helpers import finish, open_task, receive, stored_workflow, to_handling


@pytest.mark.parametrize(("kind", "day", "covers", "expected"), [
    ("week", date(2026, 11, 20), "previous", ("2026-W46", date(2026, 11, 9), date(2026, 11, 16))),
    ("month", date(2026, 11, 20), "previous", ("2026-10", date(2026, 10, 1), date(2026, 11, 1))),
    ("month", date(2027, 1, 1), "previous", ("2026-12", date(2026, 12, 1), date(2027, 1, 1))),
    ("month", date(2026, 11, 1), "current", ("2026-11", date(2026, 11, 1), date(2026, 12, 1))),
    ("quarter", date(2027, 1, 1), "previous", ("2026-Q4", date(2026, 10, 1), date(2027, 1, 1))),
    ("quarter", date(2026, 11, 20), "previous", ("2026-Q3", date(2026, 7, 1), date(2026, 10, 1))),
    ("year", date(2027, 1, 1), "previous", ("2026", date(2026, 1, 1), date(2027, 1, 1))),
])
def test_period_a_run_belongs_to(kind, day, covers, expected):
    assert recurring.period(kind, day, covers) == expected


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="无法识别的周期"):
        recurring.period("fortnight", date(2026, 11, 20))


def recurring_instances(engine: Engine) -> int:
    with engine.db.read() as session:
        return session.scalar(select(func.count()).select_from(RecurringRun)
                              .where(RecurringRun.instance_id.is_not(None)))


def test_job_run_twice_for_one_period_creates_its_work_once(engine, clock):
    first = recurring.run_job(engine, "weekly_report")
    assert recurring.run_job(engine, "weekly_report") is None
    task = open_task(engine, first.instance_id, "write_report")
    assert task.role == "analyst" and task.due_at == datetime(2026, 11, 25, tzinfo=LOCAL_TZ)  # 2 working days
    data = stored_workflow(engine, first.instance_id).last_task.data
    assert data["title"] == "周报（2026-W46）"
    draft = reports_dir() / data["report_file"]  # the analysts start from a filed draft
    assert any("周报" in p.text for p in Document(str(draft)).paragraphs)
    clock.advance(days=7)
    assert recurring.run_job(engine, "weekly_report") is not None  # next week is a new period
    assert recurring_instances(engine) == 2


def test_two_nodes_running_the_same_job_create_it_once(engine, clock, database_url):
    nodes = [Engine(Database(database_url), clock=clock) for _ in range(4)]
    together = threading.Barrier(len(nodes))
    results = []

    def run(node: Engine) -> None:
        together.wait()
        results.append(recurring.run_job(node, "monthly_training"))

    threads = [threading.Thread(target=run, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for node in nodes:
        node.db.dispose()
    assert sum(result is not None for result in results) == 1
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 1


def test_spot_check_samples_the_configured_share_of_last_weeks_closed_tickets(db, clock):
    rules = Rules([*Rules.load().entries, RuleEntry(date(2020, 1, 2), {"spot_check_share": 0.5})])
    engine = Engine(db, rules=rules, clock=clock)
    engine.deploy_dir(workflows_dir(), ADMIN)
    closed_at = {"LAST-1": (2026, 11, 10), "LAST-2": (2026, 11, 11), "LAST-3": (2026, 11, 15),
                 "LAST-4": (2026, 11, 15), "THIS-1": (2026, 11, 17)}
    for ticket_no, day in closed_at.items():
        clock.now = datetime(*day, 10, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
        ticket = receive(engine, ticket_no, received_at=clock.now.isoformat())
        to_handling(engine, ticket.instance_id)
        finish(engine, ticket.instance_id)
    receive(engine, "LAST-OPEN", received_at=clock.now.isoformat())
    clock.now = datetime(2026, 11, 16, 9, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    result = recurring.run_job(engine, "weekly_spot_check")
    sample = stored_workflow(engine, result.instance_id).last_task.data["sample"]
    assert len(sample) == 2 and set(sample) <= {"LAST-1", "LAST-2", "LAST-3", "LAST-4"}
    assert open_task(engine, result.instance_id, "spot_check").role == "process_owner"
    again = recurring.sample_closed(engine, date(2026, 11, 9), date(2026, 11, 16), 0.5, "weekly_spot_check:2026-W46")
    assert again == sample  # reproducible: a reviewer can tell how the sample was drawn
