"""Running a source's connector and storing what it brings, batch by batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from beffroi.connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    RateLimited,
)
from beffroi.items.ingest import IngestResult, ingest
from beffroi.items.models import Item
from beffroi.sources.credentials import credentials_refused, ready_connector, resolve_alerts
from beffroi.sources.models import ConnectionAlert, Source


@dataclass
class SyncOutcome:
    created: int = 0
    existing: int = 0
    batches: int = 0
    #: The sync stopped after a batch because judging was behind (``backlog``): the rest
    #: stays on the platform, from the stored cursor, for the next sync.
    held_back: bool = False


def waiting_judgement(source: Source) -> int:
    """Items of the source's organization not judged yet (the partial index ``item_waiting``
    makes this count cheap)."""
    return Item.objects.filter(organization_id=source.organization_id, state=Item.State.NEW).count()


def sync_source(
    source: Source,
    on_batch: Callable[[SyncOutcome], None] | None = None,
    *,
    backlog: int = 0,
) -> SyncOutcome:
    """Fetch what is new for ``source`` and store it.

    Each batch is stored together with the cursor that follows it, in one transaction, so an
    interruption at any point resumes from the last stored batch: nothing is lost and
    nothing is stored twice. A token about to expire is refreshed first. Connector errors are
    recorded on the source (status and a message a person can read) and raised again for the
    caller to decide; refused credentials also alert the organization's administrators.

    ``backlog`` (when positive): once that many items of the organization wait for their
    judgement, the sync stops after the batch it stored (``held_back``): ingestion slows
    down when judging falls behind, and drops nothing — the platform keeps the rest, read
    from the stored cursor by the next sync.
    """
    outcome = SyncOutcome()
    connector: Connector | None = None
    try:
        connector = ready_connector(source)
        for batch in connector.fetch(dict(source.cursor)):
            with transaction.atomic():
                result: IngestResult = ingest(source, batch.items)
                source.cursor = dict(batch.cursor)
                source.save(update_fields=["cursor"])
            outcome.created += result.created
            outcome.existing += result.existing
            outcome.batches += 1
            if on_batch is not None:
                on_batch(outcome)
            if backlog > 0 and waiting_judgement(source) >= backlog:
                outcome.held_back = True
                break
    except AuthError as exc:
        _record(source, Source.Status.AUTH_FAILED, str(exc))
        credentials_refused(source, exc)
        raise
    except RateLimited as exc:
        until = timezone.now() + timedelta(seconds=exc.retry_after or 60)
        _record(source, Source.Status.RATE_LIMITED, str(exc), retry_after=until)
        raise
    except ConnectorError as exc:
        _record(source, Source.Status.ERROR, str(exc))
        raise
    finally:
        if connector is not None:
            connector.close()
    _record(source, Source.Status.OK, "", synced=True)
    resolve_alerts(source, ConnectionAlert.Kind.REFUSED)
    return outcome


def _record(
    source: Source,
    status: str,
    message: str,
    *,
    retry_after: object = None,
    synced: bool = False,
) -> None:
    source.status = status
    source.last_error = message
    source.retry_after = retry_after  # type: ignore[assignment]
    fields = ["status", "last_error", "retry_after"]
    if synced:
        source.last_synced_at = timezone.now()
        fields.append("last_synced_at")
    source.save(update_fields=fields)
