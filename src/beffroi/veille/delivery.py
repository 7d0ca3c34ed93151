"""Sending one alert to one channel, with the words of the organization's language; a test."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from beffroi.core.mail import send_by_relay
from beffroi.notify.delivery import AlertMessage, send_matrix, send_webhook
from beffroi.veille.models import Alert, AlertChannel, AlertDelivery


def message_for(alert: Alert) -> AlertMessage:
    organization = alert.organization
    with translation.override(organization.language or settings.LANGUAGE_CODE):
        url = settings.BEFFROI_PUBLIC_URL + reverse(
            "veille:alert", kwargs={"org_slug": organization.slug, "pk": alert.pk}
        )
        facts = {
            _("Organization"): organization.name,
            _("Kind"): str(alert.get_kind_display()),
            _("Started"): alert.started_at.isoformat(timespec="minutes"),
        }
        if alert.kind == Alert.Kind.SPIKE:
            facts[_("Observed")] = str(alert.observed)
            facts[_("Expected")] = f"{alert.expected:.1f}"
        accounts = alert.context.get("accounts") or []
        if accounts:
            facts[_("Accounts")] = ", ".join(f"@{a[0]}" for a in accounts[:5])
        title = _("Beffroi alert: %(kind)s — %(title)s") % {
            "kind": alert.get_kind_display(),
            "title": alert.title,
        }
        texts: dict[str, str] = {
            Alert.Kind.SPIKE: _("More posts than usual on this subject."),
            Alert.Kind.CAMPAIGN: _("Several accounts post the same content together."),
            Alert.Kind.IMPERSONATION: _("An account imitates a protected identity."),
            Alert.Kind.CLAIM: _("A claim already checked is being repeated."),
            Alert.Kind.RESURGENCE: _("A narrative that had gone quiet is back."),
        }
        text = texts.get(alert.kind, "")
        triggers = alert.triggers()
        if len(triggers) > 1:
            # One message for the whole event, saying everything that raised it.
            described = [trigger.describe() for trigger in triggers]
            facts[_("Triggered by")] = "; ".join(described)
            facts[_("Posts")] = str(len(alert.item_ids()))
            text = "\n".join(
                [
                    _("Several signals about the same posts:"),
                    *(f"- {sentence}" for sentence in described),
                ]
            )
    return AlertMessage(title=title, text=text, url=url, facts=facts)


def send(delivery: AlertDelivery) -> None:
    """Raises :class:`beffroi.notify.delivery.DeliveryError` when the channel refuses."""
    channel = delivery.channel
    message = message_for(delivery.alert)
    if channel.kind == AlertChannel.Kind.EMAIL:
        send_by_relay(message, [a.strip() for a in channel.target.split(",") if a.strip()])
    elif channel.kind == AlertChannel.Kind.WEBHOOK:
        send_webhook(channel.target, message)
    else:
        # The delivery's id makes the Matrix transaction: a retry never posts twice.
        send_matrix(
            channel.target,
            channel.room,
            channel.get_secret(),
            message,
            transaction_id=f"beffroi-alert-{delivery.pk}",
        )


def send_test(channel: AlertChannel) -> None:
    """Send a test alert through ``channel`` now, storing nothing; raises
    :class:`beffroi.notify.delivery.DeliveryError` with what the channel answered."""
    alert = Alert(
        organization=channel.organization,
        pk=0,
        kind=Alert.Kind.SPIKE,
        title=_("Test message"),
        started_at=timezone.now(),
    )
    send(AlertDelivery(alert=alert, channel=channel, pk=0))
