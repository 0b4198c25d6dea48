"""Property-based run of the OpenAPI spec (schemathesis): whatever the input, no answer is a 500."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api import create_app
from engine.db import Database
from engine.factory import workflows_dir
from engine.service import Engine
from tests.conftest import ADMIN

# The spec is read from an app on a throwaway SQLite file; each example then runs against the test database.
_SPEC_DB = Database("sqlite://")
_SPEC_DB.migrate()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app({"TESTING": True}, Engine(_SPEC_DB)))


@pytest.fixture
def fuzz_target(db, clock) -> tuple[Flask, dict[str, str]]:
    """The app on the test database with an admin token: admins reach every endpoint's deepest code."""
    engine = Engine(db, clock=clock)
    engine.deploy_dir(workflows_dir(), ADMIN)
    engine.users.add("fuzz", "模糊测试", ["admin"], "fuzz-password-1", ADMIN)
    app = create_app({"TESTING": True, "SECRET_KEY": "fuzz"}, engine=engine)
    reply = app.test_client().post("/api/v1/auth/token", json={"username": "fuzz", "password": "fuzz-password-1"})
    return app, {"Authorization": f"Bearer {reply.json['token']}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gives_a_server_error(case, fuzz_target):
    app, headers = fuzz_target
    case.call_and_validate(app=app, headers=headers, checks=[not_a_server_error])
