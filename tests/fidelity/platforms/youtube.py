"""YouTube Data API v3 answers recorded by other projects (tests/corpus/youtube/), through
:class:`~beffroi.connectors.youtube.YouTubeConnector` as a sync maps them.

A file is one list answer: ``search.list``, ``playlistItems.list`` and ``videos.list`` items
go through ``map_item`` one by one; a ``commentThreads.list`` thread goes through the
connector's own thread mapping (its top-level comment, then its embedded replies, each with
the thread's video); a ``comments.list parentId=`` answer (the replies of one thread) is
mapped with the video of that thread, found in the origin's recorded threads, as the sync
knows it when it asks for them.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from beffroi.connectors.base import ItemKind
from beffroi.connectors.values import parse_time
from beffroi.connectors.youtube import YouTubeConnector
from tests.fidelity import common
from tests.fidelity.common import ENTITY, as_dict, error_text, is_absolute, item_of, mapped
from tests.fidelity.model import Check, Outcome

PLATFORM = "youtube"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: Past every recorded comment: the thread mapping never asks for more replies (no network).
_NEVER = datetime.max.replace(tzinfo=UTC)
#: An HTML entity left in a text (``&amp;``, ``&#39;``, ``&quot;``…).
#: An address written in plain text, found independently of Beffroi's own extraction.
#: A link YouTube made in a comment's HTML ``textDisplay``.
_HREF = re.compile(r'<a [^>]*href="([^"]+)"')


@cache
def _connector() -> YouTubeConnector:
    # The service is built from the bundled discovery document: no request is made.
    return YouTubeConnector({"channel_id": "UCcorpus0000000000000000"}, {"access_token": "t"})


@cache
def _thread_videos(origin: Path) -> dict[str, str]:
    """Top-level comment id -> video id, from the threads recorded in ``origin``."""
    videos: dict[str, str] = {}
    for path in origin.rglob("*.json"):
        answer = json.loads(path.read_text("utf-8"))
        if answer.get("kind") != "youtube#commentThreadListResponse":
            continue
        for thread in answer.get("items", []):
            snippet = as_dict(thread.get("snippet"))
            if snippet.get("videoId"):
                videos[str(thread.get("id"))] = str(snippet["videoId"])
    return videos


def read(path: Path) -> Iterator[Outcome]:
    """Every resource of one recorded list answer, mapped as a sync maps it."""
    relative = str(path.resolve().relative_to(CORPUS))
    answer = json.loads(path.read_text("utf-8"))
    connector = _connector()
    origin = CORPUS / Path(relative).parts[0] / Path(relative).parts[1]
    for index, raw in enumerate(answer.get("items", [])):
        ref = str(raw.get("id") if isinstance(raw.get("id"), str) else index)
        if raw.get("kind") == "youtube#commentThread":
            yield from _thread(connector, relative, ref, raw)
            continue
        context: dict[str, Any] = {"resource": raw.get("kind")}
        try:
            if raw.get("kind") == "youtube#comment":
                parent = as_dict(raw.get("snippet")).get("parentId")
                video = _thread_videos(origin).get(str(parent)) if parent else None
                context["video_id"] = video
                item = connector._map_comment(raw, video_id=video)
            else:
                item = connector.map_item(raw, ItemKind.POST)
        except Exception as exc:  # one bad record must not hide the others
            yield Outcome(relative, ref, raw, error=error_text(exc), context=context)
            continue
        yield Outcome(relative, ref, raw, item=item, context=context)


def _thread(
    connector: YouTubeConnector, relative: str, ref: str, thread: Mapping[str, Any]
) -> Iterator[Outcome]:
    snippet = as_dict(thread.get("snippet"))
    try:
        entry = connector._thread_entry(thread, _NEVER)
    except Exception as exc:  # the thread is reported, the others go on
        yield Outcome(relative, ref, thread, error=error_text(exc))
        return
    resources = [
        as_dict(snippet.get("topLevelComment")),
        *as_dict(thread.get("replies")).get("comments", []),
    ]
    by_id = {str(r.get("id")): r for r in resources}
    context = {"resource": "youtube#comment", "video_id": snippet.get("videoId")}
    for item in entry.items:
        raw = by_id.get(item.platform_id, {})
        yield Outcome(relative, item.platform_id, raw, item=item, context=context)


# --- what was sent ---------------------------------------------------------------------------


def _snippet(outcome: Outcome) -> dict[str, Any]:
    return as_dict(outcome.payload.get("snippet"))


def _is_comment(outcome: Outcome) -> bool:
    return outcome.context.get("resource") == "youtube#comment"


def _is_video(outcome: Outcome) -> bool:
    return outcome.item is not None and not _is_comment(outcome)


def _sent_texts(outcome: Outcome) -> tuple[str, str]:
    """The title and description (or the comment's text) as written, once unescaped where
    YouTube escaped them (search results)."""
    snippet = _snippet(outcome)
    if _is_comment(outcome):
        return str(snippet.get("textOriginal") or ""), ""
    title, description = str(snippet.get("title") or ""), str(snippet.get("description") or "")
    if outcome.payload.get("kind") == "youtube#searchResult":
        return html.unescape(title), html.unescape(description)
    return title, description


def _sent_time(outcome: Outcome) -> datetime | None:
    snippet = _snippet(outcome)
    details = as_dict(outcome.payload.get("contentDetails"))
    if outcome.payload.get("kind") == "youtube#playlistItem":
        # snippet.publishedAt is when the video joined the playlist, not when it was published.
        return parse_time(details.get("videoPublishedAt") or snippet.get("publishedAt"))
    return parse_time(snippet.get("publishedAt"))


def _sent_links(outcome: Outcome) -> list[str]:
    _, description = _sent_texts(outcome)
    text = _sent_texts(outcome)[0] if _is_comment(outcome) else description
    return common.text_links(text)


def _display_links(outcome: Outcome) -> list[str]:
    """The addresses outside YouTube that YouTube linked in a comment's HTML textDisplay (a
    bare ``Google.com`` written in the text becomes ``http://google.com/``)."""
    if not _is_comment(outcome):
        return []
    links = []
    for href in _HREF.findall(str(_snippet(outcome).get("textDisplay") or "")):
        address = html.unescape(href)
        host = (urlsplit(address).hostname or "").lower()
        if host != "youtube.com" and not host.endswith(".youtube.com"):
            links.append(address)
    return links


def _same_link(link: str, urls: tuple[str, ...]) -> bool:
    """Whether ``link`` is among ``urls``, a trailing slash or http/https aside."""

    def plain(url: str) -> str:
        return url.split("://", 1)[-1].rstrip("/")

    return plain(link) in {plain(url) for url in urls}


def _text_is_full(outcome: Outcome) -> bool:
    title, description = _sent_texts(outcome)
    text = item_of(outcome).text
    return title in text and description in text


def _links_kept(outcome: Outcome) -> bool:
    urls = item_of(outcome).urls
    return all(link in urls or link.rstrip("/") in urls for link in _sent_links(outcome))


def _thumbnails(outcome: Outcome) -> set[str]:
    return {
        str(as_dict(size).get("url"))
        for size in as_dict(_snippet(outcome).get("thumbnails")).values()
        if as_dict(size).get("url")
    }


def _primary_language(outcome: Outcome) -> str | None:
    sent = _snippet(outcome).get("defaultLanguage")
    return str(sent).split("-")[0].lower() if sent else None


def _reply_is_placed(outcome: Outcome) -> bool:
    item = item_of(outcome)
    parent = str(_snippet(outcome).get("parentId"))
    return (
        item.kind is ItemKind.REPLY
        and item.parent_id == parent
        and item.thread_id is not None
        and item.thread_id != item.platform_id
        and item.thread_id == outcome.context.get("video_id")
    )


def _comment_is_placed(outcome: Outcome) -> bool:
    item = item_of(outcome)
    video = outcome.context.get("video_id")
    return item.kind is ItemKind.COMMENT and item.thread_id == video and item.parent_id == video


def _url_is_the_item(outcome: Outcome) -> bool:
    item = item_of(outcome)
    if not is_absolute(item.url):
        return False
    if _is_comment(outcome):
        return f"lc={item.platform_id}" in item.url and (
            "watch?v=" in item.url or "/channel/UC" in item.url
        )
    return item.url == f"https://www.youtube.com/watch?v={item.platform_id}"


CHECKS: tuple[Check, ...] = (
    common.text_present(
        lambda o: bool(_sent_texts(o)[0].strip()),
        "A video with a title, or a comment with a text, has a text.",
        name="text_not_empty",
    ),
    Check(
        "text_full",
        "The text holds the whole title and description (or the comment's textOriginal).",
        passes=_text_is_full,
    ),
    common.no_html_entities(
        "No HTML entity is left in the text where the text as written has none.",
        applies=lambda o: mapped(o) and not ENTITY.search("\n".join(_sent_texts(o))),
    ),
    Check(
        "author_name_unescaped",
        "The channel's name is as written (a search result's channelTitle unescaped).",
        passes=lambda o: (
            item_of(o).author.display_name == html.unescape(str(_snippet(o).get("channelTitle")))
        ),
        applies=lambda o: _is_video(o) and bool(_snippet(o).get("channelTitle")),
    ),
    common.created_at_is(
        "created_at_is_sent_date",
        "created_at is the publication time YouTube sent (a video's, not the playlist's).",
        _sent_time,
        dated=False,
    ),
    common.author_present(
        "The author's channel id and a handle are set where YouTube names the channel.",
        applies=lambda o: (
            mapped(o)
            and bool(
                _snippet(o).get("channelId")
                or as_dict(_snippet(o).get("authorChannelId")).get("value")
            )
        ),
    ),
    Check(
        "url_is_the_item",
        "The item's link is an absolute address of this video or comment.",
        passes=_url_is_the_item,
    ),
    common.links_absolute(applies=mapped),
    Check(
        "text_links_kept",
        "Every address written in the description or comment is a shared link.",
        passes=_links_kept,
        applies=lambda o: o.item is not None and bool(_sent_links(o)),
    ),
    Check(
        "comment_display_links_kept",
        "An address YouTube linked in a comment (textDisplay's href, a bare domain written "
        "in the text included) is a shared link.",
        passes=lambda o: all(_same_link(link, item_of(o).urls) for link in _display_links(o)),
        applies=lambda o: o.item is not None and bool(_display_links(o)),
    ),
    Check(
        "thumbnail_is_an_image",
        "A video's media is its thumbnail, as an image (never presented as the video file).",
        passes=lambda o: (
            bool(item_of(o).media)
            and all(m.kind == "image" and m.url in _thumbnails(o) for m in item_of(o).media)
        ),
        applies=lambda o: _is_video(o) and bool(_thumbnails(o)),
    ),
    common.language_is_iso_639_1(
        "The language is None or a two-letter ISO 639-1 code.", name="language_iso_639_1"
    ),
    Check(
        "language_kept",
        "A video's defaultLanguage is kept (its primary subtag).",
        passes=lambda o: item_of(o).language == _primary_language(o),
        applies=lambda o: _is_video(o) and _primary_language(o) is not None,
    ),
    Check(
        "comment_under_its_video",
        "A top-level comment's thread and parent are its video.",
        passes=_comment_is_placed,
        applies=lambda o: (
            _is_comment(o) and not _snippet(o).get("parentId") and bool(o.context.get("video_id"))
        ),
    ),
    Check(
        "reply_placed",
        "A reply is a REPLY whose parent is its top-level comment and whose thread is the "
        "video (not its own id).",
        passes=_reply_is_placed,
        applies=lambda o: _is_comment(o) and bool(_snippet(o).get("parentId")),
    ),
    common.count_kept(
        "comment_likes_kept",
        "A comment's likeCount is kept in its metrics.",
        "likes",
        lambda o: _snippet(o).get("likeCount"),
        applies=_is_comment,
    ),
    common.raw_kept(),
)
