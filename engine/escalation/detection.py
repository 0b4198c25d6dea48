"""Group-complaint detection at intake, inside the intake's transaction.

A ticket's signature (normalised place, issue class, keyed hash of the caller's phone) is stored; a
ticket whose place and issue match an open group joins it, otherwise the recent tickets with the same
place and issue form a group once they reach the configured number of tickets and distinct callers.
Phones are compared only as HMAC digests and never leave this module.

Two intakes never detect at once: detection runs after the intake has appended its audit rows, so it
holds the audit chain's lock (advisory lock on PostgreSQL, the write lock on SQLite) until commit, and
the second intake sees the first one's group.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, func, insert, select, update

from engine.escalation.places import place_of
from engine.escalation.terms import issue_class
from engine.models import ComplaintGroup, ComplaintGroupTicket, TicketSignature
from engine.prepared import Prepared

_S = TicketSignature.__table__
_G = ComplaintGroup.__table__
_GT = ComplaintGroupTicket.__table__
_DEFAULT_KEY = "jiesu-caller-v1"
_ADD_SIGNATURE = Prepared(insert(_S).values(
    ticket_id=bindparam("b_ticket"), place_key=bindparam("b_place"), place_label=bindparam("b_label"),
    issue_key=bindparam("b_issue"), caller_hash=bindparam("b_caller"), received_at=bindparam("b_received")))
_OPEN_GROUP = Prepared(select(_G.c.id, _G.c.place_label, _G.c.last_at).where(
    _G.c.place_key == bindparam("b_place"), _G.c.issue_key == bindparam("b_issue"),
    _G.c.last_at >= bindparam("b_since")).order_by(_G.c.id.desc()).limit(1))
_RECENT = (_S.c.place_key == bindparam("b_place"), _S.c.issue_key == bindparam("b_issue"),
           _S.c.received_at >= bindparam("b_since"), _S.c.received_at <= bindparam("b_received"))
_COUNT_RECENT = Prepared(select(func.count(), func.count(func.distinct(_S.c.caller_hash))).where(*_RECENT))


@dataclass(frozen=True)
class Signature:
    place_key: str | None
    place_label: str | None
    issue_key: str | None
    caller_hash: str | None


class _OpenGroup(NamedTuple):
    id: int
    place_label: str
    last_at: datetime


@dataclass(frozen=True)
class GroupChange:
    """What the new ticket did to a group: formed it, or joined it; with the counts after."""

    group_id: int
    formed: bool
    place_label: str
    issue_key: str
    ticket_ids: tuple[int, ...]
    ticket_count: int
    caller_count: int


def caller_hash(phone: str | None) -> str | None:
    """HMAC-SHA256 of the phone's digits without +86/0086 (key: JIESU_CALLER_HASH_KEY)."""
    digits = re.sub(r"\D", "", phone or "")
    digits = re.sub(r"^(0086|86)(?=1\d{10}$)", "", digits)
    if not digits:
        return None
    key = os.environ.get("JIESU_CALLER_HASH_KEY", _DEFAULT_KEY).encode()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()


def signature(fields: dict[str, Any], values: dict[str, Any]) -> Signature:
    place = place_of(fields.get("address") or "", fields.get("content") or "")
    categories = (fields.get("category_l3"), fields.get("category_l2"), fields.get("category_l1"))
    return Signature(place.key, place.label, issue_class(fields.get("content") or "", categories, values),
                     caller_hash(fields.get("caller_phone")))


def detect(conn: Connection, ticket_id: int, sig: Signature, received: datetime, values: dict[str, Any],
           now: datetime) -> GroupChange | None:
    """Store the ticket's signature; the group it formed or joined, if any."""
    _ADD_SIGNATURE.execute(conn, {"b_ticket": ticket_id, "b_place": sig.place_key, "b_label": sig.place_label,
                                  "b_issue": sig.issue_key, "b_caller": sig.caller_hash, "b_received": received})
    if sig.place_key is None or sig.issue_key is None:
        return None
    since = received - timedelta(days=values["group_complaint"]["window_days"])
    row = _OPEN_GROUP.first(conn, {"b_place": sig.place_key, "b_issue": sig.issue_key, "b_since": since})
    if row is not None:
        group = _OpenGroup(*row)
        return _join(conn, group, sig, ticket_id, max(group.last_at, received), now)
    return _form(conn, sig, since, received, values["group_complaint"], now)


def _form(conn: Connection, sig: Signature, since: datetime, received: datetime, limits: dict[str, Any],
          now: datetime) -> GroupChange | None:
    window = {"b_place": sig.place_key, "b_issue": sig.issue_key, "b_since": since, "b_received": received}
    # Counted in SQL first: one caller calling again and again must not make every intake read them all.
    tickets, callers = _COUNT_RECENT.first(conn, window)
    if tickets < limits["min_tickets"] or callers < limits["min_callers"]:
        return None
    rows = conn.execute(select(_S.c.ticket_id, _S.c.caller_hash, _S.c.received_at).where(*_RECENT), window).all()
    callers = {row.caller_hash for row in rows if row.caller_hash}
    group_id = conn.scalar(insert(_G).values(
        place_key=sig.place_key, place_label=sig.place_key, issue_key=sig.issue_key,
        first_at=min(r.received_at for r in rows), last_at=received, ticket_count=len(rows),
        caller_count=len(callers), created_at=now).returning(_G.c.id))
    ids = tuple(sorted(r.ticket_id for r in rows))
    conn.execute(insert(_GT), [{"group_id": group_id, "ticket_id": t, "linked_at": now} for t in ids])
    return GroupChange(group_id, True, sig.place_key, sig.issue_key, ids, len(rows), len(callers))


def _join(conn: Connection, group: _OpenGroup, sig: Signature, ticket_id: int, last_at: datetime,
          now: datetime) -> GroupChange:
    group_id = group.id
    conn.execute(insert(_GT).values(group_id=group_id, ticket_id=ticket_id, linked_at=now))
    members = (select(func.count(), func.count(func.distinct(_S.c.caller_hash)))
               .select_from(_GT.join(_S, _S.c.ticket_id == _GT.c.ticket_id)).where(_GT.c.group_id == group_id))
    tickets, callers = conn.execute(members).one()
    conn.execute(update(_G).where(_G.c.id == group_id).values(
        ticket_count=tickets, caller_count=callers, last_at=last_at))
    return GroupChange(group_id, False, group.place_label, sig.issue_key, (ticket_id,), tickets, callers)


def place_of_ticket(conn: Connection, ticket_id: int) -> str | None:
    return conn.scalar(select(_S.c.place_label).where(_S.c.ticket_id == ticket_id))
