"""APScheduler wiring: fire due timers as they fall due, send the alert outbox, run recurring work.

`start(engine)` runs it in the background of the calling process (what `jiesu serve` does);
`run(engine)` blocks (what `jiesu worker` does). Any number of processes may run it against one
database: timers are claimed with SKIP LOCKED, a batch per transaction, recurring work is unique per period.
Nothing is loaded at start, so start-up costs the same whatever the number of pending timers, and
the first run, at once, fires whatever fell due while no scheduler ran.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from engine import recurring, timers
from engine.service import Engine
from engine.workdays import LOCAL_TZ

log = logging.getLogger(__name__)
FIRE_JOB = "fire_timers"
ALERTS_JOB = "deliver_alerts"
RECURRING_PREFIX = "recurring:"
# Never re-poll sooner than this: a due row another worker holds must not make us spin.
_MIN_WAKE = timedelta(milliseconds=20)


def fire_due(engine: Engine, batch: int | None = None) -> int:
    """Fire every timer due now, `batch` firings per transaction (the rules' scheduler_fire_batch); the number fired."""
    batch = batch or engine.rules.at(engine.clock().date())["scheduler_fire_batch"]
    fired = 0
    while True:
        result = engine.fire_due_timers(batch)
        for message in result.failed:
            log.error("timer failed and was postponed: %s", message)
        fired += result.fired
        # Fewer than a batch means nothing else is due; a batch of conflicts only waits for the next poll.
        if result.claimed < batch or not (result.fired or result.failed):
            return fired


def _fire_and_wake(engine: Engine, scheduler: BaseScheduler, poll: timedelta, threads: int) -> None:
    """Fire what is due (`threads` firing loops at once), then wake when the next timer falls due."""
    if threads == 1:
        fire_due(engine)
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="jiesu-fire") as pool:
            list(pool.map(fire_due, [engine] * threads))
    with engine.db.engine.connect() as conn:
        following = timers.next_due(conn)
    if following is None:
        return
    wait = max(following - engine.clock(), _MIN_WAKE)
    if wait < poll:
        scheduler.modify_job(FIRE_JOB, next_run_time=datetime.now(UTC) + wait)


def _run_recurring(engine: Engine, name: str) -> None:
    result = recurring.run_job(engine, name)
    log.info("recurring job %s: %s", name, f"started instance {result.instance_id}" if result else "already done")


def _deliver_alerts(engine: Engine) -> None:
    result = engine.escalations.deliver_alerts()
    if result.sent or result.failed:
        log.info("alerts: %d sent, %d failed (retried later)", result.sent, result.failed)


def configure(scheduler: BaseScheduler, engine: Engine) -> BaseScheduler:
    """Add the timer job, the alert outbox job and one cron job per recurring job; all run once at start.

    Running recurring jobs at start catches up on a period whose run was missed while nothing ran;
    when the period already has its work, the run does nothing.
    """
    values = engine.rules.at(engine.clock().date())
    poll = timedelta(seconds=values["scheduler_poll_seconds"])
    now = datetime.now(UTC)
    # SQLite has one writer, and a round holds it from claim to commit: more firing threads would only
    # take turns at it and contend for the interpreter lock. PostgreSQL rounds run side by side.
    threads = 1 if engine.db.is_sqlite else values["scheduler_fire_threads"]
    scheduler.add_job(_fire_and_wake, "interval", args=(engine, scheduler, poll, threads), id=FIRE_JOB,
                      seconds=poll.total_seconds(), next_run_time=now, max_instances=1,
                      coalesce=True, misfire_grace_time=None)
    scheduler.add_job(_deliver_alerts, "interval", args=(engine,), id=ALERTS_JOB,
                      seconds=values["alerts"]["poll_seconds"], next_run_time=now, max_instances=1, coalesce=True,
                      misfire_grace_time=None)
    for name, job in values["recurring_jobs"].items():
        scheduler.add_job(_run_recurring, CronTrigger(timezone=LOCAL_TZ, **job["cron"]), args=(engine, name),
                          id=f"{RECURRING_PREFIX}{name}", next_run_time=now, max_instances=1, coalesce=True,
                          misfire_grace_time=None)
    return scheduler


def start(engine: Engine) -> BackgroundScheduler:
    """Run the scheduler in background threads of this process; call `.shutdown()` to stop it."""
    scheduler = configure(BackgroundScheduler(timezone=UTC), engine)
    scheduler.start()
    return scheduler


def run(engine: Engine) -> None:
    """Run the scheduler in this thread until the process is interrupted."""
    configure(BlockingScheduler(timezone=UTC), engine).start()
