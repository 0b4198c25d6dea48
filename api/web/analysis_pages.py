"""The analysts' dashboard and Word reports; pandas and matplotlib load on first use, not at start-up."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, render_template, request, send_file

from api.context import engine, require_roles
from engine.errors import InvalidData

bp = Blueprint("analysis_pages", __name__, template_folder="templates")
REPORT_KINDS = {"weekly": "周报", "monthly": "月报", "quarterly": "季度决策参考", "annual": "年报",
                "retrospective": "考核复盘失分分析"}
RATE_ROWS = (("response", "响应率"), ("resolution", "解决率"), ("satisfaction", "满意率"))


@bp.get("/dashboard")
@require_roles("analyst")
def dashboard() -> str:
    from engine.analysis.dashboard import dashboard_data

    return render_template("dashboard.html", d=dashboard_data(engine()), rate_rows=RATE_ROWS, kinds=REPORT_KINDS)


@bp.get("/dashboard/chart/<string:name>.png")
@require_roles("analyst")
def chart(name: str) -> Any:
    from engine.analysis.dashboard import dashboard_chart

    return send_file(io.BytesIO(dashboard_chart(engine(), name)), mimetype="image/png", max_age=300)


@bp.get("/reports")
@require_roles("analyst")
def report() -> Any:
    return send_report(request.args.get("kind", ""), (request.args.get("period") or "").strip()[:30] or None)


def send_report(kind: str, period_text: str | None) -> Any:
    """The report as a download; the JSON API and the page share it."""
    from engine.analysis.reports import build_report, report_filename, report_period

    if kind not in REPORT_KINDS:
        raise InvalidData("未知的报告类型", {"kind": ["不是允许的选项。"]})
    period = report_period(engine(), kind, period_text)
    content = build_report(engine(), kind, period)
    return send_file(io.BytesIO(content), as_attachment=True, download_name=report_filename(kind, period),
                     mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
