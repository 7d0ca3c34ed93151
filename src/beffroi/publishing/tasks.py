"""Background tasks of the publishing desk: each post at its time, each variant published."""

from __future__ import annotations

from typing import Any

from beffroi.connectors.base import ConnectorError, TransientError, UnsupportedAction
from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task
from beffroi.publishing.reconciling import check
from beffroi.publishing.sending import PublishLater, publish, read_metrics


@periodic("publishing.release_due", every_seconds=30)
def release_due_posts() -> int:
    """Hand the posts whose time came to publishing (or leave them unattempted under a
    pause), and expire those still waiting for approval at their time."""
    from beffroi.publishing.services import release_due

    return release_due()


@task("publishing.publish_variant", lease_seconds=300, max_attempts=8)
def publish_variant_task(variant_id: int) -> dict[str, Any]:
    try:
        return {"state": publish(variant_id)}
    except PublishLater as exc:
        raise RetryLater(str(exc), exc.delay) from exc


@task("publishing.check_variant", lease_seconds=120, max_attempts=8)
def check_variant_task(variant_id: int) -> dict[str, Any]:
    """Look on the account for a post whose publication was interrupted."""
    try:
        return {"state": check(variant_id)}
    except PublishLater as exc:
        raise RetryLater(str(exc), exc.delay) from exc


@task("publishing.read_metrics", lease_seconds=120, max_attempts=3)
def read_metrics_task(variant_id: int) -> dict[str, Any]:
    """The published post's first figures, an hour after (where the network gives them)."""
    try:
        return {"metrics": read_metrics(variant_id)}
    except UnsupportedAction as exc:
        return {"metrics": {}, "unsupported": str(exc)}
    except TransientError as exc:  # a rate limit or an outage: later
        raise RetryLater(str(exc), 600) from exc
    except ConnectorError as exc:
        raise PermanentFailure(str(exc)) from exc
