"""The raw payload of each demo item, shaped like the platform's API answer for it.

Mastodon statuses, Graph API objects of Facebook and Instagram (posts, comments, replies,
messages) and Bluesky post views: what the item's ``raw`` keeps, as a connector keeps the
payload it was given.
"""

from __future__ import annotations

import html
import re
from typing import Any

from beffroi.connectors.base import ItemKind
from beffroi.demo.drafts import Draft, DraftSource
from beffroi.demo.formats import digits, iso_fb, iso_z

__all__ = ["raw_payload"]

_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]+(?:@[A-Za-z0-9.-]+)?)")
_TAG_RE = re.compile(r"#(\w+)")


def raw_payload(source: DraftSource, d: Draft) -> dict[str, Any]:
    """A payload shaped like the platform's API answer for this item."""
    parent = source.by_id[d.parent_id] if d.parent_id is not None else None
    if source.platform == "mastodon":
        return _mastodon(d, parent)
    if source.platform == "facebook":
        return _facebook(d, parent)
    if source.platform == "instagram":
        return _instagram(d, parent)
    return _bluesky(source, d, parent)


def _mastodon(d: Draft, parent: Draft | None) -> dict[str, Any]:
    persona = d.who.persona
    username = d.who.handle.split("@")[0]
    home = d.who.url.split("/")[2]
    body = "<br>".join(html.escape(line) for line in d.text.split("\n"))
    return {
        "id": d.pid,
        "created_at": iso_z(d.created_at),
        "in_reply_to_id": parent.pid if parent is not None else None,
        "in_reply_to_account_id": parent.who.platform_id if parent is not None else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "direct" if d.kind == ItemKind.MESSAGE else "public",
        "language": d.lang,
        "uri": f"https://{home}/users/{username}/statuses/{d.pid}",
        "url": d.url,
        "replies_count": d.children,
        "reblogs_count": d.shares,
        "favourites_count": d.likes,
        "content": f"<p>{body}</p>",
        "account": {
            "id": d.who.platform_id,
            "username": username,
            "acct": d.who.handle,
            "display_name": d.who.display,
            "url": d.who.url,
            "followers_count": persona.followers,
            "created_at": d.who.created,
            "bot": False,
        },
        "media_attachments": [
            {"type": m.kind, "url": m.url, "description": m.description or None} for m in d.media
        ],
        "mentions": [{"acct": acct} for acct in _MENTION_RE.findall(d.text)],
        "tags": [{"name": tag.lower()} for tag in _TAG_RE.findall(d.text)],
    }


def _facebook(d: Draft, parent: Draft | None) -> dict[str, Any]:
    sender = {"id": d.who.platform_id, "name": d.who.display}
    if d.kind == ItemKind.MESSAGE:
        other = d.to
        assert other is not None
        return {
            "id": d.pid,
            "message": d.text,
            "created_time": iso_fb(d.created_at),
            "from": sender,
            "to": {"data": [{"id": other.platform_id, "name": other.display}]},
            "thread_id": "t_" + digits(f"facebook-thread:{d.thread_id}", 16),
        }
    attachments = [
        {"type": "photo", "media": {"image": {"src": m.url}}, "description": m.description}
        for m in d.media
    ]
    if d.kind == ItemKind.POST:
        return {
            "id": d.pid,
            "message": d.text,
            "created_time": iso_fb(d.created_at),
            "from": sender,
            "permalink_url": d.url,
            "shares": {"count": d.shares},
            "reactions": {"summary": {"total_count": d.likes}},
            "comments": {"summary": {"total_count": d.children}},
            "attachments": {"data": attachments},
        }
    payload: dict[str, Any] = {
        "id": d.pid,
        "message": d.text,
        "created_time": iso_fb(d.created_at),
        "from": sender,
        "permalink_url": d.url,
        "like_count": d.likes,
        "comment_count": d.children,
        "object": {"id": d.thread_id},
    }
    if d.kind == ItemKind.REPLY and parent is not None:
        payload["parent"] = {"id": parent.pid}
    if attachments:
        payload["attachment"] = attachments[0]
    return payload


def _instagram(d: Draft, parent: Draft | None) -> dict[str, Any]:
    if d.kind == ItemKind.MESSAGE:
        other = d.to
        assert other is not None
        return {
            "id": d.pid,
            "message": d.text,
            "created_time": iso_fb(d.created_at),
            "from": {"id": d.who.platform_id, "username": d.who.handle},
            "to": {"data": [{"id": other.platform_id, "username": other.handle}]},
        }
    if d.kind == ItemKind.POST:
        return {
            "id": d.pid,
            "caption": d.text,
            "timestamp": iso_fb(d.created_at),
            "media_type": "IMAGE",
            "media_url": d.media[0].url if d.media else "",
            "permalink": d.url,
            "username": d.who.handle,
            "like_count": d.likes,
            "comments_count": d.children,
        }
    payload: dict[str, Any] = {
        "id": d.pid,
        "text": d.text,
        "timestamp": iso_fb(d.created_at),
        "username": d.who.handle,
        "from": {"id": d.who.platform_id, "username": d.who.handle},
        "like_count": d.likes,
        "media": {"id": d.thread_id},
    }
    if d.kind == ItemKind.REPLY and parent is not None:
        payload["parent_id"] = parent.pid
    return payload


def _bluesky(source: DraftSource, d: Draft, parent: Draft | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": d.text,
        "createdAt": iso_z(d.created_at),
        "langs": [d.lang],
    }
    if parent is not None:
        root = source.by_id[d.thread_id]
        record["reply"] = {
            "root": {"uri": root.pid, "cid": root.ref},
            "parent": {"uri": parent.pid, "cid": parent.ref},
        }
    return {
        "uri": d.pid,
        "cid": d.ref,
        "author": {
            "did": d.who.platform_id,
            "handle": d.who.handle,
            "displayName": d.who.display,
            "followersCount": d.who.persona.followers,
            "createdAt": d.who.created,
        },
        "record": record,
        "replyCount": d.children,
        "repostCount": d.shares,
        "likeCount": d.likes,
        "quoteCount": 0,
        "indexedAt": iso_z(d.created_at),
    }
