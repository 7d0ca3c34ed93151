"""Background tasks of moderation: judging new items, platform actions, retraining."""

from __future__ import annotations

from typing import Any

from beffroi.jobs.engine import PermanentFailure, RetryLater, periodic, task
from beffroi.moderation.models import Decision
from beffroi.moderation.platform import RetryableActionError, perform
from beffroi.moderation.queue import request_judgement


@task("moderation.judge", lease_seconds=600, max_attempts=5)
def judge_task(organization_id: int | None = None) -> dict[str, Any]:
    """Judge every item still waiting, in batches, for one organization or all."""
    from beffroi.items.models import Item
    from beffroi.moderation.services import moderate_all_pending
    from beffroi.organizations.models import Organization

    organization = (
        Organization.objects.filter(pk=organization_id).first() if organization_id else None
    )
    looked_at = moderate_all_pending(organization)
    left = Item.objects.filter(state=Item.State.NEW)
    if organization is not None:
        left = left.filter(organization=organization)
    return {"looked_at": looked_at, "left": left.count()}


@periodic("moderation.judge_stragglers", every_seconds=30)
def judge_stragglers() -> int:
    """Safety net: items left ``new`` (a crash, an import by another process) get judged."""
    from beffroi.items.models import Item
    from beffroi.organizations.models import Organization

    pending = Item.objects.filter(state=Item.State.NEW).values_list("organization_id", flat=True)
    org_ids = set(pending.distinct()[:100])
    for organization in Organization.objects.filter(pk__in=org_ids):
        request_judgement(organization)
    return len(org_ids)


@task("moderation.platform_action", lease_seconds=120, max_attempts=8)
def platform_action_task(decision_id: int) -> dict[str, Any]:
    decision = (
        Decision.objects.select_related("item__source", "item__author", "organization")
        .filter(pk=decision_id)
        .first()
    )
    if decision is None:
        raise PermanentFailure(f"Decision {decision_id} no longer exists.")
    if decision.platform_status != Decision.PlatformStatus.PENDING:
        return {"status": decision.platform_status, "skipped": True}
    try:
        status = perform(decision)
    except RetryableActionError as exc:
        raise RetryLater(str(exc), exc.delay) from exc
    return {"status": status}


@task("moderation.retrain", lease_seconds=1800, max_attempts=2)
def retrain_task(organization_id: int, user_id: int | None = None) -> dict[str, Any]:
    from beffroi.moderation.learning import retrain
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise PermanentFailure(f"Organization {organization_id} no longer exists.")
    version = retrain(organization, user_id=user_id)
    return {"version": version.version, "trained_on": version.trained_on}
