"""Zeeschuimer and 4CAT NDJSON lines (``{"source_platform": ..., "data": {...}}``) to items.

Each platform's own JSON (X, Instagram, Threads, TikTok videos and comments) is mapped the
way 4CAT's data sources map it, to the columns of :mod:`~beffroi.connectors.fileimport.
columns`; ``docs/import-format.md`` says which field gives which column.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Final

from beffroi.connectors.base import (
    ItemKind,
    MalformedPayload,
    NormalizedItem,
    QuotedItem,
    Relation,
)
from beffroi.connectors.fileimport.columns import DateError, Record, build_item
from beffroi.connectors.fileimport.storable import excerpt
from beffroi.connectors.x import links_without_quoted_post

#: Zeeschuimer's ``source_platform`` values this module maps, and the platform they become.
ZEESCHUIMER_PLATFORMS: Final[Mapping[str, str]] = {
    "twitter.com": "x",
    "x.com": "x",
    "instagram.com": "instagram",
    "threads.net": "threads",
    "threads.com": "threads",
    "tiktok.com": "tiktok",
    "tiktok-comments": "tiktok",
}


_X_DATE_RE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) "
    r"([+-])(\d{2})(\d{2}) (\d{4})"
)
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def _x_date(value: object) -> datetime:
    """X's ``Wed Oct 10 20:19:24 +0000 2018``, independent of the locale."""
    match = _X_DATE_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or match.group(1) not in _MONTHS:
        raise DateError()
    month, day, hour, minute, second = match.group(1, 2, 3, 4, 5)
    sign, off_h, off_m, year = match.group(6, 7, 8, 9)
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        moment = datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:
        raise DateError() from None
    return moment.astimezone(UTC)


def is_zeeschuimer(obj: Mapping[str, Any]) -> bool:
    """Whether an NDJSON object is a Zeeschuimer (or 4CAT) line."""
    return "source_platform" in obj and isinstance(obj.get("data"), dict)


def _dig(obj: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(obj, list) or not -len(obj) <= key < len(obj):
                return None
            obj = obj[key]
        elif isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


@dataclass
class _Mapped:
    values: dict[str, Any]
    names: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)
    default_kind: ItemKind | None = None
    quoted: QuotedItem | None = None


def _x_result(result: Any) -> dict[str, Any] | None:
    """A referenced post's result with its ``legacy`` (unwrapping TweetWithVisibilityResults),
    or None (absent, a tombstone)."""
    if isinstance(result, dict) and isinstance(result.get("tweet"), dict):
        result = result["tweet"]
    if isinstance(result, dict) and isinstance(result.get("legacy"), dict):
        return result
    return None


def _x_quoted(relation: Relation, post: dict[str, Any]) -> QuotedItem:
    user = _dig(post, "core", "user_results", "result") or {}
    handle = _first(_dig(user, "core", "screen_name"), _dig(user, "legacy", "screen_name"))
    text = _first(
        _dig(post, "note_tweet", "note_tweet_results", "result", "text"),
        post["legacy"].get("full_text"),
    )
    post_id = _first(post.get("rest_id"), post["legacy"].get("id_str"))
    handle = handle if isinstance(handle, str) else ""
    return QuotedItem(
        relation,
        str(post_id) if post_id else None,
        html.unescape(text) if isinstance(text, str) else "",
        handle,
        f"https://x.com/{handle or 'i/web'}/status/{post_id}" if post_id else "",
    )


def _map_x(data: Mapping[str, Any]) -> _Mapped:
    """A tweet as X's web API sends it (4CAT's ``twitter-import`` reads the same fields)."""
    tweet: Any = data
    if "rest_id" not in tweet and isinstance(tweet.get("tweet"), dict):
        tweet = tweet["tweet"]  # TweetWithVisibilityResults
    if tweet.get("__typename") in ("TweetTombstone", "TweetUnavailable") or "tombstone" in tweet:
        raise MalformedPayload("this post is unavailable (deleted, withheld or protected)")
    legacy = tweet.get("legacy")
    if not isinstance(legacy, dict):
        raise MalformedPayload("field 'data.legacy' is missing: this is not a post X sent")
    user = _obj(_dig(tweet, "core", "user_results", "result"))
    old_user = _obj(tweet.get("user"))
    handle = _first(
        _dig(user, "core", "screen_name"),
        _dig(user, "legacy", "screen_name"),
        old_user.get("screen_name"),
    )
    tweet_id = _first(tweet.get("rest_id"), legacy.get("id_str"), tweet.get("id"))

    text = _first(_dig(tweet, "note_tweet", "note_tweet_results", "result", "text")) or legacy.get(
        "full_text"
    )
    if isinstance(text, str):
        text = html.unescape(text)  # X's web API escapes &, < and > in post text
    link_lists = [
        _dig(legacy, "entities", "urls"),
        _dig(tweet, "note_tweet", "note_tweet_results", "result", "entity_set", "urls"),
    ]
    quoted = None
    retweet = _x_result(_dig(legacy, "retweeted_status_result", "result"))
    if retweet is not None:
        quoted = _x_quoted(Relation.REPOST, retweet)
        if quoted.author and quoted.text:
            text = f"RT @{quoted.author}: {quoted.text}"
            link_lists += [
                _dig(retweet, "legacy", "entities", "urls"),
                _dig(retweet, "note_tweet", "note_tweet_results", "result", "entity_set", "urls"),
            ]
    elif (quote := _x_result(_dig(tweet, "quoted_status_result", "result"))) is not None:
        quoted = _x_quoted(Relation.QUOTE, quote)
    elif isinstance(quoted_id := legacy.get("quoted_status_id_str"), str) and quoted_id:
        # The quoted post is not in the capture (deleted, withheld): its address only.
        address = _dig(legacy, "quoted_status_permalink", "expanded")
        quoted = QuotedItem(
            Relation.QUOTE,
            quoted_id,
            "",
            "",
            address if isinstance(address, str) else f"https://x.com/i/web/status/{quoted_id}",
        )

    try:
        created_at: Any = _x_date(legacy.get("created_at"))
    except DateError:
        raise MalformedPayload(
            f"field 'data.legacy.created_at': '{excerpt(legacy.get('created_at'))}' is not a date "
            "in X's format (e.g. Wed Oct 10 20:19:24 +0000 2018)"
        ) from None

    thread_id = legacy.get("conversation_id_str")
    parent_id = legacy.get("in_reply_to_status_id_str")
    kind = None
    if parent_id:
        kind = ItemKind.COMMENT if parent_id == thread_id else ItemKind.REPLY

    media: list[dict[str, Any]] = []
    entities = _dig(legacy, "extended_entities", "media") or _dig(legacy, "entities", "media")
    for entry in entities if isinstance(entities, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("type") in ("video", "animated_gif"):
            variants = [
                v
                for v in _dig(entry, "video_info", "variants") or []
                if isinstance(v, dict) and v.get("content_type") == "video/mp4"
            ]
            best = max(variants, key=lambda v: v.get("bitrate") or 0, default=None)
            url = best.get("url") if best else entry.get("media_url_https")
            media_kind = "video"
        else:
            url, media_kind = entry.get("media_url_https"), "image"
        if url:
            media.append(
                {"kind": media_kind, "url": url, "description": entry.get("ext_alt_text") or ""}
            )
    # The links the post shares, expanded: its text only has their t.co wrappers.
    links = [
        link["expanded_url"]
        for found in link_lists
        for link in (found if isinstance(found, list) else [])
        if isinstance(link, dict) and isinstance(link.get("expanded_url"), str)
    ]

    views = _dig(tweet, "views", "count") or _dig(tweet, "ext_views", "count")
    user_legacy = _obj(user.get("legacy")) or old_user
    extra = {
        key: value
        for key, value in (
            ("followers", user_legacy.get("followers_count")),
            ("verified", bool(user.get("is_blue_verified") or user_legacy.get("verified"))),
        )
        if value is not None
    }
    if tweet.get("promoted"):
        extra["promoted_post"] = True
    values = {
        "id": tweet_id,
        "text": text,
        "created_at": created_at,
        "author": handle,
        "author_id": _first(legacy.get("user_id_str"), user.get("rest_id"), old_user.get("id_str")),
        "author_name": _first(_dig(user, "core", "name"), _dig(user, "legacy", "name"))
        or old_user.get("name"),
        "author_url": f"https://x.com/{handle}" if isinstance(handle, str) else None,
        "thread_id": thread_id,
        "parent_id": parent_id,
        "url": f"https://x.com/{handle}/status/{tweet_id}"
        if isinstance(handle, str) and tweet_id
        else None,
        "language": legacy.get("lang"),
        # A retweet's counts are X's copy of the original's (its retweet_count above all):
        # none, as the X connector keeps none.
        "likes": None if retweet else legacy.get("favorite_count"),
        "shares": None if retweet else legacy.get("retweet_count"),
        "replies": None if retweet else legacy.get("reply_count"),
        "views": None if retweet else views,
        "metric_quotes": None if retweet else legacy.get("quote_count"),
        "media": media,
        "urls": links,
    }
    names = {
        "id": "data.rest_id",
        "text": "data.legacy.full_text",
        "created_at": "data.legacy.created_at",
        "author": "data.core.user_results.result.legacy.screen_name",
        "author_id": "data.legacy.user_id_str",
        "author_name": "data.core.user_results.result.legacy.name",
        "thread_id": "data.legacy.conversation_id_str",
        "parent_id": "data.legacy.in_reply_to_status_id_str",
        "language": "data.legacy.lang",
        "likes": "data.legacy.favorite_count",
        "shares": "data.legacy.retweet_count",
        "replies": "data.legacy.reply_count",
        "views": "data.views.count",
        "metric_quotes": "data.legacy.quote_count",
        "media": "data.legacy.extended_entities.media",
        "urls": "data.legacy.entities.urls",
    }
    return _Mapped(values, names, extra, kind, quoted)


def _map_meta(data: Mapping[str, Any], platform: str) -> _Mapped:
    """An Instagram or Threads post as Meta's web API sends it (4CAT's ``instagram``)."""
    node = data
    link = node.get("link")
    if node.get("product_type") == "ad" or (
        isinstance(link, str) and link.startswith("https://www.facebook.com/ads/")
    ):
        raise MalformedPayload("this item is an advertisement, not a post (4CAT skips them too)")
    owner = _obj(node.get("owner"))
    person = _obj(node.get("user"))
    user = {**owner, **{key: value for key, value in person.items() if value is not None}}
    code = _first(node.get("code"), node.get("shortcode"))
    raw_id = node.get("id")
    id_part, _, author_part = raw_id.partition("_") if isinstance(raw_id, str) else ("", "", "")
    item_id = _first(node.get("pk"), id_part or None, raw_id, code)
    handle = user.get("username")
    if not handle:
        raise MalformedPayload(
            "the item has no author: Zeeschuimer captured it from a grid or thumbnail view, "
            "which leaves the author out"
        )
    created = _first(node.get("taken_at"), node.get("taken_at_timestamp"))
    if created is None:
        raise MalformedPayload(
            "the item has no date: Zeeschuimer captured it from a grid or thumbnail view, "
            "which leaves the date out"
        )
    caption = node.get("caption")
    if isinstance(caption, dict):
        text = caption.get("text") or ""
    else:
        text = _dig(node, "edge_media_to_caption", "edges", 0, "node", "text") or ""

    media: list[dict[str, Any]] = []
    nodes = node.get("carousel_media") or [node]
    for entry in nodes if isinstance(nodes, list) else []:
        if not isinstance(entry, dict):
            continue
        video = _first(_dig(entry, "video_versions", 0, "url"), entry.get("video_url"))
        image = _first(
            _dig(entry, "image_versions2", "candidates", 0, "url"), entry.get("display_url")
        )
        description = entry.get("accessibility_caption") or ""
        if video:
            media.append({"kind": "video", "url": video, "description": description})
        elif image:
            media.append({"kind": "image", "url": image, "description": description})

    hidden = bool(node.get("like_and_view_counts_disabled"))
    likes = (
        None
        if hidden
        else _first(node.get("like_count"), _dig(node, "edge_media_preview_like", "count"))
    )
    info = _obj(node.get("text_post_app_info"))
    replies = _first(
        info.get("direct_reply_count"),
        node.get("comment_count"),
        _dig(node, "edge_media_preview_comment", "count"),
        _dig(node, "edge_media_to_comment", "count"),
    )
    if platform == "threads":
        url = f"https://www.threads.com/@{handle}/post/{code}" if code else None
        author_url = f"https://www.threads.com/@{handle}"
    else:
        url = f"https://www.instagram.com/p/{code}/" if code else None
        author_url = f"https://www.instagram.com/{handle}/"
    extra = {"verified": bool(user.get("is_verified"))}
    values = {
        "id": item_id,
        "text": text,
        "created_at": created,
        "author": handle,
        "author_id": _first(user.get("pk"), user.get("id"), author_part or None),
        "author_name": user.get("full_name"),
        "author_url": author_url,
        "thread_id": item_id,
        "url": url,
        "likes": likes,
        "shares": info.get("repost_count"),
        "replies": replies,
        "views": None
        if hidden
        else _first(node.get("play_count"), node.get("view_count"), node.get("video_view_count")),
        "metric_quotes": info.get("quote_count"),
        "media": media,
    }
    names = {
        "id": "data.pk",
        "text": "data.caption.text",
        "created_at": "data.taken_at",
        "author": "data.user.username",
        "author_id": "data.user.pk",
        "author_name": "data.user.full_name",
        "likes": "data.like_count",
        "shares": "data.text_post_app_info.repost_count",
        "replies": "data.comment_count",
        "views": "data.play_count",
        "metric_quotes": "data.text_post_app_info.quote_count",
        "media": "data.carousel_media",
    }
    return _Mapped(values, names, extra, ItemKind.POST)


def _map_tiktok(data: Mapping[str, Any]) -> _Mapped:
    """A TikTok video as TikTok's web API sends it (4CAT's ``tiktok``)."""
    post = data
    author = post.get("author")
    if isinstance(author, dict):
        handle, name, author_id = author.get("uniqueId"), author.get("nickname"), author.get("id")
    else:
        handle, name, author_id = author, post.get("nickname"), None
    stats = _obj(post.get("stats"))
    stats2 = _obj(post.get("statsV2"))
    item_id = post.get("id")
    video = _first(_dig(post, "video", "downloadAddr"), _dig(post, "video", "playAddr"))
    language = post.get("textLanguage")
    values = {
        "id": item_id,
        "text": post.get("desc") or "",
        "created_at": post.get("createTime"),
        "author": handle,
        "author_id": author_id,
        "author_name": name,
        "author_url": f"https://www.tiktok.com/@{handle}" if isinstance(handle, str) else None,
        "thread_id": item_id,
        "url": f"https://www.tiktok.com/@{handle}/video/{item_id}"
        if isinstance(handle, str) and item_id
        else None,
        "language": None if language in (None, "", "un") else language,
        "likes": _first(stats.get("diggCount"), stats2.get("diggCount")),
        "shares": _first(stats.get("shareCount"), stats2.get("shareCount")),
        "replies": _first(stats.get("commentCount"), stats2.get("commentCount")),
        "views": _first(stats.get("playCount"), stats2.get("playCount")),
        "media": [{"kind": "video", "url": video}] if isinstance(video, str) else [],
    }
    names = {
        "id": "data.id",
        "text": "data.desc",
        "created_at": "data.createTime",
        "author": "data.author.uniqueId",
        "author_id": "data.author.id",
        "author_name": "data.author.nickname",
        "language": "data.textLanguage",
        "likes": "data.stats.diggCount",
        "shares": "data.stats.shareCount",
        "replies": "data.stats.commentCount",
        "views": "data.stats.playCount",
        "media": "data.video.downloadAddr",
    }
    extra = {"verified": bool(author.get("verified"))} if isinstance(author, dict) else {}
    return _Mapped(values, names, extra, ItemKind.POST)


def _map_tiktok_comment(data: Mapping[str, Any]) -> _Mapped:
    """A TikTok comment (4CAT's ``tiktok-comments``)."""
    comment = data
    user = _obj(comment.get("user"))
    video_id = comment.get("aweme_id")
    reply_to = comment.get("reply_id")
    answers_comment = reply_to not in (None, "", "0", 0)
    handle = user.get("unique_id")
    values = {
        "id": _first(comment.get("cid"), comment.get("id")),
        "text": comment.get("text") or "",
        "created_at": comment.get("create_time"),
        "author": handle,
        "author_id": user.get("uid"),
        "author_name": user.get("nickname"),
        "author_url": f"https://www.tiktok.com/@{handle}" if isinstance(handle, str) else None,
        "thread_id": video_id,
        "parent_id": reply_to if answers_comment else video_id,
        "url": _dig(comment, "share_info", "url"),
        "language": _first(comment.get("comment_language")),
        "likes": comment.get("digg_count"),
        "replies": comment.get("reply_comment_total"),
    }
    names = {
        "id": "data.cid",
        "text": "data.text",
        "created_at": "data.create_time",
        "author": "data.user.unique_id",
        "author_id": "data.user.uid",
        "author_name": "data.user.nickname",
        "thread_id": "data.aweme_id",
        "parent_id": "data.reply_id",
        "url": "data.share_info.url",
        "language": "data.comment_language",
        "likes": "data.digg_count",
        "replies": "data.reply_comment_total",
    }
    return _Mapped(values, names, {}, ItemKind.REPLY if answers_comment else ItemKind.COMMENT)


def map_zeeschuimer(obj: Mapping[str, Any]) -> NormalizedItem:
    """Map one line of a Zeeschuimer (or 4CAT NDJSON) export: ``{"source_platform", "data"}``.

    ``platform`` is set from ``source_platform``; ``raw`` is the whole line. Raises
    :class:`MalformedPayload` with the reason, for a person.
    """
    source = obj.get("source_platform")
    data = obj.get("data")
    key = source.strip().lower().removeprefix("www.") if isinstance(source, str) else ""
    platform = ZEESCHUIMER_PLATFORMS.get(key)
    if platform is None:
        supported = ", ".join(sorted(ZEESCHUIMER_PLATFORMS))
        raise MalformedPayload(
            f"field 'source_platform': '{excerpt(source)}' is not supported by the file import "
            f"(supported: {supported}); export the dataset from 4CAT as CSV and import that "
            "file instead"
        )
    if not isinstance(data, dict):
        raise MalformedPayload(f"{key} item: field 'data' is missing or not an object")
    try:
        if platform == "x":
            mapped = _map_x(data)
        elif platform in ("instagram", "threads"):
            mapped = _map_meta(data, platform)
        elif key == "tiktok-comments":
            mapped = _map_tiktok_comment(data)
        else:
            mapped = _map_tiktok(data)
        mapped.values["platform"] = platform
        values = {k: v for k, v in mapped.values.items() if v is not None}
        if platform == "x" and mapped.quoted is not None:
            values["urls"] = list(links_without_quoted_post(tuple(values["urls"]), mapped.quoted))
        item = build_item(
            Record(values, mapped.names, "field"),
            default_platform=platform,
            default_kind=mapped.default_kind,
            raw=obj,
            author_extra=mapped.extra,
        )
        return dataclasses.replace(item, quoted=mapped.quoted) if mapped.quoted else item
    except MalformedPayload as exc:
        raise MalformedPayload(f"{key} item (Zeeschuimer): {exc}") from None
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise MalformedPayload(
            f"{key} item (Zeeschuimer): the data is not shaped as expected ({exc!r})"
        ) from None
