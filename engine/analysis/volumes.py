"""Ticket counts of a period, grouped by a column, straight from SQL (no rows leave the database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.models import Ticket
from engine.service import Engine

from .periods import Period

T = Ticket.__table__.c


def in_period(period: Period) -> Any:
    start, end = period.utc_bounds()
    return (T.received_at >= start) & (T.received_at < end)


def total(engine: Engine, period: Period) -> int:
    with engine.db.read() as session:
        return session.scalar(select(func.count()).where(in_period(period))) or 0


def counts_by(engine: Engine, period: Period, column: Any) -> dict[str, int]:
    """Tickets per value of `column`; empty values are left out."""
    query = select(column, func.count()).where(in_period(period), column.is_not(None), column != "").group_by(column)
    with engine.db.read() as session:
        return {key: count for key, count in session.execute(query)}

