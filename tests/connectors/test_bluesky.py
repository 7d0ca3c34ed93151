"""The Bluesky connector against a loopback XRPC server and a loopback Jetstream."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    ConnectorError,
    ItemKind,
    ItemRef,
    MalformedPayload,
    NormalizedItem,
    OutcomeUnknown,
    RateLimited,
    Refused,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.bluesky import (
    DEFAULT_LABELER_DID,
    BlueskyConnector,
    forget_sessions,
    keyword_pattern,
    parse_keywords,
    record_key_for,
)
from beffroi.connectors.http import RATE_GATE
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.bluesky_server import (
    APP_PASSWORD,
    CHAT_PROXY,
    CHAT_REFUSALS,
    OWN_DID,
    OWN_HANDLE,
    POST,
    TID,
    Account,
    FakeBluesky,
    FakeJetstream,
    error,
)
from tests.fakes.loopback import Reply

# --- fixtures --------------------------------------------------------------------------------


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


def connect(
    server: FakeBluesky, jetstream: FakeJetstream | None = None, **settings: Any
) -> BlueskyConnector:
    base: dict[str, Any] = {"handle": OWN_HANDLE, "base_url": server.base_url}
    if jetstream is not None:
        base["jetstream_url"] = jetstream.url
    options = {
        key: settings.pop(key)
        for key in ("jetstream_max_events", "jetstream_max_seconds", "page_size")
        if key in settings
    }
    return BlueskyConnector(
        {**base, **settings},
        {"app_password": APP_PASSWORD},
        timeout=5,
        retries=0,
        jetstream_idle_seconds=0.5,
        **{"jetstream_max_seconds": 5.0, **options},
    )


def ref(item: NormalizedItem) -> ItemRef:
    """What the application stores and hands back to actions."""
    return ItemRef(
        platform_id=item.platform_id,
        kind=item.kind,
        author_id=item.author.platform_id,
        thread_id=item.thread_id,
        parent_id=item.parent_id,
        raw=json.loads(json.dumps(dict(item.raw))),
    )


class World:
    """An account with posts, replies, mentions, a search hit and keyword posts."""

    def __init__(self, server: FakeBluesky, jetstream: FakeJetstream) -> None:
        self.server, self.jetstream = server, jetstream
        self.alice = server.add_account("alice.bsky.social", "Alice")
        self.bob = server.add_account("bob.example.org", "Bob")
        self.carol = server.add_account("carol.bsky.social")
        self.own_posts: list[str] = []
        self.comments: list[str] = []
        self.deep: list[str] = []
        self.mentions: list[str] = []
        self.search_hits: list[str] = []
        self.keyword_posts: list[str] = []
        self.n = 0

    def add(self, count: int) -> set[str]:
        added: set[str] = set()
        for _ in range(count):
            self.n += 1
            step = self.n % 6
            if step == 1 or not self.own_posts:
                text = f"Annonce {self.n} https://ville.example/a"
                start = len(text.encode()) - len("https://ville.example/a")
                link = {
                    "index": {"byteStart": start, "byteEnd": len(text.encode())},
                    "features": [
                        {"$type": "app.bsky.richtext.facet#link", "uri": "https://ville.example/a"}
                    ],
                }
                uri = self.server.add_post(text, facets=[link])["uri"]
                self.own_posts.append(uri)
            elif step == 2:
                uri = self.server.add_post(
                    f"Merci {self.n}", author=self.alice, reply_to=self.own_posts[-1]
                )["uri"]
                self.comments.append(uri)
            elif step == 3:
                uri = self.server.add_post(f"@{OWN_HANDLE} une question {self.n}", author=self.bob)[
                    "uri"
                ]
                self.mentions.append(uri)
            elif step == 4:
                view = self.server.add_post(
                    f"Le Marché {self.n} est ouvert", author=self.carol, langs=["fr"]
                )
                self.jetstream.add_post(view)
                uri = view["uri"]
                self.keyword_posts.append(uri)
            elif step == 5:
                uri = self.server.add_post(f"La piscine {self.n} rouvre", author=self.bob)["uri"]
                self.search_hits.append(uri)
            else:
                parent = self.comments[-1] if self.comments else self.own_posts[-1]
                uri = self.server.add_post(f"Réponse {self.n}", author=self.bob, reply_to=parent)[
                    "uri"
                ]
                self.deep.append(uri)
            added.add(uri)
        return added


SETTINGS = {"search": "piscine", "keywords": "marché, travaux"}


# --- the contract ----------------------------------------------------------------------------


class BlueskyHarness(Harness):
    secrets = (APP_PASSWORD,)
    rereads = True  # replies under recent posts are read again on every sync
    max_requests = 30

    def __init__(self, server: FakeBluesky, jetstream: FakeJetstream) -> None:
        self.server, self.jetstream = server, jetstream
        self.world = World(server, jetstream)

    def connect(self) -> BlueskyConnector:
        return connect(self.server, self.jetstream, **SETTINGS)

    def seed(self, count: int) -> set[str]:
        return self.world.add(count)

    def interrupt_after(self, requests: int) -> None:
        self.server.fail_after(requests, status=None)

    def heal(self) -> None:
        self.server.heal()
        if self.server.login_error is not None or self.server.password != APP_PASSWORD:
            self.server.login_error = None
            self.server.password = APP_PASSWORD
            forget_sessions()

    def errors(self) -> Mapping[str, DocumentedError]:
        server = self.server
        feed = "/xrpc/app.bsky.feed.getAuthorFeed"

        def revoked() -> None:
            forget_sessions()
            server.revoke()

        def two_factor() -> None:
            forget_sessions()
            server.login_error = error(
                401, "AuthFactorTokenRequired", "A sign in code has been sent to your email"
            )

        def rate_limited() -> None:
            reset = str(int(time.time()) + 120)
            server.script(
                feed,
                error(
                    429,
                    "RateLimitExceeded",
                    "Rate Limit Exceeded",
                    **{
                        "ratelimit-limit": "3000",
                        "ratelimit-remaining": "0",
                        "ratelimit-reset": reset,
                        "ratelimit-policy": "3000;w=300",
                    },
                ),
            )

        return {
            "app password revoked": DocumentedError(revoked, AuthError),
            "e-mail code required": DocumentedError(two_factor, AuthError),
            "invalid token": DocumentedError(
                lambda: server.script(feed, error(400, "InvalidToken", "Bad token")), AuthError
            ),
            "rate limited": DocumentedError(rate_limited, RateLimited),
            "server error": DocumentedError(
                lambda: server.script(feed, error(500, "InternalServerError", "Oops")),
                TransientError,
            ),
            "bad gateway": DocumentedError(
                lambda: server.script(feed, error(502, "UpstreamFailure", "Upstream")),
                TransientError,
            ),
            "not json": DocumentedError(lambda: server.malformed(feed), MalformedPayload),
            "truncated": DocumentedError(lambda: server.truncate(feed), TransientError),
            "wrong shape": DocumentedError(
                lambda: server.script(feed, Reply(200, {"feed": "nope"})), MalformedPayload
            ),
        }

    def _items(self, connector: BlueskyConnector) -> dict[str, NormalizedItem]:
        items, _ = drain(connector, {})
        return {item.platform_id: item for item in items}

    def act(self, connector: Any, action: Action) -> None:
        server, world = self.server, self.world
        if not world.comments:
            world.add(2)
        comment_uri = world.comments[0]
        root_uri = server.posts[comment_uri]["record"]["reply"]["root"]["uri"]
        root_rkey = root_uri.rsplit("/", 1)[1]
        before = len(server.requests)

        def sent(nsid: str) -> Any:
            calls = [r for r in server.requests[before:] if r.path == f"/xrpc/{nsid}"]
            assert calls, f"{action}: no {nsid} request"
            assert calls[-1].method == "POST"
            return calls[-1].body

        if action == Action.DELETE:
            doomed = server.add_post("À supprimer")["uri"]
            item = self._items(connector)[doomed]
            before = len(server.requests)
            result = connector.delete(ref(item))
            assert sent("com.atproto.repo.deleteRecord") == {
                "repo": OWN_DID,
                "collection": "app.bsky.feed.post",
                "rkey": doomed.rsplit("/", 1)[1],
            }
            assert result.ok and doomed not in server.posts
            return
        if action == Action.PUBLISH:
            result = connector.publish("Bonjour https://ville.example")
            record = sent("com.atproto.repo.createRecord")["record"]
            assert record["$type"] == "app.bsky.feed.post"
            assert record["text"] == "Bonjour https://ville.example"
            link = record["facets"][0]
            assert link["features"][0] == {
                "$type": "app.bsky.richtext.facet#link",
                "uri": "https://ville.example",
            }
            assert link["index"]["byteStart"] == 8 and link["index"]["byteEnd"] == 29
            assert result.platform_id in server.posts
            return
        item = self._items(connector)[comment_uri]
        before = len(server.requests)
        view = server.posts[comment_uri]
        strong = {"uri": comment_uri, "cid": view["cid"]}
        if action == Action.REPLY:
            result = connector.reply(ref(item), "Merci à vous")
            body = sent("com.atproto.repo.createRecord")
            assert body["repo"] == OWN_DID and body["collection"] == "app.bsky.feed.post"
            assert body["record"]["reply"] == {
                "root": {"uri": root_uri, "cid": server.posts[root_uri]["cid"]},
                "parent": strong,
            }
            assert body["record"]["text"] == "Merci à vous"
            assert result.platform_id in server.posts
            rkey = str(result.platform_id).rsplit("/", 1)[1]
            assert result.url == f"https://bsky.app/profile/{OWN_HANDLE}/post/{rkey}"
        elif action == Action.PRIVATE_REPLY:
            author = view["author"]["did"]
            result = connector.private_reply(ref(item), "Je vous réponds en privé")
            chat = [r for r in server.requests[before:] if "/xrpc/chat.bsky." in r.path]
            assert [r.path for r in chat] == [
                "/xrpc/chat.bsky.convo.getConvoForMembers",
                "/xrpc/chat.bsky.convo.sendMessage",
            ]
            assert {r.header("atproto-proxy") for r in chat} == {CHAT_PROXY}
            assert chat[0].method == "GET" and chat[0].query == {"members": [author]}
            convo = next(iter(server.convos.values()))
            assert convo["members"] == sorted([OWN_DID, author])
            assert sent("chat.bsky.convo.sendMessage") == {
                "convoId": convo["id"],
                "message": {"text": "Je vous réponds en privé"},
            }
            assert result.platform_id == server.messages[-1]["id"]
            assert result.url == f"https://bsky.app/messages/{convo['id']}"
        elif action == Action.REPORT:
            result = connector.report(ref(item), "Propos insultants")
            body = sent("com.atproto.moderation.createReport")
            request = next(r for r in reversed(server.requests) if r.path.endswith("createReport"))
            assert request.header("atproto-proxy") == f"{DEFAULT_LABELER_DID}#atproto_labeler"
            assert body == {
                "reasonType": "com.atproto.moderation.defs#reasonOther",
                "reason": "Propos insultants",
                "subject": {"$type": "com.atproto.repo.strongRef", **strong},
            }
            assert result.platform_id == str(server.reports[-1]["id"])
        elif action in (Action.HIDE, Action.UNHIDE):
            if action == Action.UNHIDE and comment_uri not in self._hidden(root_rkey):
                connector.hide(ref(item))
                before = len(server.requests)
            result = getattr(connector, str(action))(ref(item))
            gets = [r for r in server.requests[before:] if r.path.endswith("getRecord")]
            assert gets and gets[0].method == "GET"
            assert gets[0].query == {
                "repo": [OWN_DID],
                "collection": ["app.bsky.feed.threadgate"],
                "rkey": [root_rkey],
            }
            body = sent("com.atproto.repo.putRecord")
            assert body["repo"] == OWN_DID and body["rkey"] == root_rkey
            assert body["collection"] == "app.bsky.feed.threadgate"
            assert body["record"]["post"] == root_uri
            assert body["record"]["$type"] == "app.bsky.feed.threadgate"
            hidden = body["record"]["hiddenReplies"]
            assert (comment_uri in hidden) == (action == Action.HIDE)
            assert result.ok
        else:  # pragma: no cover
            raise AssertionError(action)

    def _hidden(self, rkey: str) -> list[str]:
        stored = self.server.records.get((OWN_DID, "app.bsky.feed.threadgate", rkey))
        return list(stored["value"].get("hiddenReplies", [])) if stored else []

    def unsupported_ref(self) -> ItemRef:
        return ItemRef(platform_id=f"at://{OWN_DID}/app.bsky.feed.post/3labc")


class TestBlueskyContract(ConnectorContract):
    @pytest.fixture
    def harness(self, server: FakeBluesky, jetstream: FakeJetstream) -> BlueskyHarness:
        return BlueskyHarness(server, jetstream)


# --- options ---------------------------------------------------------------------------------


def test_declares_platform_options_and_actions() -> None:
    assert BlueskyConnector.platform == "bluesky"
    assert BlueskyConnector.options["app_password"].secret
    assert BlueskyConnector.options["handle"].required
    assert not BlueskyConnector.options["base_url"].required
    assert BlueskyConnector.setup_doc == "connectors/bluesky.md"
    assert Action.EDIT not in BlueskyConnector.actions
    assert "edited" in BlueskyConnector.not_supported["edit"]


def test_registry_finds_the_connector() -> None:
    from beffroi.connectors.registry import connector_class

    assert connector_class("bluesky") is BlueskyConnector


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, "handle"),
        ({"handle": "a.b", "base_url": "http://bsky.example"}, "https"),
        ({"handle": "a.b", "jetstream_url": "ws://jetstream.example"}, "wss"),
        ({"handle": "a.b", "labeler_did": "ozone.example"}, "DID"),
    ],
)
def test_invalid_options_raise_configuration_error(settings: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        BlueskyConnector(settings, {"app_password": "x"})


def test_keywords_match_whole_words_case_insensitively() -> None:
    assert parse_keywords("Marché, travaux;\n place  du marché ,marché") == (
        "Marché",
        "travaux",
        "place du marché",
    )
    pattern = keyword_pattern(parse_keywords("marché, place du marché"))
    assert pattern is not None
    assert pattern.search("Le MARCHÉ rouvre")
    assert pattern.search("sur la place  du marché.")
    assert not pattern.search("les supermarchés")


# --- fetch -----------------------------------------------------------------------------------


def test_full_sync_maps_every_kind(server: FakeBluesky, jetstream: FakeJetstream) -> None:
    world = World(server, jetstream)
    world.add(12)
    server.add_like(world.own_posts[0])
    items, cursor = drain(connect(server, jetstream, **SETTINGS), {})
    by_id = {item.platform_id: item for item in items}
    assert len(by_id) == len(items)
    for uri in world.own_posts:
        assert by_id[uri].kind == ItemKind.POST
    for uri in world.comments:
        assert by_id[uri].kind == ItemKind.COMMENT
    for uri in world.deep:
        assert by_id[uri].kind == ItemKind.REPLY
    for uri in world.mentions:
        assert by_id[uri].kind == ItemKind.MENTION
    for uri in world.search_hits + world.keyword_posts:
        assert by_id[uri].kind == ItemKind.POST
    assert not [i for i in items if "like" in i.platform_id]

    comment = by_id[world.comments[0]]
    rkey = comment.platform_id.rsplit("/", 1)[1]
    assert comment.url == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"
    assert comment.author.handle == "alice.bsky.social"
    assert comment.author.display_name == "Alice"
    assert comment.author.platform_id == world.alice.did
    assert comment.thread_id == world.own_posts[0] == comment.parent_id
    assert comment.raw["cid"] == server.posts[comment.platform_id]["cid"]
    assert comment.raw["record"]["reply"]["root"]["uri"] == world.own_posts[0]
    assert comment.language == "fr"
    assert comment.metrics["likes"] == 2
    deep = by_id[world.deep[0]]
    assert deep.thread_id == world.own_posts[0] and deep.parent_id == world.comments[0]
    assert by_id[world.own_posts[0]].urls == ("https://ville.example/a",)
    assert set(cursor) >= {
        "did",
        "posts_since",
        "notifications_since",
        "search_since",
        "search_query",
        "jetstream_time_us",
    }


def test_notifications_ask_for_mentions_replies_and_quotes(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    World(server, jetstream).add(4)
    drain(connect(server), {})
    listing = server.requests_to("GET", "/xrpc/app.bsky.notification.listNotifications")
    assert listing[0].query["reasons"] == ["mention", "reply", "quote"]
    hydration = server.requests_to("GET", "/xrpc/app.bsky.feed.getPosts")
    assert hydration and len(hydration[0].query["uris"]) <= 25


def test_incremental_sync_walks_back_only_to_the_cursor(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(30)
    first, cursor = drain(connect(server, jetstream, page_size=5, **SETTINGS), {})
    assert {*world.own_posts, *world.mentions} <= {i.platform_id for i in first}
    new = world.add(6)
    before = len(server.requests)
    again, _ = drain(connect(server, jetstream, page_size=5, **SETTINGS), cursor)
    assert new <= {i.platform_id for i in again}
    feed_pages = [r for r in server.requests[before:] if r.path.endswith("getAuthorFeed")]
    assert len(feed_pages) <= 3  # the new posts and the replies window, not all history


def test_session_is_reused_across_connectors_and_syncs(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    World(server, jetstream).add(3)
    drain(connect(server), {})
    drain(connect(server), {})
    connect(server).publish("Bonjour")
    assert server.sessions_created == 1


def test_expired_session_logs_in_again_once(server: FakeBluesky, jetstream: FakeJetstream) -> None:
    World(server, jetstream).add(3)
    drain(connect(server), {})
    server.expire_sessions()
    items, _ = drain(connect(server), {})
    assert items
    assert server.sessions_created == 2


def test_session_near_expiry_is_refreshed_not_recreated(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    from datetime import timedelta

    World(server, jetstream).add(3)
    server.access_lifetime = timedelta(minutes=5)  # the SDK refreshes 15 minutes early
    drain(connect(server), {})
    assert server.sessions_created == 1
    assert server.sessions_refreshed >= 1


def test_revoked_password_says_to_reconnect_without_the_secret(
    server: FakeBluesky,
) -> None:
    server.revoke()
    with pytest.raises(AuthError) as raised:
        drain(connect(server), {})
    message = str(raised.value)
    assert "reconnect the account in Beffroi" in message
    assert APP_PASSWORD not in message


def test_rate_limit_closes_the_account_until_the_reset(server: FakeBluesky) -> None:
    reset = int(time.time()) + 200
    server.script(
        "/xrpc/app.bsky.feed.getAuthorFeed",
        error(429, "RateLimitExceeded", "Rate Limit Exceeded", **{"ratelimit-reset": str(reset)}),
    )
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert raised.value.retry_after is not None and 150 < raised.value.retry_after <= 200
    count = len(server.requests)
    with pytest.raises(RateLimited):
        drain(connect(server), {})
    assert len(server.requests) == count, "asked again during the window"


def test_spent_window_in_headers_closes_the_gate(server: FakeBluesky) -> None:
    server.remaining = 0
    with pytest.raises(RateLimited):
        drain(connect(server), {})
    assert len(server.requests) == 2  # the login, then the gate closed


def test_invalid_request_is_a_connector_error_with_the_message(server: FakeBluesky) -> None:
    server.script("/xrpc/app.bsky.feed.getAuthorFeed", error(400, "InvalidRequest", "Bad cursor"))
    with pytest.raises(ConnectorError, match="Bad cursor"):
        drain(connect(server), {})


# --- Jetstream -------------------------------------------------------------------------------


def test_jetstream_first_sync_starts_a_little_before_now(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(4)
    started = time.time_ns() // 1000
    items, cursor = drain(connect(server, jetstream, keywords="marché"), {})
    query = jetstream.connections[0]
    assert query["wantedCollections"] == ["app.bsky.feed.post"]
    assert started - 310_000_000 < int(query["cursor"][0]) < started - 290_000_000
    assert set(world.keyword_posts) <= {i.platform_id for i in items}
    assert cursor["jetstream_time_us"] >= started

    drain(connect(server, jetstream, keywords="marché"), cursor)
    assert int(jetstream.connections[1]["cursor"][0]) == cursor["jetstream_time_us"]


def test_jetstream_keeps_only_keyword_posts_of_others(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    other = server.add_account("dave.bsky.social")
    kept = server.add_post("Travaux rue Haute", author=other)
    jetstream.add_post(kept)
    ignored = server.add_post("Les supermarchés ferment", author=other)
    jetstream.add_post(ignored)
    own = server.add_post("Nos travaux avancent")
    jetstream.add_post(own)
    jetstream.add_other("identity")
    items, _ = drain(connect(server, jetstream, keywords="travaux, marché"), {})
    ids = [i.platform_id for i in items]
    assert kept["uri"] in ids and ignored["uri"] not in ids
    assert ids.count(own["uri"]) == 1  # from the own-posts stage only
    (found,) = [i for i in items if i.platform_id == kept["uri"]]
    assert found.author.handle == "dave.bsky.social"  # hydrated with getPosts


def test_jetstream_post_gone_from_the_appview_is_kept_from_the_event(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    other = server.add_account("erin.bsky.social")
    view = server.add_post("Le marché de Noël", author=other)
    event = jetstream.add_post(view)
    del server.posts[view["uri"]]
    items, _ = drain(connect(server, jetstream, keywords="marché"), {})
    (item,) = items
    assert item.platform_id == view["uri"] and item.raw["cid"] == view["cid"]
    assert item.raw["commit"] == event["commit"]
    assert item.author.platform_id == other.did
    assert item.url.startswith(f"https://bsky.app/profile/{other.did}/post/")


def test_jetstream_budget_stops_and_resumes(server: FakeBluesky, jetstream: FakeJetstream) -> None:
    other = server.add_account("fred.bsky.social")
    base = time.time_ns() // 1000 - 60_000_000
    uris = []
    for n in range(6):
        view = server.add_post(f"marché {n}", author=other)
        jetstream.add_post(view, time_us=base + n)
        uris.append(view["uri"])
    first, cursor = drain(connect(server, jetstream, keywords="marché", jetstream_max_events=3), {})
    assert [i.platform_id for i in first] == uris[:3]
    assert cursor["jetstream_time_us"] == base + 2
    again, _ = drain(connect(server, jetstream, keywords="marché"), cursor)
    assert set(uris[3:]) <= {i.platform_id for i in again}


def test_jetstream_event_that_is_not_json(server: FakeBluesky, jetstream: FakeJetstream) -> None:
    jetstream.raw_messages.append("{not json")
    with pytest.raises(MalformedPayload):
        drain(connect(server, jetstream, keywords="marché"), {})


def test_jetstream_unreachable_is_transient(server: FakeBluesky) -> None:
    connector = connect(server, keywords="marché", jetstream_url="ws://127.0.0.1:9/subscribe")
    with pytest.raises(TransientError):
        drain(connector, {})


# --- actions ---------------------------------------------------------------------------------


def _sync(server: FakeBluesky) -> dict[str, NormalizedItem]:
    items, _ = drain(connect(server), {})
    return {item.platform_id: item for item in items}


def test_reply_to_a_deep_reply_keeps_the_thread_root(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(6)
    deep = _sync(server)[world.deep[0]]
    connect(server).reply(ref(deep), "Bien noté")
    body = server.requests_to("POST", "/xrpc/com.atproto.repo.createRecord")[-1].body
    root = world.own_posts[0]
    assert body["record"]["reply"]["root"] == {"uri": root, "cid": server.posts[root]["cid"]}
    assert body["record"]["reply"]["parent"]["uri"] == world.deep[0]


def test_record_keys_from_reply_keys_are_tids() -> None:
    keys = {record_key_for(f"reply-{n}") for n in range(500)}
    assert len(keys) == 500 and all(TID.match(key) for key in keys)
    assert record_key_for("reply-7") == record_key_for("reply-7")
    # Decoded as a TID: a moment in 2023 (in the past), and a clock identifier.
    value = 0
    for char in record_key_for("reply-7"):
        value = value * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
    moment = datetime.fromtimestamp((value >> 10) / 1_000_000, UTC)
    assert value >> 63 == 0 and datetime(2023, 1, 1, tzinfo=UTC) <= moment < datetime(
        2024, 3, 1, tzinfo=UTC
    )


def _creates(server: FakeBluesky) -> list[Any]:
    return server.requests_to("POST", "/xrpc/com.atproto.repo.createRecord")


def _own_replies(server: FakeBluesky, parent: str) -> list[str]:
    return [
        uri
        for uri, view in server.posts.items()
        if view["author"]["did"] == OWN_DID
        and view["record"].get("reply", {}).get("parent", {}).get("uri") == parent
    ]


def test_the_same_reply_sent_again_makes_one_post(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(6)
    item = _sync(server)[world.deep[0]]
    connector = connect(server)
    first = connector.reply(ref(item), "Bien noté", idempotency_key="reply-41")
    rkey = record_key_for("reply-41")
    assert _creates(server)[-1].body["rkey"] == rkey
    assert first.platform_id == f"at://{OWN_DID}/{POST}/{rkey}"
    again = connector.reply(ref(item), "Bien noté", idempotency_key="reply-41")
    assert [c.body["rkey"] for c in _creates(server)] == [rkey, rkey]
    assert again.ok and again.platform_id == first.platform_id and again.url == first.url
    assert again.raw["cid"] == server.posts[first.platform_id]["cid"]
    assert _own_replies(server, world.deep[0]) == [first.platform_id]
    # Another reply (another key) is another post.
    other = connector.reply(ref(item), "Autre réponse", idempotency_key="reply-42")
    assert other.platform_id != first.platform_id
    assert _own_replies(server, world.deep[0]) == [first.platform_id, other.platform_id]
    # Without a key the PDS chooses: nothing is sent as rkey.
    connector.reply(ref(item), "Sans clé")
    assert "rkey" not in _creates(server)[-1].body


def test_a_pds_that_answers_500_for_a_taken_key_still_makes_one_post(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(6)
    item = _sync(server)[world.deep[0]]
    connector = connect(server)
    # The create failed without an answer that says whether it was done: it was not.
    server.script("/xrpc/com.atproto.repo.createRecord", Reply(502, {"error": "BadGateway"}))
    with pytest.raises(OutcomeUnknown):
        connector.reply(ref(item), "Bien noté", idempotency_key="reply-43")
    assert _own_replies(server, world.deep[0]) == []
    first = connector.reply(ref(item), "Bien noté", idempotency_key="reply-43")
    # The reference PDS before RecordAlreadyExists: a 500 for the taken key, read back.
    server.record_exists_as_500 = True
    again = connector.reply(ref(item), "Bien noté", idempotency_key="reply-43")
    assert again.platform_id == first.platform_id
    assert _own_replies(server, world.deep[0]) == [first.platform_id]
    reads = server.requests_to("GET", "/xrpc/com.atproto.repo.getRecord")
    assert [r.query["rkey"] for r in reads] == [[record_key_for("reply-43")]] * 2


def test_hide_keeps_the_threadgate_rules_and_other_hidden_replies(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(6)
    root = world.own_posts[0]
    rkey = root.rsplit("/", 1)[1]
    allow = [{"$type": "app.bsky.feed.threadgate#followingRule"}]
    server.records[(OWN_DID, "app.bsky.feed.threadgate", rkey)] = {
        "cid": "bafyreigate",
        "value": {
            "$type": "app.bsky.feed.threadgate",
            "post": root,
            "allow": allow,
            "createdAt": "2026-01-01T00:00:00.000Z",
            "hiddenReplies": ["at://did:plc:x/app.bsky.feed.post/old"],
        },
    }
    connect(server).hide(ref(_sync(server)[world.deep[0]]))
    body = server.requests_to("POST", "/xrpc/com.atproto.repo.putRecord")[-1].body
    assert body["swapRecord"] == "bafyreigate"
    assert body["record"]["allow"] == allow
    assert body["record"]["createdAt"] == "2026-01-01T00:00:00.000Z"
    assert body["record"]["hiddenReplies"] == [
        "at://did:plc:x/app.bsky.feed.post/old",
        world.deep[0],
    ]


def test_hide_without_threadgate_creates_one_that_still_allows_everyone(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    world = World(server, jetstream)
    world.add(2)
    connect(server).hide(ref(_sync(server)[world.comments[0]]))
    body = server.requests_to("POST", "/xrpc/com.atproto.repo.putRecord")[-1].body
    assert "allow" not in body["record"]  # an empty allow list would close the thread
    assert "swapRecord" not in body


def test_hide_in_someone_elses_thread_is_refused(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    alice = server.add_account("alice.bsky.social")
    theirs = server.add_post("Mon post", author=alice)
    ours = server.add_post("Notre réponse", reply_to=theirs["uri"])
    item = _sync(server)[ours["uri"]]
    with pytest.raises(UnsupportedAction, match="threads it started"):
        connect(server).hide(ref(item))
    with pytest.raises(UnsupportedAction, match="not a reply"):
        connect(server).hide(ItemRef(platform_id=theirs["uri"], raw=theirs))


def test_delete_refuses_posts_of_others(server: FakeBluesky) -> None:
    alice: Account = server.add_account("alice.bsky.social")
    theirs = server.add_post("Mon post", author=alice)
    with pytest.raises(UnsupportedAction, match="own posts"):
        connect(server).delete(ItemRef(platform_id=theirs["uri"], raw=theirs))
    assert not server.requests_to("POST", "/xrpc/com.atproto.repo.deleteRecord")


def test_report_without_raw_reads_the_post_for_its_cid(server: FakeBluesky) -> None:
    alice = server.add_account("alice.bsky.social")
    theirs = server.add_post("Insulte", author=alice)
    connect(server).report(ItemRef(platform_id=theirs["uri"]), "x" * 2500)
    body = server.requests_to("POST", "/xrpc/com.atproto.moderation.createReport")[-1].body
    assert body["subject"]["cid"] == theirs["cid"]
    assert len(body["reason"]) == 2000


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        ("MessagesDisabled", "does not accept direct messages"),
        ("NotFollowedBySender", "only from accounts they follow"),
    ],
)
def test_a_private_reply_to_someone_who_does_not_accept_it_is_declined(
    server: FakeBluesky, refusal: str, words: str
) -> None:
    alice = server.add_account("alice.bsky.social")
    theirs = server.add_post("Une question", author=alice)
    server.chat_refusals[alice.did] = refusal
    with pytest.raises(Refused, match=words) as raised:
        connect(server).private_reply(ItemRef(platform_id=theirs["uri"], raw=theirs), "Bonjour")
    assert f"Bluesky said: {CHAT_REFUSALS[refusal]}" in str(raised.value)
    assert not server.messages


def test_a_private_reply_needs_an_app_password_open_to_messages(server: FakeBluesky) -> None:
    server.dm_allowed = False
    alice = server.add_account("alice.bsky.social")
    theirs = server.add_post("Une question", author=alice)
    connector = connect(server)
    with pytest.raises(AuthError, match="direct messages") as raised:
        connector.private_reply(ItemRef(platform_id=theirs["uri"], raw=theirs), "Bonjour")
    assert APP_PASSWORD not in str(raised.value) and not server.messages
    # The session itself is still good: the account's other actions go on.
    assert connector.reply(ItemRef(platform_id=theirs["uri"], raw=theirs), "Bonjour").ok
    with pytest.raises(UnsupportedAction, match="account's own"):
        ours = server.add_post("Notre annonce")
        connector.private_reply(ItemRef(platform_id=ours["uri"], raw=ours), "Bonjour")


def test_publish_with_media_is_refused(server: FakeBluesky) -> None:
    from beffroi.connectors.base import Media

    with pytest.raises(UnsupportedAction):
        connect(server).publish("x", (Media("video", "https://x.example/a.mp4"),))


def test_the_veilles_watched_hashtags_are_listened_to_on_jetstream(
    server: FakeBluesky, jetstream: FakeJetstream
) -> None:
    other = server.add_account("eve.bsky.social")
    tagged = server.add_post("Coupure d'eau ce matin #EauSaintAubin", author=other)
    jetstream.add_post(tagged)
    plain = server.add_post("L'eau de Saint-Aubin est bonne", author=other)
    jetstream.add_post(plain)
    connector = connect(server, jetstream, keywords="travaux", watch_hashtags="eausaintaubin")
    assert connector.keywords == ("travaux", "#eausaintaubin")
    items, _ = drain(connector, {})
    ids = [i.platform_id for i in items]
    assert tagged["uri"] in ids and plain["uri"] not in ids
