"""The escalation pages and API: flag from a ticket, the incident page, evidence, the duty roster."""

from __future__ import annotations

import io

from tests.helpers import receive
from tests.web_fixtures import csrf_token, login_page


def test_flag_from_the_ticket_page_opens_the_incident_page(client, engine):
    receive(engine, "ES-1", content="楼道灯坏了一周，晚上看不见路。")
    receive(engine, "ES-0", content="小区门口有人聚集拉横幅，情绪激动。")  # sensitive words: opened at intake
    login_page(client, "shouli")
    page = client.get("/tickets/ES-1").get_data(as_text=True)
    assert "标记为舆情" in page
    reply = client.post("/tickets/ES-1/flag", data={"reason": "媒体记者已到现场", "csrf_token": csrf_token(page)})
    assert reply.status_code == 302 and "/incidents/" in reply.headers["Location"]
    incident = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert "舆情" in incident and "ES-1" in incident and "媒体记者已到现场" in incident and "尚未确认" in incident
    assert "确认接报" in incident  # the acknowledgment step waits for the duty officer
    assert client.get("/incidents?open=1").get_data(as_text=True).count("/incidents/") == 4  # 2 incidents x 2 links
    assert "群诉与舆情" in client.get("/tickets/ES-1").get_data(as_text=True)
    again = client.post("/tickets/ES-0/flag", data={"reason": "重复标记", "csrf_token": csrf_token(page)})
    assert again.status_code == 409  # the ticket already has an open incident


def test_incident_api_flag_detail_evidence_and_refusals(client, token, engine):
    receive(engine, "ES-2")
    flagged = client.post("/api/v1/tickets/ES-2/flag", json={"reason": "网上热议"}, headers=token("shouli"))
    assert flagged.status_code == 201
    incident_id = flagged.json["incident_id"]
    detail = client.get(f"/api/v1/incidents/{incident_id}", headers=token("zhiban")).json
    assert [t["ticket_no"] for t in detail["tickets"]] == ["ES-2"] and detail["acknowledged"] is None
    assert "13800138000" not in str(detail)
    upload = client.post(f"/api/v1/incidents/{incident_id}/evidence", headers=token("zhiban"),
                         data={"file": (io.BytesIO(b"\xff\xd8\xff photo"), "现场.jpg")},
                         content_type="multipart/form-data")
    assert upload.status_code == 201 and upload.json["filename"] == "现场.jpg"
    bad = client.post(f"/api/v1/incidents/{incident_id}/evidence", headers=token("zhiban"),
                      data={"file": (io.BytesIO(b"MZ"), "run.exe")}, content_type="multipart/form-data")
    assert bad.status_code == 400
    assert client.post("/api/v1/tickets/ES-2/flag", json={"reason": ""}, headers=token("shouli")).status_code == 400
    assert client.post("/api/v1/tickets/NOPE/flag", json={"reason": "x"}, headers=token("shouli")).status_code == 404
    assert client.get(f"/api/v1/incidents/{incident_id}", headers=token("shenji")).status_code == 403
    assert client.get("/api/v1/incidents/999999", headers=token("zhiban")).status_code == 404
    listed = client.get("/api/v1/incidents?open=true", headers=token("zhiban")).json
    assert [i["id"] for i in listed] == [incident_id]


def test_duty_roster_over_api_and_page(client, token):
    added = client.post("/api/v1/roster", json={"day": "2026-11-20", "shift": "白班", "level": 1, "person": "何平",
                                                "email": "heping@example.com"}, headers=token("zhiban"))
    assert added.status_code == 201
    roster = client.get("/api/v1/roster?from=2026-11-20&days=1", headers=token("zhiban")).json
    assert [(r["person"], r["level_label"]) for r in roster] == [("何平", "值班员")]
    assert client.post("/api/v1/roster", json={"day": "2026-11-20", "shift": "午班", "person": "x"},
                       headers=token("zhiban")).status_code == 400
    assert client.post("/api/v1/roster", json={"day": "2026-11-20", "shift": "白班", "person": "x"},
                       headers=token("shouli")).status_code == 403
    login_page(client, "zhiban")
    page = client.get("/roster").get_data(as_text=True)
    assert "何平" in page
    removed = client.post(f"/roster/{added.json['id']}/remove", data={"csrf_token": csrf_token(page)})
    assert removed.status_code == 302 and "何平" not in client.get("/roster").get_data(as_text=True)
