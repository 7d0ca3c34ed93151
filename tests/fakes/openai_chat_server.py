"""An OpenAI-compatible chat server on 127.0.0.1 that answers as the API reference says (and as
llama.cpp's, vLLM's and Ollama's ``/v1`` servers do).

``POST /v1/chat/completions`` with ``{"model", "messages": [{"role", "content"}], ...}`` and,
where the server has a key, ``Authorization: Bearer <key>``, answers a ``chat.completion``:
``{"id": "chatcmpl-…", "object": "chat.completion", "created", "model", "choices": [{"index":
0, "message": {"role": "assistant", "content", "refusal": null, "annotations": []},
"logprobs": null, "finish_reason": "stop"}], "usage": {...}, "system_fingerprint"}``. The
reply is :attr:`FakeChatServer.reply` (a text, or a function of the messages). ``GET
/v1/models`` lists the models. Errors have the documented body ``{"error": {"message",
"type", "param", "code"}}``: an unknown model is a 404 ``model_not_found``.

Failure switches: :meth:`revoke_key` (401 ``invalid_api_key``), :meth:`rate_limit` (429
``rate_limit_exceeded`` with ``retry-after``), :meth:`server_error` (5xx), :meth:`malformed`
(200 with a body that is not what the reference promises), :meth:`slow` (the answer comes
after a delay), the scaffold's ``drop_connections`` and :meth:`heal`.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply
from tests.fakes.openai_moderation_server import error_reply

PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
DEFAULT_MODEL = "mistral-small-latest"

Replier = Callable[[Sequence[dict[str, Any]]], str]


def completion(model: str, content: str | None, number: int = 1) -> dict[str, Any]:
    """A ``chat.completion`` object with one choice."""
    return {
        "id": f"chatcmpl-fake{number:06d}",
        "object": "chat.completion",
        "created": 1767225600 + number,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 412, "completion_tokens": 57, "total_tokens": 469},
        "system_fingerprint": "fp_fake",
    }


class FakeChatServer(LoopbackServer):
    """One account's chat endpoint, served over HTTP."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        models: Sequence[str] = (DEFAULT_MODEL,),
        reply: str | Replier = "",
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.models = tuple(models)
        self.reply: str | Replier = reply
        self.revoked = False
        self.delay = 0.0
        self._ids = itertools.count(1)

    # --- failure switches ------------------------------------------------------------------

    def revoke_key(self) -> None:
        with self.lock:
            self.revoked = True

    def rate_limit(self, requests: int = 1, *, retry_after: str | None = "20") -> None:
        reply = error_reply(
            429,
            "Rate limit reached for requests per min (RPM): Limit 60, Used 60, Requested 1.",
            "requests",
            "rate_limit_exceeded",
            headers={} if retry_after is None else {"retry-after": retry_after},
        )
        self.script(PATH, reply, times=requests)

    def server_error(self, requests: int = 1, *, status: int = 500) -> None:
        reply = error_reply(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        )
        self.script(PATH, reply, times=requests)

    def malformed(self, body: bytes) -> None:  # type: ignore[override]
        """The next request gets 200 with ``body``."""
        self.script(PATH, Reply(200, raw=body, content_type="application/json"))

    def slow(self, seconds: float) -> None:
        with self.lock:
            self.delay = seconds

    def heal(self) -> None:
        with self.lock:
            super().heal()
            self.revoked = False
            self.delay = 0.0

    # --- requests --------------------------------------------------------------------------

    def chats(self) -> list[RecordedRequest]:
        return self.requests_to("POST", PATH)

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        if self.api_key is None:
            return None  # a local server without a key
        header = request.authorization
        if not header:
            return error_reply(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
            )
        shown = header.removeprefix("Bearer ")
        if shown != self.api_key or self.revoked:
            return error_reply(
                401,
                f"Incorrect API key provided: {shown[:3]}***{shown[-4:]}. You can find your "
                "API key at https://platform.openai.com/account/api-keys.",
                "invalid_request_error",
                "invalid_api_key",
            )
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        if self.delay:
            time.sleep(self.delay)
        if request.method == "GET" and request.path == MODELS_PATH:
            return Reply(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": name, "object": "model", "created": 1767225600, "owned_by": "me"}
                        for name in self.models
                    ],
                },
            )
        if request.method != "POST" or request.path != PATH:
            return error_reply(
                404,
                f"Invalid URL ({request.method} {request.path})",
                "invalid_request_error",
                None,
            )
        body = request.body
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return error_reply(
                400,
                "'messages' is a required property",
                "invalid_request_error",
                None,
                param="messages",
            )
        model = body.get("model")
        if model not in self.models:
            return error_reply(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                "model_not_found",
            )
        reply = self.reply if isinstance(self.reply, str) else self.reply(body["messages"])
        return Reply(200, completion(str(model), reply, next(self._ids)))
