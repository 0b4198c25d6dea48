"""Working-day arithmetic on the Chinese state calendar, plus the office's own closures.

Holidays and swapped working weekends (调休) come from the maintained `chinesecalendar` package,
which follows the State Council's yearly notice. A working-day deadline ends at midnight (Beijing
time) after its last working day, the way "N个工作日内" is read by the 12345 centre.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)


class WorkingCalendar:
    """The state calendar minus `closures` (extra days the office is shut)."""

    def __init__(self, closures: Iterable[date | str] = ()):
        self.closures = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in closures)

    def is_working_day(self, day: date) -> bool:
        return day not in self.closures and _state_working_day(day)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Midnight (Beijing) after the `days`-th working day following the day of `start`, in UTC.

        A start exactly at midnight is the end of the day before, so extending a deadline by N
        working days gives the end of the N-th working day after the old deadline's last day.
        """
        if days < 0:
            raise ValueError("工作日天数不能为负数")
        day = (start.astimezone(LOCAL_TZ) - timedelta(microseconds=1)).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        end = datetime.combine(day + timedelta(days=1), time(), LOCAL_TZ) if days else start
        return end.astimezone(UTC)

    def deadline(self, start: datetime, amount: int, unit: str, calendar: str) -> datetime:
        """The end of an SLA period as configured: clock hours/days, or working days."""
        if calendar == "working":
            if unit != "days":
                raise ValueError(f"按工作日计算的时限只能以天为单位，不能是 {unit}")
            return self.add_working_days(start, amount)
        if calendar == "clock" and unit in ("hours", "days"):
            return start.astimezone(UTC) + timedelta(**{unit: amount})
        raise ValueError(f"无法识别的时限设置：{amount} {unit}（{calendar}）")


@lru_cache(maxsize=4096)
def _state_working_day(day: date) -> bool:
    """The state calendar's answer for `day`; deadlines count days one by one, often the same ones."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The State Council publishes next year's holidays late in the year; until the package has
        # them, weekdays are the best guess, and the log says (once per day asked) it needs updating.
        log.warning("chinesecalendar has no data for %s; counting Monday to Friday", day.year)
        return day.weekday() < 5
