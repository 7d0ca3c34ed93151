"""YouTube publishes videos: a resumable upload of the library's file with its title,
description and status, resumed where YouTube says it stands; the video read back (the
channel's own videos, its statistics) and its first comment.

The platform is the loopback fake of tests/fakes/youtube_server.py, which implements the
resumable protocol as Google's guide documents it; the library's signed addresses are served
by :class:`~tests.fakes.youtube_server.VideoLibrary`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from beffroi.connectors import reconcile
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
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.values import parse_time
from beffroi.connectors.youtube import (
    PROJECT_KEY,
    UPLOAD_QUOTA_KEY,
    UPLOAD_RESUMES,
    YouTubeConnector,
)
from tests.fakes.youtube_server import (
    API,
    UPLOAD,
    UPLOAD_GRANULE,
    FakeYouTube,
    VideoLibrary,
    backend_error,
    google_error,
    quota_exceeded,
    upload_forbidden,
)

#: Two granules per request: small enough for several chunks, as the protocol sizes them.
CHUNK = 2 * UPLOAD_GRANULE
#: A file of three chunks and a bit, every byte telling its place.
VIDEO = bytes(range(256)) * (3 * CHUNK // 256) + b"fin de la video"
TEXT = "Conseil municipal du 12 juin\nOrdre du jour : budget, écoles.\nEn direct de la mairie."


@pytest.fixture
def server() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


@pytest.fixture
def library() -> Iterator[VideoLibrary]:
    with VideoLibrary() as files:
        yield files


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def connect(server: FakeYouTube, page_size: int | None = None, **settings: str) -> YouTubeConnector:
    return YouTubeConnector(
        {"base_url": server.base_url, "channel_id": server.channel_id, **settings},
        {"access_token": server.token},
        page_size=page_size,
        backoff=0,
        upload_chunk=CHUNK,
    )


def a_video(library: VideoLibrary, content: bytes = VIDEO, mime: str = "video/mp4") -> Media:
    return Media("video", library.add("conseil.mp4", content, mime), "Le conseil municipal")


def chunks(server: FakeYouTube) -> list[str]:
    """The Content-Range of every PUT of an upload, in order."""
    return [r.header("Content-Range") or "" for r in server.requests_to("PUT", UPLOAD)]


# --- the upload ------------------------------------------------------------------------------


def test_a_video_uploaded_in_chunks_arrives_whole_with_its_snippet_and_status(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    result = connect(server).publish(TEXT, (a_video(library),), idempotency_key="k1")

    (start,) = server.requests_to("POST", UPLOAD)
    assert start.path == f"{UPLOAD}/videos"
    assert start.query == {
        "part": ["snippet,status"],
        "alt": ["json"],
        "uploadType": ["resumable"],
    }
    assert start.header("X-Upload-Content-Length") == str(len(VIDEO))
    assert start.header("X-Upload-Content-Type") == "video/mp4"
    assert start.body == {
        "snippet": {
            "title": "Conseil municipal du 12 juin",
            "description": "Ordre du jour : budget, écoles.\nEn direct de la mairie.",
            "categoryId": "25",
        },
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False},
    }
    size = len(VIDEO)
    assert chunks(server) == [
        f"bytes 0-{CHUNK - 1}/{size}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{size}",
        f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/{size}",
        f"bytes {3 * CHUNK}-{size - 1}/{size}",
    ]
    assert server.requests_to("POST", API) == []  # nothing else was created

    assert result.ok
    video_id = result.platform_id
    assert video_id is not None and list(server.uploaded) == [video_id]
    assert server.uploaded[video_id] == VIDEO
    assert result.url == f"https://www.youtube.com/watch?v={video_id}"
    assert result.detail == "Video uploaded to YouTube (public)."
    assert result.raw["status"]["privacyStatus"] == "public"
    item = result.item
    assert item is not None
    assert (item.platform_id, item.kind, item.thread_id) == (video_id, ItemKind.POST, video_id)
    assert item.text == (
        "Conseil municipal du 12 juin\n\nOrdre du jour : budget, écoles.\nEn direct de la mairie."
    )
    assert item.url == result.url
    assert item.author.platform_id == server.channel_id
    assert item.author.display_name == server.channel_title


def test_the_settings_choose_the_category_privacy_and_language(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    connector = connect(server, category_id="29", privacy_status="unlisted", default_language="fr")
    result = connector.publish("Journée des associations", (a_video(library),))
    (start,) = server.requests_to("POST", UPLOAD)
    assert start.body == {
        "snippet": {
            "title": "Journée des associations",
            "description": "",
            "categoryId": "29",
            "defaultLanguage": "fr",
        },
        "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False},
    }
    assert result.detail == "Video uploaded to YouTube (unlisted)."
    assert result.item is not None and result.item.language == "fr"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("category_id", "news"),
        ("privacy_status", "secret"),
        ("default_language", "français"),
    ],
)
def test_publishing_settings_are_checked(server: FakeYouTube, setting: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=setting):
        connect(server, **{setting: value})


def test_an_unaudited_project_gets_its_video_locked_private_and_the_answer_says_so(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    server.unverified_project = True
    result = connect(server).publish(TEXT, (a_video(library),))
    assert result.ok and result.platform_id in server.uploaded
    assert "private although public was asked" in result.detail
    assert "not audited" in result.detail


def test_a_chunk_answered_503_is_resumed_from_what_youtube_holds(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    server.failing_chunks = 1  # the first chunk: YouTube keeps its first granule, then fails
    result = connect(server).publish(TEXT, (a_video(library),))
    size = len(VIDEO)
    assert chunks(server)[:3] == [
        f"bytes 0-{CHUNK - 1}/{size}",
        f"bytes */{size}",  # where does the upload stand?
        f"bytes {UPLOAD_GRANULE}-{UPLOAD_GRANULE + CHUNK - 1}/{size}",
    ]
    query = server.requests_to("PUT", UPLOAD)[1]
    assert query.raw_body == b""
    assert result.platform_id is not None and server.uploaded[result.platform_id] == VIDEO
    assert len(server.uploaded) == 1


def test_a_failed_session_start_starts_another(server: FakeYouTube, library: VideoLibrary) -> None:
    server.script(f"{UPLOAD}/videos", backend_error(), method="POST")
    result = connect(server).publish(TEXT, (a_video(library),))
    assert len(server.requests_to("POST", UPLOAD)) == 2
    assert result.platform_id is not None and server.uploaded[result.platform_id] == VIDEO


def test_a_lost_final_answer_gives_the_video_not_a_second_one(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    # The last chunk arrives, YouTube makes the video, its answer is lost (and lost again
    # when httplib2 sends the request once more): the status query answers with the video.
    server.lost_completion_answers = 2
    result = connect(server).publish(TEXT, (a_video(library),))
    assert f"bytes */{len(VIDEO)}" in chunks(server)
    assert list(server.uploaded) == [result.platform_id]
    assert server.uploaded[result.platform_id] == VIDEO


def test_a_chunk_sent_again_on_a_closed_connection_carries_its_bytes_again(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    # httplib2 sends a request once more when its connection closes unanswered: the chunk
    # must go out whole again (a stream slice, read once, would go out empty).
    server.lost_completion_answers = 1
    result = connect(server).publish(TEXT, (a_video(library),))
    *_, sent, again = server.requests_to("PUT", UPLOAD)
    assert sent.header("Content-Range") == again.header("Content-Range")
    assert again.raw_body == sent.raw_body == VIDEO[3 * CHUNK :]
    assert f"bytes */{len(VIDEO)}" not in chunks(server)
    assert list(server.uploaded) == [result.platform_id]


def test_a_video_whose_answer_never_comes_is_unknown_and_found_among_the_channels_videos(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    older = server.add_video("Vidéo précédente", "Rien à voir")
    since = server.tick()
    server.lost_completion_answers = 100
    connector = connect(server)
    with pytest.raises(OutcomeUnknown, match="not uploaded again"):
        connector.publish(TEXT, (a_video(library),))
    assert len(server.uploaded) == 1  # it was published, once
    # Each resume asks where the upload stands (httplib2 asks twice on a connection closed
    # unanswered), then gives up.
    assert chunks(server).count(f"bytes */{len(VIDEO)}") == 2 * UPLOAD_RESUMES

    posts = connector.own_posts_since(since)
    found = reconcile.find_published(TEXT, posts, since)
    assert found is not None and found.platform_id in server.uploaded
    assert older not in [post.platform_id for post in posts]


def test_failures_before_the_last_chunk_publish_nothing(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    server.failing_chunks = 100
    with pytest.raises(TransientError) as caught:
        connect(server).publish(TEXT, (a_video(library),))
    assert not isinstance(caught.value, OutcomeUnknown)  # YouTube said 503: nothing was made
    assert server.uploaded == {}


# --- refusals --------------------------------------------------------------------------------


def test_a_spent_upload_quota_waits_until_pacific_midnight_and_stops_only_uploads(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    server.script(f"{UPLOAD}/videos", quota_exceeded(), method="POST")
    connector = connect(server)
    with pytest.raises(RateLimited, match="upload quota") as caught:
        connector.publish(TEXT, (a_video(library),))
    assert caught.value.retry_after is not None and caught.value.retry_after > 60
    assert RATE_GATE.wait_left(UPLOAD_QUOTA_KEY) > 60
    assert RATE_GATE.wait_left(PROJECT_KEY) == 0
    before = len(server.requests)
    with pytest.raises(RateLimited):
        connector.publish(TEXT, (a_video(library),))
    assert len(server.requests) == before  # not asked again before midnight
    assert connector.post_metrics(server.add_video()) == {"likes": 0, "comments": 0, "views": 0}


def test_a_revoked_token_is_an_auth_error(server: FakeYouTube, library: VideoLibrary) -> None:
    server.token_valid = False
    with pytest.raises(AuthError, match="Reconnect"):
        connect(server).publish(TEXT, (a_video(library),))
    assert server.uploaded == {}


def test_the_channels_daily_upload_limit_is_a_refusal(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    server.uploads_left = 0
    with pytest.raises(Refused, match="uploadLimitExceeded"):
        connect(server).publish(TEXT, (a_video(library),))
    assert server.requests_to("PUT", UPLOAD) == []


def test_a_forbidden_upload_is_a_refusal_in_youtubes_words(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    server.script(f"{UPLOAD}/videos", upload_forbidden(), method="POST")
    with pytest.raises(Refused, match="forbidden"):
        connect(server).publish(TEXT, (a_video(library),))


def test_a_category_youtube_does_not_know_is_a_refusal(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    with pytest.raises(Refused, match="invalidCategoryId"):
        connect(server, category_id="99").publish(TEXT, (a_video(library),))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "needs a title"),
        (" \n \n", "needs a title"),
        ("é" * 101, "at most 100 characters"),
        ("1 < 2\nComparaison", "no < or >"),
        ("Titre\n" + "é" * 2501, "5,002 bytes"),
        ("Titre\nAvant -> après", "no < or >"),
    ],
)
def test_title_and_description_rules_are_checked_before_anything_is_read(
    server: FakeYouTube, library: VideoLibrary, text: str, words: str
) -> None:
    with pytest.raises(Refused, match=words):
        connect(server).publish(text, (a_video(library),))
    assert server.requests == [] and library.requests == []


def test_a_title_of_100_characters_is_taken(server: FakeYouTube, library: VideoLibrary) -> None:
    result = connect(server).publish("é" * 100, (a_video(library),))
    assert server.videos[str(result.platform_id)]["snippet"]["title"] == "é" * 100


@pytest.mark.parametrize(
    "media",
    [
        (),
        (Media("image", "https://example.org/affiche.png", "Affiche"),),
        (
            Media("video", "https://example.org/a.mp4"),
            Media("video", "https://example.org/b.mp4"),
        ),
    ],
)
def test_anything_but_one_video_is_refused_before_any_call(
    server: FakeYouTube, media: tuple[Media, ...]
) -> None:
    with pytest.raises(UnsupportedAction, match="exactly one video"):
        connect(server).publish(TEXT, media)
    assert server.requests == []


def test_a_file_that_is_not_a_video_is_refused(server: FakeYouTube, library: VideoLibrary) -> None:
    with pytest.raises(Refused, match="not a video file"):
        connect(server).publish(TEXT, (a_video(library, b"\x89PNG\r\n", "image/png"),))
    assert server.requests == []


def test_a_library_address_that_is_gone_is_refused(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    with pytest.raises(Refused, match="HTTP 404"):
        connect(server).publish(TEXT, (Media("video", f"{library.base_url}/media/gone.mp4"),))
    assert server.requests_to("POST", UPLOAD) == []


def test_youtube_declares_publishing_and_listing_its_own_videos() -> None:
    assert Action.PUBLISH in YouTubeConnector.actions
    assert str(Action.PUBLISH) not in YouTubeConnector.not_supported
    assert YouTubeConnector.lists_own_posts
    assert not YouTubeConnector.idempotent_publish


# --- read back -------------------------------------------------------------------------------


def test_own_posts_since_reads_the_uploads_newest_first_and_stops_at_since(
    server: FakeYouTube,
) -> None:
    server.add_video("Avant", "trop ancien")
    first = server.add_video("Premier", "Ligne 1\nLigne 2")
    since = server.videos[first]["snippet"]["publishedAt"]
    second = server.add_video("Second", "")
    moment = parse_time(since)
    assert moment is not None
    posts = connect(server, page_size=1).own_posts_since(moment)
    assert [post.platform_id for post in posts] == [second, first]
    assert [post.text for post in posts] == ["Second", "Premier\nLigne 1\nLigne 2"]
    assert posts[1].created_at == moment
    assert posts[0].url == f"https://www.youtube.com/watch?v={second}"
    assert posts[0].item is not None and posts[0].item.kind == ItemKind.POST
    pages = server.requests_to("GET", f"{API}/playlistItems")
    assert len(pages) == 3  # one video a page: the third page reaches the older one
    assert all(page.query["playlistId"] == [server.uploads_id] for page in pages)


def test_own_posts_since_keeps_at_most_the_limit(
    server: FakeYouTube, monkeypatch: pytest.MonkeyPatch
) -> None:
    from beffroi.connectors import youtube

    monkeypatch.setattr(youtube, "OWN_POSTS_LIMIT", 2)
    start = server.clock
    for n in range(4):
        server.add_video(f"Vidéo {n}", "")
    posts = connect(server).own_posts_since(start - timedelta(days=1))
    assert [post.text for post in posts] == ["Vidéo 3", "Vidéo 2"]


def test_metrics_are_the_videos_statistics(server: FakeYouTube) -> None:
    video = server.add_video()
    server.statistics[video] = {
        "viewCount": "1234",
        "likeCount": "56",
        "favoriteCount": "0",
        "commentCount": "7",
    }
    assert connect(server).post_metrics(video) == {"likes": 56, "comments": 7, "views": 1234}
    (read,) = server.requests_to("GET", f"{API}/videos")
    assert read.query == {"part": ["statistics"], "id": [video], "alt": ["json"]}
    # The owner hid the likes: YouTube leaves likeCount out, and so does Beffroi.
    server.statistics[video] = {"viewCount": "10", "favoriteCount": "0", "commentCount": "0"}
    assert connect(server).post_metrics(video) == {"comments": 0, "views": 10}
    with pytest.raises(NotFound):
        connect(server).post_metrics("vidunknown")


def test_the_first_comment_is_the_channels_comment_under_its_video(server: FakeYouTube) -> None:
    video = server.add_video()
    result = connect(server).comment_on_own_post(video, "Le compte rendu : https://ville.fr/cr")
    (sent,) = server.requests_to("POST", f"{API}/commentThreads")
    assert sent.body == {
        "snippet": {
            "channelId": server.channel_id,
            "videoId": video,
            "topLevelComment": {
                "snippet": {"textOriginal": "Le compte rendu : https://ville.fr/cr"}
            },
        }
    }
    assert result.platform_id in server.threads
    assert result.url == f"https://www.youtube.com/watch?v={video}&lc={result.platform_id}"


def test_a_first_comment_youtube_refuses_is_a_refusal(server: FakeYouTube) -> None:
    video = server.add_video()
    server.script(
        f"{API}/commentThreads",
        google_error(400, "processingFailure", "The API server failed to process the request."),
        method="POST",
    )
    with pytest.raises(Refused, match="processingFailure"):
        connect(server).comment_on_own_post(video, "Premier commentaire")


def test_a_published_video_is_then_listed_with_the_text_that_was_sent(
    server: FakeYouTube, library: VideoLibrary
) -> None:
    since = server.clock
    connector = connect(server)
    result = connector.publish(TEXT, (a_video(library),))
    (post,) = connector.own_posts_since(since)
    assert post.platform_id == result.platform_id
    assert reconcile.comparable(post.text) == reconcile.comparable(TEXT)
