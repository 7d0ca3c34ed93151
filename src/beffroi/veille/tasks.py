"""Background tasks of the veille: scanning new items, delivering alerts."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task
from beffroi.veille.queue import request_scan


@task("veille.scan", lease_seconds=1800, max_attempts=3, slow=True)
def scan_task(organization_id: int, full: bool = False) -> dict[str, Any]:
    from beffroi.organizations.models import Organization
    from beffroi.veille.scan import scan

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    summary = scan(organization, full=full)
    if summary.busy:
        # Another worker is scanning it: once more after that one (nothing is lost, the
        # cursors say what is left).
        request_scan(organization, full=full)
        return {"busy": True}
    return {
        "watch_hits": summary.watch_hits,
        "claim_matches": summary.claim_matches,
        "narrated": summary.narrated,
        "campaigns": summary.campaigns,
        "impersonators": summary.impersonators,
        "alerts": summary.alerts,
    }


@periodic("veille.hourly_scan", every_seconds=3600)
def hourly_scan() -> int:
    """Spikes are measured per hour: every organization is looked at once an hour even
    without new items (a quiet hour matters too), translations of campaigns included."""
    from beffroi.organizations.models import Organization

    count = 0
    for organization in Organization.objects.all():
        request_scan(organization, full=True)
        count += 1
    return count


@task("veille.deliver", lease_seconds=120, max_attempts=8)
def deliver_task(delivery_id: int) -> dict[str, Any]:
    from beffroi.notify.delivery import DeliveryError
    from beffroi.veille.delivery import send
    from beffroi.veille.models import AlertDelivery

    delivery = (
        AlertDelivery.objects.select_related("alert__organization", "channel")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise PermanentFailure(f"Delivery {delivery_id} no longer exists.")
    if delivery.status == AlertDelivery.Status.SENT:
        return {"status": "sent", "skipped": True}
    delivery.attempts += 1
    channel = delivery.channel
    try:
        send(delivery)
    except DeliveryError as error:
        delivery.error = channel.last_error = str(error)
        final = error.retry_after is None
        delivery.status = AlertDelivery.Status.FAILED if final else AlertDelivery.Status.PENDING
        delivery.save(update_fields=["attempts", "error", "status"])
        channel.save(update_fields=["last_error"])
        if final:
            raise PermanentFailure(str(error)) from error
        raise RetryLater(str(error), error.retry_after or 60.0) from error
    delivery.status = AlertDelivery.Status.SENT
    delivery.sent_at = channel.last_sent_at = timezone.now()
    delivery.error = channel.last_error = ""
    delivery.save(update_fields=["attempts", "error", "status", "sent_at"])
    channel.save(update_fields=["last_error", "last_sent_at"])
    return {"status": "sent"}
