"""Reporting periods: assessment months from the 19th, quarters, years, ISO weeks, dated configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.analysis import periods
from engine.errors import InvalidData
from engine.rules import RuleEntry, Rules

RULES = Rules.load()


def test_assessment_month_runs_from_the_19th():
    month = periods.parse("2026-11", RULES)
    assert (month.start, month.last_day) == (date(2026, 10, 19), date(2026, 11, 18))
    assert month.utc_bounds() == (datetime(2026, 10, 18, 16, tzinfo=UTC), datetime(2026, 11, 18, 16, tzinfo=UTC))
    assert periods.containing("month", date(2026, 11, 18), RULES).label == "2026-11"
    assert periods.containing("month", date(2026, 11, 19), RULES).label == "2026-12"
    assert periods.previous(periods.parse("2026-01", RULES), RULES).label == "2025-12"
    assert periods.same_last_year(month, RULES).label == "2025-11"


def test_quarter_year_week_and_range():
    quarter = periods.parse("2026-Q4", RULES)
    assert (quarter.start, quarter.last_day) == (date(2026, 9, 19), date(2026, 12, 18))
    year = periods.parse("2026", RULES)
    assert (year.start, year.last_day) == (date(2025, 12, 19), date(2026, 12, 18))
    week = periods.parse("2026-W47", RULES)
    assert (week.start, week.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    assert periods.previous(week, RULES).label == "2026-W46"
    custom = periods.parse("2026-10-01..2026-10-31", RULES)
    assert periods.previous(custom, RULES).label == "2026-08-31..2026-09-30"
    assert periods.last_complete("quarter", date(2026, 11, 25), RULES).label == "2026-Q3"


def test_month_start_day_is_dated_configuration():
    rules = Rules([*RULES.entries, RuleEntry(date(2027, 1, 1), {"assessment": {"month_starts_on_day": 1}})])
    assert (periods.parse("2026-12", rules).start, periods.parse("2026-12", rules).end) == (
        date(2026, 11, 19), date(2027, 1, 1))
    assert (periods.parse("2027-01", rules).start, periods.parse("2027-01", rules).last_day) == (
        date(2027, 1, 1), date(2027, 1, 31))


@pytest.mark.parametrize("text", ["2026-13", "2026/11", "去年", "2026-10-31..2026-10-01"])
def test_bad_periods_are_refused_in_chinese(text):
    with pytest.raises(InvalidData, match="期间"):
        periods.parse(text, RULES)
