"""Asking for the veille's background work: small functions any layer above may call.

They only enqueue jobs by name (the handlers are in ``tasks.py``), so that services and
receivers ask for work without importing the handlers.
"""

from __future__ import annotations

from typing import Any

from beffroi.jobs.engine import enqueue
from beffroi.jobs.models import Job

#: Seconds between an ingestion and its veille scan: arrivals in a burst make one scan, and
#: the moderation of the new items (queued at once) goes first.
SCAN_DELAY = 30.0


def request_scan(organization: Any, *, full: bool = False) -> None:
    """Ask for a veille pass (one pending per organization and kind): soon after new items,
    or a full one (translations across languages too) once an hour."""
    # One veille scan per organization at a time, so that it never takes every background
    # thread from moderation; a full scan asked while a quick one waits upgrades it.
    job = enqueue(
        "veille.scan",
        {"organization_id": organization.pk, "full": full},
        organization=organization,
        dedupe_key=f"veille.scan:{organization.pk}",
        delay=None if full else SCAN_DELAY,
    )
    if full and job.state == Job.State.PENDING and not job.payload.get("full"):
        Job.objects.filter(pk=job.pk, state=Job.State.PENDING).update(
            payload={**job.payload, "full": True}
        )
    elif job.state == Job.State.RUNNING:
        # The running scan may have read the items before these arrived: one more after it.
        enqueue(
            "veille.scan",
            {"organization_id": organization.pk, "full": full},
            organization=organization,
            dedupe_key=f"veille.scan:{organization.pk}:next",
            delay=SCAN_DELAY,
        )


def request_delivery(delivery_id: int) -> None:
    enqueue(
        "veille.deliver",
        {"delivery_id": delivery_id},
        dedupe_key=f"veille.deliver:{delivery_id}",
    )


def on_items_ingested(sender: Any, organization: Any, **kwargs: Any) -> None:
    """New items go through the veille soon after they are stored (``items_ingested``)."""
    request_scan(organization)
