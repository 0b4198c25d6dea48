"""Once-per-period keys: the first transaction to insert (job, period) does the work, others skip it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, update
from sqlalchemy.dialects import postgresql, sqlite

from engine.models import RecurringRun

_T = RecurringRun.__table__
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def claim(conn: Connection, job: str, period: str, now: datetime) -> bool:
    """True when this transaction is the first to run `job` for `period`.

    On PostgreSQL a concurrent claimant waits for the first one's commit and then gets False.
    """
    statement = (_INSERT[conn.dialect.name](_T).values(job=job, period=period, ran_at=now)
                 .on_conflict_do_nothing().returning(_T.c.job))
    return conn.execute(statement).first() is not None


def link(conn: Connection, job: str, period: str, instance_id: int) -> None:
    conn.execute(update(_T).where(_T.c.job == job, _T.c.period == period).values(instance_id=instance_id))
