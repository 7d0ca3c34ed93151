"""Evidence before destruction: an item's full record, kept and sealed with a SHA-256."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.utils import timezone

from beffroi.items.models import Item
from beffroi.moderation.models import Evidence

#: How many items around the preserved one are kept as its thread context.
THREAD_CONTEXT_LIMIT = 50


def _item_record(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "platform": item.platform,
        "platform_id": item.platform_id,
        "kind": item.kind,
        "url": item.url,
        "text": item.text,
        "language": item.language,
        "published_at": item.created_at.isoformat(),
        "ingested_at": item.ingested_at.isoformat() if item.ingested_at else None,
        "author": {
            "platform_id": item.author.platform_id,
            "handle": item.author.handle,
            "display_name": item.author.display_name,
            "url": item.author.url,
        },
        "parent_platform_id": item.parent_platform_id,
        "thread_id": item.thread_id,
        "urls": item.urls,
        "media": item.media,
    }


def build_bundle(item: Item) -> dict[str, Any]:
    """Everything a report to the authorities needs about ``item``, as plain JSON."""
    context: list[dict[str, Any]] = []
    if item.thread_id:
        around = (
            Item.objects.filter(source_id=item.source_id, thread_id=item.thread_id)
            .exclude(pk=item.pk)
            .select_related("author")
            .order_by("created_at", "id")[:THREAD_CONTEXT_LIMIT]
        )
        context = [_item_record(other) for other in around]
    if item.parent_id and not any(entry["id"] == item.parent_id for entry in context):
        parent = Item.objects.select_related("author").filter(pk=item.parent_id).first()
        if parent is not None:
            context.insert(0, _item_record(parent))
    return {
        "format": "beffroi-evidence/1",
        "organization": item.organization.slug,
        "source": {"id": item.source_id, "name": item.source.name, "platform": item.platform},
        "item": _item_record(item),
        "raw": item.raw,
        "thread_context": context,
        "preserved_at": timezone.now().isoformat(),
    }


def digest(bundle: dict[str, Any]) -> str:
    """SHA-256 of the bundle's canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def preserve(item: Item, user: Any = None) -> Evidence:
    """Store the item's evidence bundle now (call it before any hide or delete)."""
    bundle = build_bundle(item)
    return Evidence.objects.create(
        organization_id=item.organization_id,
        item=item,
        bundle=bundle,
        sha256=digest(bundle),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )


def verify(evidence: Evidence) -> bool:
    """Whether the stored bundle still matches its seal."""
    return digest(evidence.bundle) == evidence.sha256
