"""Timer firing lag and scheduler start-up with many pending timers.

    python bench/timers.py [--pending 100000] [--due 1000] [--database-url URL] [--fire-threads N] [--workers N]

--database-url must name a scratch database: the benchmark drops its tables first.

Pending timers are real instances of tests/data/one_timer.bpmn waiting on their timer: one is
started through the engine and its stored state cloned row by row (starting 100,000 through the
engine would only measure intake). The scheduler runs for real (APScheduler, system clock).
Lag is when each timer's row was gone (its firing command committed) minus its due time.

By default the scheduler runs in a thread of this process, as in `jiesu serve`; --workers N has N
separate `jiesu worker` processes fire them instead (several only pay on PostgreSQL). Either way a
separate process watches the table, so that the measuring does not compete with the measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, insert, select, text
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import scheduler
from engine.db import Database
from engine.models import Base, Instance, Timer
from engine.privacy import Actor
from engine.rules import Rules
from engine.service import Engine
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parent.parent
ACTOR = Actor("bench", frozenset({"admin"}))
BATCH = 5000


def clone(engine: Engine, due: datetime, count: int, desc: str) -> None:
    """`count` more instances waiting on a timer due at `due`, cloned from one started by the engine."""
    template = engine.start_process("one_timer", {"due": due.isoformat(), "total": 1, "parts": 1}, ACTOR)
    with engine.db.engine.connect() as conn:
        instance = conn.execute(select(Instance.__table__).where(Instance.id == template.instance_id)).one()
        timer = conn.execute(select(Timer.__table__).where(Timer.instance_id == template.instance_id)).one()
    row = {k: v for k, v in instance._mapping.items() if k != "id"}
    with tqdm(total=count - 1, desc=desc, unit="timer") as bar:
        for start in range(0, count - 1, BATCH):
            size = min(BATCH, count - 1 - start)
            with engine.db.transaction() as conn:
                ids = conn.scalars(insert(Instance.__table__).returning(Instance.id, sort_by_parameter_order=True),
                                   [row] * size).all()
                conn.execute(insert(Timer.__table__), [
                    {"instance_id": i, "task_id": timer.task_id, "bpmn_id": timer.bpmn_id, "due_at": timer.due_at}
                    for i in ids])
            bar.update(size)


def measure_startup(engine: Engine) -> tuple[float, float]:
    """Seconds until start() returns, and until the first poll (which fires missed timers) is done."""
    done = threading.Event()
    began = time.perf_counter()
    background = scheduler.configure(BackgroundScheduler(timezone=UTC), engine)  # what start() does
    background.add_listener(lambda _e: done.set(), EVENT_JOB_EXECUTED)
    background.start()
    returned = time.perf_counter() - began
    done.wait(60)
    first_poll = time.perf_counter() - began
    background.shutdown()
    return returned, first_poll


def scratch(db: Database) -> None:
    """An empty schema: --database-url must name a scratch database, whose tables are dropped."""
    with db.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.migrate()


def pending(engine: Engine) -> int:
    with engine.db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Timer))


def watch_apart(url: str, due: datetime, count: int) -> list[float]:
    """`watch` in a process of its own: polling from a thread of the scheduler's own process would
    take the interpreter lock from the firing thread every few milliseconds and slow what it measures."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(watch, url, due, count).result()


def watch(url: str, due: datetime, count: int) -> list[float]:
    """When each of the `count` timers due at `due` was fired, seen as its row going (5 ms resolution)."""
    fired_at: list[float] = []
    query = select(func.count()).select_from(Timer).where(Timer.due_at <= due)
    db = Database(url)
    with db.engine.connect() as conn, tqdm(total=count, desc="firing", unit="timer") as bar:
        while len(fired_at) < count:
            left = conn.scalar(query)
            conn.rollback()  # a fresh snapshot each time
            fired_at += [time.time()] * (count - left - len(fired_at))
            bar.update(len(fired_at) - bar.n)
            time.sleep(0.005)  # the benchmark watches the scheduler; tests never sleep
    db.dispose()
    return fired_at


def spawn_workers(count: int, url: str, rules_file: Path | None) -> list[subprocess.Popen]:
    env = {**os.environ, "JIESU_DATABASE_URL": url}
    if rules_file:
        env["JIESU_RULES_FILE"] = str(rules_file)
    command = [sys.executable, "-c", "from api.cli import main; main()", "worker"]
    return [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(count)]


def stop(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGINT)
    for worker in workers:
        worker.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--fire-threads", type=int, default=None, help="override scheduler_fire_threads")
    parser.add_argument("--workers", type=int, default=0,
                        help="`jiesu worker` processes that fire; 0: a scheduler thread in this process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rules_file = None
        if args.fire_threads:
            rules_file = Path(folder) / "rules.json"
            rules_file.write_text(json.dumps([{"effective": date.today().isoformat(),
                                               "values": {"scheduler_fire_threads": args.fire_threads}}]))
        rules = Rules.load(rules_file)
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        db = Database(url)
        scratch(db)
        engine = Engine(db, rules=rules)
        engine.deploy((DATA / "one_timer.bpmn").read_bytes(), "one_timer.bpmn", ACTOR)
        far = datetime.now(UTC) + timedelta(days=30)

        clone(engine, far, args.due, "pending (small)")
        small = pending(engine), *measure_startup(engine)
        clone(engine, far, args.pending - 2 * args.due, "pending (large)")
        large_count = pending(engine)

        due = datetime.now(UTC) + timedelta(seconds=10 if args.workers else 5)
        clone(engine, due, args.due, "due at once")
        large = large_count + args.due, *measure_startup(engine)

        workers = spawn_workers(args.workers, url, rules_file)
        background = None if workers else scheduler.start(engine)
        fired_at = watch_apart(url, due, args.due)
        stop(workers) if workers else background.shutdown()
        lags = sorted(at - due.timestamp() for at in fired_at)
        db.dispose()
    print(f"start-up with {small[0]:>7,} pending timers: start() {small[1] * 1000:.1f} ms, "
          f"first poll done {small[2] * 1000:.1f} ms")
    print(f"start-up with {large[0]:>7,} pending timers: start() {large[1] * 1000:.1f} ms, "
          f"first poll done {large[2] * 1000:.1f} ms")
    print(f"backend {db.engine.dialect.name}, {args.workers or 1} scheduler process(es), "
          f"{1 if db.is_sqlite else rules.at(date.today())['scheduler_fire_threads']} firing threads each, "
          f"{rules.at(date.today())['scheduler_fire_batch']} firings per transaction")
    print(f"{args.due} timers due at once among {large[0]:,} pending: lag p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p99 {lags[int(len(lags) * 0.99) - 1] * 1000:.0f} ms, first {lags[0] * 1000:.0f} ms, "
          f"max {lags[-1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
