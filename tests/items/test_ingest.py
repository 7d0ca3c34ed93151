"""Ingesting normalized items: unique per (source, platform id), threads linked, nothing lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.connectors.base import ItemKind, Media, NormalizedAuthor, NormalizedItem
from beffroi.items.ingest import ingest
from beffroi.items.models import Author, Item

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
ALICE = NormalizedAuthor(platform_id="1", handle="alice", display_name="Alice")
BOB = NormalizedAuthor(platform_id="2", handle="bob")


def item(pid: str, text: str, author: NormalizedAuthor = ALICE, **extra: Any) -> NormalizedItem:
    return NormalizedItem(
        platform_id=pid,
        kind=extra.pop("kind", ItemKind.POST),
        text=text,
        created_at=T0 + timedelta(minutes=int(pid)),
        author=author,
        **extra,
    )


@pytest.mark.django_db
def test_ingest_twice_adds_nothing_the_second_time(source: Any) -> None:
    batch = [item("1", "Bonjour à tous"), item("2", "Hello everyone", BOB)]
    first = ingest(source, batch)
    second = ingest(source, batch)
    assert (first.created, first.existing) == (2, 0)
    assert (second.created, second.existing) == (0, 2)
    assert Item.objects.count() == 2
    assert Author.objects.count() == 2


@pytest.mark.django_db
def test_duplicates_inside_one_batch_are_stored_once(source: Any) -> None:
    result = ingest(source, [item("1", "a"), item("1", "a")])
    assert result.created == 1 and Item.objects.count() == 1


@pytest.mark.django_db
def test_same_platform_id_in_two_sources_are_two_items(source: Any, org: Any) -> None:
    from beffroi.sources.models import Source

    other = Source.objects.create(organization=org, name="Other", platform="file")
    ingest(source, [item("1", "a")])
    ingest(other, [item("1", "a")])
    assert Item.objects.count() == 2
    assert Author.objects.count() == 1  # the same account, once per organization


@pytest.mark.django_db
def test_threads_are_linked_whatever_the_arrival_order(source: Any) -> None:
    reply = item("3", "réponse", BOB, kind=ItemKind.REPLY, thread_id="1", parent_id="2")
    comment = item("2", "commentaire", BOB, kind=ItemKind.COMMENT, thread_id="1", parent_id="1")
    post = item("1", "Annonce de la mairie")
    ingest(source, [reply])  # the reply arrives before its parents
    ingest(source, [comment, post])
    stored = {i.platform_id: i for i in Item.objects.all()}
    assert stored["3"].parent == stored["2"]
    assert stored["2"].parent == stored["1"]
    assert stored["1"].parent is None


@pytest.mark.django_db
def test_fields_are_kept_and_language_detected(source: Any) -> None:
    ingest(
        source,
        [
            item(
                "1",
                "La déchetterie est fermée lundi, voir https://ville.example/dechets",
                urls=("https://ville.example/dechets",),
                media=(Media("image", "https://ville.example/a.jpg", "affiche"),),
                metrics={"likes": 3},
                raw={"id": "1", "nested": {"a": [1, 2]}},
            )
        ],
    )
    stored = Item.objects.get()
    assert stored.language == "fr"
    assert stored.urls == ["https://ville.example/dechets"]
    assert stored.media == [
        {"kind": "image", "url": "https://ville.example/a.jpg", "description": "affiche"}
    ]
    assert stored.metrics == {"likes": 3}
    assert stored.raw == {"id": "1", "nested": {"a": [1, 2]}}
    assert stored.platform == "file"
    assert stored.organization == source.organization
