"""Staff see the notices ticket timers raise: on the 催办提醒 page and in the ticket's timeline."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.workdays import LOCAL_TZ
from tests.conftest import ADMIN
from tests.helpers import DISPATCH, SCREEN_OK, VALID, do, fire_all, receive
from tests.web_fixtures import PASSWORD, login_page

SIGN_FOR_DUE = datetime(2026, 11, 24, tzinfo=LOCAL_TZ)  # the ticket is received on Friday 20 November


def urged_ticket(engine, clock) -> str:
    """A ticket dispatched and not signed for by its deadline: the timer urges the unit and its leader."""
    ticket = receive(engine, "NOTE-1")
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH)):
        do(engine, ticket.instance_id, step, data)
    clock.now = SIGN_FOR_DUE.astimezone(UTC)
    assert fire_all(engine) == 1
    return ticket.ticket_no


def test_notices_page_lists_the_urge_with_its_ticket_and_filters_by_kind(client, engine, clock):
    ticket_no = urged_ticket(engine, clock)
    login_page(client, "chengban")
    page = client.get("/notices").get_data(as_text=True)
    assert "催办提醒" in page and "已超过签收时限" in page
    assert f'href="/tickets/{ticket_no}"' in page and f"{DISPATCH['lead_unit']}负责人" in page
    assert "已超过签收时限" not in client.get("/notices?kind=reminder").get_data(as_text=True)
    assert "已超过签收时限" in client.get("/notices?kind=urge").get_data(as_text=True)
    assert "已超过签收时限" in client.get("/notices?kind=<script>").get_data(as_text=True)  # unknown: all kinds


def test_ticket_timeline_shows_the_notice_text_and_recipients(client, engine, clock):
    ticket_no = urged_ticket(engine, clock)
    login_page(client, "paidan")
    page = client.get(f"/tickets/{ticket_no}").get_data(as_text=True)
    assert "催办：工单 NOTE-1 已超过签收时限，请立即签收" in page
    assert f"发给：{DISPATCH['lead_unit']}、{DISPATCH['lead_unit']}负责人" in page


def test_notices_page_needs_login(client):
    reply = client.get("/notices")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_a_scoped_unit_sees_only_notices_addressed_to_its_unit(client, engine, clock):
    urged_ticket(engine, clock)  # urges 城南街道综合执法队 and its leader
    engine.users.add("wuyeke", "物业科李", ["unit"], PASSWORD, ADMIN, "城南街道物业管理科")
    engine.users.add("zhifadui", "执法队刘", ["unit"], PASSWORD, ADMIN, DISPATCH["lead_unit"])
    login_page(client, "wuyeke")
    other = client.get("/notices").get_data(as_text=True)
    assert "已超过签收时限" not in other and "发给城南街道物业管理科" in other
    login_page(client, "zhifadui")
    assert "已超过签收时限" in client.get("/notices").get_data(as_text=True)
