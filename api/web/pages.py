"""Server-rendered pages for staff: login, my tasks, the task form, ticket search and ticket pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from api import diagram
from api.context import current_account, current_actor, engine, require_roles
from api.web import labels
from engine import notices, queries
from engine.errors import InvalidData
from engine.roles import ROLES
from forms import FormDefinition
from forms.html import parse_submission, render_fields

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"account": current_account(), "roles": ROLES, "labels": labels}


@bp.app_template_filter("local")
def _local(value: Any) -> str:
    return labels.local_time(value)


@bp.get("/")
def home() -> Response:
    return redirect(url_for("pages.tasks"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "").strip()
    account = engine().users.login(username, request.form.get("password", ""), request.remote_addr or "-")
    session.clear()
    session["username"] = account.username
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout() -> Response:
    if session.get("username"):
        engine().users.logout(session["username"])
    session.clear()
    return redirect(url_for("pages.login"))


@bp.get("/tasks")
@require_roles()
def tasks() -> str:
    actor = current_actor()
    flt = queries.TaskFilter(roles=None if "admin" in actor.roles else actor.roles, unit=actor.scoped_unit,
                             limit=500)
    with engine().db.read() as db_session:
        rows = queries.open_tasks(db_session, flt)
    now = engine().clock()
    for row in rows:
        row["remaining"], row["overdue"] = labels.remaining(row["due_at"], now)
    if request.args.get("sort") == "created":
        rows.sort(key=lambda r: r["created_at"])
    return render_template("tasks.html", tasks=rows, sort=request.args.get("sort", "due"))


@bp.route("/tasks/<string:task_id>", methods=["GET", "POST"])
@require_roles()
def task(task_id: str) -> Any:
    actor = current_actor()
    view = engine().view_task(task_id, actor)
    form = FormDefinition.from_dict(view["form"])
    if request.method == "GET":
        return _task_page(view, form, {}, {})
    data = parse_submission(form, request.form)
    try:
        _submit(view, data, actor, request.form.get("version", type=int))
    except InvalidData as exc:
        return _task_page(view, form, data, exc.field_errors, exc.message), 400
    flash(f"已完成：{view['title']}（工单 {view['ticket_no'] or '-'}）")
    return redirect(url_for("pages.tasks"))


@bp.post("/tasks/<string:task_id>/claim")
@require_roles()
def claim(task_id: str) -> Response:
    engine().claim(task_id, current_actor(), release=request.form.get("release") == "1")
    return redirect(url_for("pages.task", task_id=task_id))


@bp.get("/tickets")
@require_roles()
def tickets() -> str:
    status = request.args.get("status") or None
    flt = queries.TicketFilter(status=status if status in labels.STATUSES else None,
                               q=(request.args.get("q") or "").replace("\x00", "").strip()[:100] or None, limit=100)
    with engine().db.read() as db_session:
        rows = queries.search_tickets(db_session, flt)
    return render_template("tickets.html", tickets=rows, q=flt.q or "", status=flt.status or "")


@bp.get("/tickets/<string:ticket_no>")
@require_roles()
def ticket(ticket_no: str) -> str:
    view = engine().view_ticket(ticket_no, current_actor())
    return render_template("ticket.html", ticket=view, diagram=_diagram(view),
                           links=engine().escalations.for_ticket(ticket_no))


@bp.get("/notices")
@require_roles()
def notices_page() -> str:
    """Urge notices, reminders and escalations the ticket timers raised, newest first."""
    kind = request.args.get("kind") if request.args.get("kind") in labels.NOTICE_KINDS else None
    unit = current_actor().scoped_unit
    with engine().db.read() as db_session:
        rows = notices.recent(db_session, kind, limit=1000 if unit else 200)
    # A handling unit's staff see what is addressed to their unit; everyone else sees every notice.
    rows = notices.for_unit(rows, unit)[:200] if unit else rows
    return render_template("notices.html", notices=rows, kind=kind or "", unit=unit)


@bp.route("/intake", methods=["GET", "POST"])
@require_roles("intake")
def intake() -> Any:
    form = engine().forms.get("intake")
    if request.method == "GET":
        return render_template("intake.html", fields=render_fields(form))
    data = parse_submission(form, request.form)
    try:
        result = engine().intake(data, current_actor())
    except InvalidData as exc:
        return render_template("intake.html", fields=render_fields(form, data, exc.field_errors),
                               message=exc.message), 400
    flash(f"工单 {result.ticket_no} {'已登记' if result.created else '已存在，未重复登记'}")
    return redirect(url_for("pages.ticket", ticket_no=result.ticket_no))


def _submit(view: dict[str, Any], data: dict[str, Any], actor: Any, version: int | None) -> None:
    if view["kind"] == "message":
        engine().deliver_message(view["instance_id"], view["form_key"], data, actor, version)
    else:
        engine().complete_task(view["id"], data, actor, version)


def _task_page(view: dict[str, Any], form: FormDefinition, values: dict[str, Any],
               errors: dict[str, list[str]], message: str | None = None) -> str:
    return render_template("task.html", task=view, form=form, fields=render_fields(form, values, errors),
                           message=message)


def _diagram(view: dict[str, Any]) -> Any:
    tasks = view["tasks"]
    if not tasks:
        return None
    with engine().db.read() as db_session:
        deployment = engine().deployments.get(db_session.connection(),
                                              queries.instance_deployment(db_session, tasks[0]["instance_id"]))
        xml = queries.deployment_xml(db_session, deployment.id)
    finished = {t["step"] for t in tasks if t["state"] == "completed"}
    current = {t["step"] for t in tasks if t["state"] == "open"}
    return diagram.render(xml, finished, current)


def _safe_next(target: str | None) -> str:
    # Only local paths: an absolute URL here would make the login page an open redirect.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.tasks")
