"""Escalation pages: incidents with their tickets, alerts and acknowledgment; flags; evidence; the roster."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.context import current_actor, engine, require_roles
from engine.errors import InvalidData

bp = Blueprint("escalation_pages", __name__, template_folder="templates")
VIEW_ROLES = ("duty_officer", "intake", "dispatcher", "process_owner")


@bp.get("/incidents")
@require_roles(*VIEW_ROLES)
def incidents() -> str:
    open_only = request.args.get("open") == "1"
    return render_template("incidents.html", incidents=engine().escalations.incidents(open_only), open_only=open_only)


@bp.get("/incidents/<int(max=2147483647):incident_id>")
@require_roles(*VIEW_ROLES, "unit")
def incident(incident_id: int) -> str:
    return render_template("incident.html", i=engine().escalations.incident(incident_id))


@bp.post("/incidents/<int(max=2147483647):incident_id>/evidence")
@require_roles("duty_officer", "unit")
def evidence(incident_id: int) -> Response:
    request.max_content_length = evidence_limit()  # photos are larger than any form
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidData("请选择要上传的文件", {"file": ["此项为必填项。"]})
    stored = engine().escalations.add_evidence(incident_id, upload.filename, upload.read(), current_actor())
    flash(f"已上传佐证材料：{stored['filename']}")
    return redirect(url_for("escalation_pages.incident", incident_id=incident_id))


@bp.post("/tickets/<string:ticket_no>/flag")
@require_roles(*VIEW_ROLES)
def flag(ticket_no: str) -> Response:
    incident_id = engine().escalations.flag(ticket_no, request.form.get("reason", ""), current_actor())
    flash("已标记为舆情事件，值班人员已收到提醒")
    return redirect(url_for("escalation_pages.incident", incident_id=incident_id))


@bp.route("/roster", methods=["GET", "POST"])
@require_roles("duty_officer")
def roster() -> Any:
    escalations = engine().escalations
    if request.method == "POST":
        escalations.add_duty(_day(request.form.get("day", "")), request.form.get("shift", ""),
                             _level(request.form.get("level", "1")), request.form.get("person", ""),
                             request.form.get("email") or None, current_actor())
        flash("已添加值班安排")
        return redirect(url_for("escalation_pages.roster"))
    today = engine().clock().date()
    values = engine().rules.at(today)["escalation"]
    return render_template("roster.html", entries=escalations.roster(today, today + timedelta(days=14)),
                           shifts=values["duty_shifts"], levels=values["levels"], today=today.isoformat())


@bp.post("/roster/<int(max=2147483647):shift_id>/remove")
@require_roles("duty_officer")
def remove_duty(shift_id: int) -> Response:
    engine().escalations.remove_duty(shift_id, current_actor())
    flash("已删除值班安排")
    return redirect(url_for("escalation_pages.roster"))


def evidence_limit() -> int:
    return engine().rules.at(engine().clock().date())["escalation"]["evidence_max_bytes"] + 64 * 1024


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidData("日期格式应为 2026-11-25", {"day": ["日期格式不正确。"]}) from exc


def _level(text: str) -> int:
    if not text.isdigit() or len(text) > 2:
        raise InvalidData("值班级别应为数字", {"level": ["格式不正确。"]})
    return int(text)
