"""The post an item quotes or reposts and the platform's labels: stored at ingestion, shown
(escaped) on the item and case pages, read by the veille with the item (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from beffroi.connectors.base import (
    ItemKind,
    NormalizedAuthor,
    NormalizedItem,
    QuotedItem,
    Relation,
)
from beffroi.items.ingest import ingest
from beffroi.items.models import Item

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def quoting(pid: str, text: str, quoted: QuotedItem | None, labels: tuple[str, ...] = ()) -> Any:
    return NormalizedItem(
        platform_id=pid,
        kind=ItemKind.POST,
        text=text,
        created_at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        author=NormalizedAuthor(platform_id="7", handle="camille"),
        quoted=quoted,
        labels=labels,
    )


RUMOUR = QuotedItem(
    Relation.QUOTE,
    "99",
    "La piscine municipale ferme pour toujours !",
    "rumeurs",
    "https://example.org/rumeurs/99",
)


def test_ingestion_stores_the_quoted_post_and_the_labels(source: Any) -> None:
    ingest(source, [quoting("1", "C'est faux.", RUMOUR, ("spam",)), quoting("2", "Bonjour", None)])
    quote, plain = Item.objects.get(platform_id="1"), Item.objects.get(platform_id="2")
    assert quote.quoted == {
        "relation": "quote",
        "platform_id": "99",
        "text": "La piscine municipale ferme pour toujours !",
        "author": "rumeurs",
        "url": "https://example.org/rumeurs/99",
    }
    assert quote.labels == ["spam"]
    assert quote.text_as_read == "C'est faux.\n\nLa piscine municipale ferme pour toujours !"
    assert plain.quoted == {} and plain.labels == [] and plain.text_as_read == "Bonjour"


def test_a_reposts_text_is_read_once(source: Any) -> None:
    repost = QuotedItem(Relation.REPOST, "98", "Travaux rue des Écoles", "mairie", "")
    ingest(source, [quoting("3", "RT @mairie: Travaux rue des Écoles", repost)])
    assert Item.objects.get(platform_id="3").text_as_read == "RT @mairie: Travaux rue des Écoles"


def test_the_item_page_shows_the_quoted_post_escaped_and_the_labels(
    org: Any, source: Any, make_user: Any, verified_client: Any
) -> None:
    hostile = QuotedItem(Relation.QUOTE, "97", HOSTILE, HOSTILE, "javascript:alert(1)")
    ingest(source, [quoting("4", "Regardez", hostile, ("graphic-media",))])
    item = Item.objects.get(platform_id="4")
    client = verified_client(make_user("viewer", org=org, role="viewer"))
    page = client.get(
        f"/o/{org.slug}/items/{item.pk}/", headers={"Accept-Language": "en"}
    ).content.decode()
    assert "Quoted post" in page
    assert HOSTILE not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "javascript:" not in page
    assert '<span class="badge">graphic-media</span>' in page


def test_a_quote_without_its_text_says_so(
    org: Any, source: Any, make_user: Any, verified_client: Any
) -> None:
    bare = QuotedItem(Relation.QUOTE, "96", "", "", "https://example.org/i/96")
    ingest(source, [quoting("5", "Et ça ?", bare)])
    item = Item.objects.get(platform_id="5")
    client = verified_client(make_user("viewer", org=org, role="viewer"))
    page = client.get(
        f"/o/{org.slug}/items/{item.pk}/", headers={"Accept-Language": "en"}
    ).content.decode()
    assert "did not send the quoted post" in page
    assert 'href="https://example.org/i/96"' in page


def test_a_watch_matches_the_quoted_post_read_with_the_item(org: Any, source: Any) -> None:
    from beffroi.veille import watch_query
    from beffroi.veille.models import Watch, WatchHit

    watch = Watch.objects.create(organization=org, name="Piscine", query="piscine")
    ingest(source, [quoting("6", "C'est faux.", RUMOUR), quoting("7", "Bonjour", None)])
    assert watch_query.run_watches(org) == 1
    (hit,) = WatchHit.objects.filter(watch=watch)
    assert hit.item.platform_id == "6"
