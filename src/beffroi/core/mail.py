"""E-mail through the instance's SMTP relay (``BEFFROI_SMTP_*``), for every app that sends."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from beffroi.notify.delivery import AlertMessage, DeliveryError, send_email


def relay_configured() -> bool:
    return bool(settings.BEFFROI_SMTP["host"])


def send_by_relay(message: AlertMessage, recipients: Sequence[str]) -> None:
    """Send ``message`` through the configured relay; raises
    :class:`~beffroi.notify.delivery.DeliveryError` when there is none or it refuses."""
    smtp = settings.BEFFROI_SMTP
    if not smtp["host"]:
        raise DeliveryError("no SMTP relay is configured (BEFFROI_SMTP_HOST)")
    send_email(
        message,
        host=str(smtp["host"]),
        port=int(smtp["port"]),
        sender=str(smtp["sender"]),
        recipients=list(recipients),
        username=str(smtp["username"]),
        password=str(smtp["password"]),
        security=str(smtp["security"]),
    )
