"""``{% item_panels item "case" %}``: the panels higher layers add to a page (core.panels)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from beffroi.core.panels import item_panels as panels_of

register = template.Library()


@register.simple_tag(takes_context=True)
def item_panels(context: template.Context, item: Any, place: str, **extra: Any) -> SafeString:
    request = context.get("request")
    if request is None or item is None:
        return mark_safe("")
    # Each panel is rendered by its app's own template (escaped there).
    return mark_safe("".join(panels_of(request, item, place, **extra)))  # noqa: S308
