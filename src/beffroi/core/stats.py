"""Counts shown by ``beffroi stats``, the API and the dashboard."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from beffroi.items.models import Author, Item
from beffroi.moderation.models import Case, Decision
from beffroi.organizations.models import Organization
from beffroi.sources.models import Source


def organization_stats(org: Organization) -> dict[str, Any]:
    items = Item.objects.filter(organization=org)
    return {
        "organization": org.slug,
        "items": items.count(),
        "sources": Source.objects.filter(organization=org).count(),
        "authors": Author.objects.filter(organization=org).count(),
        "decisions": Decision.objects.filter(organization=org).count(),
        "cases": Case.objects.filter(organization=org).count(),
        "open_cases": Case.objects.filter(organization=org)
        .exclude(state=Case.State.CLOSED)
        .count(),
        "items_by_kind": dict(items.values_list("kind").annotate(n=Count("id")).order_by("kind")),
        "items_by_platform": dict(
            items.values_list("platform").annotate(n=Count("id")).order_by("platform")
        ),
        "items_by_language": dict(
            items.values_list("language").annotate(n=Count("id")).order_by("language")
        ),
    }
