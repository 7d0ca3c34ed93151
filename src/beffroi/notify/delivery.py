"""Delivering an alert outside the application: e-mail (SMTP), a webhook (JSON, Slack and
Mattermost compatible) and a Matrix room (Tchap is Matrix).

Each sender takes an :class:`AlertMessage` and either returns (delivered) or raises
:class:`DeliveryError`, whose ``retry_after`` says when trying again makes sense (a rate limit,
a server error, a network failure) and is ``None`` when it does not (a revoked token, a
refused address): the caller's task engine decides. Secrets (SMTP password, Matrix access
token) are never part of an error message.

Webhooks and Matrix homeservers are addresses people type: their connections are checked by
:mod:`beffroi.egress` (no address inside the server's network unless the operator allowed
it), and a refused address reads like any unreachable one. The SMTP relay is the operator's
own setting (often on the same machine) and is not checked.
"""

from __future__ import annotations

import html
import smtplib
import ssl
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import httpx

from beffroi import egress

__all__ = ["AlertMessage", "DeliveryError", "send_email", "send_matrix", "send_webhook"]

#: Seconds to wait for a receiving server.
DEFAULT_TIMEOUT = 10.0
#: Wait suggested after a server error or a network failure, when the server says nothing.
DEFAULT_RETRY_SECONDS = 60.0


class DeliveryError(Exception):
    """The alert was not delivered. ``retry_after`` (seconds) is set when retrying can work."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class AlertMessage:
    """What an alert says, whatever the channel: a title, a text, a link back to the
    application and a few facts (label → value) such as counts and the series."""

    title: str
    text: str
    url: str = ""
    facts: Mapping[str, str] = field(default_factory=dict)

    def plain(self) -> str:
        lines = [self.title, "", self.text]
        if self.facts:
            lines += ["", *(f"{label}: {value}" for label, value in self.facts.items())]
        if self.url:
            lines += ["", self.url]
        return "\n".join(lines)

    def html(self) -> str:
        parts = [f"<strong>{html.escape(self.title)}</strong><br>{html.escape(self.text)}"]
        if self.facts:
            items = "".join(
                f"<li>{html.escape(label)}: {html.escape(value)}</li>"
                for label, value in self.facts.items()
            )
            parts.append(f"<ul>{items}</ul>")
        if self.url:
            parts.append(
                f'<a href="{html.escape(self.url, quote=True)}">{html.escape(self.url)}</a>'
            )
        return "".join(parts)


def _retry_after(response: httpx.Response, body: Mapping[str, Any]) -> float:
    header = response.headers.get("Retry-After", "")
    if header.isdigit():
        return float(header)
    milliseconds = body.get("retry_after_ms")
    if isinstance(milliseconds, int | float) and milliseconds >= 0:
        return float(milliseconds) / 1000.0
    return DEFAULT_RETRY_SECONDS


def _unreachable(what: str, error: httpx.HTTPError) -> DeliveryError:
    """A failed or refused connection, in the same words (:data:`beffroi.egress.UNREACHABLE`);
    only the failure is worth retrying."""
    retry = None if egress.is_blocked(error) else DEFAULT_RETRY_SECONDS
    return DeliveryError(f"{what} {egress.UNREACHABLE}", retry)


def _client(timeout: float, transport: httpx.BaseTransport | None) -> httpx.Client:
    return httpx.Client(timeout=timeout, transport=transport or egress.guarded_transport())


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def send_webhook(
    url: str,
    message: AlertMessage,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """POST the alert as JSON. ``text`` (Markdown) is what Slack and Mattermost incoming
    webhooks display; ``title``, ``url`` and ``facts`` are there for other receivers."""
    if not url.startswith(("https://", "http://")):
        raise DeliveryError("the webhook address must start with https:// or http://")
    text = f"**{message.title}**\n{message.text}" + (f"\n{message.url}" if message.url else "")
    payload = {
        "text": text,
        "title": message.title,
        "url": message.url,
        "facts": dict(message.facts),
    }
    try:
        with _client(timeout, transport) as client:
            response = client.post(url, json=payload)
    except httpx.HTTPError as error:
        raise _unreachable("the webhook", error) from error
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(
            f"the webhook answered {response.status_code}",
            _retry_after(response, _body(response)),
        )
    if response.status_code >= 400:
        raise DeliveryError(f"the webhook refused the alert ({response.status_code})")


def send_matrix(
    homeserver: str,
    room_id: str,
    access_token: str,
    message: AlertMessage,
    *,
    transaction_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> str:
    """Send the alert to a Matrix room (client-server API v3, ``m.room.message``, ``m.text``
    with an HTML body); returns the event id. The transaction id makes a retry idempotent:
    the homeserver stores the message once however many times the same id is sent."""
    base = homeserver.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DeliveryError("the Matrix homeserver address must start with https:// or http://")
    txn = transaction_id or uuid.uuid4().hex
    path = (
        f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}"
        f"/send/m.room.message/{quote(txn, safe='')}"
    )
    content = {
        "msgtype": "m.text",
        "body": message.plain(),
        "format": "org.matrix.custom.html",
        "formatted_body": message.html(),
    }
    try:
        with _client(timeout, transport) as client:
            response = client.put(
                base + path,
                json=content,
                headers={"Authorization": f"Bearer {access_token}"},
            )
    except httpx.HTTPError as error:
        raise _unreachable("the Matrix homeserver", error) from error
    body = _body(response)
    code = str(body.get("errcode", ""))
    if response.status_code == 429 or code == "M_LIMIT_EXCEEDED":
        raise DeliveryError("Matrix rate limit (M_LIMIT_EXCEEDED)", _retry_after(response, body))
    if response.status_code >= 500:
        raise DeliveryError(
            f"the Matrix homeserver answered {response.status_code}", DEFAULT_RETRY_SECONDS
        )
    if response.status_code == 401 or code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
        raise DeliveryError(
            "the Matrix access token is unknown or expired: create a new one for the alert account"
        )
    if response.status_code == 403 or code == "M_FORBIDDEN":
        raise DeliveryError("the alert account may not post in this Matrix room (M_FORBIDDEN)")
    if response.status_code >= 400:
        raise DeliveryError(
            f"the Matrix homeserver refused the alert ({code or response.status_code})"
        )
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise DeliveryError("the Matrix homeserver answered without an event id")
    return event_id


def send_email(
    message: AlertMessage,
    *,
    host: str,
    port: int,
    sender: str,
    recipients: Sequence[str],
    username: str = "",
    password: str = "",
    security: str = "starttls",
    timeout: float = DEFAULT_TIMEOUT,
) -> None:
    """Send the alert by SMTP, as plain text with an HTML alternative. ``security`` is
    ``starttls``, ``tls`` (implicit, port 465) or ``none`` (a relay on the same machine)."""
    if not recipients:
        raise DeliveryError("the alert has no e-mail recipient")
    if security not in ("starttls", "tls", "none"):
        raise DeliveryError("security must be starttls, tls or none")
    email = EmailMessage()
    email["Subject"] = message.title
    email["From"] = sender
    email["To"] = ", ".join(recipients)
    email.set_content(message.plain())
    email.add_alternative(f"<html><body>{message.html()}</body></html>", subtype="html")
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if security == "starttls":
                smtp.starttls(context=context)
            if username:
                smtp.login(username, password)
            refused = smtp.send_message(email)
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryError(
            f"the SMTP server refused the login of {username!r} ({error.smtp_code})"
        ) from error
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryError(
            f"the SMTP server refused every recipient: {', '.join(error.recipients)}"
        ) from error
    except smtplib.SMTPResponseException as error:
        retry = DEFAULT_RETRY_SECONDS if 400 <= error.smtp_code < 500 else None
        raise DeliveryError(f"the SMTP server answered {error.smtp_code}", retry) from error
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(
            f"the SMTP server {host}:{port} could not be reached ({type(error).__name__})",
            DEFAULT_RETRY_SECONDS,
        ) from error
    if refused:
        raise DeliveryError(f"the SMTP server refused: {', '.join(sorted(refused))}")
