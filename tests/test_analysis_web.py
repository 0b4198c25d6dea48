"""The analysts' dashboard page, its charts and the Word reports over the web and the API."""

from __future__ import annotations

import io

from docx import Document

from tests.helpers import finish, receive, to_handling
from tests.web_fixtures import login_page


def _closed_ticket(engine) -> None:
    ticket = receive(engine, "AN-1")
    to_handling(engine, ticket.instance_id)
    finish(engine, ticket.instance_id)


def test_dashboard_page_shows_rates_and_serves_charts(client, engine):
    _closed_ticket(engine)
    login_page(client, "fenxi")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "三率与综合得分" in html and "100.00" in html and "城市管理" in html
    chart = client.get("/dashboard/chart/rates.png")
    assert chart.status_code == 200 and chart.data.startswith(b"\x89PNG")
    assert client.get("/dashboard/chart/nothing.png").status_code == 404


def test_reports_download_as_word(client, token, engine):
    _closed_ticket(engine)
    login_page(client, "fenxi")
    page = client.get("/reports?kind=monthly&period=2026-12")
    assert page.status_code == 200 and page.headers["Content-Disposition"].startswith("attachment")
    assert any("月报" in p.text for p in Document(io.BytesIO(page.data)).paragraphs)
    assert client.get("/reports?kind=nonsense").status_code == 400
    assert client.get("/reports?kind=monthly&period=2026-Q4").status_code == 400
    api = client.get("/api/v1/reports/weekly?period=2026-W47", headers=token("fenxi"))
    assert api.status_code == 200 and Document(io.BytesIO(api.data)).paragraphs


def test_dashboard_api_and_roles(client, token, engine):
    _closed_ticket(engine)
    data = client.get("/api/v1/dashboard", headers=token("fenxi")).json
    assert data["rates"]["current"]["composite"] == 100.0 and "13800138000" not in str(data)
    assert client.get("/api/v1/dashboard", headers=token("shouli")).status_code == 403
    login_page(client, "shouli")
    assert client.get("/dashboard").status_code == 403
