"""Bluesky: recorded AppView answers (post views of feeds, searches, quotes, threads,
notifications) and Jetstream events through :class:`BlueskyConnector`'s mapping.

The connector reads the AppView's JSON as it comes (no SDK model in between), so each post view
is given to ``map_item`` as the stage reading such posts gives it: other accounts' posts of
feeds, searches, quotes and ``getPosts`` as the listening stages do (search, and Jetstream's
posts that ``getPosts`` still shows: POST, or by its place in its thread for a reply), a thread's post as the own-posts stage does (REPLY
when it answers something), a thread's replies with their place in the thread, a notification of a mention, reply or quote as the notifications
stage maps it when ``getPosts`` no longer shows the post (the notification itself). A Jetstream
event creating a post is mapped by the Jetstream path (``_map_jetstream``), the one a sync takes
when ``getPosts`` no longer shows the post; other events are skipped, as the stream reader does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from beffroi.connectors.base import ItemKind, NormalizedItem
from beffroi.connectors.bluesky import BlueskyConnector, _listened_kind
from tests.fidelity import common
from tests.fidelity.common import mapped
from tests.fidelity.model import Check, Outcome

PLATFORM = "bluesky"
CORPUS = Path(__file__).resolve().parents[2] / "corpus"
POST = "app.bsky.feed.post"
#: The notifications the notifications stage reads.
NOTIFIED = ("mention", "reply", "quote")


# --- reading -------------------------------------------------------------------------------------


def _connector() -> BlueskyConnector:
    return BlueskyConnector({"handle": "corpus.example"}, {"app_password": "corpus-password"})


def _own_kind(post: Mapping[str, Any]) -> ItemKind:
    record = post.get("record")
    return ItemKind.REPLY if isinstance(record, Mapping) and record.get("reply") else ItemKind.POST


def _thread_kind(post: Mapping[str, Any]) -> ItemKind:
    reply = _mapping(_mapping(post.get("record")).get("reply"))
    root, parent = _mapping(reply.get("root")), _mapping(reply.get("parent"))
    return ItemKind.COMMENT if parent.get("uri") == root.get("uri") else ItemKind.REPLY


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _thread_posts(node: Mapping[str, Any], top: bool) -> Iterator[tuple[Mapping[str, Any], str]]:
    """The posts of a ``threadViewPost`` (the post, its parents, its replies), each with how
    the connector reads it: the post itself as its own post, replies as the replies stage."""
    if node.get("$type") != "app.bsky.feed.defs#threadViewPost":
        return  # notFoundPost, blockedPost
    yield _mapping(node.get("post")), "post" if top else "reply"
    if top:
        parent = _mapping(node.get("parent"))
        while parent.get("$type") == "app.bsky.feed.defs#threadViewPost":
            yield _mapping(parent.get("post")), "post"
            parent = _mapping(parent.get("parent"))
    for reply in node.get("replies") or []:
        yield from _thread_posts(_mapping(reply), top=False)


def _records(body: Any) -> Iterator[tuple[Mapping[str, Any], str]]:
    """(post view or event, how it is read) for every post of one recorded answer."""
    if not isinstance(body, Mapping):
        return
    if isinstance(body.get("feed"), list):  # timelines, custom / list feeds, likes
        # Other accounts' posts: read as the listening stages read them (POST).
        for entry in body["feed"]:
            yield _mapping(_mapping(entry).get("post")), "listening"
    elif isinstance(body.get("posts"), list):  # getPosts, searchPosts, getQuotes
        for post in body["posts"]:
            yield _mapping(post), "listening"
    elif isinstance(body.get("notifications"), list):
        for notification in body["notifications"]:
            if _mapping(notification).get("reason") in NOTIFIED:
                yield _mapping(notification), "notification"
    elif isinstance(body.get("thread"), Mapping):
        yield from _thread_posts(body["thread"], top=True)
    elif body.get("kind") == "commit":  # a Jetstream event
        commit = _mapping(body.get("commit"))
        if commit.get("operation") == "create" and commit.get("collection") == POST:
            yield body, "jetstream"


def _map(connector: BlueskyConnector, payload: Mapping[str, Any], stage: str) -> NormalizedItem:
    if stage == "jetstream":
        return connector._map_jetstream(payload)
    if stage == "reply":
        return connector.map_item(payload, _thread_kind(payload))
    if stage == "notification":
        kind = _thread_kind(payload) if payload.get("reason") == "reply" else ItemKind.MENTION
        return connector.map_item(payload, kind)
    if stage == "listening":  # the search stage, and Jetstream's posts getPosts still shows
        return connector.map_item(payload, _listened_kind(payload))
    return connector.map_item(payload, _own_kind(payload))


def _ref(payload: Mapping[str, Any], index: int) -> str:
    if payload.get("kind") == "commit":
        commit = _mapping(payload.get("commit"))
        return f"at://{payload.get('did')}/{POST}/{commit.get('rkey')}"
    return str(payload.get("uri") or index)


def read(path: Path) -> Iterator[Outcome]:
    """Every post of one recorded answer (or Jetstream file, one event a line), mapped."""
    relative = str(path.relative_to(CORPUS))
    text = path.read_text(encoding="utf-8")
    bodies = (
        [json.loads(line) for line in text.splitlines() if line.strip()]
        if path.suffix == ".jsonl"
        else [json.loads(text)]
    )
    connector = _connector()
    index = 0
    for body in bodies:
        for payload, stage in _records(body):
            ref = _ref(payload, index)
            index += 1
            try:
                item = _map(connector, payload, stage)
            except Exception as exc:  # one record's failure must not hide the others
                yield Outcome(relative, ref, payload, error=f"{type(exc).__name__}: {exc}")
                continue
            yield Outcome(relative, ref, payload, item=item, context={"stage": stage})


# --- what the payload says ---------------------------------------------------------------------


def _record(o: Outcome) -> Mapping[str, Any]:
    """The post record: a view's ``record``, a Jetstream event's ``commit.record``."""
    if o.context.get("stage") == "jetstream":
        return _mapping(_mapping(o.payload.get("commit")).get("record"))
    return _mapping(o.payload.get("record"))


def _did(o: Outcome) -> str:
    if o.context.get("stage") == "jetstream":
        return str(o.payload.get("did") or "")
    return str(_mapping(o.payload.get("author")).get("did") or "")


def _date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _record_links(record: Mapping[str, Any]) -> list[str]:
    """The link facets' addresses and the link card's address of a post record."""
    links = [
        str(feature["uri"])
        for facet in record.get("facets") or []
        for feature in _mapping(facet).get("features") or []
        if _mapping(feature).get("$type") == "app.bsky.richtext.facet#link"
        and _mapping(feature).get("uri")
    ]
    embed = _mapping(record.get("embed"))
    external = _mapping(embed.get("external") or _mapping(embed.get("media")).get("external"))
    if external.get("uri"):
        links.append(str(external["uri"]))
    return links


def _media_embed(o: Outcome) -> Mapping[str, Any]:
    """The embed holding media: the record's on Jetstream, the view's elsewhere (the media
    part of a quote with media)."""
    embed = _mapping(_record(o).get("embed") if o.context.get("stage") == "jetstream" else None)
    if not embed:
        embed = _mapping(o.payload.get("embed"))
    if str(embed.get("$type") or "").startswith("app.bsky.embed.recordWithMedia"):
        embed = _mapping(embed.get("media"))
    return embed


def _images(o: Outcome) -> list[Mapping[str, Any]]:
    embed = _media_embed(o)
    if str(embed.get("$type") or "").startswith("app.bsky.embed.images"):
        return [_mapping(image) for image in embed.get("images") or []]
    return []


def _has_video(o: Outcome) -> bool:
    return str(_media_embed(o).get("$type") or "").startswith("app.bsky.embed.video")


def _media_addresses(o: Outcome) -> set[str]:
    urls = {
        str(image.get(key))
        for image in _images(o)
        for key in ("fullsize", "thumb")
        if isinstance(image.get(key), str)
    }
    embed = _media_embed(o)
    urls.update(str(embed[key]) for key in ("playlist", "thumbnail") if embed.get(key))
    return urls


def _quoted_view(o: Outcome) -> Mapping[str, Any]:
    """The quoted post as the view shows it (``app.bsky.embed.record#viewRecord``), or {}."""
    embed = _mapping(o.payload.get("embed"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia#view":
        embed = _mapping(embed.get("record"))
    if embed.get("$type") != "app.bsky.embed.record#view":
        return {}
    quoted = _mapping(embed.get("record"))
    if quoted.get("$type") != "app.bsky.embed.record#viewRecord":
        return {}
    return quoted if f"/{POST}/" in str(quoted.get("uri") or "") else {}


def _quoted_ref(o: Outcome) -> str | None:
    """The address of the post a record quotes (``app.bsky.embed.record``, alone or with
    media), whatever the view shows of it."""
    embed = _mapping(_record(o).get("embed"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = _mapping(embed.get("record"))
    if embed.get("$type") != "app.bsky.embed.record":
        return None
    uri = str(_mapping(embed.get("record")).get("uri") or "")
    return uri if f"/{POST}/" in uri else None


def _labels_sent(o: Outcome) -> set[str]:
    """The post's labels: labellers' (not withdrawn) and the author's self-labels."""
    given = {
        str(label.get("val"))
        for label in o.payload.get("labels") or []
        if isinstance(label, Mapping) and label.get("val") and label.get("neg") is not True
    }
    self_labels = _mapping(_record(o).get("labels")).get("values") or []
    given.update(str(label.get("val")) for label in self_labels if isinstance(label, Mapping))
    return given


def _reply(o: Outcome) -> Mapping[str, Any]:
    return _mapping(_record(o).get("reply"))


def _quote_passes(o: Outcome) -> bool:
    view = _quoted_view(o)
    author = _mapping(view.get("author"))
    return (
        common.carries(
            o,
            "quote",
            platform_id=view.get("uri"),
            text=_mapping(view.get("value")).get("text", ""),
        )
        and o.item.quoted.author in (author.get("handle"), author.get("did"))
        and o.item.quoted.url.startswith("https://bsky.app/profile/")
        and o.item.quoted.url.endswith(str(view.get("uri")).rsplit("/", 1)[-1])
    )


# --- the checks ----------------------------------------------------------------------------------


CHECKS: tuple[Check, ...] = (
    Check(
        "text_is_the_record_text",
        "The text is the record's text, whole.",
        passes=lambda o: o.item.text == _record(o).get("text"),
        applies=lambda o: o.item is not None and isinstance(_record(o).get("text"), str),
    ),
    common.created_at_is(
        "created_at_is_the_post_date",
        "created_at is the record's createdAt (not the fetch time).",
        lambda o: _date(_record(o).get("createdAt")),
        dated=True,
    ),
    common.author_present(
        "The author's id is the post's DID and a handle (or the DID) is set.", author_id=_did
    ),
    Check(
        "url_is_the_post",
        "The item's address is the post's bsky.app page (https, same rkey).",
        passes=lambda o: (
            o.item.url.startswith("https://bsky.app/profile/")
            and o.item.url.endswith("/post/" + o.item.platform_id.rsplit("/", 1)[-1])
        ),
        applies=mapped,
    ),
    Check(
        "reply_parent_and_root",
        "A reply's parent_id and thread_id are its record's reply.parent and reply.root URIs.",
        passes=lambda o: (
            o.item.parent_id == _mapping(_reply(o).get("parent")).get("uri")
            and o.item.thread_id == _mapping(_reply(o).get("root")).get("uri")
        ),
        applies=lambda o: o.item is not None and bool(_reply(o)),
    ),
    common.reply_thread_not_itself(lambda o: mapped(o) and bool(_reply(o))),
    common.reply_not_a_post(
        lambda o: mapped(o) and bool(_reply(o)),
        "A reply is a COMMENT, REPLY or MENTION, never a POST.",
    ),
    common.language_is_iso_639_1(
        "The language is None or an ISO 639-1 code (not a regional tag such as en-US or pt-BR)."
    ),
    Check(
        "language_declared_kept",
        "The language the record declares first (langs[0]) is kept (its primary subtag).",
        passes=lambda o: (
            o.item.language is not None
            and o.item.language.split("-")[0].lower()
            == str(_record(o)["langs"][0]).split("-")[0].lower()
        ),
        applies=lambda o: o.item is not None and bool(_record(o).get("langs")),
    ),
    common.links_kept(
        lambda o: _record_links(_record(o)),
        "Every link facet and the link card's address are among the item's links.",
    ),
    common.links_absolute("Every link is an absolute http(s) URL."),
    common.links_not_own_media(
        _media_addresses, "No link is an address of the post's own images or video."
    ),
    Check(
        "images_kept",
        "Every image is carried as an image (with its alt text) at a CDN address.",
        passes=lambda o: (
            [m.description for m in o.item.media if m.kind == "image"]
            == [str(image.get("alt") or "") for image in _images(o)]
            and all(m.url.startswith("https://") for m in o.item.media if m.kind == "image")
        ),
        applies=lambda o: o.item is not None and bool(_images(o)),
    ),
    Check(
        "video_is_the_playlist",
        "A video is carried as a video at its playlist address, not its thumbnail.",
        passes=lambda o: any(m.kind == "video" and m.url.endswith(".m3u8") for m in o.item.media),
        applies=lambda o: o.item is not None and _has_video(o),
    ),
    Check(
        "quote_carried",
        "A quoted post the view shows is carried: its URI, text, author and bsky.app address.",
        passes=_quote_passes,
        applies=lambda o: o.item is not None and bool(_quoted_view(o)),
    ),
    Check(
        "quote_reference_kept",
        "A post the record quotes is carried at least by its URI (Jetstream, deleted quotes).",
        passes=lambda o: (
            getattr(getattr(o.item, "quoted", None), "platform_id", None) == _quoted_ref(o)
        ),
        applies=lambda o: o.item is not None and _quoted_ref(o) is not None,
    ),
    Check(
        "labels_kept",
        "The post's moderation labels (labellers' and self-labels) are the item's labels.",
        passes=lambda o: _labels_sent(o) <= set(getattr(o.item, "labels", ()) or ()),
        applies=lambda o: o.item is not None and bool(_labels_sent(o)),
    ),
    common.metrics_kept(
        lambda o: {
            name: o.payload[field]
            for name, field in (
                ("replies", "replyCount"),
                ("reposts", "repostCount"),
                ("likes", "likeCount"),
                ("quotes", "quoteCount"),
            )
            if isinstance(o.payload.get(field), int)
        },
        lambda o: isinstance(o.payload.get("likeCount"), int),
        "The view's counts (replies, reposts, likes, quotes) are kept.",
    ),
    Check(
        "notification_kind",
        "A mention or quote notification is a MENTION; a reply one a COMMENT or REPLY.",
        passes=lambda o: (
            o.item.kind
            == (ItemKind.MENTION if o.payload.get("reason") != "reply" else _thread_kind(o.payload))
        ),
        applies=lambda o: o.item is not None and o.context.get("stage") == "notification",
    ),
)
