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

from beffroi.connectors.base import ItemKind, Media
from beffroi.connectors.facebook import FacebookConnector
from beffroi.connectors.values import parse_time
from tests.fidelity import common
from tests.fidelity.common import as_dict, error_text, is_absolute, item_of, mapped
from tests.fidelity.model import Check, Outcome

PLATFORM = "facebook"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: A Page id for records that name none (a message): any numeric id does.
_DEFAULT_PAGE = "100000000000000"
_PERMALINK = re.compile(r"facebook\.com/(\d+)/posts/(\d+)")
_SHIMS = ("l.facebook.com", "lm.facebook.com", "l.messenger.com")
_VIDEO_TYPES = {"video", "video_inline", "video_autoplay", "video_direct_response"}


def _connector(page_id: str) -> FacebookConnector:
    return FacebookConnector({"page_id": page_id}, {"access_token": "EAAcorpus0000000000"})


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
            for comment in as_dict(raw.get("comments")).get("data") or []:
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
        return Outcome(relative, ref, raw, error=error_text(exc), context=details)
    finally:
        connector.close()
    return Outcome(relative, ref, raw, item=item, context=details)


# --- what was sent ---------------------------------------------------------------------------


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
    top = as_dict(raw.get("attachments")).get("data") or (
        [raw["attachment"]] if isinstance(raw.get("attachment"), dict) else []
    )
    found: list[dict[str, Any]] = []
    for attachment in top:
        subs = as_dict(attachment.get("subattachments")).get("data")
        found.extend(subs if isinstance(subs, list) and subs else [attachment])
    return found


def _kind(attachment: Mapping[str, Any]) -> str:
    return str(attachment.get("media_type") or attachment.get("type") or "")


def _image(attachment: Mapping[str, Any]) -> str:
    return str(as_dict(as_dict(attachment.get("media")).get("image")).get("src") or "")


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
                    as_dict(attachment.get("target")).get("url"),
                )
                if v
            )
    return pages


def _message_files(outcome: Outcome) -> list[Media]:
    files = []
    for entry in as_dict(outcome.payload.get("attachments")).get("data") or []:
        image, video = as_dict(entry.get("image_data")), as_dict(entry.get("video_data"))
        if image.get("url"):
            files.append(Media("image", str(image["url"])))
        elif video.get("url"):
            files.append(Media("video", str(video["url"])))
    return files


def _text_links(outcome: Outcome) -> list[str]:
    return common.text_links(_sent_text(outcome))


def _sent_time(outcome: Outcome) -> datetime | None:
    return parse_time(outcome.payload.get("created_time"))


def _sent_post(outcome: Outcome) -> str:
    return str(outcome.context.get("post_id") or "")


def _sent_parent(outcome: Outcome) -> str | None:
    """The comment a reply answers: its ``parent``, else the permalink's ``comment_id``
    when the permalink names a ``reply_comment_id``."""
    parent = as_dict(outcome.payload.get("parent")).get("id")
    if parent:
        return str(parent)
    query = parse_qs(urlsplit(str(outcome.payload.get("permalink_url") or "")).query)
    if "reply_comment_id" in query:
        return query.get("comment_id", [""])[0] or None
    return None


def _comment_placed(outcome: Outcome) -> bool:
    item = item_of(outcome)
    return (
        item.thread_id == _sent_post(outcome)
        and item.parent_id is not None
        and item.parent_id != item.platform_id
    )


def _reply_placed(outcome: Outcome) -> bool:
    item = item_of(outcome)
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
    common.text_present(
        lambda o: bool(_sent_text(o).strip()),
        "A post, comment or message with a message has a text.",
        name="text_not_empty",
    ),
    common.text_full(
        _sent_text, "The text is the whole message (a post's story where it has no message)."
    ),
    common.created_at_is(
        "created_at_is_sent_date",
        "created_at is the created_time Graph sent.",
        _sent_time,
        dated=False,
    ),
    common.author_present(
        "The author's id and a handle are those of the payload's from.",
        author_id=lambda o: str(as_dict(o.payload.get("from"))["id"]),
        applies=lambda o: mapped(o) and bool(as_dict(o.payload.get("from")).get("id")),
    ),
    common.url_absolute("The item's link is an absolute https address.", https=True),
    Check(
        "links_absolute_unshimmed",
        "Every shared link is absolute and none goes through Facebook's link shim.",
        passes=lambda o: all(
            is_absolute(u) and urlsplit(u).hostname not in _SHIMS for u in item_of(o).urls
        ),
    ),
    common.links_kept(
        _text_links,
        "Every address written in the message is a shared link.",
        name="text_links_kept",
    ),
    common.links_kept(
        _shared_links,
        "A shared link attachment's real address (unshimmed_url) is a shared link.",
        name="shared_link_kept",
    ),
    common.links_not_own_media(
        _own_media_pages,
        "The Facebook pages of the post's own photos and videos are not shared links.",
        name="own_media_not_links",
    ),
    Check(
        "photos_kept",
        "Every photo of the post or comment (an album's one by one) is an image media.",
        passes=lambda o: all(Media("image", src) in item_of(o).media for src in _photos(o)),
        applies=lambda o: o.item is not None and bool(_photos(o)),
    ),
    Check(
        "video_not_thumbnail",
        "A video attachment is a video media, and its preview image is not its media.",
        passes=lambda o: (
            any(m.kind == "video" for m in item_of(o).media)
            and not any(m.url == _image(v) for v in _videos(o) for m in item_of(o).media)
        ),
        applies=lambda o: o.item is not None and bool(_videos(o)),
    ),
    Check(
        "video_is_file",
        "Where Graph gives the video file (media.source), the media is that file.",
        passes=lambda o: all(
            Media("video", str(as_dict(v.get("media"))["source"])) in item_of(o).media
            for v in _videos(o)
            if as_dict(v.get("media")).get("source")
        ),
        applies=lambda o: (
            o.item is not None and any(as_dict(v.get("media")).get("source") for v in _videos(o))
        ),
    ),
    Check(
        "message_files_kept",
        "A Messenger message's image and video files are its media.",
        passes=lambda o: all(
            any(m.kind == f.kind and m.url == f.url for m in item_of(o).media)
            for f in _message_files(o)
        ),
        applies=lambda o: o.item is not None and bool(_message_files(o)),
    ),
    Check(
        "no_empty_item",
        "A record without text but with files is not an empty item (it keeps its media).",
        passes=lambda o: bool(item_of(o).text.strip() or item_of(o).media),
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
    common.count_kept(
        "shares_kept",
        "A post's share count is kept in its metrics.",
        "shares",
        lambda o: as_dict(o.payload.get("shares")).get("count"),
    ),
    common.count_kept(
        "comment_likes_kept",
        "A comment's like_count is kept in its metrics as likes (the name other platforms use).",
        "likes",
        lambda o: o.payload.get("like_count"),
        applies=lambda o: _what(o) == "comment",
    ),
    Check(
        "shared_post_carried",
        "A post sharing another post carries it (quoted, relation repost).",
        passes=lambda o: getattr(item_of(o), "quoted", None) is not None,
        applies=lambda o: o.item is not None and _shared_post(o),
    ),
    common.language_is_iso_639_1(
        "The language is None or a two-letter ISO 639-1 code.", name="language_iso_639_1"
    ),
    common.raw_kept(),
)
