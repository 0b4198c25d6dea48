"""The jiesu command line, run in-process against the test database."""

from __future__ import annotations

import json

from engine.db import Database
from engine.factory import workflows_dir
from engine.service import Engine
from tests.conftest import FakeClock
from tests.helpers import DISPATCH, SCREEN_OK, VALID, do, fire_all, receive


def test_init_demo_tasks_complete(run):
    first = run("init")
    assert first.exit_code == 0, first.output
    assert "ticket v1：已部署新版本" in first.output
    assert "内容未变" in run("init").output

    demo = run("demo")
    assert demo.exit_code == 0 and "新增示例工单 12 件" in demo.output
    assert "新增示例工单 0 件" in run("demo").output

    listing = run("tasks", "--role", "intake")
    lines = [line for line in listing.output.splitlines() if "DEMO-2611-0001" in line]
    assert len(lines) == 1 and "核实" in lines[0]
    task_id = lines[0].split()[0]

    bad = run("complete", task_id, "--data", '{"is_valid": "maybe"}')
    assert bad.exit_code == 1
    assert "is_valid: 格式不正确。" in bad.output and "contact_verified: 此项为必填项。" in bad.output

    assert run("complete", task_id, "--data", "{not json").exit_code == 2
    done = run("complete", task_id, "--data", json.dumps({"is_valid": True, "contact_verified": True}))
    assert done.exit_code == 0 and "状态 running" in done.output

    shown = json.loads(run("ticket", "DEMO-2611-0001").output)
    assert shown["current_step"] == "甄别" and shown["caller_phone"] == "138****8001"


def test_intake_message_cancel(run, tmp_path):
    run("init")
    ticket = {"ticket_no": "CLI-1", "source": "online", "received_at": "2026-11-20 10:00", "address": "城南街道",
              "content": "咨询政策"}
    created = run("intake", "-", stdin=json.dumps(ticket)).output
    assert "已登记" in created
    instance_id = created.split("实例 ")[1].rstrip("）\n")
    assert "已存在" in run("intake", "-", stdin=json.dumps(ticket)).output
    refused = run("message", instance_id, "return_decision", "--data", '{"return_approved": true}')
    assert refused.exit_code == 1 and "没有在等待消息 return_decision" in refused.output
    cancelled = run("cancel", instance_id, "--reason", "测试撤销")
    assert cancelled.exit_code == 0 and f"实例 {instance_id} 已撤销" in cancelled.output


def test_deploy_refuses_bad_file_with_message(run, tmp_path):
    run("init")
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes((workflows_dir() / "ticket.bpmn").read_bytes().replace(b"closed = True", b"import os"))
    result = run("deploy", str(bad))
    assert result.exit_code == 1 and "close（办结）的脚本被拒绝：脚本不允许 import 语句" in result.output


def test_assessment_arrival_and_recurring_job_run_once(run):
    run("init")
    first = run("assessment-arrived", "2026-11")
    assert "失分分析：" in first.output and first.output.strip().endswith(".docx")
    assert first.exit_code == 0 and "复盘流程已发起" in first.output
    assert "已记录过" in run("assessment-arrived", "2026-11").output
    bad = run("assessment-arrived", "11/2026")
    assert bad.exit_code == 1 and "考核月份格式应为 YYYY-MM" in bad.output

    created = run("run-job", "weekly_report")
    assert created.exit_code == 0 and "本期工作已创建" in created.output
    assert "此前已创建" in run("run-job", "weekly_report").output
    unknown = run("run-job", "daily_report")
    assert unknown.exit_code == 2 and "没有名为 daily_report 的周期性工作" in unknown.output


def test_notices_lists_what_the_timers_raised(run, database_url):
    run("init")
    engine = Engine(Database(database_url), clock=FakeClock())
    ticket = receive(engine, "CLI-N1")
    for step, data in (("verify", VALID), ("screen", SCREEN_OK), ("dispatch", DISPATCH)):
        do(engine, ticket.instance_id, step, data)
    engine.clock.advance(days=5)
    fire_all(engine)
    engine.db.dispose()
    listing = run("notices", "--kind", "urge")
    assert listing.exit_code == 0 and "共 1 条通知" in listing.output
    assert "CLI-N1" in listing.output and "已超过签收时限" in listing.output
    assert "共 0 条通知" in run("notices", "--kind", "escalation").output
