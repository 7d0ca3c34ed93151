"""Is the citizen's message a request or complaint for the institution, and for which
service? Each new conversation is judged once (``beffroi.analysis.requests``: the detector and
the router trained on the corpus the project writes), offline; a request goes to the team of
its service when nobody gave it one yet. A request and a hateful comment are not exclusive:
moderation judges the same message apart."""

from __future__ import annotations

import threading
from typing import Any

from django.db import transaction
from django.db.models import F

from beffroi.analysis.requests.detect import RequestDetector, default_detector
from beffroi.analysis.requests.routing import Message, Router, ServiceModel, default_service_model
from beffroi.analysis.requests.routing import RoutingRule as AnalysisRule
from beffroi.conversations.models import (
    Conversation,
    ConversationEvent,
    RequestModel,
    RoutingRule,
    Team,
)
from beffroi.organizations.models import Organization

#: The router's services → the short names of the default teams (``models.DEFAULT_TEAMS``).
SERVICE_TEAMS = {
    "voirie": "voirie",
    "proprete": "proprete",
    "eclairage": "eclairage",
    "etat_civil": "etat-civil",
    "urbanisme": "urbanisme",
    "ecoles": "ecoles",
    "police_municipale": "police-municipale",
    "social": "social",
    "eau_assainissement": "eau",
    "transports_stationnement": "transports",
    "espaces_verts": "espaces-verts",
    "culture_sport": "culture-sport",
}

#: Conversations judged per pass (the rest at the next one).
BATCH_SIZE = 500


def judge_new_conversations(organization: Organization) -> int:
    """Judge the conversations not judged yet; returns how many were judged."""
    pending = list(
        Conversation.objects.for_org(organization)
        .filter(is_request=None)
        .select_related("root", "author", "source", "team")
        .order_by("pk")[:BATCH_SIZE]
    )
    if not pending:
        return 0
    texts = [conversation.root.text_as_read for conversation in pending]
    detector, service_model = _models(organization, RequestModel.State.ACTIVE)
    detections = detector.detect(texts)
    asked = [index for index, found in enumerate(detections) if found.is_request]
    rules = list(
        RoutingRule.objects.for_org(organization).filter(enabled=True).select_related("team")
    )
    analysis_rules = [_rule(rule) for rule in rules]
    messages = [
        Message(
            texts[index],
            author_handle=pending[index].author.handle,
            platform=pending[index].platform,
            source=pending[index].source.name,
            language=pending[index].root.language,
        )
        for index in range(len(pending))
    ]
    router = Router(rules=analysis_rules, model=service_model)
    decisions = router.route_many([messages[index] for index in asked])
    _judge_in_shadow(
        organization, analysis_rules, messages, detections, dict(zip(asked, decisions, strict=True))
    )
    routed = dict(zip(asked, decisions, strict=True))
    teams = {team.slug: team for team in Team.objects.for_org(organization)}
    hits: dict[int, int] = {}
    shadow_hits: dict[int, int] = {}
    for routing in decisions:
        for match in routing.matches:
            counted = shadow_hits if match.shadow else hits
            counted[int(match.rule)] = counted.get(int(match.rule), 0) + 1
    names = {str(rule.pk): rule.name for rule in rules}
    with transaction.atomic():
        for index, (conversation, found) in enumerate(zip(pending, detections, strict=True)):
            conversation.is_request = found.is_request
            conversation.request_score = found.probability
            decision = routed.get(index)
            if decision is None:
                conversation.save(update_fields=["is_request", "request_score"])
                continue
            conversation.request_service = decision.service.removeprefix(RULE_TEAM)
            conversation.routed_by = (
                f"rule:{names.get(decision.rule, decision.rule)}"
                if decision.rule
                else f"{decision.decided_by}"
            )[:120]
            team = teams.get(team_slug(decision.service))
            fields = ["is_request", "request_score", "request_service", "routed_by"]
            if team is not None and conversation.team_id is None:
                conversation.team = team
                fields.append("team")
                ConversationEvent.objects.create(
                    conversation=conversation,
                    kind=ConversationEvent.Kind.TEAM,
                    after={
                        "team": team.slug,
                        "routed_by": conversation.routed_by,
                        "confidence": decision.confidence,
                        # What the rules in shadow would have decided, when it differs.
                        "shadow": team_slug(decision.shadow_service or ""),
                    },
                )
            conversation.save(update_fields=fields)
        for rule_id, count in hits.items():
            RoutingRule.objects.filter(pk=rule_id).update(hits=F("hits") + count)
        for rule_id, count in shadow_hits.items():
            RoutingRule.objects.filter(pk=rule_id).update(shadow_hits=F("shadow_hits") + count)
    return len(pending)


#: A rule's service names its team: ``team:<short name>`` (the model's services are mapped).
RULE_TEAM = "team:"


def team_slug(service: str) -> str:
    """The short name of the team a routing decision's service is for."""
    if service.startswith(RULE_TEAM):
        return service.removeprefix(RULE_TEAM)
    return SERVICE_TEAMS.get(service, "")


def _rule(rule: RoutingRule) -> AnalysisRule:
    """The library's rule for a stored one (named by its id: names need not be unique)."""
    return AnalysisRule(
        name=str(rule.pk),
        service=f"{RULE_TEAM}{rule.team.slug}",
        keywords=tuple(str(word) for word in rule.keywords or ()),
        query=rule.query,
        platforms=tuple(str(platform) for platform in rule.platforms or ()),
        then="continue" if rule.then == RoutingRule.Then.CONTINUE else "stop",
        shadow=rule.shadow,
    )


_loaded_lock = threading.Lock()
_loaded: dict[int, tuple[RequestDetector, ServiceModel]] = {}


def _models(organization: Organization, state: str) -> tuple[RequestDetector, ServiceModel]:
    """The organization's retrained models in ``state`` (in force: else the shipped ones)."""
    found = RequestModel.objects.for_org(organization).filter(state=state).only("pk").first()
    if found is None:
        return default_detector(), default_service_model()
    with _loaded_lock:
        if found.pk not in _loaded:
            from beffroi.conversations.learning import loaded

            _loaded[found.pk] = loaded(RequestModel.objects.get(pk=found.pk))
        return _loaded[found.pk]


def _judge_in_shadow(
    organization: Organization,
    rules: list[AnalysisRule],
    messages: list[Message],
    detections: list[Any],
    routed: dict[int, Any],
) -> None:
    """The model in shadow judges the same messages; its agreement with the verdicts in force
    (request or not, and the same service) is counted on it."""
    shadow = (
        RequestModel.objects.for_org(organization).filter(state=RequestModel.State.SHADOW).first()
    )
    if shadow is None or not messages:
        return
    detector, service_model = _models(organization, RequestModel.State.SHADOW)
    found = detector.detect([message.text for message in messages])
    asked = [index for index, verdict in enumerate(found) if verdict.is_request]
    decisions = dict(
        zip(
            asked,
            Router(rules=rules, model=service_model).route_many([messages[i] for i in asked]),
            strict=True,
        )
    )
    agreed = 0
    for index, verdict in enumerate(found):
        if verdict.is_request != detections[index].is_request:
            continue
        if verdict.is_request and decisions[index].service != routed[index].service:
            continue
        agreed += 1
    RequestModel.objects.filter(pk=shadow.pk).update(
        shadow_judged=F("shadow_judged") + len(found), shadow_agreed=F("shadow_agreed") + agreed
    )
