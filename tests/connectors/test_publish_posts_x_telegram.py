"""X and Telegram publish posts as each platform documents: text, images (X: with their alt
text; Telegram has none), the created post returned as an item, and every refusal typed.

X is its loopback fake; Telegram is Telethon's stand-in client. The library's files are served
by the publishing tests' :class:`_Library`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from telethon import errors
from telethon.tl import types

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    ItemKind,
    Media,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Refused,
    UnsupportedAction,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.telegram import TelegramConnector
from beffroi.connectors.x import XConnector
from tests.connectors.test_publish_posts import ALT, JPEG, PNG, _Library
from tests.fakes.loopback import Reply
from tests.fakes.telethon_client import CHANNEL_ID, StandInClient, telethon_message
from tests.fakes.x_server import SERVICE_UNAVAILABLE, FakeX


@pytest.fixture
def library() -> Iterator[_Library]:
    with _Library() as server:
        yield server


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


# --- X --------------------------------------------------------------------------------------


@pytest.fixture
def x() -> Iterator[FakeX]:
    with FakeX() as fake:
        yield fake


def _x(server: FakeX) -> XConnector:
    return XConnector(
        {"user_id": server.me["id"], "username": "mairie", "base_url": server.base_url},
        {"access_token": server.token},
        timeout=2,
        retries=2,
        backoff=0.0,
    )


def test_x_publishes_a_text_and_returns_the_post_as_an_item(x: FakeX) -> None:
    text = "Conseil municipal ce soir https://ville.example/odj"
    result = _x(x).publish(text, idempotency_key="k1")
    (create,) = x.requests_to("POST", "/2/tweets")
    assert create.body == {"text": text}
    assert result.ok and result.platform_id in x.tweets
    item = result.item
    assert item is not None
    assert item.platform_id == result.platform_id and item.kind == ItemKind.POST
    assert item.text == text and item.urls == ("https://ville.example/odj",)
    assert item.url == result.url == f"https://x.com/mairie/status/{result.platform_id}"
    assert item.author.platform_id == x.me["id"] and item.author.handle == "mairie"
    assert item.thread_id == item.platform_id
    created = x.tweets[result.platform_id]["created_at"]
    assert abs(item.created_at.timestamp() - time.time()) < 60, created
    assert not XConnector.idempotent_publish


def test_x_uploads_images_gives_them_their_alt_text_then_names_them_in_the_post(
    x: FakeX, library: _Library
) -> None:
    media = (
        Media("image", library.add("parvis.png", PNG, "image/png"), ALT),
        Media("image", library.add("plan.jpg", JPEG, "image/jpeg"), ""),
    )
    result = _x(x).publish("Le parvis refait", media)
    uploads = x.requests_to("POST", "/2/media/upload")
    assert [(u.body["media"], u.body["media_category"]) for u in uploads] == [
        (PNG, "tweet_image"),
        (JPEG, "tweet_image"),
    ]
    # Only the image with a description gets metadata; X keeps its alt text.
    (metadata,) = x.requests_to("POST", "/2/media/metadata")
    first, second = (x.uploads[i] for i in x.uploads)
    assert metadata.body == {"id": first["id"], "metadata": {"alt_text": {"text": ALT}}}
    assert (first["alt_text"], second["alt_text"]) == (ALT, None)
    (create,) = x.requests_to("POST", "/2/tweets")
    assert create.body == {"text": "Le parvis refait", "media": {"media_ids": list(x.uploads)}}
    assert x.tweets[result.platform_id]["attachments"]["media_keys"] == [
        first["media_key"],
        second["media_key"],
    ]
    assert result.item is not None
    assert [(m.kind, m.description) for m in result.item.media] == [("image", ALT), ("image", "")]


def test_x_publishes_images_alone_without_a_text(x: FakeX, library: _Library) -> None:
    media = (Media("image", library.add("parvis.png", PNG, "image/png"), ALT),)
    result = _x(x).publish("", media)
    (create,) = x.requests_to("POST", "/2/tweets")
    assert create.body == {"media": {"media_ids": list(x.uploads)}}
    assert result.item is not None and result.item.media[0].description == ALT


def test_x_takes_four_images_at_most_and_no_video(x: FakeX) -> None:
    five = tuple(Media("image", f"https://beffroi.example/p/{n}.png", ALT) for n in range(5))
    with pytest.raises(Refused, match="at most 4 images"):
        _x(x).publish("Cinq images", five)
    with pytest.raises(UnsupportedAction, match="video"):
        _x(x).publish("La visite", (Media("video", "https://beffroi.example/p/v.mp4", ALT),))
    assert x.requests == []


def test_x_refuses_a_file_that_is_not_an_image_in_its_words(x: FakeX, library: _Library) -> None:
    media = (Media("image", library.add("notes.png", b"not an image", "image/png"), ALT),)
    with pytest.raises(Refused, match="media type unrecognized"):
        _x(x).publish("Bonjour", media)
    assert x.requests_to("POST", "/2/tweets") == []


def test_x_without_media_write_says_to_reconnect(x: FakeX, library: _Library) -> None:
    x.drop_scope("media.write")
    media = (Media("image", library.add("parvis.png", PNG, "image/png"), ALT),)
    with pytest.raises(AuthError, match=r"media\.write"):
        _x(x).publish("Bonjour", media)
    assert x.requests_to("POST", "/2/tweets") == []


def test_x_refuses_duplicate_content_in_its_words(x: FakeX) -> None:
    connector = _x(x)
    connector.publish("Bonjour à tous")
    with pytest.raises(Refused, match="not allowed to create a Tweet with duplicate content"):
        connector.publish("Bonjour à tous")
    assert len(x.requests_to("POST", "/2/tweets")) == 2


def test_x_rate_limit_gives_the_wait(x: FakeX) -> None:
    x.rate_limit(1, reset_in=42, path="/2/tweets")
    with pytest.raises(RateLimited) as caught:
        _x(x).publish("Bonjour")
    assert caught.value.retry_after is not None and 30 < caught.value.retry_after <= 42


@pytest.mark.parametrize("lost", ["server_error", "dropped"])
def test_x_post_whose_answer_is_lost_is_unknown_after_one_request(x: FakeX, lost: str) -> None:
    if lost == "server_error":
        x.script("/2/tweets", Reply(502, SERVICE_UNAVAILABLE), times=5)
    else:
        x.drop_connections(5)
    with pytest.raises(OutcomeUnknown):
        _x(x).publish("Bonjour")
    assert len(x.requests_to("POST", "/2/tweets")) == 1


def test_x_first_comment_answers_its_own_post(x: FakeX) -> None:
    connector = _x(x)
    post_id = connector.publish("Conseil municipal ce soir").platform_id
    assert post_id is not None
    comment = connector.comment_on_own_post(post_id, "L'ordre du jour : https://ville.example")
    assert x.requests_to("POST", "/2/tweets")[-1].body == {
        "text": "L'ordre du jour : https://ville.example",
        "reply": {"in_reply_to_tweet_id": post_id},
    }
    assert x.tweets[comment.platform_id]["conversation_id"] == post_id


def test_x_metrics_of_a_published_post(x: FakeX) -> None:
    connector = _x(x)
    post_id = connector.publish("Bonjour").platform_id
    assert post_id is not None
    x.tweets[post_id]["public_metrics"].update(
        like_count=7, retweet_count=2, quote_count=1, reply_count=3, impression_count=950
    )
    assert connector.post_metrics(post_id) == {
        "likes": 7,
        "shares": 3,
        "comments": 3,
        "views": 950,
    }
    (lookup,) = x.requests_to("GET", f"/2/tweets/{post_id}")
    assert lookup.param("tweet.fields") == "public_metrics"
    del x.tweets[post_id]
    with pytest.raises(NotFound):
        connector.post_metrics(post_id)


# --- Telegram -------------------------------------------------------------------------------


def _telegram(client: StandInClient, **settings: str) -> TelegramConnector:
    connector = TelegramConnector(
        {"channels": "mairie_test", "method": "api", "api_id": "12345", **settings},
        {"api_hash": "0123456789abcdef", "session": "1BVtsOK-secret-session"},
        backoff=0.01,
    )
    connector.client_factory = lambda _connector: client  # type: ignore[assignment,misc]
    return connector


@pytest.fixture
def channel() -> StandInClient:
    return StandInClient({"mairie_test": [telethon_message(1)]})


def test_telegram_publishes_with_the_method_api_only() -> None:
    api = {"channels": "mairie_test", "method": "api", "api_id": "1"}
    assert TelegramConnector.allows(Action.PUBLISH, api)
    assert not TelegramConnector.allows(Action.PUBLISH, {"channels": "mairie_test"})
    with pytest.raises(UnsupportedAction, match="method 'api'"):
        TelegramConnector({"channels": "mairie_test"}, {}).publish("Bonjour")


def test_telegram_publishes_a_text_and_returns_the_post_as_an_item(
    channel: StandInClient,
) -> None:
    text = "Conseil municipal ce soir **19 h** https://ville.example/odj"
    result = _telegram(channel).publish(text, idempotency_key="k1")
    ((target, sent),) = channel.published
    assert target == "mairie_test" and sent.message == text
    assert channel.published_kwargs == [{"parse_mode": None}]  # the text as written
    assert result.ok and result.platform_id == f"mairie_test/{sent.id}"
    item = result.item
    assert item is not None
    assert item.platform_id == result.platform_id and item.kind == ItemKind.POST
    assert item.text == text and item.urls == ("https://ville.example/odj",)
    assert item.url == result.url == f"https://t.me/mairie_test/{sent.id}"
    assert item.author.platform_id == "mairie_test"
    assert channel.disconnected


def test_telegram_publishes_one_image_with_its_caption(
    channel: StandInClient, library: _Library
) -> None:
    media = (Media("image", library.add("parvis.png", PNG, "image/png"), ALT),)
    result = _telegram(channel).publish("Le parvis refait", media)
    ((_, sent),) = channel.published
    assert isinstance(sent.media, types.MessageMediaPhoto) and sent.message == "Le parvis refait"
    ((name, content),) = channel.files[sent.id]
    assert (name, content) == ("parvis.png", PNG)
    assert result.item is not None
    assert [m.kind for m in result.item.media] == ["image"]
    assert result.item.text == "Le parvis refait"


def test_telegram_publishes_several_images_as_an_album_captioned_once(
    channel: StandInClient, library: _Library
) -> None:
    media = (
        Media("image", library.add("parvis.png", PNG, "image/png"), ALT),
        Media("image", library.add("plan.jpg", JPEG, "image/jpeg"), "Le plan."),
    )
    result = _telegram(channel).publish("Deux vues", media)
    (first, second) = (sent for _, sent in channel.published)
    assert (first.message, second.message) == ("Deux vues", "")
    assert first.grouped_id == second.grouped_id is not None
    assert result.platform_id == f"mairie_test/{first.id}"
    assert result.item is not None and result.item.text == "Deux vues"
    assert [m.url for m in result.item.media] == [
        f"https://t.me/mairie_test/{first.id}",
        f"https://t.me/mairie_test/{second.id}",
    ]
    # Telegram has no alt text: the descriptions are not sent.
    assert [c for files in channel.files.values() for _, c in files] == [PNG, JPEG]


def test_telegram_publishes_in_the_organizations_own_channel() -> None:
    client = StandInClient({"mairie_test": [], "voisins": []})
    connector = _telegram(client, channels="mairie_test voisins", own_channel="mairie_test")
    assert connector.publish("Bonjour").platform_id is not None
    assert [target for target, _ in client.published] == ["mairie_test"]
    with pytest.raises(ConfigurationError, match="own_channel"):
        _telegram(client, channels="mairie_test voisins").publish("Bonjour")


def test_telegram_refuses_in_its_words(channel: StandInClient) -> None:
    channel.fail_send = errors.ChatAdminRequiredError(request=None)
    with pytest.raises(Refused, match="Chat admin privileges are required"):
        _telegram(channel).publish("Bonjour")


def test_telegram_flood_wait_gives_the_wait(channel: StandInClient) -> None:
    channel.fail_send = errors.FloodWaitError(request=None, capture=37)
    with pytest.raises(RateLimited) as caught:
        _telegram(channel).publish("Bonjour")
    assert caught.value.retry_after == 37


def test_telegram_post_whose_answer_is_lost_is_unknown_after_one_send(
    channel: StandInClient,
) -> None:
    channel.fail_send = TimeoutError()  # the answer never came
    with pytest.raises(OutcomeUnknown):
        _telegram(channel).publish("Bonjour")
    assert channel.send_attempts == 1


def test_telegram_metrics_of_a_published_post(channel: StandInClient) -> None:
    connector = _telegram(channel)
    platform_id = connector.publish("Bonjour").platform_id
    assert platform_id is not None
    ((_, sent),) = channel.published
    sent.views, sent.forwards = 120, 4
    assert connector.post_metrics(platform_id) == {"views": 120, "shares": 4}
    sent.replies = types.MessageReplies(
        replies=2, replies_pts=2, comments=True, channel_id=CHANNEL_ID + 1
    )
    assert connector.post_metrics(platform_id) == {"views": 120, "shares": 4, "comments": 2}
    with pytest.raises(NotFound):
        connector.post_metrics("mairie_test/999")
