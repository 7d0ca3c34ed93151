"""The X connector (tweepy) against a loopback server that answers as X's API v2 documents."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    Connector,
    ItemKind,
    ItemRef,
    MalformedPayload,
    Media,
    RateLimited,
    Refused,
    TransientError,
    UnsupportedAction,
    expiry_of,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.x import XConnector, snowflake_time
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness, drain
from tests.fakes.loopback import Reply
from tests.fakes.x_server import FakeX

# --- helpers ---------------------------------------------------------------------------------


def connect(server: FakeX, page_size: int = 5, **settings: str) -> XConnector:
    return XConnector(
        {
            "user_id": server.me["id"],
            "username": server.me["username"],
            "base_url": server.base_url,
            **settings,
        },
        {"access_token": server.token},
        timeout=5,
        page_size=page_size,
        retries=1,
        backoff=0.0,
    )


@pytest.fixture
def server() -> Iterator[FakeX]:
    RATE_GATE.clear()
    with FakeX() as fake:
        yield fake
    RATE_GATE.clear()


class XHarness(Harness):
    secrets = ("x-user-token-7Hq2ZkP9",)

    def __init__(self, server: FakeX) -> None:
        self.server = server
        self.citizen = server.add_user("citoyen", "Un citoyen")
        self.neighbour = server.add_user("voisine", "Une voisine")
        self.root = server.add_tweet("Travaux rue de la Paix", days_ago=1)
        self.comment = server.add_tweet(
            "Jusqu'à quand ?", author=self.citizen, in_reply_to=self.root["id"], days_ago=0.5
        )
        self._serial = itertools.count(1)

    def connect(self) -> Connector:
        return connect(self.server, query="fontaine")

    def seed(self, count: int) -> set[str]:
        ids = set()
        for _ in range(count):
            n = next(self._serial)
            kind = n % 4
            if kind == 0:
                tweet = self.server.add_tweet(f"Avis n°{n} de la mairie")
            elif kind == 1:
                tweet = self.server.add_tweet(f"@mairie question {n}", author=self.citizen)
            elif kind == 2:
                # A deep reply that does not mention the account: only the replies search sees it.
                tweet = self.server.add_tweet(
                    f"réponse {n}", author=self.neighbour, in_reply_to=self.comment["id"]
                )
            else:
                tweet = self.server.add_tweet(f"La fontaine {n} fuit", author=self.citizen)
            ids.add(tweet["id"])
        return ids

    def interrupt_after(self, requests: int) -> None:
        self.server.fail_after(requests)

    def heal(self) -> None:
        self.server.heal()

    def errors(self) -> Mapping[str, DocumentedError]:
        server = self.server
        return {
            "revoked token": DocumentedError(server.revoke_token, AuthError),
            "rate limited": DocumentedError(lambda: server.rate_limit(50), RateLimited),
            "monthly usage cap": DocumentedError(lambda: server.usage_cap(50), RateLimited),
            "app not enrolled": DocumentedError(lambda: server.not_enrolled(50), AuthError),
            "server error": DocumentedError(
                lambda: server.script("/2/", Reply(503, server.unavailable_body), times=50),
                TransientError,
            ),
            "malformed": DocumentedError(lambda: server.malformed("/2/users/"), MalformedPayload),
            "truncated": DocumentedError(lambda: server.truncate("/2/users/"), TransientError),
        }

    def act(self, connector: Connector, action: Action) -> None:
        server = self.server
        own = server.add_tweet("Annonce")
        comment = server.add_tweet("Bof", author=self.citizen, in_reply_to=own["id"])
        ref = ItemRef(comment["id"], ItemKind.COMMENT, author_id=self.citizen["id"])
        if action is Action.REPLY:
            result = connector.reply(ref, "Merci")
            sent = server.requests_to("POST", "/2/tweets")[-1]
            assert sent.body == {"text": "Merci", "reply": {"in_reply_to_tweet_id": comment["id"]}}
            assert result.platform_id in server.tweets
            assert result.url == f"https://x.com/mairie/status/{result.platform_id}"
        elif action is Action.PRIVATE_REPLY:
            result = connector.private_reply(ref, "Merci, je vous écris en privé")
            path = f"/2/dm_conversations/with/{self.citizen['id']}/messages"
            assert server.requests_to("POST", path)[-1].body == {
                "text": "Merci, je vous écris en privé"
            }
            sent = server.dm_events[-1]
            assert result.platform_id == sent["id"] and sent["participant_id"] == self.citizen["id"]
            assert result.url == f"https://x.com/messages/{sent['dm_conversation_id']}"
        elif action is Action.PUBLISH:
            result = connector.publish("Bonjour")
            assert server.requests_to("POST", "/2/tweets")[-1].body == {"text": "Bonjour"}
            assert result.platform_id in server.tweets
        elif action in (Action.HIDE, Action.UNHIDE):
            hidden = action is Action.HIDE
            result = connector.hide(ref) if hidden else connector.unhide(ref)
            sent = server.requests_to("PUT", f"/2/tweets/{comment['id']}/hidden")[-1]
            assert sent.body == {"hidden": hidden}
            assert (comment["id"] in server.hidden) is hidden
            assert result.raw == {"data": {"hidden": hidden}}
        elif action is Action.DELETE:
            result = connector.delete(ItemRef(own["id"], ItemKind.POST, author_id=server.me["id"]))
            sent = server.requests_to("DELETE", f"/2/tweets/{own['id']}")
            assert sent and sent[-1].raw_body == b""
            assert own["id"] not in server.tweets
        else:
            raise AssertionError(f"untested action {action}")
        assert result.ok


class TestXContract(ConnectorContract):
    @pytest.fixture
    def harness(self) -> Iterator[XHarness]:
        with FakeX() as server:
            yield XHarness(server)


# --- options ---------------------------------------------------------------------------------


def test_declares_platform_oauth_and_actions() -> None:
    assert XConnector.platform == "x" and XConnector.label == "X"
    assert XConnector.options["access_token"].secret
    assert not XConnector.options["query"].required
    assert XConnector.options["base_url"].default == "https://api.x.com"
    assert XConnector.setup_doc == "connectors/x.md"
    spec = XConnector.oauth
    assert spec is not None and spec.pkce and spec.token_auth == "client_secret_basic"
    assert spec.authorize_url == "https://x.com/i/oauth2/authorize"
    assert spec.token_url == "https://api.x.com/2/oauth2/token"
    assert {"tweet.read", "users.read", "tweet.write", "tweet.moderate.write"} <= set(spec.scopes)
    assert {"dm.read", "dm.write"} <= set(spec.scopes)  # private replies
    assert "offline.access" in spec.scopes
    assert Action.REPORT not in XConnector.actions and "report" in XConnector.not_supported


def test_registry_finds_the_connector() -> None:
    from beffroi.connectors.registry import connector_class

    assert connector_class("x") is XConnector


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"username": "mairie"}, "user_id"),
        ({"user_id": "12", "username": "mairie", "base_url": "http://api.x.com"}, "https"),
        ({"user_id": "12", "username": "mairie", "base_url": "https://api.x.com/2"}, "address"),
        ({"user_id": "mairie", "username": "mairie"}, "numeric"),
    ],
)
def test_invalid_options_raise_configuration_error(settings: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        XConnector(settings, {"access_token": "t"})


def test_snowflakes() -> None:
    # X's documented example: 1212092628029698048 was posted on 2019-12-31.
    moment = snowflake_time("1212092628029698048")
    assert moment is not None and moment.date().isoformat() == "2019-12-31"


# --- fetch -----------------------------------------------------------------------------------


def populate(server: FakeX) -> dict[str, Any]:
    citizen = server.add_user("citoyen", "Un citoyen")
    neighbour = server.add_user("voisine", "Une voisine")
    root = server.add_tweet("Travaux rue de la Paix https://ville.example/travaux", days_ago=2)
    comment = server.add_tweet(
        "Jusqu'à quand &amp; pourquoi ?",
        author=citizen,
        in_reply_to=root["id"],
        days_ago=1.5,
        media=({"type": "photo", "url": "https://pbs.twimg.com/media/a.jpg", "alt_text": "Rue"},),
    )
    own_reply = server.add_tweet("Jusqu'à vendredi", in_reply_to=comment["id"], days_ago=1.4)
    deep = server.add_tweet("Merci !", author=neighbour, in_reply_to=comment["id"], days_ago=1.2)
    mention = server.add_tweet("@mairie la fontaine fuit", author=neighbour, days_ago=1)
    heard = server.add_tweet("La fontaine de la place fuit", author=citizen, days_ago=0.5)
    old = server.add_tweet("Vieux message @mairie", author=citizen, days_ago=9)
    return {
        "citizen": citizen,
        "neighbour": neighbour,
        "root": root,
        "comment": comment,
        "own_reply": own_reply,
        "deep": deep,
        "mention": mention,
        "heard": heard,
        "old": old,
    }


def test_first_sync_brings_posts_mentions_replies_and_search_normalized(server: FakeX) -> None:
    world = populate(server)
    items, cursor = drain(connect(server, query="fontaine"), {})
    by_id = {item.platform_id: item for item in items}
    assert len(items) == len(by_id)
    assert by_id[world["root"]["id"]].kind is ItemKind.POST
    assert by_id[world["own_reply"]["id"]].kind is ItemKind.REPLY
    comment = by_id[world["comment"]["id"]]
    assert comment.kind is ItemKind.COMMENT
    assert comment.thread_id == world["root"]["id"] and comment.parent_id == world["root"]["id"]
    assert comment.text == "@mairie Jusqu'à quand & pourquoi ?"
    assert comment.author.handle == "citoyen" and comment.author.display_name == "Un citoyen"
    assert comment.author.url == "https://x.com/citoyen"
    assert comment.url == f"https://x.com/citoyen/status/{comment.platform_id}"
    assert comment.media == (Media("image", "https://pbs.twimg.com/media/a.jpg", "Rue"),)
    assert comment.metrics["like_count"] == 2 and comment.language == "fr"
    assert comment.created_at.tzinfo is not None
    assert comment.raw["data"]["id"] == comment.platform_id
    assert comment.raw["includes"]["users"][0]["username"] == "citoyen"
    json.dumps(dict(comment.raw))
    assert by_id[world["root"]["id"]].urls == ("https://ville.example/travaux",)
    deep = by_id[world["deep"]["id"]]
    assert deep.kind is ItemKind.REPLY and deep.parent_id == world["comment"]["id"]
    assert deep.thread_id == world["root"]["id"]
    assert by_id[world["mention"]["id"]].kind is ItemKind.MENTION  # yielded once, as a mention
    assert by_id[world["heard"]["id"]].kind is ItemKind.POST
    assert world["old"]["id"] not in by_id  # the first sync reads 7 days
    assert cursor["conversations"] == [world["root"]["id"]]
    for stream in ("posts", "mentions", "replies", "search"):
        assert "pass" not in cursor[stream] and cursor[stream]["since_id"]


def test_requests_ask_for_the_documented_fields_as_the_user(server: FakeX) -> None:
    populate(server)
    drain(connect(server, query="fontaine"), {})
    mentions = server.requests_to("GET", f"/2/users/{server.me['id']}/mentions")[0]
    assert mentions.authorization == f"Bearer {server.token}"
    assert set(mentions.param("tweet.fields").split(",")) >= {
        "created_at",
        "author_id",
        "conversation_id",
        "in_reply_to_user_id",
        "referenced_tweets",
        "lang",
        "public_metrics",
        "entities",
        "attachments",
        "note_tweet",
    }
    assert mentions.param("expansions") == (
        "author_id,attachments.media_keys,attachments.poll_ids,referenced_tweets.id,"
        "referenced_tweets.id.author_id"
    )
    assert "variants" in mentions.param("media.fields").split(",")
    assert mentions.param("poll.fields") == "options"
    assert mentions.param("user.fields") == "username,name"
    assert mentions.param("max_results") == "5" and mentions.param("start_time")
    posts = server.requests_to("GET", f"/2/users/{server.me['id']}/tweets")[0]
    assert posts.param("exclude") == "retweets"
    searches = [r.param("query") for r in server.requests_to("GET", "/2/tweets/search/recent")]
    root_conversation = next(t for t in server.tweets.values() if t["text"].startswith("Travaux"))
    assert searches == [f"(conversation_id:{root_conversation['id']}) -from:mairie", "fontaine"]
    assert all(
        r.param("max_results") == "10" for r in server.requests_to("GET", "/2/tweets/search/recent")
    )


def test_a_direct_reply_to_an_old_post_is_a_comment(server: FakeX) -> None:
    citizen = server.add_user("citoyen")
    old = server.add_tweet("Annonce d'il y a un mois", days_ago=30)
    late = server.add_tweet("Toujours d'actualité ?", author=citizen, in_reply_to=old["id"])
    items, _ = drain(connect(server), {})
    (item,) = [i for i in items if i.platform_id == late["id"]]
    assert item.kind is ItemKind.COMMENT and item.thread_id == old["id"]


def test_a_polls_options_follow_its_text(server: FakeX) -> None:
    citizen = server.add_user("citoyen")
    poll = server.add_tweet(
        "@mairie Quel jour pour le marché ?", author=citizen, poll=("Samedi", "Dimanche")
    )
    items, _ = drain(connect(server), {})
    (item,) = [i for i in items if i.platform_id == poll["id"]]
    assert item.text == "@mairie Quel jour pour le marché ?\n- Samedi\n- Dimanche"
    assert item.raw["includes"]["polls"][0]["options"][1]["label"] == "Dimanche"


def test_incremental_sync_uses_since_id(server: FakeX) -> None:
    world = populate(server)
    connector = connect(server, query="fontaine")
    _, cursor = drain(connector, {})
    new = server.add_tweet("@mairie encore", author=world["citizen"])
    late = server.add_tweet(
        "Et demain ?", author=world["neighbour"], in_reply_to=world["deep"]["id"]
    )
    server.requests.clear()
    items, _ = drain(connector, cursor)
    assert {i.platform_id for i in items} == {new["id"], late["id"]}
    mentions = server.requests_to("GET", f"/2/users/{server.me['id']}/mentions")[0]
    assert mentions.param("since_id") == cursor["mentions"]["since_id"]
    assert mentions.param("start_time") is None


def test_pages_walk_newest_first_and_a_resume_continues_the_pass(server: FakeX) -> None:
    citizen = server.add_user("citoyen")
    mentions = [server.add_tweet(f"@mairie n°{n}", author=citizen)["id"] for n in range(12)]
    batches = []
    server.fail_after(3)  # posts (1 page), then 2 pages of mentions, then the platform fails
    with pytest.raises(TransientError):
        for batch in connect(server).fetch({}):
            batches.append(batch)
    server.heal()
    cursor = json.loads(json.dumps(batches[-1].cursor))
    pending = cursor["mentions"]["pass"]
    assert pending["next_token"] and pending["newest_id"] == mentions[-1]
    assert "since_id" not in cursor["mentions"]
    got = {i.platform_id for b in batches for i in b.items}
    assert got == set(mentions[2:])  # newest first: 5 then 5
    server.requests.clear()
    resumed, final = drain(connect(server), cursor)
    assert {i.platform_id for i in resumed} == set(mentions[:2])
    first = server.requests_to("GET", f"/2/users/{server.me['id']}/mentions")[0]
    assert first.param("pagination_token") == pending["next_token"]
    assert first.param("start_time") == pending["params"]["start_time"]
    assert final["mentions"] == {"since_id": mentions[-1]}


def test_a_refused_stored_page_token_restarts_the_pass(server: FakeX) -> None:
    citizen = server.add_user("citoyen")
    mentions = [server.add_tweet(f"@mairie n°{n}", author=citizen)["id"] for n in range(3)]
    cursor = {
        "user_id": server.me["id"],
        "mentions": {"pass": {"params": {}, "next_token": "expired", "newest_id": "1"}},
    }
    items, final = drain(connect(server), cursor)
    assert set(mentions) <= {i.platform_id for i in items}
    assert final["mentions"] == {"since_id": mentions[-1]}


def test_cursor_of_another_account_starts_afresh(server: FakeX) -> None:
    world = populate(server)
    items, _ = drain(connect(server), {"user_id": "999", "mentions": {"since_id": "1" * 19}})
    assert world["mention"]["id"] in {i.platform_id for i in items}


def test_changed_query_starts_the_search_afresh(server: FakeX) -> None:
    world = populate(server)
    _, cursor = drain(connect(server, query="fontaine"), {})
    items, cursor = drain(connect(server, query="place"), cursor)
    assert world["heard"]["id"] in {i.platform_id for i in items}
    assert cursor["search"]["query"] == "place"


def test_partial_errors_in_a_200_are_tolerated(server: FakeX) -> None:
    world = populate(server)
    server.partial_errors()
    items, _ = drain(connect(server), {})
    assert world["mention"]["id"] in {i.platform_id for i in items}


# --- rate limits and errors ------------------------------------------------------------------


def test_429_closes_the_endpoint_until_the_reset(server: FakeX) -> None:
    populate(server)
    server.rate_limit(1, reset_in=600)
    connector = connect(server)
    with pytest.raises(RateLimited) as raised:
        drain(connector, {})
    assert raised.value.retry_after is not None and 590 <= raised.value.retry_after <= 600
    asked = len(server.requests)
    with pytest.raises(RateLimited):
        drain(connector, {})
    assert len(server.requests) == asked, "a closed window must not be asked again"


def test_a_spent_window_on_success_closes_the_endpoint(server: FakeX) -> None:
    world = populate(server)
    for n in range(6):  # a second page of mentions
        server.add_tweet(f"@mairie n°{n}", author=world["citizen"])
    server.spend_window("users_mentions")
    connector = connect(server)
    with pytest.raises(RateLimited):
        drain(connector, {})
    mentions = server.requests_to("GET", f"/2/users/{server.me['id']}/mentions")
    assert len(mentions) == 1
    # Other endpoints (actions) stay open: X counts its windows per endpoint.
    assert connector.publish("Toujours là").ok


@pytest.mark.parametrize("status", [429, 403])
def test_monthly_usage_cap_waits_for_next_month(server: FakeX, status: int) -> None:
    populate(server)
    server.usage_cap(1, status=status)
    connector = connect(server)
    with pytest.raises(RateLimited, match="monthly usage cap") as raised:
        drain(connector, {})
    now = datetime.now(UTC)
    assert raised.value.retry_after is not None
    assert raised.value.retry_after <= 31 * 86400
    next_month = now.timestamp() + raised.value.retry_after
    assert datetime.fromtimestamp(next_month, tz=UTC).day == 1
    with pytest.raises(RateLimited):  # every endpoint of the token is closed
        connector.publish("x")


def test_revoked_token_says_reconnect_without_the_token(server: FakeX) -> None:
    server.revoke_token()
    with pytest.raises(AuthError, match="Reconnect the account") as raised:
        drain(connect(server), {})
    assert server.token not in str(raised.value)


def test_not_enrolled_names_the_access_level(server: FakeX) -> None:
    server.not_enrolled(1)
    with pytest.raises(AuthError, match="Appropriate Level of API Access"):
        drain(connect(server), {})


def test_invalid_listening_query_is_a_configuration_error(server: FakeX) -> None:
    with pytest.raises(ConfigurationError, match="X said"):
        drain(connect(server, query="bad:operator"), {})


def test_dropped_connection_is_transient(server: FakeX) -> None:
    server.fail_after(0, status=None)
    with pytest.raises(TransientError):
        drain(connect(server), {})


def test_token_never_reaches_the_logs(server: FakeX, caplog: pytest.LogCaptureFixture) -> None:
    populate(server)
    with caplog.at_level(logging.DEBUG):
        drain(connect(server, query="fontaine"), {})
        connect(server).publish("Bonjour")
    assert caplog.records, "tweepy logs its requests at DEBUG"
    assert server.token not in caplog.text
    assert "Unexpected parameter" not in caplog.text  # tweepy knows every parameter sent


# --- actions ---------------------------------------------------------------------------------


def test_delete_refuses_other_peoples_posts(server: FakeX) -> None:
    world = populate(server)
    ref = ItemRef(world["comment"]["id"], ItemKind.COMMENT, author_id=world["citizen"]["id"])
    with pytest.raises(UnsupportedAction, match="Hide the reply instead"):
        connect(server).delete(ref)
    assert not server.requests_to("DELETE", "/2/tweets")


def test_hiding_outside_the_accounts_conversations_is_refused(server: FakeX) -> None:
    world = populate(server)
    with pytest.raises(AuthError, match="conversations it started"):
        connect(server).hide(ItemRef(world["mention"]["id"], ItemKind.MENTION))


def test_publish_with_a_video_is_refused(server: FakeX) -> None:
    with pytest.raises(UnsupportedAction, match="video"):
        connect(server).publish("x", (Media("video", "https://example.org/a.mp4"),))


def test_reply_to_a_deleted_post_is_refused(server: FakeX) -> None:
    with pytest.raises(Refused, match="deleted or not visible"):
        connect(server).reply(ItemRef("1234567890123456789"), "Merci")


def test_a_private_reply_to_someone_who_does_not_accept_it_is_declined(server: FakeX) -> None:
    world = populate(server)
    ref = ItemRef(world["comment"]["id"], ItemKind.COMMENT, author_id=world["citizen"]["id"])
    server.refuse_dms(world["citizen"])
    with pytest.raises(Refused, match="does not accept Direct Messages") as raised:
        connect(server).private_reply(ref, "Bonjour")
    assert "You cannot send messages to this user." in str(raised.value)
    assert not server.dm_events


def test_a_private_reply_without_the_dm_permission_asks_to_reconnect(server: FakeX) -> None:
    world = populate(server)
    ref = ItemRef(world["comment"]["id"], ItemKind.COMMENT, author_id=world["citizen"]["id"])
    server.drop_scope("dm.write")
    with pytest.raises(AuthError, match=r"dm\.write") as raised:
        connect(server).private_reply(ref, "Bonjour")
    assert server.token not in str(raised.value) and not server.dm_events
    with pytest.raises(UnsupportedAction, match="account's own"):
        connect(server).private_reply(ItemRef("1", author_id=server.me["id"]), "Bonjour")


def test_unsupported_actions_say_why(server: FakeX) -> None:
    connector = connect(server)
    with pytest.raises(UnsupportedAction, match="no endpoint to report"):
        connector.report(ItemRef("1"), "insulte")
    with pytest.raises(UnsupportedAction, match="cannot edit"):
        connector.edit(ItemRef("1"), "x")


# --- OAuth -----------------------------------------------------------------------------------


def test_accounts_from_token_reads_users_me(server: FakeX) -> None:
    token = {
        "access_token": server.token,
        "refresh_token": "r3fresh",
        "expires_in": 7200,
        "scope": "tweet.read users.read",
    }
    before = time.time()
    (account,) = XConnector.accounts_from_token(token, {"base_url": server.base_url})
    assert account.name == "@mairie"
    assert account.settings == {
        "user_id": server.me["id"],
        "username": "mairie",
        "base_url": server.base_url,
    }
    assert account.credentials["access_token"] == server.token
    assert account.credentials["refresh_token"] == "r3fresh"
    assert before + 7200 - 5 <= account.credentials["expires_at"] <= time.time() + 7200
    me = server.requests_to("GET", "/2/users/me")[-1]
    assert me.param("user.fields") == "username,name"
    connector = XConnector(account.settings, account.credentials)
    assert expiry_of(connector.credentials) is not None


def test_accounts_from_a_refused_token(server: FakeX) -> None:
    server.revoke_token()
    with pytest.raises(AuthError, match="Reconnect"):
        XConnector.accounts_from_token({"access_token": "nope"}, {"base_url": server.base_url})
