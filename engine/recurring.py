"""Recurring work (reports, training, spot checks): which period a run belongs to, and what it starts.

Each run is keyed by (job, period); the engine inserts that key in the same transaction that starts
the work, so a second run for the same period, on this node or another, starts nothing.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from engine.models import Ticket
from engine.privacy import SYSTEM
from engine.service import CommandResult, Engine
from engine.workdays import LOCAL_TZ

PROCESS = "recurring_work"


def period(kind: str, day: date, covers: str = "previous") -> tuple[str, date, date]:
    """Key, first day and day after the last of the period `covers` ('previous' or 'current') of `day`."""
    first, key, following = _current(kind, day)
    if covers == "previous":
        first, key, following = _current(kind, first - timedelta(days=1))
    elif covers != "current":
        raise ValueError(f"周期配置 covers 只能是 previous 或 current，不能是 {covers}")
    return key, first, following


def _current(kind: str, day: date) -> tuple[date, str, date]:
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        year, week, _ = first.isocalendar()
        return first, f"{year}-W{week:02d}", first + timedelta(days=7)
    if kind == "month":
        first = day.replace(day=1)
        return first, f"{day:%Y-%m}", _add_months(first, 1)
    if kind == "quarter":
        first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        return first, f"{day.year}-Q{(day.month - 1) // 3 + 1}", _add_months(first, 3)
    if kind == "year":
        return date(day.year, 1, 1), str(day.year), date(day.year + 1, 1, 1)
    raise ValueError(f"无法识别的周期 {kind}（可用 week、month、quarter、year）")


def _add_months(first: date, months: int) -> date:
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1)


def run_job(engine: Engine, name: str) -> CommandResult | None:
    """Start job `name`'s work for its current period; None when that period already has it."""
    now = engine.clock()
    values = engine.rules.at(now.astimezone(LOCAL_TZ).date())
    job = values["recurring_jobs"][name]
    key, first, following = period(job["period"], now.astimezone(LOCAL_TZ).date(), job.get("covers", "previous"))
    data: dict[str, Any] = {"kind": job["kind"], "title": f"{job['title']}（{key}）", "period": key,
                            "period_start": first.isoformat(), "period_end": following.isoformat(),
                            "due_working_days": job["due_working_days"]}
    if job["kind"] == "spot_check":
        data["sample"] = sample_closed(engine, first, following, values["spot_check_share"], f"{name}:{key}")
    if job["kind"] == "report":
        from engine.analysis.filing import file_job_report  # pandas and matplotlib load only for reports

        draft = file_job_report(engine, name)
        data["report_file"] = draft.name if draft else None
    return engine.start_once(name, key, PROCESS, data, SYSTEM)


def sample_closed(engine: Engine, first: date, following: date, share: float, seed: str) -> list[str]:
    """A reproducible random `share` (rounded up) of the tickets closed in [first, following), Beijing days."""
    start, end = (datetime.combine(d, time(), LOCAL_TZ).astimezone(UTC) for d in (first, following))
    with engine.db.read() as session:
        closed = sorted(session.scalars(select(Ticket.ticket_no).where(
            Ticket.status == "closed", Ticket.closed_at >= start, Ticket.closed_at < end)))
    return sorted(random.Random(seed).sample(closed, math.ceil(len(closed) * share)))  # noqa: S311 - sampling, not security
