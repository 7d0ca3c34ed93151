"""The Instagram connector against a loopback Graph API that answers as Meta documents."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
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
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.graph import META_OAUTH, verify_signature
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.instagram import InstagramConnector
from beffroi.connectors.registry import connector_class
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.graph_server import VERSION, FakeGraph, Reply, buc_usage, graph_error

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


def connect(server: FakeGraph, token: str | None = None, **settings: Any) -> InstagramConnector:
    return InstagramConnector(
        {"ig_user_id": server.ig_user_id, "base_url": server.base_url, **settings},
        {"access_token": token or server.page_token},
        page_size=2,
        timeout=5,
        retries=0,
        backoff=0.0,
        poll_interval=0.0,
    )


# --- the contract -------------------------------------------------------------------------


class InstagramHarness(Harness):
    rereads = True  # comments of recent media are read again on each sync
    max_requests = 60

    def __init__(self, server: FakeGraph) -> None:
        self.server = server
        self.secrets = (server.page_token, server.user_token, server.client_secret)
        self.token = server.page_token
        self.media: list[str] = []
        self.comments: list[str] = []

    def connect(self) -> Connector:
        return connect(self.server, self.token)

    def seed(self, count: int) -> set[str]:
        ids: set[str] = set()
        for index in range(count):
            kind = index % 4
            if kind == 0 or not self.media:
                self.media.append(self.server.add_media(f"Photo {index}"))
                ids.add(self.media[-1])
            elif kind == 1 or not self.comments:
                self.comments.append(self.server.add_ig_comment(self.media[-1], f"Avis {index}"))
                ids.add(self.comments[-1])
            elif kind == 2:
                ids.add(self.server.add_ig_comment(self.media[-1], "Réponse", self.comments[-1]))
            else:
                ids.add(self.server.add_tag(f"Merci @{self.server.ig_username} {index}"))
        return ids

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
                scripted(graph_error(190, "Session has expired", subcode=463)), AuthError
            ),
            "invalid token": DocumentedError(wrong_token, AuthError),
            "instagram BUC limit (80002)": DocumentedError(
                scripted(
                    graph_error(
                        80002,
                        "There have been too many calls to this Instagram account.",
                        headers=buc_usage(server.ig_user_id, 100, 5, kind="instagram"),
                    )
                ),
                RateLimited,
            ),
            "application throttled (4)": DocumentedError(
                scripted(graph_error(4, "(#4) Application request limit reached")), RateLimited
            ),
            "permission missing (10)": DocumentedError(
                scripted(graph_error(10, "(#10) Requires instagram_manage_comments permission")),
                AuthError,
            ),
            "object does not exist (100/33)": DocumentedError(
                scripted(graph_error(100, "Unsupported get request.", subcode=33)), NotFound
            ),
            "service unavailable (2)": DocumentedError(
                scripted(graph_error(2, "Service temporarily unavailable", status=503)),
                TransientError,
            ),
            "body is not JSON": DocumentedError(
                lambda: server.malformed(f"{V}/"), MalformedPayload
            ),
            "connection dropped": DocumentedError(
                lambda: server.fail_after(0, status=None), TransientError
            ),
        }

    def act(self, connector: Connector, action: Action) -> None:
        server = self.server
        media = server.add_media("Pour l'action")
        comment = server.add_ig_comment(media, "Commentaire à traiter")
        if action is Action.REPLY:
            result = connector.reply(ItemRef(comment, thread_id=media), "Merci !")
            sent = server.requests_to("POST", f"{V}/{comment}/replies")[-1]
            assert sent.param("message") == "Merci !"
            assert server.ig_comments[str(result.platform_id)]["parent_id"] == comment
        elif action in (Action.HIDE, Action.UNHIDE):
            hidden = action is Action.HIDE
            server.ig_comments[comment]["hidden"] = not hidden
            result = (connector.hide if hidden else connector.unhide)(ItemRef(comment))
            sent = server.requests_to("POST", f"{V}/{comment}")[-1]
            assert sent.path == f"{V}/{comment}"
            assert sent.param("hide") == ("true" if hidden else "false")
            assert result.ok and server.ig_comments[comment]["hidden"] is hidden
        elif action is Action.DELETE:
            result = connector.delete(ItemRef(comment))
            assert server.requests_to("DELETE", f"{V}/{comment}")[-1].path == f"{V}/{comment}"
            assert result.ok and comment not in server.ig_comments
        elif action is Action.PRIVATE_REPLY:
            result = connector.private_reply(ItemRef(comment), "En privé")
            sent = server.requests_to("POST", f"{V}/{server.ig_user_id}/messages")[-1]
            assert sent.body == {
                "recipient": {"comment_id": comment},
                "message": {"text": "En privé"},
            }
            assert result.ok and result.platform_id
        elif action is Action.PUBLISH:
            image = "https://cdn.example.org/fete.jpg"
            result = connector.publish("La fête", (Media("image", image),))
            create = server.requests_to("POST", f"{V}/{server.ig_user_id}/media")
            create = [r for r in create if r.path == f"{V}/{server.ig_user_id}/media"][-1]
            assert (create.param("image_url"), create.param("caption")) == (image, "La fête")
            container = next(iter(server.containers))
            polls = server.requests_to("GET", f"{V}/{container}")
            assert len(polls) == 2 and all(p.param("fields") == "status_code" for p in polls)
            publish = server.requests_to("POST", f"{V}/{server.ig_user_id}/media_publish")[-1]
            assert publish.param("creation_id") == container
            assert result.ok and result.platform_id in server.media
        else:  # pragma: no cover - every declared action is above
            raise AssertionError(action)


class TestInstagramContract(ConnectorContract):
    @pytest.fixture
    def harness(self, server: FakeGraph) -> InstagramHarness:
        return InstagramHarness(server)


# --- declaration and options ------------------------------------------------------------


def test_declares_platform_auth_and_options() -> None:
    assert InstagramConnector.platform == "instagram"
    assert InstagramConnector.auth is AuthMethod.OAUTH2
    assert InstagramConnector.oauth is META_OAUTH
    for scope in ("instagram_basic", "instagram_manage_comments", "instagram_content_publish"):
        assert scope in META_OAUTH.scopes
    assert {"report", "edit"} <= set(InstagramConnector.not_supported)
    assert InstagramConnector.setup_doc == "connectors/instagram.md"
    assert connector_class("instagram") is InstagramConnector


@pytest.mark.parametrize(
    "settings",
    [{}, {"ig_user_id": "abc"}, {"ig_user_id": "1", "base_url": "ftp://graph.facebook.com"}],
)
def test_invalid_options_are_configuration_errors(settings: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        InstagramConnector(settings, {"access_token": "EAAx"})


# --- fetch ------------------------------------------------------------------------------


def test_first_sync_maps_media_comments_replies_and_mentions(server: FakeGraph) -> None:
    media = server.add_media("Marché de Noël")
    comment = server.add_ig_comment(media, "Quels horaires ?")
    reply = server.add_ig_comment(media, "De 10 h à 19 h", parent=comment)
    tag = server.add_tag("Belle journée avec @mairie_beffroi")
    items, cursor = drain(connect(server), {})
    by_id = {i.platform_id: i for i in items}
    assert [i.platform_id for i in items] == [media, comment, reply, tag]
    permalink = server.media[media]["permalink"]

    post = by_id[media]
    assert post.kind is ItemKind.POST and post.url == permalink
    assert post.author.platform_id == server.ig_user_id
    assert post.author.handle == server.ig_username
    assert post.metrics == {"likes": 3, "comments": 2}
    assert post.media == (Media("image", server.media[media]["media_url"]),)

    assert by_id[comment].kind is ItemKind.COMMENT
    assert (by_id[comment].thread_id, by_id[comment].parent_id) == (media, media)
    assert by_id[comment].url == permalink
    assert by_id[comment].author.handle.startswith("habitant")
    assert by_id[reply].kind is ItemKind.REPLY and by_id[reply].parent_id == comment

    mention = by_id[tag]
    assert mention.kind is ItemKind.MENTION
    assert mention.url == server.tags[tag]["permalink"]
    assert mention.author.handle == server.tags[tag]["username"]
    assert cursor["media"]["ids"] == [media] and cursor["tags"]["ids"] == [tag]


def test_requests_are_the_documented_ones(server: FakeGraph) -> None:
    media = server.add_media()
    server.add_ig_comment(media)
    drain(connect(server), {})
    listing = server.requests_to("GET", f"{V}/{server.ig_user_id}/media")[0]
    for field in ("caption", "media_type", "media_url", "permalink", "timestamp", "like_count"):
        assert field in listing.param("fields")
    assert listing.param("since")
    comments = server.requests_to("GET", f"{V}/{media}/comments")[0]
    for field in ("text", "timestamp", "username", "from", "hidden", "replies{"):
        assert field in comments.param("fields")
    assert all(r.authorization == f"Bearer {server.page_token}" for r in server.requests)


def test_many_replies_are_read_from_the_replies_edge(server: FakeGraph) -> None:
    server.nested_replies_limit = 1
    media = server.add_media()
    comment = server.add_ig_comment(media)
    replies = [server.add_ig_comment(media, f"R{n}", parent=comment) for n in range(3)]
    items, _ = drain(connect(server), {})
    assert set(replies) <= {i.platform_id for i in items}
    assert server.requests_to("GET", f"{V}/{comment}/replies")


def test_media_without_comments_are_not_read_for_comments(server: FakeGraph) -> None:
    quiet = server.add_media()
    drain(connect(server), {})
    assert not server.requests_to("GET", f"{V}/{quiet}/comments")


def test_incremental_sync_brings_new_media_and_mentions_only(server: FakeGraph) -> None:
    server.add_media()
    server.add_tag()
    _, cursor = drain(connect(server), {})
    media, tag = server.add_media(), server.add_tag()
    items, _ = drain(connect(server), cursor)
    assert [i.platform_id for i in items] == [media, tag]


# --- errors and actions -----------------------------------------------------------------


def test_buc_throttling_gives_the_wait(server: FakeGraph) -> None:
    server.script(
        f"{V}/",
        graph_error(
            80002, "Too many calls", headers=buc_usage(server.ig_user_id, 100, 9, "instagram")
        ),
    )
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert raised.value.retry_after == 9 * 60


def test_reply_to_a_reply_goes_under_the_top_level_comment(server: FakeGraph) -> None:
    media = server.add_media()
    comment = server.add_ig_comment(media)
    reply = server.add_ig_comment(media, "R", parent=comment)
    connect(server).reply(
        ItemRef(reply, ItemKind.REPLY, thread_id=media, parent_id=comment), "Merci"
    )
    assert server.requests_to("POST", f"{V}/{comment}/replies")
    assert not server.requests_to("POST", f"{V}/{reply}/replies")


def test_reply_to_a_media_and_to_a_mention(server: FakeGraph) -> None:
    media, tag = server.add_media(), server.add_tag()
    connector = connect(server)
    connector.reply(ItemRef(media, ItemKind.POST), "Bonjour")
    assert server.requests_to("POST", f"{V}/{media}/comments")[-1].param("message") == "Bonjour"
    connector.reply(ItemRef(tag, ItemKind.MENTION), "Merci du partage")
    sent = server.requests_to("POST", f"{V}/{server.ig_user_id}/mentions")[-1]
    assert (sent.param("media_id"), sent.param("message")) == (tag, "Merci du partage")


def test_publish_needs_one_image(server: FakeGraph) -> None:
    with pytest.raises(UnsupportedAction, match="image"):
        connect(server).publish("Texte seul")
    assert not server.requests


def test_publish_fails_clearly_when_the_container_errors(server: FakeGraph) -> None:
    connector = connect(server)
    server.container_polls = 5
    original = server._node

    def errored(request: Any, node: str) -> Reply:
        if node in server.containers and request.method == "GET":
            return Reply(200, {"status_code": "ERROR", "id": node})
        return original(request, node)

    server._node = errored  # type: ignore[method-assign]
    with pytest.raises(ConnectorError, match="ERROR"):
        connector.publish("x", (Media("image", "https://cdn.example.org/x.jpg"),))
    assert not server.requests_to("POST", f"{V}/{server.ig_user_id}/media_publish")


def test_edit_and_report_are_not_supported(server: FakeGraph) -> None:
    with pytest.raises(UnsupportedAction, match="caption"):
        connect(server).edit(ItemRef("1", ItemKind.POST), "x")
    with pytest.raises(UnsupportedAction, match="Not supported by the platform"):
        connect(server).report(ItemRef("1"), "spam")


# --- OAuth ------------------------------------------------------------------------------


def test_accounts_from_token_keeps_pages_with_an_instagram_account(server: FakeGraph) -> None:
    accounts = InstagramConnector.accounts_from_token(
        {"access_token": server.user_token},
        {
            "base_url": server.base_url,
            "client_id": server.client_id,
            "client_secret": server.client_secret,
        },
    )
    assert len(accounts) == 1
    account = accounts[0]
    assert account.name == f"@{server.ig_username}"
    assert account.settings == {
        "base_url": server.base_url,
        "ig_user_id": server.ig_user_id,
        "username": server.ig_username,
        "page_id": server.page_id,
    }
    assert account.credentials == {"access_token": server.page_token}
    assert server.requests_to("GET", f"{V}/oauth/access_token")
    connector = InstagramConnector(account.settings, account.credentials)
    assert connector.ig_user_id == server.ig_user_id


# --- webhooks ---------------------------------------------------------------------------


def test_webhook_items_map_instagram_comments(server: FakeGraph) -> None:
    body, headers = server.webhook_delivery(
        "s3cret",
        [
            server.ig_comment_change("17850001", "17900001", text="Bravo"),
            server.ig_comment_change("17850002", "17900001", parent_id="17850001"),
            {"field": "mentions", "value": {"media_id": "1", "comment_id": "2"}},
        ],
        object_type="instagram",
    )
    assert verify_signature("s3cret", body, headers["X-Hub-Signature-256"])
    pairs = list(InstagramConnector.webhook_items(json.loads(body)))
    assert [(account, item.platform_id) for account, item in pairs] == [
        (server.ig_user_id, "17850001"),
        (server.ig_user_id, "17850002"),
    ]
    comment, reply = pairs[0][1], pairs[1][1]
    assert comment.kind is ItemKind.COMMENT and comment.text == "Bravo"
    assert (comment.thread_id, comment.parent_id) == ("17900001", "17900001")
    assert comment.author.handle == "visiteuse" and comment.author.platform_id == "6660001"
    assert reply.kind is ItemKind.REPLY and reply.parent_id == "17850001"
    assert comment.created_at.tzinfo is not None
    assert list(InstagramConnector.webhook_items({"object": "page", "entry": []})) == []
