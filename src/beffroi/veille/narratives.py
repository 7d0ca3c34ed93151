"""Narratives: ``beffroi.analysis.narratives`` (the incremental clusterer) run over the
organization's items as they arrive, the stories it finds stored and kept in step with what
analysts name, merge and split.

The clusterer keeps no members (``keep_members=False``): each open cluster — its running
sums and a pool of representatives — is a :class:`~beffroi.veille.models.NarrativeCluster`
row, written only when a scan changes it; who belongs where is in the database
(:class:`~beffroi.veille.models.NarrativeItem` for narratives,
:class:`~beffroi.veille.models.CandidateItem` for candidates). A scan's cost follows its new
items and the clusters they touch, not the history: the open candidates are bounded
(:data:`MAX_OPEN_CANDIDATES`) and narratives quiet for :data:`RETIRE_AFTER` are retired
(their items stay theirs; a story coming back after that starts a new narrative). A worker
process holds each organization's clusterer between scans and reads the rows again only
when another process (or an analyst) has changed them since.

The analysts' edits are acts of ``services.py`` (their rule and audit event); :func:`rename`,
:func:`merge` and :func:`split` here are what those acts do to the clusterer and the rows.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from beffroi.analysis.narratives import Assignment, Changes, NarrativeClusterer
from beffroi.analysis.narratives import NarrativeItem as Document
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille import series_counts
from beffroi.veille.cursors import advance, cursor_for, new_item_batches
from beffroi.veille.models import (
    Alert,
    CandidateItem,
    Cursor,
    Narrative,
    NarrativeCluster,
    NarrativeItem,
)

ANALYZER = "narratives"
#: A narrative quiet for this long that gets items again is a resurgence: a story of at
#: least RESURGENCE_HISTORY items back with a wave of at least RESURGENCE_WAVE.
QUIET = timedelta(days=3)
RESURGENCE_HISTORY = 3
RESURGENCE_WAVE = 2
#: Open candidates at most (the oldest go first): they are most of the clusters a large
#: organization has open, and each costs about 10 KiB (its row of the centroid matrix, its
#: sums, its word counts, its representative).
MAX_OPEN_CANDIDATES = 10000
#: A narrative without an item for this long leaves the clusterer (well past QUIET, so that
#: resurgences are still seen).
RETIRE_AFTER = timedelta(days=30)
#: Items clustered per scan at most: a backlog is worked through over the following scans.
MAX_ITEMS_PER_SCAN = 20000

#: Each organization's clusterer in this process, with the version of the stored state it
#: is: reused while nobody else has written a newer one.
_held: dict[int, tuple[str, NarrativeClusterer]] = {}


def _document(item: Item) -> Document:
    return Document(str(item.pk), item.text_as_read, item.created_at, item.language)


def _load(organization: Organization, cursor: Cursor) -> NarrativeClusterer:
    """The organization's clusterer as stored (or held by this process, when it is the same
    version); a state saved whole by an earlier version is converted on its first save."""
    version = str(cursor.state.get("version", ""))
    held = _held.get(organization.pk)
    if held is not None and version and held[0] == version:
        return held[1]
    saved = cursor.state.get("clusterer")
    if not saved:
        clusterer = NarrativeClusterer(keep_members=False)
    elif saved.get("version") == 1:
        clusterer = NarrativeClusterer.from_dict(saved, keep_members=False)
    else:
        rows = NarrativeCluster.objects.filter(organization=organization).order_by("pk")
        clusterer = NarrativeClusterer.from_dict(
            saved, clusters=rows.values_list("state", flat=True).iterator(chunk_size=500)
        )
    # The bounds are this code's, whatever the state was saved with.
    clusterer.max_candidates = MAX_OPEN_CANDIDATES
    clusterer.retire_after = RETIRE_AFTER
    return clusterer


def _saved_whole(cursor: Cursor) -> bool:
    """Whether the cursor holds a state saved whole by an earlier version (1)."""
    return bool((cursor.state.get("clusterer") or {}).get("version") == 1)


def _version_1_candidates(organization: Organization, cursor: Cursor) -> list[CandidateItem]:
    """The candidates' items of a state saved whole (version 1), as rows."""
    if not _saved_whole(cursor):
        return []
    saved = cursor.state["clusterer"]
    return [
        CandidateItem(organization=organization, cluster=str(entry["id"]), item_id=int(row[0]))
        for entry in saved.get("clusters", [])
        if not entry.get("promoted")
        for row in entry.get("members", [])
    ]


def update_narratives(organization: Organization) -> int:
    """Cluster the items not yet seen; returns how many joined a narrative.

    The clusters changed, the items' places and the cursor are written in one transaction,
    and only if nobody stored a newer state meanwhile: a scan cut short (or overtaken) is
    done again by the next one, and storing is idempotent.
    """
    cursor: Cursor | None = None
    clusterer: NarrativeClusterer | None = None
    assignments: list[Assignment] = []
    last: list[Item] = []
    for cursor, batch in new_item_batches(organization, ANALYZER, batch_size=500):
        if clusterer is None:
            clusterer = _load(organization, cursor)
        try:
            assignments += clusterer.add([_document(item) for item in batch])
        except BaseException:
            _held.pop(organization.pk, None)
            raise
        last = batch
        if len(assignments) >= MAX_ITEMS_PER_SCAN:
            break
    if cursor is None or clusterer is None or not last:
        return 0
    return _save(organization, cursor, clusterer, assignments, last)


def _save(
    organization: Organization,
    cursor: Cursor,
    clusterer: NarrativeClusterer,
    assignments: Iterable[Assignment] = (),
    read: list[Item] | None = None,
) -> int:
    """Store what changed in ``clusterer`` since it was loaded as ``cursor`` says (and move
    the cursor past ``read``); returns how many items joined a narrative. Nothing is written
    when another process stored a newer state first: the next scan starts from that one."""
    changes = clusterer.changes()
    loaded_version = str(cursor.state.get("version", ""))
    converting = _version_1_candidates(organization, cursor)
    # Converted from a whole state: every open cluster becomes a row.
    everything = _saved_whole(cursor)
    try:
        with transaction.atomic():
            current = Cursor.objects.select_for_update().get(pk=cursor.pk)
            if str(current.state.get("version", "")) != loaded_version:
                _held.pop(organization.pk, None)
                return 0
            linked = _store(
                organization, clusterer, changes, list(assignments), converting, everything
            )
            version = uuid.uuid4().hex
            cursor.state = {"clusterer": clusterer.settings(), "version": version}
            if read:
                advance(cursor, read)
            else:
                cursor.save(update_fields=["state", "updated_at"])
    except BaseException:
        _held.pop(organization.pk, None)
        raise
    _held[organization.pk] = (version, clusterer)
    return linked


def _store(
    organization: Organization,
    clusterer: NarrativeClusterer,
    changes: Changes,
    assignments: list[Assignment],
    converting: list[CandidateItem],
    everything: bool = False,
) -> int:
    """Write the clusters ``changes`` names (every open one with ``everything``), then put
    each item where it now belongs."""
    gone = changes.dropped | changes.retired | set(changes.moved)
    touched = set(clusterer.open_clusters()) if everything else changes.touched
    clusters = NarrativeCluster.objects.filter(organization=organization)
    clusters.filter(key__in=gone).delete()
    NarrativeCluster.objects.bulk_create(
        [
            NarrativeCluster(organization=organization, key=key, state=clusterer.cluster_state(key))
            for key in sorted(touched - gone)
        ],
        update_conflicts=True,
        unique_fields=["organization", "key"],
        update_fields=["state", "updated_at"],
    )
    candidates = CandidateItem.objects.filter(organization=organization)
    CandidateItem.objects.bulk_create(converting, ignore_conflicts=True)
    # Absorbed candidates' items follow them into their narrative (linked below).
    for source in changes.moved:
        candidates.filter(cluster=source).update(cluster=changes.home(source))
    candidates.filter(cluster__in=changes.dropped).delete()
    # Where each new item ended up, once this scan's moves are followed.
    placed: dict[str, list[tuple[int, float]]] = {}
    for assignment in assignments:
        if assignment.cluster_id is None:
            continue
        home = changes.home(assignment.cluster_id)
        if home not in changes.dropped:
            placed.setdefault(home, []).append((int(assignment.item_id), assignment.similarity))
    CandidateItem.objects.bulk_create(
        [
            CandidateItem(organization=organization, cluster=home, item_id=pk, similarity=sim)
            for home, members in placed.items()
            if not clusterer.is_narrative(home) and home not in changes.retired
            for pk, sim in members
        ],
        ignore_conflicts=True,
    )
    narratives = sorted(key for key in touched - gone if clusterer.is_narrative(key))
    waiting: dict[str, list[tuple[int, float]]] = {}
    for key, pk, sim in candidates.filter(cluster__in=narratives).values_list(
        "cluster", "item_id", "similarity"
    ):
        waiting.setdefault(key, []).append((pk, sim))
    linked = 0
    rows = {
        row.key: row
        for row in Narrative.objects.filter(organization=organization, key__in=narratives)
    }
    for key in narratives:
        row = _narrative_row(organization, clusterer, key, rows.get(key))
        linked += _link(row, waiting.get(key, []) + placed.get(key, []))
    candidates.filter(cluster__in=narratives).delete()
    # Items of a narrative retired in this very scan stay with it.
    for key in changes.retired & set(placed):
        retired = Narrative.objects.filter(organization=organization, key=key).first()
        if retired is not None:
            linked += _link(retired, placed[key])
    return linked


def _narrative_row(
    organization: Organization, clusterer: NarrativeClusterer, key: str, row: Narrative | None
) -> Narrative:
    """The stored narrative of cluster ``key``, created or brought up to date."""
    found = clusterer.narrative(key)
    row = row or Narrative(organization=organization, key=key)
    row.keywords = list(found.keywords)
    row.summaries = {lang: summary.as_dict() for lang, summary in found.summaries.items()}
    row.representative_ids = [int(i) for i in found.representative_ids]
    row.first_seen, row.last_seen = found.first_seen, found.last_seen
    row.item_count = found.size
    row.status = Narrative.Status.ACTIVE
    row.save()
    return row


def _link(row: Narrative, members: list[tuple[int, float]]) -> int:
    """Make ``members`` (item ids and similarities) items of ``row``, counted in its spike
    series; returns how many were in no narrative before."""
    if not members:
        return 0
    ids = [pk for pk, _ in members]
    _move(NarrativeItem.objects.filter(item_id__in=ids), row)
    have = set(
        NarrativeItem.objects.filter(narrative=row, item_id__in=ids).values_list(
            "item_id", flat=True
        )
    )
    missing = [
        NarrativeItem(narrative=row, item_id=pk, similarity=sim)
        for pk, sim in members
        if pk not in have
    ]
    NarrativeItem.objects.bulk_create(missing, ignore_conflicts=True)
    times = Item.objects.filter(pk__in=[link.item_id for link in missing])
    series_counts.add(row.organization, row.series, times.values_list("created_at", flat=True))
    return len(missing)


def _move(links: QuerySet[NarrativeItem], row: Narrative) -> None:
    """Items of other narratives (``links``) go to ``row``, and their counts with them."""
    links = links.exclude(narrative=row)
    moving = list(links.values_list("narrative_id", "item__created_at"))
    if not moving:
        return
    links.update(narrative=row)
    left: dict[int, list[datetime]] = {}
    for narrative_id, moment in moving:
        left.setdefault(narrative_id, []).append(moment)
    for narrative_id, moments in left.items():
        series_counts.add(row.organization, Narrative(pk=narrative_id).series, moments, sign=-1)
    series_counts.add(row.organization, row.series, [moment for _, moment in moving])


def _edit(organization: Organization) -> tuple[Cursor, NarrativeClusterer]:
    cursor = cursor_for(organization, ANALYZER)
    return cursor, _load(organization, cursor)


def rename(narrative: Narrative, name: str, user: Any) -> None:
    """Name ``narrative``; the clusterer keeps the name for the story's later items."""
    with transaction.atomic():
        cursor, clusterer = _edit(narrative.organization)
        if clusterer.is_narrative(narrative.key):
            clusterer.rename(narrative.key, name)
            _save(narrative.organization, cursor, clusterer)
        narrative.name = name
        narrative.named_by = user if getattr(user, "is_authenticated", False) else None
        narrative.save(update_fields=["name", "named_by", "updated_at"])


def merge(source: Narrative, target: Narrative) -> None:
    """``source``'s items join ``target``; later items of that story go to ``target``."""
    organization = source.organization
    with transaction.atomic():
        cursor, clusterer = _edit(organization)
        if clusterer.is_narrative(target.key) and clusterer.is_narrative(source.key):
            clusterer.merge(target.key, source.key)
        _move(NarrativeItem.objects.filter(narrative=source), target)
        source.status = Narrative.Status.MERGED
        source.merged_into = target
        source.item_count = 0
        source.save(update_fields=["status", "merged_into", "item_count", "updated_at"])
        _save(organization, cursor, clusterer)
        target.refresh_from_db()
        if not clusterer.is_narrative(target.key):
            # Not held by the clusterer (retired): counted in the database.
            target.item_count = target.members.count()
            target.save(update_fields=["item_count", "updated_at"])


def split(narrative: Narrative, chosen: list[int], name: str) -> Narrative:
    """The ``chosen`` items (some of the narrative's, not all) leave ``narrative`` and make
    a new one, named ``name`` when given."""
    organization = narrative.organization
    with transaction.atomic():
        cursor, clusterer = _edit(organization)
        if clusterer.is_narrative(narrative.key):
            members = [
                _document(item)
                for item in Item.objects.filter(narrative_link__narrative=narrative).order_by("pk")
            ]
            created = clusterer.split(narrative.key, [str(pk) for pk in chosen], members)
            if name:
                clusterer.rename(created.id, name)
            _save(organization, cursor, clusterer)
            row = Narrative.objects.get(organization=organization, key=created.id)
            _move(NarrativeItem.objects.filter(narrative=narrative, item_id__in=chosen), row)
        else:
            # A narrative the clusterer does not hold (retired, or its state was reset):
            # split in the database only; new items will not follow it.
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
    _move(NarrativeItem.objects.filter(narrative=narrative, item_id__in=chosen), row)
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
