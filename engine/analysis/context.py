"""Everything reports and the dashboard show about one period, computed once and on first use."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from engine.service import Engine

from . import periods
from .forecast import Forecast, forecast_next
from .hot import HotIssues, hot_issues
from .periods import Period
from .ranking import Standing, ranking_trend
from .rates import GroupedCounts, RateTable, TicketLoss, costly_tickets, grouped_counts, period_rates
from .volumes import total


def local_today(engine: Engine) -> date:
    """Today as staff in the office's time zone see it."""
    now = engine.clock()
    return now.astimezone(ZoneInfo(engine.rules.at(now.date())["timezone"])).date()


class Analysis:
    """One period's figures for a report or the dashboard; each is queried once, when first used."""

    def __init__(self, engine: Engine, period: Period):
        self.engine = engine
        self.period = period
        self.config: dict[str, Any] = engine.rules.at(period.last_day)
        self._by: dict[str, RateTable] = {}

    @cached_property
    def previous(self) -> Period:
        return periods.previous(self.period, self.engine.rules)

    @cached_property
    def totals(self) -> tuple[int, int, int]:
        """Tickets received this period, the previous one and the same period last year."""
        trio = (self.period, self.previous, periods.same_last_year(self.period, self.engine.rules))
        return tuple(total(self.engine, p) for p in trio)

    @cached_property
    def _counts(self) -> GroupedCounts:
        return grouped_counts(self.engine, self.period)

    @cached_property
    def rates(self) -> RateTable:
        return period_rates(self.engine, self.period, counts=self._counts)

    @cached_property
    def previous_rates(self) -> RateTable:
        return period_rates(self.engine, self.previous)

    def rates_by(self, by: str) -> RateTable:
        if by not in self._by:
            self._by[by] = period_rates(self.engine, self.period, by, self._counts)
        return self._by[by]

    @cached_property
    def hot(self) -> HotIssues:
        return hot_issues(self.engine, self.period)

    @cached_property
    def forecast(self) -> Forecast:
        return forecast_next(self.engine, self.period)

    @cached_property
    def costly(self) -> list[TicketLoss]:
        return costly_tickets(self.engine, self.period, limit=None)

    @property
    def standing(self) -> Standing:
        """The standing in the assessment month holding the period's last day: the trend's newest."""
        return self.trend[-1]

    @cached_property
    def trend(self) -> list[Standing]:
        return ranking_trend(self.engine, self.period, 12)

    @property
    def fonts(self) -> tuple[str, ...]:
        return tuple(self.config["charts"]["font_families"])
