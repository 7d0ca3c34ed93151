"""Asking for the publishing desk's background work by name (the handlers are in
``tasks.py``), so that services ask for work without importing the handlers."""

from __future__ import annotations

from beffroi.jobs.engine import enqueue


def request_publish(variant_id: int) -> None:
    """Publish one variant (one pending job per variant: a second request is the same job)."""
    enqueue(
        "publishing.publish_variant",
        {"variant_id": variant_id},
        dedupe_key=f"publishing.publish_variant:{variant_id}",
    )


#: When a published post's first figures are read back (likes, shares, comments).
METRICS_DELAY_SECONDS = 3600


def request_metrics(variant_id: int) -> None:
    enqueue(
        "publishing.read_metrics",
        {"variant_id": variant_id},
        dedupe_key=f"publishing.read_metrics:{variant_id}",
        delay=METRICS_DELAY_SECONDS,
    )


def request_check(variant_id: int, *, delay: float = 0) -> None:
    """Look on the account for a variant of unknown outcome (one pending look per variant)."""
    enqueue(
        "publishing.check_variant",
        {"variant_id": variant_id},
        dedupe_key=f"publishing.check_variant:{variant_id}",
        delay=max(0.0, delay),
    )
