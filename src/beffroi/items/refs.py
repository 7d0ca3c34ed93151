"""How a stored item is named to its platform's connector (for an action on it)."""

from __future__ import annotations

from beffroi.connectors.base import ItemKind, ItemRef
from beffroi.items.models import Item


def item_ref(item: Item) -> ItemRef:
    return ItemRef(
        platform_id=item.platform_id,
        kind=ItemKind(item.kind),
        author_id=item.author.platform_id,
        thread_id=item.thread_id or None,
        parent_id=item.parent_platform_id or None,
        raw=item.raw or {},
        url=item.url or "",
    )
