"""The Instagram connector's mapping of Graph answers shaped as Meta really sends them
(carousels and their children, videos and their covers, links in captions and comments, a
photo sent without text): tests/fixtures/real/instagram/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import ItemKind, Media
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.instagram import InstagramConnector
from tests.connectors.contract import drain
from tests.fakes.graph_server import VERSION, FakeGraph

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "instagram"


def read(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    return payload


@pytest.fixture
def connector() -> InstagramConnector:
    return InstagramConnector(
        {"ig_user_id": "17841400000000001"}, {"access_token": "EAAtest1234567890"}
    )


def test_a_carousel_is_each_of_its_slides(connector: InstagramConnector) -> None:
    raw = read("media.json")["data"][0]
    carousel = connector.map_item(raw, ItemKind.POST)
    first, video, last = raw["children"]["data"]
    assert carousel.media == (
        Media("image", first["media_url"]),
        Media("video", video["media_url"]),
        Media("image", last["media_url"]),
    )
    assert carousel.urls == ("https://www.mairie-beffroi.fr/patrimoine",)


def test_a_video_is_its_file_not_its_cover(connector: InstagramConnector) -> None:
    raw = read("media.json")["data"][1]
    reel = connector.map_item(raw, ItemKind.POST)
    assert reel.media == (Media("video", raw["media_url"]),)


def test_a_video_without_its_file_keeps_its_cover(connector: InstagramConnector) -> None:
    # Instagram leaves media_url out of a video with copyrighted music.
    raw = read("media.json")["data"][2]
    reel = connector.map_item(raw, ItemKind.POST)
    assert reel.media == (Media("image", raw["thumbnail_url"]),)


def test_links_in_a_comment_are_its_links(connector: InstagramConnector) -> None:
    (raw,) = read("comments_and_messages.json")["comments"]["data"]
    comment = connector.map_item(raw, ItemKind.COMMENT)
    assert comment.urls == ("https://www.mairie-beffroi.fr/patrimoine/horaires",)


def test_a_photo_sent_without_text_is_a_message_with_its_image(
    connector: InstagramConnector,
) -> None:
    (raw,) = read("comments_and_messages.json")["messages"]["data"]
    message = connector.map_item(raw, ItemKind.MESSAGE)
    assert message.kind is ItemKind.MESSAGE
    assert message.text == ""
    assert message.media == (Media("image", raw["attachments"]["data"][0]["image_data"]["url"]),)
    assert message.author.handle == "lucie.beffroi"


# --- through a sync, against the loopback Graph API ------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeGraph]:
    RATE_GATE.clear()
    with FakeGraph() as fake:
        yield fake
    RATE_GATE.clear()


def test_a_sync_asks_for_carousel_children_and_video_covers(server: FakeGraph) -> None:
    carousel, reel, _ = read("media.json")["data"]
    album = server.add_media(
        carousel["caption"],
        media_type="CAROUSEL_ALBUM",
        media_url=carousel["media_url"],
        children=carousel["children"],
    )
    video = server.add_media(
        reel["caption"],
        media_type="VIDEO",
        media_url=reel["media_url"],
        thumbnail_url=reel["thumbnail_url"],
    )
    connector = InstagramConnector(
        {"ig_user_id": server.ig_user_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        timeout=5,
        retries=0,
        backoff=0.0,
    )
    items, _ = drain(connector, {})
    by_id = {item.platform_id: item for item in items}
    listing = server.requests_to("GET", f"/{VERSION}/{server.ig_user_id}/media")[0]
    assert "children{media_type,media_url,thumbnail_url,permalink}" in listing.param("fields")
    assert "thumbnail_url" in listing.param("fields").replace("children{", "")
    assert [m.kind for m in by_id[album].media] == ["image", "video", "image"]
    assert by_id[album].urls == ("https://www.mairie-beffroi.fr/patrimoine",)
    assert by_id[video].media == (Media("video", reel["media_url"]),)
