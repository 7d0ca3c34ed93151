"""Narratives: incremental clustering with a tiny deterministic embedder, the real multilingual
encoder on translations, keywords, analyst operations, timelines, state and the evaluation."""

from __future__ import annotations

import itertools
import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from beffroi.analysis import narratives_eval
from beffroi.analysis.narratives import (
    Narrative,
    NarrativeClusterer,
    NarrativeItem,
    _members_dict,
    clean_text,
    growth,
    resurgences,
    timeline,
    tokens,
)

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
#: Words that point the toy embedder at one dimension each (one "topic" per dimension).
TOPICS = {"pool": 0, "piscine": 0, "water": 1, "lead": 1, "villa": 2, "mayor": 2, "antenna": 3}


def toy_embed(texts: Sequence[str]) -> NDArray[np.float32]:
    """Each known topic word adds to its dimension; anything else goes to a dimension of its
    own per text (so unknown texts are unrelated to everything)."""
    out = np.zeros((len(texts), 264), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            if word.strip(".,!?") in TOPICS:
                out[row, TOPICS[word.strip(".,!?")]] += 1.0
        if not out[row].any():
            out[row, 8 + zlib.crc32(text.encode()) % 256] = 1.0
    return out


def item(identifier: str, text: str, hours: float = 0.0, language: str = "") -> NarrativeItem:
    return NarrativeItem(identifier, text, T0 + timedelta(hours=hours), language)


def pool_items(start: int, count: int, hours: float = 0.0) -> list[NarrativeItem]:
    return [
        item(f"p{i}", f"The pool closes for good, message number {i}", hours)
        for i in range(start, start + count)
    ]


def clusterer(**settings: object) -> NarrativeClusterer:
    return NarrativeClusterer(embedder=toy_embed, **settings)  # type: ignore[arg-type]


def test_cleaning_and_tokens() -> None:
    text = "RT @mairie: La piscine ferme https://t.co/x — Jo (@jo) January 6, 2020"
    assert clean_text(text) == "La piscine ferme"
    assert clean_text("@a @b merci pic.twitter.com/abc www.ville.fr") == "merci"
    assert tokens("L'eau du robinet est contaminée par le plomb, 2020") == [
        "eau",
        "robinet",
        "contaminée",
        "plomb",
    ]
    assert tokens("The water in the town") == ["water", "town"]
    assert tokens("المياه في المدينة ملوثة") == ["المياه", "المدينة", "ملوثة"]


def test_candidate_promotion_and_assignment() -> None:
    state = clusterer()
    first = state.add(pool_items(0, 2))
    assert [a.status for a in first] == ["candidate", "candidate"]
    assert first[0].cluster_id == first[1].cluster_id
    assert first[1].similarity == pytest.approx(1.0)
    assert state.narratives() == []
    third = state.add([*pool_items(2, 1), item("w1", "Lead found in the tap water today")])
    assert third[0].status == "narrative" and third[0].promoted
    assert third[0].narrative_id == first[0].cluster_id
    assert third[1].status == "candidate" and third[1].cluster_id != first[0].cluster_id
    assert third[1].similarity == pytest.approx(0.0)
    (narrative,) = state.narratives()
    assert narrative.item_ids == ["p0", "p1", "p2"] and narrative.size == 3
    assert float(np.linalg.norm(narrative.centroid)) == pytest.approx(1.0)
    # Later items go straight to the narrative.
    later = state.add(pool_items(3, 1, hours=2))
    assert later[0].status == "narrative" and not later[0].promoted
    assert state.narrative(narrative.id).last_seen == T0 + timedelta(hours=2)
    assert state.candidates() == {third[1].cluster_id: ["w1"]}


def test_short_duplicate_and_naive_items() -> None:
    state = clusterer()
    result = state.add([item("a", "pool!"), item("b", "@x https://t.co/y ok"), *pool_items(0, 1)])
    assert [(a.status, a.reason) for a in result] == [
        ("ignored", "too short"),
        ("ignored", "too short"),
        ("candidate", ""),
    ]
    assert state.add(pool_items(0, 1))[0].reason == "duplicate"
    with pytest.raises(ValueError, match="timezone-aware"):
        state.add([NarrativeItem("n", "The pool closes for good", datetime(2026, 1, 1))])
    with pytest.raises(ValueError, match="threshold"):
        NarrativeClusterer(threshold=2.0)


def test_batch_at_once_equals_one_by_one() -> None:
    items = [*pool_items(0, 3), item("v1", "The mayor bought a villa"), *pool_items(3, 2)]
    together, apart = clusterer(), clusterer()
    together.add(items)
    for one in items:
        apart.add([one])
    assert [n.item_ids for n in together.narratives()] == [n.item_ids for n in apart.narratives()]


def test_min_items_one_and_threshold() -> None:
    state = clusterer(min_items=1)
    assert state.add(pool_items(0, 1))[0].status == "narrative"
    # The pool text and the "pool and water" text are at cosine 0.71.
    strict = clusterer(threshold=0.8, min_items=1)
    strict.add([*pool_items(0, 1), item("pw", "The pool water is dirty, says everyone")])
    assert len(strict.narratives()) == 2
    loose = clusterer(threshold=0.7, min_items=1)
    loose.add([*pool_items(0, 1), item("pw", "The pool water is dirty, says everyone")])
    assert len(loose.narratives()) == 1


def test_candidates_expire() -> None:
    state = clusterer(candidate_window=timedelta(days=2))
    state.add(pool_items(0, 2))
    state.add([item("v1", "The mayor bought a villa, again", hours=72)])
    assert state.cluster_of("p0") is None
    # The pool story starts over: two more items are not yet a narrative.
    state.add(pool_items(2, 2, hours=73))
    assert state.narratives() == []
    state.add(pool_items(4, 1, hours=74))
    assert state.narratives()[0].item_ids == ["p2", "p3", "p4"]


def test_keywords_and_representatives() -> None:
    state = clusterer(min_items=2)
    state.add(
        [
            item("p1", "The pool closes: the municipal pool shuts in June", language="en"),
            item("p2", "La piscine municipale ferme en juin", language="fr"),
            item("p3", "Pool closure in June confirmed by the municipal council", language="en"),
            item("w1", "Lead in the water of the municipal network"),
            item("w2", "Water with lead, the municipal network again"),
        ]
    )
    pool, water = sorted(state.narratives(), key=lambda n: n.id)
    assert pool.item_ids == ["p1", "p2", "p3"] and water.item_ids == ["w1", "w2"]
    # "june" is in every pool item and in no water item; "municipal" is everywhere.
    assert pool.keywords[0] == "june"
    assert "municipal" not in pool.keywords[:2]
    assert water.keywords[:2] == ["lead", "network"] or water.keywords[:2] == ["network", "lead"]
    assert pool.languages == {"en": 2, "fr": 1}
    # p1 says "pool" twice: the closest to the (pool-only) centroid... all are at cosine 1.
    assert set(pool.representative_ids) == {"p1", "p2", "p3"}
    # Named by its most representative post and three keywords; in French, by its French post.
    assert (
        pool.label
        == "« The pool closes: the municipal pool shuts in June » (june, pool, municipal)"
    )
    assert pool.label_in("fr").startswith("« La piscine municipale ferme en juin » (")
    assert pool.label_in("ar") == pool.label


def test_representatives_are_the_closest_to_the_centroid() -> None:
    state = clusterer(min_items=1, threshold=0.5)
    state.add(
        [
            item("a", "pool pool pool everywhere today"),
            item("b", "pool pool and some water here"),
            item("c", "pool pool pool pool pool yes"),
        ]
    )
    (narrative,) = state.narratives(representatives=2)
    assert narrative.representative_ids == ["a", "c"]


def test_rename_merge_split() -> None:
    state = clusterer(min_items=2)
    state.add(
        [
            *pool_items(0, 3),
            item("v1", "The mayor and his villa"),
            item("v2", "A villa for the mayor"),
        ]
    )
    pool, villa = sorted(state.narratives(), key=lambda n: n.id)
    assert state.rename(villa.id, "  Villa du maire ").name == "Villa du maire"
    assert state.rename(villa.id, " ").name is None
    state.rename(villa.id, "Villa")
    merged = state.merge(pool.id, villa.id)
    assert merged.id == pool.id and merged.name == "Villa" and merged.size == 5
    assert [n.id for n in state.narratives()] == [pool.id]
    assert state.cluster_of("v1") == pool.id
    # Merged centroid: the mean of 3 pool and 2 villa vectors.
    assert merged.centroid[0] > merged.centroid[2] > 0
    split = state.split(pool.id, ["v1", "v2"])
    assert split.item_ids == ["v1", "v2"] and split.id not in (pool.id, villa.id)
    assert np.argmax(split.centroid) == 2
    rest = state.narrative(pool.id)
    assert rest.item_ids == ["p0", "p1", "p2"] and np.argmax(rest.centroid) == 0
    assert rest.centroid[2] == pytest.approx(0.0)
    # New villa items follow the split-off narrative.
    assert state.add([item("v3", "mayor villa again")])[0].cluster_id == split.id
    with pytest.raises(ValueError, match="at least one item"):
        state.split(split.id, ["v1", "v2", "v3"])
    with pytest.raises(ValueError, match="not in narrative"):
        state.split(split.id, ["p0"])
    with pytest.raises(ValueError, match="itself"):
        state.merge(split.id, split.id)
    with pytest.raises(KeyError):
        state.rename("nope", "x")


def test_timeline_growth_resurgence() -> None:
    def narrative(identifier: str, ids: list[str]) -> Narrative:
        return Narrative(identifier, np.zeros(2, np.float32), ids, T0, T0)

    day = timedelta(days=1)
    times = {
        "a1": T0,
        "a2": T0 + timedelta(hours=2),
        "a3": T0 + 5 * day,  # after 5 quiet days
        "a4": T0 + 5 * day + timedelta(hours=1),
        "b1": T0 + 2 * day,
        "b2": T0 + 4 * day + timedelta(hours=20),
        "b3": T0 + 5 * day + timedelta(hours=3),
    }
    a, b = narrative("a", ["a1", "a2", "a3", "a4"]), narrative("b", ["b1", "b2", "b3", "zz"])
    chart = timeline([a, b], times)
    assert chart.buckets[0] == datetime(2026, 3, 2, tzinfo=UTC) and len(chart.buckets) == 6
    assert chart.counts == {"a": [2, 0, 0, 0, 0, 2], "b": [0, 0, 1, 0, 0, 2]}
    hourly = timeline([a], times, timedelta(hours=12))
    assert sum(hourly.counts["a"]) == 4 and len(hourly.buckets) == 11

    now = T0 + 5 * day + timedelta(hours=4)
    first, second = growth([a, b], times, now)
    assert (first.narrative_id, first.recent, first.previous, first.change) == ("a", 2, 0, 2)
    assert first.ratio == pytest.approx(3.0)
    assert (second.narrative_id, second.recent, second.previous) == ("b", 2, 0)

    found = resurgences([a, b], times)
    assert [(r.narrative_id, r.at, r.items) for r in found] == [("a", T0 + 5 * day, 2)]
    assert found[0].quiet_for == 5 * day - timedelta(hours=2)
    assert resurgences([a, b], times, quiet=2 * day)[0].narrative_id == "b"
    assert resurgences([a], times, since=T0 + 6 * day) == []


def test_state_round_trip_and_continue() -> None:
    state = clusterer(candidate_window=None)
    state.add([*pool_items(0, 3), item("v1", "The mayor bought a villa")])
    pool = state.narratives()[0]
    state.rename(pool.id, "Piscine")
    data = json.loads(json.dumps(state.to_dict()))
    restored = NarrativeClusterer.from_dict(data, embedder=toy_embed)
    (copy,) = restored.narratives()
    assert (copy.id, copy.item_ids, copy.name, copy.keywords) == (
        pool.id,
        pool.item_ids,
        "Piscine",
        pool.keywords,
    )
    np.testing.assert_array_equal(copy.centroid, pool.centroid)
    assert copy.first_seen == pool.first_seen
    assert restored.candidates() == state.candidates()
    more = [item("v2", "Mayor villa story"), item("v3", "villa of the mayor")]
    assert [a.cluster_id for a in restored.add(more)] == [a.cluster_id for a in state.add(more)]
    assert restored.narratives()[1].id == state.narratives()[1].id
    data["version"] = 99
    with pytest.raises(ValueError, match="version"):
        NarrativeClusterer.from_dict(data)


# -- the real multilingual encoder (loaded once) ------------------------------------------


@pytest.fixture(scope="module")
def encoder_state() -> NarrativeClusterer:
    stories = [
        ("en1", "The town hall will close the municipal swimming pool for good next June.", "en"),
        ("fr1", "La mairie va fermer définitivement la piscine municipale en juin prochain.", "fr"),
        ("ar1", "ستغلق البلدية المسبح البلدي نهائيا في يونيو المقبل.", "ar"),
        ("en2", "The mayor bought a luxury villa with money from the school budget.", "en"),
        (
            "fr2",
            "Le maire s'est acheté une villa de luxe avec l'argent du budget des écoles.",
            "fr",
        ),
        ("ar2", "اشترى رئيس البلدية فيلا فاخرة بأموال ميزانية المدارس.", "ar"),
        ("x", "Heavy rain expected tomorrow, the football match is postponed.", "en"),
    ]
    state = NarrativeClusterer()
    state.add(item(i, text, hours, lang) for hours, (i, text, lang) in enumerate(stories))
    return state


def test_translations_land_in_one_narrative(encoder_state: NarrativeClusterer) -> None:
    found = {tuple(sorted(n.item_ids)) for n in encoder_state.narratives()}
    assert found == {("ar1", "en1", "fr1"), ("ar2", "en2", "fr2")}
    assert encoder_state.cluster_of("x") in encoder_state.candidates()
    villa = next(n for n in encoder_state.narratives() if "en2" in n.item_ids)
    assert villa.languages == {"ar": 1, "en": 1, "fr": 1}
    assert "villa" in villa.keywords


def test_eval_command_on_tiny_files(
    tmp_path: Path, encoder_state: NarrativeClusterer, capsys: pytest.CaptureFixture[str]
) -> None:
    tweets = [
        (
            "1",
            "The town hall will close the swimming pool for good in June. — A (@a) March 2, 2026",
        ),
        ("2", "Swimming pool closing for good in June, says the town hall https://t.co/x"),
        ("3", "The municipal swimming pool will close for good this June"),
        ("4", "Heavy rain expected tomorrow, the football match is postponed."),
        ("5", "The mayor bought a luxury villa with the school budget money"),
    ]
    (tmp_path / "dev.tweets.tsv").write_text(
        "tweet_id\ttweet_content\torig_split\n"
        + "".join(f"{i}\t{text}\tdev\n" for i, text in tweets),
        encoding="utf-8",
    )
    (tmp_path / "dev.qrels").write_text("1 0 c1 1\n2 0 c1 1\n3 0 c1 1\n5 0 c2 1\n")
    code = narratives_eval.main(
        ["--data-dir", str(tmp_path), "--threshold", "0.5", "0.99", "--json", "--quiet"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["items"] == 5 and report["gold_stories"] == 3
    good, strict = report["runs"]
    assert good["narrative_count"] == 1 and good["items_in_narratives"] == 3
    assert good["narratives"]["pairwise_precision"] == 1.0
    assert good["narratives"]["pairwise_recall"] == 1.0
    assert good["narratives"]["ari"] == 1.0
    assert strict["narrative_count"] == 0 and strict["narratives"]["pairwise_f1"] == 0.0
    assert good["items_per_second"] > 0
    assert narratives_eval.main(["--data-dir", str(tmp_path / "missing"), "--quiet"]) == 1


def test_pairwise_by_hand() -> None:
    # Predicted {1,2,3} {4}; gold {1,2} {3,4}: 3 predicted pairs, 2 gold pairs, 1 shared.
    figures = narratives_eval.pairwise(["a", "a", "a", "b"], ["x", "x", "y", "y"])
    assert figures["pairwise_precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["pairwise_recall"] == 0.5
    assert figures["pairwise_f1"] == pytest.approx(0.4)
    gold = narratives_eval.gold_stories(
        ["1", "2", "3", "4"], {"1": {"c"}, "2": {"c", "d"}, "3": {"d"}}
    )
    assert gold["1"] == gold["2"] == gold["3"] != gold["4"]


def test_a_candidate_joins_the_narrative_whose_centroid_came_close() -> None:
    """An item alone in a candidate while its story's narrative grows towards it joins it
    (the narrative's centroid moved); without absorption it would stay apart."""

    def run(absorb: bool) -> NarrativeClusterer:
        state = clusterer(absorb=absorb)
        state.add([item("a", "the pool is closed"), item("w", "water everywhere today", 1)])
        state.add([item(f"m{n}", f"pool and water news {n}", 2 + n) for n in range(5)])
        return state

    assert run(absorb=False).cluster_of("w") != run(absorb=False).cluster_of("a")
    state = run(absorb=True)
    (story,) = state.narratives()
    assert set(story.item_ids) == {"a", "w", "m0", "m1", "m2", "m3", "m4"}
    assert state.candidates() == {}
    # The setting travels with the state.
    assert NarrativeClusterer.from_dict(run(absorb=False).to_dict()).absorb is False


# -- without the members: running sums, stored cluster by cluster -------------------------


def stream() -> list[list[NarrativeItem]]:
    """Batches of a day: a pool story in two languages, a villa story, loners, and a water
    candidate that a later pool-and-water narrative absorbs."""
    batches = [
        [item("w", "water everywhere today", 0), *pool_items(0, 2, 0.5)],
        [item(f"m{n}", f"pool and water news {n}", 1 + n) for n in range(4)],
        [item("v1", "The mayor bought a villa", 6), item("x1", "Unrelated concert tonight", 6)],
        [*pool_items(2, 20, 7), item("v2", "A villa for the mayor", 7, "fr")],
        [item("v3", "mayor villa again", 8, "fr"), item("piscine", "piscine piscine", 8, "fr")],
    ]
    return batches


def described(state: NarrativeClusterer) -> list[tuple[object, ...]]:
    return [
        (n.id, n.size, n.keywords, n.representative_ids, n.summaries, n.first_seen, n.last_seen)
        for n in state.narratives()
    ]


def test_without_members_the_narratives_are_the_same_and_stored_piecewise() -> None:
    """A clusterer that keeps no members, saved and restored from its touched clusters after
    every batch, finds what one that keeps every member finds; who belongs where comes from
    the assignments and the moves."""
    full = clusterer()
    settings, stored = {}, {}
    home: dict[str, str] = {}
    for batch in stream():
        full.add(batch)
        compact = NarrativeClusterer.from_dict(
            settings or clusterer(keep_members=False).settings(),
            embedder=toy_embed,
            clusters=stored.values(),
        )
        assignments = compact.add(batch)
        changes = compact.changes()
        for gone in changes.dropped | changes.retired | set(changes.moved):
            stored.pop(gone, None)
        for touched in changes.touched:
            stored[touched] = json.loads(json.dumps(compact.cluster_state(touched)))
        settings = compact.settings()
        home = {key: changes.home(value) for key, value in home.items()}
        home |= {a.item_id: a.cluster_id for a in assignments if a.cluster_id}
    restored = NarrativeClusterer.from_dict(settings, embedder=toy_embed, clusters=stored.values())
    assert described(restored) == described(full)
    for narrative in full.narratives():
        assert {i for i, c in home.items() if c == narrative.id} == set(narrative.item_ids)
    # The absorbed water candidate went to the pool-and-water narrative.
    assert home["w"] == full.cluster_of("w") == full.cluster_of("m0")
    with pytest.raises(ValueError, match="does not keep"):
        restored.cluster_of("w")


def test_the_pool_keeps_representatives_in_every_language() -> None:
    state = clusterer(keep_members=False, min_items=1, threshold=0.5)
    state.add([*pool_items(0, 40), item("fr", "La piscine, la piscine ferme", 1, "fr")])
    (narrative,) = state.narratives()
    assert narrative.size == 41 and narrative.item_ids == []
    assert narrative.summaries["fr"].text == "La piscine, la piscine ferme"
    assert len(state._clusters[narrative.id].pool) <= 2 * 16


def test_open_candidates_and_quiet_narratives_are_bounded() -> None:
    state = clusterer(max_candidates=3, retire_after=timedelta(days=30), candidate_window=None)
    state.add(pool_items(0, 3))
    for n in range(6):
        # Counted when a batch starts: at most three open then, and the batch's own.
        state.add([item(f"u{n}", f"unrelated words number {n} here", n)])
    changes = state.changes()
    assert len(state.candidates()) == 4
    # The two oldest loners were pushed out when newer ones came.
    assert {state.cluster_of("u0"), state.cluster_of("u1")} == {None}
    assert changes.dropped == {"n2", "n3"}
    (pool,) = state.narratives()
    state.add([item("late", "A story a month later", 24 * 31)])
    assert state.narratives() == [] and state.changes().retired == {pool.id}
    # A retired narrative's story starting again is a new story.
    assert state.add(pool_items(50, 1, 24 * 31))[0].cluster_id != pool.id


def test_a_version_1_state_is_read() -> None:
    state = clusterer(candidate_window=None)
    state.add([*pool_items(0, 3), item("v1", "The mayor bought a villa")])
    old = {
        "version": 1,
        "threshold": state.threshold,
        "min_items": 3,
        "candidate_window_seconds": None,
        "min_text_length": 15,
        "next_id": 3,
        "clock": T0.isoformat(),
        "clusters": [
            {
                "id": cluster_id,
                "promoted": cluster.promoted,
                "name": None,
                "dimensions": 264,
                "vectors": _members_dict(cluster.members or [])["vectors"],
                "members": _members_dict(cluster.members or [])["rows"],
            }
            for cluster_id, cluster in state._clusters.items()
        ],
    }
    compact = NarrativeClusterer.from_dict(old, embedder=toy_embed, keep_members=False)
    assert described(compact) == described(state) and not compact.keep_members
    assert NarrativeClusterer.from_dict(old, embedder=toy_embed).cluster_of("p1") is not None


def test_split_without_members_embeds_them_again() -> None:
    items = [*pool_items(0, 4), item("v1", "The mayor and his villa"), item("v2", "A villa, mayor")]
    kept, compact = clusterer(min_items=2), clusterer(min_items=2, keep_members=False)
    for state in (kept, compact):
        state.add(items)
    pool = next(n for n in kept.narratives() if n.size == 4)
    assert kept.split(pool.id, ["p2", "p3"]).size == 2
    with pytest.raises(ValueError, match="members="):
        compact.split(pool.id, ["p2", "p3"])
    made = compact.split(pool.id, ["p2", "p3"], members=items[:4])
    assert described(compact) == described(kept) and made.size == 2


def test_how_items_are_cut_into_batches_does_not_matter() -> None:
    """One by one, all at once or in uneven batches: the same narratives, candidates and
    closed clusters (a candidate absorbed, loners expired on the way)."""
    items = [item("a", "the pool is closed"), item("w", "water everywhere today", 1)]
    items += [item(f"m{n}", f"pool and water news {n}", 2 + n) for n in range(5)]
    items += [item("v1", "The mayor bought a villa", 6), item("x1", "Unrelated concert", 6)]
    items += [*pool_items(0, 20, 7), item("v2", "A villa for the mayor", 7, "fr")]
    items += [item("late", "A much later story about the antenna", 24 * 9)]
    items += [item(f"a{n}", f"antenna antenna number {n}", 24 * 9 + n) for n in range(3)]

    def run(cuts: list[int]) -> tuple[object, ...]:
        state = clusterer(candidate_window=timedelta(days=2))
        bounds = [0, *cuts, len(items)]
        for start, end in itertools.pairwise(bounds):
            state.add(items[start:end])
        changes = state.changes()
        return (
            described(state),
            state.candidates(),
            changes.dropped,
            {key: changes.home(key) for key in changes.moved},
        )

    reference = run([])
    assert reference == run(list(range(1, len(items))))
    assert reference == run([2, 3, 11, 12, 30])
    assert reference == run([1, 4, 5, 6, 7, 29])
    assert reference[2] and reference[3]  # something expired, something was absorbed
