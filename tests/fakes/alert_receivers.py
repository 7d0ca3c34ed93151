"""Loopback receivers of alerts: a webhook endpoint and a Matrix homeserver answering as the
Matrix client-server API documents (errors included), and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

TOKEN = "syt_secret_token_value"


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, str, dict[str, str], Any]]
    events: dict[str, str]

    def log_message(self, *args: Any) -> None:
        return

    def _answer(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read(self) -> Any:
        length = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(length) or b"null")

    def do_POST(self) -> None:  # the webhook receiver
        body = self._read()
        self.received.append(("POST", self.path, dict(self.headers), body))
        if self.path == "/busy":
            self._answer(429, {"error": "slow down"}, {"Retry-After": "30"})
        elif self.path == "/broken":
            self._answer(500, {})
        elif self.path == "/gone":
            self._answer(404, {})
        else:
            self._answer(200, {"ok": True})

    def do_PUT(self) -> None:  # the Matrix homeserver
        body = self._read()
        self.received.append(("PUT", self.path, dict(self.headers), body))
        parts = self.path.split("/")
        # /_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}
        if parts[1:5] != ["_matrix", "client", "v3", "rooms"] or parts[6:8] != [
            "send",
            "m.room.message",
        ]:
            self._answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
            return
        room, txn = unquote(parts[5]), unquote(parts[8])
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown access token"})
        elif room == "!busy:example.org":
            self._answer(
                429,
                {
                    "errcode": "M_LIMIT_EXCEEDED",
                    "error": "Too many requests",
                    "retry_after_ms": 2500,
                },
            )
        elif room == "!closed:example.org":
            self._answer(403, {"errcode": "M_FORBIDDEN", "error": "You are not in this room"})
        else:
            # The same transaction id gives the same event: a retried send is stored once.
            event = self.events.setdefault(f"{room}/{txn}", f"$event{len(self.events) + 1}")
            self._answer(200, {"event_id": event})


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"received": [], "events": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    from aiosmtpd.controller import Controller

    received: list[Message] = []

    class Handler:
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("nobody@"):
                return "550 5.1.1 No such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.content))
            return "250 Message accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=closed_port())
    controller.start()
    try:
        yield controller.port, received
    finally:
        controller.stop()
