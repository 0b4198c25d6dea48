"""Entry points for people: the Flask JSON API and web pages, and the command line."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect
from swagger_ui_bundle import swagger_ui_path

from api.rest.schemas import ErrorSchema
from engine.factory import open_engine
from engine.service import Engine

DEFAULTS: dict[str, Any] = {
    "API_TITLE": "Jiesu 接诉即办 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs-assets/",  # served from the installed bundle: no CDN needed
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "JSON_AS_ASCII": False,
}


def create_app(config: dict[str, Any] | None = None, engine: Engine | None = None) -> Flask:
    """The app factory: one engine per process, blueprints per area, configuration from the environment."""
    instance = Path(os.environ.get("JIESU_INSTANCE_DIR", "instance")).resolve()
    app = Flask(__name__, static_folder=None, instance_path=str(instance))
    app.config.update(DEFAULTS)
    app.config["SECRET_KEY"] = os.environ.get("JIESU_SECRET_KEY") or _instance_secret(Path(app.instance_path))
    app.config.update(config or {})
    app.json.ensure_ascii = False
    app.extensions["jiesu_engine"] = engine or open_engine()

    from api import errors
    from api.rest import analysis, audit, deployments, escalations, tasks, tickets, tokens
    from api.web import analysis_pages, audit_pages, escalation_pages, pages

    csrf = CSRFProtect(app)
    api = _JiesuApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    for blueprint in (tickets.blp, tasks.blp, deployments.blp, tokens.blp, audit.blp, analysis.blp, escalations.blp):
        api.register_blueprint(blueprint, url_prefix="/api/v1")
        csrf.exempt(blueprint)  # the JSON API authenticates with bearer tokens, not cookies
    app.register_blueprint(pages.bp)
    app.register_blueprint(audit_pages.bp)
    app.register_blueprint(analysis_pages.bp)
    app.register_blueprint(escalation_pages.bp)
    errors.register(app)
    app.add_url_rule("/api/v1/docs-assets/<path:filename>", "swagger_assets", _swagger_asset)
    return app


class _JiesuApi(Api):
    """Documents our error shape ({code, message, errors}) instead of flask-smorest's default."""

    ERROR_SCHEMA = ErrorSchema


def _swagger_asset(filename: str) -> Any:
    from flask import send_from_directory

    return send_from_directory(swagger_ui_path, filename)


def _instance_secret(folder: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts without configuration."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()
