"""The audit trail for auditors: keyset pages, CSV/Excel export, chain verification."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import after_this_request, send_file
from flask.views import MethodView
from marshmallow import fields

from api.audit_filters import AuditQuerySchema, audit_filter
from api.context import current_actor, engine
from api.rest.blueprint import Blueprint
from engine.audit_export import export_audit
from engine.audit_query import audit_page
from engine.audit_verify import verify_trail
from forms.validation import ChineseSchema, one_of

blp = Blueprint("audit", __name__, description="审计记录：查询、导出、校验")


class AuditRowSchema(ChineseSchema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    event = fields.String()
    event_label = fields.String()
    ticket_id = fields.Integer(allow_none=True)
    ticket_no = fields.String(allow_none=True)
    instance_id = fields.Integer(allow_none=True)
    task_id = fields.String(allow_none=True)
    data = fields.Dict()


class AuditPageSchema(ChineseSchema):
    rows = fields.List(fields.Nested(AuditRowSchema))
    next_after = fields.Integer(allow_none=True)
    has_more = fields.Boolean()


class AuditExportSchema(AuditQuerySchema):
    format = fields.String(load_default="csv", validate=one_of(["csv", "xlsx"]))


class ChainReportSchema(ChineseSchema):
    ok = fields.Boolean()
    checked = fields.Integer()
    head_id = fields.Integer(allow_none=True)
    head_hash = fields.String()
    broken_id = fields.Integer(allow_none=True)
    problem = fields.String(allow_none=True)


@blp.route("/audit")
class AuditRows(MethodView):
    @blp.arguments(AuditQuerySchema, location="query", error_status_code=400)
    @blp.response(200, AuditPageSchema)
    @blp.alt_response(403, description="只有审计员或系统管理员可以查看")
    def get(self, args: dict[str, Any]) -> Any:
        """One page of audit rows, newest first (or oldest first to follow new rows)."""
        return audit_page(engine(), current_actor(), audit_filter(args), args.get("after"), args["limit"],
                          newest_first=args["order"] == "newest")


@blp.route("/audit/export")
class AuditExport(MethodView):
    @blp.arguments(AuditExportSchema, location="query", error_status_code=400)
    @blp.response(200, description="CSV 或 Excel 文件")
    def get(self, args: dict[str, Any]) -> Any:
        """The rows of a query as a CSV or Excel file; callers' data follows the reader's role."""
        return send_audit_file(args, args["format"])


@blp.route("/audit/verify")
class AuditVerify(MethodView):
    @blp.response(200, ChainReportSchema)
    def get(self) -> Any:
        """Check the whole hash chain; names the first broken row."""
        report = verify_trail(engine(), current_actor())
        return {**report.__dict__, "ok": report.ok}


def send_audit_file(args: dict[str, Any], fmt: str) -> Any:
    """Build the export in a private temporary folder and stream it; the folder goes when the reply is sent."""
    folder = tempfile.TemporaryDirectory(prefix="jiesu-audit-")
    path = Path(folder.name) / f"audit.{fmt}"
    export_audit(engine(), current_actor(), audit_filter(args), path)

    @after_this_request
    def _clean(response: Any) -> Any:
        response.call_on_close(folder.cleanup)
        return response

    return send_file(path, as_attachment=True, download_name=f"审计记录.{fmt}")
