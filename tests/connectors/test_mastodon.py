"""The Mastodon connector against a loopback server that answers as Mastodon documents."""

from __future__ import annotations

import json
import socket
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    ConnectorError,
    FetchBatch,
    ItemKind,
    ItemRef,
    MalformedPayload,
    NormalizedItem,
    NotFound,
    RateLimited,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.mastodon import MastodonConnector, html_to_text, normalise_base_url
from tests.fakes.mastodon_server import FakeMastodon

# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeMastodon]:
    with FakeMastodon() as fake:
        yield fake


def connect(server: FakeMastodon, page_size: int = 40, **settings: str) -> MastodonConnector:
    return MastodonConnector(
        {"base_url": server.base_url, **settings},
        {"access_token": server.token},
        timeout=5,
        page_size=page_size,
    )


def drain(
    connector: MastodonConnector, cursor: Mapping[str, Any]
) -> tuple[list[NormalizedItem], dict[str, Any]]:
    """Every item of a sync and the cursor of its last batch (JSON round-tripped)."""
    items: list[NormalizedItem] = []
    last = dict(cursor)
    for batch in connector.fetch(cursor):
        items.extend(batch.items)
        last = json.loads(json.dumps(batch.cursor))
    return items, last


def by_id(items: list[NormalizedItem]) -> dict[str, NormalizedItem]:
    return {item.platform_id: item for item in items}


@dataclass
class World:
    """Ids of what :func:`populate` put on the server."""

    posts: list[str]
    own_reply: str
    comments: list[str]
    deep_reply: str
    mentions: list[str]
    dms: list[str]
    conversations: dict[str, list[str]]

    @property
    def rescanned(self) -> set[str]:
        """Items that every sync re-reads by design (replies under recent posts)."""
        return {*self.comments, self.deep_reply, self.own_reply}

    @property
    def may_repeat_after_crash(self) -> set[str]:
        """Replies (re-read every sync) and DMs: when a crash falls between the conversations
        stage and the later ones, the resumed sync's own-statuses and mentions stages meet
        those DMs again (downstream keeps one item per platform id)."""
        return self.rescanned | set(self.dms)

    @property
    def everything(self) -> set[str]:
        return {
            *self.posts,
            self.own_reply,
            *self.comments,
            self.deep_reply,
            *self.mentions,
            *self.dms,
        }


def populate(server: FakeMastodon) -> World:
    """An organisation account with posts, comments, a thread, mentions and DMs."""
    alice = server.add_account("alice", domain="other.example", display_name="Alice")
    bob = server.add_account("bob", display_name="Bob")
    carol = server.add_account("carol", domain="third.example")
    dave = server.add_account("dave")
    posts = [server.add_status(f"Post {n} #Ville", days_ago=5 - n)["id"] for n in range(5)]
    c1 = server.add_status("Merci !", account=alice, in_reply_to=posts[0])["id"]
    c2 = server.add_status("Et le marché ?", account=bob, in_reply_to=posts[0])["id"]
    deep = server.add_status("@bob il est mardi", account=alice, in_reply_to=c2)["id"]
    own_reply = server.add_status("@alice avec plaisir", in_reply_to=c1)["id"]
    c3 = server.add_status("Bravo", account=bob, in_reply_to=posts[3])["id"]
    mentions = [
        server.add_status("Bonjour @mairie", account=bob)["id"],
        server.add_status("@mairie la route est fermée", account=alice)["id"],
        server.add_status("Question pour @mairie", account=dave)["id"],
    ]
    d1 = server.add_dm(alice, "Une question privée")["id"]
    d2 = server.add_status(
        "@alice@other.example voici la réponse", in_reply_to=d1, visibility="direct"
    )["id"]
    d3 = server.add_dm(bob, "Bonjour")["id"]
    d4 = server.add_dm(bob, "Vous êtes là ?", in_reply_to=d3)["id"]
    d5 = server.add_dm(carol, "Allo")["id"]
    d6 = server.add_dm(dave, "Coucou")["id"]
    return World(
        posts=posts,
        own_reply=own_reply,
        comments=[c1, c2, c3],
        deep_reply=deep,
        mentions=mentions,
        dms=[d1, d2, d3, d4, d5, d6],
        conversations={d1: [d1, d2], d3: [d3, d4], d5: [d5], d6: [d6]},
    )


def error_text(exc: BaseException) -> str:
    """The message, the chain of causes and the traceback, as a log would show them."""
    return "".join(traceback.format_exception(exc))


# --- options ---------------------------------------------------------------------------------


def test_declares_platform_options_and_actions() -> None:
    assert MastodonConnector.platform == "mastodon"
    assert MastodonConnector.options["access_token"].secret
    assert MastodonConnector.options["base_url"].required
    assert {
        Action.REPLY,
        Action.PRIVATE_REPLY,
        Action.DELETE,
        Action.REPORT,
        Action.PUBLISH,
    } == set(MastodonConnector.actions)
    assert not connect_dummy().supports(Action.HIDE)
    assert connect_dummy().supports(Action.REPORT)


def connect_dummy() -> MastodonConnector:
    return MastodonConnector({"base_url": "https://mastodon.example"}, {"access_token": "t0k3n"})


@pytest.mark.parametrize(
    ("settings", "credentials", "expected"),
    [
        ({}, {"access_token": "x"}, "base_url"),
        ({"base_url": "https://mastodon.example"}, {}, "access_token"),
        ({"base_url": "http://mastodon.example"}, {"access_token": "x"}, "https"),
        ({"base_url": "https://mastodon.example/@mairie"}, {"access_token": "x"}, "address"),
        (
            {"base_url": "https://mastodon.example", "history_days": "many"},
            {"access_token": "x"},
            "history_days",
        ),
    ],
)
def test_invalid_options_raise_configuration_error(
    settings: dict[str, str], credentials: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        MastodonConnector(settings, credentials)


def test_base_url_is_normalised() -> None:
    assert normalise_base_url("piaille.fr/") == "https://piaille.fr"
    assert normalise_base_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_registry_finds_the_connector() -> None:
    from beffroi.connectors.registry import connector_class

    assert connector_class("mastodon") is MastodonConnector


# --- fetch -----------------------------------------------------------------------------------


def test_first_sync_fetches_everything_across_pages(server: FakeMastodon) -> None:
    world = populate(server)
    items, cursor = drain(connect(server), {})

    counts = Counter(item.platform_id for item in items)
    assert [pid for pid, n in counts.items() if n > 1] == []
    found = by_id(items)
    assert set(found) == world.everything

    for post in world.posts:
        assert found[post].kind == ItemKind.POST
        assert found[post].thread_id == post
        assert found[post].author.handle == "mairie"
    assert found[world.own_reply].kind == ItemKind.REPLY
    assert found[world.own_reply].parent_id == world.comments[0]
    c1, c2, c3 = (found[c] for c in world.comments)
    assert (c1.kind, c1.thread_id, c1.parent_id) == (
        ItemKind.COMMENT,
        world.posts[0],
        world.posts[0],
    )
    assert (c3.kind, c3.thread_id) == (ItemKind.COMMENT, world.posts[3])
    deep = found[world.deep_reply]
    assert (deep.kind, deep.thread_id, deep.parent_id) == (
        ItemKind.REPLY,
        world.posts[0],
        c2.platform_id,
    )
    assert c1.author.handle == "alice@other.example"
    assert c1.author.url == "https://other.example/@alice"
    for mention in world.mentions:
        assert found[mention].kind == ItemKind.MENTION
    for root, messages in world.conversations.items():
        for message in messages:
            assert found[message].kind == ItemKind.MESSAGE
            assert found[message].thread_id == root
    assert found[world.dms[1]].parent_id == world.dms[0]
    assert found[world.dms[1]].author.handle == "mairie"

    assert cursor["account_id"] == server.me["id"]
    assert cursor["statuses_since_id"] == max(
        [*world.posts, world.own_reply, world.dms[1]], key=int
    )
    assert cursor["conversations_since_id"] == max(world.dms, key=int)
    mention_ids = [n["id"] for n in server.notifications]
    assert cursor["mentions_since_id"] == max(mention_ids, key=int)

    # Pagination really happened, through the Link headers.
    statuses = server.requests_to("GET", f"/api/v1/accounts/{server.me['id']}/statuses")
    assert any("max_id" in r.query for r in statuses)
    notifications = server.requests_to("GET", "/api/v1/notifications")
    assert len(notifications) >= 3
    assert all(r.query.get("types[]") == ["mention"] for r in notifications)
    assert len(server.requests_to("GET", "/api/v1/conversations")) >= 2


def test_batches_are_oldest_first_with_cursors_that_only_advance(server: FakeMastodon) -> None:
    populate(server)
    batches = list(connect(server).fetch({}))
    assert len(batches) > 4
    for key in ("statuses_since_id", "mentions_since_id", "conversations_since_id"):
        values = [int(b.cursor[key]) for b in batches if key in b.cursor]
        assert values == sorted(values)
    for batch in batches:
        json.dumps(batch.cursor)
        for item in batch.items:
            json.dumps(item.raw)


def test_second_sync_with_stored_cursor_brings_nothing_new(server: FakeMastodon) -> None:
    world = populate(server)
    connector = connect(server)
    _, cursor = drain(connector, {})
    again, cursor2 = drain(connector, cursor)

    assert set(by_id(again)) <= world.rescanned
    assert {item.kind for item in again} <= {ItemKind.COMMENT, ItemKind.REPLY}
    for key in ("statuses_since_id", "mentions_since_id", "conversations_since_id"):
        assert cursor2[key] == cursor[key]
    # The forward requests asked for what is newer than the cursor.
    mentions = server.requests_to("GET", "/api/v1/notifications")[-1]
    assert mentions.query["min_id"] == [cursor["mentions_since_id"]]

    bob = next(a for a in server.accounts.values() if a["username"] == "bob")
    alice = next(a for a in server.accounts.values() if a["username"] == "alice")
    post = server.add_status("Nouveau post")["id"]
    comment = server.add_status("Super", account=bob, in_reply_to=post)["id"]
    mention = server.add_status("Encore @mairie", account=alice)["id"]
    dm = server.add_dm(alice, "Et maintenant ?", in_reply_to=world.dms[1])["id"]

    new, cursor3 = drain(connector, cursor2)
    found = by_id(new)
    assert set(found) - world.rescanned == {post, comment, mention, dm}
    assert found[post].kind == ItemKind.POST
    assert (found[comment].kind, found[comment].thread_id) == (ItemKind.COMMENT, post)
    assert found[mention].kind == ItemKind.MENTION
    assert (found[dm].kind, found[dm].thread_id) == (ItemKind.MESSAGE, world.dms[0])
    assert int(cursor3["statuses_since_id"]) == int(post)
    assert int(cursor3["conversations_since_id"]) == int(dm)


def test_forward_sync_walks_pages_with_min_id(server: FakeMastodon) -> None:
    populate(server)
    connector = connect(server)
    _, cursor = drain(connector, {})
    bob = server.add_account("bob2")
    mentions = [server.add_status(f"@mairie n°{n}", account=bob)["id"] for n in range(8)]

    batches = [b for b in connector.fetch(cursor) if set(by_id(b.items)) & set(mentions)]
    assert [i.platform_id for b in batches for i in b.items] == mentions  # oldest first
    assert len(batches) == 3  # the server gives at most 3 per page
    marks = [int(b.cursor["mentions_since_id"]) for b in batches]
    assert marks == sorted(marks) and len(set(marks)) == 3
    forward = [r for r in server.requests_to("GET", "/api/v1/notifications") if "min_id" in r.query]
    assert forward[0].query["min_id"] == [cursor["mentions_since_id"]]
    assert len(forward) == 4  # three pages, then an empty one ends the walk


def test_first_sync_stops_at_history_days_and_replies_window(server: FakeMastodon) -> None:
    bob = server.add_account("bob")
    old = server.add_status("Vieux post", days_ago=40)["id"]
    old_comment = server.add_status("Vieux commentaire", account=bob, in_reply_to=old, days_ago=39)
    mid = server.add_status("Post du mois", days_ago=10)["id"]
    mid_comment = server.add_status("Réponse", account=bob, in_reply_to=mid, days_ago=9)["id"]
    recent = server.add_status("Post récent", days_ago=1)["id"]

    connector = connect(server, history_days="30", replies_days="3")
    items, cursor = drain(connector, {})
    found = by_id(items)
    assert old not in found
    assert old_comment["id"] not in found
    assert {mid, recent} <= set(found)
    # First sync reads replies over the whole history window.
    assert mid_comment in found

    # Later syncs re-read replies only for the last replies_days: the mid post is not re-read,
    # but a new reply still arrives, as a mention (Mastodon replies mention their parent).
    late = server.add_status("Tardif", account=bob, in_reply_to=mid)["id"]
    again, _ = drain(connector, cursor)
    assert by_id(again)[late].kind == ItemKind.MENTION
    contexts = [r.path for r in server.requests_to("GET", "/api/v1/statuses/")]
    assert f"/api/v1/statuses/{old}/context" not in contexts
    assert old_comment["id"] not in by_id(again)


def test_context_of_a_vanished_status_is_skipped(server: FakeMastodon) -> None:
    world = populate(server)
    server.not_found(world.posts[0])
    items, _ = drain(connect(server), {})
    found = by_id(items)
    # The comments under the vanished post are not read through its context...
    assert world.deep_reply not in found
    # ...but everything else is, and direct replies still arrive as mentions.
    assert found[world.comments[0]].kind == ItemKind.MENTION
    assert world.comments[2] in found


def test_token_of_another_account_restarts_the_cursor(server: FakeMastodon) -> None:
    world = populate(server)
    stale = {"account_id": "1", "statuses_since_id": "999999999999999999999"}
    items, cursor = drain(connect(server), stale)
    assert set(by_id(items)) == world.everything
    assert cursor["account_id"] == server.me["id"]


def sync_until_crash(
    connector: MastodonConnector, cursor: dict[str, Any]
) -> tuple[list[NormalizedItem], dict[str, Any], bool]:
    """Ingest batches until the server fails; the cursor stored after the last one."""
    items: list[NormalizedItem] = []
    try:
        for batch in connector.fetch(cursor):
            for item in batch.items:
                json.dumps(item.raw)
            items.extend(batch.items)
            cursor = json.loads(json.dumps(batch.cursor))
    except TransientError:
        return items, cursor, True
    return items, cursor, False


@pytest.mark.parametrize("crash_after", range(0, 40, 4))
def test_crash_mid_first_sync_resumes_from_last_batch_cursor(
    server: FakeMastodon, crash_after: int
) -> None:
    world = populate(server)
    connector = connect(server, page_size=3)  # several batches per stream
    server.fail_after(crash_after)
    before, stored, _ = sync_until_crash(connector, {})
    server.heal()
    after, _ = drain(connector, stored)

    assert set(by_id(before)) | set(by_id(after)) == world.everything
    twice = set(by_id(before)) & set(by_id(after))
    unexpected = twice - world.may_repeat_after_crash
    assert not unexpected, f"re-read after resuming: {unexpected}"
    assert len(by_id(after)) == len(after)
    assert len(by_id(before)) == len(before)


@pytest.mark.parametrize("crash_after", range(1, 24, 3))
def test_crash_mid_forward_sync_loses_nothing_and_repeats_only_dms(
    server: FakeMastodon, crash_after: int
) -> None:
    populate(server)
    connector = connect(server)
    _, cursor = drain(connector, {})
    bob = server.add_account("bob2")
    new = {server.add_status(f"Post {n}")["id"] for n in range(7)}
    new |= {server.add_status(f"@mairie message {n}", account=bob)["id"] for n in range(8)}
    new |= {server.add_dm(server.add_account(f"dm{n}"), "Bonjour")["id"] for n in range(4)}

    server.fail_after(crash_after)
    before, stored, crashed = sync_until_crash(connector, cursor)
    assert crashed
    server.heal()
    after, _ = drain(connector, stored)
    fresh_before = set(by_id(before)) & new
    fresh_after = set(by_id(after)) & new
    assert fresh_before | fresh_after == new
    assert not (fresh_before & fresh_after) - {
        i for i in new if server.statuses[i]["visibility"] == "direct"
    }


# --- map_item --------------------------------------------------------------------------------

STATUS_PAYLOAD: dict[str, Any] = {
    "id": "103270115826048975",
    "created_at": "2019-12-08T03:48:33.901Z",
    "in_reply_to_id": "103270115826000000",
    "in_reply_to_account_id": "1",
    "sensitive": False,
    "spoiler_text": "",
    "visibility": "public",
    "language": "en",
    "uri": "https://mastodon.social/users/Gargron/statuses/103270115826048975",
    "url": "https://mastodon.social/@Gargron/103270115826048975",
    "replies_count": 5,
    "reblogs_count": 6,
    "favourites_count": 11,
    "favourited": False,
    "reblogged": False,
    "muted": False,
    "bookmarked": False,
    "content": (
        "<p>&quot;I lost my inheritance with one wrong digit on my sort code&quot;"
        '<br /><a href="https://www.theguardian.com/money/2019/dec/07/i-lost-my-'
        'inheritance-with-one-wrong-digit-on-my-sort-code" rel="nofollow noopener" '
        'target="_blank"><span class="invisible">https://www.</span><span class="ellipsis">'
        'theguardian.com/money/2019/de</span><span class="invisible">c/07/i-lost-my-'
        "inheritance-with-one-wrong-digit-on-my-sort-code</span></a></p>"
        '<p>Ping <span class="h-card"><a href="https://mastodon.social/@alice" '
        'class="u-url mention">@<span>alice</span></a></span> &amp; '
        '<a href="https://mastodon.social/tags/banks" class="mention hashtag" rel="tag">'
        "#<span>banks</span></a></p>"
    ),
    "reblog": None,
    "application": {"name": "Web", "website": None},
    "account": {
        "id": "1",
        "username": "Gargron",
        "acct": "Gargron",
        "display_name": "Eugen",
        "url": "https://mastodon.social/@Gargron",
        "avatar": "https://files.mastodon.social/accounts/avatars/000/000/001/original/d.png",
        "created_at": "2016-03-16T14:34:26.392Z",
        "last_status_at": "2019-12-08",
        "bot": False,
    },
    "media_attachments": [
        {
            "id": "22345792",
            "type": "image",
            "url": "https://files.mastodon.social/media_attachments/files/022/345/792/original/57859aede991da25.jpeg",
            "preview_url": "https://files.mastodon.social/small/57859aede991da25.jpeg",
            "remote_url": None,
            "description": "A sort code form",
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        },
        {
            "id": "22345793",
            "type": "gifv",
            "url": "https://files.mastodon.social/media_attachments/files/022/345/793/original/a.mp4",
            "description": None,
        },
    ],
    "mentions": [
        {
            "id": "2",
            "username": "alice",
            "url": "https://mastodon.social/@alice",
            "acct": "alice",
        }
    ],
    "tags": [{"name": "banks", "url": "https://mastodon.social/tags/banks"}],
    "emojis": [],
    "card": None,
    "poll": None,
}


def test_map_item_on_a_documented_status_payload() -> None:
    item = connect_dummy().map_item(STATUS_PAYLOAD, ItemKind.COMMENT)
    assert item.platform_id == "103270115826048975"
    assert item.kind == ItemKind.COMMENT
    assert item.text == (
        '"I lost my inheritance with one wrong digit on my sort code"\n'
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance-with-one-wrong-"
        "digit-on-my-sort-code\n\nPing @alice & #banks"
    )
    assert item.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert item.created_at.tzinfo is not None
    assert item.author.platform_id == "1"
    assert item.author.handle == "Gargron"
    assert item.author.display_name == "Eugen"
    assert item.author.url == "https://mastodon.social/@Gargron"
    assert item.parent_id == "103270115826000000"
    assert item.thread_id is None
    assert item.url == STATUS_PAYLOAD["url"]
    assert item.urls == (
        "https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance-with-one-wrong-"
        "digit-on-my-sort-code",
    )
    assert [(m.kind, m.description) for m in item.media] == [
        ("image", "A sort code form"),
        ("video", ""),
    ]
    assert item.media[0].url.endswith("57859aede991da25.jpeg")
    assert item.metrics == {"replies_count": 5, "reblogs_count": 6, "favourites_count": 11}
    assert item.language == "en"
    assert json.loads(json.dumps(item.raw)) == STATUS_PAYLOAD


def test_map_item_of_a_post_is_its_own_thread_and_keeps_content_warnings() -> None:
    payload = {**STATUS_PAYLOAD, "in_reply_to_id": None, "spoiler_text": "Politique"}
    item = connect_dummy().map_item(payload, ItemKind.POST)
    assert item.thread_id == item.platform_id
    assert item.parent_id is None
    assert item.text.startswith('Politique\n\n"I lost')


def test_raw_of_fetched_items_is_json_with_iso_dates(server: FakeMastodon) -> None:
    server.add_status("Bonjour", media=[{"type": "image", "description": "Une photo"}])
    items, _ = drain(connect(server), {})
    (item,) = items
    raw = json.loads(json.dumps(item.raw))
    assert raw["created_at"].endswith("Z")
    assert datetime.fromisoformat(raw["created_at"]) == item.created_at
    assert raw["account"]["acct"] == "mairie"
    assert item.media[0].description == "Une photo"
    assert type(raw["id"]) is str


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": None}, "id"),
        ({"id": ""}, "id"),
        ({"created_at": None}, "created_at"),
        ({"created_at": "yesterday"}, "created_at"),
        ({"content": None}, "content"),
        ({"content": 42}, "content"),
        ({"account": None}, "account"),
        ({"account": "Gargron"}, "account"),
        ({"account": {"id": "1"}}, "acct"),
        ({"account": {"acct": "x"}}, "id"),
        ({"media_attachments": "nope"}, "media_attachments"),
    ],
)
def test_map_item_rejects_invalid_fields(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedPayload, match=field):
        connect_dummy().map_item({**STATUS_PAYLOAD, **change}, ItemKind.POST)


@pytest.mark.parametrize("field", ["id", "created_at", "content", "account"])
def test_map_item_rejects_missing_fields(field: str) -> None:
    payload = {k: v for k, v in STATUS_PAYLOAD.items() if k != field}
    with pytest.raises(MalformedPayload, match=f"'{field}'"):
        connect_dummy().map_item(payload, ItemKind.POST)


def test_html_to_text() -> None:
    text, links = html_to_text(
        "<p>Line one<br>line   two&nbsp;&eacute;</p><p>Para <b>two</b>\n"
        'with <a href="https://ex.org/x">https://ex.org/x</a></p>'
        "<ul><li>a</li><li>b</li></ul><script>alert(1)</script>"
    )
    assert text == "Line one\nline two\xa0é\n\nPara two with https://ex.org/x\n\na\nb"
    assert links == ("https://ex.org/x",)
    assert html_to_text("") == ("", ())
    assert html_to_text("plain &lt;text&gt;")[0] == "plain <text>"


# --- errors ----------------------------------------------------------------------------------


def assert_clean(exc: BaseException, server: FakeMastodon) -> None:
    assert server.token not in error_text(exc)
    assert str(exc).startswith("Mastodon (127.0.0.1:")


def test_revoked_token_is_an_auth_error(server: FakeMastodon) -> None:
    populate(server)
    server.revoke_token()
    with pytest.raises(AuthError, match="revoked or has expired") as caught:
        drain(connect(server), {})
    assert_clean(caught.value, server)


def test_token_revoked_mid_sync_keeps_earlier_batches(server: FakeMastodon) -> None:
    populate(server)
    connector = connect(server)
    batches: list[FetchBatch] = []
    with pytest.raises(AuthError):
        for batch in connector.fetch({}):
            batches.append(batch)
            if len(batches) == 2:
                server.revoke_token()
    assert len(batches) == 2


def test_rate_limit_gives_retry_after_from_reset_header(server: FakeMastodon) -> None:
    server.rate_limit(1, reset_in=42)
    with pytest.raises(RateLimited) as caught:
        drain(connect(server), {})
    assert caught.value.retry_after is not None
    assert 38 <= caught.value.retry_after <= 44
    assert "rate limit" in str(caught.value)
    assert_clean(caught.value, server)


def test_rate_limit_on_an_action(server: FakeMastodon) -> None:
    connector = connect(server)
    server.rate_limit(5, reset_in=120)
    with pytest.raises(RateLimited) as caught:
        connector.publish("Bonjour")
    assert caught.value.retry_after is not None and caught.value.retry_after > 100


def test_malformed_json_is_a_malformed_payload(server: FakeMastodon) -> None:
    populate(server)
    server.malformed("/api/v1/notifications")
    with pytest.raises(MalformedPayload, match="invalid JSON") as caught:
        drain(connect(server), {})
    assert_clean(caught.value, server)


def test_json_of_the_wrong_shape_is_a_malformed_payload(server: FakeMastodon) -> None:
    server.add_status("Bonjour")
    server.malformed("/api/v1/conversations", b'{"error": null}')
    with pytest.raises(MalformedPayload, match="conversations"):
        drain(connect(server), {})


def test_truncated_body_is_transient(server: FakeMastodon) -> None:
    populate(server)
    server.truncate("/api/v1/accounts/")
    with pytest.raises(TransientError) as caught:
        drain(connect(server), {})
    assert_clean(caught.value, server)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(server: FakeMastodon, status: int) -> None:
    server.server_error("/api/v1/conversations", status)
    with pytest.raises(TransientError, match=str(status)) as caught:
        drain(connect(server), {})
    assert_clean(caught.value, server)


def test_dropped_connection_is_transient(server: FakeMastodon) -> None:
    server.fail_after(0, status=None)
    with pytest.raises(TransientError, match="could not be reached") as caught:
        drain(connect(server), {})
    assert_clean(caught.value, server)


def test_unreachable_instance_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = MastodonConnector(
        {"base_url": f"http://127.0.0.1:{port}"}, {"access_token": "s3cr3t-token"}, timeout=2
    )
    with pytest.raises(TransientError) as caught:
        drain(connector, {})
    assert "s3cr3t-token" not in error_text(caught.value)


def test_not_found_on_an_action(server: FakeMastodon) -> None:
    with pytest.raises(NotFound, match="not found") as caught:
        connect(server).reply(ItemRef("123456789"), "Bonjour")
    assert_clean(caught.value, server)


def test_token_is_not_in_repr() -> None:
    connector = connect_dummy()
    assert "t0k3n" not in repr(connector)


# --- actions ---------------------------------------------------------------------------------


def test_reply_posts_in_reply_to_with_the_author_mentioned(server: FakeMastodon) -> None:
    world = populate(server)
    comment = world.comments[0]
    result = connect(server).reply(ItemRef(comment, ItemKind.COMMENT), "Merci à vous")
    assert result.ok and result.platform_id
    (post,) = server.requests_to("POST", "/api/v1/statuses")
    assert post.param("in_reply_to_id") == comment
    assert post.param("visibility") == "public"
    assert post.param("status") == "@alice@other.example Merci à vous"
    assert post.headers.get("Idempotency-Key")
    created = server.statuses[result.platform_id]
    assert created["in_reply_to_id"] == comment
    assert result.raw["id"] == result.platform_id
    json.dumps(result.raw)


def test_reply_to_a_message_is_direct(server: FakeMastodon) -> None:
    world = populate(server)
    result = connect(server).reply(ItemRef(world.dms[2], ItemKind.MESSAGE), "@bob Oui")
    (post,) = server.requests_to("POST", "/api/v1/statuses")
    assert post.param("visibility") == "direct"
    assert post.param("status") == "@bob Oui"
    assert server.statuses[str(result.platform_id)]["visibility"] == "direct"


def test_reply_never_widens_a_direct_parent(server: FakeMastodon) -> None:
    world = populate(server)
    connect(server).reply(ItemRef(world.dms[0], ItemKind.COMMENT), "Réponse")
    (post,) = server.requests_to("POST", "/api/v1/statuses")
    assert post.param("visibility") == "direct"


def test_delete_own_status(server: FakeMastodon) -> None:
    world = populate(server)
    connector = connect(server)
    result = connector.delete(ItemRef(world.posts[1], ItemKind.POST, author_id=server.me["id"]))
    assert result.ok and result.platform_id == world.posts[1]
    (request,) = server.requests_to("DELETE", "/api/v1/statuses/")
    assert request.path == f"/api/v1/statuses/{world.posts[1]}"
    assert server.statuses[world.posts[1]]["deleted"]
    assert result.raw["text"].startswith("Post 1")


def test_delete_someone_elses_status_is_refused(server: FakeMastodon) -> None:
    world = populate(server)
    connector = connect(server)
    alice = server.statuses[world.comments[0]]["account_id"]
    with pytest.raises(UnsupportedAction, match="own statuses"):
        connector.delete(ItemRef(world.comments[0], author_id=alice))
    assert server.requests_to("DELETE", "/") == []
    # Without the author known, Mastodon's 404 is explained.
    with pytest.raises(NotFound, match="own statuses"):
        connector.delete(ItemRef(world.comments[0]))


def test_report_files_a_forwarded_report(server: FakeMastodon) -> None:
    world = populate(server)
    comment = world.comments[0]
    alice = server.statuses[comment]["account_id"]
    result = connect(server).report(ItemRef(comment, author_id=alice), "Insultes " * 200)
    (request,) = server.requests_to("POST", "/api/v1/reports")
    assert request.param("account_id") == alice
    assert request.values("status_ids[]") == [comment]
    assert request.param("forward") == "1"
    assert len(request.param("comment")) == 1000
    assert result.ok and result.platform_id == server.reports[0]["id"]
    assert server.reports[0]["forwarded"] is True


def test_report_without_author_looks_it_up(server: FakeMastodon) -> None:
    world = populate(server)
    comment = world.comments[1]
    connect(server).report(ItemRef(comment), "Spam")
    (request,) = server.requests_to("POST", "/api/v1/reports")
    assert request.param("account_id") == server.statuses[comment]["account_id"]


def test_publish_posts_a_public_status(server: FakeMastodon) -> None:
    result = connect(server).publish("Conseil municipal ce soir à 19 h")
    (request,) = server.requests_to("POST", "/api/v1/statuses")
    assert request.param("status") == "Conseil municipal ce soir à 19 h"
    assert request.param("visibility") == "public"
    assert request.param("in_reply_to_id") is None
    assert server.statuses[str(result.platform_id)]["text"] == "Conseil municipal ce soir à 19 h"


def test_publish_validation_error_is_a_connector_error(server: FakeMastodon) -> None:
    with pytest.raises(ConnectorError, match="blank"):
        connect(server).publish("   ")


@pytest.mark.parametrize("method", ["hide", "unhide"])
def test_hide_is_unsupported_with_an_explanation(server: FakeMastodon, method: str) -> None:
    with pytest.raises(UnsupportedAction, match="no way to hide"):
        getattr(connect(server), method)(ItemRef("1"))
    assert server.requests == []


def test_cursor_is_ids_not_dates(server: FakeMastodon) -> None:
    """Cursors are ids, so clocks do not matter: a status from 'the future' is still seen."""
    populate(server)
    connector = connect(server)
    _, cursor = drain(connector, {})
    future = server.add_status("Programmé")
    server.statuses[future["id"]]["created_at"] = datetime.now(UTC) + timedelta(days=2)
    items, _ = drain(connector, cursor)
    assert future["id"] in by_id(items)
