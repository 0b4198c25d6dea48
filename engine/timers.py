"""Due-timer rows: kept equal to the timers a workflow waits on, and claimed by schedulers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text, update

from engine.models import Timer

_T = Timer.__table__
_DELETE = delete(_T).where(_T.c.instance_id == bindparam("b_instance"), _T.c.task_id == bindparam("b_task"))
_MOVE = (update(_T).where(_T.c.instance_id == bindparam("b_instance"), _T.c.task_id == bindparam("b_task"))
         .values(due_at=bindparam("b_due")))
# Oldest due first; on PostgreSQL a row another worker holds is skipped, not waited for.
_CLAIM = (select(_T.c.id, _T.c.instance_id, _T.c.task_id, _T.c.bpmn_id, _T.c.due_at)
          .where(_T.c.due_at <= bindparam("b_now")).order_by(_T.c.due_at).limit(1)
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
    new = [{"instance_id": instance_id, "task_id": task_id, "bpmn_id": bpmn_id, "due_at": due}
           for task_id, (bpmn_id, due) in after.items() if task_id not in before]
    for statement, rows in ((_DELETE, gone), (_MOVE, moved), (insert(_T), new)):
        if rows:
            conn.execute(statement, rows)


def claim_due(conn: Connection, now: datetime) -> DueTimer | None:
    """Lock the oldest due timer for this transaction; None when nothing is due (or all are taken).

    On PostgreSQL the transaction that fires it commits without waiting for the WAL flush: a crash
    can then lose only whole firing transactions, and a lost one leaves its timer row due, so it
    simply fires again. That keeps the audit-chain lock short when many timers fall due at once.
    """
    row = conn.execute(_CLAIM, {"b_now": now}).first()
    if row is None:
        return None
    if conn.dialect.name == "postgresql":
        conn.execute(_ASYNC_COMMIT)
    return DueTimer(*row)


def next_due(conn: Connection) -> datetime | None:
    return conn.scalar(_NEXT_DUE)


def postpone(conn: Connection, timer_id: int, until: datetime) -> None:
    conn.execute(update(_T).where(_T.c.id == timer_id).values(due_at=until))
