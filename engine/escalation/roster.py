"""The duty roster: who is on duty at which level, by Beijing date and configured shift."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from engine.errors import Conflict, InvalidData, NotFound
from engine.localtime import STAFF_TZ, staff_text
from engine.models import DutyShift

_T = DutyShift.__table__
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class OnDuty:
    person: str
    email: str | None
    level: int


def shift_span(day: date, shift: str, values: dict[str, Any]) -> tuple[datetime, datetime]:
    """UTC start and end of `shift` on Beijing date `day`; a shift ending at or before its start ends next day."""
    shifts = values["escalation"]["duty_shifts"]
    if shift not in shifts:
        raise InvalidData(f"班次 {shift} 未配置，可选：{'、'.join(shifts)}", {"shift": ["班次未配置。"]})
    start, end = (time.fromisoformat(shifts[shift][k]) for k in ("start", "end"))
    begins = datetime.combine(day, start, STAFF_TZ)
    ends = datetime.combine(day + timedelta(days=1) if end <= start else day, end, STAFF_TZ)
    return begins, ends


def check_level(level: int, values: dict[str, Any]) -> str:
    levels = values["escalation"]["levels"]
    if str(level) not in levels:
        raise InvalidData(f"值班级别 {level} 未配置，可选：{'、'.join(f'{k}（{v}）' for k, v in levels.items())}",
                          {"level": ["级别未配置。"]})
    return levels[str(level)]


def add(conn: Connection, day: date, shift: str, level: int, person: str, email: str | None,
        values: dict[str, Any], actor: str, now: datetime) -> int:
    check_level(level, values)
    if not (person or "").strip():
        raise InvalidData("值班人员姓名不能为空", {"person": ["此项为必填项。"]})
    if email and not _EMAIL.match(email):
        raise InvalidData(f"邮箱地址 {email} 格式不正确", {"email": ["邮箱格式不正确。"]})
    begins, ends = shift_span(day, shift, values)
    taken = conn.scalar(select(_T.c.id).where(_T.c.duty_date == day.isoformat(), _T.c.shift == shift,
                                              _T.c.level == level, _T.c.person == person.strip()))
    if taken is not None:
        raise Conflict(f"{person.strip()} 已安排在 {day} {shift}（值班安排 {taken}）")
    return conn.scalar(insert(_T).values(
        duty_date=day.isoformat(), shift=shift, level=level, person=person.strip(), email=email or None,
        starts_at=begins, ends_at=ends, created_at=now, created_by=actor).returning(_T.c.id))


def remove(conn: Connection, shift_id: int) -> dict[str, Any]:
    row = conn.execute(select(_T).where(_T.c.id == shift_id)).first()
    if row is None:
        raise NotFound(f"值班安排 {shift_id} 不存在")
    conn.execute(delete(_T).where(_T.c.id == shift_id))
    return {"duty_date": row.duty_date, "shift": row.shift, "level": row.level, "person": row.person}


def on_duty(conn: Connection, at: datetime, level: int) -> list[OnDuty]:
    rows = conn.execute(select(_T.c.person, _T.c.email, _T.c.level).where(
        _T.c.level == level, _T.c.starts_at <= at, _T.c.ends_at > at).order_by(_T.c.id)).all()
    return [OnDuty(*row) for row in rows]


def listing(conn: Connection, first: date, last: date, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Roster entries from Beijing date `first` to `last`, by start time and level."""
    rows = conn.execute(select(_T).where(_T.c.duty_date >= first.isoformat(), _T.c.duty_date <= last.isoformat())
                        .order_by(_T.c.starts_at, _T.c.level, _T.c.id)).all()
    levels = values["escalation"]["levels"]
    return [{"id": r.id, "duty_date": r.duty_date, "shift": r.shift, "level": r.level,
             "level_label": levels.get(str(r.level), str(r.level)), "person": r.person, "email": r.email,
             "starts_at": r.starts_at, "ends_at": r.ends_at,
             "span": f"{staff_text(r.starts_at)[:16]} – {staff_text(r.ends_at)[:16]}"} for r in rows]
