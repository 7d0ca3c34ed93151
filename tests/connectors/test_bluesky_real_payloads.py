"""Bluesky's mapping on payloads shaped exactly as the AppView and Jetstream send them
(issue 13, item 4)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import ItemKind, Media, NormalizedItem
from beffroi.connectors.bluesky import BlueskyConnector, forget_sessions
from beffroi.connectors.http import RATE_GATE
from tests.connectors.contract import drain
from tests.fakes.bluesky_server import APP_PASSWORD, OWN_HANDLE, FakeBluesky, FakeJetstream

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "bluesky"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    forget_sessions()
    RATE_GATE.clear()
    yield
    forget_sessions()
    RATE_GATE.clear()


@pytest.fixture
def server() -> Iterator[FakeBluesky]:
    with FakeBluesky() as fake:
        yield fake


@pytest.fixture
def jetstream() -> Iterator[FakeJetstream]:
    with FakeJetstream() as fake:
        yield fake


def from_jetstream_only(
    server: FakeBluesky, jetstream: FakeJetstream, event: dict[str, Any]
) -> NormalizedItem:
    """The item a sync makes of ``event`` when ``getPosts`` no longer shows the post."""
    with jetstream.lock:
        jetstream.events.append({**event, "time_us": time.time_ns() // 1000 - 1_000_000})
    connector = BlueskyConnector(
        {
            "handle": OWN_HANDLE,
            "base_url": server.base_url,
            "jetstream_url": jetstream.url,
            "keywords": "marché",
        },
        {"app_password": APP_PASSWORD},
        timeout=5,
        retries=0,
        jetstream_idle_seconds=0.5,
        jetstream_max_seconds=5.0,
    )
    items, _ = drain(connector, {})
    (item,) = items
    return item


def test_jetstream_images_are_the_appview_images(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    (view,) = load("get_posts_images.json")["posts"]
    from_view = BlueskyConnector({"handle": OWN_HANDLE}, {"app_password": "x"}).map_item(
        view, ItemKind.POST
    )
    item = from_jetstream_only(server, jetstream, load("jetstream_commit_images.json"))
    assert item.platform_id == view["uri"]
    assert item.media == from_view.media
    assert item.media[0] == Media(
        "image",
        "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:4kq7zmh2vfyn3e6xqhbdtrla/"
        "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy@jpeg",
        "Le marché couvert après l'incendie",
    )


def test_jetstream_media_of_a_quote_with_a_video(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    item = from_jetstream_only(server, jetstream, load("jetstream_commit_quote_with_video.json"))
    assert item.media == (
        Media(
            "video",
            "https://video.bsky.app/watch/did%3Aplc%3Awz6s4mxkfvg7tpiheyyf2o3u/"
            "bafkreihbqv3wxlcgcdkzuq4ux5kkbm4hyzmgbkxuewxftqkrj2wocejzka/playlist.m3u8",
            "Vidéo du marché",
        ),
    )
