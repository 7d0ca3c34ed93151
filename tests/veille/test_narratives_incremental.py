"""The narratives step stored cluster by cluster: the same stories as one clusterer that
keeps every member, a scan's writes following its new items, and nothing half-written when a
scan fails or is overtaken by another process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from beffroi.analysis.narratives import NarrativeClusterer
from beffroi.veille import narratives
from beffroi.veille.models import CandidateItem, Cursor, Narrative, NarrativeCluster, NarrativeItem

pytestmark = pytest.mark.django_db

WATER = [
    "L'eau du robinet de Saint-Aubin est contaminée, ne la buvez pas",
    "Saint-Aubin : l'eau du robinet serait contaminée, buvez de l'eau en bouteille",
    "Tap water in Saint-Aubin is contaminated, do not drink it",
    "Eau contaminée au robinet à Saint-Aubin, la mairie cache tout",
]
MARKET = [
    "Le marché de Noël ouvre samedi place de l'Église avec cinquante chalets",
    "Marché de Noël : cinquante chalets place de l'Église dès samedi",
    "Christmas market opens on Saturday with fifty chalets at the church square",
]
OTHER = [
    "Concert de jazz ce soir à la salle des fêtes, entrée libre",
    "Les travaux de la rue Victor Hugo dureront jusqu'en mars",
    "Quelqu'un a trouvé un chat roux près de la gare ?",
]


def arrivals(post: Callable[..., Any]) -> Iterator[list[Any]]:
    """Three waves, each posted when it is reached: the stories start as candidates and
    become narratives in later scans."""
    start = timezone.now() - timedelta(hours=10)
    texts = [
        [WATER[0], MARKET[0], OTHER[0]],
        [WATER[1], OTHER[1], MARKET[1]],
        [*WATER[2:], MARKET[2], OTHER[2]],
    ]
    n = 0
    for wave in texts:
        made = []
        for text in wave:
            made.append(post(text, f"a{n}", start + timedelta(minutes=10 * n)))
            n += 1
        yield made


def stored(org: Any) -> dict[str, tuple[frozenset[int], int, list[str], dict[str, Any]]]:
    return {
        row.key: (
            frozenset(row.members.values_list("item_id", flat=True)),
            row.item_count,
            row.keywords,
            row.summaries,
        )
        for row in Narrative.objects.filter(organization=org, status=Narrative.Status.ACTIVE)
    }


def test_scans_stored_piecewise_find_what_one_clusterer_finds(
    org: Any, post: Callable[..., Any]
) -> None:
    """Wave by wave, with the process's clusterer forgotten before some scans (another worker
    took them), the stored narratives equal those of one clusterer that keeps every member and
    reads the same waves."""
    full = NarrativeClusterer()
    for number, wave in enumerate(arrivals(post)):
        if number != 1:
            narratives._held.clear()
        full.add([narratives._document(item) for item in wave])
        narratives.update_narratives(org)
        # Between waves, candidates' items wait in their own rows.
        waiting = set(
            CandidateItem.objects.filter(organization=org).values_list("item_id", flat=True)
        )
        expected_waiting = {int(i) for ids in full.candidates().values() for i in ids}
        assert waiting == expected_waiting
    expected = {
        found.id: (
            frozenset(int(i) for i in found.item_ids),
            found.size,
            found.keywords,
            {lang: summary.as_dict() for lang, summary in found.summaries.items()},
        )
        for found in full.narratives()
    }
    assert stored(org) == expected and len(expected) == 2
    water = next(row for row in Narrative.objects.filter(organization=org) if row.item_count == 4)
    assert set(water.members.values_list("item__text", flat=True)) == set(WATER)
    assert set(NarrativeCluster.objects.filter(organization=org).values_list("key", flat=True)) == (
        {n.id for n in full.narratives()} | set(full.candidates())
    )


def test_a_scan_writes_only_what_its_new_items_touch(org: Any, post: Callable[..., Any]) -> None:
    """One new item of the water story rewrites the water cluster only, in a number of
    queries that does not grow with the history."""
    for wave in arrivals(post):
        narratives.update_narratives(org)
        assert wave
    before = dict(
        NarrativeCluster.objects.filter(organization=org).values_list("key", "updated_at")
    )
    newer = post("L'eau du robinet à Saint-Aubin est contaminée, dit-on", "late")
    with CaptureQueriesContext(connection) as queries:
        assert narratives.update_narratives(org) == 1
    after = dict(NarrativeCluster.objects.filter(organization=org).values_list("key", "updated_at"))
    rewritten = {key for key in after if after[key] != before.get(key)}
    water = NarrativeItem.objects.get(item=newer).narrative
    assert rewritten == {water.key}
    small = len(queries)
    for n in range(30):
        post(f"Autre sujet sans rapport numéro {n} pour l'historique", f"h{n}")
    narratives.update_narratives(org)
    post("Eau contaminée au robinet de Saint-Aubin, encore", "late2")
    with CaptureQueriesContext(connection) as queries:
        narratives.update_narratives(org)
    assert len(queries) <= small + 2, [q["sql"][:80] for q in queries.captured_queries]


def test_a_scan_that_fails_or_is_overtaken_writes_nothing(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    waves = list(arrivals(post))
    cursor = narratives.cursor_for(org, narratives.ANALYZER)

    def boom(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(narratives, "_link", boom)
    with pytest.raises(RuntimeError):
        narratives.update_narratives(org)
    cursor.refresh_from_db()
    assert cursor.last_item_id == 0 and not NarrativeCluster.objects.exists()
    assert org.pk not in narratives._held
    monkeypatch.undo()
    # Overtaken: another process stored a state while this one was clustering.
    original = NarrativeClusterer.add

    def meanwhile(self: NarrativeClusterer, items: Any) -> Any:
        Cursor.objects.filter(pk=cursor.pk).update(state={"clusterer": {}, "version": "other"})
        return original(self, items)

    monkeypatch.setattr(NarrativeClusterer, "add", meanwhile)
    assert narratives.update_narratives(org) == 0
    cursor.refresh_from_db()
    assert cursor.last_item_id == 0 and not NarrativeCluster.objects.exists()
    monkeypatch.undo()
    Cursor.objects.filter(pk=cursor.pk).update(state={})
    narratives.update_narratives(org)
    full = NarrativeClusterer()
    full.add([narratives._document(item) for wave in waves for item in wave])
    assert {frozenset(v[0]) for v in stored(org).values()} == {
        frozenset(int(i) for i in n.item_ids) for n in full.narratives()
    }


def test_a_whole_state_of_the_earlier_version_is_converted(
    org: Any, post: Callable[..., Any]
) -> None:
    """A cursor holding every member (version 1) becomes rows at the next scan; candidates'
    items keep waiting and join their story when it is told."""
    waves = list(arrivals(post))
    old = NarrativeClusterer()
    old.add([narratives._document(item) for item in waves[0] + waves[1]])
    state = old.to_dict()
    state["version"] = 1
    for entry in state["clusters"]:
        members = entry.pop("members")
        entry.update(dimensions=members["dimensions"], vectors=members["vectors"])
        entry["members"] = members["rows"]
    cursor = narratives.cursor_for(org, narratives.ANALYZER)
    cursor.state = {"clusterer": state}
    cursor.last_item_id = max(item.pk for item in waves[1])
    cursor.save()
    narratives.update_narratives(org)
    full = NarrativeClusterer()
    full.add([narratives._document(item) for item in waves[0] + waves[1]])
    full.add([narratives._document(item) for item in waves[2]])
    assert {frozenset(v[0]) for v in stored(org).values()} == {
        frozenset(int(i) for i in n.item_ids) for n in full.narratives()
    }
    cursor.refresh_from_db()
    assert cursor.state["clusterer"]["version"] == 2 and "clusters" not in cursor.state["clusterer"]


def test_each_narrative_counts_its_items_per_hour_through_merges_and_splits(
    org: Any, post: Callable[..., Any]
) -> None:
    """The spike detector's counters of a narrative follow its items: as they join, and when
    an analyst merges or splits."""
    from collections import Counter

    from beffroi.audit.services import Actor
    from beffroi.veille import services
    from beffroi.veille.models import SeriesCount
    from beffroi.veille.series_counts import bucket_of

    for _wave in arrivals(post):
        narratives.update_narratives(org)

    def check() -> None:
        for row in Narrative.objects.filter(organization=org):
            counted = dict(
                SeriesCount.objects.filter(organization=org, series=row.series).values_list(
                    "bucket", "count"
                )
            )
            times = row.members.values_list("item__created_at", flat=True)
            assert counted == dict(Counter(bucket_of(moment) for moment in times)), row

    check()
    water, market = sorted(Narrative.objects.filter(organization=org), key=lambda n: -n.item_count)
    assert SeriesCount.objects.filter(series=water.series).exists()
    chosen = list(water.members.values_list("item_id", flat=True))[:2]
    services.split_narrative(Actor.system(), water, chosen, "part")
    check()
    services.merge_narratives(Actor.system(), market, water)
    check()
    assert not SeriesCount.objects.filter(series=market.series).exists()


def test_narratives_stored_before_the_counters_are_counted_by_the_first_scan(
    org: Any, post: Callable[..., Any]
) -> None:
    """An installation upgraded with narratives but no counters: the first counting pass
    rebuilds each narrative's from its items."""
    from beffroi.veille import series_counts
    from beffroi.veille.models import SeriesCount

    for _wave in arrivals(post):
        narratives.update_narratives(org)
    water = max(Narrative.objects.filter(organization=org), key=lambda n: n.item_count)
    expected = dict(SeriesCount.objects.filter(series=water.series).values_list("bucket", "count"))
    SeriesCount.objects.all().delete()
    series_counts.count_new_items(org)
    assert expected and sum(expected.values()) == water.item_count
    assert dict(SeriesCount.objects.filter(series=water.series).values_list("bucket", "count")) == (
        expected
    )


def test_one_scan_of_an_organization_at_a_time(org: Any, post: Callable[..., Any]) -> None:
    """A scan asked while another worker scans the organization does nothing and asks for
    one more later; once the first is over, scans run again (and a crashed scan's lease
    runs out)."""
    from beffroi.jobs.models import Job
    from beffroi.veille import scan as scanning
    from beffroi.veille.tasks import scan_task

    post("L'eau du robinet de Saint-Aubin est contaminée, ne la buvez pas", "a")
    with scanning.exclusive(org) as taken:
        assert taken
        with scanning.exclusive(org) as again:
            assert not again
        assert scanning.scan(org).busy
        assert scan_task(org.pk) == {"busy": True}
        assert Job.objects.filter(name="veille.scan", state=Job.State.PENDING).exists()
        assert not Cursor.objects.filter(organization=org, analyzer="watches").exists()
    summary = scanning.scan(org)
    assert not summary.busy
    assert Cursor.objects.get(organization=org, analyzer="watches").last_item_id > 0
    # A lease whose end has passed (its scan died with its worker) is taken over.
    lease = Cursor.objects.get(organization=org, analyzer="scan-lease")
    lease.last_item_id = 1
    lease.save()
    with scanning.exclusive(org) as taken:
        assert taken
