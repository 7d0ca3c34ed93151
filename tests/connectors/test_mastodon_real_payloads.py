"""Mastodon's mapping on statuses shaped exactly as instances send them (issue 13, item 3)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beffroi.connectors.base import ItemKind
from beffroi.connectors.mastodon import MastodonConnector

FIXTURES = Path(__file__).parent.parent / "fixtures" / "real" / "mastodon"
ROOT = "113512198005621330"
MIDDLE = "113512231870412233"
REPLY = "113512260413404207"
OWN = {"id": "109999000000000001", "acct": "mairie", "username": "mairie"}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def connector_reading(
    *,
    tagged: Sequence[Any] = (),
    mentions: Sequence[Any] = (),
    contexts: dict[str, Any] | None = None,
) -> tuple[MastodonConnector, list[str]]:
    """A connector whose API answers the given pages; returns it and the contexts it read."""
    connector = MastodonConnector(
        {"base_url": "https://mastodon.example", "hashtags": "lille"}, {"access_token": "t0k3n"}
    )
    read: list[str] = []

    def context(status_id: Any) -> Any:
        read.append(str(status_id))
        return (contexts or {})[str(status_id)]

    client = connector._client
    client.account_verify_credentials = lambda: OWN
    client.conversations = lambda **kw: []
    client.account_statuses = lambda *a, **kw: []
    client.notifications = lambda **kw: list(mentions)
    client.timeline_hashtag = lambda tag, **kw: list(tagged)
    client.status_context = context
    return connector, read


def fetched(connector: MastodonConnector) -> dict[str, Any]:
    return {item.platform_id: item for batch in connector.fetch({}) for item in batch.items}


def recent(status: dict[str, Any]) -> dict[str, Any]:
    """The status dated now, so that the first sync's history window keeps it."""
    return {**status, "created_at": datetime.now(UTC).isoformat()}


def test_a_tagged_reply_is_a_reply_in_its_conversation_not_a_post() -> None:
    reply, root = (recent(status) for status in load("tag_timeline.json"))
    connector, read = connector_reading(
        tagged=[reply, root], contexts={REPLY: load("status_context.json")}
    )
    found = fetched(connector)
    item = found[REPLY]
    assert (item.kind, item.thread_id, item.parent_id) == (ItemKind.REPLY, ROOT, MIDDLE)
    assert (found[ROOT].kind, found[ROOT].thread_id) == (ItemKind.POST, ROOT)
    assert read == [REPLY]  # the root is read once, not for statuses whose thread is known


def test_a_tagged_answer_to_a_root_met_in_the_sync_is_a_comment_without_a_lookup() -> None:
    reply, root = (recent(status) for status in load("tag_timeline.json"))
    reply = {**reply, "in_reply_to_id": ROOT}
    connector, read = connector_reading(tagged=[reply, root])
    item = fetched(connector)[REPLY]
    assert (item.kind, item.thread_id, item.parent_id) == (ItemKind.COMMENT, ROOT, ROOT)
    assert read == []


def test_a_mention_that_answers_a_status_gets_its_conversation() -> None:
    reply, _ = load("tag_timeline.json")
    notification = {
        "id": "88120334",
        "type": "mention",
        "created_at": recent(reply)["created_at"],
        "account": reply["account"],
        "status": recent(reply),
    }
    connector, _ = connector_reading(
        mentions=[notification], contexts={REPLY: load("status_context.json")}
    )
    item = fetched(connector)[REPLY]
    assert (item.kind, item.thread_id, item.parent_id) == (ItemKind.MENTION, ROOT, MIDDLE)


def test_a_poll_keeps_its_options_in_the_text() -> None:
    _, root = load("tag_timeline.json")
    connector = MastodonConnector({"base_url": "https://mastodon.example"}, {"access_token": "t"})
    item = connector.map_item(root, ItemKind.POST)
    assert item.text == (
        "Que pensez-vous de la fermeture de la piscine cet été ? #Lille\n"
        "- C'est une bonne décision\n"
        "- Il faut la garder ouverte\n"
        "- Sans avis"
    )
