"""Mastodon: recorded API answers (statuses, timelines, contexts, searches, notifications,
conversations) through Mastodon.py's parsing and :class:`MastodonConnector`'s stages.

Each recorded body is replayed through the real Mastodon.py client (a fake HTTP session answers
the recorded bytes), so the connector gets the objects production gets (parsed dates,
snowflake ids), then each record is mapped as the stage that reads that endpoint maps it:
statuses of timelines, searches and single-status answers as the hashtag / search / own-posts
stages do (``_in_thread(status, POST)``), a context's descendants as the replies stage does,
mentions and direct conversations as their stages do. A status's conversation is read with
``status_context``: it is answered from the contexts recorded in the same folder, and a status
of no recorded conversation gets Mastodon's 404 (its thread is then unknown, as in production).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests
from mastodon.errors import MastodonNotFoundError

from beffroi.connectors.base import ItemKind, NormalizedItem
from beffroi.connectors.mastodon import MastodonConnector
from tests.fidelity import common
from tests.fidelity.common import mapped, words
from tests.fidelity.model import Check, Outcome

PLATFORM = "mastodon"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"

_TAG = re.compile(r"<\s*/?\s*(?:p|br|a|span|div)\b[^>]*>", re.IGNORECASE)
_QUOTE_INLINE = re.compile(r'<p class="quote-inline">.*?</p>', re.DOTALL)
_ANCHOR = re.compile(r"<a\s[^>]*>", re.IGNORECASE)
_CONTEXT_PATH = re.compile(r"statuses-(\d+)-context")
_METRICS = ("replies_count", "reblogs_count", "favourites_count")


# --- reading -------------------------------------------------------------------------------------


def _shape(body: Any) -> str | None:
    """Which endpoint answered ``body``, from its shape."""

    def is_status(value: Any) -> bool:
        return isinstance(value, dict) and "account" in value and "id" in value

    if is_status(body):
        return "status"
    if isinstance(body, dict) and ("ancestors" in body or "descendants" in body):
        return "context"
    if isinstance(body, dict) and isinstance(body.get("statuses"), list):
        return "search"
    if isinstance(body, list) and body:
        if all(isinstance(e, dict) and "last_status" in e for e in body):
            return "conversations"
        if all(isinstance(e, dict) and "type" in e and "account" in e for e in body):
            return "notifications"
        if all(is_status(e) for e in body):
            return "statuses"
    return None


def _replaying(connector: MastodonConnector, body: bytes) -> None:
    """Make the connector's Mastodon.py client answer ``body`` to any request."""

    def request(method: str, url: str, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        response.url = url
        response._content = body
        return response

    connector._client.session.request = request  # type: ignore[method-assign,assignment]


def _statuses_in(value: Any) -> Iterator[Mapping[str, Any]]:
    """Every status of a recorded answer, nested ones (reblogged, quoted, notified) included."""
    if isinstance(value, list):
        for entry in value:
            yield from _statuses_in(entry)
    elif isinstance(value, dict):
        if "account" in value and "id" in value and "in_reply_to_id" in value:
            yield value
        for entry in value.values():
            if isinstance(entry, dict | list):
                yield from _statuses_in(entry)


def _threads(folder: Path) -> dict[str, tuple[str, Any]]:
    """Status id -> (root id, recorded context or None) for the conversations recorded in
    ``folder``: from the recorded contexts, and from ``in_reply_to_id`` chains whose every
    status was recorded (their root is the first ancestor ``status_context`` would answer)."""
    threads: dict[str, tuple[str, Any]] = {}
    parents: dict[str, str | None] = {}
    for path in sorted(folder.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        for status in _statuses_in(body):
            parent = status.get("in_reply_to_id")
            parents[str(status["id"])] = str(parent) if parent is not None else None
        match = _CONTEXT_PATH.search(path.name)
        if match is None or _shape(body) != "context":
            continue
        focal = match.group(1)
        ancestors = body.get("ancestors") or []
        root = str(ancestors[0]["id"]) if ancestors else focal
        for status in (*ancestors, *(body.get("descendants") or [])):
            threads.setdefault(str(status["id"]), (root, None))
        threads[focal] = (root, body)
    for status_id in parents:
        chain, current = [status_id], parents[status_id]
        while current is not None and current in parents and current not in chain:
            chain.append(current)
            current = parents[current]
        if current is None and status_id not in threads:
            threads[status_id] = (chain[-1], None)
    return threads


def _connector(body: bytes, threads: Mapping[str, tuple[str, Any]]) -> MastodonConnector:
    connector = MastodonConnector(
        {"base_url": "https://mastodon.example"}, {"access_token": "corpus-token"}
    )
    _replaying(connector, body)
    connector._roots = {}
    return connector


def _answer_contexts(
    connector: MastodonConnector, threads: Mapping[str, tuple[str, Any]], parse: Callable[..., Any]
) -> None:
    """``status_context`` answered from the recorded conversations, else Mastodon's 404."""

    def status_context(status_id: Any) -> Any:
        known = threads.get(str(status_id))
        if known is None:
            raise MastodonNotFoundError("Mastodon API returned error", 404, "Not Found", None)
        root, recorded = known
        if recorded is not None:
            return parse(recorded)
        # Only the root matters to the connector: the first ancestor of any status of the
        # conversation is its root.
        return {"ancestors": [{"id": root}], "descendants": []}

    connector._client.status_context = status_context


def read(path: Path) -> Iterator[Outcome]:
    """Every status of one recorded answer, mapped as the stage reading that endpoint maps it."""
    relative = str(path.relative_to(CORPUS))
    raw = path.read_bytes()
    body = json.loads(raw)
    shape = _shape(body)
    if shape is None:
        return
    threads = _threads(path.parent)
    connector = _connector(raw, threads)
    client = connector._client
    # The answer as Mastodon.py parses it for the method that reads that endpoint.
    parsed: Any = {
        "status": lambda: client.status("1"),
        "statuses": lambda: client.timeline_hashtag("corpus"),
        # search_v2 first reads the server's version (another answer than the one recorded):
        # its statuses are parsed as the Status list they are.
        "search": lambda: {"statuses": _parse_statuses(connector, body["statuses"])},
        "context": lambda: client.status_context("1"),
        "notifications": lambda: client.notifications(),
        "conversations": lambda: client.conversations(),
    }[shape]()

    def parse_context(recorded: Any) -> Any:
        _replaying(connector, json.dumps(recorded).encode())
        return client.status_context("1")

    _answer_contexts(connector, threads, parse_context)

    def outcome(
        payload: Mapping[str, Any], map_: Callable[[], NormalizedItem | None], stage: str
    ) -> Outcome | None:
        status_id = str(payload.get("id"))
        context = {"stage": stage, "root": (threads.get(status_id) or (None,))[0]}
        try:
            item = map_()
        except Exception as exc:  # one record's failure must not hide the others
            return Outcome(relative, status_id, payload, error=f"{type(exc).__name__}: {exc}")
        if item is None:
            return None
        return Outcome(relative, status_id, payload, item=item, context=context)

    results: list[Outcome | None] = []
    if shape == "status":
        results.append(outcome(body, lambda: connector._in_thread(parsed, ItemKind.POST), "own"))
    elif shape in ("statuses", "search"):
        statuses = body["statuses"] if shape == "search" else body
        objects = parsed["statuses"] if shape == "search" else parsed
        stage = "search" if shape == "search" else "timeline"
        for status, obj in zip(statuses, objects, strict=True):
            results.append(
                outcome(status, partial(connector._in_thread, obj, ItemKind.POST), stage)
            )
    elif shape == "context":
        focal = _CONTEXT_PATH.search(path.name)
        ancestors = body.get("ancestors") or []
        root = str(ancestors[0]["id"]) if ancestors else (focal.group(1) if focal else None)
        for status, obj in zip(ancestors, parsed["ancestors"], strict=True):
            results.append(
                outcome(status, partial(connector._in_thread, obj, ItemKind.POST), "thread")
            )
        for status, obj in zip(body.get("descendants") or [], parsed["descendants"], strict=True):
            results.append(
                outcome(
                    status,
                    partial(connector._in_thread, obj, ItemKind.COMMENT, root),
                    "replies",
                )
            )
    elif shape == "notifications":
        for notification, obj in zip(body, parsed, strict=True):
            status = notification.get("status")
            if notification.get("type") != "mention" or not isinstance(status, dict):
                continue  # the mentions stage reads only mentions
            results.append(
                outcome(
                    status,
                    partial(_first, connector._mention_items, obj),
                    "mention",
                )
            )
    elif shape == "conversations":
        for conversation, obj in zip(body, parsed, strict=True):
            last = conversation.get("last_status")
            if not isinstance(last, dict):
                continue
            results.append(
                outcome(
                    last,
                    partial(_last, connector._conversation_items, obj),
                    "conversation",
                )
            )
    yield from (result for result in results if result is not None)


def _parse_statuses(connector: MastodonConnector, statuses: list[Any]) -> Any:
    _replaying(connector, json.dumps(statuses).encode())
    return connector._client.timeline_hashtag("corpus")


def _first(
    stage: Callable[[list[Any], set[str]], list[NormalizedItem]], entry: Any
) -> NormalizedItem | None:
    """The item a page stage makes of ``entry`` alone (None where the stage skips it)."""
    items = stage([entry], set())
    return items[0] if items else None


def _last(
    stage: Callable[[list[Any], set[str], str | None], list[NormalizedItem]], entry: Any
) -> NormalizedItem | None:
    """The last item a conversation stage makes of ``entry`` alone (its last status)."""
    items = stage([entry], set(), None)
    return items[-1] if items else None


# --- what the payload says ---------------------------------------------------------------------


def _shown(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a reader sees: the reblogged status for a reblog, else the status."""
    reblog = payload.get("reblog")
    return reblog if isinstance(reblog, Mapping) else payload


def _plain(content: str) -> str:
    """The words of a status's HTML, independently of Beffroi's converter."""
    content = _QUOTE_INLINE.sub(" ", content)
    content = re.sub(r"<br\s*/?>|</p>", " ", content, flags=re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", content))


def _content_links(status: Mapping[str, Any]) -> list[str]:
    """The addresses a status's content links to, mentions and hashtags aside."""
    content = _QUOTE_INLINE.sub(" ", str(status.get("content") or ""))
    links = []
    for anchor in _ANCHOR.findall(content):
        classes = re.search(r'class="([^"]*)"', anchor)
        if classes and {"mention", "hashtag"} & set(classes.group(1).split()):
            continue
        href = re.search(r'href="([^"]*)"', anchor)
        if href:
            links.append(html.unescape(href.group(1)))
    mentions = {m.get("url") for m in status.get("mentions") or [] if isinstance(m, Mapping)}
    return [link for link in links if link not in mentions]


def _media_urls(status: Mapping[str, Any]) -> set[str]:
    urls: set[str] = set()
    for attachment in status.get("media_attachments") or []:
        for key in ("url", "preview_url", "remote_url", "text_url", "preview_remote_url"):
            if attachment.get(key):
                urls.add(str(attachment[key]))
    return urls


def _date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _has_text(status: Mapping[str, Any]) -> bool:
    return bool(
        _plain(str(status.get("content") or "")).strip()
        or str(status.get("spoiler_text") or "").strip()
        or (status.get("poll") or {}).get("options")
    )


def _quoted_status(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    quote = payload.get("quote")
    if isinstance(quote, Mapping) and isinstance(quote.get("quoted_status"), Mapping):
        return quote["quoted_status"]
    return None


def _is_reply(outcome: Outcome) -> bool:
    return outcome.item is not None and outcome.payload.get("in_reply_to_id") is not None


# --- the checks ----------------------------------------------------------------------------------


CHECKS: tuple[Check, ...] = (
    common.text_present(
        lambda o: _has_text(_shown(o.payload)),
        "The text is not empty where the status (or the status it reblogs) has words, a content "
        "warning or poll options.",
    ),
    Check(
        "text_complete",
        "Every word of the content (quote fallback aside) is in the text, in order: nothing cut, "
        "nothing taken from another field.",
        passes=lambda o: (
            words(_plain(str(_shown(o.payload).get("content") or ""))) in words(o.item.text)
        ),
        applies=lambda o: (
            o.item is not None and bool(_plain(str(_shown(o.payload).get("content") or "")).strip())
        ),
    ),
    common.no_html_in_text(_TAG),
    Check(
        "content_warning_kept",
        "The content warning (spoiler_text) is in the text.",
        passes=lambda o: str(_shown(o.payload)["spoiler_text"]).strip() in o.item.text,
        applies=lambda o: (
            o.item is not None and bool(str(_shown(o.payload).get("spoiler_text") or "").strip())
        ),
    ),
    Check(
        "poll_options_kept",
        "Every option of the poll is carried (in the text, one per line).",
        passes=lambda o: all(
            str(option["title"]).strip() in o.item.text
            for option in _shown(o.payload)["poll"]["options"]
        ),
        applies=lambda o: (
            o.item is not None and bool((_shown(o.payload).get("poll") or {}).get("options"))
        ),
    ),
    common.created_at_is(
        "created_at_is_the_status_date",
        "created_at is the status's created_at (not the fetch time).",
        lambda o: _date(o.payload.get("created_at")),
        dated=True,
    ),
    Check(
        "author_present",
        "The author's id and handle are those of the status's account.",
        passes=lambda o: (
            o.item.author.platform_id == str(o.payload["account"]["id"])
            and o.item.author.handle == o.payload["account"]["acct"]
        ),
        applies=lambda o: o.item is not None and isinstance(o.payload.get("account"), Mapping),
    ),
    common.url_absolute("The item's address is an absolute http(s) URL.", https=False),
    common.links_kept(
        lambda o: _content_links(_shown(o.payload)),
        "Every link of the content (mentions and hashtags aside) is among the item's links.",
    ),
    common.links_absolute("Every link is an absolute http(s) URL."),
    common.links_not_own_media(
        lambda o: _media_urls(_shown(o.payload)), "No link is an address of the status's own media."
    ),
    Check(
        "media_kept",
        "Every attachment is carried, at its file's address.",
        passes=lambda o: (
            [m.url for m in o.item.media]
            == [
                str(a.get("url") or a.get("remote_url") or "")
                for a in _shown(o.payload)["media_attachments"]
            ]
        ),
        applies=lambda o: o.item is not None and bool(_shown(o.payload).get("media_attachments")),
    ),
    common.video_is_the_file(
        lambda o: [
            [a.get("url")]
            for a in _shown(o.payload).get("media_attachments") or []
            if a.get("type") in ("video", "gifv")
        ],
        "A video or GIF attachment is carried as a video at its file's address, not its preview.",
    ),
    common.language_is_iso_639_1(
        "The language is None or an ISO 639-1 code (never und, zxx, qst, in)."
    ),
    common.language_kept(
        lambda o: _shown(o.payload).get("language"),
        "The language the status declares (the reblogged status's for a reblog) is kept.",
        applies=lambda o: mapped(o) and isinstance(_shown(o.payload).get("language"), str),
    ),
    Check(
        "reply_parent_set",
        "A reply's parent_id is the status it answers (in_reply_to_id).",
        passes=lambda o: o.item.parent_id == str(o.payload["in_reply_to_id"]),
        applies=_is_reply,
    ),
    common.reply_thread_not_itself(_is_reply),
    Check(
        "reply_thread_is_root",
        "A reply of a recorded conversation has the conversation's root as thread_id.",
        passes=lambda o: o.item.thread_id == o.context["root"],
        applies=lambda o: _is_reply(o) and o.context.get("root") is not None,
    ),
    common.reply_not_a_post(
        _is_reply, "A reply is a COMMENT or REPLY (or a MENTION / MESSAGE), never a POST."
    ),
    Check(
        "direct_is_message",
        "A direct-visibility status is a MESSAGE.",
        passes=lambda o: o.item.kind == ItemKind.MESSAGE,
        applies=lambda o: o.item is not None and o.payload.get("visibility") == "direct",
    ),
    common.metrics_kept(
        lambda o: {name: o.payload[name] for name in _METRICS},
        lambda o: all(isinstance(o.payload.get(name), int) for name in _METRICS),
        "The status's own counts (replies, reblogs, favourites) are kept, not the reblogged's.",
    ),
    Check(
        "quote_carried",
        "A quoted status (Mastodon 4.5 quote) is carried: its id, text, author and address.",
        passes=lambda o: (
            common.carries(
                o,
                "quote",
                platform_id=str(_quoted_status(o.payload)["id"]),  # type: ignore[index]
                author=_quoted_status(o.payload)["account"]["acct"],  # type: ignore[index]
            )
            and words(_plain(_quoted_status(o.payload)["content"]))  # type: ignore[index]
            in words(o.item.quoted.text)
            and bool(o.item.quoted.url)
        ),
        applies=lambda o: mapped(o) and _quoted_status(o.payload) is not None,
    ),
    Check(
        "reblog_carried",
        "A reblog carries the reblogged status (relation repost, its id and author).",
        passes=lambda o: common.carries(
            o,
            "repost",
            platform_id=str(o.payload["reblog"]["id"]),
            author=o.payload["reblog"]["account"]["acct"],
        ),
        applies=lambda o: mapped(o) and isinstance(o.payload.get("reblog"), Mapping),
    ),
)
