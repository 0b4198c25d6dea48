"""Reporting periods in local (Asia/Shanghai) dates; months follow the assessment month (19th to 18th)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from engine.errors import InvalidData
from engine.rules import Rules

KINDS = ("week", "month", "quarter", "year", "range")
_PATTERNS = (
    ("week", re.compile(r"^(\d{4})-W(\d{1,2})$")),
    ("quarter", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("month", re.compile(r"^(\d{4})-(\d{1,2})$")),
    ("year", re.compile(r"^(\d{4})$")),
    ("range", re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")),
)


@dataclass(frozen=True)
class Period:
    """Local dates [start, end): `end` is the first day after the period."""

    kind: str
    label: str
    start: date
    end: date
    timezone: str = "Asia/Shanghai"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def title(self) -> str:
        """How staff see it, e.g. 2026-11（2026-10-19 至 2026-11-18）."""
        return f"{self.label}（{self.start:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}）"

    def utc_bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.timezone)
        return tuple(datetime.combine(day, time(0), zone).astimezone(UTC) for day in (self.start, self.end))


def parse(text: str, rules: Rules) -> Period:
    """2026-11 (assessment month), 2026-Q4, 2026, 2026-W47, or 2026-10-01..2026-10-31."""
    text = text.strip()
    for kind, pattern in _PATTERNS:
        found = pattern.match(text)
        if found:
            try:
                return _BUILDERS[kind](rules, *found.groups())
            except ValueError as exc:
                raise InvalidData(f"期间 {text} 不是有效日期：{exc}") from exc
    raise InvalidData(f"无法识别期间 {text}：请写成 2026-11（考核月）、2026-Q4、2026、2026-W47 "
                      "或 2026-10-01..2026-10-31")


def containing(kind: str, day: date, rules: Rules) -> Period:
    """The period of `kind` that contains the local date `day` (the assessment month after the 19th is next month's)."""
    if kind == "week":
        year, week, _ = day.isocalendar()
        return _week(rules, str(year), str(week))
    month = _month_of(day, rules)
    if kind == "month":
        return month
    year, number = (int(part) for part in month.label.split("-"))
    if kind == "quarter":
        return _quarter(rules, str(year), str((number - 1) // 3 + 1))
    if kind == "year":
        return _year(rules, str(year))
    raise InvalidData(f"未知的期间类型 {kind}")


def last_complete(kind: str, today: date, rules: Rules) -> Period:
    """The newest period of `kind` that has ended before `today`: what a recurring report covers."""
    return previous(containing(kind, today, rules), rules)


def previous(period: Period, rules: Rules) -> Period:
    if period.kind == "range":
        return _range(rules, (period.start - (period.end - period.start)).isoformat(),
                      (period.start - timedelta(days=1)).isoformat())
    return containing(period.kind, period.start - timedelta(days=1), rules)


def same_last_year(period: Period, rules: Rules) -> Period:
    if period.kind == "week":
        return containing("week", period.start - timedelta(weeks=52), rules)
    if period.kind == "range":
        return _range(rules, _year_back(period.start).isoformat(), _year_back(period.last_day).isoformat())
    year, _, rest = period.label.partition("-")
    return parse(f"{int(year) - 1}{'-' if rest else ''}{rest}", rules)


def months_back(period: Period, count: int, rules: Rules) -> list[Period]:
    """`count` assessment months ending with the one that contains the period's last day, oldest first."""
    months = [_month_of(period.last_day, rules)]
    while len(months) < count:
        months.insert(0, previous(months[0], rules))
    return months


def _month_of(day: date, rules: Rules) -> Period:
    start_day = rules.at(day)["assessment"]["month_starts_on_day"]
    month = date(day.year, day.month, 1)
    if start_day > 1 and day.day >= start_day:
        month = _add_months(month, 1)
    return _month(rules, str(month.year), str(month.month))


def _month(rules: Rules, year: str, month: str) -> Period:
    first = date(int(year), int(month), 1)
    values = rules.at(first)
    start_day = values["assessment"]["month_starts_on_day"]
    start = _add_months(first, -1).replace(day=start_day) if start_day > 1 else first
    next_start_day = rules.at(_add_months(first, 1))["assessment"]["month_starts_on_day"]
    end = first.replace(day=next_start_day) if next_start_day > 1 else _add_months(first, 1)
    return Period("month", f"{first:%Y-%m}", start, end, values["timezone"])


def _quarter(rules: Rules, year: str, quarter: str) -> Period:
    first = _month(rules, year, str(int(quarter) * 3 - 2))
    last = _month(rules, year, str(int(quarter) * 3))
    return Period("quarter", f"{year}-Q{quarter}", first.start, last.end, first.timezone)


def _year(rules: Rules, year: str) -> Period:
    first, last = _month(rules, year, "1"), _month(rules, year, "12")
    return Period("year", year, first.start, last.end, first.timezone)


def _week(rules: Rules, year: str, week: str) -> Period:
    start = date.fromisocalendar(int(year), int(week), 1)
    return Period("week", f"{start.isocalendar()[0]}-W{start.isocalendar()[1]:02d}", start, start + timedelta(days=7),
                  rules.at(start)["timezone"])


def _range(rules: Rules, first: str, last: str) -> Period:
    start, last_day = date.fromisoformat(first), date.fromisoformat(last)
    if last_day < start:
        raise ValueError("结束日期早于开始日期")
    return Period("range", f"{start}..{last_day}", start, last_day + timedelta(days=1), rules.at(start)["timezone"])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year_back(day: date) -> date:
    return day.replace(year=day.year - 1, day=28 if (day.month, day.day) == (2, 29) else day.day)


_BUILDERS = {"week": _week, "quarter": _quarter, "month": _month, "year": _year, "range": _range}
