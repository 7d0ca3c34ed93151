"""Template filters of the desk's pages."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration_hours(value: timedelta | None) -> str:
    """A business duration as a person reads it: "45 min", "3.5 h"."""
    if value is None:
        return "—"
    minutes = value.total_seconds() / 60
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": round(minutes)}
    return _("%(hours)s h") % {"hours": f"{minutes / 60:.1f}".rstrip("0").rstrip(".")}
