"""Escalations end to end: a real SMTP server and a real HTTP receiver on loopback get the alerts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from engine.db import Database
from engine.escalation.delivery import Delivered
from engine.models import Alert, AuditEvent
from engine.service import Engine
from tests.alert_servers import HttpReceiver
from tests.conftest import UNIT
from tests.escalation_fixtures import BASE_URL, DUTY, LEADER, ROBOT_SECRET
from tests.helpers import do, fire_all, open_steps, receive


def _group(engine: Engine) -> int:
    """Three neighbours report oil smoke at one compound: the third forms a group; the incident id."""
    for n in (1, 2, 3):
        receive(engine, f"E-{n}", caller_phone=f"1370000000{n}", address=f"城南街道龙锦苑东五区{n}号楼",
                content="楼下烧烤店油烟扰民，希望尽快处理。")
    [incident] = engine.escalations.incidents()
    return incident["id"]


def _robot_texts(receiver: HttpReceiver) -> list[str]:
    return [body["text"]["content"] for path, _, body in receiver.received if path.startswith("/robot/")]


def test_group_complaint_escalation_runs_end_to_end(esc, clock, smtp, receiver, tmp_path):
    incident_id = _group(esc)
    assert esc.escalations.deliver_alerts() == Delivered(sent=3, failed=0)

    [mail] = smtp.messages
    assert mail["To"].addresses[0].addr_spec == "liu@duty.test"
    assert mail["Subject"] == "【群诉预警·值班员】龙锦苑东5区油烟扰民群诉"
    body = mail.get_content().strip()
    assert body.splitlines() == [
        f"事件：龙锦苑东5区油烟扰民群诉（事件编号 {incident_id}）",
        "类型：群诉（群诉自动识别）",
        "地点：龙锦苑东5区",
        "关联工单：3 件，来电人 3 位",
        "接报：值班员 值班员刘",
        "确认时限：2026-11-20 09:30（北京时间）前确认，逾期将上报值班领导",
        f"工单页面：{BASE_URL}/tickets/E-1",
        f"事件页面：{BASE_URL}/escalations/{incident_id}",
    ]
    [(robot_path, _, robot)] = [r for r in receiver.received if r[0].startswith("/robot/")]
    assert robot == {"msgtype": "text", "text": {"content": f"{mail['Subject']}\n{body}"}}
    query = parse_qs(urlsplit(robot_path).query)
    signed = hmac.new(ROBOT_SECRET.encode(), f"{query['timestamp'][0]}\n{ROBOT_SECRET}".encode(), hashlib.sha256)
    assert query["access_token"] == ["t"] and query["sign"] == [base64.b64encode(signed.digest()).decode()]
    [(_, content_type, ops)] = [r for r in receiver.received if r[0] == "/ops"]
    assert content_type.startswith("application/json")
    assert (ops["incident_id"], ops["level"], ops["recipient"], ops["text"]) == (incident_id, 1, "指挥平台", body)

    view = esc.escalations.incident(incident_id)
    instance_id = view["instance_id"]
    do(esc, instance_id, "acknowledge", {"ack_note": "已接报，马上联系执法队"}, DUTY)
    clock.advance(minutes=45)
    assert fire_all(esc) == 0  # acknowledged in time: no one else is alerted
    do(esc, instance_id, "response_plan", {"plan": "执法队当晚检查烧烤店排烟设施", "lead_units": ["城南街道综合执法队"],
                                           "plan_due": "2026-11-20T20:00:00+08:00"}, DUTY)
    photo = esc.escalations.add_evidence(incident_id, "现场照片.jpg", b"\xff\xd8\xff photo bytes", UNIT)
    do(esc, instance_id, "onsite_check", {"checked_at": "2026-11-20T19:30:00+08:00", "findings": "排烟管道未加装净化器",
                                          "evidence": ["现场照片.jpg"]}, UNIT)
    do(esc, instance_id, "closing_report", {"cause": "烧烤店无油烟净化设施", "actions_taken": "责令加装净化器并复查",
                                            "outcome": "resolved"}, DUTY)

    view = esc.escalations.incident(incident_id)
    assert (view["status"], view["status_label"]) == ("completed", "已办结")
    assert view["acknowledged"] == {"by": "值班员刘", "at": clock.now.replace(minute=0)}
    assert [(a["level"], a["recipient"], a["state"]) for a in view["alerts"]] == [
        (1, "值班员刘", "sent"), (1, "值班群", "sent"), (1, "指挥平台", "sent")]
    assert [t["ticket_no"] for t in view["tickets"]] == ["E-1", "E-2", "E-3"]
    assert [s["step"] for s in view["steps"]] == ["acknowledge", "response_plan", "onsite_check", "closing_report"]
    [stored] = view["evidence"]
    assert (stored["filename"], stored["uploaded_by"]) == ("现场照片.jpg", UNIT.name) and stored["id"] == photo["id"]
    assert (tmp_path / "attachments" / stored["stored_as"]).read_bytes() == b"\xff\xd8\xff photo bytes"
    assert [e["what"] for e in view["timeline"]][-4:] == ["确认接报", "快速响应方案", "现场核查", "结案报告"]
    # the main ticket instances went on by themselves
    assert [t["status"] for t in view["tickets"]] == ["open"] * 3


def test_without_acknowledgment_the_next_level_is_alerted(esc, clock, smtp, receiver):
    receive(esc, "F-1", address="城南街道宏福苑小区", content="小区门口道路塌陷，车辆无法通行。")
    incident_id = esc.escalations.flag("F-1", "网上出现相关视频，关注度高", DUTY)
    esc.escalations.deliver_alerts()
    assert [m["To"].addresses[0].addr_spec for m in smtp.messages] == ["liu@duty.test"]

    clock.advance(minutes=29)
    assert fire_all(esc) == 0 and esc.escalations.deliver_alerts() == Delivered(0, 0)
    clock.advance(minutes=1)
    assert fire_all(esc) == 1
    esc.escalations.deliver_alerts()
    leader = smtp.messages[-1]
    assert leader["To"].addresses[0].addr_spec == "chen@duty.test"
    assert leader["Subject"] == "【舆情预警·值班领导】宏福苑舆情"
    assert "确认时限：2026-11-20 10:00（北京时间）前确认，逾期将上报分管领导" in leader.get_content()

    clock.advance(minutes=30)  # nobody on the roster at level 3: the duty group hears of it
    assert fire_all(esc) == 1
    esc.escalations.deliver_alerts()
    assert "接报：分管领导 （当前无人在岗，请群内人员接报）" in _robot_texts(receiver)[-1]
    assert len(smtp.messages) == 2

    view = esc.escalations.incident(incident_id)
    do(esc, view["instance_id"], "acknowledge", {}, LEADER)
    clock.advance(hours=2)
    assert fire_all(esc) == 0
    view = esc.escalations.incident(incident_id)
    assert view["acknowledged"]["by"] == "带班领导陈"
    with esc.db.read() as session:
        [ack] = session.scalars(select(AuditEvent).where(AuditEvent.event == "alert.acknowledged")).all()
    assert (ack.actor, ack.data, ack.instance_id) == ("带班领导陈", {"incident_id": incident_id, "alerted_level": 3},
                                                      view["instance_id"])
    assert [a["level"] for a in view["alerts"] if a["channel"] == "email"] == [1, 2]
    assert open_steps(esc, view["instance_id"]) == ["response_plan"]


def test_an_smtp_server_that_refuses_at_first_gets_the_alert_after_retries(esc, clock, smtp):
    smtp.mailbox.refuse = 2
    _group(esc)
    assert esc.escalations.deliver_alerts() == Delivered(sent=2, failed=1)  # the webhooks went, the mail did not
    with esc.db.read() as session:
        mail = session.scalar(select(Alert).where(Alert.channel == "email"))
    assert (mail.state, mail.attempts, (mail.next_attempt_at - clock.now).total_seconds()) == ("pending", 1, 30)
    assert "451" in mail.last_error
    assert esc.escalations.deliver_alerts() == Delivered(0, 0)  # not due yet
    clock.advance(seconds=30)
    assert esc.escalations.deliver_alerts() == Delivered(0, 1)
    clock.advance(seconds=59)
    assert esc.escalations.deliver_alerts() == Delivered(0, 0)  # the second wait is 60 seconds
    clock.advance(seconds=1)
    assert esc.escalations.deliver_alerts() == Delivered(1, 0)
    [message] = smtp.messages
    assert message["Subject"] == "【群诉预警·值班员】龙锦苑东5区油烟扰民群诉"
    with esc.db.read() as session:
        mail = session.get(Alert, mail.id)
        trail = list(session.scalars(select(AuditEvent.event).where(AuditEvent.event.like("alert.%"))
                                     .where(AuditEvent.data["channel"].as_string() == "email").order_by(AuditEvent.id)))
    assert (mail.state, mail.attempts, mail.sent_at) == ("sent", 3, clock.now)
    assert trail == ["alert.queued", "alert.failed", "alert.failed", "alert.sent"]


def test_an_unreachable_server_leaves_the_alert_pending_for_later(esc, clock, smtp):
    smtp.stop()
    _group(esc)
    assert esc.escalations.deliver_alerts().failed == 1
    for _ in range(8):  # the last backoff step repeats: the alert is retried for ever, never dropped
        clock.advance(hours=1)
        assert esc.escalations.deliver_alerts() == Delivered(0, 1)
    with esc.db.read() as session:
        mail = session.scalar(select(Alert).where(Alert.channel == "email"))
    assert (mail.state, mail.attempts) == ("pending", 9)
    assert (mail.next_attempt_at - clock.now).total_seconds() == 1800


def test_a_robot_that_refuses_keeps_the_alert_for_another_try(esc, clock, receiver):
    receiver.answer_with({"errcode": 310000, "errmsg": "sign not match"})
    _group(esc)
    esc.escalations.deliver_alerts()
    with esc.db.read() as session:
        robot = session.scalar(select(Alert).where(Alert.channel == "duty_group"))
    assert (robot.state, robot.attempts, robot.last_error) == ("pending", 1, "Webhook 拒收：sign not match")
    receiver.answer_with({"errcode": 0, "errmsg": "ok"})
    clock.advance(seconds=30)
    assert esc.escalations.deliver_alerts() == Delivered(2, 0)  # both webhooks of that receiver were refused
    assert len(_robot_texts(receiver)) == 2  # the refused post and the accepted one


def test_two_workers_deliver_each_alert_once(esc, clock, smtp, database_url):
    for n in range(8):  # eight groups at eight compounds: eight e-mails to the duty officer
        for caller in (1, 2, 3):
            receive(esc, f"W-{n}-{caller}", caller_phone=f"136{n:04d}000{caller}", address=f"天通苑北{n + 1}区",
                    content="暖气不热，室温太低。")
    workers = [Engine(Database(database_url), rules=esc.rules, clock=clock) for _ in range(2)]
    together = threading.Barrier(len(workers))
    results: list[Delivered] = []

    def work(worker: Engine) -> None:
        together.wait()
        results.append(worker.escalations.deliver_alerts())

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for worker in workers:
        worker.db.dispose()
    assert sum(r.sent for r in results) == 8 * 3 and sum(r.failed for r in results) == 0
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == len(set(subjects)) == 8
