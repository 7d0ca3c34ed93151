"""Instagram Graph API answers recorded by other projects (tests/corpus/instagram/), through
:class:`~beffroi.connectors.instagram.InstagramConnector` as a sync maps them.

A file is one Graph answer: an edge page (``{"data": [...]}``), one object, a ``?ids=a,b``
answer (an object keyed by id) or a ``mentioned_media`` / ``mentioned_comment`` lookup. An
IG Media is a POST (the account's own media) or a MENTION (media it is tagged or mentioned
in, by the file's name); an IG Comment goes through the comment stage's mapping with its
media (``media.id``, or the media of the ``/{media}/comments`` edge recorded in
``paging.next``), and its embedded ``replies`` with it as their parent. A ``.jsonl`` file
holds Airbyte records, one ``{"stream", "data"}`` a line: their ``data`` are the media.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from beffroi.connectors.base import ItemKind, Media, NormalizedItem
from beffroi.connectors.instagram import InstagramConnector
from beffroi.connectors.values import parse_time
from tests.fidelity import common
from tests.fidelity.common import as_dict, error_text, item_of, mapped
from tests.fidelity.model import Check, Outcome

PLATFORM = "instagram"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: The recording account of each origin (python-facebook's is ``ikroskun``).
_ACCOUNTS = {"python-facebook": "17841406338772941", "airbyte": "17841408147298757"}
_DEFAULT_ACCOUNT = "17841400000000000"
_EDGE = re.compile(r"/v\d+\.\d+/(\d+)/(comments|replies)\b")


def _records(answer: Any) -> list[dict[str, Any]]:
    """The objects of an edge page, of one object, of a ``?ids=`` answer or of a
    ``mentioned_*`` lookup."""
    if not isinstance(answer, dict):
        return []
    if isinstance(answer.get("data"), list):
        return [r for r in answer["data"] if isinstance(r, dict)]
    for lookup in ("mentioned_media", "mentioned_comment"):
        if isinstance(answer.get(lookup), dict):
            return [answer[lookup]]
    if "id" in answer:
        return [answer]
    return [r for r in answer.values() if isinstance(r, dict)]


def _is_media(raw: Mapping[str, Any]) -> bool:
    return any(key in raw for key in ("media_type", "media_url", "caption", "children"))


def read(path: Path) -> Iterator[Outcome]:
    """Every media, comment and reply of one recorded answer."""
    relative = str(path.resolve().relative_to(CORPUS))
    text = path.read_text("utf-8")
    if path.suffix == ".jsonl":  # Airbyte's records: one {"stream", "data"} a line
        answer: Any = {"data": [json.loads(line)["data"] for line in text.splitlines() if line]}
    else:
        answer = json.loads(text)
    account = _ACCOUNTS.get(Path(relative).parts[1], _DEFAULT_ACCOUNT)
    connector = InstagramConnector({"ig_user_id": account}, {"access_token": "EAAcorpus0000"})
    edge = _EDGE.search(str(as_dict(answer.get("paging")).get("next") or ""))
    try:
        for index, raw in enumerate(_records(answer)):
            ref = str(raw.get("id") or index)
            if _is_media(raw):
                mention = "tagged" in path.name or "mentioned" in path.name
                kind = ItemKind.MENTION if mention else ItemKind.POST
                yield _map(
                    relative,
                    ref,
                    raw,
                    "media",
                    partial(connector.map_item, raw, kind),
                    {"account": account, "kind": kind},
                )
                continue
            media_id = str(as_dict(raw.get("media")).get("id") or "")
            if not media_id and edge and edge[2] == "comments":
                media_id = edge[1]  # the /{media}/comments edge this page answers
            if not media_id:
                yield _map(
                    relative,
                    ref,
                    raw,
                    "comment",
                    partial(connector.map_item, raw, ItemKind.COMMENT),
                    {},
                )
                continue
            # The comment stage: the comment with its media, then its replies under it.
            context = {"media_id": media_id}
            comment = _map(
                relative,
                ref,
                raw,
                "comment",
                partial(connector._comment_item, raw, media_id, "", None),
                context,
            )
            yield comment
            if comment.item is None:
                continue
            for reply in as_dict(raw.get("replies")).get("data") or []:
                yield _map(
                    relative,
                    str(reply.get("id")),
                    reply,
                    "comment",
                    partial(connector._comment_item, reply, media_id, "", comment.item.platform_id),
                    {**context, "parent_id": comment.item.platform_id},
                )
    finally:
        connector.close()


def _map(
    relative: str,
    ref: str,
    raw: Mapping[str, Any],
    what: str,
    mapping: Callable[[], NormalizedItem],
    context: Mapping[str, Any],
) -> Outcome:
    details = {"what": what, **context}
    try:
        item = mapping()
    except Exception as exc:  # one bad record must not hide the others
        return Outcome(relative, ref, raw, error=error_text(exc), context=details)
    return Outcome(relative, ref, raw, item=item, context=details)


# --- what was sent ---------------------------------------------------------------------------


def _is_media_outcome(outcome: Outcome) -> bool:
    return outcome.item is not None and outcome.context.get("what") == "media"


def _is_comment_outcome(outcome: Outcome) -> bool:
    return outcome.item is not None and outcome.context.get("what") == "comment"


def _sent_text(outcome: Outcome) -> str:
    return str(outcome.payload.get("caption") or outcome.payload.get("text") or "")


def _sent_time(outcome: Outcome) -> datetime | None:
    return parse_time(outcome.payload.get("timestamp"))


def _text_links(outcome: Outcome) -> list[str]:
    return common.text_links(_sent_text(outcome))


def _slides(outcome: Outcome) -> list[dict[str, Any]]:
    children = as_dict(outcome.payload.get("children")).get("data")
    return [c for c in children if isinstance(c, dict)] if isinstance(children, list) else []


def _expected_files(raw: Mapping[str, Any]) -> list[Media]:
    """A media's files as Instagram sent them: each slide of a carousel, a video's file, an
    image."""
    media_type, url = raw.get("media_type"), raw.get("media_url")
    if media_type == "CAROUSEL_ALBUM":
        children = as_dict(raw.get("children")).get("data") or []
        return [f for child in children for f in _expected_files(child)]
    if not url:
        return []
    return [Media("video" if media_type == "VIDEO" else "image", str(url))]


def _sent_username(outcome: Outcome) -> str:
    return str(as_dict(outcome.payload.get("from")).get("username") or "") or str(
        outcome.payload.get("username") or ""
    )


def _sent_parent(outcome: Outcome) -> str | None:
    parent = outcome.context.get("parent_id") or outcome.payload.get("parent_id")
    return str(parent) if parent else None


def _comment_placed(outcome: Outcome) -> bool:
    item, media = item_of(outcome), str(outcome.context.get("media_id"))
    return item.kind is ItemKind.COMMENT and item.thread_id == media and item.parent_id == media


def _reply_placed(outcome: Outcome) -> bool:
    item = item_of(outcome)
    media = outcome.context.get("media_id")
    return (
        item.kind is ItemKind.REPLY
        and item.parent_id == _sent_parent(outcome)
        and item.thread_id != item.platform_id
        and (media is None or item.thread_id == media)
    )


CHECKS: tuple[Check, ...] = (
    common.text_present(
        lambda o: bool(_sent_text(o).strip()),
        "A media with a caption, or a comment with a text, has a text.",
        name="text_not_empty",
    ),
    common.text_full(_sent_text, "The text is the whole caption or comment text."),
    common.created_at_is(
        "created_at_is_sent_date",
        "created_at is the timestamp Instagram sent.",
        _sent_time,
        dated=False,
    ),
    Check(
        "author_handle_kept",
        "The author's handle is the username Instagram sent.",
        passes=lambda o: item_of(o).author.handle == _sent_username(o),
        applies=lambda o: o.item is not None and bool(_sent_username(o)),
    ),
    Check(
        "own_media_author_is_account",
        "The account's own media has the account (its owner) as its author.",
        passes=lambda o: (
            item_of(o).author.platform_id
            == str(as_dict(o.payload.get("owner")).get("id") or o.context.get("account"))
        ),
        applies=lambda o: _is_media_outcome(o) and o.context.get("kind") is ItemKind.POST,
    ),
    Check(
        "url_is_permalink",
        "A media's link is its permalink where Instagram sent one.",
        passes=lambda o: item_of(o).url == o.payload.get("permalink"),
        applies=lambda o: _is_media_outcome(o) and bool(o.payload.get("permalink")),
    ),
    common.url_absolute("The item's link is an absolute https address.", https=True),
    common.links_absolute(applies=mapped),
    common.links_kept(
        _text_links,
        "Every address written in the caption or comment is a shared link.",
        name="text_links_kept",
    ),
    Check(
        "files_kept",
        "A media's files are kept: a carousel's slides one by one, a video's file (not its "
        "thumbnail), an image.",
        passes=lambda o: list(item_of(o).media) == _expected_files(o.payload),
        applies=lambda o: _is_media_outcome(o) and bool(_expected_files(o.payload)),
    ),
    Check(
        "video_is_file",
        "A video (or a carousel's video slide) is its file, never its thumbnail_url.",
        passes=lambda o: (
            not any(
                m.url in {str(s.get("thumbnail_url")) for s in [o.payload, *_slides(o)]}
                for m in item_of(o).media
            )
        ),
        applies=lambda o: (
            _is_media_outcome(o)
            and any(s.get("media_type") == "VIDEO" for s in [o.payload, *_slides(o)])
        ),
    ),
    Check(
        "comment_under_its_media",
        "A comment's thread and parent are its media.",
        passes=_comment_placed,
        applies=lambda o: (
            _is_comment_outcome(o) and bool(o.context.get("media_id")) and not _sent_parent(o)
        ),
    ),
    Check(
        "reply_placed",
        "A reply is a REPLY whose parent is its comment and whose thread is the media.",
        passes=_reply_placed,
        applies=lambda o: _is_comment_outcome(o) and bool(_sent_parent(o)),
    ),
    common.count_kept(
        "likes_kept",
        "like_count is kept in the metrics as likes.",
        "likes",
        lambda o: o.payload.get("like_count"),
    ),
    common.count_kept(
        "comments_count_kept",
        "A media's comments_count is kept in the metrics as comments.",
        "comments",
        lambda o: o.payload.get("comments_count"),
        applies=_is_media_outcome,
    ),
    common.language_is_iso_639_1(
        "The language is None or a two-letter ISO 639-1 code.", name="language_iso_639_1"
    ),
    common.raw_kept(),
)
