"""Graph API answers about Facebook Pages recorded by other projects (tests/corpus/facebook/),
through :class:`~beffroi.connectors.facebook.FacebookConnector` as a sync maps them.

A file is one Graph answer: an edge page (``{"data": [...]}``), one object, or a
``?ids=a,b`` answer (an object keyed by id). Each object is a post, a comment (its
``permalink_url`` names its comment) or a Messenger message (``m_…`` id). The connector is
the one of the Page the record belongs to (the Page of a post's ``{page}_{post}`` id, of a
comment's permalink), as a sync of that Page would be. A post's embedded ``comments`` are
mapped with their post, as the sync's comment stage reads them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from beffroi.connectors.base import ItemKind, Media, NormalizedItem
from beffroi.connectors.facebook import FacebookConnector
from beffroi.connectors.values import parse_time
from tests.fidelity.model import Check, Outcome

PLATFORM = "facebook"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: A Page id for records that name none (a message): any numeric id does.
_DEFAULT_PAGE = "100000000000000"
_PERMALINK = re.compile(r"facebook\.com/(\d+)/posts/(\d+)")
_LINK = re.compile(r"https?://[^\s<>\"']+")
_ISO_639_1 = re.compile(r"[a-z]{2}")
_SHIMS = ("l.facebook.com", "lm.facebook.com", "l.messenger.com")
_VIDEO_TYPES = {"video", "video_inline", "video_autoplay", "video_direct_response"}


def _connector(page_id: str) -> FacebookConnector:
    return FacebookConnector({"page_id": page_id}, {"access_token": "EAAcorpus0000000000"})


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _records(answer: Any) -> list[dict[str, Any]]:
    """The objects of an edge page, of one object, or of a ``?ids=`` answer."""
    if isinstance(answer, list):
        return [r for r in answer if isinstance(r, dict)]
    if not isinstance(answer, dict):
        return []
    if isinstance(answer.get("data"), list):
        return [r for r in answer["data"] if isinstance(r, dict)]
    if "id" in answer:
        return [answer]
    return [r for r in answer.values() if isinstance(r, dict)]


def _permalink_post(raw: Mapping[str, Any]) -> tuple[str, str] | None:
    """(Page id, ``{page}_{post}``) named by a comment's permalink."""
    match = _PERMALINK.search(str(raw.get("permalink_url") or ""))
    return (match[1], f"{match[1]}_{match[2]}") if match else None


def _is_comment(raw: Mapping[str, Any]) -> bool:
    return "comment_id=" in str(raw.get("permalink_url") or "") or "parent" in raw


def read(path: Path) -> Iterator[Outcome]:
    """Every post, comment and message of one recorded answer."""
    relative = str(path.resolve().relative_to(CORPUS))
    for index, raw in enumerate(_records(json.loads(path.read_text("utf-8")))):
        ref = str(raw.get("id") or index)
        record_id = str(raw.get("id") or "")
        if record_id.startswith("m_"):
            yield _map(
                relative,
                ref,
                raw,
                _DEFAULT_PAGE,
                "message",
                lambda c, r=raw: c.map_item(r, ItemKind.MESSAGE),
            )
        elif _is_comment(raw):
            page, post = _permalink_post(raw) or (_DEFAULT_PAGE, "")
            yield _map(
                relative,
                ref,
                raw,
                page,
                "comment",
                lambda c, r=raw: c.map_item(r, ItemKind.COMMENT),
                {"post_id": post},
            )
        else:
            page = record_id.partition("_")[0] if record_id[:1].isdigit() else _DEFAULT_PAGE
            yield _map(
                relative, ref, raw, page, "post", lambda c, r=raw: c.map_item(r, ItemKind.POST)
            )
            # The comment stage reads /{post}/comments and maps each with its post id.
            for comment in _dict(raw.get("comments")).get("data") or []:
                yield _map(
                    relative,
                    str(comment.get("id")),
                    comment,
                    page,
                    "comment",
                    lambda c, r=comment, post=record_id: c._comment_item(r, post),
                    {"post_id": record_id},
                )


def _map(
    relative: str,
    ref: str,
    raw: Mapping[str, Any],
    page: str,
    what: str,
    mapping: Any,
    context: Mapping[str, Any] | None = None,
) -> Outcome:
    details = {"what": what, "page_id": page, **(context or {})}
    connector = _connector(page)
    try:
        item = mapping(connector)
    except Exception as exc:  # one bad record must not hide the others
        return Outcome(relative, ref, raw, error=_error(exc), context=details)
    finally:
        connector.close()
    return Outcome(relative, ref, raw, item=item, context=details)


# --- what was sent ---------------------------------------------------------------------------


def _item(outcome: Outcome) -> NormalizedItem:
    assert outcome.item is not None
    item: NormalizedItem = outcome.item
    return item


def _what(outcome: Outcome) -> str:
    return str(outcome.context.get("what"))


def _sent_text(outcome: Outcome) -> str:
    raw = outcome.payload
    return str(raw.get("message") or raw.get("story") or "")


def _attachments(outcome: Outcome) -> list[dict[str, Any]]:
    """The story attachments, an album's subattachments one by one."""
    raw = outcome.payload
    if _what(outcome) == "message":
        return []
    top = _dict(raw.get("attachments")).get("data") or (
        [raw["attachment"]] if isinstance(raw.get("attachment"), dict) else []
    )
    found: list[dict[str, Any]] = []
    for attachment in top:
        subs = _dict(attachment.get("subattachments")).get("data")
        found.extend(subs if isinstance(subs, list) and subs else [attachment])
    return found


def _kind(attachment: Mapping[str, Any]) -> str:
    return str(attachment.get("media_type") or attachment.get("type") or "")


def _image(attachment: Mapping[str, Any]) -> str:
    return str(_dict(_dict(attachment.get("media")).get("image")).get("src") or "")


def _photos(outcome: Outcome) -> list[str]:
    return [_image(a) for a in _attachments(outcome) if _kind(a) == "photo" and _image(a)]


def _videos(outcome: Outcome) -> list[dict[str, Any]]:
    return [a for a in _attachments(outcome) if _kind(a) in _VIDEO_TYPES]


def _shared_links(outcome: Outcome) -> list[str]:
    return [
        str(a.get("unshimmed_url") or a.get("url"))
        for a in _attachments(outcome)
        if _kind(a) in ("link", "share") and (a.get("unshimmed_url") or a.get("url"))
    ]


def _own_media_pages(outcome: Outcome) -> set[str]:
    """The Facebook pages of the post's own photos and videos (not links it shares)."""
    pages: set[str] = set()
    for attachment in _attachments(outcome):
        if _kind(attachment) in ("photo", *_VIDEO_TYPES):
            pages.update(
                str(v)
                for v in (
                    attachment.get("url"),
                    attachment.get("unshimmed_url"),
                    _dict(attachment.get("target")).get("url"),
                )
                if v
            )
    return pages


def _message_files(outcome: Outcome) -> list[Media]:
    files = []
    for entry in _dict(outcome.payload.get("attachments")).get("data") or []:
        image, video = _dict(entry.get("image_data")), _dict(entry.get("video_data"))
        if image.get("url"):
            files.append(Media("image", str(image["url"])))
        elif video.get("url"):
            files.append(Media("video", str(video["url"])))
    return files


def _text_links(outcome: Outcome) -> list[str]:
    return [link.rstrip(".,;:!?)]}…") for link in _LINK.findall(_sent_text(outcome))]


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _sent_time(outcome: Outcome) -> datetime | None:
    return parse_time(outcome.payload.get("created_time"))


def _sent_post(outcome: Outcome) -> str:
    return str(outcome.context.get("post_id") or "")


def _sent_parent(outcome: Outcome) -> str | None:
    """The comment a reply answers: its ``parent``, else the permalink's ``comment_id``
    when the permalink names a ``reply_comment_id``."""
    parent = _dict(outcome.payload.get("parent")).get("id")
    if parent:
        return str(parent)
    query = parse_qs(urlsplit(str(outcome.payload.get("permalink_url") or "")).query)
    if "reply_comment_id" in query:
        return query.get("comment_id", [""])[0] or None
    return None


def _comment_placed(outcome: Outcome) -> bool:
    item = _item(outcome)
    return (
        item.thread_id == _sent_post(outcome)
        and item.parent_id is not None
        and item.parent_id != item.platform_id
    )


def _reply_placed(outcome: Outcome) -> bool:
    item = _item(outcome)
    parent = _sent_parent(outcome) or ""
    return (
        item.kind is ItemKind.REPLY
        and item.parent_id is not None
        and item.parent_id.rpartition("_")[2] == parent.rpartition("_")[2]
        and item.thread_id != item.platform_id
    )


def _shared_post(outcome: Outcome) -> bool:
    """Whether the post shares another post (Graph's ``parent_id``, or a shared post as its
    attachment)."""
    raw = outcome.payload
    if _what(outcome) != "post":
        return False
    if raw.get("parent_id"):
        return True
    return any(
        _kind(a) == "share" and "/posts/" in str(a.get("unshimmed_url") or "")
        for a in _attachments(outcome)
    )


CHECKS: tuple[Check, ...] = (
    Check(
        "text_not_empty",
        "A post, comment or message with a message has a text.",
        passes=lambda o: bool(_item(o).text.strip()),
        applies=lambda o: o.item is not None and bool(_sent_text(o).strip()),
    ),
    Check(
        "text_full",
        "The text is the whole message (a post's story where it has no message).",
        passes=lambda o: _item(o).text == _sent_text(o),
        applies=lambda o: o.item is not None and bool(_sent_text(o)),
    ),
    Check(
        "created_at_is_sent_date",
        "created_at is the created_time Graph sent.",
        passes=lambda o: _item(o).created_at == _sent_time(o),
    ),
    Check(
        "author_present",
        "The author's id and a handle are those of the payload's from.",
        passes=lambda o: (
            _item(o).author.platform_id == str(_dict(o.payload.get("from"))["id"])
            and bool(_item(o).author.handle)
        ),
        applies=lambda o: o.item is not None and bool(_dict(o.payload.get("from")).get("id")),
    ),
    Check(
        "url_absolute",
        "The item's link is an absolute https address.",
        passes=lambda o: _item(o).url.startswith("https://") and _absolute(_item(o).url),
    ),
    Check(
        "links_absolute_unshimmed",
        "Every shared link is absolute and none goes through Facebook's link shim.",
        passes=lambda o: all(
            _absolute(u) and urlsplit(u).hostname not in _SHIMS for u in _item(o).urls
        ),
    ),
    Check(
        "text_links_kept",
        "Every address written in the message is a shared link.",
        passes=lambda o: all(link in _item(o).urls for link in _text_links(o)),
        applies=lambda o: o.item is not None and bool(_text_links(o)),
    ),
    Check(
        "shared_link_kept",
        "A shared link attachment's real address (unshimmed_url) is a shared link.",
        passes=lambda o: all(link in _item(o).urls for link in _shared_links(o)),
        applies=lambda o: o.item is not None and bool(_shared_links(o)),
    ),
    Check(
        "own_media_not_links",
        "The Facebook pages of the post's own photos and videos are not shared links.",
        passes=lambda o: not (set(_item(o).urls) & _own_media_pages(o)),
        applies=lambda o: o.item is not None and bool(_own_media_pages(o)),
    ),
    Check(
        "photos_kept",
        "Every photo of the post or comment (an album's one by one) is an image media.",
        passes=lambda o: all(Media("image", src) in _item(o).media for src in _photos(o)),
        applies=lambda o: o.item is not None and bool(_photos(o)),
    ),
    Check(
        "video_not_thumbnail",
        "A video attachment is a video media, and its preview image is not its media.",
        passes=lambda o: (
            any(m.kind == "video" for m in _item(o).media)
            and not any(m.url == _image(v) for v in _videos(o) for m in _item(o).media)
        ),
        applies=lambda o: o.item is not None and bool(_videos(o)),
    ),
    Check(
        "video_is_file",
        "Where Graph gives the video file (media.source), the media is that file.",
        passes=lambda o: all(
            Media("video", str(_dict(v.get("media"))["source"])) in _item(o).media
            for v in _videos(o)
            if _dict(v.get("media")).get("source")
        ),
        applies=lambda o: (
            o.item is not None and any(_dict(v.get("media")).get("source") for v in _videos(o))
        ),
    ),
    Check(
        "message_files_kept",
        "A Messenger message's image and video files are its media.",
        passes=lambda o: all(
            any(m.kind == f.kind and m.url == f.url for m in _item(o).media)
            for f in _message_files(o)
        ),
        applies=lambda o: o.item is not None and bool(_message_files(o)),
    ),
    Check(
        "no_empty_item",
        "A record without text but with files is not an empty item (it keeps its media).",
        passes=lambda o: bool(_item(o).text.strip() or _item(o).media),
        applies=lambda o: (
            o.item is not None
            and not _sent_text(o).strip()
            and bool(_message_files(o) or _attachments(o))
        ),
    ),
    Check(
        "comment_under_its_post",
        "A comment's thread is its post and its parent is set (never its own id).",
        passes=_comment_placed,
        applies=lambda o: o.item is not None and _what(o) == "comment" and bool(_sent_post(o)),
    ),
    Check(
        "reply_placed",
        "A reply to a comment is a REPLY whose parent is that comment.",
        passes=_reply_placed,
        applies=lambda o: o.item is not None and _what(o) == "comment" and bool(_sent_parent(o)),
    ),
    Check(
        "shares_kept",
        "A post's share count is kept in its metrics.",
        passes=lambda o: _item(o).metrics.get("shares") == _dict(o.payload.get("shares"))["count"],
        applies=lambda o: (
            o.item is not None and isinstance(_dict(o.payload.get("shares")).get("count"), int)
        ),
    ),
    Check(
        "comment_likes_kept",
        "A comment's like_count is kept in its metrics as likes (the name other platforms use).",
        passes=lambda o: _item(o).metrics.get("likes") == o.payload.get("like_count"),
        applies=lambda o: (
            o.item is not None
            and _what(o) == "comment"
            and isinstance(o.payload.get("like_count"), int)
        ),
    ),
    Check(
        "shared_post_carried",
        "A post sharing another post carries it (quoted, relation repost).",
        passes=lambda o: getattr(_item(o), "quoted", None) is not None,
        applies=lambda o: o.item is not None and _shared_post(o),
    ),
    Check(
        "language_iso_639_1",
        "The language is None or a two-letter ISO 639-1 code.",
        passes=lambda o: (
            _item(o).language is None or bool(_ISO_639_1.fullmatch(_item(o).language or ""))
        ),
    ),
    Check(
        "raw_kept",
        "The payload is kept verbatim as the item's raw.",
        passes=lambda o: dict(_item(o).raw) == dict(o.payload),
    ),
)
