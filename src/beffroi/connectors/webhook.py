"""Standard Webhooks (https://www.standardwebhooks.com, specification 1.0.0): a JSON POST
signed with a shared secret, and the check of a delivery signed the same way.

The sender adds three headers:

- ``webhook-id``: the message's id, the same on every attempt of one message (the receiver's
  idempotency key: a retry is recognisable as the delivery it repeats);
- ``webhook-timestamp``: the attempt's time, in Unix seconds (new on every attempt);
- ``webhook-signature``: ``v1,`` then the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}``,
  keyed with the secret. The header is a space-separated list (several during a secret's
  rotation); a receiver accepts the delivery when one ``v1`` entry matches.

The secret is shown as ``whsec_`` followed by base64 (24 to 64 random bytes): the bytes are
the HMAC key. :func:`new_secret` makes one, :func:`secret_key` reads one.

:class:`WebhookClient` delivers one message to an address a person typed: through
:mod:`beffroi.egress` (no address inside the server's network unless the operator allowed
it), https only (plain http towards an allowed internal host only), redirects not followed,
never retried inside the call (the caller's task engine retries, with the same id). Its
answers become the connectors' errors, as the specification suggests reading them: 2xx
delivered (:class:`Delivered`, with the receiver's ``id`` if its JSON answer has one); 3xx
:class:`ConfigurationError` (set the address it redirects to); 401/403 :class:`AuthError`
(the receiver refused the signature); 404 :class:`NotFound`; 410 :class:`Gone` (the
specification's word for "this endpoint is gone: stop sending to it"); 408 and 5xx
:class:`ReceiverUnavailable` and 429 :class:`RateLimited` (``Retry-After`` honoured: try again
later); any other 4xx :class:`DeliveryRefused`, with the status and what the receiver said.
The secret never appears in a message, a log line or a ``repr``.

:func:`verify` checks a delivery received: the three headers present, the timestamp within
:data:`TOLERANCE_SECONDS` of now in either direction (an old delivery replayed is refused),
one ``v1`` signature matching, compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    NotFound,
    RateLimited,
    TransientError,
)
from beffroi.connectors.http import (
    DEFAULT_RATE_WAIT,
    DEFAULT_TIMEOUT,
    RATE_GATE,
    ApiClient,
    RateGate,
    Verdict,
    retry_after_seconds,
    token_key,
)
from beffroi.connectors.values import clear_text_allowed

LABEL = "Webhook"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the specification's prefix, not a secret)
#: The specification's bounds on a symmetric secret's length, in bytes.
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
#: What :func:`new_secret` draws.
NEW_SECRET_BYTES = 32
#: How far a delivery's timestamp may be from now, either way (the specification's 5 minutes).
TOLERANCE_SECONDS = 300
SIGNATURE_VERSION = "v1"
HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
#: A message id goes into the signed content between full stops: none may be in it.
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
#: What is kept of a receiver's explanation in an error message.
_SAID_CHARS = 200


class InvalidSecret(ConfigurationError):
    """The secret is not ``whsec_`` followed by base64 of 24 to 64 bytes."""


class DeliveryRefused(ConnectorError):
    """The receiver refused the delivery as sent (a 4xx other than 401, 403, 404, 408, 410 and
    429): sending it again unchanged will not help."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Gone(NotFound):
    """The receiver answered 410 Gone: the specification's way of saying the endpoint is gone
    for good and the sender should stop delivering to it (not retried; the caller switches
    the address off)."""


class ReceiverUnavailable(TransientError):
    """The receiver failed or did not answer in time (408, 5xx): nothing says it kept the
    delivery; ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SignatureRefused(ConnectorError):
    """A delivery received is not signed with the secret, or not now (see :func:`verify`)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """The receiver took the delivery: its status, and its own id of what it made, if its
    JSON answer carried one (``{"id": "…"}``)."""

    status: int
    receiver_id: str = ""


# --- the secret and the signature --------------------------------------------------------------


def new_secret() -> str:
    """A new random secret, as the specification shows them (``whsec_…``)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(NEW_SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for; :class:`InvalidSecret` when it is not one
    (the message never repeats it)."""
    text = secret.strip()
    if not text.startswith(SECRET_PREFIX):
        raise InvalidSecret(f"{LABEL}: the signing secret must start with {SECRET_PREFIX}.")
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret(
            f"{LABEL}: the signing secret must be {SECRET_PREFIX} followed by base64."
        ) from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise InvalidSecret(
            f"{LABEL}: the signing secret must hold {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} "
            f"bytes (it holds {len(key)})."
        )
    return key


def is_valid_secret(secret: str) -> bool:
    try:
        secret_key(secret)
    except InvalidSecret:
        return False
    return True


def _check_message_id(message_id: str) -> str:
    if not _MESSAGE_ID.match(message_id):
        raise ConfigurationError(
            f"{LABEL}: a message id is 1 to 120 letters, digits, '-' or '_' (no full stop)."
        )
    return message_id


def _signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    content = f"{message_id}.{int(timestamp)}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    key = secret_key(secret)
    return f"{SIGNATURE_VERSION},{_signature(key, _check_message_id(message_id), timestamp, body)}"


def signed_headers(
    secret: str, message_id: str, body: bytes, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of a delivery of ``body`` (signed now, unless ``timestamp``)."""
    moment = int(time.time()) if timestamp is None else int(timestamp)
    return {
        HEADER_ID: message_id,
        HEADER_TIMESTAMP: str(moment),
        HEADER_SIGNATURE: sign(secret, message_id, moment, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> str:
    """Check a delivery received against ``secret`` (``headers`` read by their lower-case
    names); returns its message id, or raises :class:`SignatureRefused` saying what is wrong
    (never what was expected). :class:`InvalidSecret` when ``secret`` is not one."""
    key = secret_key(secret)
    message_id = (headers.get(HEADER_ID) or "").strip()
    stamp = (headers.get(HEADER_TIMESTAMP) or "").strip()
    signatures = (headers.get(HEADER_SIGNATURE) or "").strip()
    if not (message_id and stamp and signatures):
        raise SignatureRefused(
            f"{LABEL}: the {HEADER_ID}, {HEADER_TIMESTAMP} and {HEADER_SIGNATURE} headers are "
            "required."
        )
    if not _MESSAGE_ID.match(message_id):
        raise SignatureRefused(f"{LABEL}: {HEADER_ID} is not a message id this side signs.")
    if not stamp.isdigit():
        raise SignatureRefused(f"{LABEL}: {HEADER_TIMESTAMP} must be Unix time in seconds.")
    moment = int(stamp)
    current = time.time() if now is None else now
    if moment < current - tolerance:
        raise SignatureRefused(f"{LABEL}: the delivery is too old (a replay is refused).")
    if moment > current + tolerance:
        raise SignatureRefused(f"{LABEL}: the delivery's timestamp is in the future.")
    expected = _signature(key, message_id, moment, body).encode()
    for entry in signatures.split():
        version, _comma, given = entry.partition(",")
        if version == SIGNATURE_VERSION and hmac.compare_digest(given.encode(), expected):
            return message_id
    raise SignatureRefused(f"{LABEL}: no signature matches the secret.")


# --- delivering ------------------------------------------------------------------------------------


def address(value: str) -> str:
    """``value`` as an address a delivery may go to: https with a host (plain http only towards
    an internal host the operator allowed), no fragment; :class:`ConfigurationError` saying
    what is wrong."""
    url = value.strip()
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or parts.fragment:
        raise ConfigurationError(
            f"{LABEL}: the address must be a web address, e.g. https://gru.ville.fr/hooks/beffroi."
        )
    if parts.scheme == "http" and not clear_text_allowed(host):
        raise ConfigurationError(
            f"{LABEL}: the address must use https; the request would travel in clear text."
        )
    return url


def encode(payload: Any) -> bytes:
    """The body sent: compact JSON in UTF-8 (what is signed is exactly what is sent)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookClient:
    """Deliveries to one address, signed with its secret. ``timeout`` is the wait for the
    receiver's answer (the specification suggests 15 to 30 seconds); a test's ``transport``
    replaces the egress-guarded one."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        gate: RateGate = RATE_GATE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = address(url)
        secret_key(secret)
        self._secret = secret.strip()
        self._client = ApiClient(
            "",
            label=LABEL,
            key=token_key("webhook", self.url),
            classify=self._classify,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            timeout=timeout,
            retries=0,
            gate=gate,
            transport=transport,
        )

    def __repr__(self) -> str:
        # The host only: an address's user and password stay out of a repr.
        return f"WebhookClient({urlsplit(self.url).hostname!r})"

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WebhookClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deliver(self, message_id: str, body: bytes, *, timestamp: int | None = None) -> Delivered:
        """POST ``body`` signed as message ``message_id``; see the module for the errors."""
        headers = signed_headers(self._secret, message_id, body, timestamp)
        try:
            # Not a create: the receiver drops a message id it already has, so a retry is safe.
            response = self._client.request(
                "POST", self.url, content=body, headers=headers, create=False
            )
        except TransientError as exc:
            if isinstance(exc, ReceiverUnavailable | RateLimited):
                raise
            raise ReceiverUnavailable(str(exc)) from exc  # a timeout, a connection that failed
        return Delivered(response.status_code, _receiver_id(response))

    def _classify(self, response: httpx.Response) -> Verdict:
        return classify(response, secrets=(self._secret,))


def classify(response: httpx.Response, secrets: tuple[str, ...] = ()) -> Verdict:
    """A receiver's answer as a connector error (or none); ``secrets`` are removed from what
    it said should it echo them."""
    status = response.status_code
    if 200 <= status < 300:
        return Verdict()
    said = _said(response, secrets)
    told = f": {said}" if said else ""
    if status < 400:
        return Verdict(
            ConfigurationError(
                f"{LABEL}: the receiving system answered with a redirect (HTTP {status}); set "
                "the address it redirects to."
            )
        )
    if status in (401, 403):
        return Verdict(
            AuthError(f"{LABEL}: the receiving system refused the signature (HTTP {status}){told}.")
        )
    if status == 410:
        return Verdict(
            Gone(
                f"{LABEL}: the receiving system said this address is gone (HTTP 410){told}; "
                "nothing more is sent there."
            )
        )
    if status == 404:
        return Verdict(
            NotFound(f"{LABEL}: nothing receives deliveries at this address (HTTP {status}){told}.")
        )
    if status == 429:
        wait = retry_after_seconds(response.headers, DEFAULT_RATE_WAIT)
        return Verdict(
            RateLimited(
                f"{LABEL}: the receiving system asked to slow down (HTTP 429){told}.", wait
            ),
            wait,
        )
    if status == 408 or status >= 500:
        return Verdict(
            ReceiverUnavailable(
                f"{LABEL}: the receiving system failed (HTTP {status}){told}.",
                retry_after_seconds(response.headers),
            )
        )
    return Verdict(
        DeliveryRefused(
            f"{LABEL}: the receiving system refused the delivery (HTTP {status}){told}.", status
        )
    )


def _receiver_id(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    found = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(found, bool) or not isinstance(found, str | int):
        return ""
    return str(found).strip()[:120]


def _said(response: httpx.Response, secrets: tuple[str, ...]) -> str:
    """What the receiver said about its refusal: a JSON answer's ``detail``, ``message``,
    ``error_description``, ``error`` or ``title``, else a short plain-text answer."""
    text = ""
    try:
        payload = response.json()
    except ValueError:
        if response.headers.get("content-type", "").startswith("text/plain"):
            text = response.text
    else:
        if isinstance(payload, dict):
            for name in ("detail", "message", "error_description", "error", "title"):
                value = payload.get(name)
                if isinstance(value, str) and value.strip():
                    text = value
                    break
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = " ".join(text.split())
    return text[:_SAID_CHARS].rstrip(".")
