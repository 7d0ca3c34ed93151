"""The Facebook connector against a loopback Graph API that answers as Meta documents."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    AuthMethod,
    ConfigurationError,
    Connector,
    ConnectorError,
    ItemKind,
    ItemRef,
    MalformedPayload,
    Media,
    NotFound,
    RateLimited,
    Refused,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.facebook import (
    FacebookConnector,
    verify_signature,
    verify_subscription,
)
from beffroi.connectors.graph import (
    GRAPH_VERSION,
    META_OAUTH,
    Watermark,
    replay_batches,
    usage_wait,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.registry import connector_class
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.graph_server import (
    VERSION,
    FakeGraph,
    Reply,
    app_usage,
    buc_usage,
    graph_error,
    graph_time,
)

V = f"/{VERSION}"


@pytest.fixture
def server() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def connect(server: FakeGraph, token: str | None = None, **settings: Any) -> FacebookConnector:
    return FacebookConnector(
        {"page_id": server.page_id, "base_url": server.base_url, **settings},
        {"access_token": token or server.page_token},
        page_size=2,
        timeout=5,
        retries=0,
        backoff=0.0,
    )


# --- the contract -------------------------------------------------------------------------


class FacebookHarness(Harness):
    rereads = True  # comments of recent posts are read again on each sync
    max_requests = 60

    def __init__(self, server: FakeGraph) -> None:
        self.server = server
        self.secrets = (
            server.page_token,
            server.user_token,
            server.long_user_token,
            server.client_secret,
        )
        self.token = server.page_token
        self.posts: list[str] = []
        self.comments: list[str] = []
        self.conversation: str | None = None

    def connect(self) -> Connector:
        return connect(self.server, self.token)

    def seed(self, count: int) -> set[str]:
        ids: set[str] = set()
        for index in range(count):
            kind = index % 4
            if kind == 0 or not self.posts:
                self.posts.append(self.server.add_post(f"Publication {index}"))
                ids.add(self.posts[-1])
            elif kind == 1 or not self.comments:
                self.comments.append(self.server.add_comment(self.posts[-1], f"Avis {index}"))
                ids.add(self.comments[-1])
            elif kind == 2:
                ids.add(self.server.add_comment(self.posts[-1], "Réponse", self.comments[-1]))
            else:
                message = self.server.add_message(self.conversation, f"Question {index}")
                self.conversation = self.conversation_of(message)
                ids.add(message)
        return ids

    def conversation_of(self, message_id: str) -> str:
        return next(c for c, v in self.server.conversations.items() if message_id in v["_messages"])

    def interrupt_after(self, requests: int) -> None:
        self.server.fail_after(requests)

    def heal(self) -> None:
        self.server.heal()
        self.token = self.server.page_token

    def errors(self) -> Mapping[str, DocumentedError]:
        server = self.server

        def scripted(reply: Reply) -> Any:
            return lambda: server.script(f"{V}/", reply, times=50)

        def wrong_token() -> None:
            self.token = "EAAWrongToken" + "q" * 30

        return {
            "expired token (190/463)": DocumentedError(
                scripted(
                    graph_error(
                        190,
                        "Error validating access token: Session has expired on Friday.",
                        subcode=463,
                    )
                ),
                AuthError,
            ),
            "password changed (190/460)": DocumentedError(
                scripted(graph_error(190, "The session has been invalidated.", subcode=460)),
                AuthError,
            ),
            "app removed (190/458)": DocumentedError(
                scripted(graph_error(190, "The user has not authorized application.", subcode=458)),
                AuthError,
            ),
            "invalid token": DocumentedError(wrong_token, AuthError),
            "application throttled (4)": DocumentedError(
                scripted(
                    graph_error(4, "(#4) Application request limit reached", headers=app_usage(100))
                ),
                RateLimited,
            ),
            "user throttled (17)": DocumentedError(
                scripted(graph_error(17, "(#17) User request limit reached")), RateLimited
            ),
            "page throttled (32)": DocumentedError(
                scripted(
                    graph_error(
                        32,
                        "(#32) Page request limit reached",
                        headers=buc_usage(server.page_id, 100, 12),
                    )
                ),
                RateLimited,
            ),
            "custom rate limit (613)": DocumentedError(
                scripted(graph_error(613, "Calls to this api have exceeded the rate limit.")),
                RateLimited,
            ),
            "pages BUC limit (80001)": DocumentedError(
                scripted(
                    graph_error(
                        80001,
                        "There have been too many calls to this Page account.",
                        headers=buc_usage(server.page_id, 100, 3),
                    )
                ),
                RateLimited,
            ),
            "permission missing (200)": DocumentedError(
                scripted(
                    graph_error(
                        200, "(#200) Requires pages_read_engagement permission to manage the object"
                    )
                ),
                AuthError,
            ),
            "permission denied (10)": DocumentedError(
                scripted(
                    graph_error(
                        10, "(#10) This endpoint requires the 'pages_read_user_content' permission."
                    )
                ),
                AuthError,
            ),
            "object does not exist (100/33)": DocumentedError(
                scripted(
                    graph_error(
                        100, "Unsupported get request.", subcode=33, kind="GraphMethodException"
                    )
                ),
                NotFound,
            ),
            "unknown error (1)": DocumentedError(
                scripted(graph_error(1, "An unknown error occurred", status=500)), TransientError
            ),
            "service unavailable (2)": DocumentedError(
                scripted(graph_error(2, "Service temporarily unavailable", status=503)),
                TransientError,
            ),
            "bare 502": DocumentedError(
                scripted(Reply(502, raw=b"<html>Bad Gateway</html>", content_type="text/html")),
                TransientError,
            ),
            "body is not JSON": DocumentedError(
                lambda: server.malformed(f"{V}/"), MalformedPayload
            ),
            "body cut short": DocumentedError(lambda: server.truncate(f"{V}/"), TransientError),
            "connection dropped": DocumentedError(
                lambda: server.fail_after(0, status=None), TransientError
            ),
        }

    def act(self, connector: Connector, action: Action) -> None:
        server = self.server
        post = server.add_post("Pour l'action")
        comment = server.add_comment(post, "Commentaire à traiter")
        if action is Action.REPLY:
            result = connector.reply(ItemRef(comment), "Merci pour votre message")
            sent = server.requests_to("POST", f"{V}/{comment}/comments")[-1]
            assert sent.param("message") == "Merci pour votre message"
            assert result.ok and result.platform_id in server.comments
            assert server.comments[str(result.platform_id)]["parent"] == {"id": comment}
        elif action in (Action.HIDE, Action.UNHIDE):
            hidden = action is Action.HIDE
            server.comments[comment]["is_hidden"] = not hidden
            call = connector.hide if hidden else connector.unhide
            result = call(ItemRef(comment))
            sent = server.requests_to("POST", f"{V}/{comment}")[-1]
            assert sent.path == f"{V}/{comment}"
            assert sent.param("is_hidden") == ("true" if hidden else "false")
            assert result.ok and server.comments[comment]["is_hidden"] is hidden
        elif action is Action.DELETE:
            result = connector.delete(ItemRef(comment))
            sent = server.requests_to("DELETE", f"{V}/{comment}")[-1]
            assert sent.path == f"{V}/{comment}" and not sent.raw_body
            assert result.ok and comment not in server.comments
        elif action is Action.PRIVATE_REPLY:
            result = connector.private_reply(ItemRef(comment), "Je vous écris en privé")
            sent = server.requests_to("POST", f"{V}/{server.page_id}/messages")[-1]
            assert sent.body == {
                "recipient": {"comment_id": comment},
                "message": {"text": "Je vous écris en privé"},
            }
            assert result.ok and result.platform_id
        elif action is Action.PUBLISH:
            result = connector.publish("Fermeture de la mairie lundi")
            sent = server.requests_to("POST", f"{V}/{server.page_id}/feed")[-1]
            assert sent.param("message") == "Fermeture de la mairie lundi"
            assert result.ok and result.platform_id in server.posts
        elif action is Action.EDIT:
            result = connector.edit(ItemRef(post, ItemKind.POST), "Texte corrigé")
            sent = server.requests_to("POST", f"{V}/{post}")[-1]
            assert sent.path == f"{V}/{post}" and sent.param("message") == "Texte corrigé"
            assert result.ok and server.posts[post]["message"] == "Texte corrigé"
        else:  # pragma: no cover - every declared action is above
            raise AssertionError(action)


class TestFacebookContract(ConnectorContract):
    @pytest.fixture
    def harness(self, server: FakeGraph) -> FacebookHarness:
        return FacebookHarness(server)


# --- declaration and options ------------------------------------------------------------


def test_declares_platform_auth_and_options() -> None:
    assert FacebookConnector.platform == "facebook"
    assert FacebookConnector.auth is AuthMethod.OAUTH2
    assert FacebookConnector.oauth is META_OAUTH
    assert META_OAUTH.refreshable is False
    assert GRAPH_VERSION in META_OAUTH.authorize_url and GRAPH_VERSION in META_OAUTH.token_url
    for scope in ("pages_read_user_content", "pages_manage_engagement", "pages_messaging"):
        assert scope in META_OAUTH.scopes
    assert FacebookConnector.options["access_token"].secret
    assert not FacebookConnector.options["base_url"].required
    assert Action.REPORT not in FacebookConnector.actions
    assert "report" in FacebookConnector.not_supported
    assert FacebookConnector.setup_doc == "connectors/facebook.md"
    assert connector_class("facebook") is FacebookConnector


@pytest.mark.parametrize(
    ("settings", "credentials"),
    [
        ({}, {"access_token": "EAAx"}),
        ({"page_id": "123"}, {}),
        ({"page_id": "my-page"}, {"access_token": "EAAx"}),
        ({"page_id": "123", "base_url": "http://graph.example.org"}, {"access_token": "EAAx"}),
        ({"page_id": "123", "history_days": "zero"}, {"access_token": "EAAx"}),
    ],
)
def test_invalid_options_are_configuration_errors(
    settings: dict[str, str], credentials: dict[str, str]
) -> None:
    with pytest.raises(ConfigurationError):
        FacebookConnector(settings, credentials)


def test_default_base_url_and_token_not_in_repr() -> None:
    connector = FacebookConnector({"page_id": "123"}, {"access_token": "EAAsecret123456789"})
    assert connector.base_url == "https://graph.facebook.com"
    assert "EAAsecret" not in repr(connector)


# --- fetch ------------------------------------------------------------------------------


def test_first_sync_maps_posts_comments_replies_and_messages(server: FakeGraph) -> None:
    post = server.add_post("Travaux rue Haute", full_picture="https://scontent.example/p.jpg")
    comment = server.add_comment(post, "Jusqu'à quand ?")
    reply = server.add_comment(post, "Fin juin", parent=comment)
    message = server.add_message(text="Bonjour, une question")
    items, cursor = drain(connect(server), {})
    by_id = {i.platform_id: i for i in items}
    assert [i.platform_id for i in items] == [post, comment, reply, message]

    assert by_id[post].kind is ItemKind.POST
    assert by_id[post].thread_id == post
    assert by_id[post].url == server.posts[post]["permalink_url"]
    assert by_id[post].author.platform_id == server.page_id
    assert by_id[post].media == (Media("image", "https://scontent.example/p.jpg"),)

    assert by_id[comment].kind is ItemKind.COMMENT
    assert (by_id[comment].thread_id, by_id[comment].parent_id) == (post, post)
    assert by_id[comment].author.display_name.startswith("Habitant")
    assert by_id[comment].url.startswith("https://www.facebook.com/")
    assert by_id[comment].raw["is_hidden"] is False

    assert by_id[reply].kind is ItemKind.REPLY
    assert (by_id[reply].thread_id, by_id[reply].parent_id) == (post, comment)

    conversation = next(iter(server.conversations))
    assert by_id[message].kind is ItemKind.MESSAGE
    assert by_id[message].thread_id == conversation
    assert by_id[message].url == f"https://www.facebook.com/{server.page_id}/inbox/{conversation}/"
    assert by_id[message].text == "Bonjour, une question"
    assert by_id[message].created_at.tzinfo is not None
    json.dumps(cursor)
    assert cursor["page_id"] == server.page_id
    assert cursor["posts"]["ids"] == [post]


def test_requests_are_the_documented_ones(server: FakeGraph) -> None:
    post = server.add_post()
    server.add_comment(post)
    server.add_message()
    drain(connect(server), {})
    posts = server.requests_to("GET", f"{V}/{server.page_id}/published_posts")
    assert all(r.header("authorization") is None for r in posts)  # never recorded
    assert all(r.authorization == f"Bearer {server.page_token}" for r in posts)
    assert all("access_token" not in r.query for r in server.requests)
    assert int(posts[0].param("since")) <= int(datetime.now(UTC).timestamp()) - 29 * 86400
    comments = server.requests_to("GET", f"{V}/{post}/comments")[0]
    assert comments.param("filter") == "stream"
    assert comments.param("order") == "reverse_chronological"
    for field in ("parent", "from", "created_time", "message", "permalink_url", "is_hidden"):
        assert field in comments.param("fields")
    conversations = server.requests_to("GET", f"{V}/{server.page_id}/conversations")[0]
    assert conversations.param("platform") == "messenger"


def test_pages_are_followed_with_the_after_cursor(server: FakeGraph) -> None:
    posts = [server.add_post(f"Post {n}") for n in range(5)]
    items, _ = drain(connect(server), {})
    assert [i.platform_id for i in items if i.kind is ItemKind.POST] == posts
    asked = server.requests_to("GET", f"{V}/{server.page_id}/published_posts")
    afters = [r.param("after") for r in asked if r.param("fields").startswith("id,message")]
    assert afters[0] is None and all(afters[1:]) and len(afters) == 3


def test_posts_without_comments_are_not_read_for_comments(server: FakeGraph) -> None:
    quiet = server.add_post("Sans commentaire")
    busy = server.add_post("Avec commentaire")
    server.add_comment(busy)
    drain(connect(server), {})
    assert not server.requests_to("GET", f"{V}/{quiet}/comments")
    assert server.requests_to("GET", f"{V}/{busy}/comments")


def test_incremental_sync_asks_since_the_watermark(server: FakeGraph) -> None:
    old = server.add_post("Ancien")
    _, cursor = drain(connect(server), {})
    new = server.add_post("Nouveau")
    items, cursor = drain(connect(server), cursor)
    assert [i.platform_id for i in items if i.kind is ItemKind.POST] == [new]
    asked = server.requests_to("GET", f"{V}/{server.page_id}/published_posts")
    since = int(asked[-2].param("since"))
    assert since == int(datetime.fromisoformat(server.posts[old]["created_time"]).timestamp())


def test_a_post_in_the_same_second_as_the_watermark_is_not_lost(server: FakeGraph) -> None:
    first = server.add_post("Premier")
    _, cursor = drain(connect(server), {})
    moment = datetime.fromisoformat(server.posts[first]["created_time"])
    second = server.add_post("Même seconde", at=moment)
    items, cursor = drain(connect(server), cursor)
    assert [i.platform_id for i in items if i.kind is ItemKind.POST] == [second]
    assert sorted(cursor["posts"]["ids"]) == sorted([first, second])
    items, _ = drain(connect(server), cursor)
    assert not [i for i in items if i.kind is ItemKind.POST]


def test_older_conversations_are_not_read_again(server: FakeGraph) -> None:
    server.add_message(text="Ancienne conversation")
    old = next(iter(server.conversations))
    server.add_message(text="Autre conversation")  # the watermark's second: read again
    _, cursor = drain(connect(server), {})
    server.requests.clear()
    new_message = server.add_message(text="Nouvelle conversation")
    items, _ = drain(connect(server), cursor)
    assert [i.platform_id for i in items if i.kind is ItemKind.MESSAGE] == [new_message]
    assert not server.requests_to("GET", f"{V}/{old}/messages")


def test_a_new_message_in_an_old_conversation_is_fetched(server: FakeGraph) -> None:
    first = server.add_message(text="Bonjour")
    conversation = next(iter(server.conversations))
    _, cursor = drain(connect(server), {})
    answer = server.add_message(conversation, "Toujours là ?")
    items, _ = drain(connect(server), cursor)
    assert [i.platform_id for i in items if i.kind is ItemKind.MESSAGE] == [answer]
    assert first not in {i.platform_id for i in items}


def test_another_page_restarts_the_cursor(server: FakeGraph) -> None:
    post = server.add_post()
    _, cursor = drain(connect(server), {})
    items, _ = drain(connect(server), {**cursor, "page_id": "999"})
    assert post in {i.platform_id for i in items}


def test_map_item_on_documented_payloads(server: FakeGraph) -> None:
    connector = connect(server)
    comment = connector.map_item(
        {
            "id": "2001_3001",
            "message": "Bravo",
            "created_time": "2024-05-01T10:00:00+0000",
            "from": {"id": "42", "name": "Jeanne"},
        },
        ItemKind.COMMENT,
    )
    assert comment.thread_id == f"{server.page_id}_2001"
    assert comment.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert comment.url.endswith("?comment_id=3001")
    with pytest.raises(MalformedPayload):
        connector.map_item({"id": "1", "created_time": "hier"}, ItemKind.POST)
    with pytest.raises(MalformedPayload):
        connector.map_item({"message": "sans id"}, ItemKind.MESSAGE)


# --- rate limits and errors --------------------------------------------------------------


def test_usage_at_100_percent_on_a_success_closes_the_token(server: FakeGraph) -> None:
    server.add_post()
    server.extra_headers = buc_usage(server.page_id, 100, 7)
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert len(server.requests) == 1, "no second call once Meta said the window is spent"
    assert raised.value.retry_after == pytest.approx(7 * 60, abs=5)


def test_throttling_waits_the_estimated_time_in_minutes(server: FakeGraph) -> None:
    server.script(
        f"{V}/",
        graph_error(32, "(#32) Page request limit reached", headers=buc_usage("1", 100, 12)),
    )
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert raised.value.retry_after == 12 * 60
    with pytest.raises(RateLimited):
        connect(server).publish("x")  # the token stays closed for every call
    assert len(server.requests) == 1


def test_usage_headers() -> None:
    assert usage_wait(app_usage(50)) is None
    assert usage_wait(app_usage(100)) == 300.0
    assert usage_wait(buc_usage("1", 100, 2)) == 120.0
    assert usage_wait({"X-App-Usage": "not json"}) is None


def test_auth_error_says_to_reconnect_without_the_token(server: FakeGraph) -> None:
    with pytest.raises(AuthError) as raised:
        drain(connect(server, token="EAAWrong" + "k" * 30), {})
    assert "Reconnect" in str(raised.value)
    assert "EAAWrong" not in str(raised.value)
    server.script(f"{V}/", graph_error(190, "Session has expired", subcode=463))
    with pytest.raises(AuthError, match="expired"):
        drain(connect(server), {})


def test_permission_error_names_the_permission(server: FakeGraph) -> None:
    server.script(
        f"{V}/", graph_error(200, "(#200) Requires pages_read_engagement permission to manage")
    )
    with pytest.raises(AuthError, match="pages_read_engagement"):
        drain(connect(server), {})


def test_server_errors_are_retried_within_the_call(server: FakeGraph) -> None:
    server.add_post()
    server.script(f"{V}/", graph_error(2, "Service temporarily unavailable", status=503))
    connector = FacebookConnector(
        {"page_id": server.page_id, "base_url": server.base_url},
        {"access_token": server.page_token},
        backoff=0.0,
    )
    items, _ = drain(connector, {})
    assert items


# --- actions ----------------------------------------------------------------------------


def test_publish_an_image_posts_a_photo(server: FakeGraph) -> None:
    result = connect(server).publish(
        "Inauguration", (Media("image", "https://cdn.example.org/i.jpg"),)
    )
    sent = server.requests_to("POST", f"{V}/{server.page_id}/photos")[-1]
    assert sent.param("url") == "https://cdn.example.org/i.jpg"
    assert sent.param("caption") == "Inauguration"
    assert result.platform_id in server.posts
    with pytest.raises(UnsupportedAction):
        connect(server).publish("x", (Media("video", "https://cdn.example.org/v.mp4"),))


def test_reply_to_a_message_uses_the_send_api(server: FakeGraph) -> None:
    message = server.add_message()
    author = server.messages[message]["from"]["id"]
    result = connect(server).reply(ItemRef(message, ItemKind.MESSAGE, author_id=author), "Oui")
    sent = server.requests_to("POST", f"{V}/{server.page_id}/messages")[-1]
    assert sent.body == {
        "recipient": {"id": author},
        "messaging_type": "RESPONSE",
        "message": {"text": "Oui"},
    }
    assert result.ok


def test_second_private_reply_is_refused_by_graph(server: FakeGraph) -> None:
    comment = server.add_comment(server.add_post())
    connect(server).private_reply(ItemRef(comment), "Premier message")
    with pytest.raises(Refused, match="already answered in private") as raised:
        connect(server).private_reply(ItemRef(comment), "Second message")
    assert "Activity already replied to" in str(raised.value)  # Meta's own words
    assert [m["text"] for m in server.sent_messages] == ["Premier message"]


def test_action_on_a_vanished_comment_is_not_found(server: FakeGraph) -> None:
    with pytest.raises(NotFound):
        connect(server).hide(ItemRef("1_999"))


def test_report_is_not_supported(server: FakeGraph) -> None:
    with pytest.raises(UnsupportedAction, match="no endpoint"):
        connect(server).report(ItemRef("1_2"), "spam")


# --- OAuth ------------------------------------------------------------------------------


def test_accounts_from_token_exchanges_then_lists_pages(server: FakeGraph) -> None:
    accounts = FacebookConnector.accounts_from_token(
        {"access_token": server.user_token, "token_type": "bearer"},
        {
            "base_url": server.base_url,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
        },
    )
    exchange = server.requests_to("GET", f"{V}/oauth/access_token")[-1]
    assert exchange.param("grant_type") == "fb_exchange_token"
    assert exchange.param("client_id") == server.client_id
    assert exchange.param("fb_exchange_token") == server.user_token
    listing = server.requests_to("GET", f"{V}/me/accounts")[-1]
    assert listing.authorization == f"Bearer {server.long_user_token}"
    assert "instagram_business_account" in listing.param("fields")
    assert [a.settings["page_id"] for a in accounts] == [server.page_id, server.other_page_id]
    first = accounts[0]
    assert first.name == server.page_name
    assert first.settings == {
        "base_url": server.base_url,
        "page_id": server.page_id,
        "page_name": server.page_name,
    }
    assert first.credentials == {"access_token": server.page_token}
    assert all(
        "client_secret" not in a.settings and "client_id" not in a.settings for a in accounts
    )


def test_accounts_from_token_without_app_credentials_skips_the_exchange(
    server: FakeGraph,
) -> None:
    accounts = FacebookConnector.accounts_from_token(
        {"access_token": server.user_token}, {"base_url": server.base_url}
    )
    assert not server.requests_to("GET", f"{V}/oauth/access_token")
    assert len(accounts) == 2


def test_accounts_from_token_with_a_wrong_secret_is_typed(server: FakeGraph) -> None:
    with pytest.raises(ConnectorError) as raised:
        FacebookConnector.accounts_from_token(
            {"access_token": server.user_token},
            {"base_url": server.base_url, "client_id": server.client_id, "client_secret": "bad"},
        )
    assert "bad" not in str(raised.value) and server.user_token not in str(raised.value)


# --- webhooks ---------------------------------------------------------------------------


def test_signature_of_a_delivery(server: FakeGraph) -> None:
    body, headers = server.webhook_delivery(
        "s3cret", [server.comment_change("2001_3001", f"{server.page_id}_2001")]
    )
    signature = headers["X-Hub-Signature-256"]
    assert verify_signature("s3cret", body, signature)
    assert not verify_signature("other", body, signature)
    assert not verify_signature("s3cret", body + b" ", signature)
    assert not verify_signature("s3cret", body, None)
    assert not verify_signature("s3cret", body, signature.replace("sha256=", "sha1="))


def test_subscription_handshake() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert verify_subscription(params, "tok") == "1158201444"
    assert verify_subscription(params, "other") is None
    assert verify_subscription({**params, "hub.mode": "unsubscribe"}, "tok") is None
    assert verify_subscription(params, "") is None


def test_webhook_items_map_added_and_edited_comments(server: FakeGraph) -> None:
    post = f"{server.page_id}_2001"
    body, _ = server.webhook_delivery(
        "s",
        [
            server.comment_change("2001_3001", post, message="Premier", created_time=1714557600),
            server.comment_change("2001_3002", post, parent_id="2001_3001", verb="edited"),
            server.comment_change("2001_3003", post, verb="remove"),
            server.comment_change("2001_3004", post, item="reaction"),
            {"field": "ratings", "value": {}},
        ],
    )
    pairs = list(FacebookConnector.webhook_items(json.loads(body)))
    assert [(page, item.platform_id) for page, item in pairs] == [
        (server.page_id, "2001_3001"),
        (server.page_id, "2001_3002"),
    ]
    comment, reply = pairs[0][1], pairs[1][1]
    assert comment.kind is ItemKind.COMMENT and reply.kind is ItemKind.REPLY
    assert comment.text == "Premier"
    assert comment.created_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert (comment.thread_id, comment.parent_id) == (post, post)
    assert reply.parent_id == "2001_3001"
    assert comment.author.display_name == "Habitante"
    assert comment.url == f"https://www.facebook.com/{server.page_id}/posts/2001?comment_id=3001"
    assert list(FacebookConnector.webhook_items({"object": "instagram", "entry": []})) == []


# --- cursor helpers ---------------------------------------------------------------------


def test_replay_batches_never_split_one_second() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    entries = [
        (base, "a", "a"),
        (base + timedelta(seconds=1), "b", "b"),
        (base + timedelta(seconds=1), "c", "c"),
        (base + timedelta(seconds=2), "d", "d"),
    ]
    batches = list(replay_batches(list(reversed(entries)), 2))
    assert [b[0] for b in batches] == [["a", "b", "c"], ["d"]]
    assert batches[0][2] == ["b", "c"]
    mark = Watermark().after(batches[0][1], batches[0][2])
    assert not mark.is_new(base + timedelta(seconds=1), "b")
    assert mark.is_new(base + timedelta(seconds=1), "z")
    restored = Watermark.from_cursor({"m": json.loads(json.dumps(mark.to_cursor()))}, "m")
    assert restored == mark
    assert graph_time(base) == "2024-01-01T00:00:00+0000"


def test_a_post_deleted_during_the_sync_is_skipped(server: FakeGraph) -> None:
    gone = server.add_post("Supprimé")
    server.add_comment(gone)
    kept = server.add_post("Gardé")
    comment = server.add_comment(kept)
    server.script(
        f"{V}/{gone}/comments",
        graph_error(100, "Unsupported get request.", subcode=33, kind="GraphMethodException"),
    )
    items, _ = drain(connect(server), {})
    assert comment in {i.platform_id for i in items}


def test_subscribe_webhooks_subscribes_the_page_feed(server: FakeGraph) -> None:
    result = connect(server).subscribe_webhooks()
    sent = server.requests_to("POST", f"{V}/{server.page_id}/subscribed_apps")[-1]
    assert sent.param("subscribed_fields") == "feed"
    assert result.ok and server.subscribed_fields == ["feed"]


def test_answer_outside_the_messenger_window_is_explained(server: FakeGraph) -> None:
    message = server.add_message()
    author = server.messages[message]["from"]["id"]
    server.outside_window.add(author)
    with pytest.raises(Refused, match="24 hours"):
        connect(server).reply(ItemRef(message, ItemKind.MESSAGE, author_id=author), "Oui")
