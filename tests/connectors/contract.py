"""The contract every connector is run through, the same suite for every platform.

A platform's test module subclasses :class:`ConnectorContract` and provides a ``harness``
fixture returning a :class:`Harness` over its loopback fake server. The suite then checks:
a full sync, an incremental sync, an interruption at every point of a sync and its resume
(nothing lost), each documented error (typed, without the token in the message), each
supported action (the fake asserts the exact documented request), each unsupported
action (a clear "not supported by the platform"), and the account's own posts where the
connector says it lists them (``lists_own_posts``: what it publishes, it finds again).
"""

from __future__ import annotations

import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from beffroi.connectors.base import (
    OWN_POSTS_LIMIT,
    Action,
    Connector,
    ConnectorError,
    ItemRef,
    NormalizedItem,
    UnsupportedAction,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.reconcile import find_published


@dataclass(frozen=True)
class DocumentedError:
    """A platform error the fake can produce and the connector error it must become."""

    trigger: Callable[[], None]
    expected: type[ConnectorError]


class Harness(ABC):
    """What the contract needs from one platform's fake server."""

    #: Secrets the connector holds: none may appear in an error message.
    secrets: tuple[str, ...] = ()
    #: Whether an incremental sync may yield again items of an earlier sync (platforms
    #: whose replies hang under posts and are re-read); duplicates are dropped downstream.
    rereads: bool = False
    #: Largest number of requests a full sync of the seeded items takes (to interrupt at
    #: every point of it).
    max_requests: int = 40

    @abstractmethod
    def connect(self) -> Connector:
        """A connector against the fake, with valid credentials."""

    @abstractmethod
    def seed(self, count: int) -> set[str]:
        """Add ``count`` new items the next sync must bring; their platform ids."""

    @abstractmethod
    def interrupt_after(self, requests: int) -> None:
        """After ``requests`` more requests, the platform stops answering."""

    @abstractmethod
    def heal(self) -> None:
        """The platform answers again."""

    @abstractmethod
    def errors(self) -> Mapping[str, DocumentedError]:
        """Each documented error by name (revoked token, rate limited, quota…)."""

    @abstractmethod
    def act(self, connector: Connector, action: Action) -> None:
        """Perform ``action`` on a seeded item and assert the fake received the documented
        request (method, path, parameters, body)."""

    def unsupported_ref(self) -> ItemRef:
        """An item to try unsupported actions on."""
        return ItemRef(platform_id="1")


def drain(
    connector: Connector, cursor: Mapping[str, Any]
) -> tuple[list[NormalizedItem], dict[str, Any]]:
    """Every item of a sync and the cursor of its last batch (JSON round-tripped, as stored)."""
    items: list[NormalizedItem] = []
    last = dict(cursor)
    for batch in connector.fetch(cursor):
        items.extend(batch.items)
        last = json.loads(json.dumps(dict(batch.cursor)))
    return items, last


def assert_normalized(item: NormalizedItem) -> None:
    """What the inbox relies on, whatever the platform."""
    assert item.platform_id, item
    assert isinstance(item.text, str)
    assert isinstance(item.created_at, datetime) and item.created_at.tzinfo is not None
    assert item.author.platform_id or item.author.handle, item
    assert item.url.startswith(("https://", "http://")), f"no link back: {item!r}"
    json.dumps(dict(item.raw))  # the evidence is JSON


class ConnectorContract:
    """Mix into a test class that defines a ``harness`` fixture."""

    #: Items seeded for the syncs (enough for several pages of the fakes).
    seed_count: ClassVar[int] = 7

    @pytest.fixture(autouse=True)
    def _open_rate_gate(self) -> Iterator[None]:
        RATE_GATE.clear()
        yield
        RATE_GATE.clear()

    def test_full_sync_brings_every_item_normalized(self, harness: Harness) -> None:
        expected = harness.seed(self.seed_count)
        items, cursor = drain(harness.connect(), {})
        ids = [i.platform_id for i in items]
        assert expected <= set(ids)
        assert len(ids) == len(set(ids)), "an item was yielded twice in one sync"
        for item in items:
            assert_normalized(item)
        assert cursor, "a sync must leave a cursor to resume from"

    def test_incremental_sync_brings_only_what_is_new(self, harness: Harness) -> None:
        first = harness.seed(self.seed_count)
        items, cursor = drain(harness.connect(), {})
        assert first <= {i.platform_id for i in items}
        later = harness.seed(3)
        again, _ = drain(harness.connect(), cursor)
        ids = {i.platform_id for i in again}
        assert later <= ids
        if not harness.rereads:
            assert not ids & first, "an incremental sync re-read old items"

    def test_interrupted_sync_resumes_without_loss(self, harness: Harness) -> None:
        expected = harness.seed(self.seed_count)
        cursor: dict[str, Any] = {}
        stored: set[str] = set()
        interruptions = 0
        for point in range(harness.max_requests):
            harness.interrupt_after(point)
            connector = harness.connect()
            try:
                for batch in connector.fetch(cursor):
                    stored.update(i.platform_id for i in batch.items)
                    cursor = json.loads(json.dumps(dict(batch.cursor)))
            except ConnectorError:
                interruptions += 1
            else:
                break
            finally:
                harness.heal()
                RATE_GATE.clear()
        assert interruptions, "the fake never interrupted the sync"
        items, _ = drain(harness.connect(), cursor)
        stored.update(i.platform_id for i in items)
        assert expected <= stored, f"lost after resume: {expected - stored}"

    def test_documented_errors_are_typed(self, harness: Harness) -> None:
        harness.seed(2)
        errors = harness.errors()
        assert errors, "a connector documents its errors"
        for name, error in errors.items():
            error.trigger()
            with pytest.raises(error.expected) as raised:
                drain(harness.connect(), {})
            message = str(raised.value)
            assert message, name
            for secret in harness.secrets:
                assert secret not in message, f"{name}: the message shows a secret"
            harness.heal()
            RATE_GATE.clear()

    def test_each_supported_action_sends_the_documented_request(self, harness: Harness) -> None:
        harness.seed(2)
        connector = harness.connect()
        for action in sorted(a for a in Action if connector.supports(a)):
            RATE_GATE.clear()
            harness.act(connector, action)

    def test_each_unsupported_action_says_so(self, harness: Harness) -> None:
        connector = harness.connect()
        ref = harness.unsupported_ref()
        calls: dict[Action, Callable[[], object]] = {
            Action.REPLY: lambda: connector.reply(ref, "x"),
            Action.HIDE: lambda: connector.hide(ref),
            Action.UNHIDE: lambda: connector.unhide(ref),
            Action.DELETE: lambda: connector.delete(ref),
            Action.PUBLISH: lambda: connector.publish("x"),
            Action.REPORT: lambda: connector.report(ref, "x"),
            Action.PRIVATE_REPLY: lambda: connector.private_reply(ref, "x"),
            Action.EDIT: lambda: connector.edit(ref, "x"),
        }
        assert set(calls) == set(Action), "the contract lists every action"
        for action, call in calls.items():
            if connector.supports(action):
                continue
            with pytest.raises(UnsupportedAction, match="Not supported by the platform"):
                call()

    def test_own_posts_are_listed_where_the_connector_says_so(self, harness: Harness) -> None:
        connector = harness.connect()
        implemented = type(connector).own_posts_since is not Connector.own_posts_since
        assert implemented == connector.lists_own_posts, (
            "lists_own_posts says whether own_posts_since is implemented"
        )
        since = datetime.now(UTC) - timedelta(minutes=5)
        if not connector.lists_own_posts:
            with pytest.raises(UnsupportedAction):
                connector.own_posts_since(since)
            return
        harness.seed(self.seed_count)
        limits = connector.post_limits
        # A text-only publication where the platform takes one: what the connector
        # publishes, it must find again among the account's posts.
        text = f"Contrat {uuid.uuid4().hex[:8]} : le marché est ouvert"
        publishes = connector.supports(Action.PUBLISH) and not (limits and limits.requires_media)
        published = connector.publish(text) if publishes else None
        posts = connector.own_posts_since(since)
        assert len(posts) <= OWN_POSTS_LIMIT
        times = [post.created_at for post in posts]
        assert times == sorted(times, reverse=True), "own posts come newest first"
        # Platforms whose times have a one-second grain keep the posts of since's second.
        floor = since.replace(microsecond=0)
        for post in posts:
            assert post.created_at.tzinfo is not None and post.created_at >= floor, post
            assert post.url.startswith(("https://", "http://")), f"no link back: {post!r}"
            if post.item is not None:
                assert post.item.platform_id == post.platform_id
                assert_normalized(post.item)
        if published is not None:
            found = find_published(text, posts, since)
            assert found is not None and found.platform_id == published.platform_id
