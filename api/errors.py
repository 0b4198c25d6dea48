"""One JSON error shape for the API ({code, message, errors}), Chinese pages for the browser."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError

STATUS = {
    "not_found": 404, "conflict": 409, "invalid_data": 400, "invalid_bpmn": 400, "duplicate_ticket": 409,
    "forbidden": 403, "unauthorized": 401, "too_many_attempts": 429, "workflow_error": 422,
}
HTTP_MESSAGES = {
    400: "请求格式不正确", 401: "请先登录", 403: "无权访问", 404: "页面或资源不存在", 405: "不支持此请求方法",
    409: "数据冲突", 413: "提交的内容过大", 415: "不支持的内容类型", 422: "提交的数据有误", 429: "请求过于频繁",
}


def register(app: Flask) -> None:
    app.register_error_handler(EngineError, _engine_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def respond(status: int, code: str, message: str, errors: dict[str, Any] | None = None) -> Any:
    if _wants_json():
        return jsonify({"code": code, "message": message, "errors": errors or {}}), status
    return render_template("error.html", status=status, message=message, errors=errors or {}), status


def _engine_error(exc: EngineError) -> Any:
    if exc.code == "unauthorized" and not _wants_json() and request.endpoint != "pages.login":
        return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
    if exc.code in ("unauthorized", "too_many_attempts") and request.endpoint == "pages.login":
        return render_template("login.html", message=exc.message), STATUS[exc.code]
    return respond(STATUS.get(exc.code, 400), exc.code, exc.message, exc.field_errors)


def _csrf_error(exc: CSRFError) -> Any:
    return respond(400, "csrf", "页面已过期或来源不可信，请刷新后重试")


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    errors = _validation_messages(exc)
    if errors:  # request validation (flask-smorest): the caller's mistake, answered like every bad input
        return respond(400, "invalid_data", HTTP_MESSAGES[422], errors)
    return respond(status, f"http_{status}", HTTP_MESSAGES.get(status, exc.name))


def _validation_messages(exc: HTTPException) -> dict[str, Any]:
    messages = (getattr(exc, "data", None) or {}).get("messages", {})
    merged: dict[str, Any] = {}
    for location in messages.values():  # flask-smorest groups them by json / query / files
        if isinstance(location, dict):
            merged.update(location)
        else:  # the body as a whole: not JSON, or not an object
            merged["_schema"] = ["请求体格式不正确，应为 JSON 对象。"]
    return merged


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"
