"""An OpenAI-compatible moderation server on 127.0.0.1 that answers as the API reference says.

``POST /v1/moderations`` with ``{"model": ..., "input": str | [str]}`` and
``Authorization: Bearer <key>`` answers ``{"id": "modr-…", "model": <dated snapshot>,
"results": [{"flagged", "categories", "category_scores", "category_applied_input_types"}]}``
with the thirteen categories of the omni moderation models, one result per input, in order.
Scores come from a small lexicon (word → category scores) so tests can predict them; a
category is flagged from 0.5. Errors have the documented body
``{"error": {"message", "type", "param", "code"}}``.

Built on :class:`~tests.fakes.loopback.LoopbackServer`. Failure switches: :meth:`revoke_key`
(401 ``invalid_api_key``), :meth:`rate_limit` (429 ``rate_limit_exceeded`` with
``retry-after`` for the next N requests), :meth:`exhaust_quota` (429 ``insufficient_quota``),
:meth:`server_error` (5xx for the next N requests), :meth:`malformed` (200 with a body that is
not what the reference promises), the scaffold's ``drop_connections`` (close the socket
without answering) and :meth:`heal`. :attr:`requests` records what was asked;
:meth:`key_of` tells how a request's key looked.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

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
PATH = "/v1/moderations"


def error_reply(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """OpenAI's documented error body ``{"error": {"message", "type", "param", "code"}}``."""
    payload = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return Reply(status, payload, headers=_headers(headers), content_type="application/json")


def _headers(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What every answer carries, and ``extra``."""
    return {"openai-processing-ms": "12", **dict(extra or {})}


class FakeModerationServer(LoopbackServer):
    """The moderation endpoint of one account, served over HTTP."""

    def __init__(
        self, *, api_key: str = DEFAULT_KEY, lexicon: Mapping[str, Mapping[str, float]] = ()
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.lexicon = {**DEFAULT_LEXICON, **dict(lexicon or {})}
        self.revoked = False
        self.quota_spent = False
        self._ids = itertools.count(1)

    # --- failure switches ------------------------------------------------------------------

    def revoke_key(self) -> None:
        with self.lock:
            self.revoked = True

    def rate_limit(self, requests: int = 1, *, retry_after: str | None = "1") -> None:
        """The next ``requests`` requests answer 429 with ``retry-after: <retry_after>``."""
        reply = error_reply(
            429,
            "Rate limit reached for omni-moderation-latest on requests per min (RPM): "
            "Limit 1000, Used 1000, Requested 1.",
            "requests",
            "rate_limit_exceeded",
            headers={} if retry_after is None else {"retry-after": retry_after},
        )
        self.script(PATH, reply, times=requests)

    def exhaust_quota(self) -> None:
        with self.lock:
            self.quota_spent = True

    def server_error(self, requests: int = 1, *, status: int = 500) -> None:
        """The next ``requests`` requests answer ``status``."""
        reply = error_reply(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        )
        self.script(PATH, reply, times=requests)

    def malformed(self, body: bytes) -> None:  # type: ignore[override]
        """The next request gets 200 with ``body`` (the scaffold's switch takes a path)."""
        reply = Reply(200, raw=body, headers=_headers(), content_type="application/json")
        self.script(PATH, reply)

    def heal(self) -> None:
        with self.lock:
            super().heal()
            self.revoked = self.quota_spent = False

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

    def key_of(self, request: RecordedRequest) -> str:
        """How the request's key looked: ``valid``, ``invalid``, ``missing`` or ``not-bearer``."""
        header = request.authorization
        if not header:
            return "missing"
        if not header.startswith("Bearer "):
            return "not-bearer"
        return "valid" if header.removeprefix("Bearer ") == self.api_key else "invalid"

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        key = self.key_of(request)
        if key == "missing":
            return error_reply(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
            )
        if key != "valid" or self.revoked:
            shown = request.authorization.removeprefix("Bearer ")
            return error_reply(
                401,
                f"Incorrect API key provided: {shown[:7]}***{shown[-4:]}. You can find "
                "your API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        if self.quota_spent:
            return error_reply(
                429,
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                "insufficient_quota",
            )
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        method, path, body = request.method, request.path, request.body
        if path != PATH or method != "POST":
            return error_reply(404, f"Invalid URL ({method} {path})", "invalid_request_error", None)
        if not isinstance(body, dict):
            return error_reply(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
            )
        if "input" not in body:
            return error_reply(
                400,
                "Missing required parameter: 'input'.",
                "invalid_request_error",
                "missing_required_parameter",
                "input",
            )
        model = body.get("model", "omni-moderation-latest")
        if model not in SNAPSHOTS:
            return error_reply(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if not all(isinstance(text, str) for text in texts):
            return error_reply(
                400,
                "Invalid type for 'input': expected a string or an array of strings.",
                "invalid_request_error",
                "invalid_type",
                "input",
            )
        answer = {
            "id": f"modr-{next(self._ids):024x}",
            "model": SNAPSHOTS[model],
            "results": [self.result(text) for text in texts],
        }
        return Reply(
            200,
            answer,
            headers=_headers({"x-request-id": f"req_{len(self.requests):08d}"}),
            content_type="application/json",
        )
