"""Analysts' data over the API: the dashboard figures and the Word reports."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.views import MethodView
from marshmallow import fields

from api.context import engine, require_roles
from api.rest.blueprint import Blueprint
from api.web.analysis_pages import send_report
from forms.validation import ChineseSchema, length

blp = Blueprint("analysis", __name__, description="分析：三率、排名、热点、报告")


class ReportQuerySchema(ChineseSchema):
    period = fields.String(validate=length(30), metadata={"description": "2026-11, 2026-Q4, 2026-W47, 2026"})


@blp.route("/dashboard")
class Dashboard(MethodView):
    @blp.response(200, description="本考核月与上月的三率、超期工单、热点、排名及趋势（不含个人信息）")
    @require_roles("analyst")
    def get(self) -> Any:
        """The analysts' dashboard figures for the current assessment month."""
        from engine.analysis.dashboard import dashboard_data

        return Response(orjson.dumps(dashboard_data(engine()), default=str), mimetype="application/json")


@blp.route("/reports/<string:kind>")
class Report(MethodView):
    @blp.arguments(ReportQuerySchema, location="query", error_status_code=400)
    @blp.response(200, description="Word 文档（.docx）")
    @require_roles("analyst")
    def get(self, args: dict[str, Any], kind: str) -> Any:
        """A weekly, monthly, quarterly, annual or retrospective report; default: the last complete period."""
        return send_report(kind, args.get("period"))
