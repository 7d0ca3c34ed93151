"""A town's system receiving Standard Webhooks on 127.0.0.1 (https://www.standardwebhooks.com,
specification 1.0.0), checking each delivery as the specification tells a consumer to — with
its own code, not Beffroi's, so that a mistake on Beffroi's side shows:

- ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` are required, and the
  timestamp must be within 5 minutes of now (either way);
- the key is the secret's base64 after ``whsec_``; the signed content is
  ``{id}.{timestamp}.{raw body}``; the header is a space-separated list, and one ``v1,<base64
  HMAC-SHA256>`` entry must match, compared in constant time;
- the ``webhook-id`` is the idempotency key: a delivery whose id was already accepted is
  answered as the first one was, and not accepted again.

``POST`` :data:`PATH` answers 200 ``{"id": "GRU-<n>"}`` (the request it made) or 401
``{"error": …}`` when the delivery cannot be verified; anything else is 404. The test scripts
the other answers (a 400 with its reason, a 503 with ``Retry-After``, a redirect) with the
scaffold's switches. :func:`signed_headers` signs what the town's system sends back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

PATH = "/hooks/beffroi"
#: A secret as a system following the specification shows them (32 random bytes).
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()
TOLERANCE = 5 * 60


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` and the base64 HMAC-SHA256 of ``id.timestamp.body`` under the secret's key."""
    content = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return (
        "v1," + base64.b64encode(hmac.new(_key(secret), content, hashlib.sha256).digest()).decode()
    )


def signed_headers(
    secret: str, message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers, as Django's test client takes them (``HTTP_WEBHOOK_ID``…)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return {
        "HTTP_WEBHOOK_ID": message_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(moment),
        "HTTP_WEBHOOK_SIGNATURE": signature(secret, message_id, moment, body),
    }


class WebhookReceiver(LoopbackServer):
    """The town's system: :attr:`accepted` maps each webhook id it accepted to the payload,
    :attr:`made` to the id of the request it made."""

    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: dict[str, Any] = {}
        self.made: dict[str, str] = {}

    @property
    def url(self) -> str:
        return self.base_url + PATH

    def verified(self, request: RecordedRequest) -> bool:
        message_id = request.header("webhook-id") or ""
        stamp = request.header("webhook-timestamp") or ""
        given = request.header("webhook-signature") or ""
        if not (message_id and stamp.isdigit() and given):
            return False
        if abs(time.time() - int(stamp)) > TOLERANCE:
            return False
        expected = signature(self.secret, message_id, int(stamp), request.raw_body).encode()
        return any(hmac.compare_digest(entry.encode(), expected) for entry in given.split(" "))

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        if request.path == PATH and not self.verified(request):
            return Reply(401, {"error": "invalid webhook signature"})
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or request.path != PATH:
            return Reply(404, {"error": "not found"})
        message_id = request.header("webhook-id") or ""
        if message_id not in self.accepted:  # the scaffold holds the lock while answering
            self.accepted[message_id] = json.loads(request.raw_body)
            self.made[message_id] = f"GRU-{len(self.made) + 1}"
        return Reply(200, {"id": self.made[message_id]})

    def deliveries(self) -> list[RecordedRequest]:
        """Every POST received at :data:`PATH` (accepted or not)."""
        return self.requests_to("POST", PATH)
