"""A real Chromium drives the pages: intake staff, dispatcher and handling unit move a ticket on."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.helpers import receive
from tests.web_fixtures import PASSWORD

HOSTILE = '<script>window.pwned = 1; alert("x")</script><img src=x onerror="window.pwned = 2">'


def _login(browser: Browser, base: str, username: str) -> Page:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    page.goto(f"{base}/tasks")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("我的待办")
    return page


def _open_task(page: Page, ticket_no: str, step: str) -> None:
    page.get_by_role("link", name="我的待办").click()
    page.locator("tr", has_text=ticket_no).filter(has_text=step).get_by_role("link", name=step).click()
    expect(page.locator("h1")).to_contain_text(step)


def test_ticket_moves_from_intake_to_the_handling_unit(browser, live_server, engine):
    receive(engine, "PW-1", content="小区东门路灯连续一周不亮，晚上出行不安全。")

    intake = _login(browser, live_server, "shouli")
    _open_task(intake, "PW-1", "核实")
    expect(intake.locator("aside")).to_contain_text("13800138000")
    intake.click("button:has-text('提交')")
    expect(intake.locator(".field-error").first).to_have_text("此项为必填项。")
    intake.check("input[name=is_valid][value=true]")
    intake.check("input[name=contact_verified][value=true]")
    intake.click("button:has-text('提交')")
    expect(intake.locator(".flash")).to_contain_text("已完成：核实")

    _open_task(intake, "PW-1", "甄别")
    intake.fill("#f-category_l1", "城市管理")
    intake.fill("#f-category_l2", "市政设施")
    intake.select_option("#f-request_type", "求助")
    intake.select_option("#f-sla_level", "7d")
    intake.check("input[name=policy_tags][value=安全性]")
    intake.check("input[name=is_responsible][value=true]")
    intake.click("button:has-text('提交')")
    expect(intake.locator(".flash")).to_contain_text("已完成：甄别")

    dispatcher = _login(browser, live_server, "paidan")
    _open_task(dispatcher, "PW-1", "派单")
    expect(dispatcher.locator("aside")).to_contain_text("138****8000")
    dispatcher.fill("#f-lead_unit", "城南街道城市管理办公室")
    dispatcher.click("button:has-text('提交')")

    unit = _login(browser, live_server, "chengban")
    _open_task(unit, "PW-1", "签收")
    unit.check("input[name=accepted][value=true]")
    unit.click("button:has-text('提交')")
    expect(unit.locator(".flash")).to_contain_text("已完成：签收")
    expect(unit.locator("tr", has_text="PW-1")).to_contain_text("登记")

    unit.goto(f"{live_server}/tickets/PW-1")
    expect(unit.locator("dl.details")).to_contain_text("办理中（当前：登记）")
    expect(unit.locator("svg.bpmn g.current")).to_have_attribute("data-element", "register")
    expect(unit.locator("ol.timeline")).to_contain_text("签收")
    assert unit.locator("svg.bpmn g.finished").count() >= 4


def test_hostile_ticket_text_is_shown_as_text_and_never_runs(browser, live_server, engine):
    receive(engine, "PW-2", content=HOSTILE, address=HOSTILE)
    page = _login(browser, live_server, "shouli")
    page.goto(f"{live_server}/tickets/PW-2")
    expect(page.locator("dd.content")).to_have_text(HOSTILE)
    page.goto(f"{live_server}/tickets?q=pwned")
    expect(page.locator("table.list")).to_contain_text('<img src=x onerror="window.pwned = 2">')
    _open_task(page, "PW-2", "核实")
    assert page.evaluate("window.pwned") is None
    assert page.dialogs == []
    assert page.locator("img[src=x]").count() == 0
