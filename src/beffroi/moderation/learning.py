"""The classifier learns the organization's own line from the decisions its people took.

Each retraining stores a new :class:`ClassifierVersion` (the model, how many decisions it
learned from, its version hash) and activates it; any earlier version can be reactivated
(rollback). Only decisions taken or confirmed by a person are learned from: automated ones
would teach the model its own mistakes.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.jobs.models import Job
from beffroi.moderation.detectors import forget
from beffroi.moderation.models import ClassifierVersion, Decision
from beffroi.moderation.queue import request_retrain
from beffroi.organizations.models import Organization

#: What a person's decision teaches: a restrictive action → its category; keep → "none".
LEARNED_ACTIONS = (Decision.Action.HIDE, Decision.Action.DELETE, Decision.Action.KEEP)


def learnable_decisions(organization: Organization) -> Any:
    """The decisions retraining learns from: a person's keep, hide or deletion, in force or
    overturned on appeal (then the item is learned as acceptable)."""
    return Decision.objects.for_org(organization).filter(
        automated=False,
        action__in=LEARNED_ACTIONS,
        status__in=[Decision.Status.APPLIED, Decision.Status.OVERTURNED],
    )


def training_examples(organization: Organization) -> list[Any]:
    """The organization's decisions as labelled texts (latest decision per item wins)."""
    from beffroi.analysis.moderation.classifier import LabelledText

    latest: dict[int, tuple[str, str]] = {}
    decisions = (
        learnable_decisions(organization).select_related("item").order_by("created_at", "id")
    )
    for decision in decisions:
        overturned = decision.status == Decision.Status.OVERTURNED
        if decision.action == Decision.Action.KEEP or overturned:
            label = "none"
        else:
            label = decision.category or "none"
        latest[decision.item_id] = (decision.item.text, label)
    return [LabelledText(text=text, category=label) for text, label in latest.values() if text]


def retrain(organization: Organization, user_id: int | None = None) -> ClassifierVersion:
    """Train on the seed corpus plus the organization's decisions; activate the result."""
    from beffroi.analysis.moderation.classifier import train

    examples = training_examples(organization)
    model = train(examples)
    with transaction.atomic():
        ClassifierVersion.objects.filter(organization=organization, active=True).update(
            active=False
        )
        version = ClassifierVersion.objects.create(
            organization=organization,
            version=model.version,
            trained_on=model.trained_on,
            decisions_used=len(examples),
            model=model.to_bytes(),
            active=True,
            created_by_id=user_id,
        )
        actor = Actor.system("retraining")
        record(
            actor,
            AuditAction.MODERATION_CLASSIFIER_TRAINED,
            organization=organization,
            obj=version,
            after=snapshot(version, ["version", "trained_on", "decisions_used", "active"]),
        )
    forget(organization)
    return version


def activate(actor: Actor, version: ClassifierVersion) -> ClassifierVersion:
    """Make ``version`` the active classifier (rollback or roll forward)."""
    with transaction.atomic():
        previous = ClassifierVersion.objects.filter(
            organization_id=version.organization_id, active=True
        ).first()
        ClassifierVersion.objects.filter(
            organization_id=version.organization_id, active=True
        ).update(active=False)
        ClassifierVersion.objects.filter(pk=version.pk).update(active=True)
        version.refresh_from_db()
        record(
            actor,
            AuditAction.MODERATION_CLASSIFIER_ACTIVATED,
            organization=version.organization,
            obj=version,
            before={"active_version": previous.version if previous else None},
            after={"active_version": version.version},
        )
    forget(version.organization)
    return version


def deactivate_all(actor: Actor, organization: Organization) -> None:
    """Go back to the project's default classifier (trained on the seed corpus only)."""
    with transaction.atomic():
        previous = ClassifierVersion.objects.filter(organization=organization, active=True).first()
        ClassifierVersion.objects.filter(organization=organization, active=True).update(
            active=False
        )
        record(
            actor,
            AuditAction.MODERATION_CLASSIFIER_ACTIVATED,
            organization=organization,
            before={"active_version": previous.version if previous else None},
            after={"active_version": "default"},
        )
    forget(organization)


def request_retraining(actor: Actor, organization: Organization) -> Job:
    """Ask for the classifier to be retrained in the background (one job at a time: a second
    request while one waits or runs returns it); the request is audited."""
    job = request_retrain(organization, actor.user)
    record(
        actor,
        AuditAction.MODERATION_CLASSIFIER_RETRAIN_REQUESTED,
        organization=organization,
        obj=job,
    )
    return job
