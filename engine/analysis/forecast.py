"""Forecast of next period's ticket volume per category, with the method stated and its backtest error.

Method: the mean of the last `forecast_window` periods (moving average). It is judged by a rolling
backtest over the last `backtest_periods` periods: each is forecast from the periods before it and
compared with what happened; the error is the mean absolute error (件) and the weighted absolute
percentage error (Σ|误差| / Σ实际).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from engine.service import Engine

from . import periods
from .periods import Period
from .volumes import T, counts_by


@dataclass(frozen=True)
class Forecast:
    target: str  # label of the period forecast (the one after the base period)
    method: str
    history: list[str]  # period labels used, oldest first
    table: pd.DataFrame  # category, last, forecast, mae, wape (wape None when nothing happened)
    total_forecast: float
    total_wape: float | None


def forecast_next(engine: Engine, period: Period) -> Forecast:
    """Forecast the period after `period` from it and the periods before it."""
    config = engine.rules.at(period.last_day)["hot_issues"]
    window, backtests = config["forecast_window"], config["backtest_periods"]
    history = [period]
    earliest = engine.rules.entries[0].effective  # no assessment rules, so no periods, before it
    while len(history) < window + backtests and history[0].start - (period.end - period.start) >= earliest:
        history.insert(0, periods.previous(history[0], engine.rules))
    window = min(window, len(history))
    series = pd.DataFrame([counts_by(engine, p, T.category_l1) for p in history],
                          index=[p.label for p in history]).fillna(0).astype(int)
    rows = [_category_row(str(category), series[category].tolist(), window, backtests)
            for category in series.columns]
    table = pd.DataFrame(rows, columns=["category", "last", "forecast", "mae", "wape"])
    table = table.sort_values(["forecast", "category"], ascending=[False, True], ignore_index=True)
    totals = series.sum(axis=1).tolist()
    total = _category_row("合计", totals, window, backtests)
    target = _next_label(period, engine)
    method = (f"移动平均法：以最近 {window} 期的平均值作为下一期预测；回测最近 {backtests} 期，"
              "误差为平均绝对误差（件）和加权绝对百分比误差（Σ|误差|/Σ实际）")
    return Forecast(target, method, [p.label for p in history], table, total["forecast"], total["wape"])


def _category_row(category: str, values: list[int], window: int, backtests: int) -> dict:
    errors, actuals = [], []
    for end in range(max(window, len(values) - backtests), len(values)):
        errors.append(abs(sum(values[end - window:end]) / window - values[end]))
        actuals.append(values[end])
    return {"category": category, "last": values[-1], "forecast": sum(values[-window:]) / window,
            "mae": sum(errors) / len(errors) if errors else None,
            "wape": sum(errors) / sum(actuals) if sum(actuals) else None}


def _next_label(period: Period, engine: Engine) -> str:
    if period.kind == "range":
        return f"{period.end}..{period.last_day + (period.end - period.start)}"
    return periods.containing(period.kind, period.end, engine.rules).label
