"""The feed connector against a fake site serving RSS 2.0, RSS 1.0 and Atom 1.0."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    Connector,
    ItemKind,
    ItemRef,
    MalformedPayload,
    Media,
    NormalizedItem,
    NotFound,
    RateLimited,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.rss import SEEN_LIMIT, FeedConnector, entry_id
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness
from tests.fakes.feed_server import HTML, FakeFeedSite
from tests.fakes.loopback import Reply


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


@pytest.fixture
def site() -> Iterator[FakeFeedSite]:
    with FakeFeedSite() as fake:
        yield fake


def connect(site: FakeFeedSite, path: str = "/feed.xml") -> FeedConnector:
    return FeedConnector({"url": site.base_url + path}, {}, timeout=5, backoff=0.01)


def drain(
    connector: Connector, cursor: Mapping[str, Any]
) -> tuple[list[NormalizedItem], dict[str, Any]]:
    items: list[NormalizedItem] = []
    last = dict(cursor)
    for batch in connector.fetch(cursor):
        items.extend(batch.items)
        last = json.loads(json.dumps(dict(batch.cursor)))
    return items, last


# --- the contract ------------------------------------------------------------------------------


class FeedHarness(Harness):
    max_requests = 5

    def __init__(self, site: FakeFeedSite) -> None:
        self.site = site

    def connect(self) -> Connector:
        return connect(self.site)

    def seed(self, count: int) -> set[str]:
        return {self.site.add(f"Article {n}", "<p>Corps</p>").guid for n in range(count)}

    def interrupt_after(self, requests: int) -> None:
        self.site.fail_after(requests, status=None)

    def heal(self) -> None:
        self.site.heal()

    def errors(self) -> Mapping[str, DocumentedError]:
        site = self.site

        def answer(status: int, headers: dict[str, str] | None = None) -> None:
            site.script("/", Reply(status, raw=b"", headers=headers or {}), times=10)

        def html_page() -> None:
            page = b"<!DOCTYPE html><html><body><p>Maintenance</body></html>"
            site.script("/", Reply(200, raw=page, content_type=HTML), times=10)

        return {
            "not found": DocumentedError(lambda: answer(404), NotFound),
            "gone": DocumentedError(lambda: answer(410), NotFound),
            "unauthorized": DocumentedError(lambda: answer(401), AuthError),
            "forbidden": DocumentedError(lambda: answer(403), AuthError),
            "too many requests": DocumentedError(
                lambda: answer(429, {"Retry-After": "600"}), RateLimited
            ),
            "unavailable with Retry-After": DocumentedError(
                lambda: answer(503, {"Retry-After": "3600"}), RateLimited
            ),
            "server error": DocumentedError(lambda: answer(500), TransientError),
            "not a feed": DocumentedError(html_page, MalformedPayload),
        }

    def act(self, connector: Connector, action: Action) -> None:
        raise AssertionError("feeds are read only")


class TestFeedContract(ConnectorContract):
    @pytest.fixture
    def harness(self, site: FakeFeedSite) -> FeedHarness:
        return FeedHarness(site)


# --- formats -----------------------------------------------------------------------------------


def populate(site: FakeFeedSite) -> None:
    site.add(
        "Alerte canicule & eau",
        '<p>Buvez <b>souvent</b>.</p><p>Voir <a href="https://sante.example/chaleur">ici</a></p>',
        image="https://news.example/i/1.jpg",
        audio="https://news.example/a/1.mp3",
        links=["https://sante.example/related"],
        author="Jeanne Martin",
    )
    site.add("Fausse information démentie", "Texte <i>simple</i>")


@pytest.mark.parametrize("path", ["/feed.xml", "/rdf.xml", "/atom.xml"])
def test_each_format_is_read(site: FakeFeedSite, path: str) -> None:
    populate(site)
    items, cursor = drain(connect(site, path), {})
    assert [i.text.split("\n")[0] for i in items] == [
        "Alerte canicule & eau",
        "Fausse information démentie",
    ]
    first = items[0]
    assert first.kind is ItemKind.POST
    assert first.text == "Alerte canicule & eau\n\nBuvez souvent.\n\nVoir ici"
    assert first.url == "https://news.example/articles/1"
    assert "https://sante.example/chaleur" in first.urls
    assert first.author.display_name == "Jeanne Martin"
    assert first.created_at == site.entries[0].published
    assert first.created_at.tzinfo is not None
    expected_id = "https://news.example/articles/1" if path == "/rdf.xml" else "urn:uuid:entry-1"
    assert first.platform_id == expected_id
    assert first.raw["feed"]["title"] == "Les Nouvelles"
    json.dumps(dict(first.raw))
    assert cursor["seen"] == [i.platform_id for i in items]
    assert cursor["etag"] and cursor["modified"]


def test_rss20_media_and_language(site: FakeFeedSite) -> None:
    populate(site)
    items, _ = drain(connect(site), {})
    assert items[0].media == (
        Media("audio", "https://news.example/a/1.mp3"),
        Media("image", "https://news.example/i/1.jpg"),
    )
    assert items[0].language == "fr"


def test_atom_related_links(site: FakeFeedSite) -> None:
    populate(site)
    items, _ = drain(connect(site, "/atom.xml"), {})
    assert items[0].urls[:2] == (
        "https://news.example/articles/1",
        "https://sante.example/related",
    )
    assert items[0].author.url == "https://news.example/team"


def test_map_item_rebuilds_the_stored_entry(site: FakeFeedSite) -> None:
    populate(site)
    connector = connect(site)
    items, _ = drain(connector, {})
    stored = json.loads(json.dumps(dict(items[0].raw)))
    assert connector.map_item(stored, ItemKind.POST) == items[0]


def test_entry_id_falls_back_to_link_then_a_hash() -> None:
    assert entry_id({"id": "a", "link": "b"}) == "a"
    assert entry_id({"link": "https://x.example/1"}) == "https://x.example/1"
    hashed = entry_id({"title": "T", "published": "Mon, 01 Jan 2024"})
    assert hashed.startswith("sha256:") and hashed == entry_id(
        {"title": "T", "published": "Mon, 01 Jan 2024"}
    )


# --- conditional fetch, seen ids, redirects ----------------------------------------------------


def test_not_modified_brings_nothing_and_keeps_the_cursor(site: FakeFeedSite) -> None:
    populate(site)
    _, cursor = drain(connect(site), {})
    items, again = drain(connect(site), cursor)
    assert items == [] and again == cursor
    asked = site.requests[-1]
    assert asked.header("If-None-Match") == cursor["etag"]
    assert asked.header("If-Modified-Since") == cursor["modified"]


def test_a_relisted_entry_is_not_yielded_again_and_seen_ids_are_bounded(
    site: FakeFeedSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("beffroi.connectors.rss.SEEN_LIMIT", 3)
    for number in range(2):
        site.add(f"A{number}")
    _, cursor = drain(connect(site), {})
    for number in range(3):
        site.add(f"B{number}")
    items, cursor = drain(connect(site), cursor)
    assert [i.text for i in items] == ["B0", "B1", "B2"]
    assert cursor["seen"] == [f"urn:uuid:entry-{n}" for n in (3, 4, 5)]
    assert SEEN_LIMIT == 500


def test_an_interrupted_sync_keeps_no_validators_until_its_last_batch(
    site: FakeFeedSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("beffroi.connectors.rss.BATCH_SIZE", 2)
    for number in range(5):
        site.add(f"E{number}")
    batches = list(connect(site).fetch({}))
    assert [len(b.items) for b in batches] == [2, 2, 1]
    assert [b.cursor["etag"] is None for b in batches] == [True, True, False]
    resumed, _ = drain(connect(site), json.loads(json.dumps(dict(batches[0].cursor))))
    assert [i.text for i in resumed] == ["E2", "E3", "E4"]


def test_a_permanent_redirect_moves_the_feed(site: FakeFeedSite) -> None:
    populate(site)
    items, cursor = drain(connect(site, "/moved"), {})
    assert len(items) == 2
    assert cursor["url"] == site.base_url + "/feed.xml"
    site.requests.clear()
    drain(connect(site, "/moved"), cursor)
    assert [r.path for r in site.requests] == ["/feed.xml"]


def test_a_temporary_redirect_is_followed_this_time_only(site: FakeFeedSite) -> None:
    populate(site)
    items, cursor = drain(connect(site, "/elsewhere"), {})
    assert len(items) == 2
    assert cursor["url"] == site.base_url + "/elsewhere"


def test_a_redirect_loop_stops(site: FakeFeedSite) -> None:
    with pytest.raises(MalformedPayload, match="redirects more than"):
        drain(connect(site, "/loop"), {})


def test_a_changed_address_starts_afresh(site: FakeFeedSite) -> None:
    populate(site)
    _, cursor = drain(connect(site, "/moved"), {})
    items, _ = drain(connect(site, "/atom.xml"), cursor)
    assert len(items) == 2
    assert site.requests[-1].header("If-None-Match") is None


def test_a_web_page_is_not_a_feed_and_a_private_key_is_not_shown(site: FakeFeedSite) -> None:
    connector = FeedConnector({"url": site.base_url + "/page.html?key=s3cr3t"}, {})
    with pytest.raises(MalformedPayload, match="is not a feed") as raised:
        drain(connector, {})
    assert "s3cr3t" not in str(raised.value)
    site.script("/", Reply(403, raw=b""))
    with pytest.raises(AuthError) as refused:
        drain(connector, {})
    assert "s3cr3t" not in str(refused.value)


def test_rate_limit_closes_the_site_for_the_time_it_gave(site: FakeFeedSite) -> None:
    site.script("/", Reply(429, raw=b"", headers={"Retry-After": "900"}))
    with pytest.raises(RateLimited) as raised:
        drain(connect(site), {})
    assert raised.value.retry_after == 900
    with pytest.raises(RateLimited):
        drain(connect(site, "/atom.xml"), {})
    assert len(site.requests) == 1


def test_entries_without_dates_get_the_fetch_time(site: FakeFeedSite) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://t.example/</link><item><title>Sans date</title></item></channel></rss>"
    )
    site.script("/", Reply(200, raw=body, content_type="application/rss+xml"))
    before = datetime.now(UTC)
    [item], _ = drain(connect(site), {})
    assert item.created_at >= before.replace(microsecond=0)
    assert item.url == "https://t.example/"
    assert item.platform_id.startswith("sha256:")
    assert item.raw["date_unread"].startswith("it has no date;")


def test_settings_and_actions() -> None:
    with pytest.raises(ConfigurationError, match="url"):
        FeedConnector({}, {})
    with pytest.raises(ConfigurationError, match="http"):
        FeedConnector({"url": "ftp://x.example/feed"}, {})
    connector = FeedConnector({"url": "https://x.example/feed"}, {})
    with pytest.raises(UnsupportedAction, match="read only"):
        connector.reply(ItemRef("1"), "x")
