"""The YouTube connector against a loopback YouTube Data API v3."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    AuthMethod,
    ConfigurationError,
    ConnectorError,
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
from beffroi.connectors.youtube import (
    YouTubeConnector,
    seconds_to_pacific_midnight,
)
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.loopback import Reply
from tests.fakes.youtube_server import (
    API,
    UPLOAD,
    FakeYouTube,
    VideoLibrary,
    auth_error,
    backend_error,
    comments_disabled,
    forbidden,
    insufficient_permissions,
    quota_exceeded,
    rate_limit_exceeded,
)


@pytest.fixture
def server() -> Iterator[FakeYouTube]:
    with FakeYouTube() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def connect(server: FakeYouTube, page_size: int | None = 3, **settings: str) -> YouTubeConnector:
    return YouTubeConnector(
        {"base_url": server.base_url, "channel_id": server.channel_id, **settings},
        {"access_token": server.token},
        page_size=page_size,
        backoff=0,
    )


def by_id(items: list[NormalizedItem]) -> dict[str, NormalizedItem]:
    return {item.platform_id: item for item in items}


# --- the contract ----------------------------------------------------------------------------


class YouTubeHarness(Harness):
    secrets = (FakeYouTube.token,)
    max_requests = 40

    def __init__(self, server: FakeYouTube) -> None:
        self.server = server
        self.step = 0
        self.video = server.add_video()
        self.thread = server.add_comment(self.video)

    def connect(self) -> YouTubeConnector:
        return connect(self.server)

    def seed(self, count: int) -> set[str]:
        ids = set()
        for _ in range(count):
            self.step += 1
            if self.step % 3 == 0:
                self.video = self.server.add_video(f"Vidéo {self.step}")
                ids.add(self.video)
            elif self.step % 3 == 1:
                self.thread = self.server.add_comment(self.video, f"Commentaire {self.step}")
                ids.add(self.thread)
            else:
                ids.add(self.server.add_reply(self.thread, f"Réponse {self.step}"))
        return ids

    def interrupt_after(self, requests: int) -> None:
        # Alternately a 503 and a dropped connection.
        self.server.fail_after(requests, status=503 if requests % 2 else None)

    def heal(self) -> None:
        self.server.heal()

    def errors(self) -> Mapping[str, DocumentedError]:
        threads = f"{API}/commentThreads"

        def on(prefix: str, reply: Reply, times: int = 1) -> Callable[[], None]:
            return lambda: self.server.script(prefix, reply, times=times)

        return {
            "revoked token": DocumentedError(on(f"{API}/channels", auth_error()), AuthError),
            "quota exceeded": DocumentedError(on(threads, quota_exceeded()), RateLimited),
            "rate limit (403)": DocumentedError(on(threads, rate_limit_exceeded()), RateLimited),
            "user rate limit (429)": DocumentedError(
                on(threads, rate_limit_exceeded(429, "userRateLimitExceeded")), RateLimited
            ),
            "missing scope": DocumentedError(
                on(f"{API}/channels", insufficient_permissions()), AuthError
            ),
            "forbidden": DocumentedError(on(threads, forbidden()), AuthError),
            "backend error": DocumentedError(on(threads, backend_error(), times=3), TransientError),
            "channel not found": DocumentedError(
                on(
                    threads,
                    Reply(
                        404,
                        {
                            "error": {
                                "code": 404,
                                "message": "The channel could not be found.",
                                "errors": [
                                    {
                                        "message": "The channel could not be found.",
                                        "domain": "youtube.commentThread",
                                        "reason": "channelNotFound",
                                    }
                                ],
                                "status": "NOT_FOUND",
                            }
                        },
                    ),
                ),
                NotFound,
            ),
            "not JSON": DocumentedError(
                lambda: self.server.malformed(f"{API}/playlistItems"), MalformedPayload
            ),
        }

    def act(self, connector: Any, action: Action) -> None:
        server = self.server
        if action == Action.PUBLISH:
            content = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
            with VideoLibrary() as library:
                result = connector.publish(
                    "Vœux du maire\nÀ toutes et à tous.",
                    (Media("video", library.add("voeux.mp4", content)),),
                )
            (start,) = server.requests_to("POST", f"{UPLOAD}/videos")
            assert start.query == {
                "part": ["snippet,status"],
                "alt": ["json"],
                "uploadType": ["resumable"],
            }
            assert start.body["snippet"]["title"] == "Vœux du maire"
            assert start.body["status"] == {
                "privacyStatus": "public",
                "selfDeclaredMadeForKids": False,
            }
            (chunk,) = server.requests_to("PUT", f"{UPLOAD}/videos")
            assert chunk.header("Content-Range") == f"bytes 0-{len(content) - 1}/{len(content)}"
            assert result.platform_id is not None
            assert server.uploaded[result.platform_id] == content
            return
        if action == Action.EDIT:
            result = connector.edit(
                ItemRef(platform_id=self.video, kind=ItemKind.POST),
                "Nouveau titre\nLigne 1\nLigne 2",
            )
            (sent,) = server.requests_to("PUT", f"{API}/videos")
            assert sent.query == {"part": ["snippet"], "alt": ["json"]}
            assert sent.body == {
                "id": self.video,
                "snippet": {
                    "title": "Nouveau titre",
                    "description": "Ligne 1\nLigne 2",
                    "categoryId": "25",
                    "tags": ["mairie", "conseil"],
                },
            }
            assert result.platform_id == self.video
            return
        comment = server.add_comment(self.video, f"À modérer ({action})")
        before = len(server.requests)
        if action == Action.REPLY:
            result = connector.reply(ItemRef(platform_id=comment), "Merci pour votre message")
            (sent,) = server.requests[before:]
            assert (sent.method, sent.path) == ("POST", f"{API}/comments")
            assert sent.query == {"part": ["snippet"], "alt": ["json"]}
            assert sent.body == {
                "snippet": {"parentId": comment, "textOriginal": "Merci pour votre message"}
            }
            assert result.platform_id and result.platform_id.startswith(f"{comment}.")
            return
        calls = {
            Action.HIDE: (connector.hide, "heldForReview"),
            Action.UNHIDE: (connector.unhide, "published"),
            Action.DELETE: (connector.delete, "rejected"),
        }
        call, status = calls[action]
        if action == Action.UNHIDE:
            server.moderation[comment] = "heldForReview"
        result = call(ItemRef(platform_id=comment))
        (sent,) = server.requests[before:]
        assert (sent.method, sent.path) == ("POST", f"{API}/comments/setModerationStatus")
        assert sent.query == {"id": [comment], "moderationStatus": [status]}
        assert sent.raw_body == b""
        assert server.moderation[comment] == status
        assert result.ok


class TestYouTubeContract(ConnectorContract):
    @pytest.fixture
    def harness(self, server: FakeYouTube) -> YouTubeHarness:
        return YouTubeHarness(server)


# --- sync ------------------------------------------------------------------------------------


def test_full_sync_maps_videos_comments_and_replies(server: FakeYouTube) -> None:
    video = server.add_video("Conseil du 3 mai", "Ordre du jour\net débats")
    comment = server.add_comment(video, "Quand est le <prochain> conseil ?\nMerci", "citoyen")
    reply = server.add_reply(comment, "Le 12 juin", "voisine")

    items, cursor = drain(connect(server), {})
    found = by_id(items)

    post = found[video]
    assert post.kind == ItemKind.POST
    assert post.text == "Conseil du 3 mai\n\nOrdre du jour\net débats"
    assert post.url == f"https://www.youtube.com/watch?v={video}"
    assert post.author.platform_id == server.channel_id
    assert post.media and post.media[0].kind == "image"
    assert post.raw["kind"] == "youtube#playlistItem"

    top = found[comment]
    assert top.kind == ItemKind.COMMENT
    assert top.text == "Quand est le <prochain> conseil ?\nMerci"  # textOriginal, not HTML
    assert (top.thread_id, top.parent_id) == (video, video)
    assert top.url == f"https://www.youtube.com/watch?v={video}&lc={comment}"
    assert top.author.display_name == "@citoyen"
    assert top.author.handle == "@citoyen"
    assert top.metrics == {"likes": 2}
    assert top.created_at.tzinfo is not None
    assert top.raw["kind"] == "youtube#comment"

    answer = found[reply]
    assert answer.kind == ItemKind.REPLY
    assert (answer.thread_id, answer.parent_id) == (video, comment)
    assert answer.url == f"https://www.youtube.com/watch?v={video}&lc={reply}"

    assert cursor["channel_id"] == server.channel_id
    assert "walk" not in cursor["comments"] and "walk" not in cursor["videos"]
    (threads,) = server.requests_to("GET", f"{API}/commentThreads")
    assert threads.query == {
        "part": ["snippet,replies"],
        "allThreadsRelatedToChannelId": [server.channel_id],
        "order": ["time"],
        "maxResults": ["3"],
        "alt": ["json"],
    }
    (channels,) = server.requests_to("GET", f"{API}/channels")
    assert channels.query["id"] == [server.channel_id]
    assert channels.query["part"] == ["contentDetails,snippet"]


def test_default_page_sizes_and_mine_without_channel_setting(server: FakeYouTube) -> None:
    server.add_comment(server.add_video())
    connector = YouTubeConnector(
        {"base_url": server.base_url}, {"access_token": server.token}, backoff=0
    )
    drain(connector, {})
    (channels,) = server.requests_to("GET", f"{API}/channels")
    assert channels.query["mine"] == ["true"] and "id" not in channels.query
    assert server.requests_to("GET", f"{API}/commentThreads")[0].query["maxResults"] == ["100"]
    assert server.requests_to("GET", f"{API}/playlistItems")[0].query["maxResults"] == ["50"]
    assert connector.quota_used == 3  # channels, playlistItems, commentThreads: 1 unit each


def test_replies_beyond_the_five_embedded_are_listed(server: FakeYouTube) -> None:
    video = server.add_video()
    comment = server.add_comment(video)
    replies = {server.add_reply(comment, f"réponse {i}") for i in range(8)}
    items, _ = drain(connect(server, page_size=None), {})
    assert replies <= {i.platform_id for i in items}
    (listed,) = server.requests_to("GET", f"{API}/comments")
    assert listed.query == {
        "part": ["snippet"],
        "parentId": [comment],
        "maxResults": ["100"],
        "textFormat": ["plainText"],
        "alt": ["json"],
    }


def test_comments_disabled_on_a_video_is_skipped(server: FakeYouTube) -> None:
    video = server.add_video()
    comment = server.add_comment(video)
    replies = [server.add_reply(comment) for _ in range(7)]
    server.disabled_videos.add(video)
    other = server.add_comment(server.add_video())
    items, _ = drain(connect(server), {})
    ids = {i.platform_id for i in items}
    assert {comment, other, *replies[:5]} <= ids  # the embedded replies are kept


def test_comments_disabled_on_the_channel_is_not_a_failure(server: FakeYouTube) -> None:
    video = server.add_video()
    server.add_comment(video)
    server.script(f"{API}/commentThreads", comments_disabled())
    items, _ = drain(connect(server), {})
    assert [i.platform_id for i in items] == [video]


def test_new_replies_to_recent_threads_are_found_later(server: FakeYouTube) -> None:
    video = server.add_video()
    old = server.add_comment(video, "ancien")
    server.add_comment(video, "plus récent")
    _, cursor = drain(connect(server), {})
    late = server.add_reply(old, "réponse tardive")
    again, _ = drain(connect(server), cursor)
    assert [i.platform_id for i in again] == [late]


def test_resume_from_a_stored_walk_loses_nothing(server: FakeYouTube) -> None:
    video = server.add_video()
    comments = [server.add_comment(video, f"c{i}") for i in range(7)]
    connector = connect(server)
    stored: set[str] = set()
    cursor: dict[str, Any] = {}
    batches = connector.fetch({})
    for batch in batches:
        stored.update(i.platform_id for i in batch.items)
        cursor = json.loads(json.dumps(dict(batch.cursor)))
        if cursor.get("comments", {}).get("walk"):
            break  # interrupted after the first page of comments
    assert cursor["comments"]["walk"]["token"]
    newer = server.add_comment(video, "arrivé pendant la coupure")
    items, final = drain(connect(server), cursor)
    ids = [i.platform_id for i in items]
    assert len(ids) == len(set(ids))
    assert set(comments) | {newer} <= stored | set(ids)
    # Page tokens may shift when comments arrive: a resumed walk can meet stored items again
    # (dropped downstream), never skip one.
    assert "walk" not in final["comments"]


def test_refused_page_token_walks_again_from_the_top(server: FakeYouTube) -> None:
    video = server.add_video()
    comments = {server.add_comment(video, f"c{i}") for i in range(4)}
    _, cursor = drain(connect(server), {})
    cursor["comments"]["walk"] = {
        "token": "expired-token",
        "top": cursor["comments"]["since"],
        "top_ids": [],
        "stop": "2000-01-01T00:00:00Z",
    }
    later = server.add_comment(video, "nouveau")
    items, final = drain(connect(server), cursor)
    assert later in {i.platform_id for i in items}
    assert not comments & {i.platform_id for i in items}
    assert "walk" not in final["comments"]


def test_another_channel_starts_the_cursor_afresh(server: FakeYouTube) -> None:
    video = server.add_video()
    items, _ = drain(
        connect(server),
        {"channel_id": "UCsomeoneElse", "videos": {"since": "2099-01-01T00:00:00Z"}},
    )
    assert video in {i.platform_id for i in items}


# --- listening -------------------------------------------------------------------------------


def test_search_listening(server: FakeYouTube) -> None:
    server.add_video()
    found = server.add_search_result("Reportage sur Beffroi")
    server.add_search_result("Beffroi vu par la mairie", channel_id=server.channel_id)
    server.add_search_result("Sans rapport")
    connector = connect(server, query="beffroi")
    items, cursor = drain(connector, {})
    posts = [i for i in items if i.platform_id.startswith("srch")]
    assert [p.platform_id for p in posts] == [found]
    assert posts[0].kind == ItemKind.POST
    assert posts[0].url == f"https://www.youtube.com/watch?v={found}"
    assert posts[0].author.platform_id == "UCotherChannel0000000001"
    (search,) = server.requests_to("GET", f"{API}/search")
    assert search.query["q"] == ["beffroi"]
    assert search.query["type"] == ["video"] and search.query["order"] == ["date"]
    assert search.query["part"] == ["snippet"]
    assert connector.quota_used >= 100

    later = server.add_search_result("Beffroi, la suite")
    again, _ = drain(connect(server, query="beffroi"), cursor)
    assert [i.platform_id for i in again] == [later]
    last = server.requests_to("GET", f"{API}/search")[-1]
    assert last.query["publishedAfter"] == [cursor["search"]["since"]]


def test_search_pages_are_capped_per_sync_and_resumed(server: FakeYouTube) -> None:
    results = {server.add_search_result(f"Beffroi {i}") for i in range(8)}
    items, cursor = drain(connect(server, page_size=2, query="beffroi"), {})
    assert len(server.requests_to("GET", f"{API}/search")) == 2
    assert cursor["search"]["walk"]["token"]
    seen = {i.platform_id for i in items}
    assert len(seen) == 4
    items, cursor = drain(connect(server, page_size=2, query="beffroi"), cursor)
    seen.update(i.platform_id for i in items)
    assert results == seen  # the rest arrives with the next sync
    assert "walk" not in cursor["search"]
    assert len(server.requests_to("GET", f"{API}/search")) == 4


# --- errors ----------------------------------------------------------------------------------


def test_quota_exceeded_waits_until_pacific_midnight_for_every_token(server: FakeYouTube) -> None:
    server.add_video()
    server.script(f"{API}/playlistItems", quota_exceeded())
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert raised.value.retry_after is not None
    assert abs(raised.value.retry_after - seconds_to_pacific_midnight()) < 60
    assert "midnight Pacific" in str(raised.value)
    asked = len(server.requests)
    other = YouTubeConnector(
        {"base_url": server.base_url}, {"access_token": "another-token"}, backoff=0
    )
    with pytest.raises(RateLimited):
        drain(other, {})
    assert len(server.requests) == asked  # the project's quota is closed: nothing asked


def test_pacific_midnight() -> None:
    summer = datetime(2024, 7, 1, 6, 0, tzinfo=UTC)  # 23:00 PDT
    winter = datetime(2024, 1, 15, 7, 30, tzinfo=UTC)  # 23:30 PST
    assert seconds_to_pacific_midnight(summer) == 3600
    assert seconds_to_pacific_midnight(winter) == 1800


def test_short_rate_limit_uses_retry_after(server: FakeYouTube) -> None:
    reply = rate_limit_exceeded(429, "userRateLimitExceeded")
    reply.headers["Retry-After"] = "30"
    server.script(f"{API}/channels", reply)
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert raised.value.retry_after == 30


def test_revoked_token_says_reconnect(server: FakeYouTube) -> None:
    server.token_valid = False
    with pytest.raises(AuthError, match="Reconnect the account"):
        drain(connect(server), {})


def test_missing_scope_is_named(server: FakeYouTube) -> None:
    server.script(f"{API}/comments/setModerationStatus", insufficient_permissions())
    comment = server.add_comment(server.add_video())
    with pytest.raises(AuthError, match=r"youtube\.force-ssl"):
        connect(server).hide(ItemRef(platform_id=comment))


def test_transient_errors_are_retried_in_the_call(server: FakeYouTube) -> None:
    video = server.add_video()
    server.script(f"{API}/playlistItems", backend_error(500), times=2)
    items, _ = drain(connect(server), {})
    assert video in {i.platform_id for i in items}


def test_truncated_answer_is_transient(server: FakeYouTube) -> None:
    server.add_video()
    server.truncate(f"{API}/playlistItems")
    with pytest.raises(TransientError):
        drain(connect(server), {})


# --- actions ---------------------------------------------------------------------------------


def test_reply_to_a_reply_answers_its_top_level_comment(server: FakeYouTube) -> None:
    comment = server.add_comment(server.add_video())
    reply = server.add_reply(comment)
    connect(server).reply(
        ItemRef(platform_id=reply, kind=ItemKind.REPLY, parent_id=comment), "Bonne question"
    )
    (sent,) = server.requests_to("POST", f"{API}/comments")
    assert sent.body == {"snippet": {"parentId": comment, "textOriginal": "Bonne question"}}


def test_reply_to_a_video_starts_a_thread(server: FakeYouTube) -> None:
    video = server.add_video()
    result = connect(server).reply(ItemRef(platform_id=video, kind=ItemKind.POST), "Bienvenue")
    (sent,) = server.requests_to("POST", f"{API}/commentThreads")
    assert sent.query == {"part": ["snippet"], "alt": ["json"]}
    assert sent.body == {
        "snippet": {
            "channelId": server.channel_id,
            "videoId": video,
            "topLevelComment": {"snippet": {"textOriginal": "Bienvenue"}},
        }
    }
    assert result.platform_id in server.threads


def test_reply_on_a_video_with_comments_disabled(server: FakeYouTube) -> None:
    video = server.add_video()
    comment = server.add_comment(video)
    server.disabled_videos.add(video)
    with pytest.raises(ConnectorError, match="disabled"):
        connect(server).reply(ItemRef(platform_id=comment), "x")


def test_reject_and_ban_author(server: FakeYouTube) -> None:
    comment = server.add_comment(server.add_video())
    connector = connect(server)
    connector.set_moderation_status(ItemRef(platform_id=comment), "rejected", ban_author=True)
    (sent,) = server.requests_to("POST", f"{API}/comments/setModerationStatus")
    assert sent.query == {
        "id": [comment],
        "moderationStatus": ["rejected"],
        "banAuthor": ["true"],
    }
    assert comment in server.banned
    with pytest.raises(ConfigurationError):
        connector.set_moderation_status(ItemRef(platform_id=comment), "published", ban_author=True)
    # YouTube does not publish a rejected comment again.
    with pytest.raises(ConnectorError):
        connector.unhide(ItemRef(platform_id=comment))


def test_moderating_an_unknown_comment_is_not_found(server: FakeYouTube) -> None:
    with pytest.raises(NotFound):
        connect(server).delete(ItemRef(platform_id="Ugzunknown"))


def test_videos_are_not_moderated_and_comments_not_edited(server: FakeYouTube) -> None:
    video = server.add_video()
    connector = connect(server)
    with pytest.raises(UnsupportedAction):
        connector.hide(ItemRef(platform_id=video, kind=ItemKind.POST))
    with pytest.raises(UnsupportedAction):
        connector.edit(ItemRef(platform_id="Ugz1", kind=ItemKind.COMMENT), "x")
    assert not server.requests


def test_edit_reads_the_category_then_updates(server: FakeYouTube) -> None:
    video = server.add_video()
    connect(server).edit(ItemRef(platform_id=video, kind=ItemKind.POST), "Titre seul")
    (read,) = server.requests_to("GET", f"{API}/videos")
    assert read.query == {"part": ["snippet"], "id": [video], "alt": ["json"]}
    (sent,) = server.requests_to("PUT", f"{API}/videos")
    assert sent.body["snippet"] == {
        "title": "Titre seul",
        "description": "",
        "categoryId": "25",
        "tags": ["mairie", "conseil"],
    }
    assert server.videos[video]["snippet"]["title"] == "Titre seul"
    with pytest.raises(ConfigurationError):
        connect(server).edit(ItemRef(platform_id=video, kind=ItemKind.POST), "x" * 101)


def test_report_is_not_supported(server: FakeYouTube) -> None:
    # Publishing is (tests/connectors/test_youtube_publish.py); reporting a comment is not.
    connector = connect(server)
    assert connector.supports(Action.PUBLISH)
    with pytest.raises(UnsupportedAction, match="Not supported by the platform"):
        connector.report(ItemRef(platform_id="1"), "spam")


# --- OAuth and settings ----------------------------------------------------------------------


def test_oauth_spec() -> None:
    assert YouTubeConnector.auth == AuthMethod.OAUTH2
    spec = YouTubeConnector.oauth
    assert spec is not None and spec.pkce
    assert spec.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert spec.token_url == "https://oauth2.googleapis.com/token"
    assert spec.scopes == ("https://www.googleapis.com/auth/youtube.force-ssl",)
    assert spec.authorize_params == {"access_type": "offline", "prompt": "consent"}
    assert YouTubeConnector.setup_doc == "connectors/youtube.md"


def test_accounts_from_token(server: FakeYouTube) -> None:
    token = {
        "access_token": server.token,
        "refresh_token": "1//refresh",
        "expires_at": 1_900_000_000,
        "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
        "token_type": "Bearer",
    }
    (account,) = YouTubeConnector.accounts_from_token(token, {"base_url": server.base_url})
    assert account.name == server.channel_title
    assert account.settings == {
        "base_url": server.base_url,
        "channel_id": server.channel_id,
        "title": server.channel_title,
    }
    assert account.credentials == {
        "access_token": server.token,
        "refresh_token": "1//refresh",
        "expires_at": 1_900_000_000,
        "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
    }
    (sent,) = server.requests_to("GET", f"{API}/channels")
    assert sent.query == {"part": ["snippet"], "mine": ["true"], "alt": ["json"]}


def test_accounts_from_a_revoked_token(server: FakeYouTube) -> None:
    server.token_valid = False
    with pytest.raises(AuthError):
        YouTubeConnector.accounts_from_token(
            {"access_token": server.token}, {"base_url": server.base_url}
        )


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        YouTubeConnector({"base_url": "http://example.org"}, {"access_token": "t"})
    with pytest.raises(ConfigurationError):
        YouTubeConnector({}, {})
    with pytest.raises(ConfigurationError, match="history_days"):
        YouTubeConnector({"history_days": "zero"}, {"access_token": "t"})
