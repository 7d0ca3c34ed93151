"""Template tags of the sources app."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def connection_alert_count(organization: Any) -> int:
    """Connections of the organization that need an administrator (open alerts)."""
    if organization is None:
        return 0
    from beffroi.sources.models import ConnectionAlert

    return ConnectionAlert.objects.filter(
        organization=organization, resolved_at__isnull=True
    ).count()


@register.filter
def source_problem(source: Any) -> str:
    """Why the source's last sync failed, as a sentence (``sources.wording``)."""
    from beffroi.sources.wording import source_problem as sentence

    return sentence(source)


@register.filter
def alert_sentence(alert: Any) -> str:
    """A connection alert said for the reader; the platform's words via ``alert_detail``."""
    from beffroi.sources.wording import alert_sentence as sentence

    return sentence(alert)


@register.filter
def alert_detail(alert: Any) -> str:
    from beffroi.sources.wording import alert_detail as detail

    return detail(alert)


@register.filter
def platform_label(platform: str) -> str:
    """The platform as people name it ("facebook" → "Facebook")."""
    from beffroi.sources.forms import platform_label as label

    return label(str(platform))
