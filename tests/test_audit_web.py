"""The auditors' JSON API and page over the audit trail."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import text

from tests.conftest import unguarded_audit
from tests.helpers import VALID, do, receive
from tests.web_fixtures import login_page


def _two_tickets(engine) -> None:
    for number in ("AU-1", "AU-2"):
        ticket = receive(engine, number)
        do(engine, ticket.instance_id, "verify", VALID)


def test_auditor_pages_through_a_tickets_rows(client, token, engine):
    _two_tickets(engine)
    first = client.get("/api/v1/audit?ticket_no=AU-1&limit=2&order=oldest", headers=token("shenji")).json
    assert [r["event"] for r in first["rows"]] == ["ticket.received", "instance.started"]
    assert first["has_more"] and all(r["ticket_no"] == "AU-1" for r in first["rows"])
    rest = client.get(f"/api/v1/audit?ticket_no=AU-1&order=oldest&after={first['next_after']}",
                      headers=token("shenji")).json
    assert [r["event"] for r in rest["rows"]] == ["task.opened", "task.completed", "task.opened"]
    assert not rest["has_more"]
    logins = client.get("/api/v1/audit?event=login.succeeded", headers=token("shenji")).json["rows"]
    assert {r["actor"] for r in logins} == {"shenji"}


def test_audit_api_refusals(client, token, engine):
    _two_tickets(engine)
    assert client.get("/api/v1/audit", headers=token("shouli")).status_code == 403
    assert client.get("/api/v1/audit?ticket_no=NOPE", headers=token("shenji")).status_code == 404
    bad = client.get("/api/v1/audit?since=yesterday&event=nonsense", headers=token("shenji"))
    assert bad.status_code == 400 and set(bad.json["errors"]) == {"since", "event"}
    reversed_range = client.get("/api/v1/audit?since=2026-11-20T10:00&until=2026-11-20T09:00",
                                headers=token("shenji"))
    assert reversed_range.status_code == 400


def test_exports_in_csv_and_excel(client, token, engine):
    _two_tickets(engine)
    reply = client.get("/api/v1/audit/export?ticket_no=AU-2&format=csv", headers=token("shenji"))
    assert reply.status_code == 200 and "attachment" in reply.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + 5 and all("AU-2" in line for line in rows[1:])
    excel = client.get("/api/v1/audit/export?ticket_no=AU-2&format=xlsx", headers=token("shenji"))
    sheet = load_workbook(io.BytesIO(excel.data)).active
    assert sheet.max_row == 1 + 5


def test_verify_reports_ok_then_names_an_edited_row(client, token, engine):
    _two_tickets(engine)
    report = client.get("/api/v1/audit/verify", headers=token("shenji")).json
    assert report["ok"] and report["checked"] > 10
    with engine.db.engine.begin() as conn, unguarded_audit(conn):
        target = conn.scalar(text("SELECT id FROM audit_events WHERE event = 'task.completed' ORDER BY id LIMIT 1"))
        conn.execute(text("UPDATE audit_events SET actor = 'someone else' WHERE id = :id"), {"id": target})
    broken = client.get("/api/v1/audit/verify", headers=token("shenji")).json
    assert not broken["ok"] and broken["broken_id"] == target


def test_audit_page_filters_pages_and_verifies(client, engine):
    _two_tickets(engine)
    login_page(client, "shenji")
    html = client.get("/audit?ticket_no=AU-1").get_data(as_text=True)
    assert html.count('href="/tickets/AU-1"') == 5 and "AU-2" not in html
    assert "完整：已校验" in client.get("/audit/verify").get_data(as_text=True)
    assert client.get("/audit/export.csv?ticket_no=AU-1").status_code == 200
    assert client.get("/audit/export.pdf").status_code == 400
    assert client.get("/audit?since=bad").status_code == 400
    login_page(client, "shouli")
    assert client.get("/audit").status_code == 403
