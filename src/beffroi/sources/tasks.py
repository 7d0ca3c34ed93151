"""Background tasks of the sources app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from beffroi import config
from beffroi.connectors.base import AuthError, ConfigurationError, RateLimited
from beffroi.core.mail import relay_configured, send_by_relay
from beffroi.jobs.engine import PermanentFailure, RetryLater, enqueue, periodic, task
from beffroi.notify.delivery import AlertMessage, DeliveryError
from beffroi.sources import credentials
from beffroi.sources.credentials import EMAIL_TASK
from beffroi.sources.models import UPLOAD_PLATFORMS, ConnectionAlert, Source
from beffroi.sources.sync import sync_source

#: How long a sync held back by the judging backlog waits before it reads on.
HELD_BACK_SECONDS = 30.0


# Slow: a sync waits on the network (a first sync reads weeks back, Jetstream listens up to a
# minute), so the embedded runner's last thread stays free to judge new comments.
@task("sources.sync", lease_seconds=900, max_attempts=5, slow=True)
def sync_task(source_id: int) -> dict[str, Any]:
    source = Source.objects.select_related("organization").filter(pk=source_id).first()
    if source is None:
        raise PermanentFailure(f"Source {source_id} no longer exists.")
    try:
        outcome = sync_source(source, backlog=config.ingestion_backlog())
    except (AuthError, ConfigurationError) as exc:
        raise PermanentFailure(str(exc)) from exc
    except RateLimited as exc:
        raise RetryLater(str(exc), exc.retry_after or 60) from exc
    if outcome.held_back:
        # Judging is behind: the rest is read once it has caught up a little (its own key:
        # this job is still running, and a sync scheduled meanwhile takes the same place).
        enqueue(
            "sources.sync",
            {"source_id": source.pk},
            organization=source.organization,
            dedupe_key=f"sources.sync:{source.pk}:held",
            delay=HELD_BACK_SECONDS,
        )
    return {
        "created": outcome.created,
        "existing": outcome.existing,
        "batches": outcome.batches,
        "held_back": outcome.held_back,
    }


@periodic("sources.schedule_syncs", every_seconds=60)
def schedule_syncs() -> int:
    """Enqueue a sync for every enabled source that is due (one live job per source)."""
    now = timezone.now()
    count = 0
    due = (
        Source.objects.filter(enabled=True)
        .exclude(platform__in=UPLOAD_PLATFORMS)
        .exclude(status=Source.Status.AUTH_FAILED)
        .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
    )
    for source in due:
        last = source.last_synced_at
        if last is None or (now - last).total_seconds() >= source.sync_interval_minutes * 60:
            enqueue(
                "sources.sync",
                {"source_id": source.pk},
                organization=source.organization,
                dedupe_key=f"sources.sync:{source.pk}",
            )
            count += 1
    return count


@periodic("sources.check_credentials", every_seconds=3600)
def check_credentials_periodically() -> dict[str, int]:
    """Refresh tokens before they expire; alert where a person must reconnect."""
    return credentials.check_credentials()


@task(EMAIL_TASK, max_attempts=8)
def email_connection_alert(alert_id: int) -> dict[str, Any]:
    """Send a connection alert to the organization's administrators, once."""
    alert = (
        ConnectionAlert.objects.select_related("organization", "source").filter(pk=alert_id).first()
    )
    if alert is None or alert.emailed_at is not None:
        return {"sent": False}
    recipients = credentials.admin_emails(alert)
    if not recipients or not relay_configured():
        alert.email_result = "no administrator address" if not recipients else "no SMTP relay"
        alert.save(update_fields=["email_result"])
        return {"sent": False, "reason": alert.email_result}
    with translation.override(alert.organization.language or settings.LANGUAGE_CODE):
        message = AlertMessage(
            title=_("Beffroi: the connection of “%(source)s” needs you")
            % {"source": alert.source.name},
            text=f"{alert.message}\n\n{credentials.what_to_do(alert.source)}",
            url=credentials.alert_url(alert),
            facts={
                _("Organization"): alert.organization.name,
                _("Source"): alert.source.name,
                _("Platform"): alert.source.platform,
            },
        )
    try:
        send_by_relay(message, recipients)
    except DeliveryError as exc:
        alert.email_result = str(exc)[:255]
        alert.save(update_fields=["email_result"])
        if exc.retry_after is None:
            raise PermanentFailure(str(exc)) from exc
        raise RetryLater(str(exc), exc.retry_after) from exc
    alert.emailed_at = timezone.now()
    alert.email_result = f"sent to {len(recipients)}"
    alert.save(update_fields=["emailed_at", "email_result"])
    return {"sent": True, "recipients": len(recipients)}
