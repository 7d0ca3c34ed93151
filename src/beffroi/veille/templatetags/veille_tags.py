from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag
def open_alert_count(organization: Any) -> int:
    """Alerts of the organization nobody has acknowledged yet."""
    if organization is None:
        return 0
    from beffroi.veille.models import Alert

    return Alert.objects.filter(organization=organization, acknowledged_at__isnull=True).count()
