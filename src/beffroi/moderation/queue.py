"""Asking for moderation's background work: small functions any layer above may call.

They only enqueue jobs by name (the handlers are in ``tasks.py``), so that services and
receivers can ask for work without importing the handlers, and the handlers can use the
services without an import circle.
"""

from __future__ import annotations

from typing import Any

from beffroi import config
from beffroi.jobs.engine import enqueue
from beffroi.jobs.models import Job


def judging_jobs() -> int:
    """How many jobs may judge one organization's new items side by side: one where
    batches cannot be claimed by row locks (SQLite), else ``BEFFROI_JUDGING_JOBS``."""
    from beffroi.moderation.services import claims_with_row_locks

    return config.judging_jobs() if claims_with_row_locks() else 1


def request_judgement(organization: Any) -> None:
    """Ask for new items to be judged soon: up to :func:`judging_jobs` pending jobs per
    organization, each taking its own batches, so that as many workers judge at once.

    A job already running may have looked for new items before these arrived: one more is
    queued behind it (at most one per job), instead of leaving them to the stragglers' sweep.
    """
    for slot in range(judging_jobs()):
        key = f"moderation.judge:{organization.pk}" + (f":{slot}" if slot else "")
        job = enqueue(
            "moderation.judge",
            {"organization_id": organization.pk},
            organization=organization,
            dedupe_key=key,
        )
        if job.state == Job.State.RUNNING:
            enqueue(
                "moderation.judge",
                {"organization_id": organization.pk},
                organization=organization,
                dedupe_key=f"{key}:next",
            )


def request_platform_action(decision: Any) -> None:
    """Carry out ``decision`` on its platform in the background (once per decision)."""
    enqueue(
        "moderation.platform_action",
        {"decision_id": decision.pk},
        organization=decision.organization,
        dedupe_key=f"moderation.platform_action:{decision.pk}",
    )


def retrain_key(organization: Any) -> str:
    """The one retraining job an organization may have pending or running."""
    return f"moderation.retrain:{organization.pk}"


def request_retrain(organization: Any, user: Any) -> Job:
    """Retrain the organization's classifier in the background (one at a time)."""
    return enqueue(
        "moderation.retrain",
        {"organization_id": organization.pk, "user_id": getattr(user, "pk", None)},
        organization=organization,
        dedupe_key=retrain_key(organization),
    )


def on_items_ingested(sender: Any, organization: Any, **kwargs: Any) -> None:
    """New items are judged as soon as they are stored (``items_ingested``)."""
    request_judgement(organization)
