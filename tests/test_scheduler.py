"""The real APScheduler fires due timers; concurrent workers fire each timer exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from engine import scheduler
from engine.db import Database
from engine.models import AuditEvent, RecurringRun, Timer
from engine.service import Engine
from tests.conftest import ADMIN, DATA


def start_timers(engine: Engine, count: int, due) -> None:
    engine.deploy((DATA / "one_timer.bpmn").read_bytes(), "one_timer.bpmn", ADMIN)
    for number in range(count):
        engine.start_process("one_timer", {"due": (due + timedelta(seconds=number % 7)).isoformat(),
                                           "total": number, "parts": 1}, ADMIN)


def fired_instances(engine: Engine) -> Counter:
    with engine.db.read() as session:
        return Counter(session.scalars(select(AuditEvent.instance_id).where(AuditEvent.event == "timer.fired")))


def test_scheduler_catches_up_at_start_up_on_timers_and_recurring_work(engine, clock):
    start_timers(engine, 5, clock.now + timedelta(hours=1))
    clock.advance(hours=2)
    background = scheduler.configure(BackgroundScheduler(timezone=UTC), engine)
    jobs = {job.id for job in background.get_jobs()}
    executed: set[str] = set()
    all_ran = threading.Event()

    def ran(event) -> None:
        executed.add(event.job_id)
        if executed == jobs:
            all_ran.set()

    background.add_listener(ran, EVENT_JOB_EXECUTED)
    background.start()
    try:
        assert all_ran.wait(timeout=30)
    finally:
        background.shutdown()
    assert sorted(fired_instances(engine).values()) == [1] * 5
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Timer)) == 0
        recurring_jobs = [job for job in jobs if job.startswith(scheduler.RECURRING_PREFIX)]
        assert session.scalar(select(func.count()).select_from(RecurringRun)) == len(recurring_jobs)


def test_two_workers_fire_each_timer_exactly_once(engine, clock, database_url):
    count = 200 if engine.db.is_sqlite else 2000
    start_timers(engine, count, clock.now + timedelta(minutes=5))
    clock.advance(minutes=10)
    workers = [Engine(Database(database_url), clock=clock) for _ in range(2)]
    together = threading.Barrier(len(workers))
    fired: list[int] = []

    def work(worker: Engine) -> None:
        together.wait()
        fired.append(scheduler.fire_due(worker))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.db.dispose()
    assert sum(fired) == count
    per_instance = fired_instances(engine)
    assert len(per_instance) == count and set(per_instance.values()) == {1}
    with engine.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Timer)) == 0


def test_after_a_run_the_scheduler_wakes_when_the_next_timer_falls_due(engine, clock):
    start_timers(engine, 1, clock.now + timedelta(milliseconds=300))
    background = scheduler.configure(BackgroundScheduler(timezone=UTC), engine)
    job = background.get_job(scheduler.FIRE_JOB)
    before = datetime.now(UTC)
    job.func(*job.args)  # the run at start: nothing is due yet
    wake = background.get_job(scheduler.FIRE_JOB).next_run_time
    assert before + timedelta(milliseconds=250) <= wake <= datetime.now(UTC) + timedelta(milliseconds=300)
