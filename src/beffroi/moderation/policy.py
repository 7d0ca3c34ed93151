"""The organization's charter versions (live and shadow), as the decision engine reads them."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max
from django.utils.translation import get_language

from beffroi.analysis.moderation.decide import CategoryPolicy, CharterPolicy
from beffroi.charter.models import CharterVersion
from beffroi.organizations.models import Organization


def _policy(version: CharterVersion) -> CharterPolicy:
    language = get_language() or "fr"
    categories = {
        category.slug: CategoryPolicy(
            slug=category.slug,
            name=category.name(language),
            clause=category.clause(language),
            legal_reference=category.legal_reference,
            severity=category.severity,
            hide_at=category.hide_at,
            review_at=category.review_at,
            shadow=category.shadow,
            enabled=category.enabled,
            auto_delete=category.auto_delete,
            dsa_decision_ground=category.dsa_decision_ground,
            dsa_category=category.dsa_category,
            dsa_specifications=tuple(category.dsa_category_specification or ()),
        )
        for category in version.categories.all()
    }
    return CharterPolicy(
        version=version.number,
        categories=categories,
        shadow=version.status == CharterVersion.Status.SHADOW,
        key=version.pk,
    )


def charter_policies(
    organization: Organization,
) -> tuple[CharterPolicy | None, CharterPolicy | None]:
    """The live version and the version running in shadow, either of which may be missing."""
    versions = CharterVersion.objects.filter(
        organization=organization,
        status__in=[CharterVersion.Status.LIVE, CharterVersion.Status.SHADOW],
    ).prefetch_related("categories")
    live = shadow = None
    for version in versions:
        if version.status == CharterVersion.Status.LIVE:
            live = _policy(version)
        else:
            shadow = _policy(version)
    return live, shadow


def rule_specs_for(version_key: int) -> tuple[tuple[Any, ...], list[Any]]:
    """The rule specs of a charter version, with a key that changes when they change."""
    from beffroi.charter.services import rule_specs

    version = CharterVersion.objects.get(pk=version_key)
    stats = version.rules.aggregate(count=Count("id"), latest=Max("created_at"))
    key = (version.pk, version.use_default_rules, stats["count"], stats["latest"])
    return key, list(rule_specs(version))
