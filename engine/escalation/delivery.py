"""Delivering the alert outbox after commit, with retries and backoff; an alert is never dropped.

Each round leases due alerts (next attempt pushed `lease_seconds` ahead, SKIP LOCKED on PostgreSQL,
so several workers never send one alert at once), sends them outside any transaction, then records
each result in a transaction of its own with an audit row. A failed alert waits the next step of
`retry_backoff_seconds` (the last step repeats for ever); a worker dying mid-send leaves the alert
to come due again when its lease ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from engine import audit
from engine.audit import AuditEntry
from engine.escalation.channels import DeliveryFailed, Outgoing, channel
from engine.models import Alert
from engine.privacy import SYSTEM

log = logging.getLogger(__name__)
_A = Alert.__table__


@dataclass(frozen=True)
class Delivered:
    sent: int
    failed: int


@dataclass(frozen=True)
class _Leased:
    outgoing: Outgoing
    channel: str
    attempts: int


def deliver_due(engine: Any) -> Delivered:
    """Send every alert due now (one batch per call); how many went and how many failed."""
    now = engine.clock()
    values = engine.rules.at(now.date())
    sent = failed = 0
    for item in _lease(engine, now, values):
        try:
            channel(item.channel, values).send(item.outgoing)
            error = None
            sent += 1
        except DeliveryFailed as exc:
            error = str(exc)
            failed += 1
            log.warning("alert %s via %s failed: %s", item.outgoing.alert_id, item.channel, error)
        _record(engine, item, error, values)
    return Delivered(sent, failed)


def _lease(engine: Any, now: datetime, values: dict[str, Any]) -> list[_Leased]:
    settings = values["alerts"]
    query = (select(_A).where(_A.c.state == "pending", _A.c.next_attempt_at <= now)
             .order_by(_A.c.next_attempt_at, _A.c.id).limit(settings["batch"]).with_for_update(skip_locked=True))
    with engine.db.transaction() as conn:
        rows = conn.execute(query).all()
        if rows:
            conn.execute(update(_A).where(_A.c.id.in_([r.id for r in rows]))
                         .values(next_attempt_at=now + timedelta(seconds=settings["lease_seconds"])))
    return [_Leased(Outgoing(r.id, r.incident_id, r.level, r.recipient, r.address, r.subject, r.body),
                    r.channel, r.attempts) for r in rows]


def _record(engine: Any, item: _Leased, error: str | None, values: dict[str, Any]) -> None:
    now = engine.clock()
    attempts = item.attempts + 1
    alert = item.outgoing
    data = {"alert_id": alert.alert_id, "incident_id": alert.incident_id, "level": alert.level,
            "channel": item.channel, "recipient": alert.recipient, "attempts": attempts}
    if error is None:
        change = {"state": "sent", "sent_at": now, "last_error": None}
        entry = AuditEntry("alert.sent", SYSTEM.name, data=data)
    else:
        retry_at = now + timedelta(seconds=backoff(values, attempts))
        change = {"next_attempt_at": retry_at, "last_error": error}
        entry = AuditEntry("alert.failed", SYSTEM.name, data=data | {"error": error, "retry_at": retry_at.isoformat()})
    with engine.db.transaction() as conn:
        conn.execute(update(_A).where(_A.c.id == alert.alert_id).values(attempts=attempts, **change))
        audit.append(conn, [entry], now)


def backoff(values: dict[str, Any], attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failure; the last configured step repeats."""
    steps = values["alerts"]["retry_backoff_seconds"]
    return steps[min(attempts, len(steps)) - 1]
