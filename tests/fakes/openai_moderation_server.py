"""An OpenAI-compatible moderation server on 127.0.0.1 that answers as the API reference says.

``POST /v1/moderations`` with ``{"model": ..., "input": str | [str]}`` and
``Authorization: Bearer <key>`` answers ``{"id": "modr-…", "model": <dated snapshot>,
"results": [{"flagged", "categories", "category_scores", "category_applied_input_types"}]}``
with the thirteen categories of the omni moderation models, one result per input, in order.
Scores come from a small lexicon (word → category scores) so tests can predict them; a
category is flagged from 0.5. Errors have the documented body
``{"error": {"message", "type", "param", "code"}}``.

Failure switches: :meth:`revoke_key` (401 ``invalid_api_key``), :meth:`rate_limit` (429
``rate_limit_exceeded`` with ``retry-after`` for the next N requests), :meth:`exhaust_quota`
(429 ``insufficient_quota``), :meth:`server_error` (5xx for the next N requests),
:meth:`malformed` (200 with a body that is not what the reference promises),
:meth:`drop_connections` (close the socket without answering) and :meth:`heal`.
:attr:`requests` records what was asked (the key itself is not kept).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_KEY = "sk-test-5f1d0c7e9a4b2d8c"
MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
SNAPSHOTS = {
    "omni-moderation-latest": "omni-moderation-2024-09-26",
    "omni-moderation-2024-09-26": "omni-moderation-2024-09-26",
    "text-moderation-latest": "text-moderation-007",
    "text-moderation-stable": "text-moderation-007",
}
DEFAULT_LEXICON: dict[str, dict[str, float]] = {
    "kill": {"violence": 0.93, "harassment/threatening": 0.81, "harassment": 0.55},
    "vermin": {"hate": 0.88, "harassment": 0.62, "hate/threatening": 0.12},
    "idiot": {"harassment": 0.71},
    "exterminate": {"hate/threatening": 0.9, "hate": 0.86, "violence": 0.8},
}
BASE_SCORE = 1.5e-05


@dataclass
class RecordedRequest:
    """One request the server received; ``authorization`` says how the key looked."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    authorization: str  # "valid", "invalid", "missing" or "not-bearer"


@dataclass
class _Failures:
    revoked: bool = False
    rate_limited: int = 0
    retry_after: str | None = "1"
    quota: bool = False
    server_errors: int = 0
    server_status: int = 500
    malformed: list[bytes] = field(default_factory=list)
    dropped: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeModerationServer


def error_body(message: str, kind: str, code: str | None, param: str | None = None) -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": param, "code": code}}
    ).encode()


class FakeModerationServer:
    """The moderation endpoint of one account, served over HTTP."""

    def __init__(
        self, *, api_key: str = DEFAULT_KEY, lexicon: Mapping[str, Mapping[str, float]] = ()
    ) -> None:
        self.api_key = api_key
        self.lexicon = {**DEFAULT_LEXICON, **dict(lexicon or {})}
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.failures = _Failures()
        self._ids = itertools.count(1)
        self._server: _Server | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeModerationServer:
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

    def __enter__(self) -> FakeModerationServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (the client adds ``/v1/moderations``)."""
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- failure switches ------------------------------------------------------------------

    def revoke_key(self) -> None:
        with self.lock:
            self.failures.revoked = True

    def rate_limit(self, requests: int = 1, *, retry_after: str | None = "1") -> None:
        """The next ``requests`` requests answer 429 with ``retry-after: <retry_after>``."""
        with self.lock:
            self.failures.rate_limited = requests
            self.failures.retry_after = retry_after

    def exhaust_quota(self) -> None:
        with self.lock:
            self.failures.quota = True

    def server_error(self, requests: int = 1, *, status: int = 500) -> None:
        with self.lock:
            self.failures.server_errors = requests
            self.failures.server_status = status

    def malformed(self, body: bytes) -> None:
        """The next request gets 200 with ``body``."""
        with self.lock:
            self.failures.malformed.append(body)

    def drop_connections(self, requests: int = 1) -> None:
        """The next ``requests`` connections are closed without an answer."""
        with self.lock:
            self.failures.dropped = requests

    def heal(self) -> None:
        with self.lock:
            self.failures = _Failures()

    # --- scoring ---------------------------------------------------------------------------

    def scores(self, text: str) -> dict[str, float]:
        lowered = text.lower()
        scores = dict.fromkeys(MODERATION_CATEGORIES, BASE_SCORE)
        for word, found in self.lexicon.items():
            if word in lowered:
                for category, value in found.items():
                    scores[category] = max(scores[category], value)
        return scores

    def result(self, text: str) -> dict[str, Any]:
        scores = self.scores(text)
        categories = {name: score >= 0.5 for name, score in scores.items()}
        return {
            "flagged": any(categories.values()),
            "categories": categories,
            "category_scores": scores,
            # Text-only input: every category was judged on the text.
            "category_applied_input_types": {name: ["text"] for name in MODERATION_CATEGORIES},
        }

    # --- one request -----------------------------------------------------------------------

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        """Status, headers and body for one request (None: drop the connection)."""
        header = headers.get("authorization", "")
        if not header:
            authorization = "missing"
        elif not header.startswith("Bearer "):
            authorization = "not-bearer"
        else:
            valid = header.removeprefix("Bearer ") == self.api_key
            authorization = "valid" if valid else "invalid"
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        with self.lock:
            kept = {key: value for key, value in headers.items() if key != "authorization"}
            self.requests.append(RecordedRequest(method, path, kept, body, authorization))
            failures = self.failures
            if failures.dropped:
                failures.dropped -= 1
                return None
            if path != "/v1/moderations" or method != "POST":
                return (
                    404,
                    {},
                    error_body(f"Invalid URL ({method} {path})", "invalid_request_error", None),
                )
            if authorization == "missing":
                return (
                    401,
                    {},
                    error_body(
                        "You didn't provide an API key. You need to provide your API key in an "
                        "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                        "YOUR_KEY).",
                        "invalid_request_error",
                        None,
                    ),
                )
            if authorization != "valid" or failures.revoked:
                shown = header.removeprefix("Bearer ")
                return (
                    401,
                    {},
                    error_body(
                        f"Incorrect API key provided: {shown[:7]}***{shown[-4:]}. You can find "
                        "your API key at https://platform.openai.com/account/api-keys.",
                        "invalid_request_error",
                        "invalid_api_key",
                    ),
                )
            if failures.quota:
                return (
                    429,
                    {},
                    error_body(
                        "You exceeded your current quota, please check your plan and billing "
                        "details.",
                        "insufficient_quota",
                        "insufficient_quota",
                    ),
                )
            if failures.rate_limited:
                failures.rate_limited -= 1
                extra = (
                    {} if failures.retry_after is None else {"retry-after": failures.retry_after}
                )
                return (
                    429,
                    extra,
                    error_body(
                        "Rate limit reached for omni-moderation-latest on requests per min (RPM): "
                        "Limit 1000, Used 1000, Requested 1.",
                        "requests",
                        "rate_limit_exceeded",
                    ),
                )
            if failures.server_errors:
                failures.server_errors -= 1
                return (
                    failures.server_status,
                    {},
                    error_body(
                        "The server had an error while processing your request. Sorry about that!",
                        "server_error",
                        None,
                    ),
                )
            if failures.malformed:
                return 200, {}, failures.malformed.pop(0)
            moderation_id = next(self._ids)
        if not isinstance(body, dict):
            return (
                400,
                {},
                error_body(
                    "We could not parse the JSON body of your request.",
                    "invalid_request_error",
                    None,
                ),
            )
        if "input" not in body:
            return (
                400,
                {},
                error_body(
                    "Missing required parameter: 'input'.",
                    "invalid_request_error",
                    "missing_required_parameter",
                    "input",
                ),
            )
        model = body.get("model", "omni-moderation-latest")
        if model not in SNAPSHOTS:
            return (
                404,
                {},
                error_body(
                    f"The model `{model}` does not exist or you do not have access to it.",
                    "invalid_request_error",
                    "model_not_found",
                ),
            )
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if not all(isinstance(text, str) for text in texts):
            return (
                400,
                {},
                error_body(
                    "Invalid type for 'input': expected a string or an array of strings.",
                    "invalid_request_error",
                    "invalid_type",
                    "input",
                ),
            )
        answer = {
            "id": f"modr-{moderation_id:024x}",
            "model": SNAPSHOTS[model],
            "results": [self.result(text) for text in texts],
        }
        return 200, {}, json.dumps(answer).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        answer = self.server.fake.handle(self.command, self.path, headers, raw)
        if answer is None:
            self.close_connection = True
            self.connection.close()
            return
        status, extra, body = answer
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-request-id", f"req_{len(self.server.fake.requests):08d}")
        self.send_header("openai-processing-ms", "12")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_POST = _serve
    do_GET = _serve
