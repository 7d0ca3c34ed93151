"""Items: newest first, filters, limit/offset and cursor pages, detail; authors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone


@pytest.fixture
def key(org: Any, member_key: Any) -> str:
    return member_key(org, "viewer")


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def test_items_newest_first_and_org_only(
    api: Any, org: Any, other_org: Any, source: Any, make_item: Any, key: str
) -> None:
    from beffroi.sources.models import Source

    old = make_item(source, minutes_ago=30)
    new = make_item(source, minutes_ago=1)
    middle = make_item(source, minutes_ago=10)
    foreign_source = Source.objects.create(organization=other_org, name="X", platform="file")
    make_item(foreign_source, text="secret of another town")
    response = api.get(f"orgs/{org.slug}/items", key)
    assert ids(response) == [new.pk, middle.pk, old.pk]
    assert "another town" not in response.content.decode()
    first = response.json()["items"][0]
    assert first["author"]["handle"] == "alice@example.org"
    assert first["source_id"] == source.pk
    assert "raw" not in first


def test_item_filters(api: Any, org: Any, source: Any, make_item: Any, key: str) -> None:
    from beffroi.sources.models import Source

    second = Source.objects.create(organization=org, name="Second", platform="file")
    post = make_item(source, kind="post", language="fr", text="Travaux rue Victor Hugo")
    comment = make_item(source, kind="comment", language="en", text="When is the market?")
    done = make_item(second, kind="comment", language="fr", state="done", text="Merci !")
    path = f"orgs/{org.slug}/items"
    assert ids(api.get(path, key, kind="post")) == [post.pk]
    assert ids(api.get(path, key, language="en")) == [comment.pk]
    assert ids(api.get(path, key, state="done")) == [done.pk]
    assert ids(api.get(path, key, source=second.pk)) == [done.pk]
    assert ids(api.get(path, key, q="victor")) == [post.pk]
    # The API's q finds what the inbox's search finds: the author's handle and name too.
    from beffroi.items.filtersets import ItemFilter
    from beffroi.items.models import Item

    everything = Item.objects.filter(organization=org)
    for query in ("alice", "Alice", "example.org"):
        inbox = ItemFilter({"q": query}, queryset=everything).qs
        assert sorted(ids(api.get(path, key, q=query))) == sorted(i.pk for i in inbox)
        assert inbox.count() == 3
    assert ids(api.get(path, key, kind="comment", language="fr")) == [done.pk]
    assert api.get(path, key, kind="tweet").status_code == 422


def test_item_date_filters(api: Any, org: Any, source: Any, make_item: Any, key: str) -> None:
    now = timezone.now()
    old = make_item(source, created_at=now - timedelta(days=3))
    recent = make_item(source, created_at=now - timedelta(hours=1))
    path = f"orgs/{org.slug}/items"
    since = (now - timedelta(days=1)).isoformat()
    assert ids(api.get(path, key, since=since)) == [recent.pk]
    assert ids(api.get(path, key, until=since)) == [old.pk]
    assert api.get(path, key, since="yesterday").status_code == 422


def test_limit_offset_pages(api: Any, org: Any, source: Any, make_item: Any, key: str) -> None:
    items = [make_item(source, minutes_ago=i) for i in range(5)]  # items[0] is newest
    path = f"orgs/{org.slug}/items"
    first = api.get(path, key, limit=2).json()
    assert [r["id"] for r in first["items"]] == [items[0].pk, items[1].pk]
    assert first["next_offset"] == 2
    second = api.get(path, key, limit=2, offset=first["next_offset"]).json()
    assert [r["id"] for r in second["items"]] == [items[2].pk, items[3].pk]
    last = api.get(path, key, limit=2, offset=4).json()
    assert [r["id"] for r in last["items"]] == [items[4].pk]
    assert last["next_offset"] is None and last["next_cursor"] is None


def test_limit_bounds(api: Any, org: Any, key: str) -> None:
    path = f"orgs/{org.slug}/items"
    assert api.get(path, key, limit=500).status_code == 200
    response = api.get(path, key, limit=501)
    assert response.status_code == 422
    assert "limit" in response.content.decode()
    assert api.get(path, key, limit=0).status_code == 422
    assert api.get(path, key, offset=-1).status_code == 422


def test_cursor_pages_are_stable_while_items_arrive(
    api: Any, org: Any, source: Any, make_item: Any, key: str
) -> None:
    same_time = timezone.now() - timedelta(minutes=5)
    items = [make_item(source, created_at=same_time) for _ in range(3)]
    items += [make_item(source, minutes_ago=10 + i) for i in range(3)]
    expected = [i.pk for i in sorted(items, key=lambda i: (i.created_at, i.pk), reverse=True)]
    path = f"orgs/{org.slug}/items"
    seen: list[int] = []
    page = api.get(path, key, limit=2).json()
    seen += [r["id"] for r in page["items"]]
    make_item(source)  # a new item arrives: it must not shift the next pages
    while page["next_cursor"]:
        page = api.get(path, key, limit=2, cursor=page["next_cursor"]).json()
        seen += [r["id"] for r in page["items"]]
    assert seen == expected


def test_bad_cursor_is_422(api: Any, org: Any, source: Any, make_item: Any, key: str) -> None:
    make_item(source)
    make_item(source)
    path = f"orgs/{org.slug}/items"
    assert api.get(path, key, cursor="not-a-cursor").status_code == 422
    cursor = api.get(path, key, limit=1).json()["next_cursor"]
    assert api.get(path, key, cursor=cursor, offset=3).status_code == 422


def test_item_detail(api: Any, org: Any, source: Any, make_item: Any, key: str) -> None:
    root = make_item(source, kind="post", platform_id="100", thread_id="100")
    reply = make_item(
        source,
        kind="reply",
        platform_id="101",
        thread_id="100",
        parent=root,
        parent_platform_id="100",
        raw={"id": "101", "content": "<p>Bonjour</p>", "account": {"acct": "alice"}},
        urls=["https://example.org/a"],
        metrics={"favourites": 3},
    )
    response = api.get(f"orgs/{org.slug}/items/{reply.pk}", key)
    assert response.status_code == 200
    data = response.json()
    assert data["raw"] == {"id": "101", "content": "<p>Bonjour</p>", "account": {"acct": "alice"}}
    assert data["thread_id"] == "100"
    assert data["parent_id"] == root.pk
    assert data["parent_platform_id"] == "100"
    assert data["author"]["handle"] == "alice@example.org"
    assert data["author"]["id"] == reply.author_id
    assert data["urls"] == ["https://example.org/a"]
    assert data["quoted"] is None and data["labels"] == []
    assert data["metrics"] == {"favourites": 3}
    assert data["kind"] == "reply"


def test_item_of_another_org_is_404(
    api: Any, org: Any, other_org: Any, make_item: Any, key: str
) -> None:
    from beffroi.sources.models import Source

    foreign = make_item(Source.objects.create(organization=other_org, name="X", platform="file"))
    assert api.get(f"orgs/{org.slug}/items/{foreign.pk}", key).status_code == 404
    assert api.get(f"orgs/{org.slug}/items/999999", key).status_code == 404


def test_author_detail(
    api: Any, org: Any, other_org: Any, source: Any, make_item: Any, key: str
) -> None:
    from beffroi.items.models import Author

    item = make_item(source)
    make_item(source)
    response = api.get(f"orgs/{org.slug}/authors/{item.author_id}", key)
    assert response.status_code == 200
    data = response.json()
    assert data["handle"] == "alice@example.org"
    assert data["display_name"] == "Alice"
    assert data["platform_id"] == "author-1"
    assert data["item_count"] == 2
    foreign = Author.objects.create(
        organization=other_org, platform="x", platform_id="1", handle="b"
    )
    assert api.get(f"orgs/{org.slug}/authors/{foreign.pk}", key).status_code == 404


def test_item_detail_carries_the_quoted_post_and_the_platforms_labels(
    api: Any, org: Any, source: Any, make_item: Any, key: str
) -> None:
    quoted = {
        "relation": "quote",
        "platform_id": "99",
        "text": "La piscine ferme pour toujours !",
        "author": "rumeurs",
        "url": "https://example.org/rumeurs/99",
    }
    item = make_item(source, platform_id="102", quoted=quoted, labels=["spam"])
    data = api.get(f"orgs/{org.slug}/items/{item.pk}", key).json()
    assert data["quoted"] == quoted
    assert data["labels"] == ["spam"]
