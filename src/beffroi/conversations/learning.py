"""The request detector and router learn from the organization's people, as moderation learns
from decisions: a person saying a conversation is (not) a request, a person giving a request to
a team. A retrained model runs in shadow first; a person puts it in force."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from beffroi.analysis.requests.detect import (
    RequestDetector,
    RequestExample,
    TextClassifier,
    train_detector,
)
from beffroi.analysis.requests.routing import ServiceModel, train_service_model
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.conversations.models import Conversation, ConversationEvent, RequestModel
from beffroi.conversations.requests import RULE_TEAM, SERVICE_TEAMS
from beffroi.organizations.models import Organization

#: A team's short name → the router's service (the default teams'); other teams are named
#: ``team:<short name>``, as routing rules name them.
SERVICE_OF_TEAM = {team: service for service, team in SERVICE_TEAMS.items()}


def _service_of(slug: str) -> str:
    return SERVICE_OF_TEAM.get(slug, f"{RULE_TEAM}{slug}")


class LearningError(Exception):
    """Nothing to learn from, or a refused step, said in words."""


def corrections(organization: Organization) -> tuple[list[RequestExample], list[RequestExample]]:
    """(detection, routing) examples from what the organization's people did."""
    said = (
        Conversation.objects.for_org(organization)
        .exclude(request_checked_by=None)
        .select_related("root")
    )
    detection = [
        RequestExample(c.root.text_as_read, bool(c.is_request))
        for c in said
        if c.is_request is not None
    ]
    # The team a person gave (the last such change), for conversations still with that team.
    by_person: dict[int, str] = {}
    for conversation_id, after in (
        ConversationEvent.objects.filter(
            conversation__organization=organization, kind=ConversationEvent.Kind.TEAM
        )
        .exclude(actor=None)
        .order_by("created_at", "pk")
        .values_list("conversation_id", "after")
    ):
        team = (after or {}).get("team")
        if team:
            by_person[conversation_id] = str(team)
    routed = (
        Conversation.objects.for_org(organization)
        .filter(pk__in=by_person)
        .exclude(is_request=False)
        .select_related("root", "team")
    )
    routing = [
        RequestExample(c.root.text_as_read, True, _service_of(c.team.slug))
        for c in routed
        if c.team is not None and c.team.slug == by_person[c.pk]
    ]
    return detection, routing


def retrain(organization: Organization, user: Any = None) -> RequestModel:
    """Train a detector and a router on the corpus plus the corrections; the new model runs in
    shadow (it replaces a model already in shadow)."""
    detection, routing = corrections(organization)
    if not detection and not routing:
        raise LearningError(
            _(
                "Nothing to learn from yet: say whether conversations are requests, or give them to teams."
            )
        )
    detector = train_detector(detection)
    router = train_service_model(routing)
    with transaction.atomic():
        RequestModel.objects.filter(
            organization=organization, state=RequestModel.State.SHADOW
        ).update(state=RequestModel.State.RETIRED)
        model = RequestModel.objects.create(
            organization=organization,
            detector=detector.model.to_bytes(),
            router=router.model.to_bytes(),
            detection_corrections=len(detection),
            routing_corrections=len(routing),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
    return model


def put_in_force(actor: Actor, model: RequestModel) -> RequestModel:
    """The model in shadow judges new conversations from now on; the one in force retires."""
    with transaction.atomic():
        locked = RequestModel.objects.select_for_update().get(pk=model.pk)
        if locked.state != RequestModel.State.SHADOW:
            raise LearningError(_("Only the model in shadow can be put in force."))
        RequestModel.objects.filter(
            organization=locked.organization, state=RequestModel.State.ACTIVE
        ).update(state=RequestModel.State.RETIRED)
        locked.state = RequestModel.State.ACTIVE
        locked.save(update_fields=["state"])
        record(
            actor,
            AuditAction.REQUEST_MODEL_ACTIVATE,
            organization=locked.organization,
            obj=locked,
            after={
                "state": locked.state,
                "shadow_judged": locked.shadow_judged,
                "shadow_agreed": locked.shadow_agreed,
            },
        )
    return locked


def loaded(model: RequestModel) -> tuple[RequestDetector, ServiceModel]:
    return (
        RequestDetector(TextClassifier.from_bytes(bytes(model.detector))),
        ServiceModel(TextClassifier.from_bytes(bytes(model.router))),
    )


def ask_to_learn(actor: Actor, organization: Organization) -> None:
    """Ask for the models to be retrained in the background (it takes a minute)."""
    detection, routing = corrections(organization)
    if not detection and not routing:
        raise LearningError(
            _(
                "Nothing to learn from yet: say whether conversations are requests, or give them to teams."
            )
        )
    record(
        actor,
        AuditAction.REQUEST_MODEL_RETRAIN,
        organization=organization,
        after={"detection": len(detection), "routing": len(routing)},
    )
    user_id = actor.user.pk if getattr(actor.user, "is_authenticated", False) else None
    organization_id = organization.pk
    transaction.on_commit(lambda: _request_retrain(organization_id, user_id))


def _request_retrain(organization_id: int, user_id: int | None) -> None:
    from beffroi.jobs.engine import enqueue

    enqueue(
        "conversations.retrain_requests",
        {"organization_id": organization_id, "user_id": user_id},
        dedupe_key=f"conversations.retrain_requests:{organization_id}",
    )
