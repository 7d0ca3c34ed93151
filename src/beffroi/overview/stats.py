"""The organization's counts across the domains, shown by ``beffroi stats`` and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from beffroi.items.models import Author, Item
from beffroi.moderation.models import Case, Decision
from beffroi.organizations.models import Organization
from beffroi.sources.models import Source


def organization_stats(org: Organization) -> dict[str, Any]:
    items = Item.objects.for_org(org)
    cases = Case.objects.for_org(org)
    return {
        "organization": org.slug,
        "items": items.count(),
        "sources": Source.objects.for_org(org).count(),
        "authors": Author.objects.for_org(org).count(),
        "decisions": Decision.objects.for_org(org).count(),
        "cases": cases.count(),
        "open_cases": cases.exclude(state=Case.State.CLOSED).count(),
        "items_by_kind": dict(items.values_list("kind").annotate(n=Count("id")).order_by("kind")),
        "items_by_platform": dict(
            items.values_list("platform").annotate(n=Count("id")).order_by("platform")
        ),
        "items_by_language": dict(
            items.values_list("language").annotate(n=Count("id")).order_by("language")
        ),
    }
