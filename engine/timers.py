"""Due-timer rows: kept equal to the timers a workflow waits on, and claimed by schedulers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from engine.models import Timer
from engine.prepared import Prepared

_T = Timer.__table__
_DELETE = Prepared(delete(_T).where(_T.c.instance_id == bindparam("b_instance"), _T.c.task_id == bindparam("b_task")))
_MOVE = Prepared(update(_T).where(_T.c.instance_id == bindparam("b_instance"), _T.c.task_id == bindparam("b_task"))
         .values(due_at=bindparam("b_due")))
_ADD = Prepared(insert(_T).values(instance_id=bindparam("b_instance"), task_id=bindparam("b_task"),
                                  bpmn_id=bindparam("b_bpmn"), due_at=bindparam("b_due")))
# Oldest due first; on PostgreSQL a row another worker holds is skipped, not waited for.
_CLAIM = (select(_T.c.id, _T.c.instance_id, _T.c.task_id, _T.c.bpmn_id, _T.c.due_at)
          .where(_T.c.due_at <= bindparam("b_now")).order_by(_T.c.due_at).limit(bindparam("b_limit"))
          .with_for_update(skip_locked=True))
_NEXT_DUE = select(func.min(_T.c.due_at))
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


@dataclass(frozen=True)
class DueTimer:
    id: int
    instance_id: int
    task_id: str
    bpmn_id: str
    due_at: datetime


def sync(conn: Connection, instance_id: int, before: dict[str, tuple[str, datetime]],
         after: dict[str, tuple[str, datetime]]) -> None:
    """Make the instance's rows follow its waiting timers: fired or ended ones go, new ones come.

    The rows equal the timers the workflow waited on before the command (every command syncs them),
    so comparing the two workflows needs no query. A row postponed after a failure keeps its retry
    time while its timer waits on unchanged.
    """
    gone = [{"b_instance": instance_id, "b_task": task_id} for task_id in before if task_id not in after]
    moved = [{"b_instance": instance_id, "b_task": task_id, "b_due": due}
             for task_id, (_, due) in after.items() if task_id in before and before[task_id][1] != due]
    new = [{"b_instance": instance_id, "b_task": task_id, "b_bpmn": bpmn_id, "b_due": due}
           for task_id, (bpmn_id, due) in after.items() if task_id not in before]
    for statement, rows in ((_DELETE, gone), (_MOVE, moved), (_ADD, new)):
        statement.executemany(conn, rows)


def claim_due(conn: Connection, now: datetime, limit: int = 1) -> list[DueTimer]:
    """Lock up to `limit` of the oldest due timers for this transaction (none when nothing is due).

    On PostgreSQL the transaction that fires them commits without waiting for the WAL flush: a crash
    can then lose only whole firing transactions, and a lost one leaves its timers due, so they
    simply fire again. That keeps the audit-chain lock short when many timers fall due at once.
    """
    rows = conn.execute(_CLAIM, {"b_now": now, "b_limit": limit}).all()
    if rows and conn.dialect.name == "postgresql":
        conn.execute(_ASYNC_COMMIT)
    return [DueTimer(*row) for row in rows]


def next_due(conn: Connection) -> datetime | None:
    return conn.scalar(_NEXT_DUE)


def postpone(conn: Connection, timer_id: int, until: datetime) -> None:
    conn.execute(update(_T).where(_T.c.id == timer_id).values(due_at=until))
