"""Storing normalized items: idempotent, so re-ingesting never duplicates anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from beffroi.analysis.language import detect_language
from beffroi.connectors.base import NormalizedItem, QuotedItem
from beffroi.items.models import Author, Item
from beffroi.items.search import item_search_text
from beffroi.items.signals import items_ingested
from beffroi.sources.models import Source


@dataclass
class IngestResult:
    created: int = 0
    existing: int = 0

    def __iadd__(self, other: IngestResult) -> IngestResult:
        self.created += other.created
        self.existing += other.existing
        return self


def quoted_fields(quoted: QuotedItem | None) -> dict[str, Any]:
    """``Item.quoted`` for the post an item quotes or reposts (empty when none)."""
    return {} if quoted is None else {**asdict(quoted), "relation": str(quoted.relation)}


def _authors(source: Source, items: Sequence[NormalizedItem]) -> dict[tuple[str, str], Author]:
    org = source.organization
    wanted: dict[tuple[str, str], NormalizedItem] = {}
    for item in items:
        wanted.setdefault((item.platform or source.platform, item.author.platform_id), item)
    found: dict[tuple[str, str], Author] = {}
    for platform in {key[0] for key in wanted}:
        ids = [key[1] for key in wanted if key[0] == platform]
        for author in Author.objects.filter(
            organization=org, platform=platform, platform_id__in=ids
        ):
            found[(platform, author.platform_id)] = author
    missing = [
        Author(
            organization=org,
            platform=key[0],
            platform_id=key[1],
            handle=item.author.handle[:255],
            display_name=item.author.display_name[:255],
            url=item.author.url[:1000],
            extra=dict(item.author.extra),
        )
        for key, item in wanted.items()
        if key not in found
    ]
    if missing:
        Author.objects.bulk_create(missing, ignore_conflicts=True)
        for platform in {a.platform for a in missing}:
            ids = [a.platform_id for a in missing if a.platform == platform]
            for author in Author.objects.filter(
                organization=org, platform=platform, platform_id__in=ids
            ):
                found[(platform, author.platform_id)] = author
    return found


def ingest(source: Source, items: Sequence[NormalizedItem]) -> IngestResult:
    """Store ``items`` for ``source``; those already stored (same platform id) are left as is."""
    if not items:
        return IngestResult()
    with transaction.atomic():
        ids = list(dict.fromkeys(item.platform_id for item in items))
        existing = set(
            Item.objects.filter(source=source, platform_id__in=ids).values_list(
                "platform_id", flat=True
            )
        )
        authors = _authors(source, items)
        seen: set[str] = set(existing)
        new: list[Item] = []
        for item in items:
            if item.platform_id in seen:
                continue
            seen.add(item.platform_id)
            platform = item.platform or source.platform
            new.append(
                Item(
                    organization=source.organization,
                    source=source,
                    platform=platform,
                    platform_id=item.platform_id,
                    kind=str(item.kind),
                    thread_id=item.thread_id or "",
                    parent_platform_id=item.parent_id or "",
                    author=authors[(platform, item.author.platform_id)],
                    text=item.text,
                    language=item.language or detect_language(item.text),
                    created_at=item.created_at,
                    url=item.url[:1000],
                    urls=list(item.urls),
                    media=[
                        {"kind": m.kind, "url": m.url, "description": m.description}
                        for m in item.media
                    ],
                    metrics=dict(item.metrics),
                    quoted=quoted_fields(item.quoted),
                    labels=list(item.labels),
                    raw=dict(item.raw),
                )
            )
        for stored_item in new:  # bulk_create sends no pre_save: the search's words here
            stored_item.search_text = item_search_text(stored_item)
        Item.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
        _link_parents(source, ids)
        stored = Item.objects.filter(source=source, platform_id__in=ids).count()
        created = stored - len(existing)
        if created:
            _announce(source, created)
    return IngestResult(created=created, existing=len(ids) - created)


def _announce(source: Source, created: int) -> None:
    """New items go through the charter and the veille as soon as they are committed: the
    domains above receive ``items_ingested``."""
    organization = source.organization
    transaction.on_commit(
        lambda: items_ingested.send(
            sender=Item, organization=organization, source=source, created=created
        )
    )


def _link_parents(source: Source, platform_ids: list[str]) -> None:
    """Link the batch's items to their parents, and earlier orphans to parents just arrived."""
    orphans = list(
        Item.objects.filter(source=source, parent__isnull=True)
        .filter(Q(platform_id__in=platform_ids) | Q(parent_platform_id__in=platform_ids))
        .exclude(parent_platform_id="")
        .only("id", "parent_platform_id")
    )
    if not orphans:
        return
    parents = dict(
        Item.objects.filter(
            source=source, platform_id__in={o.parent_platform_id for o in orphans}
        ).values_list("platform_id", "id")
    )
    linked = []
    for orphan in orphans:
        parent_id = parents.get(orphan.parent_platform_id)
        if parent_id is not None:
            orphan.parent_id = parent_id
            linked.append(orphan)
    if linked:
        Item.objects.bulk_update(linked, ["parent"], batch_size=500)
