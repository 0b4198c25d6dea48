"""Data and chart images for the analysts' dashboard: this month's rates against last month's, overdue
tickets, hot issues and the ranking trend. Callers' personal data never appears here."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select

from engine.errors import NotFound
from engine.models import TaskRecord, Ticket
from engine.projection import OPEN
from engine.service import Engine

from . import figures, periods
from .context import Analysis, local_today

CHARTS = {"rates": figures.rates_chart, "lost_points": figures.lost_points_chart,
          "hot_categories": figures.hot_categories_chart, "ranking": figures.ranking_chart}


def dashboard_data(engine: Engine, today: date | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for the assessment month containing `today` (default: now)."""
    a = Analysis(engine, _this_month(engine, today))
    hot = a.hot
    return {
        "period": a.period.label, "period_title": a.period.title, "previous_period": a.previous.label,
        "formula": a.rates.formula,
        "rates": {"current": a.rates.overall.as_dict(), "previous": a.previous_rates.overall.as_dict()},
        "overdue": overdue_tickets(engine),
        "hot": {"categories": hot.categories.to_dict("records"), "places": hot.places.to_dict("records"),
                "keywords": hot.keywords.to_dict("records"), "policy_tags": hot.policy_tags.to_dict("records"),
                "monthly_themes": hot.monthly_themes.to_dict("records")},
        "standing": asdict(a.standing),
        "ranking_trend": [asdict(s) for s in a.trend],
        "charts": sorted(CHARTS),
    }


def dashboard_chart(engine: Engine, name: str, today: date | None = None) -> bytes:
    """One dashboard chart as PNG bytes (names: see CHARTS)."""
    if name not in CHARTS:
        raise NotFound(f"没有名为 {name} 的图表")
    return CHARTS[name](Analysis(engine, _this_month(engine, today))).png


def overdue_tickets(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """Open tickets past their deadline (the sheet's 截止时间 or an open task's due time), longest overdue first."""
    now = engine.clock()
    zone = ZoneInfo(engine.rules.at(now.date())["timezone"])
    late_task = exists().where(TaskRecord.ticket_id == Ticket.id, TaskRecord.state == OPEN, TaskRecord.due_at < now)
    query = (select(Ticket.ticket_no, Ticket.current_step, Ticket.lead_unit, Ticket.category_l1, Ticket.deadline_at,
                    select(TaskRecord.due_at).where(TaskRecord.ticket_id == Ticket.id, TaskRecord.state == OPEN)
                    .order_by(TaskRecord.due_at).limit(1).scalar_subquery())
             .where(Ticket.status == "open", or_(Ticket.deadline_at < now, late_task)))
    with engine.db.read() as session:
        rows = session.execute(query).all()
    out = [_overdue_row(row, now, zone) for row in rows]
    out.sort(key=lambda row: -row["overdue_hours"])
    return out[:limit]


def _overdue_row(row: Any, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    due = min(d for d in (row.deadline_at, row[5]) if d is not None)
    return {"ticket_no": row.ticket_no, "current_step": row.current_step, "lead_unit": row.lead_unit,
            "category": row.category_l1, "due": due.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "overdue_hours": round((now - due).total_seconds() / 3600, 1)}


def _this_month(engine: Engine, today: date | None) -> periods.Period:
    return periods.containing("month", today or local_today(engine), engine.rules)
