"""Back-pressure: a scheduled sync stops after a batch once judging is behind, drops
nothing, and reads on later from the stored cursor."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.connectors.base import FetchBatch, ItemKind, NormalizedAuthor, NormalizedItem
from beffroi.items.models import Item
from beffroi.jobs.models import Job
from beffroi.sources import sync, tasks
from beffroi.sources.models import Source

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 1, 9, tzinfo=UTC)


class ThreeBatches:
    """A platform with three pages of three comments; the cursor is the next page."""

    def fetch(self, cursor: dict[str, Any]) -> Iterator[FetchBatch]:
        for page in range(int(cursor.get("page", 0)), 3):
            items = [
                NormalizedItem(
                    platform_id=f"c{page}-{n}",
                    kind=ItemKind.COMMENT,
                    text=f"Commentaire {page}-{n} sur les travaux",
                    created_at=START + timedelta(minutes=10 * page + n),
                    author=NormalizedAuthor(platform_id=f"a{n}", handle=f"a{n}"),
                )
                for n in range(3)
            ]
            yield FetchBatch(items, {"page": page + 1})

    def close(self) -> None:
        pass


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "ready_connector", lambda source: ThreeBatches())


def test_a_sync_holds_back_when_judging_is_behind_and_reads_on_later(
    org: Any, platform: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = Source.objects.create(organization=org, name="Page", platform="facebook")
    monkeypatch.setenv("BEFFROI_INGESTION_BACKLOG", "4")
    result = tasks.sync_task(source.pk)
    source.refresh_from_db()
    # Three waiting after the first page, six after the second: it stops there.
    assert result["held_back"] and result["batches"] == 2
    assert source.cursor == {"page": 2} and Item.objects.count() == 6
    held = Job.objects.get(dedupe_key=f"sources.sync:{source.pk}:held")
    assert held.state == Job.State.PENDING and held.run_after > held.created_at
    # Judging catches up: the next sync reads on from page 2, nothing twice.
    Item.objects.update(state=Item.State.PROCESSED)
    result = tasks.sync_task(source.pk)
    assert not result["held_back"] and result["batches"] == 1
    ids = list(Item.objects.values_list("platform_id", flat=True))
    assert len(ids) == len(set(ids)) == 9


def test_without_a_limit_a_sync_reads_everything(org: Any, platform: None) -> None:
    source = Source.objects.create(organization=org, name="Page", platform="facebook")
    outcome = sync.sync_source(source)
    assert (outcome.batches, outcome.held_back, Item.objects.count()) == (3, False, 9)


def test_the_backlog_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from beffroi import config

    monkeypatch.setenv("BEFFROI_INGESTION_BACKLOG", "lots")
    with pytest.raises(ValueError, match="BEFFROI_INGESTION_BACKLOG"):
        config.ingestion_backlog()
    monkeypatch.setenv("BEFFROI_INGESTION_BACKLOG", "0")
    assert config.ingestion_backlog() == 0
