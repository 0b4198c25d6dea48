"""The auditors' page: filter the trail, page through it, export it, verify the chain."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from marshmallow import ValidationError

from api.audit_filters import AuditQuerySchema, audit_filter
from api.context import current_actor, engine, require_roles
from api.rest.audit import send_audit_file
from engine.audit import EVENTS
from engine.audit_query import audit_page
from engine.audit_verify import verify_trail
from engine.errors import InvalidData

bp = Blueprint("audit_pages", __name__, template_folder="templates")
_QUERY = AuditQuerySchema()
_FILTER_KEYS = ("ticket_no", "instance_id", "task_id", "actor", "event", "since", "until")


@bp.get("/audit")
@require_roles("auditor")
def audit() -> Any:
    args = _args()
    page = audit_page(engine(), current_actor(), audit_filter(args), args.get("after"), 50,
                      newest_first=args["order"] == "newest")
    query = {k: request.args[k] for k in _FILTER_KEYS if request.args.get(k)}
    return render_template("audit.html", page=page, query=query, events=EVENTS, order=args["order"])


@bp.get("/audit/export.<fmt>")
@require_roles("auditor")
def export(fmt: str) -> Any:
    if fmt not in ("csv", "xlsx"):
        raise InvalidData("只能导出 CSV 或 Excel", {"format": ["不是允许的选项。"]})
    return send_audit_file(_args(), fmt)


@bp.get("/audit/verify")
@require_roles("auditor")
def verify() -> str:
    return render_template("audit_verify.html", report=verify_trail(engine(), current_actor()))


def _args() -> dict[str, Any]:
    try:
        return _QUERY.load({k: v for k, v in request.args.items() if v != ""})
    except ValidationError as err:
        raise InvalidData("查询条件有误", err.messages) from err
