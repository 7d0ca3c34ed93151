"""The moderation panel of an item page and the queue's count in the main menu."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from beffroi.items.models import Item
from beffroi.moderation.display import (
    PlatformEffectView,
    VisibilityView,
    is_sensitive,
    platform_effect,
    timeline,
    visibility,
    why,
)
from beffroi.moderation.forms import DecisionForm
from beffroi.moderation.models import Case, Decision
from beffroi.moderation.services import open_cases
from beffroi.moderation.views.common import charter_categories, decision_categories, severities

register = template.Library()


@register.simple_tag
def open_case_count(organization: Any) -> int:
    """How many cases wait in the organization's queue (one indexed count)."""
    if organization is None:
        return 0
    return open_cases(organization).count()


@register.simple_tag
def item_visibility(item: Item) -> VisibilityView:
    """The item's visibility as the platform answered, and what waits or was refused."""
    return visibility(item)


@register.simple_tag
def decision_effect(decision: Decision) -> PlatformEffectView:
    """What ``decision`` did on the platform (the one rule: display.platform_effect)."""
    return platform_effect(decision)


@register.inclusion_tag("moderation/_item_panel.html", takes_context=True)
def moderation_panel(context: template.Context, item: Item) -> dict[str, Any]:
    """What Beffroi found in the item, every decision on it and, for moderators, the actions."""
    request = context["request"]
    capabilities = context.get("current_capabilities") or frozenset()
    can_moderate = "moderate" in capabilities
    analysis = item.analysis if isinstance(item.analysis, dict) else {}
    category = str(analysis.get("category") or "")
    by_category = severities(request)
    open_case = (
        open_cases(item.organization).filter(item=item).order_by("-priority", "created_at").first()
    )
    # The analysis of the item; a decision's own record (scores at the time) where one exists.
    basis = item.decisions.exclude(scores={}).order_by("-created_at", "-id").first()
    why_category = category or (basis.category if basis else "")
    entries = timeline(item)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "current_organization": context.get("current_organization"),
        "item": item,
        "analysis": analysis,
        "verdict": analysis.get("verdict", ""),
        "why": why(item, basis, why_category, charter_categories(request)),
        "timeline": entries,
        "visibility": visibility(item, [entry["decision"] for entry in entries]),
        "can_manage_sources": "manage" in capabilities,
        "evidence": list(item.evidence.select_related("created_by").order_by("created_at")),
        "open_case": open_case,
        "can_moderate": can_moderate,
        # The publisher answers authors (its one action here); moderators do it with the rest.
        "can_publish": "publish" in capabilities and not can_moderate,
        "can_download": can_moderate,
        "form": DecisionForm(categories=decision_categories(request)) if can_moderate else None,
        "sensitive": is_sensitive(why_category, by_category.get(why_category)),
        "back": reverse("items:item", kwargs={"org_slug": item.organization.slug, "pk": item.pk})
        + "#moderation",
        "case_kinds": Case.Kind,
    }
