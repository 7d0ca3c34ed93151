"""Panels that a higher layer adds to a lower layer's pages.

An item's page, a moderation case and a conversation show what the apps above them know of
the item (the counter-speech library's suggestions) without importing them: each such app
registers a function here when it starts, and the lower page's template asks for the panels
of its place (``{% item_panels item "case" %}``, :mod:`beffroi.core.templatetags.panels`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString

#: The pages that ask for panels: an item's page, a moderation case, a conversation.
PLACES = ("item", "case", "conversation")

#: ``panel(request, item, place, **context) -> rendered HTML or ""`` (nothing to show).
ItemPanel = Callable[..., str]

_ITEM_PANELS: dict[str, ItemPanel] = {}


def register_item_panel(name: str, panel: ItemPanel) -> None:
    """Add (or replace, by name: an app's ``ready`` may run twice in tests) a panel."""
    _ITEM_PANELS[name] = panel


def item_panels(request: HttpRequest, item: Any, place: str, **context: Any) -> list[SafeString]:
    """Each registered panel's HTML for ``item`` on the page ``place``, in registration
    order; a panel with nothing to say is left out."""
    if place not in PLACES:
        raise ValueError(f"unknown place for item panels: {place}")
    rendered = []
    for panel in _ITEM_PANELS.values():
        html = panel(request, item, place, **context)
        if html:
            rendered.append(SafeString(html))
    return rendered
