"""The Facebook connector's mapping of Graph answers shaped as Meta really sends them (albums,
shared links through the link shim, videos, photo and sticker comments, Messenger photos and
voice clips without text): tests/fixtures/real/facebook/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import ItemKind, Media
from beffroi.connectors.facebook import FacebookConnector, post_of_comment
from beffroi.connectors.graph import message_media, unshimmed
from beffroi.connectors.http import RATE_GATE
from tests.connectors.contract import drain
from tests.fakes.graph_server import VERSION, FakeGraph

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "facebook"


def entries(name: str) -> list[dict[str, Any]]:
    page: dict[str, Any] = json.loads((FIXTURES / name).read_text("utf-8"))
    return list(page["data"])


@pytest.fixture
def connector() -> FacebookConnector:
    return FacebookConnector({"page_id": "104000000000001"}, {"access_token": "EAAtest1234567890"})


def test_an_album_is_its_photos_and_video_and_its_text_links(connector: FacebookConnector) -> None:
    album = connector.map_item(entries("published_posts.json")[0], ItemKind.POST)
    photos = entries("published_posts.json")[0]["attachments"]["data"][0]["subattachments"]
    first, second, video = photos["data"]
    assert album.media == (
        Media("image", first["media"]["image"]["src"]),
        Media("image", second["media"]["image"]["src"]),
        Media("video", video["media"]["source"]),
    )
    # The photos' own Facebook pages are not links the post shares.
    assert album.urls == ("https://www.mairie-beffroi.fr/agenda/rentree-2024",)


def test_a_shared_link_is_its_real_address_not_its_preview(connector: FacebookConnector) -> None:
    share = connector.map_item(entries("published_posts.json")[1], ItemKind.POST)
    assert share.urls == (
        "https://www.lavoixdunord.fr/1498765/article/2024-09-07/beffroi-un-marche-couvert"
        "?utm_source=facebook",
    )
    assert share.media == ()  # the preview card's image is the newspaper's, not the Page's


def test_a_video_post_is_its_video_file(connector: FacebookConnector) -> None:
    video = connector.map_item(entries("published_posts.json")[2], ItemKind.POST)
    source = entries("published_posts.json")[2]["attachments"]["data"][0]["media"]["source"]
    assert video.media == (Media("video", source),)
    assert video.urls == ()


def test_a_photo_post_is_its_photo(connector: FacebookConnector) -> None:
    raw = entries("published_posts.json")[3]
    photo = connector.map_item(raw, ItemKind.POST)
    assert photo.media == (Media("image", raw["attachments"]["data"][0]["media"]["image"]["src"]),)
    assert photo.urls == ()


def test_comments_keep_their_photo_sticker_and_links(connector: FacebookConnector) -> None:
    photo, linked, sticker = (
        connector.map_item(raw, ItemKind.COMMENT) for raw in entries("comments.json")
    )
    assert photo.text == ""
    assert photo.media == (
        Media("image", entries("comments.json")[0]["attachment"]["media"]["image"]["src"]),
    )
    assert photo.urls == ()
    assert linked.urls == (
        "https://velo-beffroi.org/avis/plan-circulation-2024",
        "https://www.service-public.fr/particuliers/vosdroits/F2600",
    )
    assert linked.media == ()
    assert sticker.kind is ItemKind.REPLY
    assert sticker.media == (
        Media("image", entries("comments.json")[2]["attachment"]["media"]["image"]["src"]),
    )


def test_a_messenger_photo_without_text_is_a_message_with_its_image(
    connector: FacebookConnector,
) -> None:
    photo, voice, written = (
        connector.map_item(raw, ItemKind.MESSAGE) for raw in entries("messages.json")
    )
    attachment = entries("messages.json")[0]["attachments"]["data"][0]
    assert photo.kind is ItemKind.MESSAGE
    assert photo.text == ""
    assert photo.media == (
        Media("image", attachment["image_data"]["url"], "458500_1098765432109876_n.jpg"),
    )
    assert voice.text == ""
    assert voice.media == (
        Media(
            "audio",
            entries("messages.json")[1]["attachments"]["data"][0]["file_url"],
            "audioclip-1725959585000-4731.mp4",
        ),
    )
    assert written.media == ()
    assert written.urls == ("https://www.mairie-beffroi.fr/signalement",)


@pytest.mark.parametrize(
    ("comment_id", "post_id"),
    [
        ("10158347294088553_10158348537573553", "19292868552_10158347294088553"),
        # Older comments and some webhooks carry the whole post id before the comment's.
        ("19292868552_10158347294088553_10158348537573553", "19292868552_10158347294088553"),
        ("10158348537573553", ""),
    ],
)
def test_the_post_of_a_comment_from_either_form_of_its_id(comment_id: str, post_id: str) -> None:
    assert post_of_comment("19292868552", comment_id) == post_id


def test_the_link_shim_is_opened_and_other_addresses_kept() -> None:
    assert (
        unshimmed("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org%2Fa%3Fb%3D1&h=AT0")
        == "https://example.org/a?b=1"
    )
    assert unshimmed("https://www.facebook.com/photo.php?fbid=1") == (
        "https://www.facebook.com/photo.php?fbid=1"
    )
    # A shim hiding something that is not a web address stays the shim.
    assert unshimmed("https://l.facebook.com/l.php?u=javascript%3Aalert(1)") == (
        "https://l.facebook.com/l.php?u=javascript%3Aalert(1)"
    )
    assert unshimmed("javascript:alert(1)") == ""


def test_message_media_reads_videos_files_and_stickers() -> None:
    raw = {
        "attachments": {
            "data": [
                {
                    "mime_type": "video/mp4",
                    "name": "video-1.mp4",
                    "video_data": {"url": "https://video.example/v.mp4", "preview_url": "x"},
                },
                {
                    "mime_type": "application/pdf",
                    "name": "arrêté.pdf",
                    "file_url": "https://cdn.fbsbx.com/a.pdf",
                },
                {"mime_type": "image/gif", "file_url": "javascript:alert(1)"},
            ]
        },
        "sticker": "https://scontent.example/sticker.png",
    }
    assert message_media(raw) == (
        Media("video", "https://video.example/v.mp4", "video-1.mp4"),
        Media("other", "https://cdn.fbsbx.com/a.pdf", "arrêté.pdf"),
        Media("image", "https://scontent.example/sticker.png"),
    )


# --- through a sync, against the loopback Graph API ------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeGraph]:
    RATE_GATE.clear()
    with FakeGraph() as fake:
        yield fake
    RATE_GATE.clear()


def test_a_sync_asks_for_attachments_and_maps_them(server: FakeGraph) -> None:
    album = entries("published_posts.json")[0]
    post = server.add_post(album["message"], attachments=album["attachments"])
    commented = entries("comments.json")[0]
    comment = server.add_comment(post, "", attachment=commented["attachment"])
    photo = entries("messages.json")[0]["attachments"]["data"][0]
    message = server.add_message(
        text="",
        attachments=[{k: photo[k] for k in ("mime_type", "name", "image_data")}],
    )
    connector = FacebookConnector(
        {"page_id": server.page_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        timeout=5,
        retries=0,
        backoff=0.0,
    )
    items, _ = drain(connector, {})
    by_id = {item.platform_id: item for item in items}

    posts = server.requests_to("GET", f"/{VERSION}/{server.page_id}/published_posts")[0]
    assert "attachments{" in posts.param("fields")
    assert "subattachments" in posts.param("fields")
    comments = server.requests_to("GET", f"/{VERSION}/{post}/comments")[0]
    assert "attachment{" in comments.param("fields")
    conversation = next(iter(server.conversations))
    messages = server.requests_to("GET", f"/{VERSION}/{conversation}/messages")[0]
    assert "attachments{" in messages.param("fields")

    assert [m.kind for m in by_id[post].media] == ["image", "image", "video"]
    assert by_id[post].urls == ("https://www.mairie-beffroi.fr/agenda/rentree-2024",)
    assert by_id[comment].media == (
        Media("image", commented["attachment"]["media"]["image"]["src"]),
    )
    assert by_id[message].kind is ItemKind.MESSAGE
    assert by_id[message].text == ""
    assert by_id[message].media == (Media("image", photo["image_data"]["url"], photo["name"]),)


def test_a_published_photo_comes_back_as_its_image(server: FakeGraph) -> None:
    connector = FacebookConnector(
        {"page_id": server.page_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        timeout=5,
        retries=0,
        backoff=0.0,
    )
    result = connector.publish("Inauguration", (Media("image", "https://cdn.example.org/i.jpg"),))
    items, _ = drain(connector, {})
    (post,) = (item for item in items if item.platform_id == result.platform_id)
    assert post.media == (Media("image", "https://cdn.example.org/i.jpg"),)
    assert post.urls == ()


CORPUS = Path(__file__).parent.parent / "corpus" / "facebook" / "python-facebook"


def test_a_comments_counts_have_the_names_other_platforms_use() -> None:
    # Recorded on the Page 2121008874780932: a comment with a photo, 0 likes, 0 replies.
    raw = json.loads((CORPUS / "models" / "comment.json").read_text("utf-8"))
    connector = FacebookConnector({"page_id": "2121008874780932"}, {"access_token": "EAAtest123"})
    comment = connector.map_item(raw, ItemKind.COMMENT)
    assert comment.metrics == {"likes": 0, "replies": 0}
    assert comment.thread_id == "2121008874780932_2954961744718970"
