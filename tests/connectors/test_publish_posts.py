"""The connectors publish posts as each platform documents: text, media with their alt text,
the created post returned as an item, and every refusal typed.

Each platform is its loopback fake; the library's files are served by :class:`_Library` (the
signed public addresses the publishing desk gives are plain HTTPS addresses to a connector).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from beffroi.connectors import mastodon as mastodon_module
from beffroi.connectors.base import (
    ConfigurationError,
    ItemKind,
    Media,
    OutcomeUnknown,
    RateLimited,
    Refused,
    UnsupportedAction,
)
from beffroi.connectors.bluesky import BlueskyConnector, forget_sessions
from beffroi.connectors.facebook import FacebookConnector
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.instagram import InstagramConnector
from beffroi.connectors.mastodon import MastodonConnector
from tests.fakes.bluesky_server import APP_PASSWORD, OWN_HANDLE, FakeBluesky, error
from tests.fakes.graph_server import FakeGraph, buc_usage, graph_error
from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply
from tests.fakes.mastodon_server import FakeMastodon

#: The smallest files each platform takes for what they are (the fakes read the first bytes).
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
ALT = "Le parvis de la mairie, fleuri pour le printemps."


class _Library(LoopbackServer):
    """The media library's public addresses: ``GET /media/<name>`` serves a stored file."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}

    def add(self, name: str, content: bytes, mime: str) -> str:
        self.files[name] = (content, mime)
        return f"{self.base_url}/media/{name}"

    def handle(self, request: RecordedRequest) -> Reply:
        found = self.files.get(request.path.removeprefix("/media/"))
        if request.method != "GET" or found is None:
            return Reply(404, raw=b"Not Found", content_type="text/plain")
        content, mime = found
        return Reply(200, raw=content, content_type=mime)


@pytest.fixture
def library() -> Iterator[_Library]:
    with _Library() as server:
        yield server


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def test_a_library_address_that_is_gone_is_refused_before_anything_is_sent(
    library: _Library, mastodon: FakeMastodon
) -> None:
    with pytest.raises(Refused, match="HTTP 404"):
        _mastodon(mastodon).publish("Bonjour", (Media("image", f"{library.base_url}/media/x"),))
    assert mastodon.requests_to("POST", "/api") == []


def test_a_library_address_inside_the_network_is_not_read(mastodon: FakeMastodon) -> None:
    with pytest.raises(ConfigurationError, match="could not be reached"):
        _mastodon(mastodon).publish("Bonjour", (Media("image", "https://10.0.0.1/media/x"),))
    with pytest.raises(Refused, match="no https address"):
        _mastodon(mastodon).publish("Bonjour", (Media("image", "ftp://example.org/x.png"),))


# --- Mastodon -------------------------------------------------------------------------------


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def _mastodon(server: FakeMastodon) -> MastodonConnector:
    return MastodonConnector(
        {"base_url": server.base_url}, {"access_token": server.token}, timeout=2
    )


def test_mastodon_publishes_a_text_and_returns_the_status_as_an_item(
    mastodon: FakeMastodon,
) -> None:
    result = _mastodon(mastodon).publish("Conseil municipal ce soir #Ville", idempotency_key="k1")
    assert result.ok and result.platform_id in mastodon.statuses
    item = result.item
    assert item is not None
    assert item.platform_id == result.platform_id
    assert item.kind == ItemKind.POST and item.thread_id == item.platform_id
    assert item.text == "Conseil municipal ce soir #Ville"
    assert item.url == result.url and item.url.endswith(f"/@mairie/{result.platform_id}")
    assert item.author.platform_id == mastodon.me["id"]
    (post,) = mastodon.requests_to("POST", "/api/v1/statuses")
    assert post.header("Idempotency-Key") == "k1"
    assert post.param("visibility") == "public"


def test_mastodon_uploads_images_with_their_alt_text_then_names_them_in_the_status(
    mastodon: FakeMastodon, library: _Library
) -> None:
    media = (
        Media("image", library.add("parvis.png", PNG, "image/png"), ALT),
        Media("image", library.add("plan.jpg", JPEG, "image/jpeg"), "Le plan du quartier."),
    )
    result = _mastodon(mastodon).publish("Le parvis refait", media, idempotency_key="k2")
    uploads = mastodon.requests_to("POST", "/api/v2/media")
    assert [u.body["description"] for u in uploads] == [ALT, "Le plan du quartier."]
    assert [u.body["file"] for u in uploads] == [PNG, JPEG]
    (post,) = mastodon.requests_to("POST", "/api/v1/statuses")
    ids = post.values("media_ids[]")
    assert len(ids) == 2 and all(
        mastodon.uploads[i]["status_id"] == result.platform_id for i in ids
    )
    assert result.item is not None
    assert [(m.kind, m.description) for m in result.item.media] == [
        ("image", ALT),
        ("image", "Le plan du quartier."),
    ]


def test_mastodon_waits_for_a_video_to_be_processed_before_posting(
    mastodon: FakeMastodon, library: _Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mastodon_module, "MEDIA_POLL_SECONDS", 0.01)
    mastodon.processing_polls = 2
    media = (Media("video", library.add("visite.mp4", MP4, "video/mp4"), "La visite du chantier."),)
    result = _mastodon(mastodon).publish("La visite", media)
    assert len(mastodon.requests_to("GET", "/api/v1/media/")) == 3
    assert result.item is not None and result.item.media[0].kind == "video"


def test_mastodon_refuses_a_file_it_cannot_take_in_its_words(
    mastodon: FakeMastodon, library: _Library
) -> None:
    media = (Media("image", library.add("notes.png", b"not an image", "image/png"), ALT),)
    with pytest.raises(Refused, match="File content type is invalid"):
        _mastodon(mastodon).publish("Bonjour", media)
    assert mastodon.requests_to("POST", "/api/v1/statuses") == []


def test_mastodon_refusal_of_the_status_is_refused(mastodon: FakeMastodon) -> None:
    with pytest.raises(Refused, match="Text can't be blank"):
        _mastodon(mastodon).publish("   ")


def test_mastodon_rate_limit_gives_the_wait(mastodon: FakeMastodon) -> None:
    mastodon.rate_limit(1, reset_in=42, path_prefix="/api/v1/statuses")
    with pytest.raises(RateLimited) as caught:
        _mastodon(mastodon).publish("Bonjour")
    assert caught.value.retry_after is not None and 30 < caught.value.retry_after <= 45


@pytest.mark.parametrize("lost", ["server_error", "dropped"])
def test_mastodon_status_whose_answer_is_lost_is_unknown_after_one_request(
    mastodon: FakeMastodon, lost: str
) -> None:
    if lost == "server_error":
        mastodon.server_error("/api/v1/statuses", 502)
    connector = _mastodon(mastodon)
    connector._account()
    if lost == "dropped":
        mastodon.drop_connections(5)
    with pytest.raises(OutcomeUnknown):
        connector.publish("Bonjour", idempotency_key="k3")
    assert len(mastodon.requests_to("POST", "/api/v1/statuses")) == 1


def test_mastodon_publishes_once_for_the_same_key(
    mastodon: FakeMastodon, library: _Library
) -> None:
    media = (Media("image", library.add("parvis.png", PNG, "image/png"), ALT),)
    connector = _mastodon(mastodon)
    first = connector.publish("Le parvis", media, idempotency_key="same")
    again = connector.publish("Le parvis", media, idempotency_key="same")
    assert again.platform_id == first.platform_id
    own = [s for s in mastodon.statuses.values() if s["account_id"] == mastodon.me["id"]]
    assert len(own) == 1


def test_mastodon_metrics_of_a_published_status(mastodon: FakeMastodon) -> None:
    connector = _mastodon(mastodon)
    status_id = connector.publish("Bonjour").platform_id
    assert status_id is not None
    mastodon.statuses[status_id]["favourites_count"] = 4
    mastodon.statuses[status_id]["reblogs_count"] = 2
    mastodon.add_status("Merci !", account=mastodon.add_account("alice"), in_reply_to=status_id)
    assert connector.post_metrics(status_id) == {"likes": 4, "shares": 2, "comments": 1}


# --- Bluesky --------------------------------------------------------------------------------


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    forget_sessions()
    with FakeBluesky() as fake:
        yield fake
    forget_sessions()


def _bluesky(server: FakeBluesky) -> BlueskyConnector:
    return BlueskyConnector(
        {"handle": OWN_HANDLE, "base_url": server.base_url},
        {"app_password": APP_PASSWORD},
        timeout=2,
        retries=2,
        backoff=0,
    )


def _own_posts(server: FakeBluesky) -> list[str]:
    return [uri for uri, view in server.posts.items() if view["author"]["did"] == server.own.did]


def test_bluesky_publishes_a_text_and_returns_the_post_as_an_item(bluesky: FakeBluesky) -> None:
    result = _bluesky(bluesky).publish(
        "Travaux rue Haute : https://ville.example/travaux", idempotency_key="k1"
    )
    assert _own_posts(bluesky) == [result.platform_id]
    item = result.item
    assert item is not None
    assert item.platform_id == result.platform_id and item.kind == ItemKind.POST
    assert item.text == "Travaux rue Haute : https://ville.example/travaux"
    assert item.urls == ("https://ville.example/travaux",)
    assert item.url == result.url and item.url.startswith(f"https://bsky.app/profile/{OWN_HANDLE}/")
    assert item.author.platform_id == bluesky.own.did


def test_bluesky_uploads_images_as_blobs_and_embeds_them_with_their_alt_text(
    bluesky: FakeBluesky, library: _Library
) -> None:
    media = (
        Media("image", library.add("parvis.png", PNG, "image/png"), ALT),
        Media("image", library.add("plan.jpg", JPEG, "image/jpeg"), ""),
    )
    result = _bluesky(bluesky).publish("Le parvis refait", media, idempotency_key="k2")
    uploads = bluesky.requests_to("POST", "/xrpc/com.atproto.repo.uploadBlob")
    assert [(u.raw_body, u.header("Content-Type")) for u in uploads] == [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
    ]
    (create,) = bluesky.requests_to("POST", "/xrpc/com.atproto.repo.createRecord")
    embed = create.body["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [image["alt"] for image in embed["images"]] == [ALT, ""]
    assert result.item is not None
    assert [(m.kind, m.description) for m in result.item.media] == [("image", ALT), ("image", "")]


def test_bluesky_does_not_send_a_video(bluesky: FakeBluesky) -> None:
    with pytest.raises(UnsupportedAction, match="video"):
        _bluesky(bluesky).publish("La visite", (Media("video", "https://example.org/v.mp4"),))
    assert bluesky.requests == []


def test_bluesky_refuses_an_image_over_its_limit_in_its_words(
    bluesky: FakeBluesky, library: _Library
) -> None:
    # Within what the connector downloads, over the PDS's limit: the PDS says why.
    five = tuple(Media("image", library.add(f"i{n}.png", PNG, "image/png"), ALT) for n in range(5))
    with pytest.raises(Refused, match="must not have more than 4 elements"):
        _bluesky(bluesky).publish("Cinq images", five)
    assert _own_posts(bluesky) == []


def test_bluesky_rate_limit_gives_the_wait(bluesky: FakeBluesky) -> None:
    reset = int(time.time()) + 120
    bluesky.script(
        "/xrpc/com.atproto.repo.createRecord",
        error(429, "RateLimitExceeded", "Rate Limit Exceeded", **{"ratelimit-reset": str(reset)}),
    )
    with pytest.raises(RateLimited) as caught:
        _bluesky(bluesky).publish("Bonjour")
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120


def test_bluesky_post_whose_answer_is_lost_is_unknown_after_one_request(
    bluesky: FakeBluesky,
) -> None:
    connector = _bluesky(bluesky)
    connector.own_did()
    bluesky.script(
        "/xrpc/com.atproto.repo.createRecord",
        error(502, "InternalServerError", "Bad Gateway"),
        times=5,
    )
    with pytest.raises(OutcomeUnknown):
        connector.publish("Bonjour")
    assert len(bluesky.requests_to("POST", "/xrpc/com.atproto.repo.createRecord")) == 1


def test_bluesky_publishes_once_for_the_same_key(bluesky: FakeBluesky, library: _Library) -> None:
    media = (Media("image", library.add("parvis.png", PNG, "image/png"), ALT),)
    connector = _bluesky(bluesky)
    first = connector.publish("Le parvis", media, idempotency_key="same")
    again = connector.publish("Le parvis", media, idempotency_key="same")
    assert again.platform_id == first.platform_id
    assert _own_posts(bluesky) == [first.platform_id]
    assert again.item is not None and again.item.media[0].description == ALT


def test_bluesky_metrics_of_a_published_post(bluesky: FakeBluesky) -> None:
    connector = _bluesky(bluesky)
    uri = connector.publish("Bonjour").platform_id
    assert uri is not None
    bluesky.posts[uri]["repostCount"] = 3
    bluesky.add_post("Merci !", author=bluesky.add_account("alice.bsky.social"), reply_to=uri)
    assert connector.post_metrics(uri) == {"likes": 2, "shares": 3, "comments": 1, "quotes": 0}


# --- Facebook Pages -------------------------------------------------------------------------

#: The library's public address of a file, which Meta's servers fetch themselves.
PUBLIC = "https://beffroi.example/p/media"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


def _facebook(server: FakeGraph) -> FacebookConnector:
    return FacebookConnector(
        {"page_id": server.page_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        timeout=2,
        retries=2,
        backoff=0.0,
    )


def test_facebook_publishes_a_text_with_its_link_and_returns_the_post(graph: FakeGraph) -> None:
    text = "Le budget participatif est ouvert\nhttps://ville.example/budget"
    result = _facebook(graph).publish(text)
    (feed,) = graph.requests_to("POST", f"/v21.0/{graph.page_id}/feed")
    assert feed.param("message") == text
    assert feed.param("link") == "https://ville.example/budget"
    item = result.item
    assert item is not None and result.platform_id in graph.posts
    assert item.platform_id == result.platform_id and item.kind == ItemKind.POST
    assert item.text == text and "https://ville.example/budget" in item.urls
    assert item.url == result.url == graph.posts[result.platform_id]["permalink_url"]


def test_facebook_publishes_one_image_with_its_alt_text(graph: FakeGraph) -> None:
    media = (Media("image", f"{PUBLIC}/parvis.jpg", ALT),)
    result = _facebook(graph).publish("Le parvis refait", media)
    (photo,) = graph.requests_to("POST", f"/v21.0/{graph.page_id}/photos")
    assert photo.param("url") == f"{PUBLIC}/parvis.jpg"
    assert photo.param("caption") == "Le parvis refait"
    assert photo.param("alt_text_custom") == ALT
    assert result.item is not None and result.item.text == "Le parvis refait"
    assert [m.url for m in result.item.media] == [f"{PUBLIC}/parvis.jpg"]


def test_facebook_publishes_several_images_as_unpublished_photos_then_one_post(
    graph: FakeGraph,
) -> None:
    media = (
        Media("image", f"{PUBLIC}/a.jpg", ALT),
        Media("image", f"{PUBLIC}/b.jpg", "Le plan du quartier."),
    )
    result = _facebook(graph).publish("Deux vues", media)
    photos = graph.requests_to("POST", f"/v21.0/{graph.page_id}/photos")
    assert [(p.param("published"), p.param("alt_text_custom")) for p in photos] == [
        ("false", ALT),
        ("false", "Le plan du quartier."),
    ]
    assert all(photo["_post"] == result.platform_id for photo in graph.photos.values())
    assert result.item is not None
    assert [m.url for m in result.item.media] == [f"{PUBLIC}/a.jpg", f"{PUBLIC}/b.jpg"]
    own = [p for p in graph.posts.values() if p["from"]["id"] == graph.page_id]
    assert len(own) == 1


def test_facebook_refuses_an_image_it_cannot_fetch_in_its_words(graph: FakeGraph) -> None:
    graph.unfetchable.add(f"{PUBLIC}/gone.jpg")
    with pytest.raises(Refused, match="Missing or invalid image file"):
        _facebook(graph).publish("Bonjour", (Media("image", f"{PUBLIC}/gone.jpg", ALT),))
    assert graph.posts == {}


def test_facebook_throttling_gives_the_wait(graph: FakeGraph) -> None:
    graph.script(
        f"/v21.0/{graph.page_id}/feed",
        graph_error(
            32, "(#32) Page request limit reached", headers=buc_usage(graph.page_id, 100, 7)
        ),
    )
    with pytest.raises(RateLimited) as caught:
        _facebook(graph).publish("Bonjour")
    assert caught.value.retry_after == 7 * 60


def test_facebook_post_whose_answer_is_lost_is_unknown_after_one_request(
    graph: FakeGraph,
) -> None:
    graph.drop_connections(1)
    with pytest.raises(OutcomeUnknown):
        _facebook(graph).publish("Bonjour")
    assert len(graph.requests_to("POST", f"/v21.0/{graph.page_id}/feed")) == 1


def test_facebook_first_comment_and_metrics_of_its_own_post(graph: FakeGraph) -> None:
    connector = _facebook(graph)
    post_id = connector.publish("Conseil municipal ce soir").platform_id
    assert post_id is not None
    comment = connector.comment_on_own_post(post_id, "L'ordre du jour : https://ville.example/odj")
    assert graph.comments[comment.platform_id]["_post"] == post_id
    assert comment.url.startswith(graph.posts[post_id]["permalink_url"].rsplit("/", 1)[0])
    graph.posts[post_id]["_reactions"] = 12
    graph.posts[post_id]["shares"] = {"count": 3}
    assert connector.post_metrics(post_id) == {"likes": 12, "comments": 1, "shares": 3}


# --- Instagram ------------------------------------------------------------------------------


def _containers(server: FakeGraph) -> list[RecordedRequest]:
    path = f"/v21.0/{server.ig_user_id}/media"
    return [r for r in server.requests_to("POST", path) if r.path == path]


def _instagram(server: FakeGraph) -> InstagramConnector:
    return InstagramConnector(
        {"ig_user_id": server.ig_user_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        timeout=2,
        retries=2,
        backoff=0.0,
        poll_interval=0.0,
    )


def test_instagram_publishes_an_image_with_its_alt_text_and_returns_the_post(
    graph: FakeGraph,
) -> None:
    media = (Media("image", f"{PUBLIC}/parvis.jpg", ALT),)
    result = _instagram(graph).publish("Le parvis refait #ville", media)
    (container,) = _containers(graph)
    assert container.param("image_url") == f"{PUBLIC}/parvis.jpg"
    assert container.param("alt_text") == ALT
    assert container.param("caption") == "Le parvis refait #ville"
    item = result.item
    assert item is not None and result.platform_id in graph.media
    assert item.platform_id == result.platform_id and item.kind == ItemKind.POST
    assert item.text == "Le parvis refait #ville"
    assert item.url == result.url == graph.media[result.platform_id]["permalink"]
    assert item.author.platform_id == graph.ig_user_id


def test_instagram_publishes_a_carousel_of_items_then_the_carousel(graph: FakeGraph) -> None:
    media = (
        Media("image", f"{PUBLIC}/a.jpg", ALT),
        Media("video", f"{PUBLIC}/b.mp4", "La visite."),
        Media("image", f"{PUBLIC}/c.jpg", ""),
    )
    result = _instagram(graph).publish("Trois vues", media)
    containers = _containers(graph)
    items, carousel = containers[:3], containers[3]
    assert [c.param("is_carousel_item") for c in items] == ["true"] * 3
    assert [c.param("alt_text") for c in items] == [ALT, None, None]
    assert items[1].param("media_type") == "VIDEO"
    assert all(c.param("caption") is None for c in items)
    assert carousel.param("media_type") == "CAROUSEL"
    assert carousel.param("caption") == "Trois vues"
    assert len(carousel.param("children").split(",")) == 3
    assert result.item is not None
    assert [m.kind for m in result.item.media] == ["image", "video", "image"]


def test_instagram_refuses_a_file_it_cannot_fetch_in_its_words(graph: FakeGraph) -> None:
    graph.unfetchable.add(f"{PUBLIC}/gone.jpg")
    with pytest.raises(Refused, match="Media download has failed"):
        _instagram(graph).publish("Bonjour", (Media("image", f"{PUBLIC}/gone.jpg", ALT),))
    assert graph.requests_to("POST", f"/v21.0/{graph.ig_user_id}/media_publish") == []


def test_instagram_throttling_gives_the_wait(graph: FakeGraph) -> None:
    graph.script(
        f"/v21.0/{graph.ig_user_id}/media",
        graph_error(
            4,
            "(#4) Application request limit reached",
            headers=buc_usage(graph.ig_user_id, 100, 9, kind="instagram"),
        ),
    )
    with pytest.raises(RateLimited) as caught:
        _instagram(graph).publish("Bonjour", (Media("image", f"{PUBLIC}/a.jpg", ALT),))
    assert caught.value.retry_after == 9 * 60


def test_instagram_publication_whose_answer_is_lost_is_unknown_after_one_request(
    graph: FakeGraph,
) -> None:
    graph.script(
        f"/v21.0/{graph.ig_user_id}/media_publish",
        graph_error(2, "An unexpected error has occurred.", status=500),
        times=5,
    )
    with pytest.raises(OutcomeUnknown):
        _instagram(graph).publish("Bonjour", (Media("image", f"{PUBLIC}/a.jpg", ALT),))
    assert len(graph.requests_to("POST", f"/v21.0/{graph.ig_user_id}/media_publish")) == 1


def test_instagram_first_comment_and_metrics_of_its_own_post(graph: FakeGraph) -> None:
    connector = _instagram(graph)
    media_id = connector.publish("Bonjour", (Media("image", f"{PUBLIC}/a.jpg", ALT),)).platform_id
    assert media_id is not None
    comment = connector.comment_on_own_post(media_id, "Plus d'infos en bio")
    assert graph.ig_comments[comment.platform_id]["_media"] == media_id
    graph.media[media_id]["like_count"] = 5
    graph.media[media_id]["comments_count"] = 1
    graph.media[media_id]["_views"] = 240
    assert connector.post_metrics(media_id) == {"likes": 5, "comments": 1, "views": 240}
