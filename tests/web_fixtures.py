"""Fixtures for the web app: the Flask app on the test engine, users of every role, clients."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app
from engine.service import Engine
from tests.conftest import ADMIN

PASSWORD = "correct-horse-1"
USERS = {"shouli": ["intake"], "paidan": ["dispatcher"], "chengban": ["unit"], "liucheng": ["process_owner"],
         "shenji": ["auditor"], "admin": ["admin"]}


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
