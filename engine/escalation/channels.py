"""Alert channels behind one interface: e-mail over SMTP, and webhooks posting JSON.

A webhook's `format` is `json` (the alert as an object), or `dingtalk` / `wecom`: the text message
DingTalk and WeCom group robots accept, {"msgtype": "text", "text": {"content": ...}}; a DingTalk robot
with 加签 security also gets its `secret` (the URL then carries timestamp and sign).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any, Protocol

ROBOT_FORMATS = ("dingtalk", "wecom")


class DeliveryFailed(Exception):
    """The channel did not take the alert; it stays in the outbox and is tried again later."""


@dataclass(frozen=True)
class Outgoing:
    alert_id: int
    incident_id: int
    level: int
    recipient: str
    address: str | None
    subject: str
    body: str


class Channel(Protocol):
    def send(self, alert: Outgoing) -> None:
        """Hand the alert over, or raise DeliveryFailed."""


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    starttls: bool = False
    timeout_seconds: float = 10
    username: str | None = None
    password: str | None = None

    def send(self, alert: Outgoing) -> None:
        if not alert.address:
            raise DeliveryFailed(f"{alert.recipient} 没有邮箱地址")
        message = EmailMessage()
        message["Subject"] = alert.subject
        message["From"] = formataddr(("接诉即办预警", self.sender))
        message["To"] = formataddr((alert.recipient, alert.address))
        message["Message-ID"] = make_msgid(f"alert{alert.alert_id}")
        message.set_content(alert.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"邮件发送失败：{exc}") from exc


@dataclass(frozen=True)
class WebhookChannel:
    url: str
    format: str = "json"
    timeout_seconds: float = 10
    secret: str | None = None  # DingTalk robots with 加签 security: the SEC… secret

    def signed_url(self, at_ms: int) -> str:
        """DingTalk's signing: timestamp and base64 HMAC-SHA256 of "timestamp\nsecret" as query parameters."""
        if not (self.secret and self.format == "dingtalk"):
            return self.url
        digest = hmac.new(self.secret.encode(), f"{at_ms}\n{self.secret}".encode(), hashlib.sha256).digest()
        query = urllib.parse.urlencode({"timestamp": at_ms, "sign": base64.b64encode(digest).decode()})
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def payload(self, alert: Outgoing) -> dict[str, Any]:
        if self.format in ROBOT_FORMATS:
            return {"msgtype": "text", "text": {"content": f"{alert.subject}\n{alert.body}"}}
        return {"alert_id": alert.alert_id, "incident_id": alert.incident_id, "level": alert.level,
                "recipient": alert.recipient, "subject": alert.subject, "text": alert.body}

    def send(self, alert: Outgoing) -> None:
        data = json.dumps(self.payload(alert), ensure_ascii=False).encode("utf-8")
        # channel() admits only http(s) URLs from the rules
        # DingTalk compares the timestamp with its own clock, so it is the real time, not the engine's.
        request = urllib.request.Request(self.signed_url(int(time.time() * 1000)), data=data,  # noqa: S310
                                         method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                answer = response.read()
        except (OSError, urllib.error.URLError) as exc:
            raise DeliveryFailed(f"Webhook 推送失败：{exc}") from exc
        _check_robot_answer(answer)


def _check_robot_answer(answer: bytes) -> None:
    """Robots answer HTTP 200 with {"errcode": n}; anything but 0 is a refusal."""
    try:
        parsed = json.loads(answer or b"{}")
    except ValueError:
        return
    if isinstance(parsed, dict) and parsed.get("errcode", 0) != 0:
        raise DeliveryFailed(f"Webhook 拒收：{parsed.get('errmsg') or parsed.get('errcode')}")


def channel(name: str, values: dict[str, Any]) -> Channel:
    """The channel configured as `name` in alerts.channels."""
    config = values["alerts"]["channels"].get(name)
    if config is None:
        raise DeliveryFailed(f"提醒渠道 {name} 已不在配置中")
    if config["kind"] == "email":
        return EmailChannel(config["host"], int(config["port"]), config["sender"], bool(config.get("starttls")),
                            float(config.get("timeout_seconds", 10)), config.get("username"), config.get("password"))
    if config["kind"] == "webhook":
        if not str(config.get("url", "")).startswith(("http://", "https://")):
            raise DeliveryFailed(f"提醒渠道 {name} 的地址不是 http(s) 地址")
        return WebhookChannel(config["url"], config.get("format", "json"), float(config.get("timeout_seconds", 10)),
                              config.get("secret"))
    raise DeliveryFailed(f"提醒渠道 {name} 的类型 {config['kind']} 不受支持")
