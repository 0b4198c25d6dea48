"""Server-rendered pages through Flask's test client: login, CSRF, forms, escaping, masking."""

from __future__ import annotations

import re

from tests.helpers import VALID, audit_rows, do, open_task, receive
from tests.web_fixtures import PASSWORD, csrf_token, login_page

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'


def test_pages_need_login_and_login_needscsrf_token(client):
    reply = client.get("/tasks")
    assert reply.status_code == 302 and "/login?next=/tasks" in reply.headers["Location"]
    refused = client.post("/login", data={"username": "shouli", "password": PASSWORD})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    page = client.get("/login").get_data(as_text=True)
    wrong = client.post("/login", data={"username": "shouli", "password": "bad", "csrf_token": csrf_token(page)})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.get_data(as_text=True)


def test_login_redirects_only_to_local_pages(client):
    page = client.get("/login").get_data(as_text=True)
    reply = client.post("/login?next=https://evil.example/", data={
        "username": "shouli", "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert reply.headers["Location"] == "/tasks"


def test_task_page_shows_form_and_refuses_bad_data_with_field_errors(client, engine):
    ticket = receive(engine, "WEB-1")
    task = open_task(engine, ticket.instance_id, "verify")
    login_page(client, "shouli")
    listing = client.get("/tasks").get_data(as_text=True)
    assert "WEB-1" in listing and "核实" in listing
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "工单是否有效" in page and "13800138000" in page  # intake staff see the caller's phone
    bad = client.post(f"/tasks/{task.id}", data={"is_valid": "false", "csrf_token": csrf_token(page), "version": "1"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and html.count("此项为必填项。") == 2  # invalid_reason, contact_verified
    ok = client.post(f"/tasks/{task.id}", data={"is_valid": "true", "contact_verified": "true",
                                                 "csrf_token": csrf_token(page), "version": "1"})
    assert ok.status_code == 302
    assert open_task(engine, ticket.instance_id, "screen")


def test_stale_form_is_refused_with_a_conflict_page(client, engine):
    ticket = receive(engine, "WEB-2")
    task = open_task(engine, ticket.instance_id, "verify")
    login_page(client, "shouli")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    reply = client.post(f"/tasks/{task.id}", data={"is_valid": "true", "contact_verified": "true",
                                                    "csrf_token": csrf_token(page), "version": "7"})
    assert reply.status_code == 409 and "已被他人更新" in reply.get_data(as_text=True)


def test_hostile_text_is_escaped_everywhere(client, engine):
    ticket = receive(engine, "WEB-3", content=HOSTILE, address=HOSTILE, community=HOSTILE)
    do(engine, ticket.instance_id, "verify", VALID | {"verify_note": HOSTILE})
    login_page(client, "shouli")
    for url in ("/tickets/WEB-3", "/tickets?q=script", f"/tasks/{open_task(engine, ticket.instance_id, 'screen').id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and 'onerror="alert' not in html
        assert "&lt;script&gt;alert" in html


def test_unit_sees_masked_phone_and_cannot_open_intake_tasks(client, engine):
    ticket = receive(engine, "WEB-4")
    login_page(client, "paidan")
    assert "138****8000" in client.get("/tickets/WEB-4").get_data(as_text=True)
    reply = client.get(f"/tasks/{open_task(engine, ticket.instance_id, 'verify').id}")
    assert reply.status_code == 403


def test_intake_page_registers_a_ticket(client, engine):
    login_page(client, "shouli")
    page = client.get("/intake").get_data(as_text=True)
    reply = client.post("/intake", data={
        "csrf_token": csrf_token(page), "ticket_no": "WEB-5", "source": "app", "received_at": "2026-11-20T08:30",
        "address": "城南街道水关新村", "content": "路灯不亮", "tags": "照明\n夜间"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/tickets/WEB-5")
    shown = client.get("/tickets/WEB-5").get_data(as_text=True)
    assert "路灯不亮" in shown and "2026-11-20 08:30" in shown
    assert [r.event for r in audit_rows(engine) if r.ticket_id][:2] == ["ticket.received", "instance.started"]


def test_ticket_page_marks_the_diagram(client, engine):
    ticket = receive(engine, "WEB-6")
    do(engine, ticket.instance_id, "verify", VALID)
    login_page(client, "paidan")
    html = client.get("/tickets/WEB-6").get_data(as_text=True)
    assert re.search(r'class="node userTask finished" data-element="verify"', html)
    assert re.search(r'class="node userTask current" data-element="screen"', html)
    assert re.search(r'class="node userTask idle" data-element="dispatch"', html)
