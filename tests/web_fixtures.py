"""Fixtures for the web app: the Flask app on the test engine, users of every role, clients."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from api import create_app
from engine.service import Engine
from tests.conftest import ADMIN

PASSWORD = "correct-horse-1"
USERS = {"shouli": ["intake"], "paidan": ["dispatcher"], "chengban": ["unit"], "liucheng": ["process_owner"],
         "shenji": ["auditor"], "fenxi": ["analyst"], "zhiban": ["duty_officer"], "admin": ["admin"]}


@pytest.fixture
def app(engine: Engine, tmp_path: Any) -> Flask:
    for username, roles in USERS.items():
        engine.users.add(username, f"测试{username}", roles, PASSWORD, ADMIN)
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret"}, engine=engine)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token(client: FlaskClient):
    cache: dict[str, str] = {}

    def for_user(username: str) -> dict[str, str]:
        if username not in cache:
            reply = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert reply.status_code == 201, reply.json
            cache[username] = reply.json["token"]
        return {"Authorization": f"Bearer {cache[username]}"}

    return for_user


@pytest.fixture
def live_server(app: Flask):
    """The app on a real HTTP server on loopback, for the browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


CHROMIUM = "/usr/bin/chromium"
# The closed network here refuses Chromium's background connections; these flags keep it quiet.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Debian chromium")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login_page(client: FlaskClient, username: str) -> None:
    """Sign in through the login form, as a browser would (CSRF token included)."""
    page = client.get("/login").get_data(as_text=True)
    reply = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert reply.status_code == 302, reply.get_data(as_text=True)
