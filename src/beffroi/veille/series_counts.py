"""Hourly counters of the spike detector's series (``SeriesCount``), kept up to date as items
come in, so that a scan reads at most a few hundred counters per series instead of weeks of
items.

Who writes which series:

- ``mentions``, ``hashtag:{tag}`` and ``domain:{domain}``: :func:`count_new_items`, a cursor
  pass over the new items (analyzer ``series-counts``), run by the spike step before it reads;
- ``watch:{pk}``: ``watch_query.run_watches`` adds its new hits, ``watch_query.rematch``
  rebuilds the watch's counters from its hits;
- ``narrative:{pk}``: the narratives step, through :func:`add` and :func:`replace`.

A counter counts items, not distinct seconds: two posts of the same second are two posts.
Buckets are UTC hours (the detector's own grid); counters older than the detector's history
are pruned (:func:`prune`).

Backfill: on an installation that has items but no counters, the ``series-counts`` cursor is
at 0, so the first pass starts afresh: it clears the counters it derives from items, rebuilds
each watch's from its stored hits, then counts every item once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum

from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille.cursors import advance, cursor_for, new_item_batches
from beffroi.veille.models import Cursor, Narrative, NarrativeItem, SeriesCount, Watch, WatchHit

ANALYZER = "series-counts"
BUCKET = timedelta(hours=1)
#: The series the cursor pass derives from items alone (a start afresh clears them).
ITEM_SERIES_PREFIXES = ("hashtag:", "domain:")
MENTIONS = "mentions"
#: Rows per INSERT: four parameters each, under SQLite's 999.
_ROWS_PER_STATEMENT = 200

_HASHTAG = re.compile(r"(?<!\w)#(\w{2,})")


def hashtags_of(text: str) -> set[str]:
    """The whole #hashtags of a text, case-folded ("#eau" is not in "#eausaintaubin")."""
    return {tag.casefold() for tag in _HASHTAG.findall(text)}


def domain_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def bucket_of(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def series_of_item(item: Item) -> set[str]:
    """The series the cursor pass counts ``item`` in (not watches nor narratives)."""
    keys = {f"hashtag:{tag}" for tag in hashtags_of(item.text)}
    urls = item.urls if isinstance(item.urls, list) else []
    keys |= {f"domain:{domain_of(u)}" for u in urls if isinstance(u, str)} - {"domain:"}
    if item.kind == Item.Kind.MENTION:
        keys.add(MENTIONS)
    return keys


def increment(organization: Organization, increments: Mapping[tuple[str, datetime], int]) -> None:
    """Add each ``(series, bucket) -> n`` to its counter (``bucket`` from :func:`bucket_of`):
    one upsert per 200 counters; call it in the transaction that stores what it counts."""
    rows = [(key, n) for key, n in increments.items() if n]
    if not rows:
        return
    quote = connection.ops.quote_name
    table, org, series, bucket, count = map(
        quote, (SeriesCount._meta.db_table, "organization_id", "series", "bucket", "count")
    )
    # Names from the model, values bound: the only text put together is the placeholders.
    insert = f"INSERT INTO {table} ({org}, {series}, {bucket}, {count}) VALUES "  # noqa: S608
    on_conflict = (
        f" ON CONFLICT ({org}, {series}, {bucket}) "
        f"DO UPDATE SET {count} = {table}.{count} + excluded.{count}"
    )
    with connection.cursor() as cursor:
        for first in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[first : first + _ROWS_PER_STATEMENT]
            params: list[Any] = []
            for (key, moment), n in chunk:
                # The value as the ORM stores it, so that the unique constraint sees one row.
                stored = connection.ops.adapt_datetimefield_value(moment)
                params += [organization.pk, key, stored, n]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            cursor.execute(insert + values + on_conflict, params)
    if any(n < 0 for _, n in rows):
        # A counter brought to zero (or below, had it never been counted) is no count at all.
        touched = Q()
        for key, moment in {key for key, n in rows if n < 0}:
            touched |= Q(series=key, bucket=moment)
        SeriesCount.objects.filter(touched, organization=organization, count__lte=0).delete()


def add(
    organization: Organization, series: str, moments: Iterable[datetime], sign: int = 1
) -> None:
    """Count (``sign=1``) or uncount (``sign=-1``) items of ``series`` published at
    ``moments``; call it in the transaction that stores what it counts."""
    increments = Counter((series, bucket_of(moment)) for moment in moments)
    increment(organization, {key: sign * n for key, n in increments.items()})


def replace(organization: Organization, series: str, moments: Iterable[datetime]) -> None:
    """Rebuild the counters of ``series`` from the publication times of all its items."""
    per_bucket = Counter(bucket_of(moment) for moment in moments)
    with transaction.atomic():
        SeriesCount.objects.filter(organization=organization, series=series).delete()
        SeriesCount.objects.bulk_create(
            [
                SeriesCount(organization=organization, series=series, bucket=bucket, count=n)
                for bucket, n in sorted(per_bucket.items())
            ],
            batch_size=_ROWS_PER_STATEMENT,
        )


def replace_watch(watch: Watch) -> None:
    """Rebuild a watch's counters from its stored hits."""
    moments = WatchHit.objects.filter(watch=watch).values_list("item__created_at", flat=True)
    replace(watch.organization, watch.series, moments.iterator(chunk_size=2000))


def _start_afresh(cursor: Cursor) -> None:
    """The cursor is at 0 (a new installation, or one upgraded with items but no counters):
    the item-derived counters are cleared, as the pass is about to count every item, and each
    watch's and narrative's are rebuilt from the hits and links stored before counters
    existed."""
    organization = cursor.organization
    derived = Q(series=MENTIONS)
    for prefix in ITEM_SERIES_PREFIXES:
        derived |= Q(series__startswith=prefix)
    with transaction.atomic():
        if _locked_position(cursor) != 0:
            return  # another pass started and counted meanwhile
        SeriesCount.objects.filter(derived, organization=organization).delete()
        for watch in Watch.objects.filter(organization=organization):
            replace_watch(watch)
        for narrative in Narrative.objects.filter(
            organization=organization, status=Narrative.Status.ACTIVE
        ):
            links = NarrativeItem.objects.filter(narrative=narrative)
            moments = links.values_list("item__created_at", flat=True).iterator(chunk_size=2000)
            replace(organization, narrative.series, moments)


def _locked_position(cursor: Cursor) -> int:
    """Where ``cursor`` stands, its row locked until the transaction ends."""
    return (
        Cursor.objects.select_for_update()
        .filter(pk=cursor.pk)
        .values_list("last_item_id", flat=True)
        .get()
    )


def not_counted_yet(cursor: Cursor, batch: list[Item]) -> list[Item]:
    """The items of ``batch`` no other pass has counted meanwhile; call it first in the
    transaction that counts them and moves ``cursor``: the cursor's row stays locked until
    then, so two passes that read the same batch (two scans at once) count it once."""
    position = _locked_position(cursor)
    return [item for item in batch if item.pk > position]


def count_new_items(organization: Organization) -> int:
    """Count the items this pass has not seen in their ``mentions``, ``hashtag:`` and
    ``domain:`` series; returns how many items were counted.

    Each batch's increments and the cursor move are one transaction: a pass cut short
    counts its batch again, and no item is ever counted twice (nor by two passes at once).
    """
    cursor = cursor_for(organization, ANALYZER)
    if cursor.last_item_id == 0:
        _start_afresh(cursor)
    counted = 0
    for cursor, batch in new_item_batches(organization, ANALYZER):
        with transaction.atomic():
            fresh = not_counted_yet(cursor, batch)
            increments: Counter[tuple[str, datetime]] = Counter()
            for item in fresh:
                bucket = bucket_of(item.created_at)
                increments.update((key, bucket) for key in series_of_item(item))
            increment(organization, increments)
            advance(cursor, batch)
        counted += len(fresh)
    return counted


def counts(organization: Organization, series: str, start: datetime, end: datetime) -> list[int]:
    """The counts of ``series`` per hour from ``start`` (on the hour) to ``end``, zeros
    included: what ``beffroi.analysis.spikes.detect_spikes`` reads with ``start=``."""
    hours = max(0, int((end - start) / BUCKET))
    out = [0] * hours
    rows = SeriesCount.objects.filter(
        organization=organization, series=series, bucket__gte=start, bucket__lt=end
    ).values_list("bucket", "count")
    for bucket, count in rows:
        out[int((bucket - start) / BUCKET)] += count
    return out


def busiest(
    organization: Organization,
    prefix: str,
    since: datetime,
    limit: int,
    among: QuerySet[Any, Any] | None = None,
) -> list[str]:
    """The ``limit`` series starting with ``prefix`` that counted the most items since
    ``since`` (busiest first); ``among`` (a query of series keys) narrows the choice."""
    rows = SeriesCount.objects.filter(
        organization=organization, series__startswith=prefix, bucket__gte=since
    )
    if among is not None:
        rows = rows.filter(series__in=among)
    top = (
        rows.values("series")
        .annotate(total=Sum("count"))
        .filter(total__gt=0)
        .order_by("-total", "series")
        .values_list("series", flat=True)
    )
    return list(top[:limit])


def prune(organization: Organization, before: datetime) -> int:
    """Delete the counters of the hours before ``before``; returns how many went."""
    deleted, _ = SeriesCount.objects.filter(organization=organization, bucket__lt=before).delete()
    return deleted
