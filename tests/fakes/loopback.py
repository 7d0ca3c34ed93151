"""The scaffold of every fake platform server: a real HTTP server on 127.0.0.1.

A fake subclasses :class:`LoopbackServer` and implements :meth:`LoopbackServer.handle`
(and :meth:`LoopbackServer.check_auth`), answering with the bodies, headers and error bodies
its platform documents. The scaffold gives each fake the same switches, which the contract
suite (``tests/connectors/contract.py``) relies on:

- :meth:`~LoopbackServer.script` — the next N requests to a path prefix get a given answer
  (a documented error body: OAuth error, quota exceeded, rate limited, permission missing);
- :meth:`~LoopbackServer.fail_after` — after K more requests, every request fails (a 503 or
  a dropped connection): a sync interrupted mid-way;
- :meth:`~LoopbackServer.malformed` and :meth:`~LoopbackServer.truncate` — a body that is
  not JSON, a body cut short of its Content-Length;
- :meth:`~LoopbackServer.drop_connections` — the next N requests get no answer at all;
- :meth:`~LoopbackServer.heal` — clear them all.

:attr:`~LoopbackServer.requests` records what was asked (the Authorization header is not
kept), so a test can assert that an action sent exactly the documented request.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    raw_body: bytes = b""
    #: The Authorization header's value; kept apart so that it is never printed by accident.
    authorization: str = field(default="", repr=False)

    def param(self, name: str) -> Any:
        """First value of ``name`` in the query or the body (form or JSON)."""
        if name in self.query:
            return self.query[name][0]
        if isinstance(self.body, dict) and name in self.body:
            value = self.body[name]
            return value[0] if isinstance(value, list) and len(value) == 1 else value
        return None

    def values(self, name: str) -> list[Any]:
        """Every value of ``name`` (``types[]``, ``status_ids[]``…) in the query or the body."""
        if name in self.query:
            return self.query[name]
        if isinstance(self.body, dict) and name in self.body:
            value = self.body[name]
            return value if isinstance(value, list) else [value]
        return []

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Reply:
    """An answer: a status, a JSON payload (or raw bytes) and headers."""

    status: int = 200
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


@dataclass
class _Scripted:
    path_prefix: str
    reply: Reply
    times: int
    method: str | None = None


@dataclass
class _Failures:
    scripted: list[_Scripted] = field(default_factory=list)
    malformed: dict[str, bytes] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)
    fail_after: int | None = None
    fail_status: int | None = 503
    dropped: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: LoopbackServer


class LoopbackServer:
    """A platform's API on a free loopback port, served from a background thread."""

    #: Sent with every ``fail_after`` 5xx (platforms document their own).
    unavailable_body: Any = {"error": "Service Unavailable"}

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.failures = _Failures()
        self._server: _Server | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- switches --------------------------------------------------------------------------

    def script(
        self,
        path_prefix: str,
        reply: Reply,
        *,
        times: int = 1,
        method: str | None = None,
    ) -> None:
        """The next ``times`` requests to ``path_prefix`` (and ``method``) get ``reply``."""
        with self.lock:
            self.failures.scripted.append(_Scripted(path_prefix, reply, times, method))

    def fail_after(self, requests: int, *, status: int | None = 503) -> None:
        """After ``requests`` more requests, every request fails: answered ``status`` or,
        with ``status=None``, its connection dropped (a crash or a network cut)."""
        with self.lock:
            self.failures.fail_after = requests
            self.failures.fail_status = status

    def drop_connections(self, requests: int = 1) -> None:
        """The next ``requests`` requests get no answer: their connection is closed."""
        with self.lock:
            self.failures.dropped = requests

    def malformed(self, path_prefix: str, body: bytes = b'{"data": [{"id": "1", ') -> None:
        """Requests to ``path_prefix`` get 200 with ``body``, which is not JSON."""
        with self.lock:
            self.failures.malformed[path_prefix] = body

    def truncate(self, path_prefix: str) -> None:
        """Requests to ``path_prefix`` get half their body, then the connection closes."""
        with self.lock:
            self.failures.truncated.add(path_prefix)

    def heal(self) -> None:
        """Clear every switch."""
        with self.lock:
            self.failures = _Failures()

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        """What was asked with ``method`` under ``path_prefix``."""
        with self.lock:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_prefix)
            ]

    # --- what a fake implements ------------------------------------------------------------

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        """The platform's refusal when the request's credentials are not accepted, else None."""
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        """Answer one request whose credentials were accepted."""
        raise NotImplementedError

    # --- dispatch --------------------------------------------------------------------------

    def _dispatch(self, request: RecordedRequest) -> tuple[Reply, bool] | None:
        """The reply and whether to truncate it; None to drop the connection."""
        with self.lock:
            self.requests.append(request)
            failures = self.failures
            if failures.fail_after is not None:
                if failures.fail_after <= 0:
                    if failures.fail_status is None:
                        return None
                    return Reply(failures.fail_status, self.unavailable_body), False
                failures.fail_after -= 1
            if failures.dropped > 0:
                failures.dropped -= 1
                return None
            for scripted in failures.scripted:
                if scripted.times > 0 and request.path.startswith(scripted.path_prefix):
                    if scripted.method is None or scripted.method == request.method:
                        scripted.times -= 1
                        return scripted.reply, False
            refusal = self.check_auth(request)
            if refusal is not None:
                return refusal, False
            for prefix, raw in failures.malformed.items():
                if request.path.startswith(prefix):
                    return Reply(200, raw=raw), False
            truncated = any(request.path.startswith(p) for p in failures.truncated)
            return self.handle(request), truncated


def parse_body(content_type: str, raw: bytes) -> Any:
    """A request body as JSON, a form (``parse_qs``), multipart parts or text."""
    if not raw:
        return None
    if "json" in content_type:
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        return parse_qs(raw.decode(), keep_blank_values=True)
    if content_type.startswith("multipart/"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        parts: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename() is None and isinstance(payload, bytes):
                parts[str(name)] = payload.decode("utf-8", "replace")
            else:
                parts[str(name)] = payload
        return parts
    return raw.decode("utf-8", "replace")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=method,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            body=parse_body(self.headers.get("Content-Type", ""), raw),
            headers={k: v for k, v in self.headers.items() if k.lower() != "authorization"},
            raw_body=raw,
            authorization=self.headers.get("Authorization", ""),
        )
        outcome = self.server.fake._dispatch(request)
        if outcome is None:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        reply, truncate = outcome
        self.send_reply(reply, truncate=truncate)

    def send_reply(self, reply: Reply, *, truncate: bool = False) -> None:
        if reply.raw is not None:
            data = reply.raw
        elif reply.payload is None and reply.status == 204:
            data = b""
        else:
            data = json.dumps(reply.payload).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in _headers(reply.headers).items():
            self.send_header(name, value)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data[: len(data) // 2] if truncate else data)


def _headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v) for k, v in headers.items()}
