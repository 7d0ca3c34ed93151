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
