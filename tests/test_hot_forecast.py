"""Hot issues against the previous period and last year; the forecast and its backtest error."""

from __future__ import annotations

import pytest

from engine.analysis import periods
from engine.analysis.forecast import forecast_next
from engine.analysis.hot import hot_issues
from engine.analysis.ticket_import import import_tickets
from tests.conftest import ADMIN
from tests.sheets import sheet_row, write_csv


def rows_in(prefix: str, day: str, category: str, count: int, **extra) -> list[dict]:
    return [sheet_row(f"{prefix}-{category}-{n}", f"{day} 10:00:00", 一级分类=category, **extra) for n in range(count)]


def test_hot_categories_places_keywords_and_themes(engine, tmp_path):
    rows = (rows_in("NOV", "2026-11-02", "城市管理", 3, 主要内容="小区电梯故障停运", 七有五性="安全性、宜居性",
                    每月一题="老旧小区加装电梯")
            + rows_in("NOV", "2026-11-03", "住房", 2, **{"村/社区": "融泽嘉园社区", "主要内容": "暖气不热"})
            + rows_in("OCT", "2026-10-05", "城市管理", 1, 主要内容="电梯异响")
            + rows_in("OCT", "2026-10-06", "住房", 4, 主要内容="暖气不热", 七有五性="住有所居")
            + rows_in("LY", "2025-11-05", "城市管理", 2, 主要内容="垃圾清运"))
    import_tickets(engine, write_csv(tmp_path / "t.csv", rows), ADMIN)
    hot = hot_issues(engine, periods.parse("2026-11", engine.rules))
    assert hot.totals == (5, 5, 2)
    categories = hot.categories.set_index("key")
    assert categories.loc["城市管理", ["count", "previous", "last_year"]].tolist() == [3, 1, 2]
    assert categories.loc["城市管理", "change_pct"] == pytest.approx(2.0)
    assert categories.loc["城市管理", "yoy_pct"] == pytest.approx(0.5)
    assert categories.loc["住房", "change_pct"] == pytest.approx(-0.5) and categories.loc["住房", "yoy_pct"] is None
    assert hot.places.set_index("key")["count"].to_dict() == {"龙锦苑社区": 3, "融泽嘉园社区": 2}
    keywords = hot.keywords.set_index("key")
    assert keywords.loc["电梯", "count"] == 3 and keywords.loc["电梯", "previous"] == 1
    assert keywords.loc["暖气", "count"] == 2 and keywords.loc["暖气", "previous"] == 4
    assert hot.keyword_sample == 5
    tags = hot.policy_tags.set_index("key")
    # November's 住房 rows carry the fixture's default tag 宜居性: 3 + 2.
    assert tags.loc["安全性", "count"] == 3 and tags.loc["宜居性", "count"] == 5
    assert tags.loc["住有所居", "previous"] == 4
    assert len(hot.policy_tags) == 12 and tags.loc["幼有所育", "count"] == 0
    assert hot.monthly_themes.set_index("key").loc["老旧小区加装电梯", "count"] == 3


def test_forecast_is_moving_average_with_backtest_error(engine, tmp_path):
    months = ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    rows = []
    for count, month in enumerate(months, start=1):
        rows += rows_in(month, f"{month}-05", "城市管理", count)
    import_tickets(engine, write_csv(tmp_path / "t.csv", rows), ADMIN)
    forecast = forecast_next(engine, periods.parse("2026-11", engine.rules))
    assert forecast.target == "2026-12" and forecast.history == months
    row = forecast.table.set_index("category").loc["城市管理"]
    assert row["forecast"] == pytest.approx(8.0) and row["last"] == 9
    # Each backtest month t (Jun..Nov) is forecast as the mean of t-3..t-1 = actual - 2.
    assert row["mae"] == pytest.approx(2.0)
    assert row["wape"] == pytest.approx(12 / (4 + 5 + 6 + 7 + 8 + 9))
    assert "移动平均" in forecast.method and forecast.total_forecast == pytest.approx(8.0)
