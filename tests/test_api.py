"""The JSON API: every endpoint's success and failure cases, roles, and the error shape."""

from __future__ import annotations

import io

import pytest

from engine.factory import workflows_dir
from tests.helpers import VALID, audit_rows, open_task, receive, ticket_fields
from tests.web_fixtures import PASSWORD

TICKET_XML = (workflows_dir() / "ticket.bpmn").read_bytes()


def _error(reply, status: int, code: str) -> dict:
    assert reply.status_code == status, reply.json
    assert set(reply.json) == {"code", "message", "errors"} and reply.json["code"] == code
    return reply.json


def test_token_login_and_refusals(client):
    _error(client.post("/api/v1/auth/token", json={"username": "shouli", "password": "wrong"}), 401, "unauthorized")
    _error(client.post("/api/v1/auth/token", json={"username": "shouli"}), 400, "invalid_data")
    _error(client.get("/api/v1/tasks"), 401, "unauthorized")
    _error(client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")


def test_login_is_rate_limited_per_user(client):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "paidan", "password": "wrong"})
    reply = client.post("/api/v1/auth/token", json={"username": "paidan", "password": PASSWORD})
    assert _error(reply, 429, "too_many_attempts")["message"].startswith("登录失败次数过多")


def test_intake_is_idempotent_and_refuses_conflicts(client, token):
    body = ticket_fields("API-1")
    first = client.post("/api/v1/tickets", json=body, headers=token("shouli"))
    assert first.status_code == 201 and first.json["created"] is True
    again = client.post("/api/v1/tickets", json=body, headers=token("shouli"))
    assert again.status_code == 200 and again.json["ticket_id"] == first.json["ticket_id"]
    task = client.get(f"/api/v1/tasks/{first.json['open_tasks'][0]}", headers=token("shouli"))
    assert task.json["step"] == "verify" and again.json["open_tasks"] == first.json["open_tasks"]
    _error(client.post("/api/v1/tickets", json=body | {"content": "别的事"}, headers=token("shouli")), 409,
           "duplicate_ticket")
    bad = _error(client.post("/api/v1/tickets", json=body | {"source": "fax", "ticket_no": "API-2"},
                             headers=token("shouli")), 400, "invalid_data")
    assert bad["errors"] == {"source": ["不是允许的选项。"]}
    _error(client.post("/api/v1/tickets", json=body, headers=token("chengban")), 403, "forbidden")


def test_ticket_list_filter_and_detail_masking(client, token, engine):
    receive(engine, "API-10", content="楼道堆物", address="水关新村5号楼")
    receive(engine, "API-11", content="路灯不亮")
    listing = client.get("/api/v1/tickets?q=水关", headers=token("paidan")).json
    assert [t["ticket_no"] for t in listing] == ["API-10"] and "caller_phone" not in listing[0]
    assert client.get("/api/v1/tickets?q=%25", headers=token("paidan")).json == []  # LIKE wildcards are literal
    _error(client.get("/api/v1/tickets?status=weird", headers=token("paidan")), 400, "invalid_data")
    masked = client.get("/api/v1/tickets/API-10", headers=token("paidan")).json
    assert masked["caller_phone"] == "138****8000" and masked["personal_data_masked"] is True
    plain = client.get("/api/v1/tickets/API-10", headers=token("shouli")).json
    assert plain["caller_phone"] == "13800138000"
    assert [e["event"] for e in plain["timeline"]][:2] == ["ticket.received", "instance.started"]
    _error(client.get("/api/v1/tickets/NOPE", headers=token("shouli")), 404, "not_found")


def test_task_list_detail_complete_with_version_and_conflict(client, token, engine):
    ticket = receive(engine, "API-20")
    tasks = client.get("/api/v1/tasks", headers=token("shouli")).json
    task = next(t for t in tasks if t["ticket_no"] == "API-20")
    assert client.get("/api/v1/tasks", headers=token("chengban")).json == []
    detail = client.get(f"/api/v1/tasks/{task['id']}", headers=token("shouli")).json
    assert detail["form"]["key"] == "verify" and detail["ticket"]["ticket_no"] == "API-20"
    assert [f["name"] for f in detail["form"]["fields"]][:2] == ["is_valid", "invalid_reason"]
    _error(client.get(f"/api/v1/tasks/{task['id']}", headers=token("chengban")), 403, "forbidden")

    url = f"/api/v1/tasks/{task['id']}/complete"
    _error(client.post(url, json={"data": VALID, "version": task["instance_version"]}, headers=token("chengban")),
           403, "forbidden")
    bad = _error(client.post(url, json={"data": {"is_valid": "x"}, "version": task["instance_version"]},
                             headers=token("shouli")), 400, "invalid_data")
    assert bad["errors"]["is_valid"] == ["格式不正确。"]
    _error(client.post(url, json={"data": VALID}, headers=token("shouli")), 400, "invalid_data")
    _error(client.post(url, json={"data": VALID, "version": task["instance_version"] + 5}, headers=token("shouli")),
           409, "conflict")
    done = client.post(url, json={"data": VALID, "version": task["instance_version"]}, headers=token("shouli"))
    assert done.status_code == 200 and done.json["status"] == "running"
    _error(client.post(url, json={"data": VALID, "version": done.json["version"]}, headers=token("shouli")),
           409, "conflict")
    assert open_task(engine, ticket.instance_id, "screen")
    _error(client.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", headers=token("shouli")), 404,
           "not_found")


def test_claim_and_release(client, token, engine):
    ticket = receive(engine, "API-30")
    task_id = open_task(engine, ticket.instance_id, "verify").id
    assert client.post(f"/api/v1/tasks/{task_id}/claim", headers=token("shouli")).status_code == 204
    mine = client.get("/api/v1/tasks?mine=true", headers=token("shouli")).json
    assert [t["id"] for t in mine] == [task_id] and mine[0]["assignee"] == "shouli"
    _error(client.post(f"/api/v1/tasks/{task_id}/claim", headers=token("chengban")), 403, "forbidden")
    assert client.post(f"/api/v1/tasks/{task_id}/release", headers=token("shouli")).status_code == 204
    assert client.get("/api/v1/tasks?mine=true", headers=token("shouli")).json == []
    _error(client.get("/api/v1/tasks?role=unit", headers=token("shouli")), 403, "forbidden")


def test_messages_and_cancel(client, token, engine):
    ticket = receive(engine, "API-40")
    url = f"/api/v1/instances/{ticket.instance_id}/messages/return_decision"
    _error(client.post(url, json={"payload": {"return_approved": True}}, headers=token("shouli")), 409, "conflict")
    _error(client.post(f"/api/v1/instances/{ticket.instance_id}/cancel", json={"reason": "撤回"},
                       headers=token("paidan")), 403, "forbidden")
    _error(client.post(f"/api/v1/instances/{ticket.instance_id}/cancel", json={}, headers=token("shouli")), 400,
           "invalid_data")
    done = client.post(f"/api/v1/instances/{ticket.instance_id}/cancel", json={"reason": "上级撤回"},
                       headers=token("shouli"))
    assert done.status_code == 200 and done.json["status"] == "cancelled"
    _error(client.post("/api/v1/instances/99999/cancel", json={"reason": "x"}, headers=token("shouli")), 404,
           "not_found")


def test_deployments(client, token):
    def upload(xml: bytes, who: str = "liucheng"):
        return client.post("/api/v1/deployments", data={"file": (io.BytesIO(xml), "ticket.bpmn")},
                           headers=token(who), content_type="multipart/form-data")

    assert upload(TICKET_XML).status_code == 200  # unchanged content: no new version
    changed = upload(TICKET_XML.replace('name="登记"'.encode(), 'name="登记办理"'.encode()))
    assert changed.status_code == 201 and changed.json["version"] == 2
    bad = _error(upload(TICKET_XML.replace(b"closed = True", b"import os")), 400, "invalid_bpmn")
    assert "close（办结）" in bad["message"]
    _error(upload(b"<not-xml"), 400, "invalid_bpmn")
    _error(upload(TICKET_XML, who="shouli"), 403, "forbidden")
    _error(client.post("/api/v1/deployments", headers=token("liucheng")), 400, "invalid_data")
    versions = client.get("/api/v1/deployments", headers=token("shenji")).json
    assert [(d["process_id"], d["version"]) for d in versions if d["process_id"] == "ticket"] == [
        ("ticket", 2), ("ticket", 1)]
    assert {"recurring_work", "retrospective"} <= {d["process_id"] for d in versions}


@pytest.mark.parametrize("path", ["/api/v1/tickets", "/api/v1/tasks/x/complete"])
def test_oversized_and_malformed_bodies(client, token, path):
    for body in ("{", "[1, 2]", '"text"'):
        reply = _error(client.post(path, data=body, content_type="application/json", headers=token("shouli")), 400,
                       "invalid_data")
        assert reply["errors"] == {"_schema": ["请求体格式不正确，应为 JSON 对象。"]}
    big = b'{"content": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    _error(client.post(path, data=big, content_type="application/json", headers=token("shouli")), 413, "http_413")


def test_openapi_spec_and_docs(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/tasks/{task_id}/complete" in spec["paths"]
    assert spec["components"]["schemas"]["Error"]["properties"]["code"]["type"] == "string"
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/docs-assets/swagger-ui-bundle.js").status_code == 200


def test_every_api_call_that_changes_something_is_audited_with_its_user(client, token, engine):
    ticket = receive(engine, "API-50")
    task = open_task(engine, ticket.instance_id, "verify")
    client.post(f"/api/v1/tasks/{task.id}/complete", json={"data": VALID, "version": 1}, headers=token("shouli"))
    rows = [(r.event, r.actor) for r in audit_rows(engine)]
    assert ("login.succeeded", "shouli") in rows and ("task.completed", "shouli") in rows


def test_nul_characters_are_refused_as_bad_input_on_every_database(client, token):
    assert client.post("/api/v1/auth/token", json={"username": "\x00", "password": "x"}).status_code == 400
    reply = client.post("/api/v1/tickets", json=ticket_fields("NUL-1", content="噪音\x00扰民"), headers=token("shouli"))
    assert _error(reply, 400, "invalid_data")["errors"] == {"content": ["不能包含空字符（\\0）。"]}
    assert client.get("/api/v1/tickets?q=%00", headers=token("shouli")).status_code == 400
