"""The duty roster, staff flags, evidence, the CLI and the scheduler's alert job; bad input changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from engine import scheduler
from engine.errors import Conflict, Forbidden, InvalidData, NotFound
from engine.escalation import roster
from engine.escalation.places import place_of
from engine.factory import workflows_dir
from engine.handover import export_all
from engine.privacy import Actor
from engine.service import Engine
from engine.workdays import LOCAL_TZ
from tests.conftest import ADMIN, INTAKE
from tests.escalation_fixtures import DAY, DUTY
from tests.helpers import receive, snapshot

ANALYST = Actor("分析员孙", frozenset({"analyst"}))


@pytest.mark.parametrize(("address", "key", "label"), [
    ("北京市昌平区城南街道龙锦苑东五区三号楼2单元", "龙锦苑东5区", "龙锦苑东5区3号楼"),
    ("龙锦苑社区龙锦苑东五区二十一号楼", "龙锦苑东5区", "龙锦苑东5区21号楼"),
    ("回龙观西大街龙腾苑四区", "龙腾苑4区", "龙腾苑4区"),
    ("城南街道南环路88号院2号楼", "南环路88号院", "南环路88号院2号楼"),
    ("城南街道育知东路与文华路交叉口", "育知东路", "育知东路"),
    ("ＸＸ城南街道", None, None),
])
def test_places_are_normalised_from_chinese_addresses(address, key, label):
    assert (place_of(address).key, place_of(address).label) == (key, label)


def test_the_roster_knows_who_is_on_duty_through_a_night_shift(engine):
    night = engine.escalations.add_duty(DAY, "夜班", 1, "值班员周", None, ADMIN)
    engine.escalations.add_duty(DAY, "白班", 2, "带班领导陈", "chen@duty.test", ADMIN)
    [day_entry, night_entry] = engine.escalations.roster(DAY, DAY)
    assert (night_entry["id"], night_entry["span"]) == (night, "2026-11-20 17:30 – 2026-11-21 08:30")
    assert (day_entry["level_label"], day_entry["person"]) == ("值班领导", "带班领导陈")
    with engine.db.engine.connect() as conn:
        at = [datetime(2026, 11, 21, hour, minute, tzinfo=LOCAL_TZ) for hour, minute in ((8, 29), (8, 30))]
        assert [[p.person for p in roster.on_duty(conn, moment, 1)] for moment in at] == [["值班员周"], []]
    before = snapshot(engine)
    with pytest.raises(Conflict, match=f"值班员周 已安排在 2026-11-20 夜班（值班安排 {night}）"):
        engine.escalations.add_duty(DAY, "夜班", 1, "值班员周", "zhou@duty.test", ADMIN)
    assert snapshot(engine) == before
    engine.escalations.remove_duty(night, ADMIN)
    assert [e["person"] for e in engine.escalations.roster(DAY, date(2026, 11, 21))] == ["带班领导陈"]


@pytest.mark.parametrize(("shift", "level", "person", "email", "message"), [
    ("早班", 1, "值班员刘", None, "班次 早班 未配置"),
    ("白班", 9, "值班员刘", None, "值班级别 9 未配置"),
    ("白班", 1, " ", None, "值班人员姓名不能为空"),
    ("白班", 1, "值班员刘", "not-an-address", "邮箱地址 not-an-address 格式不正确"),
])
def test_bad_roster_entries_are_refused_and_change_nothing(engine, shift, level, person, email, message):
    before = snapshot(engine)
    with pytest.raises(InvalidData, match=message):
        engine.escalations.add_duty(DAY, shift, level, person, email, ADMIN)
    with pytest.raises(NotFound, match="值班安排 99 不存在"):
        engine.escalations.remove_duty(99, ADMIN)
    assert snapshot(engine) == before


def test_staff_flag_links_the_group_and_refusals_change_nothing(engine):
    for n in (1, 2, 3):
        receive(engine, f"G-{n}", caller_phone=f"1360000000{n}", address="天通苑北一区5号楼", content="暖气不热")
    receive(engine, "G-9", address="城南街道宏福苑小区", content="咨询老年卡办理")
    incident_id = engine.escalations.flag("G-2", "业主群里在组织集体维权", DUTY)
    view = engine.escalations.incident(incident_id)
    assert (view["kind"], view["trigger"], view["reason"]) == ("public_opinion", "staff", "业主群里在组织集体维权")
    assert [t["ticket_no"] for t in view["tickets"]] == ["G-1", "G-2", "G-3"]
    assert view["steps"][0]["step"] == "acknowledge"

    before = snapshot(engine)
    for call, error, message in (
        (lambda: engine.escalations.flag("G-9", "  ", DUTY), InvalidData, "必须填写原因"),
        (lambda: engine.escalations.flag("NOPE", "原因", DUTY), NotFound, "工单 NOPE 不存在"),
        (lambda: engine.escalations.flag("G-9", "原因", ANALYST), Forbidden, "不能标记舆情"),
        (lambda: engine.escalations.flag("G-1", "再标一次", DUTY), Conflict, f"舆情事件 {incident_id} 中"),
    ):
        with pytest.raises(error, match=message):
            call()
    assert snapshot(engine) == before


def test_evidence_files_are_checked_and_kept_inside_the_attachments_folder(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("JIESU_ATTACHMENTS_DIR", str(tmp_path / "att"))
    receive(engine, "H-1", address="城南街道宏福苑小区", content="咨询老年卡办理")
    incident_id = engine.escalations.flag("H-1", "网上热议", DUTY)
    before = snapshot(engine)
    for filename, content, error, message in (
        ("脚本.exe", b"MZ", InvalidData, "不支持的证据文件类型"),
        ("空.jpg", b"", InvalidData, "是空文件"),
        ("", b"x", InvalidData, "缺少文件名"),
    ):
        with pytest.raises(error, match=message):
            engine.escalations.add_evidence(incident_id, filename, content, DUTY)
    with pytest.raises(NotFound, match="事件 999 不存在"):
        engine.escalations.add_evidence(999, "a.jpg", b"x", DUTY)
    assert snapshot(engine) == before
    row = engine.escalations.add_evidence(incident_id, "../../etc/现场.pdf", b"%PDF-1.7", DUTY)
    assert row["filename"] == "现场.pdf"
    stored = (tmp_path / "att" / row["stored_as"]).resolve()
    assert stored.is_relative_to((tmp_path / "att").resolve()) and stored.read_bytes() == b"%PDF-1.7"


def test_the_scheduler_job_delivers_the_outbox(esc, smtp):
    for n in (1, 2, 3):
        receive(esc, f"K-{n}", caller_phone=f"1350000000{n}", address="龙锦苑东五区", content="烧烤油烟扰民")
    background = scheduler.configure(BackgroundScheduler(timezone=UTC), esc)
    job = background.get_job(scheduler.ALERTS_JOB)
    job.func(*job.args)
    assert [m["Subject"] for m in smtp.messages] == ["【群诉预警·值班员】龙锦苑东5区油烟扰民群诉"]


def test_the_command_line_manages_the_roster_and_incidents(run, smtp, tmp_path, monkeypatch):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps([{"effective": "2020-01-02", "values": {"alerts": {"channels": {"email": {
        "kind": "email", "host": "127.0.0.1", "port": smtp.port, "sender": "alerts@jiesu.test"}}}}}]))
    monkeypatch.setenv("JIESU_RULES_FILE", str(rules))
    monkeypatch.setenv("JIESU_ATTACHMENTS_DIR", str(tmp_path / "att"))
    assert run("init").exit_code == 0
    today = datetime.now(LOCAL_TZ).date().isoformat()
    for shift in ("白班", "夜班"):
        added = run("duty", "add", today, shift, "--level", "1", "--person", "值班员刘", "--email", "liu@duty.test")
        assert added.exit_code == 0 and "已安排值班" in added.output, added.output
    bad = run("duty", "add", today, "早班", "--person", "值班员刘")
    assert bad.exit_code == 1 and "错误：班次 早班 未配置" in bad.output
    listing = run("duty", "list", "--from", today, "--to", today)
    assert "共 2 条值班安排" in listing.output and "liu@duty.test" in listing.output
    assert "共 2 条值班安排" in run("duty", "list").output  # this week by default

    ticket = {"ticket_no": "CLI-1", "source": "hotline", "received_at": "2026-11-20T09:00:00+08:00",
              "address": "城南街道宏福苑小区", "content": "小区道路塌陷，车辆无法通行。"}
    assert run("intake", "-", stdin=json.dumps(ticket, ensure_ascii=False)).exit_code == 0
    flagged = run("escalation", "flag", "CLI-1", "--reason", "短视频平台传播")
    assert flagged.exit_code == 0 and "已标记舆情事件" in flagged.output, flagged.output
    assert "宏福苑舆情" in run("escalation", "list", "--open").output
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(b"\xff\xd8 photo")
    incident_id = run("escalation", "list").output.split()[0]
    assert "已上传 现场.jpg" in run("escalation", "evidence", incident_id, str(photo)).output
    shown = json.loads(run("escalation", "show", incident_id).output)
    assert [e["filename"] for e in shown["evidence"]] == ["现场.jpg"]
    assert "已发送 1 条，失败 0 条" in run("alerts", "deliver").output
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["liu@duty.test"]
    assert run("escalation", "show", "999").exit_code == 1


def test_intake_with_sensitive_words_starts_an_escalation_in_the_same_transaction(engine):
    result = engine.intake({"ticket_no": "M-1", "source": "hotline", "received_at": "2026-11-20T08:30:00+08:00",
                            "caller_phone": "13912345678", "address": "城南街道宏福苑小区",
                            "content": "物业乱收费，明天我们集体上访，还要拉横幅。"}, INTAKE)
    links = engine.escalations.for_ticket(result.ticket_no)
    [incident] = links["incidents"]
    assert (incident["kind"], incident["trigger"]) == ("public_opinion", "sensitive_words")
    assert incident["reason"] == "命中敏感词：聚集（拉横幅、集体上访）"
    assert engine.intake({"ticket_no": "M-2", "source": "hotline", "received_at": "2026-11-20T08:40:00+08:00",
                          "address": "城南街道宏福苑小区", "content": "记者站路口的路灯不亮。"},
                         INTAKE).created
    assert engine.escalations.for_ticket("M-2")["incidents"] == []


def test_without_escalation_bpmn_deployed_intake_still_works_and_the_duty_officer_is_alerted(db, clock):
    engine = Engine(db, clock=clock)
    engine.deploy((workflows_dir() / "ticket.bpmn").read_bytes(), "ticket.bpmn", ADMIN)
    engine.escalations.add_duty(DAY, "白班", 1, "值班员刘", "liu@duty.test", ADMIN)
    for n in (1, 2, 3):
        receive(engine, f"P-{n}", caller_phone=f"1340000000{n}", address="龙锦苑东五区", content="烧烤油烟扰民")
    [incident] = engine.escalations.incidents()
    assert (incident["instance_id"], incident["status_label"], incident["created_by"]) == (None, "未启动", "system")
    view = engine.escalations.incident(incident["id"])
    assert [(a["level"], a["recipient"], a["state"]) for a in view["alerts"]] == [(1, "值班员刘", "pending")]


def test_the_contract_end_export_carries_the_escalation_tables(engine, tmp_path):
    engine.escalations.add_duty(DAY, "白班", 1, "值班员刘", "liu@duty.test", ADMIN)
    receive(engine, "X-1", address="城南街道宏福苑小区", content="咨询老年卡办理")
    engine.escalations.flag("X-1", "网上热议", DUTY)
    summary = export_all(engine, ADMIN, tmp_path / "out")
    assert {name: summary.rows[name] for name in ("incidents.csv", "incident_tickets.csv", "alerts.csv",
                                                  "duty_roster.csv")} == {
        "incidents.csv": 1, "incident_tickets.csv": 1, "alerts.csv": 1, "duty_roster.csv": 1}
