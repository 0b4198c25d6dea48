"""How figures look to staff, the same in reports, the dashboard and the command line."""

from __future__ import annotations

import math

NONE = "—"


def missing(value: float | None) -> bool:
    """None, or the NaN pandas puts where a value is missing."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: float | None) -> str:
    return NONE if missing(value) else f"{value:.2%}"


def score(value: float | None) -> str:
    return NONE if missing(value) else f"{value:.2f}"


def change(value: float | None) -> str:
    """Relative change; None means the earlier period had none."""
    if missing(value):
        return "新增"
    return "0.0%" if round(value, 3) == 0 else f"{value:+.1%}"  # no "-0.0%" from rounding


def yuan(value: int | None) -> str:
    if value is None:
        return NONE
    return f"{'+' if value > 0 else ''}{value:,} 元" if value else "0 元"
