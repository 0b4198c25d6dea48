"""Deadlines on the Chinese state calendar: holidays, swapped working weekends, office closures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import script_functions
from engine.command_context import active
from engine.rules import RuleEntry, Rules
from engine.workdays import LOCAL_TZ, WorkingCalendar


def beijing(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


CAL = WorkingCalendar()


def test_working_days_skip_the_national_day_holiday():
    # 2026: 1-7 October off; Thursday 8 October is the first working day after 30 September.
    assert CAL.add_working_days(beijing(2026, 9, 30, 15, 0), 1) == beijing(2026, 10, 9)
    assert CAL.add_working_days(beijing(2026, 9, 30, 15, 0), 3) == beijing(2026, 10, 11)  # Sat 10 Oct is worked


def test_spring_festival_and_its_swapped_working_saturday():
    # 2026: Saturday 14 February is worked instead; 15-23 February are the holiday.
    friday = beijing(2026, 2, 13, 10, 0)
    assert CAL.add_working_days(friday, 1) == beijing(2026, 2, 15)  # the swapped Saturday counts
    assert CAL.add_working_days(friday, 2) == beijing(2026, 2, 25)  # next working day is Tuesday 24th
    assert CAL.add_working_days(friday, 7) == beijing(2026, 3, 3)  # Saturday 28 Feb worked, Sunday 1 Mar not


def test_a_plain_weekend_is_skipped_and_office_closures_count_as_holidays():
    friday = beijing(2026, 11, 20, 17, 0)
    assert CAL.add_working_days(friday, 1) == beijing(2026, 11, 24)
    closed = WorkingCalendar(["2026-11-23"])
    assert closed.add_working_days(friday, 1) == beijing(2026, 11, 25)


def test_clock_levels_count_plain_hours_across_holidays():
    start = beijing(2026, 10, 1, 9, 0)
    assert CAL.deadline(start, 2, "hours", "clock") == beijing(2026, 10, 1, 11, 0).astimezone(UTC)
    # working days 8, 9, 10 (the swapped Saturday), 12, 13, 14, 15 October
    assert CAL.deadline(start, 7, "days", "working") == beijing(2026, 10, 16)


def test_misconfigured_level_is_refused_in_chinese():
    with pytest.raises(ValueError, match="只能以天为单位"):
        CAL.deadline(beijing(2026, 10, 1), 2, "hours", "working")


def test_bpmn_functions_use_the_rules_and_clock_of_the_command():
    rules = Rules([RuleEntry(datetime(2020, 1, 1).date(), {
        "sla_levels": {"7d": {"amount": 7, "unit": "days", "calendar": "working"},
                       "2h": {"amount": 2, "unit": "hours", "calendar": "clock"}},
        "office_closures": ["2026-10-09"]})])
    now = beijing(2026, 9, 30, 15, 0).astimezone(UTC)
    with active(now, rules):
        assert script_functions.now() == now.isoformat()
        # 8 October, then the closed 9th is skipped, then the swapped Saturday 10th
        assert script_functions.working_days_later(2) == beijing(2026, 10, 11).astimezone(UTC).isoformat()
        assert script_functions.deadline_for("2h", now.isoformat()) == beijing(2026, 9, 30, 17, 0).astimezone(
            UTC).isoformat()
        assert script_functions.deadline_for("7d", now.isoformat()) == beijing(2026, 10, 17).astimezone(
            UTC).isoformat()
        with pytest.raises(KeyError, match="未配置的办理时限等级"):
            script_functions.deadline_for("3d", now.isoformat())
