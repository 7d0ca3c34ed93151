"""The spike detector's hourly counters (``series_counts``): kept up to date as items come
in, never counting an item twice, rebuilt when a watch changes, backfilled on an upgraded
installation, and read by the detector instead of the weeks of items behind them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from beffroi.analysis.spikes import SpikeConfig, bucket_counts, detect_spikes
from beffroi.items.models import Item
from beffroi.veille import cursors, series_counts, spikes, watch_query
from beffroi.veille.models import Alert, Narrative, NarrativeItem, SeriesCount, Watch, WatchHit

pytestmark = pytest.mark.django_db

MENTION = Item.Kind.MENTION


def _hour(moment: datetime) -> datetime:
    return series_counts.bucket_of(moment)


@dataclass
class Spec:
    """An item to post: what it says, when, and the series it belongs to."""

    text: str
    when: datetime
    kind: str = "comment"
    urls: list[str] = field(default_factory=list)

    def series(self) -> set[str]:
        keys = {f"hashtag:{tag}" for tag in series_counts.hashtags_of(self.text)}
        keys |= {f"domain:{series_counts.domain_of(url)}" for url in self.urls}
        if "eau" in self.text.casefold():
            keys.add("watch")  # the watch's query is "eau"
        if self.kind == MENTION:
            keys.add("mentions")
        return keys


def _five_weeks(end: datetime) -> list[Spec]:
    """A steady daily rhythm over five weeks (the water, the mentions, a linked site, a
    hashtag nobody bursts), then one night hour when the water, its hashtag, the mentions
    and the site burst together; two posts of one second are two posts."""
    specs = []
    day = _hour(end - timedelta(days=35)).replace(hour=0)
    n = 0
    while day < end:
        for hour in (7, 12, 18):
            moment = day + timedelta(hours=hour, minutes=10)
            specs.append(Spec(f"eau du robinet #eau {n}", moment))
            specs.append(Spec(f"merci @ville {n}", moment + timedelta(minutes=5), kind=MENTION))
            specs.append(Spec(f"lu sur le site {n}", moment, urls=["https://www.exemple.fr/p"]))
            specs.append(Spec(f"marché #marche {n}", moment + timedelta(minutes=20)))
            n += 1
        day += timedelta(days=1)
    night = _hour(end - timedelta(days=2)).replace(hour=2) + timedelta(minutes=5)
    for k in range(15):
        when = night + timedelta(minutes=3 * (k // 2))  # pairs of posts of the same second
        specs.append(
            Spec(
                f"l'eau est coupée ! #eau {k}",
                when,
                kind=MENTION,
                urls=["https://exemple.fr/alerte"],
            )
        )
    return sorted((s for s in specs if s.when < end), key=lambda s: s.when)


def _config(sensitivity: float = spikes.DEFAULT_SENSITIVITY) -> SpikeConfig:
    return SpikeConfig(sensitivity=sensitivity, tz=ZoneInfo(settings.TIME_ZONE))


def _summary(found: list[Any]) -> list[tuple[str, datetime, datetime, int]]:
    return [(s.series, s.start, s.peak_at, s.observed) for s in found]


def test_counters_give_the_alerts_of_a_full_recomputation_scan_after_scan(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    final = _hour(timezone.now()) + timedelta(minutes=20)
    watch = Watch.objects.create(organization=org, name="Eau", query="eau")
    keys = {
        "watch": watch.series,
        "mentions": "mentions",
        "hashtag:eau": "hashtag:eau",
        "hashtag:marche": "hashtag:marche",
        "domain:exemple.fr": "domain:exemple.fr",
    }
    specs = _five_weeks(final)
    # A late arrival, posted at the last scan into an hour closed long before.
    late = Spec("eau trouble, vu hier #eau", final - timedelta(days=4, hours=3))
    # What the detector computed, series by series, at each scan.
    seen: dict[str, list[Any]] = {}

    def recording(data: Any, **kwargs: Any) -> list[Any]:
        found = detect_spikes(data, **kwargs)
        seen[kwargs["series"]] = found
        return found

    monkeypatch.setattr(spikes, "detect_spikes", recording)
    posted: list[Spec] = []
    scans = [final - timedelta(days=3), final - timedelta(days=2, hours=-5), final]
    for number, now in enumerate(scans):
        for spec in [s for s in specs if s.when < now and s not in posted]:
            post(spec.text, "h", spec.when, kind=spec.kind, urls=spec.urls)
            posted.append(spec)
        if number == len(scans) - 1:
            post(late.text, "h", late.when)
            posted.append(late)
        watch_query.run_watches(org)
        seen.clear()
        spikes.detect_spike_alerts(org, now)
        end = _hour(now)
        since = end - spikes.HISTORY
        for name, key in keys.items():
            times = [s.when for s in posted if name in s.series()]
            # The counters are the items' timestamps, bucketed ...
            _start, expected = bucket_counts(times, start=since, end=end)
            assert series_counts.counts(org, key, since, end) == expected.tolist(), key
            # ... and the detector finds on them what it finds on every timestamp at once.
            full = detect_spikes(times, series=key, start=since, end=end, config=_config())
            assert _summary(seen.get(key, [])) == _summary(full), (key, now)
    # The burst was there to find, on the watch, its hashtag, the mentions and the site,
    # and nowhere else; each is one alert, as the full recomputation sees it.
    final_since = _hour(final) - spikes.HISTORY
    for name, key in keys.items():
        times = [s.when for s in posted if name in s.series()]
        full = detect_spikes(
            times, series=key, start=final_since, end=_hour(final), config=_config()
        )
        stored = Alert.objects.filter(organization=org, kind=Alert.Kind.SPIKE, series=key)
        if name == "hashtag:marche":
            assert full == [] and not stored.exists()
            continue
        assert len(full) == 1, key
        alert = stored.get()
        assert (alert.started_at, alert.peak_at, alert.observed) == (
            full[0].start,
            full[0].peak_at,
            full[0].observed,
        )
        assert alert.observed >= 15


def test_a_pass_cut_short_counts_nothing_and_the_next_counts_each_item_once(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    for n in range(7):
        post(f"#eau coupée {n}", "h", now - timedelta(hours=n), kind=MENTION)
    # Batches of three; the second batch fails once its counters are written.
    monkeypatch.setattr(
        series_counts,
        "new_item_batches",
        functools.partial(cursors.new_item_batches, batch_size=3),
    )
    calls = {"n": 0}

    def failing_advance(cursor: Any, batch: list[Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed")
        cursors.advance(cursor, batch)

    monkeypatch.setattr(series_counts, "advance", failing_advance)
    with pytest.raises(RuntimeError):
        series_counts.count_new_items(org)
    since, end = _hour(now) - timedelta(hours=7), _hour(now) + timedelta(hours=1)
    # Only the first batch's three items are counted: the second batch's writes went back.
    assert sum(series_counts.counts(org, "hashtag:eau", since, end)) == 3
    assert sum(series_counts.counts(org, "mentions", since, end)) == 3
    series_counts.count_new_items(org)
    series_counts.count_new_items(org)
    assert series_counts.counts(org, "hashtag:eau", since, end) == [0] + [1] * 7
    assert series_counts.counts(org, "mentions", since, end) == [0] + [1] * 7


def test_two_passes_reading_the_same_batch_count_it_once(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    watch = Watch.objects.create(organization=org, name="Eau", query="eau")
    for n in range(5):
        post(f"eau #eau {n}", "h", now - timedelta(hours=n), kind=MENTION)
    original = cursors.new_item_batches

    def racing(organization: Any, analyzer: str) -> Iterator[tuple[Any, list[Any]]]:
        for cursor, batch in original(organization, analyzer):
            # Another scan reads the same batch and finishes first.
            monkeypatch.setattr(series_counts, "new_item_batches", original)
            monkeypatch.setattr(watch_query, "new_item_batches", original)
            assert series_counts.count_new_items(organization) == 5
            assert watch_query.run_watches(organization) == 5
            yield cursor, batch

    monkeypatch.setattr(series_counts, "new_item_batches", racing)
    assert series_counts.count_new_items(org) == 0
    monkeypatch.setattr(watch_query, "new_item_batches", racing)
    assert watch_query.run_watches(org) == 0
    since, end = _hour(now) - timedelta(hours=4), _hour(now) + timedelta(hours=1)
    for key in ("mentions", "hashtag:eau", watch.series):
        assert series_counts.counts(org, key, since, end) == [1] * 5, key


def test_a_watch_pass_cut_short_adds_no_hit_nor_count(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    watch = Watch.objects.create(organization=org, name="Eau", query="eau")
    for n in range(4):
        post(f"eau trouble {n}", "h", now - timedelta(hours=n))

    def failing_advance(cursor: Any, batch: list[Any]) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(watch_query, "advance", failing_advance)
    with pytest.raises(RuntimeError):
        watch_query.run_watches(org)
    assert not WatchHit.objects.exists() and not SeriesCount.objects.exists()
    monkeypatch.undo()
    assert watch_query.run_watches(org) == 4
    assert watch_query.run_watches(org) == 0
    since, end = _hour(now) - timedelta(hours=3), _hour(now) + timedelta(hours=1)
    assert series_counts.counts(org, watch.series, since, end) == [1, 1, 1, 1]


def _hit_hours(watch: Watch) -> dict[datetime, int]:
    hours: dict[datetime, int] = {}
    for moment in WatchHit.objects.filter(watch=watch).values_list("item__created_at", flat=True):
        hours[_hour(moment)] = hours.get(_hour(moment), 0) + 1
    return hours


def _counters(org: Any, series: str) -> dict[datetime, int]:
    return dict(
        SeriesCount.objects.filter(organization=org, series=series).values_list("bucket", "count")
    )


def test_an_edited_watch_counts_its_new_hits_and_a_deleted_one_is_ignored(
    org: Any, post: Callable[..., Any]
) -> None:
    now = _hour(timezone.now()) + timedelta(minutes=30)
    watch = Watch.objects.create(organization=org, name="Eau", query="eau")
    for n in range(10):
        post(f"eau du robinet {n}", "h", now - timedelta(hours=2 * n))
        post(f"la piscine ferme {n}", "h", now - timedelta(hours=2 * n + 1))
    watch_query.run_watches(org)
    assert _counters(org, watch.series) == _hit_hours(watch) and len(_hit_hours(watch)) == 10
    watch.query = "piscine OR robinet"
    watch.save()
    watch_query.rematch(watch)
    assert WatchHit.objects.filter(watch=watch).count() == 20
    assert _counters(org, watch.series) == _hit_hours(watch) and len(_hit_hours(watch)) == 20
    # A burst on a watch then deleted: no series, no alert, and its counters age out.
    night = _hour(now - timedelta(days=1)).replace(hour=3)
    for k in range(20):
        post(f"la piscine déborde {k}", f"p{k}", night + timedelta(minutes=2 * k))
    watch_query.run_watches(org)
    series = watch.series
    assert sum(_counters(org, series).values()) == 40
    watch.delete()
    assert series not in {s.key for s in spikes.series_of(org, now - spikes.HISTORY)}
    spikes.detect_spike_alerts(org, now)
    assert not Alert.objects.filter(series=series).exists()
    spikes.detect_spike_alerts(org, now + spikes.HISTORY + timedelta(days=2))
    assert _counters(org, series) == {}


def test_a_hashtag_counts_its_whole_tag_only(org: Any, post: Callable[..., Any]) -> None:
    now = timezone.now()
    for n in range(4):
        post(f"Coupure #eau ce matin {n}", f"a{n}", now - timedelta(hours=n + 1))
    post("Réunion #EauSaintAubin ce soir", "b", now - timedelta(hours=2))
    post("Réunion #eausaintaubin, #eau_potable", "b", now - timedelta(hours=2))
    post("#EAU trouble, #eau !", "c", now - timedelta(hours=3))
    series_counts.count_new_items(org)
    since, end = _hour(now) - timedelta(days=1), _hour(now) + timedelta(hours=1)
    assert sum(series_counts.counts(org, "hashtag:eau", since, end)) == 5
    assert sum(series_counts.counts(org, "hashtag:eausaintaubin", since, end)) == 2
    assert sum(series_counts.counts(org, "hashtag:eau_potable", since, end)) == 1
    assert series_counts.busiest(org, "hashtag:", since, 2) == [
        "hashtag:eau",
        "hashtag:eausaintaubin",
    ]
    found = {s.key: s for s in spikes.series_of(org, since)}
    # A burst's context reads the same items as the counter counts.
    assert found["hashtag:eau"].items.count() == 5
    assert found["hashtag:eausaintaubin"].items.count() == 2


def test_an_upgraded_installation_is_backfilled_once(org: Any, post: Callable[..., Any]) -> None:
    now = timezone.now()
    watch = Watch.objects.create(organization=org, name="Eau", query="eau")
    for n in range(6):
        post(f"eau #eau {n}", "h", now - timedelta(hours=n), kind=MENTION)
    watch_query.run_watches(org)
    # As before counters existed: hits stored, not one counter, no series-counts cursor.
    SeriesCount.objects.all().delete()
    since, end = _hour(now) - timedelta(hours=5), _hour(now) + timedelta(hours=1)
    spikes.detect_spike_alerts(org, now)
    for key in (watch.series, "mentions", "hashtag:eau"):
        assert series_counts.counts(org, key, since, end) == [1] * 6, key
    # New items are counted once, the backfill is not done again.
    post("eau #eau encore", "h", now, kind=MENTION)
    watch_query.run_watches(org)
    spikes.detect_spike_alerts(org, now + timedelta(hours=1))
    for key in (watch.series, "mentions", "hashtag:eau"):
        assert series_counts.counts(org, key, since, end) == [1] * 5 + [2], key
    # The cursor put back to 0 (its counters kept): a fresh start, never counted twice.
    cursors.reset(org, series_counts.ANALYZER)
    assert series_counts.count_new_items(org) == 7
    for key in (watch.series, "mentions", "hashtag:eau"):
        assert series_counts.counts(org, key, since, end) == [1] * 5 + [2], key


def test_narratives_are_read_from_their_counters_active_ones_only(
    org: Any, post: Callable[..., Any]
) -> None:
    now = _hour(timezone.now()) + timedelta(minutes=30)
    active = Narrative.objects.create(organization=org, key="a", keywords=["eau", "coupure"])
    merged = Narrative.objects.create(
        organization=org, key="m", keywords=["eau"], status=Narrative.Status.MERGED
    )
    quiet = Narrative.objects.create(organization=org, key="q", keywords=["piscine"])
    steady = [now - timedelta(hours=6 * n) for n in range(1, 100)]
    burst = [_hour(now - timedelta(hours=5)) + timedelta(minutes=k) for k in range(12)]
    items = [post(f"eau coupée {k}", f"n{k}", when) for k, when in enumerate(burst)]
    NarrativeItem.objects.bulk_create(NarrativeItem(narrative=active, item=i) for i in items)
    # The first pass counts the active narrative's burst from its stored items (backfill).
    series_counts.count_new_items(org)
    assert sum(_counters(org, active.series).values()) == len(burst)
    series_counts.add(org, active.series, steady)
    series_counts.add(org, merged.series, steady + burst)
    series_counts.add(org, quiet.series, steady[:5])
    keys = [s.key for s in spikes.series_of(org, _hour(now) - spikes.HISTORY)]
    assert active.series in keys and quiet.series in keys and merged.series not in keys
    assert keys.index(active.series) < keys.index(quiet.series)  # the busiest first
    made = spikes.detect_spike_alerts(org, now)
    alert = next(a for a in made if a.series == active.series)
    assert alert.started_at == _hour(burst[0]) and alert.observed >= 12
    assert sorted(alert.context["items"]) == sorted(i.pk for i in items)
    # Uncounted (an item moved away): the hour's counter goes, at zero.
    series_counts.add(org, quiet.series, steady[:1], sign=-1)
    assert _hour(steady[0]) not in _counters(org, quiet.series)
    assert len(_counters(org, quiet.series)) == 4


class ItemRowsRead:
    """Counts the rows each SELECT on the items table returns (an execute wrapper)."""

    def __init__(self) -> None:
        self.rows = 0
        self.busy = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        result = execute(sql, params, many, context)
        if not self.busy and not many and sql.lstrip().upper().startswith("SELECT"):
            if '"items_item"' in sql:
                self.busy = True
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) counted", params)  # noqa: S608
                        self.rows += cursor.fetchone()[0]
                finally:
                    self.busy = False
        return result


def test_a_scan_reads_the_new_items_and_the_counters_not_the_old_items(
    org: Any, source: Any, post: Callable[..., Any]
) -> None:
    now = _hour(timezone.now()) + timedelta(minutes=30)
    Watch.objects.create(organization=org, name="Eau", query="eau")
    author = post("premier", "h", now - timedelta(days=29)).author
    Item.objects.bulk_create(
        Item(
            organization=org,
            source=source,
            author=author,
            platform=source.platform,
            platform_id=f"old{n}",
            kind=MENTION if n % 3 == 0 else "comment",
            text=f"eau du robinet #eau #tag{n % 30} {n}",
            urls=[f"https://site{n % 25}.fr/p"],
            language="fr",
            # One every 20 minutes, from before the history to yesterday: a steady series.
            created_at=now - timedelta(days=29) + timedelta(minutes=20 * n),
        )
        for n in range(2000)
    )
    watch_query.run_watches(org)
    spikes.detect_spike_alerts(org, now - timedelta(hours=1))
    # Ten new items at the usual pace, one an hour: no burst, so no context to read.
    for n in range(10):
        post(f"eau #eau nouvelle {n}", "h", now - timedelta(hours=n + 1), kind=MENTION)
    watch_query.run_watches(org)
    counter = ItemRowsRead()
    with connection.execute_wrapper(counter):
        made = spikes.detect_spike_alerts(org, now)
    assert made == [] and not Alert.objects.exists()
    # The ten new items, whether one landed in a closed hour, the newest id: not the 2,000
    # old ones (reading their timestamps, or their texts for the busiest hashtags, would).
    assert 10 <= counter.rows <= 20
    _start, expected = bucket_counts(
        Item.objects.filter(organization=org, text__contains="#eau").values_list(
            "created_at", flat=True
        ),
        start=_hour(now) - spikes.HISTORY,
        end=_hour(now),
    )
    since = _hour(now) - spikes.HISTORY
    assert series_counts.counts(org, "hashtag:eau", since, _hour(now)) == expected.tolist()
