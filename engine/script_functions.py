"""Functions BPMN scripts and timer expressions may call, all on the engine's clock and rules.

Times go in and out as ISO 8601 strings in UTC: that is what SpiffWorkflow's timer definitions
expect and what task data can store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.command_context import AlertRequest, Notice, current


def now() -> str:
    return current().now.isoformat()


def rule(name: str) -> Any:
    """A configured value in force today, e.g. rule('sign_for_working_days')."""
    values = current().values
    if name not in values:
        raise KeyError(f"配置中没有 {name}")
    return values[name]


def working_days_after(start: str, days: int) -> str:
    """Midnight (Beijing) after the `days`-th working day following `start`."""
    return current().calendar.add_working_days(_moment(start), int(days)).isoformat()


def working_days_later(days: int) -> str:
    return working_days_after(now(), days)


def deadline_for(sla_level: str, start: str) -> str:
    """The SLA deadline of a ticket of `sla_level` whose clock started at `start`."""
    levels = rule("sla_levels")
    if sla_level not in levels:
        raise KeyError(f"未配置的办理时限等级 {sla_level}")
    level = levels[sla_level]
    return current().calendar.deadline(_moment(start), level["amount"], level["unit"], level["calendar"]).isoformat()


def share_between(start: str, end: str, share: float) -> str:
    """The moment `share` (0..1) of the way from `start` to `end`, e.g. for a reminder."""
    first = _moment(start)
    return (first + (_moment(end) - first) * float(share)).isoformat()


def notify(kind: str, recipients: list[str], text: str) -> None:
    """Send a notice; it is stored with the command, so it exists exactly when the step happened."""
    current().notices.append(Notice(kind, [str(r) for r in recipients if r], text))


def escalate_alert(incident_id: int) -> None:
    """Alert the next level of the duty roster about the incident (level 1 first); sent after commit."""
    current().alerts.append(AlertRequest(int(incident_id)))


def acknowledge_alerts(incident_id: int) -> None:
    """Record in the audit trail that whoever completes this step acknowledged the incident's alerts."""
    current().alerts.append(AlertRequest(int(incident_id), acknowledged=True))


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(f"时间 {text} 缺少时区")
    return value.astimezone(UTC)


FUNCTIONS = {f.__name__: f for f in (now, rule, working_days_after, working_days_later, deadline_for,
                                     share_between, notify, escalate_alert, acknowledge_alerts)}
