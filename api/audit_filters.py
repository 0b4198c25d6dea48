"""The auditors' query, read the same way by the JSON API and the audit page."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from api.context import engine
from engine.audit import EVENTS
from engine.audit_query import MAX_PAGE, AuditFilter, ticket_id_for
from forms.validation import SHANGHAI, ChineseSchema, ShanghaiDateTime, length, one_of, value_range


class AuditQuerySchema(ChineseSchema):
    ticket_no = fields.String(validate=length(64))
    instance_id = fields.Integer(validate=value_range(1, 2**31 - 1))
    task_id = fields.String(validate=length(36))
    actor = fields.String(validate=length(100))
    event = fields.String(validate=one_of(sorted(EVENTS)))
    since = ShanghaiDateTime(default_timezone=SHANGHAI, metadata={"description": "inclusive; Beijing time"})
    until = ShanghaiDateTime(default_timezone=SHANGHAI, metadata={"description": "exclusive"})
    after = fields.Integer(validate=value_range(0, 2**31 - 1), metadata={"description": "next_after of the last page"})
    limit = fields.Integer(load_default=100, validate=value_range(1, MAX_PAGE))
    order = fields.String(load_default="newest", validate=one_of(["newest", "oldest"]))


def audit_filter(args: dict[str, Any]) -> AuditFilter:
    """Loaded query arguments to the engine's filter; an unknown ticket number is a 404."""
    ticket_id = None
    if args.get("ticket_no"):
        with engine().db.engine.connect() as conn:
            ticket_id = ticket_id_for(conn, args["ticket_no"])
    flt = AuditFilter(ticket_id=ticket_id, instance_id=args.get("instance_id"), task_id=args.get("task_id"),
                      actor=args.get("actor"), event=args.get("event"), since=args.get("since"),
                      until=args.get("until"))
    flt.check()
    return flt
