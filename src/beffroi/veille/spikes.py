"""Spike alerts: ``beffroi.analysis.spikes`` run over the organization's series (each watch,
its mentions, its busiest narratives, hashtags and linked domains), each spike stored as an
alert with what lies behind it.

The detector reads the series' hourly counters (``series_counts``), kept up to date as items
come in, never the weeks of items behind them: only the context of a burst reads items, those
of the burst's own hours. A counter counts items, where this step once counted distinct
timestamps: two posts of the same second are two posts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from beffroi.analysis.spikes import SpikeAlert, SpikeConfig, detect_spikes
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.veille import series_counts
from beffroi.veille.alerting import CONTEXT_ITEMS
from beffroi.veille.cursors import cursor_for, newest_item_id
from beffroi.veille.models import Alert, ClaimMatch, Narrative, Watch

# Defined with the counters that count them; read here too (the dashboard's domains).
from beffroi.veille.series_counts import domain_of as domain_of
from beffroi.veille.series_counts import hashtags_of as hashtags_of

#: The history a spike is measured against (the detector's profile needs weeks).
HISTORY = timedelta(weeks=4)
DEFAULT_SENSITIVITY = 0.5
#: How many hashtags, domains and narratives get their own series (the busiest).
TOP_SERIES = 20
#: Fewer items than this over the whole history never make a spike: not worth a look.
MIN_ITEMS = 3


@dataclass(frozen=True)
class Series:
    """One thing whose volume is watched for spikes, and the items that make it (read only
    for the context of a burst: the detector reads the series' counters)."""

    key: str
    label: str
    items: QuerySet[Item]
    sensitivity: float = DEFAULT_SENSITIVITY


def _timezone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def series_of(organization: Organization, since: datetime) -> list[Series]:
    """The organization's series: each watch, its mentions, its busiest narratives,
    hashtags and linked domains since ``since``, chosen from the counters (brought up to
    date with the new items first)."""
    series_counts.count_new_items(organization)
    items = Item.objects.filter(organization=organization)
    out = [
        Series(
            watch.series,
            watch.name,
            items.filter(watch_hits__watch=watch),
            watch.sensitivity,
        )
        for watch in Watch.objects.filter(
            organization=organization, enabled=True, alerts_enabled=True
        )
    ]
    out.append(Series(series_counts.MENTIONS, "mentions", items.filter(kind=Item.Kind.MENTION)))
    active = (
        Narrative.objects.filter(organization=organization, status=Narrative.Status.ACTIVE)
        .annotate(series_key=Concat(Value("narrative:"), Cast("pk", CharField())))
        .values("series_key")
    )
    keys = series_counts.busiest(organization, "narrative:", since, TOP_SERIES, among=active)
    narratives = Narrative.objects.in_bulk([int(key.split(":", 1)[1]) for key in keys])
    for key in keys:
        narrative = narratives.get(int(key.split(":", 1)[1]))
        if narrative is None:
            continue  # deleted since the counters were read
        out.append(Series(key, narrative.label, items.filter(narrative_link__narrative=narrative)))
    for key in series_counts.busiest(organization, "hashtag:", since, TOP_SERIES):
        tag = key.split(":", 1)[1]
        # The whole tag: "#eau" must not count the posts of "#eausaintaubin".
        pattern = rf"(^|\W)#{re.escape(tag)}(\W|$)"
        out.append(Series(key, f"#{tag}", items.filter(text__iregex=pattern)))
    for key in series_counts.busiest(organization, "domain:", since, TOP_SERIES):
        domain = key.split(":", 1)[1]
        out.append(Series(key, domain, items.filter(urls__icontains=domain)))
    return out


def detect_spike_alerts(organization: Organization, now: datetime | None = None) -> list[Alert]:
    """Run the spike detector over every series' hourly counters; returns the alerts
    created."""
    now = now or timezone.now()
    # Only whole buckets, on the hour: the hour under way is not over yet.
    end = series_counts.bucket_of(now)
    since = end - HISTORY
    cursor = cursor_for(organization, "spikes")
    newest = newest_item_id(organization)
    late = Item.objects.filter(
        organization=organization, pk__gt=cursor.last_item_id, created_at__lt=end
    ).exists()
    if cursor.state.get("end") == end.isoformat() and not late:
        # No bucket has closed and no item landed in a closed one since the last look.
        return []
    created = []
    for series in series_of(organization, since):
        counts = series_counts.counts(organization, series.key, since, end)
        if sum(counts) < MIN_ITEMS:
            continue
        config = SpikeConfig(sensitivity=series.sensitivity, tz=_timezone())
        for spike in detect_spikes(counts, series=series.key, start=since, config=config):
            alert = _store_spike(organization, series, spike)
            if alert is not None:
                created.append(alert)
    # The counters older than the history (and a day's margin) are never read again.
    series_counts.prune(organization, since - timedelta(days=1))
    # Recorded once the look is over: a look cut short is done again by the next scan.
    cursor.last_item_id = newest
    cursor.state = {"end": end.isoformat()}
    cursor.save(update_fields=["last_item_id", "state", "updated_at"])
    return created


def _store_spike(organization: Organization, series: Series, spike: SpikeAlert) -> Alert | None:
    cooldown = SpikeConfig().cooldown
    earlier = (
        Alert.objects.filter(
            organization=organization,
            kind=Alert.Kind.SPIKE,
            series=series.key,
            ended_at__gte=spike.start - cooldown,
            started_at__lte=spike.end,
        )
        .order_by("-started_at")
        .first()
    )
    items = series.items.filter(created_at__gte=spike.start, created_at__lt=spike.end)
    fields: dict[str, Any] = {
        "peak_at": spike.peak_at,
        "ended_at": spike.end,
        "observed": spike.observed,
        "expected": round(spike.expected, 3),
        "p_value": spike.p_value,
        "score": round(spike.score, 2),
        "context": spike_context(items, series),
    }
    if earlier is not None:
        # The same burst, seen again or grown: one alert, never a second notification.
        for name, value in fields.items():
            setattr(earlier, name, value)
        earlier.started_at = min(earlier.started_at, spike.start)
        earlier.save()
        return None
    alert, created = Alert.objects.get_or_create(
        organization=organization,
        key=f"spike:{series.key}:{spike.start.isoformat()}",
        defaults={
            "kind": Alert.Kind.SPIKE,
            "series": series.key,
            "title": series.label,
            "started_at": spike.start,
            **fields,
        },
    )
    return alert if created else None


def spike_context(items: QuerySet[Item], series: Series | None = None) -> dict[str, Any]:
    """What lies behind a burst: its items, accounts, narratives and known claims."""
    ids = list(items.order_by("created_at").values_list("pk", flat=True)[:CONTEXT_ITEMS])
    accounts = Counter(items.values_list("author__handle", flat=True)).most_common(10)
    narratives = Counter(
        items.exclude(narrative_link=None).values_list("narrative_link__narrative_id", flat=True)
    ).most_common(5)
    claims = Counter(
        ClaimMatch.objects.filter(item__in=items).values_list("claim_id", flat=True)
    ).most_common(5)
    return {
        "items": ids,
        "accounts": [[handle, count] for handle, count in accounts],
        "narratives": [pk for pk, _ in narratives],
        "claims": [pk for pk, _ in claims],
        "label": series.label if series else "",
    }
