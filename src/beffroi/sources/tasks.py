"""Background tasks of the sources app."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from beffroi.connectors.base import AuthError, ConfigurationError, RateLimited
from beffroi.jobs.engine import PermanentFailure, RetryLater, enqueue, periodic, task
from beffroi.sources.models import UPLOAD_PLATFORMS, Source
from beffroi.sources.sync import sync_source


@task("sources.sync", lease_seconds=900, max_attempts=5)
def sync_task(source_id: int) -> dict[str, Any]:
    source = Source.objects.select_related("organization").filter(pk=source_id).first()
    if source is None:
        raise PermanentFailure(f"Source {source_id} no longer exists.")
    try:
        outcome = sync_source(source)
    except (AuthError, ConfigurationError) as exc:
        raise PermanentFailure(str(exc)) from exc
    except RateLimited as exc:
        raise RetryLater(str(exc), exc.retry_after or 60) from exc
    return {"created": outcome.created, "existing": outcome.existing, "batches": outcome.batches}


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
