"""The analysts' dashboard: this month against last, overdue tickets, hot issues, ranking trend, charts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from engine.analysis.dashboard import dashboard_chart, dashboard_data, overdue_tickets
from engine.analysis.ticket_import import import_tickets
from engine.errors import NotFound
from engine.models import TaskRecord
from tests.conftest import ADMIN
from tests.helpers import open_task, receive
from tests.sheets import sheet_row, write_csv
from tests.test_rates import MONTH_ROWS


def test_dashboard_compares_this_month_with_last(engine, tmp_path):
    december = [sheet_row("D1", "2026-11-19 10:00:00", 主要内容="电梯故障")]
    import_tickets(engine, write_csv(tmp_path / "t.csv", MONTH_ROWS + december), ADMIN)
    data = dashboard_data(engine)  # the fake clock stands on 2026-11-20: assessment month 2026-12
    assert (data["period"], data["previous_period"]) == ("2026-12", "2026-11")
    # December holds D1 (full marks) and H from the fixture (contacted, solved, 不满意: 0.6).
    assert data["rates"]["current"]["composite"] == pytest.approx(80.0)
    assert data["rates"]["previous"]["composite"] == pytest.approx(61.2)
    assert data["hot"]["categories"][0]["key"] == "城市管理" and data["hot"]["categories"][0]["count"] == 2
    assert [s["period"] for s in data["ranking_trend"]][-2:] == ["2026-11", "2026-12"]
    tags = {row["key"]: (row["count"], row["previous"]) for row in data["hot"]["policy_tags"]}
    assert tags["宜居性"] == (2, 8)  # every fixture row carries 宜居性: H and D1 now, 8 in November
    json.dumps(data, ensure_ascii=False)  # plain data the web layer can send as JSON
    assert "李四" not in json.dumps(data, ensure_ascii=False)
    for name in data["charts"]:
        assert dashboard_chart(engine, name).startswith(b"\x89PNG")
    with pytest.raises(NotFound):
        dashboard_chart(engine, "饼图")


def test_overdue_tickets(engine, clock):
    late = receive(engine, "LATE-1")
    receive(engine, "ONTIME-1")
    # Task due times are written by the SLA timers; here the verify step is given one that has passed.
    task = open_task(engine, late.instance_id, "verify")
    with engine.db.transaction() as conn:
        conn.execute(update(TaskRecord).where(TaskRecord.id == task.id).values(due_at=clock.now))
    clock.advance(hours=3)
    rows = overdue_tickets(engine)
    assert [(r["ticket_no"], r["overdue_hours"], r["current_step"]) for r in rows] == [("LATE-1", 3.0, "核实")]
    assert rows[0]["due"] == "2026-11-20 09:00"  # Beijing time
