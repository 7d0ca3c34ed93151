"""Narratives: ``beffroi.analysis.narratives`` (the incremental clusterer) run over the
organization's items as they arrive, its state saved with the analyzer's cursor, the stories
it finds stored and kept in step with what analysts name, merge and split.

The analysts' edits are acts of ``services.py`` (their rule and audit event); :func:`rename`,
:func:`merge` and :func:`split` here are what those acts do to the clusterer and the rows.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from beffroi.analysis.narratives import Narrative as FoundNarrative
from beffroi.analysis.narratives import NarrativeClusterer
from beffroi.analysis.narratives import NarrativeItem as Document
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import advance, cursor_for, new_item_batches
from beffroi.veille.models import Alert, Narrative, NarrativeItem

ANALYZER = "narratives"
#: A narrative quiet for this long that gets items again is a resurgence: a story of at
#: least RESURGENCE_HISTORY items back with a wave of at least RESURGENCE_WAVE.
QUIET = timedelta(days=3)
RESURGENCE_HISTORY = 3
RESURGENCE_WAVE = 2


def _clusterer(state: dict[str, Any]) -> NarrativeClusterer:
    saved = state.get("clusterer")
    return NarrativeClusterer.from_dict(saved) if saved else NarrativeClusterer()


def _document(item: Item) -> Document:
    return Document(str(item.pk), item.text_as_read, item.created_at, item.language)


#: Items clustered per scan at most: the clusterer's state (every member's vector) is saved
#: once per scan, and a backlog is worked through over the following scans.
MAX_ITEMS_PER_SCAN = 20000


def update_narratives(organization: Organization) -> int:
    """Cluster the items not yet seen; returns how many joined a narrative.

    The state is loaded and saved once per scan, with the cursor, in one transaction: a
    scan cut short is done again, and storing is idempotent.
    """
    clusterer: NarrativeClusterer | None = None
    cursor = None
    last: list[Item] = []
    seen = 0
    for cursor, batch in new_item_batches(organization, ANALYZER, batch_size=500):
        if clusterer is None:
            clusterer = _clusterer(cursor.state)
        clusterer.add([_document(item) for item in batch])
        last = batch
        seen += len(batch)
        if seen >= MAX_ITEMS_PER_SCAN:
            break
    if clusterer is None or cursor is None or not last:
        return 0
    # Worked out before the transaction, which then only writes: on SQLite a long write
    # transaction would hold up the moderation of new comments.
    state = {"clusterer": clusterer.to_dict()}
    found = clusterer.narratives()
    with transaction.atomic():
        joined = _sync(organization, found)
        cursor.state = state
        advance(cursor, last)
    return joined


def _sync(organization: Organization, narratives: list[FoundNarrative]) -> int:
    """Store the clusterer's narratives: new ones, their items, keywords and dates."""
    rows = {row.key: row for row in Narrative.objects.filter(organization=organization)}
    linked = 0
    for found in narratives:
        ids = [int(item_id) for item_id in found.item_ids]
        row = rows.get(found.id)
        summaries = {lang: summary.as_dict() for lang, summary in found.summaries.items()}
        if (
            row is not None
            and row.item_count == len(ids)
            and row.status == Narrative.Status.ACTIVE
            and row.summaries == summaries
        ):
            continue
        if row is None:
            row = Narrative.objects.create(organization=organization, key=found.id)
        row.keywords = list(found.keywords)
        row.summaries = summaries
        row.representative_ids = [int(i) for i in found.representative_ids]
        row.first_seen, row.last_seen = found.first_seen, found.last_seen
        row.item_count = len(ids)
        row.status = Narrative.Status.ACTIVE
        row.save()
        moved = NarrativeItem.objects.filter(item_id__in=ids).exclude(narrative=row)
        moved.update(narrative=row)
        have = set(NarrativeItem.objects.filter(narrative=row).values_list("item_id", flat=True))
        missing = [NarrativeItem(narrative=row, item_id=pk) for pk in ids if pk not in have]
        NarrativeItem.objects.bulk_create(missing, ignore_conflicts=True)
        linked += len(missing)
    return linked


def _edit(organization: Organization) -> tuple[Any, NarrativeClusterer]:
    cursor = cursor_for(organization, ANALYZER)
    return cursor, _clusterer(cursor.state)


def _keep(cursor: Any, clusterer: NarrativeClusterer) -> None:
    cursor.state = {"clusterer": clusterer.to_dict()}
    cursor.save(update_fields=["state", "updated_at"])


def rename(narrative: Narrative, name: str, user: Any) -> None:
    """Name ``narrative``; the clusterer keeps the name for the story's later items."""
    with transaction.atomic():
        cursor, clusterer = _edit(narrative.organization)
        if narrative.key in {n.id for n in clusterer.narratives()}:
            clusterer.rename(narrative.key, name)
            _keep(cursor, clusterer)
        narrative.name = name
        narrative.named_by = user if getattr(user, "is_authenticated", False) else None
        narrative.save(update_fields=["name", "named_by", "updated_at"])


def merge(source: Narrative, target: Narrative) -> None:
    """``source``'s items join ``target``; later items of that story go to ``target``."""
    organization = source.organization
    with transaction.atomic():
        cursor, clusterer = _edit(organization)
        known = {n.id for n in clusterer.narratives()}
        if {target.key, source.key} <= known:
            clusterer.merge(target.key, source.key)
        NarrativeItem.objects.filter(narrative=source).update(narrative=target)
        target.item_count = target.members.count()
        target.save(update_fields=["item_count", "updated_at"])
        source.status = Narrative.Status.MERGED
        source.merged_into = target
        source.item_count = 0
        source.save(update_fields=["status", "merged_into", "item_count", "updated_at"])
        _keep(cursor, clusterer)
        _sync(organization, clusterer.narratives())


def split(narrative: Narrative, chosen: list[int], name: str) -> Narrative:
    """The ``chosen`` items (some of the narrative's, not all) leave ``narrative`` and make
    a new one, named ``name`` when given."""
    organization = narrative.organization
    with transaction.atomic():
        cursor, clusterer = _edit(organization)
        if narrative.key in {n.id for n in clusterer.narratives()}:
            created = clusterer.split(narrative.key, [str(pk) for pk in chosen])
            if name:
                clusterer.rename(created.id, name)
            _keep(cursor, clusterer)
            _sync(organization, clusterer.narratives())
            row = Narrative.objects.get(organization=organization, key=created.id)
        else:
            # A narrative the clusterer does not hold (its state was reset): split in the
            # database only; new items will not follow it.
            row = _split_stored(narrative, chosen)
        if name:
            row.name = name
            row.save(update_fields=["name", "updated_at"])
    return row


def _split_stored(narrative: Narrative, chosen: list[int]) -> Narrative:
    import uuid

    moved = Item.objects.filter(pk__in=chosen)
    times = list(moved.values_list("created_at", flat=True))
    row = Narrative.objects.create(
        organization=narrative.organization,
        key=f"split-{uuid.uuid4().hex[:12]}",
        keywords=list(narrative.keywords),
        item_count=len(chosen),
        first_seen=min(times),
        last_seen=max(times),
    )
    NarrativeItem.objects.filter(narrative=narrative, item_id__in=chosen).update(narrative=row)
    narrative.item_count = narrative.members.count()
    narrative.save(update_fields=["item_count", "updated_at"])
    return row


def growth_of(narratives: QuerySet[Narrative], now: datetime | None = None) -> dict[int, int]:
    """Items of each narrative over the last 24 hours."""
    since = (now or timezone.now()) - timedelta(hours=24)
    counts: dict[int, int] = {}
    for narrative_id in NarrativeItem.objects.filter(
        narrative__in=narratives, item__created_at__gte=since
    ).values_list("narrative_id", flat=True):
        counts[narrative_id] = counts.get(narrative_id, 0) + 1
    return counts


def resurgence_alerts(organization: Organization, now: datetime | None = None) -> list[Alert]:
    """An alert for each narrative back after :data:`QUIET` without items (once per return)."""
    now = now or timezone.now()
    made = []
    recent = Narrative.objects.filter(
        organization=organization, status=Narrative.Status.ACTIVE, last_seen__gte=now - QUIET
    )
    for narrative in recent:
        times = sorted(
            Item.objects.filter(narrative_link__narrative=narrative).values_list(
                "created_at", flat=True
            )
        )
        for position, (before, after) in enumerate(itertools.pairwise(times), start=1):
            wave = sum(1 for moment in times[position:] if moment - after < QUIET)
            if after - before < QUIET or position < RESURGENCE_HISTORY or wave < RESURGENCE_WAVE:
                continue
            alert, created = Alert.objects.get_or_create(
                organization=organization,
                key=f"resurgence:{narrative.pk}:{after.date().isoformat()}",
                defaults={
                    "kind": Alert.Kind.RESURGENCE,
                    "series": narrative.series,
                    "title": narrative.label[:300],
                    "started_at": after,
                    "observed": wave,
                    "context": {
                        "narratives": [narrative.pk],
                        "items": [
                            pk
                            for pk in Item.objects.filter(
                                narrative_link__narrative=narrative, created_at__gte=after
                            ).values_list("pk", flat=True)[:50]
                        ],
                    },
                },
            )
            if created:
                made.append(alert)
    return made
