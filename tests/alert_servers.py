"""A real SMTP server (aiosmtpd) and a real HTTP receiver, both on loopback, for alert tests."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"


class _Mailbox:
    """Keeps what it accepts; refuses the first `refuse` deliveries with a temporary error (451)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > self.refused:
            self.refused += 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.mailbox = _Mailbox()
        self.port = _free_port()
        self._controller = Controller(self.mailbox, hostname=LOOPBACK, port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.mailbox.messages

    def start(self) -> SmtpServer:
        self._controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        if getattr(self, "running", False):
            self._controller.stop()
            self.running = False


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        answer = json.dumps(self.server.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


class HttpReceiver:
    """Records every POST as (path, content type, parsed JSON body) and answers like a group robot."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self._server.received = []
        self._server.answer = {"errcode": 0, "errmsg": "ok"}
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    @property
    def received(self) -> list[tuple[str, str, Any]]:
        return self._server.received

    def answer_with(self, answer: dict[str, Any]) -> None:
        """What the receiver replies from now on (a robot refusing: {"errcode": 310000, ...})."""
        self._server.answer = answer

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]
