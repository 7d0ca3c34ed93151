"""Moderation decisions and the case queue (read-only here)."""

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from beffroi.api.auth import requires, scope
from beffroi.api.pagination import offset_page
from beffroi.api.schemas import ERRORS, INVALID, CasePage, CaseQuery, DecisionPage, DecisionQuery
from beffroi.moderation.models import Case, Decision
from beffroi.organizations.roles import Capability

router = Router(tags=["moderation"])


@router.get(
    "/orgs/{slug}/decisions",
    response={200: DecisionPage, **ERRORS, **INVALID},
    operation_id="list_decisions",
    summary="Moderation decisions, newest first",
)
@requires(Capability.VIEW)
def list_decisions(request: HttpRequest, slug: str, filters: Query[DecisionQuery]) -> Any:
    ctx = scope(request, slug)
    decisions = ctx.scoped(Decision).select_related("actor")
    if filters.item is not None:
        decisions = decisions.filter(item_id=filters.item)
    if filters.action is not None:
        decisions = decisions.filter(action=filters.action)
    if filters.automated is not None:
        decisions = decisions.filter(automated=filters.automated)
    return offset_page(decisions.order_by("-created_at", "-id"), filters.limit, filters.offset)


@router.get(
    "/orgs/{slug}/cases",
    response={200: CasePage, **ERRORS, **INVALID},
    operation_id="list_cases",
    summary="Review cases, highest priority then oldest first",
)
@requires(Capability.VIEW)
def list_cases(request: HttpRequest, slug: str, filters: Query[CaseQuery]) -> Any:
    ctx = scope(request, slug)
    cases = ctx.scoped(Case).select_related("assignee")
    if filters.state is not None:
        cases = cases.filter(state=filters.state)
    if filters.item is not None:
        cases = cases.filter(item_id=filters.item)
    cases = cases.order_by("-priority", "created_at", "id")
    return offset_page(cases, filters.limit, filters.offset)
