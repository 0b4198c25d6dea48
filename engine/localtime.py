"""Staff read times in Beijing time; the database keeps UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

STAFF_TZ = ZoneInfo("Asia/Shanghai")


def staff_text(value: datetime | None) -> str:
    """'2026-11-20 09:00:00' in Beijing time, '' for no value."""
    return value.astimezone(STAFF_TZ).strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def parse_staff_time(text: str) -> datetime:
    """A date or date-time typed by staff (Beijing time unless it names an offset), as an aware datetime."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"时间格式不正确：{text}（应为 2026-11-20 或 2026-11-20 09:30）") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=STAFF_TZ)
