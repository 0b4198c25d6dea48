"""`jiesu audit verify|query|export`, `jiesu export-all` and `jiesu purge` against the test database."""

from __future__ import annotations

import csv
import re

import pytest
from sqlalchemy import select, update

from engine.db import Database
from engine.models import AuditEvent, Ticket
from tests.conftest import unguarded_audit


@pytest.fixture
def seeded(run, database_url):
    assert run("demo").exit_code == 0
    database = Database(database_url)
    yield database
    database.dispose()


def test_verify_reports_a_sound_chain_and_names_the_edited_row(run, seeded):
    sound = run("audit", "verify")
    assert sound.exit_code == 0 and "审计链完好" in sound.output
    anchor = re.search(r"--expect (\d+:[0-9a-f]{64})", sound.output).group(1)
    assert run("audit", "verify", "--expect", anchor).exit_code == 0
    assert "格式应为" in run("audit", "verify", "--expect", "12").output
    with seeded.engine.begin() as conn, unguarded_audit(conn):
        ids = conn.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
        conn.execute(update(AuditEvent).where(AuditEvent.id == ids[20]).values(event="task.forged"))
    broken = run("audit", "verify")
    assert broken.exit_code == 1
    assert f"第 {ids[20]} 条记录的内容与其哈希不符" in broken.output and "此前 20 条完好" in broken.output


def test_query_pages_with_a_cursor(run, seeded):
    first = run("audit", "query", "--ticket", "DEMO-2611-0001", "--oldest-first", "--limit", "2")
    assert first.exit_code == 0, first.output
    lines = [line for line in first.output.splitlines() if "DEMO-2611-0001" in line]
    assert len(lines) == 2 and "接收工单（ticket.received）" in lines[0]
    cursor = re.search(r"--after (\d+)", first.output).group(1)
    second = run("audit", "query", "--ticket", "DEMO-2611-0001", "--oldest-first", "--limit", "2",
                 "--after", cursor)
    ids = [int(line.split()[0]) for line in second.output.splitlines() if "DEMO-2611-0001" in line]
    assert ids and all(i > int(cursor) for i in ids)


def test_query_refuses_bad_input_in_chinese(run):
    assert run("init").exit_code == 0
    assert "时间格式不正确" in run("audit", "query", "--since", "昨天").output
    missing = run("audit", "query", "--ticket", "NOPE")
    assert missing.exit_code == 1 and "工单 NOPE 不存在" in missing.output
    refused = run("audit", "query", "--since", "2026-11-21", "--until", "2026-11-20")
    assert refused.exit_code == 1 and "开始时间必须早于结束时间" in refused.output


def test_export_masks_unless_the_role_may_see(run, seeded, tmp_path):
    masked = run("audit", "export", str(tmp_path / "m.csv"), "--event", "ticket.received")
    assert masked.exit_code == 0 and "未遮蔽" not in masked.output
    shown = run("audit", "export", str(tmp_path / "u.csv"), "--event", "ticket.received", "--role", "auditor",
                "--role", "intake")
    assert shown.exit_code == 0 and "件工单的来电人信息未遮蔽（已记入审计）" in shown.output
    with (tmp_path / "m.csv").open(encoding="utf-8-sig") as a, (tmp_path / "u.csv").open(encoding="utf-8-sig") as b:
        masked_rows, shown_rows = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert len(masked_rows) == len(shown_rows) == 12
    assert all("*" in r["来电号码"] for r in masked_rows) and not any("*" in r["来电号码"] for r in shown_rows)


def test_export_all_then_purge(run, seeded, tmp_path):
    refused = run("purge", "--export", str(tmp_path / "none"), "--yes")
    assert refused.exit_code == 1 and "请先执行全量导出" in refused.output
    exported = run("export-all", str(tmp_path / "out"))
    assert exported.exit_code == 0 and "tickets.csv：12 行" in exported.output and "已记入审计" in exported.output
    checked = run("audit", "verify-export", str(tmp_path / "out"))
    assert checked.exit_code == 0 and "审计链完好" in checked.output
    aborted = run("purge", "--export", str(tmp_path / "out"), stdin="n\n")
    assert aborted.exit_code == 1
    with seeded.engine.connect() as conn:
        assert conn.scalar(select(Ticket.caller_phone).where(Ticket.ticket_no == "DEMO-2611-0001"))
    purged = run("purge", "--export", str(tmp_path / "out"), "--yes")
    assert purged.exit_code == 0 and "已清除 12 件工单的个人信息" in purged.output
    with seeded.engine.connect() as conn:
        assert conn.scalars(select(Ticket.caller_phone)).all() == [None] * 12
    assert run("audit", "verify").exit_code == 0


def test_verify_export_names_a_changed_file(run, seeded, tmp_path):
    assert run("export-all", str(tmp_path / "out")).exit_code == 0
    with (tmp_path / "out" / "audit_events.csv").open("a", encoding="utf-8") as handle:
        handle.write("999,forged\n")
    broken = run("audit", "verify-export", str(tmp_path / "out"))
    assert broken.exit_code == 1 and "audit_events.csv 缺失或与清单不符" in broken.output
