"""The TikTok connector against a loopback server that answers as TikTok documents."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    Connector,
    ItemKind,
    MalformedPayload,
    Media,
    NormalizedItem,
    RateLimited,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.tiktok import (
    CLIENT_TOKENS,
    VIDEO_FIELDS,
    TikTokConnector,
)
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.loopback import Reply
from tests.fakes.tiktok_server import FakeTikTok, days_ago, yyyymmdd


@pytest.fixture
def server() -> Iterator[FakeTikTok]:
    with FakeTikTok() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def connect(
    server: FakeTikTok, *, research: bool = True, user: bool = True, **settings: str
) -> TikTokConnector:
    credentials: dict[str, str] = {}
    if research:
        credentials |= {"client_key": server.client_key, "client_secret": server.client_secret}
        settings.setdefault("hashtags", "ville")
    if user:
        credentials["access_token"] = server.user_token
    return TikTokConnector(
        {"base_url": server.base_url, "username": server.creator_username, **settings},
        credentials,
        timeout=5,
        retries=0,
        backoff=0.0,
        poll_interval=0.0,
        poll_attempts=4,
    )


class TikTokHarness(Harness):
    rereads = True  # the last day read is read again (TikTok indexes videos with a delay)
    max_requests = 30

    def __init__(self, server: FakeTikTok) -> None:
        self.server = server
        self.secrets = (server.client_secret, server.user_token)
        self.count = 0

    def connect(self) -> Connector:
        return connect(self.server)

    def seed(self, count: int) -> set[str]:
        ids: set[str] = set()
        for _ in range(count):
            self.count += 1
            # Created now: content that appears after a sync is newer than it (an hour ago
            # would be yesterday between midnight and one o'clock UTC, before the cursor's day).
            video = self.server.add_video(
                f"Vidéo {self.count} #ville",
                hashtags=("ville",),
                comments=self.count % 3,
                hours_ago=0.0,
            )
            ids.add(str(video["id"]))
            ids.update(str(c["id"]) for c in self.server.comments[video["id"]])
        return ids

    def interrupt_after(self, requests: int) -> None:
        self.server.fail_after(requests)

    def heal(self) -> None:
        self.server.heal()

    def errors(self) -> Mapping[str, DocumentedError]:
        server = self.server

        def revoked() -> None:
            server.refuse("/v2/research/", 401, "access_token_invalid", "Access token is invalid")

        def bad_secret() -> None:
            revoked()
            server.script(
                "/v2/oauth/token/",
                Reply(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "Client key or secret is incorrect.",
                        "log_id": "x",
                    },
                ),
                times=10,
            )

        return {
            "access_token_invalid": DocumentedError(revoked, AuthError),
            "invalid_client": DocumentedError(bad_secret, AuthError),
            "scope_not_authorized": DocumentedError(
                lambda: server.refuse(
                    "/v2/research/", 401, "scope_not_authorized", "The user did not authorize"
                ),
                AuthError,
            ),
            "rate_limit_exceeded": DocumentedError(
                lambda: server.refuse("/v2/research/", 429, "rate_limit_exceeded", "Slow down"),
                RateLimited,
            ),
            "daily_quota_limit_exceeded": DocumentedError(
                lambda: server.refuse(
                    "/v2/research/", 429, "daily_quota_limit_exceeded", "Daily quota exceeded"
                ),
                RateLimited,
            ),
            "internal_error": DocumentedError(
                lambda: server.refuse("/v2/research/", 500, "internal_error", "Internal error"),
                TransientError,
            ),
            "invalid_params": DocumentedError(
                lambda: server.refuse("/v2/research/", 400, "invalid_params", "Bad hashtag"),
                ConfigurationError,
            ),
            "not_json": DocumentedError(
                lambda: server.malformed("/v2/research/video/query/"), MalformedPayload
            ),
            "truncated": DocumentedError(
                lambda: server.truncate("/v2/research/video/query/"), TransientError
            ),
        }

    def act(self, connector: Connector, action: Action) -> None:
        assert action is Action.PUBLISH
        result = connector.publish("Bonjour", (Media("video", "https://cdn.example/v.mp4"),))
        assert result.ok and result.platform_id
        (init,) = self.server.requests_to("POST", "/v2/post/publish/video/init/")
        assert init.body["source_info"] == {
            "source": "PULL_FROM_URL",
            "video_url": "https://cdn.example/v.mp4",
        }
        assert init.body["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"


class TestTikTokContract(ConnectorContract):
    @pytest.fixture
    def harness(self, server: FakeTikTok) -> TikTokHarness:
        return TikTokHarness(server)


# --- platform-specific -----------------------------------------------------------------------


def by_id(items: list[NormalizedItem]) -> dict[str, NormalizedItem]:
    return {item.platform_id: item for item in items}


def test_query_request_is_the_documented_one(server: FakeTikTok) -> None:
    server.add_video("Marché de Noël #ville", hashtags=("ville",))
    drain(connect(server, keywords="marché, travaux", hashtags="#ville"), {})
    token_request = server.requests_to("POST", "/v2/oauth/token/")[0]
    assert token_request.body["grant_type"] == ["client_credentials"]
    assert token_request.body["client_key"] == [server.client_key]
    queries = server.requests_to("POST", "/v2/research/video/query/")
    assert [q.query["fields"] for q in queries] == [[VIDEO_FIELDS], [VIDEO_FIELDS]]
    keyword, hashtag = (q.body for q in queries)
    assert keyword["query"] == {
        "and": [{"operation": "IN", "field_name": "keyword", "field_values": ["marché", "travaux"]}]
    }
    assert hashtag["query"]["and"][0]["field_name"] == "hashtag_name"
    assert hashtag["query"]["and"][0]["field_values"] == ["ville"]
    assert keyword["start_date"] == yyyymmdd(days_ago(7))
    assert keyword["end_date"] == yyyymmdd(days_ago(0))
    assert keyword["max_count"] == 100
    assert queries[0].authorization.startswith("Bearer clt.")


def test_token_is_kept_until_it_expires(server: FakeTikTok) -> None:
    server.add_video("#ville", hashtags=("ville",))
    drain(connect(server), {})
    drain(connect(server), {})
    assert len(server.requests_to("POST", "/v2/oauth/token/")) == 1


def test_revoked_client_token_is_renewed_once(server: FakeTikTok) -> None:
    video = server.add_video("#ville", hashtags=("ville",))
    drain(connect(server), {})
    server.research_tokens.clear()  # TikTok no longer accepts the cached token
    items, _ = drain(connect(server), {})
    assert str(video["id"]) in {i.platform_id for i in items}
    assert len(server.requests_to("POST", "/v2/oauth/token/")) == 2


def test_videos_and_comments_are_normalized(server: FakeTikTok) -> None:
    video = server.add_video("Fermeture de la piscine #ville", hashtags=("ville",))
    comment = server.add_comment(video, "Dommage !")
    reply = server.add_comment(video, "Elle rouvre lundi", parent=comment)
    items = by_id(drain(connect(server), {})[0])
    post = items[str(video["id"])]
    assert post.kind is ItemKind.POST
    assert post.url == f"https://www.tiktok.com/@habitant.du.coin/video/{video['id']}"
    assert post.author.handle == "habitant.du.coin"
    assert post.metrics == {"likes": 45, "shares": 3, "views": 1200, "replies": 2}
    assert post.created_at.tzinfo is not None
    assert post.raw == video
    first = items[str(comment["id"])]
    assert first.kind is ItemKind.COMMENT
    assert (first.thread_id, first.parent_id) == (str(video["id"]), str(video["id"]))
    assert first.url == post.url
    second = items[str(reply["id"])]
    assert second.kind is ItemKind.REPLY
    assert second.parent_id == str(comment["id"])
    (request,) = [
        r
        for r in server.requests_to("POST", "/v2/research/video/comment/list/")
        if r.body["video_id"] == video["id"]
    ]
    assert request.body == {"video_id": video["id"], "max_count": 100, "cursor": 0}
    assert request.query["fields"] == [
        "id,video_id,text,like_count,reply_count,parent_comment_id,create_time"
    ]


def test_videos_without_comments_cost_no_comment_request(server: FakeTikTok) -> None:
    server.add_video("#ville", hashtags=("ville",), comments=0)
    drain(connect(server), {})
    assert not server.requests_to("POST", "/v2/research/video/comment/list/")


def test_long_history_is_read_in_windows_of_30_days(server: FakeTikTok) -> None:
    old = server.add_video("#ville", hashtags=("ville",), hours_ago=24 * 50)
    items, cursor = drain(connect(server, history_days="70"), {})
    assert str(old["id"]) in {i.platform_id for i in items}
    windows = [
        (q.body["start_date"], q.body["end_date"])
        for q in server.requests_to("POST", "/v2/research/video/query/")
    ]
    assert windows[0][0] == yyyymmdd(days_ago(70))
    assert windows[-1][1] == yyyymmdd(days_ago(0))
    for start, end in windows:
        span = datetime.strptime(end, "%Y%m%d") - datetime.strptime(start, "%Y%m%d")
        assert span <= timedelta(days=29)
    assert cursor["queries"]["hashtag_name"]["done_through"] == yyyymmdd(days_ago(0))


def test_pages_follow_search_id_and_cursor_and_resume_mid_search(server: FakeTikTok) -> None:
    for n in range(150):
        server.add_video(f"#ville {n}", hashtags=("ville",))
    connector = connect(server)
    batches = connector.fetch({})
    first = next(batches)
    assert len(first.items) == 100
    stored = json.loads(json.dumps(first.cursor))
    assert stored["queries"]["hashtag_name"]["window"]["search_id"] == "search-1"
    assert stored["queries"]["hashtag_name"]["window"]["cursor"] == 100
    rest, _ = drain(connect(server), stored)  # a crash after the first page
    assert len(rest) == 50
    resumed = server.requests_to("POST", "/v2/research/video/query/")[-1]
    assert resumed.body["search_id"] == "search-1" and resumed.body["cursor"] == 100


def test_expired_search_id_restarts_the_window(server: FakeTikTok) -> None:
    video = server.add_video("#ville", hashtags=("ville",))
    cursor = {
        "queries": {
            "hashtag_name": {
                "values": _digest(["ville"]),
                "window": {
                    "start": yyyymmdd(days_ago(1)),
                    "end": yyyymmdd(days_ago(0)),
                    "search_id": "expired",
                    "cursor": 100,
                },
            }
        }
    }
    items, _ = drain(connect(server), cursor)
    assert str(video["id"]) in {i.platform_id for i in items}


def _digest(values: list[str]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(sorted(values)).encode()).hexdigest()[:16]


def test_changed_hashtags_restart_their_query(server: FakeTikTok) -> None:
    _, cursor = drain(connect(server, history_days="3"), {})
    server.add_video("#mairie", hashtags=("mairie",), hours_ago=24 * 5)
    items, _ = drain(connect(server, hashtags="mairie", history_days="7"), cursor)
    assert len(items) == 1


def test_daily_quota_closes_the_client_until_utc_midnight(server: FakeTikTok) -> None:
    server.add_video("#ville", hashtags=("ville",))
    server.refuse("/v2/research/", 429, "daily_quota_limit_exceeded", "quota", times=1)
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert raised.value.retry_after == pytest.approx((midnight - now).total_seconds(), abs=5)
    asked = len(server.requests)
    with pytest.raises(RateLimited):  # closed: TikTok is not asked again
        drain(connect(server), {})
    assert len(server.requests) == asked


def test_scope_error_names_the_permission(server: FakeTikTok) -> None:
    server.refuse("/v2/research/", 401, "scope_not_authorized", "not authorized")
    with pytest.raises(AuthError, match=r"research\.data\.basic"):
        drain(connect(server), {})


def test_publish_photos_sends_the_documented_requests(server: FakeTikTok) -> None:
    result = connect(server).publish(
        "Le marché de Noël ouvre samedi\nVenez nombreux !",
        (Media("image", "https://cdn.example/a.jpg"), Media("image", "https://cdn.example/b.jpg")),
    )
    assert result.ok
    assert result.platform_id
    assert result.detail.startswith("Published: https://www.tiktok.com/@ville.exemple/video/")
    assert len(server.requests_to("POST", "/v2/post/publish/creator_info/query/")) == 1
    (init,) = server.requests_to("POST", "/v2/post/publish/content/init/")
    assert init.authorization == f"Bearer {server.user_token}"
    assert init.body == {
        "post_info": {
            "title": "Le marché de Noël ouvre samedi",
            "description": "Le marché de Noël ouvre samedi\nVenez nombreux !",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": False,
            "auto_add_music": True,
        },
        "source_info": {
            "source": "PULL_FROM_URL",
            "photo_images": ["https://cdn.example/a.jpg", "https://cdn.example/b.jpg"],
            "photo_cover_index": 0,
        },
        "post_mode": "DIRECT_POST",
        "media_type": "PHOTO",
    }
    polls = server.requests_to("POST", "/v2/post/publish/status/fetch/")
    assert len(polls) == 2
    assert polls[0].body == {"publish_id": result.raw["publish_id"]}


def test_publish_failure_and_pending_are_reported(server: FakeTikTok) -> None:
    server.publish_fails = "picture_size_check_failed"
    failed = connect(server).publish("x", (Media("image", "https://cdn.example/a.jpg"),))
    assert not failed.ok and "picture_size_check_failed" in failed.detail
    server.publish_fails, server.processing_polls = None, 99
    pending = connect(server).publish("x", (Media("image", "https://cdn.example/a.jpg"),))
    assert pending.ok and pending.platform_id is None and "still processing" in pending.detail


def test_publish_checks_privacy_and_media(server: FakeTikTok) -> None:
    server.privacy_level_options = ["SELF_ONLY"]
    with pytest.raises(ConfigurationError, match="SELF_ONLY"):
        connect(server).publish("x", (Media("video", "https://cdn.example/v.mp4"),))
    assert not server.requests_to("POST", "/v2/post/publish/video/init/")
    private = connect(server, privacy_level="SELF_ONLY")
    assert private.publish("x", (Media("video", "https://cdn.example/v.mp4"),)).ok
    with pytest.raises(UnsupportedAction, match="videos or photos"):
        private.publish("text only")
    with pytest.raises(UnsupportedAction, match="not a mix"):
        private.publish(
            "x", (Media("video", "https://a.example/v.mp4"), Media("image", "https://a/i.jpg"))
        )


def test_publish_with_revoked_user_token_says_reconnect(server: FakeTikTok) -> None:
    connector = TikTokConnector(
        {"base_url": server.base_url}, {"access_token": "act.revoked"}, retries=0
    )
    with pytest.raises(AuthError, match="reconnect the account") as raised:
        connector.publish("x", (Media("video", "https://cdn.example/v.mp4"),))
    assert "act.revoked" not in str(raised.value)


def test_accounts_from_token(server: FakeTikTok) -> None:
    (account,) = TikTokConnector.accounts_from_token(
        {"access_token": server.user_token, "refresh_token": "rft", "open_id": "-000ZZ-open-id"},
        {"base_url": server.base_url},
    )
    assert account.name == "@ville.exemple"
    assert account.settings["open_id"] == "-000ZZ-open-id"
    assert account.settings["username"] == "ville.exemple"
    assert account.credentials == {"access_token": server.user_token, "refresh_token": "rft"}
    (request,) = server.requests_to("GET", "/v2/user/info/")
    assert request.query["fields"] == ["open_id,union_id,display_name,username"]


def test_publish_only_source_syncs_nothing(server: FakeTikTok) -> None:
    items, cursor = drain(connect(server, research=False), {})
    assert items == [] and cursor == {}
    assert not server.requests


@pytest.mark.parametrize(
    ("settings", "credentials", "message"),
    [
        ({}, {}, "client key and secret"),
        ({"hashtags": "ville"}, {"access_token": "t"}, "research project"),
        ({}, {"client_key": "k", "client_secret": "s"}, "what to listen to"),
        ({"hashtags": "ville"}, {"client_key": "k"}, "both the client key"),
        ({"hashtags": "x", "history_days": "0"}, {"client_key": "k", "client_secret": "s"}, "1"),
        ({"privacy_level": "EVERYONE"}, {"access_token": "t"}, "privacy_level"),
    ],
)
def test_options_are_validated(
    settings: dict[str, Any], credentials: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TikTokConnector(settings, credentials)


def test_unsupported_actions_give_the_reason(server: FakeTikTok) -> None:
    from beffroi.connectors.base import ItemRef

    with pytest.raises(UnsupportedAction, match="no comment moderation"):
        connect(server).hide(ItemRef("1"))


@pytest.fixture(autouse=True)
def _fresh_tokens() -> Iterator[None]:
    yield
    CLIENT_TOKENS.clear()
