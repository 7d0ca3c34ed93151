"""Alerts delivered to a real local SMTP server (aiosmtpd), a webhook receiver and a
Matrix-compatible endpoint on loopback, errors included, as the Matrix client-server API
documents them (``M_LIMIT_EXCEEDED`` with ``retry_after_ms``, ``M_UNKNOWN_TOKEN``,
``M_FORBIDDEN``)."""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest

from beffroi.notify.delivery import (
    AlertMessage,
    DeliveryError,
    send_email,
    send_matrix,
    send_webhook,
)
from tests.fakes.alert_receivers import TOKEN, closed_port

ALERT = AlertMessage(
    title="Pic de mentions : eau du robinet",
    text="10 messages en une heure contre 1,2 attendus.",
    url="http://127.0.0.1:8000/o/saint-aubin/veille/alerts/1/",
    facts={"Série": "watch:eau", "Score": "7.4"},
)


def test_webhook_posts_slack_compatible_json(server: tuple[str, Any]) -> None:
    base, handler = server
    send_webhook(f"{base}/hooks/abc", ALERT)
    [(method, path, headers, body)] = handler.received
    assert method == "POST" and path == "/hooks/abc"
    assert headers["Content-Type"] == "application/json"
    assert body["text"].startswith("**Pic de mentions : eau du robinet**\n10 messages")
    assert body["facts"] == {"Série": "watch:eau", "Score": "7.4"} and body["url"] == ALERT.url


def test_webhook_errors(server: tuple[str, Any]) -> None:
    base, _ = server
    with pytest.raises(DeliveryError) as busy:
        send_webhook(f"{base}/busy", ALERT)
    assert busy.value.retry_after == 30
    with pytest.raises(DeliveryError) as broken:
        send_webhook(f"{base}/broken", ALERT)
    assert broken.value.retry_after is not None
    with pytest.raises(DeliveryError, match="refused the alert \\(404\\)") as gone:
        send_webhook(f"{base}/gone", ALERT)
    assert gone.value.retry_after is None
    with pytest.raises(DeliveryError, match="must start with https://"):
        send_webhook("ftp://example.org", ALERT)


def test_unreachable_receivers_can_be_retried() -> None:
    port = closed_port()
    with pytest.raises(DeliveryError, match="could not be reached") as webhook:
        send_webhook(f"http://127.0.0.1:{port}/x", ALERT, timeout=2)
    assert webhook.value.retry_after is not None
    with pytest.raises(DeliveryError, match="could not be reached") as mail:
        send_email(
            ALERT, host="127.0.0.1", port=port, sender="a@b.fr", recipients=["c@d.fr"],
            security="none", timeout=2,
        )  # fmt: skip
    assert mail.value.retry_after is not None


def test_matrix_message_and_idempotent_retry(server: tuple[str, Any]) -> None:
    base, handler = server
    room = "!veille:example.org"
    first = send_matrix(base, room, TOKEN, ALERT, transaction_id="alert-1")
    again = send_matrix(base, room, TOKEN, ALERT, transaction_id="alert-1")
    other = send_matrix(base, room, TOKEN, ALERT)
    assert first == again == "$event1" and other == "$event2"
    method, path, _headers, body = handler.received[0]
    assert method == "PUT"
    assert path == "/_matrix/client/v3/rooms/%21veille%3Aexample.org/send/m.room.message/alert-1"
    assert body["msgtype"] == "m.text" and body["format"] == "org.matrix.custom.html"
    assert (
        "Série: watch:eau" in body["body"] and "<strong>Pic de mentions" in body["formatted_body"]
    )


def test_matrix_errors_say_what_to_do_and_never_the_token(server: tuple[str, Any]) -> None:
    base, _ = server
    with pytest.raises(DeliveryError) as busy:
        send_matrix(base, "!busy:example.org", TOKEN, ALERT)
    assert busy.value.retry_after == 2.5
    with pytest.raises(DeliveryError, match="M_FORBIDDEN") as closed:
        send_matrix(base, "!closed:example.org", TOKEN, ALERT)
    assert closed.value.retry_after is None
    with pytest.raises(DeliveryError, match="unknown or expired") as revoked:
        send_matrix(base, "!veille:example.org", "syt_revoked", ALERT)
    assert "syt_revoked" not in str(revoked.value) and revoked.value.retry_after is None


def test_email_reaches_a_local_smtp_server(smtp_server: tuple[int, list[Message]]) -> None:
    port, received = smtp_server
    send_email(
        ALERT, host="127.0.0.1", port=port, sender="veille@saint-aubin.fr",
        recipients=["com@saint-aubin.fr", "maire@saint-aubin.fr"], security="none",
    )  # fmt: skip
    [mail] = received
    assert mail["Subject"] == ALERT.title
    assert mail["To"] == "com@saint-aubin.fr, maire@saint-aubin.fr"
    plain, rich = (
        part.get_payload(decode=True).decode() for part in mail.walk() if not part.is_multipart()
    )
    assert "10 messages en une heure" in plain and ALERT.url in plain
    assert "<li>Série: watch:eau</li>" in rich


def test_email_refused_recipients(smtp_server: tuple[int, list[Message]]) -> None:
    port, received = smtp_server
    with pytest.raises(DeliveryError, match=r"refused every recipient: nobody@x\.fr"):
        send_email(
            ALERT, host="127.0.0.1", port=port, sender="v@s.fr", recipients=["nobody@x.fr"],
            security="none",
        )  # fmt: skip
    with pytest.raises(DeliveryError, match=r"refused: nobody@y\.fr"):
        send_email(
            ALERT, host="127.0.0.1", port=port, sender="v@s.fr",
            recipients=["ok@x.fr", "nobody@y.fr"], security="none",
        )  # fmt: skip
    assert len(received) == 1  # the valid recipient got it
    with pytest.raises(DeliveryError, match="no e-mail recipient"):
        send_email(ALERT, host="127.0.0.1", port=port, sender="v@s.fr", recipients=[])
