"""Audit trail at scale: query times and chain verification speed over millions of rows.

    python bench/audit.py [--rows 5000000] [--url URL] [--keep]

Builds a trail of --rows rows with real chain hashes (bulk insert, indexes built afterwards, as the
model declares them), then measures through the engine's own functions:
  - a ticket's history (all its rows) and an actor's actions in one day (Beijing day), each over
    --queries random picks: median, 95th percentile and worst, in milliseconds (target: under 50 ms);
  - appending one audit row in its own transaction on the full table (what every command pays);
  - verifying the whole chain, in rows per second.
Default database: a SQLite file in a temporary folder (removed unless --keep). --url takes any
SQLAlchemy URL of an empty database (PostgreSQL works; generation is slower there).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, insert
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import audit
from engine.audit import GENESIS_HASH, AuditEntry
from engine.audit_query import AuditFilter, fetch_page
from engine.audit_verify import verify_chain
from engine.db import Database
from engine.localtime import STAFF_TZ
from engine.models import AuditEvent

START = datetime(2025, 11, 1, tzinfo=UTC)
DAYS = 365
ACTORS = [f"员工{n:03d}" for n in range(200)] + ["system"]
EVENTS = [("task.opened", 6), ("task.completed", 6), ("task.claimed", 2), ("personal_data.read", 2),
          ("ticket.received", 1), ("instance.started", 1), ("instance.completed", 1), ("timer.fired", 1)]
STEPS = [("verify", "核实", "intake"), ("screen", "甄别", "intake"), ("dispatch", "派单", "dispatcher"),
         ("handle", "办理", "unit"), ("review", "审核", "intake")]
ROWS_PER_TICKET = 20
OPEN_TICKETS = 3000  # tickets in progress at once: a ticket's rows spread over this many others'
_TABLE = AuditEvent.__table__


def generate(rng: random.Random, rows: int) -> Iterator[dict]:
    """Rows in time order over DAYS days, chained exactly as audit.append chains them."""
    step = timedelta(days=DAYS) / rows
    names, weights = zip(*EVENTS, strict=True)
    prev = GENESIS_HASH
    for i in range(rows):
        ticket = i // ROWS_PER_TICKET + rng.randrange(OPEN_TICKETS) + 1
        name, title, role = rng.choice(STEPS)
        entry = AuditEntry(rng.choices(names, weights)[0], rng.choice(ACTORS), ticket, ticket,
                           str(uuid.UUID(int=rng.getrandbits(128))), {"step": name, "title": title, "role": role})
        at = START + step * i
        digest = audit.row_hash(prev, at, entry)
        yield {"at": at, "actor": entry.actor, "event": entry.event, "ticket_id": ticket, "instance_id": ticket,
               "task_id": entry.task_id, "data": entry.data, "prev_hash": prev, "hash": digest}
        prev = digest


def build(db: Database, rows: int, chunk: int = 20000) -> None:
    """Bulk insert without the secondary indexes, then build them: the usual way to load a table."""
    indexes = list(_TABLE.indexes)
    with db.engine.begin() as conn:
        for index in indexes:
            index.drop(conn)
    source = generate(random.Random(6), rows)
    with tqdm(total=rows, desc="生成审计记录（含哈希链）", unit="行") as bar:
        while True:
            batch = [row for _, row in zip(range(chunk), source, strict=False)]
            if not batch:
                break
            with db.engine.begin() as conn:
                conn.execute(insert(_TABLE), batch)
            bar.update(len(batch))
    with db.engine.begin() as conn:
        for index in tqdm(indexes, desc="建索引", unit="个"):
            index.create(conn)
        if db.is_sqlite:
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE audit_events")


def timed(conn: Connection, picks: list, query: Callable[[Connection, object], int], label: str) -> None:
    times, found = [], []
    for pick in tqdm(picks, desc=label, unit="次"):
        started = time.perf_counter()
        found.append(query(conn, pick))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{label}: median={statistics.median(times):.2f} ms p95={p95:.2f} ms max={times[-1]:.2f} ms "
          f"(rows per answer: median {statistics.median(found):.0f})")


def ticket_history(conn: Connection, ticket: int) -> int:
    return len(fetch_page(conn, AuditFilter(ticket_id=ticket), limit=1000, newest_first=False).rows)


def actor_day(conn: Connection, pick: tuple[str, datetime]) -> int:
    actor, day = pick
    flt = AuditFilter(actor=actor, since=day, until=day + timedelta(days=1))
    return len(fetch_page(conn, flt, limit=1000, newest_first=False).rows)


def measure_queries(db: Database, rows: int, count: int) -> None:
    rng = random.Random(7)
    tickets = [rng.randrange(1, rows // ROWS_PER_TICKET) for _ in range(count)]
    first_day = START.astimezone(STAFF_TZ).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    days = [(rng.choice(ACTORS[:-1]), first_day + timedelta(days=rng.randrange(DAYS - 2))) for _ in range(count)]
    with db.engine.connect() as conn:
        timed(conn, tickets, ticket_history, "工单全部记录")
        timed(conn, days, actor_day, "某人一天的操作")


def measure_appends(db: Database, count: int) -> None:
    at = START + timedelta(days=DAYS)
    started = time.perf_counter()
    for n in tqdm(range(count), desc="追加审计记录（每条一个事务）", unit="条"):
        with db.transaction() as conn:
            audit.append(conn, [AuditEntry("task.claimed", "员工001", n + 1, n + 1, None)], at)
    print(f"append: {(time.perf_counter() - started) / count * 1000:.2f} ms per transaction with one row")


def measure_verify(db: Database, rows: int) -> None:
    with db.engine.connect() as conn, tqdm(total=rows, desc="校验审计链", unit="行") as bar:
        started = time.perf_counter()
        report = verify_chain(conn, progress=bar.update)
        elapsed = time.perf_counter() - started
    assert report.ok, report.problem
    print(f"verify: {report.checked} rows in {elapsed:.1f} s = {report.checked / elapsed:,.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--url", default=None, help="An empty database (default: a new SQLite file).")
    parser.add_argument("--keep", action="store_true", help="Keep the SQLite file.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jiesu-audit-bench-"))
    db = Database(args.url or f"sqlite:///{folder / 'audit.sqlite3'}")
    db.migrate()
    build(db, args.rows)
    measure_queries(db, args.rows, args.queries)
    measure_appends(db, args.appends)
    measure_verify(db, args.rows + args.appends)
    db.dispose()
    print(f"database: {db.url}" if args.keep or args.url else "")
    if not args.keep and not args.url:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
