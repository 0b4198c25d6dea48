"""Fixtures for escalation tests: loopback SMTP and HTTP servers, and an engine whose alerts go to them."""

from __future__ import annotations

from datetime import date

import pytest

from engine.factory import workflows_dir
from engine.privacy import Actor
from engine.rules import RuleEntry, Rules
from engine.service import Engine
from tests.alert_servers import HttpReceiver, SmtpServer
from tests.conftest import ADMIN

DUTY = Actor("值班员刘", frozenset({"duty_officer"}))
LEADER = Actor("带班领导陈", frozenset({"duty_officer"}))
DAY = date(2026, 11, 20)  # the test clock starts at 09:00 Beijing time that day: the day shift
BASE_URL = "http://jiesu.test"
ROBOT_SECRET = "SEC0123456789abcdef"


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture
def esc(db, clock, smtp, receiver, tmp_path, monkeypatch):
    """An engine whose rules send alerts to the loopback servers; evidence goes to a temporary folder."""
    monkeypatch.setenv("JIESU_ATTACHMENTS_DIR", str(tmp_path / "attachments"))
    channels = {"email": {"kind": "email", "host": "127.0.0.1", "port": smtp.port, "sender": "alerts@jiesu.test"},
                "duty_group": {"kind": "webhook", "label": "值班群", "format": "dingtalk", "secret": ROBOT_SECRET,
                               "url": f"{receiver.url}/robot/send?access_token=t"},
                "ops": {"kind": "webhook", "label": "指挥平台", "format": "json", "url": f"{receiver.url}/ops"}}
    loopback = RuleEntry(date(2020, 1, 2), {"alerts": {"base_url": BASE_URL, "channels": channels}})
    rules = Rules([*Rules.load().entries, loopback])
    engine = Engine(db, rules=rules, clock=clock)
    engine.deploy_dir(workflows_dir(), ADMIN)
    engine.escalations.add_duty(DAY, "白班", 1, "值班员刘", "liu@duty.test", ADMIN)
    engine.escalations.add_duty(DAY, "白班", 2, "带班领导陈", "chen@duty.test", ADMIN)
    return engine
