"""The charts of a period's analysis, shared by the Word reports and the analysts' dashboard."""

from __future__ import annotations

from .charts import Chart, bar_chart, line_chart
from .context import Analysis
from .rates import RateRow


def rates_chart(a: Analysis) -> Chart:
    return bar_chart("三率本期与上期对比", ["响应率", "解决率", "满意率"],
                     {f"本期（{a.period.label}）": _percents(a.rates.overall),
                      f"上期（{a.previous.label}）": _percents(a.previous_rates.overall)},
                     "百分比（%）", a.fonts)


def lost_points_chart(a: Analysis) -> Chart:
    top = a.rates_by("category").rows[:8]
    return bar_chart("各类别失分", [row.key or "未分类" for row in top], {"失分": [row.lost_points for row in top]},
                     "分", a.fonts)


def ranking_chart(a: Analysis) -> Chart:
    return line_chart("排名走势", [t.period for t in a.trend], {"排名": [t.rank for t in a.trend]}, "名次", a.fonts,
                      inverted=True)


def hot_categories_chart(a: Analysis) -> Chart:
    frame = a.hot.categories
    return bar_chart("热点类别工单量", frame["key"].tolist(),
                     {"本期": frame["count"].tolist(), "上期": frame["previous"].tolist()}, "件", a.fonts)


def _percents(row: RateRow) -> list[float]:
    return [100 * (value or 0) for value in (row.response, row.resolution, row.satisfaction)]
