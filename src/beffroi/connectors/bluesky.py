"""Bluesky, through the atproto SDK (XRPC), and Jetstream for keyword listening.

The account is connected with its handle and an app password: ``atproto.Client.login``
calls ``com.atproto.server.createSession``, which Bluesky limits to 30 per 5 minutes and 300
per day per account. The session (access and refresh JWTs) is therefore kept in this process
per (service URL, handle, password) and shared by every connector of that account; the SDK
refreshes it (``refreshSession``) before its access token expires, and the connector logs in
again only when the server answers ``ExpiredToken`` (the refresh token expired too).

What a sync brings back, in this order, each stage in batches:

1. the account's own posts and replies (``app.bsky.feed.getAuthorFeed``, reposts skipped) as
   POST (REPLY when the post answers something), oldest first;
2. the replies under its posts of the last ``REPLIES_DAYS`` days that have replies
   (``app.bsky.feed.getPostThread``), as COMMENT (answering the root) or REPLY (deeper). They
   are re-read on every sync: items are unique per platform id downstream;
3. notifications of reasons mention, reply and quote (``app.bsky.notification.
   listNotifications``, ``cursor`` pagination), hydrated with ``app.bsky.feed.getPosts``
   (25 URIs a call) for the counters and embeds, as MENTION (mention, quote), COMMENT or REPLY;
4. when the ``search`` setting is set, the latest posts of other accounts matching it
   (``app.bsky.feed.searchPosts`` with ``sort=latest`` and ``since``), as POST;
5. when ``keywords`` is set, Jetstream (a JSON WebSocket relay of the network's commits):
   ``<jetstream_url>?wantedCollections=app.bsky.feed.post&cursor=<time_us>`` is read until an
   event reaches the moment the sync started (or a budget of events / seconds, or the stream
   goes quiet); new posts whose text contains a keyword (case-insensitive, as a whole word or
   phrase) are hydrated with ``getPosts`` and yielded as POST. A post ``getPosts`` no longer
   shows is mapped from the event itself, its record's embed turned into the AppView's view
   (images and videos at their CDN addresses), so that both paths give the same media.

A quoted post (``app.bsky.embed.record#view``, alone or with media) is carried as the item's
``quoted`` (its text, author and address; only the address on the Jetstream path, whose record
holds a reference). Moderation labels (a post view's ``labels``, negations applied, and the
record's self-labels ``labels.values``) are the item's ``labels``; the author's account labels
stay in ``raw``.

Cursor: a JSON dict ``{"did", "posts_since", "notifications_since", "search_since",
"search_query", "jetstream_time_us"}``. The ``*_since`` values are the newest ``indexedAt``
already yielded in that stream. Those XRPC lists page newest-first, so each stage walks back
(``cursor`` pages) to its ``*_since`` (the last ``HISTORY_DAYS`` days on a first sync) and
replays what it found oldest-first, each batch carrying the newest time in it: a crash
resumes without loss, re-reading at most the items of the boundary instant.
``jetstream_time_us`` is the ``time_us`` of the last Jetstream event read; the next sync
resumes there (inclusive, since the operations of one commit share a ``time_us``). A first
sync starts ``JETSTREAM_FIRST_WINDOW`` seconds back. If the account's DID changed the cursor
starts afresh.

Rate limits: every answer's ``ratelimit-remaining``/``ratelimit-reset`` (epoch seconds)
headers are read; a spent window or a 429 closes the account in the process-wide rate gate
until the reset (:mod:`beffroi.connectors.http`). Writes cost points (create 3, update 2,
delete 1; 5,000 an hour, 35,000 a day per account).

Actions:

- reply: ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` whose ``reply`` has
  the thread's root and the parent (strong refs: uri and cid, from the item's raw payload).
  Given an ``idempotency_key`` (the desk's reply key), the record key (``rkey``) is chosen
  here, derived from it (:func:`record_key_for`), so that the same reply sent again cannot
  make a second post: the PDS refuses a create at a key that exists (``RecordAlreadyExists``
  in the lexicons of createRecord and applyWrites, bluesky-social/atproto#4728; the
  reference PDS released before it answers 500 for it, atproto#3718). Either answer, and any
  answer that leaves the outcome unknown (a timeout, a 5xx), is settled by reading the record
  at that key (``getRecord``): there, the reply is posted (its uri and cid are the record's);
  absent, the outcome stays unknown;
- hide / unhide: the thread's ``app.bsky.feed.threadgate`` record (rkey = the root post's
  rkey), read with ``com.atproto.repo.getRecord`` and written with ``putRecord`` with the reply
  added to / removed from ``hiddenReplies`` (at most 300), other fields kept. Only in threads
  the account started;
- publish: ``createRecord`` of a post (link and hashtag facets detected);
- private reply: a direct message in Bluesky's chat service, reached through the account's
  PDS with the header ``atproto-proxy: did:web:api.bsky.chat#bsky_chat``:
  ``chat.bsky.convo.getConvoForMembers`` (``members``: the author's DID) gives the one-to-one
  conversation, ``chat.bsky.convo.sendMessage`` (``convoId``, ``message: {text}``) posts in it.
  The app password must allow direct messages (the PDS answers ``InvalidToken`` "Bad token
  scope" otherwise); a person who does not accept messages from the account is a refusal
  with Bluesky's words (``MessagesDisabled``, ``NotFollowedBySender``, blocks);
- report: ``com.atproto.moderation.createReport`` sent to the labeler ``labeler_did`` (header
  ``atproto-proxy: <did>#atproto_labeler``) with ``reasonOther`` and the reason text;
- delete: ``com.atproto.repo.deleteRecord``, only for the account's own posts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

import httpx
from atproto_client import Client
from atproto_client.client.session import Session
from atproto_client.exceptions import (
    InvokeTimeoutError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
)
from atproto_client.models import (
    AppBskyFeedGetAuthorFeed,
    AppBskyFeedGetPosts,
    AppBskyFeedGetPostThread,
    AppBskyFeedSearchPosts,
    AppBskyNotificationListNotifications,
    ChatBskyConvoGetConvoForMembers,
    ComAtprotoRepoGetRecord,
)
from atproto_client.models.utils import get_model_as_dict
from atproto_client.request import Request
from atproto_client.utils import facet_detection
from pydantic import ValidationError
from websockets.exceptions import ConnectionClosedOK, InvalidURI, WebSocketException
from websockets.sync.client import connect as ws_connect

from beffroi import egress
from beffroi.connectors.base import (
    WATCH_HASHTAGS,
    Action,
    ActionResult,
    AuthError,
    AuthMethod,
    ConfigurationError,
    ConnectorError,
    FetchBatch,
    FetchKind,
    ItemKind,
    ItemRef,
    MalformedPayload,
    Media,
    NormalizedAuthor,
    NormalizedItem,
    NotFound,
    Option,
    OutcomeUnknown,
    QuotedItem,
    RateLimited,
    Refused,
    Relation,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.http import (
    DEFAULT_RATE_WAIT,
    RATE_GATE,
    HttpConnector,
    HttpOptions,
    epoch_reset_seconds,
    retry_after_seconds,
    token_key,
    unreachable,
)
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import MediaFile, counts_of, download_all, refusals_typed
from beffroi.connectors.values import clear_text_allowed, iso_z, language_code, parse_time

if TYPE_CHECKING:
    from typing_extensions import Unpack

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bsky.social"
DEFAULT_JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
#: Bluesky's own moderation service.
DEFAULT_LABELER_DID = "did:plc:ar7c4by46qjdydhdevvrndac"
DEFAULT_TIMEOUT = 30.0
#: Entries asked per page (the lexicons allow up to 100).
PAGE_SIZE = 50
#: URIs per ``getPosts`` call (the lexicon's maximum).
GET_POSTS_MAX = 25
HISTORY_DAYS = 30
REPLIES_DAYS = 7
#: Pages walked back per stream and sync at most (a runaway server must not loop).
MAX_PAGES = 40
#: How far back a first Jetstream read starts, in seconds.
JETSTREAM_FIRST_WINDOW = 300
#: Budget of one Jetstream read: events, seconds, and the silence that ends it.
JETSTREAM_MAX_EVENTS = 200_000
JETSTREAM_MAX_SECONDS = 60.0
JETSTREAM_IDLE_SECONDS = 10.0
#: Matching posts per Jetstream batch (and events read between two cursor saves).
JETSTREAM_BATCH = GET_POSTS_MAX
JETSTREAM_SAVE_EVERY = 5_000
#: ``hiddenReplies`` of a threadgate holds at most this many URIs (lexicon).
HIDDEN_REPLIES_MAX = 300
#: ``reason`` of a report: at most 2,000 graphemes (code points are never fewer).
REPORT_REASON_MAX = 2000
POST_COLLECTION = "app.bsky.feed.post"
#: A post view's counts as :meth:`BlueskyConnector.post_metrics` names them.
METRIC_NAMES = {
    "likeCount": "likes",
    "repostCount": "shares",
    "replyCount": "comments",
    "quoteCount": "quotes",
}
#: The characters of a TID (base32-sortable), by value.
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
#: Where the timestamps of the record keys derived from a reply's key start (2023-01-01 UTC,
#: in microseconds), and the bits of the hash that place them after it (2**45 µs: 407 days).
_DERIVED_TID_START_US = 1_672_531_200_000_000
_DERIVED_TID_SPAN_BITS = 45
#: Where the AppView serves a post's images and videos, by author DID and blob CID.
IMAGE_CDN = "https://cdn.bsky.app/img"
VIDEO_CDN = "https://video.bsky.app/watch"
THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
#: Bluesky's chat service, which the PDS proxies to (``atproto-proxy`` header).
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
#: Where a person opens a chat conversation in Bluesky's web app.
CHAT_WEB_URL = "https://bsky.app/messages"

_POST_URI = re.compile(r"^at://([^/]+)/app\.bsky\.feed\.post/([^/?#]+)$")
_KEYWORD_SEPARATORS = re.compile(r"[,\n;]+")
_NOTIFICATION_REASONS = ("mention", "reply", "quote")
_AUTH_ERRORS = {
    "ExpiredToken": "its session expired and logging in again failed",
    "InvalidToken": "its session is no longer valid (the app password was revoked?)",
    "AuthenticationRequired": "the handle or the app password is wrong or was revoked",
    "AuthFactorTokenRequired": "the account asks for an e-mail code: use an app password, "
    "not the account's main password",
    "AccountTakedown": "the account was taken down by Bluesky's moderation",
    "AuthMissing": "no session was sent",
}
_NOT_FOUND_ERRORS = frozenset(
    {"NotFound", "RecordNotFound", "RepoNotFound", "ActorNotFound", "RecipientNotFound"}
)
#: The chat service declining a conversation or a message (its lexicons' errors).
_CHAT_REFUSALS = {
    "MessagesDisabled": "the person does not accept direct messages",
    "NotFollowedBySender": "the person accepts direct messages only from accounts they follow",
    "BlockedActor": "the person blocked this account, or this account blocked them",
    "BlockedSubject": "the person blocked this account, or this account blocked them",
    "AccountSuspended": "the account may not send messages (suspended from chat)",
    "ConvoLocked": "the conversation is locked",
}


#: What Bluesky accepts in a post (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="bluesky",
    label="Bluesky",
    max_length=300,
    counting=Counting.GRAPHEMES,
    max_bytes=3000,
    media=MediaLimits(
        kinds=frozenset({"image", "gif", "video"}),
        max_count=4,
        image_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/mpeg", "video/webm", "video/quicktime"}),
        max_image_bytes=1_000_000,
        max_gif_bytes=100_000_000,
        max_video_bytes=100_000_000,
        max_video_seconds=600,
        alone_kinds=frozenset({"gif", "video"}),
    ),
    first_comment=True,
    first_comment_max_length=300,
    max_alt_text=1000,
    notes=(
        "app.bsky.feed.post: text of at most 300 graphemes and 3,000 bytes. Links count "
        "whole: Beffroi sends the text as written (the Bluesky app shortens long links in "
        "the text before posting, Beffroi does not). A post has one embed: up to 4 images "
        "(1,000,000 bytes each, app.bsky.embed.images) or one video (100,000,000 bytes, "
        "app.bsky.embed.video; the app sends a GIF as a video and allows 10 minutes). Alt "
        "text: the app allows 2,000 graphemes on an image, but a video's (so a GIF's) is "
        "limited to 1,000 by its lexicon; 1,000 is applied to both."
    ),
    sources=(
        "https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json",
        "https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json",
        "https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/video.json",
        "https://github.com/bluesky-social/social-app/blob/main/src/lib/constants.ts",
    ),
)


class RecordExists(ConnectorError):
    """The PDS refused a create at a record key that exists (``RecordAlreadyExists``)."""


#: Sessions of this process, per (service URL, handle, password digest): the session string.
_SESSIONS: dict[tuple[str, str, str], str] = {}
_SESSIONS_LOCK = threading.Lock()
_LOGIN_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}

CursorState = dict[str, Any]
Invoke = Callable[[Any], Any]


def forget_sessions() -> None:
    """Drop every kept session (tests; an administrator changing a password)."""
    with _SESSIONS_LOCK:
        _SESSIONS.clear()


# --- settings --------------------------------------------------------------------------------


def normalise_service_url(value: str, *, name: str, schemes: tuple[str, str]) -> str:
    """``scheme://host[:port][/path]`` of a service, https/wss unless towards an allowed
    internal host."""
    secure, clear = schemes
    raw = value.strip().rstrip("/")
    if "://" not in raw:
        raw = f"{secure}://{raw}"
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if parts.scheme not in schemes or not host:
        raise ConfigurationError(f"Bluesky: '{name}' must be an address like {secure}://host.")
    if parts.query or parts.fragment:
        raise ConfigurationError(f"Bluesky: '{name}' must not carry a query or a fragment.")
    if parts.scheme == clear and not clear_text_allowed(host):
        raise ConfigurationError(f"Bluesky: '{name}' must use {secure}:// (encrypted).")
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def parse_keywords(value: Any) -> tuple[str, ...]:
    """The ``keywords`` setting: words or phrases separated by commas, semicolons or lines."""
    if value in (None, ""):
        return ()
    if not isinstance(value, str):
        raise ConfigurationError("Bluesky: 'keywords' must be text (separated by commas).")
    words: list[str] = []
    for part in _KEYWORD_SEPARATORS.split(value):
        word = " ".join(part.split())
        if word and word.casefold() not in (w.casefold() for w in words):
            words.append(word)
    return tuple(words)


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    """A case-insensitive pattern matching any keyword as a whole word or phrase."""
    if not keywords:
        return None
    alternatives = "|".join(r"\s+".join(map(re.escape, k.split())) for k in keywords)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


# --- payload helpers -------------------------------------------------------------------------


def _now_iso() -> str:
    return iso_z(datetime.now(UTC), milliseconds=True)


def split_post_uri(uri: str) -> tuple[str, str]:
    """The repository DID and the rkey of an ``at://<did>/app.bsky.feed.post/<rkey>`` URI."""
    match = _POST_URI.match(uri)
    if not match:
        raise MalformedPayload(f"Bluesky: '{uri[:200]}' is not the at:// URI of a post.")
    return match.group(1), match.group(2)


def record_key_for(idempotency_key: str) -> str:
    """The record key of the post made for ``idempotency_key``: the same key, the same rkey.

    A valid TID (what ``app.bsky.feed.post`` asks of its keys): 13 characters of
    :data:`TID_ALPHABET` encoding a 64-bit integer whose top bit is 0, then 53 bits of
    microseconds since the Unix epoch, then a 10-bit clock identifier. The hash of the key
    (SHA-256, its first 55 bits) gives the clock identifier and a moment within 407 days from
    2023-01-01: a moment in the past, never refused as a time to come, and 55 bits make two
    keys meeting on one rkey unlikely enough (1 in about 10**16 per pair). The spec asks a TID
    *generator* for increasing values; a key chosen by the client need only be a valid TID,
    and nothing in Bluesky orders posts by rkey (the feeds go by ``createdAt``).
    """
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:8], "big")
    clock_id = digest & 0x3FF
    offset = (digest >> 10) & ((1 << _DERIVED_TID_SPAN_BITS) - 1)
    value = ((_DERIVED_TID_START_US + offset) << 10) | clock_id
    return "".join(TID_ALPHABET[(value >> shift) & 0x1F] for shift in range(60, -1, -5))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _reply_refs(record: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    reply = _mapping(record.get("reply"))
    return _mapping(reply.get("root")), _mapping(reply.get("parent"))


def _time_of(post: Mapping[str, Any]) -> datetime | None:
    return parse_time(post.get("indexedAt")) or parse_time(
        _mapping(post.get("record")).get("createdAt")
    )


def _links(record: Mapping[str, Any]) -> list[str]:
    links: list[str] = []
    for facet in record.get("facets") or []:
        for feature in _mapping(facet).get("features") or []:
            feature = _mapping(feature)
            if feature.get("$type") == "app.bsky.richtext.facet#link" and feature.get("uri"):
                links.append(str(feature["uri"]))
    embed = _mapping(record.get("embed"))
    external = _mapping(embed.get("external") or _mapping(embed.get("media")).get("external"))
    if external.get("uri"):
        links.append(str(external["uri"]))
    return list(dict.fromkeys(links))


def _media(embed: Mapping[str, Any]) -> tuple[Media, ...]:
    """Attachments of a post view's ``embed`` (images, video, link card)."""
    kind = str(embed.get("$type") or "")
    if kind == "app.bsky.embed.recordWithMedia#view":
        return _media(_mapping(embed.get("media")))
    if kind == "app.bsky.embed.images#view":
        return tuple(
            Media(
                "image",
                str(image.get("fullsize") or image.get("thumb") or ""),
                str(image.get("alt") or ""),
            )
            for image in map(_mapping, embed.get("images") or [])
        )
    if kind == "app.bsky.embed.video#view":
        return (Media("video", str(embed.get("playlist") or ""), str(embed.get("alt") or "")),)
    if kind == "app.bsky.embed.external#view":
        external = _mapping(embed.get("external"))
        return (Media("link", str(external.get("uri") or ""), str(external.get("title") or "")),)
    return ()


def _blob_cid(blob: Any) -> str:
    """The CID of a blob in a record: ``{"ref": {"$link": cid}}``, or a legacy ``{"cid"}``."""
    blob = _mapping(blob)
    ref = blob.get("ref")
    cid = _mapping(ref).get("$link") if isinstance(ref, Mapping) else ref
    return str(cid or blob.get("cid") or "")


def _image_url(size: str, did: str, blob: Any) -> str:
    cid = _blob_cid(blob)
    return f"{IMAGE_CDN}/{size}/plain/{did}/{cid}@jpeg" if cid else ""


def _embed_view(embed: Mapping[str, Any], did: str) -> Mapping[str, Any]:
    """A record's ``embed`` as the AppView shows it in a post view (the ``#view`` types with
    CDN addresses), for posts read from Jetstream that ``getPosts`` no longer shows."""
    kind = str(embed.get("$type") or "")
    if kind == "app.bsky.embed.recordWithMedia":
        return {
            "$type": "app.bsky.embed.recordWithMedia#view",
            "media": _embed_view(_mapping(embed.get("media")), did),
            "record": _embed_view(_mapping(embed.get("record")), did),
        }
    if kind == "app.bsky.embed.record":
        # A record holds only a strong reference to the quoted post: its address, no text.
        return {
            "$type": "app.bsky.embed.record#view",
            "record": {"uri": str(_mapping(embed.get("record")).get("uri") or "")},
        }
    if kind == "app.bsky.embed.images":
        return {
            "$type": "app.bsky.embed.images#view",
            "images": [
                {
                    "thumb": _image_url("feed_thumbnail", did, image.get("image")),
                    "fullsize": _image_url("feed_fullsize", did, image.get("image")),
                    "alt": str(image.get("alt") or ""),
                }
                for image in map(_mapping, embed.get("images") or [])
                if _blob_cid(image.get("image"))
            ],
        }
    if kind == "app.bsky.embed.video":
        cid = _blob_cid(embed.get("video"))
        if not cid:
            return {}
        return {
            "$type": "app.bsky.embed.video#view",
            "cid": cid,
            "playlist": f"{VIDEO_CDN}/{quote(did, safe='')}/{cid}/playlist.m3u8",
            "alt": str(embed.get("alt") or ""),
        }
    if kind == "app.bsky.embed.external":
        return {"$type": "app.bsky.embed.external#view", "external": embed.get("external")}
    return {}


def _quoted(embed: Mapping[str, Any]) -> QuotedItem | None:
    """The post a post view's ``embed`` quotes (``app.bsky.embed.record#view``, alone or with
    media); a quoted post not found, blocked or detached keeps its address only. Feeds, lists
    and starter packs embedded the same way are not posts: None."""
    kind = str(embed.get("$type") or "")
    if kind == "app.bsky.embed.recordWithMedia#view":
        embed = _mapping(embed.get("record"))
    elif kind != "app.bsky.embed.record#view":
        return None
    quoted = _mapping(embed.get("record"))
    match = _POST_URI.match(str(quoted.get("uri") or ""))
    if match is None:
        return None
    did, rkey = match.groups()
    author = _mapping(quoted.get("author"))
    handle = str(author.get("handle") or "")
    if handle == "handle.invalid":
        handle = ""
    text = _mapping(quoted.get("value")).get("text")
    return QuotedItem(
        Relation.QUOTE,
        str(quoted["uri"]),
        text if isinstance(text, str) else "",
        handle or str(author.get("did") or ""),
        f"https://bsky.app/profile/{handle or did}/post/{rkey}",
    )


def _labels(post: Mapping[str, Any], record: Mapping[str, Any]) -> tuple[str, ...]:
    """The post's moderation labels: those labellers put on it (a negation withdraws one)
    and the author's self-labels (``record.labels``)."""
    withdrawn = {
        str(label.get("val"))
        for label in map(_mapping, post.get("labels") or [])
        if label.get("neg") is True
    }
    given = [
        str(label["val"])
        for label in map(_mapping, post.get("labels") or [])
        if label.get("val") and label.get("neg") is not True
    ]
    given.extend(
        str(label["val"])
        for label in map(_mapping, _mapping(record.get("labels")).get("values") or [])
        if label.get("val")
    )
    return tuple(label for label in dict.fromkeys(given) if label not in withdrawn)


def _thread_kind(record: Mapping[str, Any]) -> ItemKind:
    root, parent = _reply_refs(record)
    return ItemKind.COMMENT if parent.get("uri") == root.get("uri") else ItemKind.REPLY


def _listened_kind(post: Mapping[str, Any]) -> ItemKind:
    """What a post met by listening (search, Jetstream) is: a POST, or by its place in its
    thread when it answers one (as Mastodon's listening stages map them)."""
    record = _mapping(post.get("record"))
    return _thread_kind(record) if record.get("reply") else ItemKind.POST


# --- the connector ---------------------------------------------------------------------------


class BlueskyConnector(HttpConnector):
    """An organisation's Bluesky account: its posts, replies, mentions, searches and keywords.

    ``BlueskyConnector(settings, credentials, timeout=30.0, retries=2, backoff=0.5,
    jetstream_max_seconds=60.0, jetstream_idle_seconds=10.0)``; see the module docstring.
    """

    platform: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    #: A repeat with the same key is recognised (see :meth:`publish`).
    idempotent_publish: ClassVar[bool] = True
    fetches: ClassVar[frozenset[FetchKind]] = frozenset(
        {
            FetchKind.OWN_POSTS,
            FetchKind.COMMENTS,
            FetchKind.MENTIONS,
            FetchKind.SEARCH,
            FetchKind.STREAM,
        }
    )
    actions: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.REPLY,
            Action.PRIVATE_REPLY,
            Action.HIDE,
            Action.UNHIDE,
            Action.DELETE,
            Action.PUBLISH,
            Action.REPORT,
        }
    )
    auth: ClassVar[AuthMethod] = AuthMethod.APP_PASSWORD
    options: ClassVar[Mapping[str, Option]] = {
        "handle": Option(
            label="Handle",
            help="The account's handle, e.g. mairie.bsky.social or mairie.fr",
        ),
        "app_password": Option(
            label="App password",
            secret=True,
            help="An app password created in Bluesky under Settings > Privacy and security "
            "> App passwords (not the account's password)",
        ),
        "base_url": Option(
            label="Service URL",
            required=False,
            default=DEFAULT_BASE_URL,
            help="The account's PDS or entryway; https://bsky.social for Bluesky accounts",
        ),
        "search": Option(
            label="Search query",
            required=False,
            help="Latest public posts matching this search (Bluesky search syntax)",
        ),
        "keywords": Option(
            label="Keywords to listen to",
            required=False,
            help="New posts of the whole network containing one of these words or phrases, "
            "separated by commas (read from Jetstream)",
        ),
        "jetstream_url": Option(
            label="Jetstream URL",
            required=False,
            default=DEFAULT_JETSTREAM_URL,
            help="The Jetstream instance read for keywords",
        ),
        "labeler_did": Option(
            label="Moderation service (DID)",
            required=False,
            default=DEFAULT_LABELER_DID,
            help="The labeler that receives reports; Bluesky's moderation by default",
        ),
    }
    not_supported: ClassVar[Mapping[str, str]] = {
        str(Action.EDIT): "Bluesky posts cannot be edited: delete the post and publish it again.",
    }
    setup_doc: ClassVar[str] = "connectors/bluesky.md"

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        jetstream_max_events: int = JETSTREAM_MAX_EVENTS,
        jetstream_max_seconds: float = JETSTREAM_MAX_SECONDS,
        jetstream_idle_seconds: float = JETSTREAM_IDLE_SECONDS,
        page_size: int = PAGE_SIZE,
        **http: Unpack[HttpOptions],
    ) -> None:
        super().__init__(settings, credentials, **http)
        self.base_url = normalise_service_url(
            str(settings.get("base_url") or DEFAULT_BASE_URL),
            name="base_url",
            schemes=("https", "http"),
        )
        self.handle = str(settings["handle"]).strip().lstrip("@")
        self._password = str(credentials["app_password"]).strip()
        self.search = str(settings.get("search") or "").strip()
        # The veille's listening watches add their hashtags (matched as "#tag" words).
        watched = tuple(
            f"#{tag.lstrip('#')}" for tag in str(settings.get(WATCH_HASHTAGS) or "").split()
        )
        self.keywords = parse_keywords(
            ", ".join((*parse_keywords(settings.get("keywords")), *watched))
        )
        self._keyword_pattern = keyword_pattern(self.keywords)
        self.jetstream_url = normalise_service_url(
            str(settings.get("jetstream_url") or DEFAULT_JETSTREAM_URL),
            name="jetstream_url",
            schemes=("wss", "ws"),
        )
        self.labeler_did = str(settings.get("labeler_did") or DEFAULT_LABELER_DID).strip()
        self.jetstream_max_events = jetstream_max_events
        self.jetstream_max_seconds = jetstream_max_seconds
        self.jetstream_idle_seconds = jetstream_idle_seconds
        self.page_size = page_size
        self.key = token_key(self.platform, f"{self.base_url}\0{self.handle.casefold()}")
        self._session_key = (
            self.base_url,
            self.handle.casefold(),
            token_key(self.platform, self._password),
        )
        self._sdk: Any = None
        self._session_string: str | None = None
        self._did: str | None = None

    def __repr__(self) -> str:
        return f"<BlueskyConnector {self.handle} @ {self.base_url}>"

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """Required options, usable service addresses, a DID for the labeler, keywords."""
        super().validate_options(settings, credentials)
        normalise_service_url(
            str(settings.get("base_url") or DEFAULT_BASE_URL),
            name="base_url",
            schemes=("https", "http"),
        )
        normalise_service_url(
            str(settings.get("jetstream_url") or DEFAULT_JETSTREAM_URL),
            name="jetstream_url",
            schemes=("wss", "ws"),
        )
        labeler = str(settings.get("labeler_did") or DEFAULT_LABELER_DID).strip()
        if not labeler.startswith("did:"):
            raise ConfigurationError("Bluesky: 'labeler_did' must be a DID (did:plc:…).")
        parse_keywords(settings.get("keywords"))

    # --- session ---------------------------------------------------------------------------

    def _client(self) -> Any:
        """The SDK client, logged in with the process's session of this account."""
        if self._sdk is not None:
            return self._sdk
        key = self._session_key
        with _SESSIONS_LOCK:
            login_lock = _LOGIN_LOCKS.setdefault(key, threading.Lock())
        # One login at a time per account: createSession is scarce (30 per 5 minutes).
        with login_lock:
            with _SESSIONS_LOCK:
                kept = _SESSIONS.get(key)
            client = Client(
                base_url=self.base_url,
                request=Request(timeout=self.timeout, transport=egress.guarded_transport()),
            )
            if kept is not None:
                client.login(session_string=kept, fetch_bsky_profile=False)
            else:
                log.info("Bluesky: creating a session for %s.", self.handle)
                client.login(self.handle, self._password, fetch_bsky_profile=False)
                kept = str(client.export_session_string())
                with _SESSIONS_LOCK:
                    _SESSIONS[key] = kept

            def keep(event: Any, session: Any) -> None:
                exported = str(session.export())
                with _SESSIONS_LOCK:
                    _SESSIONS[key] = exported
                self._session_string = exported

            client.on_session_change(keep)
        self._session_string = kept
        self._did = str(Session.decode(kept).did)
        self._sdk = client
        return client

    def _forget_session(self) -> None:
        """Drop this connector's session (and the process's, unless already replaced)."""
        with _SESSIONS_LOCK:
            if _SESSIONS.get(self._session_key) == self._session_string:
                _SESSIONS.pop(self._session_key, None)
        self._sdk = None
        self._session_string = None

    def own_did(self) -> str:
        """The DID of the connected account (logging in if needed)."""
        if self._did is None:
            self._call("logging in", lambda client: None, parse=False)
        assert self._did is not None
        return self._did

    # --- calls and errors ------------------------------------------------------------------

    def _call(
        self,
        what: str,
        invoke: Invoke,
        *,
        not_found: str | None = None,
        parse: bool = True,
        create: bool = False,
    ) -> Any:
        """Run ``invoke(client)`` with the rate gate, retries, typed errors and a new login
        when the session expired; the answer's JSON object (``parse``) or its result
        (``create``: the call posts something, see :func:`~beffroi.connectors.http.retrying`)."""
        relogged = False

        def once() -> Any:
            nonlocal relogged
            try:
                response = invoke(self._client())
            except RequestErrorBase as exc:
                if relogged or _error_name(exc) != "ExpiredToken":
                    raise
                relogged = True
                log.info("Bluesky: the session of %s expired; logging in again.", self.handle)
                self._forget_session()
                response = invoke(self._client())
            if not parse:
                return response
            return self._content(response, what)

        return self._retrying(
            once,
            key=self.key,
            translate=lambda exc: self._translate(exc, what, not_found),
            create=create,
        )

    def _content(self, response: Any, what: str) -> dict[str, Any]:
        """The JSON object of an SDK ``Response``; a spent window closes the rate gate."""
        headers = getattr(response, "headers", None) or {}
        if str(headers.get("ratelimit-remaining", "")).strip() == "0":
            wait = epoch_reset_seconds(headers.get("ratelimit-reset"))
            RATE_GATE.close(self.key, wait if wait is not None else DEFAULT_RATE_WAIT)
        content = getattr(response, "content", None)
        if not isinstance(content, dict):
            raise MalformedPayload(f"Bluesky answered something that is not JSON while {what}.")
        return content

    def _query(self, what: str, nsid: str, params: Any, **kwargs: Any) -> dict[str, Any]:
        """An XRPC query (GET) with a lexicon ``Params`` model."""
        return self._call(  # type: ignore[no-any-return]
            what,
            lambda client: client.invoke_query(nsid, params=params),
            **kwargs,
        )

    def _procedure(
        self,
        what: str,
        nsid: str,
        body: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """An XRPC procedure (POST) with exactly ``body`` as its JSON input."""
        content = json.dumps(body, ensure_ascii=False).encode()
        return self._call(  # type: ignore[no-any-return]
            what,
            lambda client: client.invoke_procedure(
                nsid,
                input_encoding="application/json",
                content=content,
                headers=dict(headers or {}),
            ),
            **kwargs,
        )

    def _scrub(self, text: str) -> str:
        for secret in (self._password, self._session_string):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
        return text[:300]

    def _translate(self, exc: Exception, what: str, not_found: str | None) -> ConnectorError | None:
        """The SDK's (and httpx's) exceptions as the contract's errors."""
        where = f"Bluesky ({self.handle})"
        if isinstance(exc, RateLimitExceededError):
            headers = exc.response.headers if exc.response is not None else {}
            wait = epoch_reset_seconds(headers.get("ratelimit-reset"))
            if wait is None:
                wait = retry_after_seconds(headers, DEFAULT_RATE_WAIT)
            policy = headers.get("ratelimit-policy")
            return RateLimited(
                f"{where}: rate limit reached while {what}"
                f"{f' (policy {policy})' if policy else ''}; it resets in about {wait:.0f} s.",
                wait,
            )
        if isinstance(exc, InvokeTimeoutError):
            return TransientError(f"{where}: the service did not answer in time while {what}.")
        if isinstance(exc, RequestErrorBase):
            return self._translate_response(exc, what, not_found, where)
        if isinstance(exc, LoginRequiredError):
            return AuthError(
                f"{where}: no valid session while {what}. Reconnect the account in Beffroi."
            )
        if isinstance(exc, httpx.TransportError):
            return unreachable(f"{where}: the service", exc, f" while {what}")
        if isinstance(exc, ModelError) or (
            isinstance(exc, ValueError) and not isinstance(exc, ValidationError)
        ):
            return MalformedPayload(f"{where} answered something that is not JSON while {what}.")
        return None

    def _translate_response(
        self, exc: Any, what: str, not_found: str | None, where: str
    ) -> ConnectorError:
        response = exc.response
        if response is None:
            return unreachable(f"{where}: the service", exc, f" while {what}")
        status = int(response.status_code)
        name = _error_name(exc)
        said = _error_message(exc)
        # What the PDS answers when an app password does not open the chat service (its
        # words changed from "Bad token scope" to "Bad token method").
        scope_refused = name == "InvalidToken" and said in ("Bad token scope", "Bad token method")
        said = f" Bluesky said: {self._scrub(said)}" if said else ""
        if name in _CHAT_REFUSALS:
            return Refused(f"{where} declined {what}: {_CHAT_REFUSALS[name]}.{said}")
        if scope_refused:
            # The session is good; the app password does not open this service (the chat).
            return AuthError(
                f"{where}: the app password does not allow {what}. Create an app password "
                f"with access to direct messages and update the source in Beffroi.{said}"
            )
        if name in _AUTH_ERRORS:
            if name == "InvalidToken":
                self._forget_session()  # the next sync logs in again
            return AuthError(
                f"{where} refused the credentials while {what}: {_AUTH_ERRORS[name]}. Create a "
                "new app password and reconnect the account in Beffroi."
            )
        if status == 401:
            return AuthError(
                f"{where} refused the session while {what} ({name or status}). Reconnect the "
                "account in Beffroi with a new app password."
            )
        if status == 403:
            return AuthError(
                f"{where}: permission missing while {what} ({name or status}): the app "
                f"password does not allow it.{said}"
            )
        if name == "RecordAlreadyExists":
            return RecordExists(f"{where}: a record with this key already exists ({what}).")
        if name in _NOT_FOUND_ERRORS or status in (404, 410):
            detail = not_found or "it was deleted or is not visible to this account"
            return NotFound(f"{where}: not found while {what} ({detail}).")
        if status >= 500 or isinstance(exc, NetworkError):
            return TransientError(
                f"{where}: the service failed (HTTP {status}) while {what}; it will be retried."
            )
        return ConnectorError(f"{where} refused the request while {what} ({name or status}).{said}")

    # --- mapping ---------------------------------------------------------------------------

    @classmethod
    def own_account_ids(
        cls, settings: Mapping[str, Any], cursor: Mapping[str, Any]
    ) -> tuple[str, ...]:
        """The session's DID, kept in the cursor at the last sync."""
        did = cursor.get("did")
        return (str(did),) if did else ()

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A post view (``app.bsky.feed.defs#postView``, or a notification, which has the same
        ``uri``/``cid``/``author``/``record``/``indexedAt``) as a NormalizedItem."""
        data = json.loads(json.dumps(raw)) if not isinstance(raw, dict) else raw
        uri = data.get("uri")
        if not isinstance(uri, str) or not uri:
            raise MalformedPayload("Bluesky: a post has no 'uri'.")
        _, rkey = split_post_uri(uri)
        record = data.get("record")
        author = data.get("author")
        if not isinstance(record, Mapping) or not isinstance(author, Mapping):
            raise MalformedPayload(f"Bluesky: post {uri} has no 'record' or 'author' object.")
        did = author.get("did")
        if not isinstance(did, str) or not did:
            raise MalformedPayload(f"Bluesky: post {uri} has an author without 'did'.")
        handle = str(author.get("handle") or "")
        if handle in ("", "handle.invalid"):
            handle = did
        created_at = parse_time(record.get("createdAt")) or parse_time(data.get("indexedAt"))
        if created_at is None:
            raise MalformedPayload(f"Bluesky: post {uri} has no valid 'createdAt'.")
        text = record.get("text", "")
        if not isinstance(text, str):
            raise MalformedPayload(f"Bluesky: post {uri} has a non-text 'text'.")
        root, parent = _reply_refs(record)
        langs = record.get("langs")
        # A notification, or a post getPosts no longer shows, has no view of its embed: the
        # record's own, as the AppView would show it.
        embed = _mapping(data.get("embed")) or _embed_view(_mapping(record.get("embed")), did)
        metrics = {
            name: data[field]
            for name, field in (
                ("replies", "replyCount"),
                ("reposts", "repostCount"),
                ("likes", "likeCount"),
                ("quotes", "quoteCount"),
            )
            if isinstance(data.get(field), int) and not isinstance(data.get(field), bool)
        }
        return NormalizedItem(
            platform_id=uri,
            kind=kind,
            text=text,
            created_at=created_at,
            author=NormalizedAuthor(
                platform_id=did,
                handle=handle,
                display_name=str(author.get("displayName") or ""),
                url=f"https://bsky.app/profile/{handle}",
                extra={k: author[k] for k in ("avatar",) if author.get(k)},
            ),
            thread_id=str(root.get("uri") or uri),
            parent_id=str(parent["uri"]) if parent.get("uri") else None,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            urls=tuple(_links(record)),
            media=_media(embed),
            metrics=metrics,
            language=language_code(langs[0]) if isinstance(langs, list) and langs else None,
            raw=data,
            quoted=_quoted(embed),
            labels=_labels(data, record),
        )

    def _map_jetstream(self, event: Mapping[str, Any]) -> NormalizedItem:
        """A Jetstream commit event as a post (when ``getPosts`` no longer shows it)."""
        commit = _mapping(event.get("commit"))
        did = str(event.get("did") or "")
        uri = f"at://{did}/{POST_COLLECTION}/{commit.get('rkey')}"
        raw = {**event, "uri": uri, "cid": commit.get("cid")}
        record = _mapping(commit.get("record"))
        view = {
            "uri": uri,
            "cid": commit.get("cid"),
            "author": {"did": did},
            "record": commit.get("record"),
            "embed": _embed_view(_mapping(record.get("embed")), did),
        }
        return dataclasses.replace(self.map_item(view, _listened_kind(view)), raw=raw)

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Own posts, replies, notifications, search, then Jetstream (module docstring)."""
        started_us = time.time_ns() // 1000
        own = self.own_did()
        state: CursorState = {
            key: value
            for key, value in (cursor or {}).items()
            if isinstance(value, str | int) and not isinstance(value, bool)
        }
        if state.get("did") not in (None, own):
            log.warning(
                "Bluesky (%s): the handle now names another account; full resync.", self.handle
            )
            state = {}
        state["did"] = own
        seen: set[str] = set()
        yield from self._own_posts(own, state, seen)
        yield from self._notifications(state, seen)
        if self.search:
            yield from self._search(own, state, seen)
        if self._keyword_pattern is not None:
            yield from self._jetstream(own, state, seen, started_us)

    @staticmethod
    def _since(state: CursorState, key: str, days: int) -> datetime:
        """The stored time of stream ``key``, or ``days`` ago on a first sync."""
        stored = parse_time(state.get(key))
        return stored if stored is not None else datetime.now(UTC) - timedelta(days=days)

    def _walk_back(
        self,
        what: str,
        page_of: Callable[[str | None], tuple[list[Mapping[str, Any]], str | None]],
        time_of: Callable[[Mapping[str, Any]], datetime | None],
        cutoff: datetime,
    ) -> list[Mapping[str, Any]]:
        """Entries newest first, following ``cursor`` pages until one is older than
        ``cutoff``."""
        kept: list[Mapping[str, Any]] = []
        page_cursor: str | None = None
        for _ in range(MAX_PAGES):
            entries, next_cursor = page_of(page_cursor)
            recent = [e for e in entries if (time_of(e) or cutoff) >= cutoff]
            kept.extend(recent)
            if len(recent) < len(entries) or not next_cursor or next_cursor == page_cursor:
                break
            page_cursor = next_cursor
        else:
            log.warning("Bluesky (%s): stopped %s after %d pages.", self.handle, what, MAX_PAGES)
        return kept

    def _replay(
        self,
        state: CursorState,
        key: str,
        entries: list[Mapping[str, Any]],
        time_of: Callable[[Mapping[str, Any]], datetime | None],
        to_items: Callable[[list[Mapping[str, Any]]], list[NormalizedItem]],
    ) -> Iterator[FetchBatch]:
        """``entries`` (newest first) oldest first in batches, advancing ``state[key]``."""
        ordered = list(reversed(entries))
        for start in range(0, len(ordered), self.page_size):
            chunk = ordered[start : start + self.page_size]
            items = to_items(chunk)
            times = [t for t in map(time_of, chunk) if t is not None]
            if times:
                newest = max(times)
                current = parse_time(state.get(key))
                if current is None or newest > current:
                    state[key] = iso_z(newest, milliseconds=True)
            yield FetchBatch(items=items, cursor=dict(state))

    def _page(
        self, what: str, nsid: str, params: Any, field: str
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        content = self._query(what, nsid, params)
        entries = content.get(field)
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            raise MalformedPayload(f"Bluesky: '{field}' is not a list of objects ({what}).")
        next_cursor = content.get("cursor")
        return entries, str(next_cursor) if next_cursor else None

    def _keep(self, item: NormalizedItem, seen: set[str], items: list[NormalizedItem]) -> None:
        if item.platform_id not in seen:
            seen.add(item.platform_id)
            items.append(item)

    # own posts and their threads

    def _own_posts(self, own: str, state: CursorState, seen: set[str]) -> Iterator[FetchBatch]:

        what = "listing the account's posts"
        since = self._since(state, "posts_since", HISTORY_DAYS)
        replies_cutoff = datetime.now(UTC) - timedelta(days=REPLIES_DAYS)
        cutoff = min(since, replies_cutoff)

        def page_of(page_cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            params = AppBskyFeedGetAuthorFeed.Params(
                actor=own, filter="posts_with_replies", limit=self.page_size, cursor=page_cursor
            )
            return self._page(what, "app.bsky.feed.getAuthorFeed", params, "feed")

        def post_time(entry: Mapping[str, Any]) -> datetime | None:
            return _time_of(_mapping(entry.get("post")))

        feed = [
            entry
            for entry in self._walk_back(what, page_of, post_time, cutoff)
            if not entry.get("reason")
            and _mapping(_mapping(entry.get("post")).get("author")).get("did") == own
        ]
        new = [e for e in feed if (post_time(e) or since) >= since]

        def to_items(chunk: list[Mapping[str, Any]]) -> list[NormalizedItem]:
            items: list[NormalizedItem] = []
            for entry in chunk:
                post = _mapping(entry.get("post"))
                record = _mapping(post.get("record"))
                kind = ItemKind.REPLY if record.get("reply") else ItemKind.POST
                self._keep(self.map_item(post, kind), seen, items)
            return items

        yield from self._replay(state, "posts_since", new, post_time, to_items)

        for entry in reversed(feed):
            post = _mapping(entry.get("post"))
            if (post_time(entry) or replies_cutoff) < replies_cutoff or not post.get("replyCount"):
                continue
            items = self._thread_replies(str(post.get("uri")), seen)
            if items:
                yield FetchBatch(items=items, cursor=dict(state))

    def _thread_replies(self, uri: str, seen: set[str]) -> list[NormalizedItem]:

        what = f"reading the replies to {uri}"
        params = AppBskyFeedGetPostThread.Params(uri=uri, depth=100, parent_height=0)
        try:
            content = self._query(what, "app.bsky.feed.getPostThread", params)
        except NotFound:
            log.info("Bluesky (%s): %s vanished before its replies were read.", self.handle, uri)
            return []
        items: list[NormalizedItem] = []
        pending = list(_mapping(content.get("thread")).get("replies") or [])
        while pending:
            node = _mapping(pending.pop(0))
            if node.get("$type") != "app.bsky.feed.defs#threadViewPost":
                continue  # notFoundPost, blockedPost
            post = _mapping(node.get("post"))
            self._keep(self.map_item(post, _thread_kind(_mapping(post.get("record")))), seen, items)
            pending.extend(node.get("replies") or [])
        return items

    # notifications

    def _notifications(self, state: CursorState, seen: set[str]) -> Iterator[FetchBatch]:

        what = "listing notifications"
        since = self._since(state, "notifications_since", HISTORY_DAYS)

        def page_of(page_cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            params = AppBskyNotificationListNotifications.Params(
                reasons=list(_NOTIFICATION_REASONS), limit=self.page_size, cursor=page_cursor
            )
            return self._page(
                what, "app.bsky.notification.listNotifications", params, "notifications"
            )

        entries = [
            n
            for n in self._walk_back(what, page_of, _time_of, since)
            if n.get("reason") in _NOTIFICATION_REASONS
        ]

        def to_items(chunk: list[Mapping[str, Any]]) -> list[NormalizedItem]:
            views = self._posts([str(n.get("uri")) for n in chunk])
            items: list[NormalizedItem] = []
            for notification in chunk:
                post = views.get(str(notification.get("uri"))) or notification
                record = _mapping(post.get("record"))
                kind = (
                    _thread_kind(record)
                    if notification.get("reason") == "reply"
                    else ItemKind.MENTION
                )
                self._keep(self.map_item(post, kind), seen, items)
            return items

        yield from self._replay(state, "notifications_since", entries, _time_of, to_items)

    def _posts(self, uris: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        """Post views of ``uris`` by URI (those deleted or hidden from us are absent)."""

        views: dict[str, Mapping[str, Any]] = {}
        distinct = list(dict.fromkeys(u for u in uris if _POST_URI.match(u)))
        for start in range(0, len(distinct), GET_POSTS_MAX):
            params = AppBskyFeedGetPosts.Params(uris=distinct[start : start + GET_POSTS_MAX])
            posts, _ = self._page("reading posts", "app.bsky.feed.getPosts", params, "posts")
            views.update({str(p.get("uri")): p for p in posts})
        return views

    # search

    def _search(self, own: str, state: CursorState, seen: set[str]) -> Iterator[FetchBatch]:

        what = "searching posts"
        if state.get("search_query") != self.search:
            state.pop("search_since", None)
        state["search_query"] = self.search
        since = self._since(state, "search_since", HISTORY_DAYS)

        def page_of(page_cursor: str | None) -> tuple[list[Mapping[str, Any]], str | None]:
            params = AppBskyFeedSearchPosts.Params(
                q=self.search,
                sort="latest",
                since=iso_z(since, milliseconds=True),
                limit=self.page_size,
                cursor=page_cursor,
            )
            return self._page(what, "app.bsky.feed.searchPosts", params, "posts")

        posts = self._walk_back(what, page_of, _time_of, since)

        def to_items(chunk: list[Mapping[str, Any]]) -> list[NormalizedItem]:
            items: list[NormalizedItem] = []
            for post in chunk:
                if _mapping(post.get("author")).get("did") != own:
                    self._keep(self.map_item(post, _listened_kind(post)), seen, items)
            return items

        yield from self._replay(state, "search_since", posts, _time_of, to_items)

    # Jetstream

    def _jetstream(
        self, own: str, state: CursorState, seen: set[str], started_us: int
    ) -> Iterator[FetchBatch]:
        stored = state.get("jetstream_time_us")
        start_us = (
            int(stored)
            if isinstance(stored, int) or (isinstance(stored, str) and stored.isdigit())
            else started_us - JETSTREAM_FIRST_WINDOW * 1_000_000
        )
        query = urlencode({"wantedCollections": POST_COLLECTION, "cursor": start_us})
        url = f"{self.jetstream_url}?{query}"
        where = f"Bluesky Jetstream ({urlsplit(self.jetstream_url).netloc})"
        matched: list[Mapping[str, Any]] = []
        unsaved = 0
        last_us: int | None = None
        try:
            with ws_connect(
                url,
                sock=self._jetstream_socket(),
                open_timeout=self.timeout,
                close_timeout=5,
                max_size=2**22,
                user_agent_header="beffroi",
            ) as stream:
                deadline = time.monotonic() + self.jetstream_max_seconds
                for _ in range(self.jetstream_max_events):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        message = stream.recv(timeout=min(self.jetstream_idle_seconds, left))
                    except TimeoutError:
                        break  # nothing more for now
                    except ConnectionClosedOK:
                        break
                    event = _jetstream_event(message, where)
                    last_us = int(event["time_us"])
                    unsaved += 1
                    if event.get("did") != own and self._matches(event):
                        matched.append(event)
                    if len(matched) >= JETSTREAM_BATCH or unsaved >= JETSTREAM_SAVE_EVERY:
                        yield self._jetstream_batch(matched, state, seen, last_us)
                        matched, unsaved = [], 0
                    if last_us >= started_us:
                        break  # the stream reached the moment this sync started
        except InvalidURI as exc:
            raise ConfigurationError(
                f"{where}: 'jetstream_url' is not a WebSocket address."
            ) from exc
        except (OSError, WebSocketException) as exc:
            raise unreachable(where, exc) from exc
        if last_us is not None and (matched or unsaved):
            yield self._jetstream_batch(matched, state, seen, last_us)

    def _jetstream_socket(self) -> socket.socket:
        """A connection to Jetstream's host, checked by :mod:`beffroi.egress` (websockets
        then speaks TLS over it with the host's name)."""
        parts = urlsplit(self.jetstream_url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        return egress.open_socket(parts.hostname or "", port, self.timeout)

    def _matches(self, event: Mapping[str, Any]) -> bool:
        commit = _mapping(event.get("commit"))
        record = _mapping(commit.get("record"))
        text = record.get("text")
        return (
            event.get("kind") == "commit"
            and commit.get("operation") == "create"
            and commit.get("collection") == POST_COLLECTION
            and isinstance(text, str)
            and self._keyword_pattern is not None
            and self._keyword_pattern.search(text) is not None
        )

    def _jetstream_batch(
        self,
        events: list[Mapping[str, Any]],
        state: CursorState,
        seen: set[str],
        last_us: int,
    ) -> FetchBatch:
        uris = {
            f"at://{e.get('did')}/{POST_COLLECTION}/{_mapping(e.get('commit')).get('rkey')}": e
            for e in events
        }
        views = self._posts(list(uris)) if uris else {}
        items: list[NormalizedItem] = []
        for uri, event in uris.items():
            view = views.get(uri)
            item = self.map_item(view, _listened_kind(view)) if view else self._map_jetstream(event)
            self._keep(item, seen, items)
        state["jetstream_time_us"] = last_us
        return FetchBatch(items=items, cursor=dict(state))

    # --- actions ---------------------------------------------------------------------------

    def _strong_ref(self, item: ItemRef) -> tuple[dict[str, str], Mapping[str, Any]]:
        """``{"uri", "cid"}`` of ``item`` and its record, from its raw payload or getPosts."""
        raw = item.raw or {}
        uri = str(raw.get("uri") or item.platform_id)
        cid = raw.get("cid")
        record = _mapping(raw.get("record")) or _mapping(_mapping(raw.get("commit")).get("record"))
        if not cid or not record:
            view = self._posts([uri]).get(uri)
            if view is None:
                raise NotFound(f"Bluesky: post {uri} was deleted or is not visible.")
            cid, record = view.get("cid"), _mapping(view.get("record"))
        split_post_uri(uri)
        return {"uri": uri, "cid": str(cid)}, record

    def _created(self, answer: Mapping[str, Any], detail: str) -> ActionResult:
        uri = answer.get("uri")
        if not isinstance(uri, str):
            raise MalformedPayload("Bluesky: createRecord answered without a 'uri'.")
        _, rkey = split_post_uri(uri)
        return ActionResult(
            ok=True,
            platform_id=uri,
            detail=detail,
            raw=dict(answer),
            url=f"https://bsky.app/profile/{self.handle}/post/{rkey}",
        )

    def _post_record(self, text: str) -> dict[str, Any]:
        record: dict[str, Any] = {"$type": POST_COLLECTION, "text": text, "createdAt": _now_iso()}
        facets = [get_model_as_dict(f) for f in facet_detection.detect_facets(text)]
        if facets:
            record["facets"] = facets
        return record

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer ``item`` in its thread (root from its reply refs, else itself)."""
        parent, record = self._strong_ref(item)
        root_ref, _ = _reply_refs(record)
        root = (
            {"uri": str(root_ref["uri"]), "cid": str(root_ref["cid"])}
            if root_ref.get("uri") and root_ref.get("cid")
            else parent
        )
        post = self._post_record(text)
        post["reply"] = {"root": root, "parent": parent}
        return self._create_post(
            post,
            idempotency_key,
            f"replying to {parent['uri']}",
            done="Replied on Bluesky.",
            again="Already replied on Bluesky (the same reply sent again).",
        )

    def _create_post(
        self, post: dict[str, Any], idempotency_key: str, what: str, *, done: str, again: str
    ) -> ActionResult:
        """Create a post record; with a key, at the record key it names, so that sending it
        again finds the post already there instead of making a second one."""
        body: dict[str, Any] = {"repo": self.own_did(), "collection": POST_COLLECTION}
        rkey = record_key_for(idempotency_key) if idempotency_key else ""
        if rkey:
            body["rkey"] = rkey
        body["record"] = post
        try:
            answer = self._procedure(what, "com.atproto.repo.createRecord", body, create=True)
        except (RecordExists, OutcomeUnknown) as exc:
            if not rkey:
                raise
            # The key names one record: if it is there, this post is published.
            found = self._own_post(rkey)
            if found is None:
                if isinstance(exc, OutcomeUnknown):
                    raise
                found = {"uri": f"at://{body['repo']}/{POST_COLLECTION}/{rkey}"}
            return self._created(found, again)
        return self._created(answer, done)

    def _own_post(self, rkey: str) -> dict[str, Any] | None:
        """The account's post at ``rkey`` (``uri``, ``cid``, ``value``), None when it is not
        there or cannot be read now."""
        params = ComAtprotoRepoGetRecord.Params(
            repo=self.own_did(), collection=POST_COLLECTION, rkey=rkey
        )
        try:
            return self._query(
                "looking for a reply already posted", "com.atproto.repo.getRecord", params
            )
        except ConnectorError:
            return None

    def private_reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer the post's author in a direct message of Bluesky's chat (the one-to-one
        conversation ``getConvoForMembers`` gives, then ``sendMessage`` in it)."""
        raw = item.raw or {}
        author = _mapping(raw.get("author")).get("did") or item.author_id
        if not isinstance(author, str) or not author.startswith("did:"):
            raise MalformedPayload(f"Bluesky: post {item.platform_id} has no author to write to.")
        if author == self.own_did():
            raise UnsupportedAction(
                "Not supported by the platform: this post is the account's own; a private "
                "reply goes to the author of someone else's post."
            )
        chat = {"atproto-proxy": CHAT_PROXY}
        what = "opening a direct conversation with the post's author"
        answer = self._call(
            what,
            lambda client: client.invoke_query(
                "chat.bsky.convo.getConvoForMembers",
                params=ChatBskyConvoGetConvoForMembers.Params(members=[author]),
                headers=chat,
            ),
        )
        convo_id = _mapping(answer.get("convo")).get("id")
        if not isinstance(convo_id, str) or not convo_id:
            raise MalformedPayload("Bluesky: getConvoForMembers answered without a 'convo.id'.")
        message = self._procedure(
            "sending a direct message to the post's author",
            "chat.bsky.convo.sendMessage",
            {"convoId": convo_id, "message": {"text": text}},
            headers=chat,
            create=True,
        )
        message_id = message.get("id")
        if not isinstance(message_id, str) or not message_id:
            raise MalformedPayload("Bluesky: sendMessage answered without a message 'id'.")
        return ActionResult(
            ok=True,
            platform_id=message_id,
            detail="Direct message sent on Bluesky.",
            raw=message,
            url=f"{CHAT_WEB_URL}/{convo_id}",
        )

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a post: its text with links and hashtags as facets, and up to 4 images
        each uploaded as a blob (``com.atproto.repo.uploadBlob``) and embedded with its alt
        text (``app.bsky.embed.images``). The answer's ``item`` is the post as a sync maps
        it (the record written, as the AppView shows it)."""
        if any(medium.kind != "image" for medium in media):
            raise UnsupportedAction(
                "Bluesky: Beffroi publishes text and images there (up to 4); a video or an "
                "animated image goes through Bluesky's video service, which it does not use: "
                "post it from the Bluesky app."
            )
        post = self._post_record(text)
        if media:
            files = download_all(media, self.post_limits, label=f"Bluesky ({self.handle})")
            post["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {"alt": file.media.description, "image": self._upload_blob(position, file)}
                    for position, file in enumerate(files, start=1)
                ],
            }
        with refusals_typed():
            result = self._create_post(
                post,
                idempotency_key,
                "publishing a post",
                done="Published on Bluesky.",
                again="Already published on Bluesky (the same post sent again).",
            )
        record = _mapping(result.raw.get("value")) or post
        view = {
            "uri": result.platform_id,
            "cid": result.raw.get("cid"),
            "author": {"did": self.own_did(), "handle": self.handle},
            "record": record,
            "indexedAt": record.get("createdAt"),
        }
        return dataclasses.replace(result, item=self.map_item(view, ItemKind.POST))

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a post gathered, as the AppView counts it (``app.bsky.feed.getPosts``):
        ``likes``, ``shares`` (reposts), ``comments`` (replies) and ``quotes``."""
        view = self._posts([platform_id]).get(platform_id)
        if view is None:
            raise NotFound(f"Bluesky: post {platform_id} was deleted or is not visible.")
        return counts_of(view, METRIC_NAMES)

    def _upload_blob(self, position: int, file: MediaFile) -> dict[str, Any]:
        """Upload one file; the blob reference a record embeds."""
        what = f"uploading image {position}"
        with refusals_typed():
            answer = self._call(
                what,
                lambda client: client.invoke_procedure(
                    "com.atproto.repo.uploadBlob",
                    input_encoding=file.mime_type,
                    content=file.content,
                ),
            )
        blob = answer.get("blob")
        if not isinstance(blob, dict) or not _blob_cid(blob):
            raise MalformedPayload(f"Bluesky: uploadBlob answered no blob for image {position}.")
        return blob

    def delete(self, item: ItemRef) -> ActionResult:
        """Delete one of the account's own posts; other people's posts cannot be deleted."""
        uri = str((item.raw or {}).get("uri") or item.platform_id)
        repo, rkey = split_post_uri(uri)
        if repo != self.own_did():
            raise UnsupportedAction(
                "Not supported by the platform: Bluesky only lets an account delete its own posts; this one was written by "
                "someone else. Hide the reply (in your own threads) or report it instead."
            )
        answer = self._procedure(
            f"deleting {uri}",
            "com.atproto.repo.deleteRecord",
            {"repo": repo, "collection": POST_COLLECTION, "rkey": rkey},
        )
        return ActionResult(ok=True, platform_id=uri, detail="Deleted on Bluesky.", raw=answer)

    def report(self, item: ItemRef, reason: str) -> ActionResult:
        """Report the post to the moderation service ``labeler_did``."""
        subject, _ = self._strong_ref(item)
        answer = self._procedure(
            f"reporting {subject['uri']}",
            "com.atproto.moderation.createReport",
            {
                "reasonType": "com.atproto.moderation.defs#reasonOther",
                "reason": reason[:REPORT_REASON_MAX],
                "subject": {"$type": "com.atproto.repo.strongRef", **subject},
            },
            headers={"atproto-proxy": f"{self.labeler_did}#atproto_labeler"},
        )
        report_id = answer.get("id")
        return ActionResult(
            ok=True,
            platform_id=str(report_id) if report_id is not None else None,
            detail="Reported to Bluesky's moderation.",
            raw=answer,
        )

    def hide(self, item: ItemRef) -> ActionResult:
        """Hide a reply in one of the account's threads (the root's threadgate)."""
        return self._set_hidden(item, hidden=True)

    def unhide(self, item: ItemRef) -> ActionResult:
        """Show again a reply hidden with :meth:`hide`."""
        return self._set_hidden(item, hidden=False)

    def _set_hidden(self, item: ItemRef, *, hidden: bool) -> ActionResult:
        raw = item.raw or {}
        uri = str(raw.get("uri") or item.platform_id)
        split_post_uri(uri)
        record = _mapping(raw.get("record")) or _mapping(_mapping(raw.get("commit")).get("record"))
        root_uri = _reply_refs(record)[0].get("uri") or item.thread_id
        if not root_uri or root_uri == uri:
            raise UnsupportedAction(
                "Not supported by the platform: Bluesky can hide only replies in a thread, and this post is not a reply."
            )
        own = self.own_did()
        root_repo, root_rkey = split_post_uri(str(root_uri))
        if root_repo != own:
            raise UnsupportedAction(
                "Not supported by the platform: Bluesky lets an account hide replies only in threads it started; this reply "
                "is in someone else's thread. Report it instead."
            )
        location = {"repo": own, "collection": THREADGATE_COLLECTION, "rkey": root_rkey}
        gate, gate_cid = self._threadgate(location)
        if gate is None:
            if not hidden:
                return ActionResult(ok=True, platform_id=uri, detail="The reply was not hidden.")
            gate = {"$type": THREADGATE_COLLECTION, "post": root_uri, "createdAt": _now_iso()}
        hidden_replies = [str(u) for u in gate.get("hiddenReplies") or []]
        if hidden and uri not in hidden_replies:
            if len(hidden_replies) >= HIDDEN_REPLIES_MAX:
                raise UnsupportedAction(
                    f"Not supported by the platform: Bluesky hides at most {HIDDEN_REPLIES_MAX} replies per thread, and this "
                    "thread has reached it. Unhide others first, or report this one."
                )
            hidden_replies.append(uri)
        elif not hidden and uri in hidden_replies:
            hidden_replies.remove(uri)
        elif gate_cid is not None:
            state = "hidden" if hidden else "visible"
            return ActionResult(ok=True, platform_id=uri, detail=f"The reply was already {state}.")
        gate = {**gate, "hiddenReplies": hidden_replies}
        body: dict[str, Any] = {**location, "record": gate}
        if gate_cid is not None:
            body["swapRecord"] = gate_cid  # fail rather than overwrite a concurrent change
        answer = self._procedure(
            f"{'hiding' if hidden else 'unhiding'} {uri}", "com.atproto.repo.putRecord", body
        )
        return ActionResult(
            ok=True,
            platform_id=uri,
            detail="Hidden on Bluesky." if hidden else "Shown again on Bluesky.",
            raw=answer,
        )

    def _threadgate(self, location: Mapping[str, str]) -> tuple[dict[str, Any] | None, str | None]:
        """The thread's threadgate record and its cid, or (None, None) when it has none."""

        params = ComAtprotoRepoGetRecord.Params(**location)
        try:
            answer = self._query(
                "reading the thread's threadgate", "com.atproto.repo.getRecord", params
            )
        except NotFound:
            return None, None
        value = answer.get("value")
        if not isinstance(value, dict):
            raise MalformedPayload("Bluesky: getRecord answered without a 'value' object.")
        cid = answer.get("cid")
        return dict(value), str(cid) if cid else None


def _error_name(exc: Any) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    name = getattr(content, "error", None)
    if name is None and isinstance(content, Mapping):
        name = content.get("error")
    return str(name) if name else ""


def _error_message(exc: Any) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    message = getattr(content, "message", None)
    if message is None and isinstance(content, Mapping):
        message = content.get("message")
    return str(message) if message else ""


def _jetstream_event(message: str | bytes, where: str) -> dict[str, Any]:
    try:
        event = json.loads(message)
    except ValueError as exc:
        raise MalformedPayload(f"{where} sent an event that is not JSON.") from exc
    time_us = event.get("time_us") if isinstance(event, dict) else None
    if not isinstance(time_us, int) or isinstance(time_us, bool):
        raise MalformedPayload(f"{where} sent an event without an integer 'time_us'.")
    return dict(event)
