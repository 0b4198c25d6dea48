"""Chinese words for codes that pages show."""

from __future__ import annotations

from datetime import datetime

from engine.audit import event_label
from engine.localtime import STAFF_TZ

__all__ = ["SOURCES", "STATUSES", "event_label", "local_time", "remaining"]
NOTICE_KINDS = {"urge": "催办", "reminder": "到期提醒", "escalation": "超期督办", "follow_up": "回访跟进"}
STATUSES = {"open": "办理中", "closed": "已办结", "invalid": "无效工单", "returned": "已退单", "cancelled": "已撤销"}
SOURCES = {"hotline": "12345热线", "online": "网上平台", "app": "移动端", "district_forward": "区分转",
           "city_direct": "市直派", "local": "本地录入"}


def local_time(value: datetime | None) -> str:
    return value.astimezone(STAFF_TZ).strftime("%Y-%m-%d %H:%M") if value else "—"


def remaining(due: datetime | None, now: datetime) -> tuple[str, bool]:
    """('剩余 3小时20分' or '已超时 1天2小时', overdue?)"""
    if due is None:
        return "—", False
    seconds = int((due - now).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    span = f"{days}天{hours}小时" if days else f"{hours}小时{rest // 60}分"
    return (f"已超时 {span}", True) if seconds < 0 else (f"剩余 {span}", False)
