"""YouTube, through the YouTube Data API v3 and google-api-python-client.

The service is built from the discovery document bundled with the library
(``static_discovery=True``: no request to Google's discovery service), with the account's
OAuth access token and ``client_options={"api_endpoint": base_url}``: the document's
methods carry their ``youtube/v3/...`` path, so requests go to ``<base_url>/youtube/v3/...``
(``https://youtube.googleapis.com`` by default; a loopback ``http://`` address in tests).
Requests go through an httplib2 client whose connections, redirects included, are checked
by :mod:`beffroi.egress`.
googleapiclient is imported when the first connector is built, not when this module loads.

What a sync brings back, in this order:

1. the channel: ``channels.list part=contentDetails,snippet`` with ``id=<channel_id>`` (or
   ``mine=true`` when no channel is set), for its uploads playlist;
2. the channel's own videos, as POSTs: ``playlistItems.list`` of the uploads playlist
   (newest first, 50 per page);
3. the comments on the channel's videos: ``commentThreads.list part=snippet,replies
   allThreadsRelatedToChannelId=<channel> order=time maxResults=100``. A top-level comment
   is a COMMENT (``thread_id`` and ``parent_id``: the video id); its replies are REPLYs
   (``thread_id``: the video id, ``parent_id``: the top-level comment id). A thread embeds at
   most 5 replies: when ``totalReplyCount`` says there are more, they are read with
   ``comments.list part=snippet parentId=<comment>``. A video whose comments are disabled
   (``commentsDisabled``) is skipped, not a failure;
4. when the ``query`` setting is given, listening: ``search.list part=snippet q=<query>
   type=video order=date publishedAfter=<cursor>``, other channels' videos as POSTs. At most
   ``SEARCH_PAGES_PER_SYNC`` pages per sync (each costs 100 quota units); the rest is read by
   the next sync (see the cursor).

A video's text is its title and description; its links are its watch address and the
addresses written in its description, a comment's those written in its text and those
YouTube linked in its HTML ``textDisplay`` (a bare ``example.com``). ``search.list`` sends a
snippet's title, description and channel title HTML-escaped (``World&#39;s``): they are
unescaped once; the other lists send them as written. A video's language is the primary
subtag of its ``defaultLanguage`` (``zh-Hans`` is ``zh``), when that is an ISO 639-1 code.

Cursor: ``{"channel_id", "videos", "comments", "search"}``; each stream's state is
``{"since", "since_ids", "walk"}``. ``since`` is the newest ``publishedAt`` the stream has
fully covered and ``since_ids`` the ids published at exactly that second (YouTube's times
have one-second precision), so an item is new when it is newer than ``since``, or as old
and not in ``since_ids``. YouTube pages these lists newest first, so a sync *walks* down
from the newest page until it reaches what is older than the stream's floor. Each page is
one batch, whose cursor keeps the old ``since`` and records the walk in progress in
``"walk": {"token": <next page token>, "top", "top_ids", "stop"}`` (the newest time seen so
far and the floor of that walk). Only the batch that ends the walk moves ``since`` to
``top``. An interruption anywhere therefore resumes the walk at the page after the last
stored batch, with the same filter: nothing is lost and nothing re-read; a walk resumed from
a stored page token is followed, in the same sync, by a fresh walk from the top for what
arrived meanwhile. If YouTube refuses a stored page token (400), the walk starts again
from the top with the old ``since`` (items already stored are then skipped downstream).

The floor of a walk: on the first sync, ``history_days`` ago. Later, for comments,
``replies_days`` before ``since``: ``order=time`` orders threads by their top-level
comment, so a reply to an older thread does not move it up; threads of the last
``replies_days`` are re-read to find their new replies (only items newer than ``since`` are
yielded). A reply to a thread older than that is not seen. Comments held for review are not
listed (``commentThreads.list`` returns published comments by default). For videos and
search, the floor is ``since`` itself. If the token now opens another channel than the
cursor's ``channel_id``, the cursor starts afresh. Within one sync an item is yielded once.

Quota (the project's daily quota, 10,000 units by default, shared by every channel
connected through the same Google Cloud project, reset at midnight Pacific time): every
``list`` call costs 1 unit, ``search.list`` 100, ``comments.insert``,
``commentThreads.insert``, ``comments.setModerationStatus`` and ``videos.update`` 50,
``videos.insert`` 1,600 (Google's current table gives ``videos.insert`` and ``search.list``
buckets of their own, 100 calls a day each; a spent upload quota closes only the uploads,
:data:`UPLOAD_QUOTA_KEY`). A sync
costs about 1 + (videos pages) + (thread pages) + (one per thread with more than 5 replies),
plus 100 per search page; :attr:`YouTubeConnector.quota_used` counts the units of the
connector's calls and a sync logs its estimate. ``quotaExceeded``/``dailyLimitExceeded``
raise :class:`RateLimited` until the next midnight Pacific time and close both the token
and the project in the process's rate gate; ``rateLimitExceeded``/``userRateLimitExceeded``
raise a short :class:`RateLimited`. Calls go through :func:`beffroi.connectors.http.retrying`.

Actions:

- reply: ``comments.insert part=snippet`` with ``{"snippet": {"parentId", "textOriginal"}}``
  (YouTube threads have one level: a reply to a reply answers its top-level comment); on a
  video, a new top-level comment with ``commentThreads.insert part=snippet``;
- hide / unhide / delete: ``comments.setModerationStatus`` with ``moderationStatus``
  ``heldForReview`` / ``published`` / ``rejected`` (through :meth:`set_moderation_status`,
  which alone can also ban the author). ``comments.delete`` only deletes the channel's own
  comments; ``rejected`` removes a viewer's comment (and its replies) from public view, and
  YouTube does not let a rejected comment be published again;
- edit (the channel's own video: "publish metadata"): ``videos.list part=snippet`` for the
  category, tags and languages, then ``videos.update part=snippet`` with the first line of
  the text as the title and the rest as the description;
- publish: one video uploaded with ``videos.insert part=snippet,status`` and the resumable
  upload protocol (Google's "Resumable uploads" guide): ``POST
  /upload/youtube/v3/videos?uploadType=resumable`` with the video resource opens a session
  (200 and its address in ``Location``), the file goes in ``PUT`` chunks of
  ``Content-Range: bytes a-b/size`` (308 with the ``Range`` YouTube holds, then the video),
  and an interrupted upload resumes from what YouTube holds (see ``_upload``). The scope
  ``youtube.force-ssl`` is one that videos.insert accepts. The first comment is a comment of
  the channel under its video; metrics are ``videos.list part=statistics``; a publication
  whose answer was lost is looked for in the uploads playlist (``own_posts_since``);
- report: not supported (see ``not_supported``).
"""

from __future__ import annotations

import html
import http.client
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from beffroi import egress
from beffroi.connectors.base import (
    OWN_POSTS_LIMIT,
    Action,
    ActionResult,
    AuthError,
    AuthMethod,
    ConfigurationError,
    ConnectedAccount,
    Connector,
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
    OAuthSpec,
    Option,
    OutcomeUnknown,
    OwnPost,
    RateLimited,
    Refused,
    TransientError,
    UnsupportedAction,
    history_days_option,
)
from beffroi.connectors.html_text import html_to_text
from beffroi.connectors.http import (
    DEFAULT_BACKOFF,
    DEFAULT_RETRIES,
    RATE_GATE,
    outcome_of_create,
    retry_after_seconds,
    retrying,
    token_key,
    unreachable,
)
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import DEFAULT_MAX_BYTES, counts_of, download, refusals_typed
from beffroi.connectors.values import (
    api_base_url,
    iso_z,
    language_code,
    parse_time,
    positive_int,
    text_links,
    web_address,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://youtube.googleapis.com"
DEFAULT_HISTORY_DAYS = 30
DEFAULT_REPLIES_DAYS = 7
#: Largest pages YouTube serves: commentThreads and comments 100, playlistItems and search 50.
THREADS_PAGE = 100
COMMENTS_PAGE = 100
PLAYLIST_PAGE = 50
SEARCH_PAGE = 50
#: Search pages read per sync (100 quota units each); the rest waits for the next sync.
SEARCH_PAGES_PER_SYNC = 2
#: Quota units per call, from YouTube's quota table. ``upload`` (videos.insert) is the
#: 1,600 units of the table most projects were given; Google's current table counts it as one
#: call of a separate bucket of 100 uploads a day (see docs/connectors/youtube.md).
QUOTA_COST = {"list": 1, "search": 100, "write": 50, "upload": 1600}
#: Wait after a per-minute rate limit that gave no Retry-After.
SHORT_RATE_WAIT = 60.0
#: YouTube's longest video title.
TITLE_MAX = 100
SCOPE = "https://www.googleapis.com/auth/youtube.force-ssl"
#: Rate-gate key of the Google Cloud project: its daily quota is shared by every token.
PROJECT_KEY = "youtube:project-quota"
#: Rate-gate key of the project's uploads: videos.insert has a daily bucket of its own, so a
#: spent upload quota stops the uploads, not the syncs and replies.
UPLOAD_QUOTA_KEY = "youtube:project-uploads"
#: The resumable upload protocol takes chunks in multiples of 256 KiB (all but the last).
UPLOAD_GRANULE = 256 * 1024
#: Bytes sent per request of an upload: a failed request costs at most this much again.
UPLOAD_CHUNK = 32 * UPLOAD_GRANULE
#: Times an upload is resumed after a request that failed (a 5xx, a broken connection).
UPLOAD_RESUMES = 5
#: Largest video read from the library to upload: the file is held in memory while it is
#: sent (the publishing desk's own uploads are far smaller).
UPLOAD_MAX_BYTES = DEFAULT_MAX_BYTES
#: YouTube's "News & Politics": what a public body's videos are (council sessions, public
#: announcements), and a category YouTube lets a video take in every region.
DEFAULT_CATEGORY = "25"
PRIVACY_STATUSES = ("public", "unlisted", "private")
#: A BCP-47 language tag as YouTube's i18nLanguages list gives them (``fr``, ``zh-Hans``).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
#: The longest video description, in UTF-8 bytes.
DESCRIPTION_MAX_BYTES = 5000

_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_WATCH = "https://www.youtube.com/watch?v="
#: The texts of a search result's snippet that YouTube sends HTML-escaped (``&#39;``,
#: ``&quot;``, ``&amp;``); videos.list and playlistItems.list send them as written.
_ESCAPED_IN_SEARCH = ("title", "description", "channelTitle")
#: A link in a comment's HTML ``textDisplay`` (what commentThreads.list sends by default).
_HREF = re.compile(r'<a\s[^>]*?href="([^"]*)"', re.IGNORECASE)

State = dict[str, Any]


#: What YouTube accepts for a video (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="youtube",
    label="YouTube",
    max_length=5000,
    counting=Counting.CHARACTERS,
    max_bytes=DESCRIPTION_MAX_BYTES,
    requires_media=True,
    media=MediaLimits(
        kinds=frozenset({"video"}),
        max_count=1,
        video_types=frozenset(
            {
                "video/mp4",
                "video/quicktime",
                "video/mpeg",
                "video/x-msvideo",
                "video/x-ms-wmv",
                "video/x-flv",
                "video/3gpp",
                "video/webm",
            }
        ),
        max_video_bytes=256 * 1024**3,
        max_video_seconds=12 * 3600,
    ),
    max_hashtags=60,
    first_comment=True,
    title_max_length=TITLE_MAX,
    requires_title=True,
    forbidden_characters="<>",
    notes=(
        "Data API videos resource: the title (required) has at most 100 characters, the "
        "description (the text) at most 5,000 bytes, neither may contain < or >. One video "
        "per post, 256 GB or 12 hours at most (15 minutes until the channel is verified). "
        "Over 60 hashtags, YouTube ignores them all. The first comment is a comment of the "
        "channel under its video. Beffroi uploads files of up to 600 MiB (resumable upload); "
        "a Google Cloud project Google has not audited gets its uploads locked private."
    ),
    sources=(
        "https://developers.google.com/youtube/v3/docs/videos",
        "https://developers.google.com/youtube/v3/docs/videos/insert",
        "https://support.google.com/youtube/answer/71673",
        "https://support.google.com/youtube/answer/6390658",
    ),
)


class CommentsDisabled(Refused):
    """The video's comments are turned off (YouTube's ``commentsDisabled``): a sync skips the
    video, a reply is declined."""


# --- small helpers ---------------------------------------------------------------------------


def seconds_to_pacific_midnight(now: datetime | None = None) -> float:
    """Seconds until the next midnight in Pacific time, when YouTube resets daily quotas."""
    try:
        pacific: timezone | ZoneInfo = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no time-zone database: standard time is the safe side
        pacific = timezone(timedelta(hours=-8))
    local = (now or datetime.now(UTC)).astimezone(pacific)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), pacific)
    return max(1.0, (midnight - local).total_seconds())


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _items(response: Any, what: str) -> list[dict[str, Any]]:
    """The ``items`` of a list response, or MalformedPayload."""
    if not isinstance(response, dict):
        raise MalformedPayload(f"YouTube: the answer to {what} is not a JSON object.")
    items = response.get("items", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedPayload(f"YouTube: 'items' is not a list of objects ({what}).")
    return items


def _thumbnail(snippet: Mapping[str, Any]) -> tuple[Media, ...]:
    thumbnails = _dict(snippet.get("thumbnails"))
    for size in ("maxres", "standard", "high", "medium", "default"):
        url = _str(_dict(thumbnails.get(size)).get("url"))
        if url:
            return (Media(kind="image", url=url, description="thumbnail"),)
    return ()


def _plain(url: str) -> str:
    """An address without its scheme, trailing slash and case, to spot the same link twice."""
    return url.split("://", 1)[-1].rstrip("/").lower()


def _comment_links(text: str, snippet: Mapping[str, Any]) -> tuple[str, ...]:
    """The addresses written in a comment's text, then those YouTube linked in its HTML
    ``textDisplay`` that the text does not spell out (a bare ``example.com`` is linked as
    ``http://example.com/``). YouTube's own links (hashtag searches, timestamps) are not
    shared links; its ``/redirect?q=`` wrapper gives the address it wraps."""
    links = list(text_links(text))
    seen = {_plain(link) for link in links}
    for href in _HREF.findall(_str(snippet.get("textDisplay"))):
        address = web_address(html.unescape(href))
        parts = urlsplit(address)
        host = (parts.hostname or "").lower()
        if host == "youtube.com" or host.endswith(".youtube.com"):
            if parts.path != "/redirect":
                continue
            address = web_address(parse_qs(parts.query).get("q", [""])[0])
        if address and _plain(address) not in seen:
            seen.add(_plain(address))
            links.append(address)
    return tuple(links)


def _error_reason(content: bytes) -> tuple[str, str]:
    """The first ``reason`` and the ``message`` of a Google API error body."""
    try:
        body = json.loads(content.decode("utf-8", "replace"))
    except ValueError:
        return "", ""
    error = _dict(body.get("error")) if isinstance(body, dict) else {}
    errors = error.get("errors")
    first = _dict(errors[0]) if isinstance(errors, list) and errors else {}
    return _str(first.get("reason")), _str(error.get("message"))[:300]


def translate_error(exc: Exception, what: str = "calling the API") -> ConnectorError | None:
    """A googleapiclient / httplib2 / google-auth exception as a connector error.

    None for an exception it does not know (raised as it is).
    """
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError
    from httplib2 import HttpLib2Error

    if isinstance(exc, HttpError):
        return _translate_http(exc, what)
    if isinstance(exc, RefreshError):
        # google-auth answers a 401 by trying to refresh a token it cannot refresh.
        return AuthError(
            f"YouTube refused the access token while {what}: it was revoked or has expired. "
            "Reconnect the account in Beffroi."
        )
    if isinstance(exc, TransportError | HttpLib2Error | http.client.HTTPException | OSError):
        return unreachable("YouTube", exc, f" while {what}")
    if isinstance(exc, ValueError):  # the JSON model's parse error
        return MalformedPayload(f"YouTube answered something that is not JSON while {what}.")
    return None


@dataclass(frozen=True)
class _Refusal:
    """What an HttpError says: its status, YouTube's reason and message, and a sentence
    quoting them."""

    status: int
    reason: str
    said: str

    @classmethod
    def of(cls, exc: Any) -> _Refusal:
        status = int(getattr(exc.resp, "status", 0) or 0)
        content = exc.content if isinstance(exc.content, bytes) else b""
        reason, message = _error_reason(content)
        said = f" YouTube said: {reason or status}" + (f" ({message})" if message else "") + "."
        return cls(status, reason, said)


def _quota_spent(key: str, quota: str, what: str) -> RateLimited:
    """A spent daily quota: its gate closed until midnight Pacific time, when it resets."""
    wait = seconds_to_pacific_midnight()
    RATE_GATE.close(key, wait)
    return RateLimited(
        f"The YouTube {quota} of this Beffroi's Google Cloud project is spent while {what}; "
        f"it resets at midnight Pacific time (in {wait / 3600:.1f} h).",
        wait,
    )


def _translate_http(exc: Any, what: str) -> ConnectorError:
    refusal = _Refusal.of(exc)
    status, reason, said = refusal.status, refusal.reason, refusal.said
    if reason in _QUOTA_REASONS:
        return _quota_spent(PROJECT_KEY, "API daily quota", what)
    if reason in _RATE_REASONS or status == 429:
        headers = {str(k): str(v) for k, v in dict(exc.resp).items()}
        short = retry_after_seconds(headers) or SHORT_RATE_WAIT
        return RateLimited(f"YouTube asked to slow down while {what}.{said}", short)
    if status == 401:
        return AuthError(
            f"YouTube refused the access token while {what}: it was revoked or has expired. "
            f"Reconnect the account in Beffroi.{said}"
        )
    if reason == "commentsDisabled":
        return CommentsDisabled(f"YouTube: comments are disabled on this video ({what}).")
    if status == 403:
        return AuthError(
            f"YouTube refused {what}: the account lacks the permission it needs (the OAuth "
            f"scope {SCOPE}, granted by the channel's owner or manager). Reconnect the "
            f"account and grant it.{said}"
        )
    if status in (404, 410):
        return NotFound(f"YouTube: not found while {what}.{said}")
    if status >= 500:
        return TransientError(f"YouTube failed while {what} (HTTP {status}); it will be retried.")
    return ConnectorError(f"YouTube refused the request while {what} (HTTP {status}).{said}")


def translate_upload_error(exc: Exception, what: str) -> ConnectorError | None:
    """An exception of a video upload (videos.insert) as a connector error.

    As :func:`translate_error`, except what the upload's own errors mean: a spent quota
    closes the project's uploads (their own daily bucket), not its other calls; the channel's
    daily upload limit (``uploadLimitExceeded``), a ``forbidden…`` refusal and a 400 (a title,
    category or file YouTube does not take) are :class:`Refused`, in YouTube's words.
    """
    from googleapiclient.errors import HttpError

    if not isinstance(exc, HttpError):
        return translate_error(exc, what)
    refusal = _Refusal.of(exc)
    status, reason, said = refusal.status, refusal.reason, refusal.said
    if reason in _QUOTA_REASONS:
        return _quota_spent(UPLOAD_QUOTA_KEY, "upload quota", what)
    if reason == "uploadLimitExceeded":
        return Refused(
            f"YouTube refused the video while {what}: the channel has uploaded as many videos "
            "as YouTube allows in 24 hours (uploadLimitExceeded). Publish it again tomorrow."
        )
    if (status == 403 and reason.startswith("forbidden")) or status == 400:
        return Refused(f"YouTube refused the video while {what}.{said}")
    if 200 <= status < 300:  # a session started without the address to send the file to
        return MalformedPayload(f"YouTube gave no upload address while {what}.")
    return _translate_http(exc, what)


def _title_and_description(text: str) -> tuple[str, str]:
    """A video's title (the text's first line) and description (the rest), as the publishing
    desk writes them ("title\\ndescription")."""
    title, _, rest = text.strip().partition("\n")
    return title.strip(), rest.strip("\n")


def _metadata_problem(title: str, description: str) -> str:
    """What YouTube would refuse in a video's title or description (its videos resource:
    a title of 1 to 100 characters, a description of at most 5,000 bytes, neither with ``<``
    or ``>``); empty when there is nothing."""
    if not title:
        return "a video needs a title (the first line of the text)."
    if len(title) > TITLE_MAX or "<" in title or ">" in title:
        return f"a video title has at most {TITLE_MAX} characters and no < or >."
    size = len(description.encode("utf-8"))
    if size > DESCRIPTION_MAX_BYTES or "<" in description or ">" in description:
        return (
            f"a video description has at most {DESCRIPTION_MAX_BYTES:,} bytes and no < or >; "
            f"this one has {size:,} bytes."
        )
    return ""


def _upload_address(uri: str, base_url: str) -> str:
    """``uri`` of a media upload on ``base_url``: googleapiclient moves an upload to the
    ``api_endpoint``'s host but keeps the discovery document's scheme (https), which a
    loopback ``http://`` address in tests does not serve."""
    base = urlsplit(base_url)
    return urlunsplit(urlsplit(uri)._replace(scheme=base.scheme, netloc=base.netloc))


def _chunked_upload(content: bytes, mime_type: str, chunk_size: int) -> Any:
    """The file as googleapiclient's resumable media upload, sent ``chunk_size`` bytes at a
    time. Each chunk goes out as bytes, not as a slice of the stream: httplib2 sends a request
    again on a connection found stale, and a stream slice, read once, would go out empty."""
    from googleapiclient.http import MediaIoBaseUpload

    class ChunkedUpload(MediaIoBaseUpload):  # type: ignore[misc]
        def has_stream(self) -> bool:
            return False

    return ChunkedUpload(
        io.BytesIO(content), mimetype=mime_type, chunksize=chunk_size, resumable=True
    )


def _whole_numbers(data: Mapping[str, Any]) -> dict[str, int]:
    """The counts of a video's ``statistics``: YouTube sends them as strings of digits."""
    numbers = {}
    for key, value in data.items():
        if isinstance(value, str) and value.isascii() and value.isdigit():
            numbers[key] = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            numbers[key] = value
    return numbers


@dataclass(frozen=True, slots=True)
class _Entry:
    """One element of a newest-first page: its order time and the items it carries."""

    order_time: datetime
    items: list[NormalizedItem]


def _video_item(
    raw: Mapping[str, Any], video_id: str, snippet: Mapping[str, Any], published: Any
) -> NormalizedItem:
    created_at = parse_time(published)
    if not video_id or created_at is None:
        raise MalformedPayload("YouTube: a video has no id or no publication time.")
    channel_id = _str(snippet.get("videoOwnerChannelId")) or _str(snippet.get("channelId"))
    channel_title = _str(snippet.get("videoOwnerChannelTitle")) or _str(snippet.get("channelTitle"))
    title, description = _str(snippet.get("title")), _str(snippet.get("description"))
    text = f"{title}\n\n{description}" if description else title
    url = f"{_WATCH}{video_id}"
    return NormalizedItem(
        platform_id=video_id,
        kind=ItemKind.POST,
        text=text,
        created_at=created_at,
        author=NormalizedAuthor(
            platform_id=channel_id,
            handle=channel_id,
            display_name=channel_title,
            url=f"https://www.youtube.com/channel/{channel_id}" if channel_id else "",
        ),
        thread_id=video_id,
        url=url,
        urls=(url, *(link for link in text_links(description) if link != url)),
        media=_thumbnail(snippet),
        language=language_code(snippet.get("defaultLanguage")),
        raw=dict(raw),
    )


def _publishing_settings(settings: Mapping[str, Any]) -> tuple[str, str, str]:
    """The category, privacy status and language of published videos, checked."""
    category = _str(settings.get("category_id")).strip() or DEFAULT_CATEGORY
    if not (category.isascii() and category.isdigit()):
        raise ConfigurationError(
            f"YouTube: category_id must be a video category's number, e.g. {DEFAULT_CATEGORY}."
        )
    privacy = _str(settings.get("privacy_status")).strip() or PRIVACY_STATUSES[0]
    if privacy not in PRIVACY_STATUSES:
        raise ConfigurationError(
            f"YouTube: privacy_status must be one of {', '.join(PRIVACY_STATUSES)}."
        )
    language = _str(settings.get("default_language")).strip()
    if language and not _LANGUAGE_TAG.fullmatch(language):
        raise ConfigurationError(
            "YouTube: default_language must be a language code such as fr or en-GB."
        )
    return category, privacy, language


# --- the connector ---------------------------------------------------------------------------


class YouTubeConnector(Connector):
    """A YouTube channel: its videos, the comments on them, and optional listening (search).

    ``YouTubeConnector(settings, credentials, page_size=None, retries=2, backoff=0.5)``;
    ``page_size`` lowers the page sizes (tests). See the module docstring for the cursor.
    """

    platform: ClassVar[str] = "youtube"
    label: ClassVar[str] = "YouTube"
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    fetches: ClassVar[frozenset[FetchKind]] = frozenset(
        {FetchKind.OWN_POSTS, FetchKind.COMMENTS, FetchKind.SEARCH}
    )
    actions: ClassVar[frozenset[Action]] = frozenset(
        {Action.REPLY, Action.HIDE, Action.UNHIDE, Action.DELETE, Action.EDIT, Action.PUBLISH}
    )
    #: The uploads playlist lists the channel's videos: a video whose upload answer was lost
    #: is looked for there (YouTube has no idempotency key, so ``idempotent_publish`` stays
    #: False).
    lists_own_posts: ClassVar[bool] = True
    auth: ClassVar[AuthMethod] = AuthMethod.OAUTH2
    oauth: ClassVar[OAuthSpec | None] = OAuthSpec(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",  # noqa: S106 (an address)
        scopes=(SCOPE,),
        authorize_params={"access_type": "offline", "prompt": "consent"},
        pkce=True,
    )
    options: ClassVar[Mapping[str, Option]] = {
        "channel_id": Option(
            label="Channel ID",
            required=False,
            help="ID of the YouTube channel (UC…); filled in when the account is connected. "
            "Empty: the token's own channel.",
        ),
        "query": Option(
            label="Search query for listening",
            required=False,
            help="Other channels' videos matching these words are brought in as posts. Each "
            "search page costs 100 units of the daily API quota (10,000 by default).",
        ),
        "base_url": Option(
            label="API base URL",
            required=False,
            default=DEFAULT_BASE_URL,
            help="Address of the YouTube Data API; change it only for tests.",
        ),
        "history_days": history_days_option(DEFAULT_HISTORY_DAYS),
        "replies_days": Option(
            label="Days during which new replies to a comment are looked for",
            required=False,
            default=str(DEFAULT_REPLIES_DAYS),
        ),
        "category_id": Option(
            label="Category of published videos",
            required=False,
            default=DEFAULT_CATEGORY,
            help="YouTube's category id: 25 News & Politics (the default), 29 Nonprofits & "
            "Activism, 27 Education…",
        ),
        "privacy_status": Option(
            label="Privacy of published videos",
            required=False,
            default="public",
            help="public, unlisted or private. While Google has not audited this Beffroi's "
            "Google Cloud project, YouTube locks every uploaded video private.",
        ),
        "default_language": Option(
            label="Language of published videos",
            required=False,
            help="Language of their title and description, as a code such as fr or en-GB; "
            "empty: not given.",
        ),
        "access_token": Option(
            label="Access token",
            secret=True,
            help="OAuth access token with the scope youtube.force-ssl; set by the connection flow.",
        ),
    }
    not_supported: ClassVar[Mapping[str, str]] = {
        str(Action.REPORT): "The YouTube Data API has no way to report a comment (its "
        "markAsSpam method was withdrawn); hold it for review or reject it instead.",
        str(Action.PRIVATE_REPLY): "YouTube has no private messages.",
    }
    setup_doc: ClassVar[str] = "connectors/youtube.md"

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        page_size: int | None = None,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        upload_chunk: int = UPLOAD_CHUNK,
    ) -> None:
        super().__init__(settings, credentials)
        self.base_url = api_base_url(settings.get("base_url"), "YouTube", DEFAULT_BASE_URL)
        self.channel_setting = _str(settings.get("channel_id")).strip()
        self.query = _str(settings.get("query")).strip()
        self.category_id, self.privacy_status, self.default_language = _publishing_settings(
            settings
        )
        #: Bytes per upload request: a multiple of :data:`UPLOAD_GRANULE` (smaller in tests).
        self.upload_chunk = upload_chunk
        self.history_days = positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, "YouTube")
        self.replies_days = positive_int(settings, "replies_days", DEFAULT_REPLIES_DAYS, "YouTube")
        self.page_size = page_size
        self.retries, self.backoff = retries, backoff
        self._token = str(credentials["access_token"]).strip()
        self._key = token_key(self.platform, self._token)
        self._service = _build_service(self._token, self.base_url)
        self._channel: dict[str, Any] | None = None
        #: Estimated quota units spent by this connector's calls.
        self.quota_used = 0

    def __repr__(self) -> str:
        return f"<YouTubeConnector {self.channel_setting or 'mine'}>"

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """Required options, a usable API address and whole numbers of days."""
        super().validate_options(settings, credentials)
        api_base_url(settings.get("base_url"), "YouTube", DEFAULT_BASE_URL)
        positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, "YouTube")
        positive_int(settings, "replies_days", DEFAULT_REPLIES_DAYS, "YouTube")
        _publishing_settings(settings)

    # --- calls -----------------------------------------------------------------------------

    def _call(self, request: Any, what: str, cost: str = "list", *, create: bool = False) -> Any:
        """Execute one googleapiclient request with the rate gate, retries and typed errors
        (``create``: it posts something, see :func:`~beffroi.connectors.http.retrying`)."""

        def once() -> Any:
            RATE_GATE.check(PROJECT_KEY, self.label)
            self.quota_used += QUOTA_COST[cost]
            return request.execute(num_retries=0)

        return retrying(
            once,
            key=self._key,
            label=self.label,
            translate=lambda exc: translate_error(exc, what),
            retries=self.retries,
            backoff=self.backoff,
            create=create,
        )

    def _size(self, largest: int) -> int:
        return min(largest, self.page_size) if self.page_size else largest

    # --- channel ---------------------------------------------------------------------------

    def channel(self) -> dict[str, Any]:
        """The connected channel's resource (snippet and contentDetails), read once."""
        if self._channel is None:
            if self.channel_setting:
                request = self._service.channels().list(
                    part="contentDetails,snippet", id=self.channel_setting
                )
            else:
                request = self._service.channels().list(part="contentDetails,snippet", mine=True)
            items = _items(self._call(request, "reading the channel"), "channels.list")
            if not items or not _str(items[0].get("id")):
                raise NotFound(
                    "YouTube: the channel was not found, or this account does not own or "
                    "manage it. Reconnect the account with the channel's owner."
                )
            self._channel = items[0]
        return self._channel

    def _channel_id(self) -> str:
        return str(self.channel()["id"])

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Videos, then comments and replies, then search results; see the module docstring."""
        channel = self.channel()
        channel_id = str(channel["id"])
        state: State = json.loads(json.dumps(dict(cursor)))
        if state.get("channel_id") != channel_id:
            state = {"channel_id": channel_id}
        seen: set[str] = set()
        start = self.quota_used
        uploads = _str(
            _dict(_dict(channel.get("contentDetails")).get("relatedPlaylists")).get("uploads")
        )
        if uploads:
            yield from self._walk(state, "videos", self._video_page(uploads), seen, reread=None)
        yield from self._walk(
            state,
            "comments",
            self._thread_page(channel_id),
            seen,
            reread=timedelta(days=self.replies_days),
        )
        if self.query:
            search = _dict(state.get("search"))
            if search.get("query") != self.query:  # a new query starts its own history
                state["search"] = {"query": self.query}
            yield from self._walk(
                state,
                "search",
                self._search_page(channel_id),
                seen,
                reread=None,
                max_pages=SEARCH_PAGES_PER_SYNC,
            )
        log.info(
            "YouTube sync of %s used about %d quota units.", channel_id, self.quota_used - start
        )
        yield FetchBatch(items=[], cursor=json.loads(json.dumps(state)))

    def _walk(
        self,
        state: State,
        key: str,
        page: Callable[[str | None, datetime], tuple[list[_Entry], str | None]],
        seen: set[str],
        *,
        reread: timedelta | None,
        max_pages: int | None = None,
    ) -> Iterator[FetchBatch]:
        """Batches of a newest-first list, one per page, advancing ``state[key]`` (see above)."""
        stream: State = dict(_dict(state.get(key)))
        pages = 0
        while True:
            since = parse_time(stream.get("since"))
            since_ids = set(stream.get("since_ids") or [])
            walk = _dict(stream.get("walk"))
            resumed = bool(walk.get("token"))
            if resumed:
                token: str | None = _str(walk["token"])
                top = parse_time(walk.get("top"))
                top_ids = set(walk.get("top_ids") or [])
                stop = parse_time(walk.get("stop"))
            else:
                token, top, top_ids, stop = None, since, set(since_ids), None
            if stop is None:
                if since is None:
                    stop = datetime.now(UTC) - timedelta(days=self.history_days)
                else:
                    stop = since - reread if reread is not None else since
            while True:
                try:
                    entries, next_token = page(token, stop)
                except ConnectorError as exc:
                    if not (resumed and token) or type(exc) is not ConnectorError:
                        raise
                    # A refused page token (400): walk again from the top.
                    log.info("YouTube: stored page token refused; walking %s again.", key)
                    stream.pop("walk", None)
                    break
                pages += 1
                fresh: list[NormalizedItem] = []
                ended = next_token is None
                for entry in entries:
                    if entry.order_time < stop:
                        ended = True
                        break
                    for item in entry.items:
                        moment = item.created_at
                        if top is None or moment > top:
                            top, top_ids = moment, {item.platform_id}
                        elif moment == top:
                            top_ids.add(item.platform_id)
                        is_new = (
                            moment >= stop
                            if since is None
                            else moment > since
                            or (moment == since and item.platform_id not in since_ids)
                        )
                        if is_new and item.platform_id not in seen:
                            seen.add(item.platform_id)
                            fresh.append(item)
                if ended:
                    stream = {
                        k: v for k, v in stream.items() if k not in ("walk", "since", "since_ids")
                    }
                    if top is not None:
                        stream["since"], stream["since_ids"] = iso_z(top), sorted(top_ids)
                else:
                    stream["walk"] = {
                        "token": next_token,
                        "top": iso_z(top) if top else None,
                        "top_ids": sorted(top_ids),
                        "stop": iso_z(stop),
                    }
                state[key] = stream
                yield FetchBatch(items=fresh, cursor=json.loads(json.dumps(state)))
                if ended:
                    break
                if max_pages is not None and pages >= max_pages:
                    return  # the next sync goes on from the stored page token
                token = next_token
            if not resumed or (max_pages is not None and pages >= max_pages):
                return

    # --- pages -----------------------------------------------------------------------------

    def _video_page(
        self, playlist_id: str
    ) -> Callable[[str | None, datetime], tuple[list[_Entry], str | None]]:
        def page(token: str | None, stop: datetime) -> tuple[list[_Entry], str | None]:
            request = self._service.playlistItems().list(
                part="snippet,contentDetails",
                playlistId=playlist_id,
                maxResults=self._size(PLAYLIST_PAGE),
                pageToken=token,
            )
            response = self._call(request, "listing the channel's videos")
            entries = []
            for raw in _items(response, "playlistItems.list"):
                item = self.map_item(raw, ItemKind.POST)
                entries.append(_Entry(item.created_at, [item]))
            return entries, _next_token(response)

        return page

    def _thread_page(
        self, channel_id: str
    ) -> Callable[[str | None, datetime], tuple[list[_Entry], str | None]]:
        def page(token: str | None, stop: datetime) -> tuple[list[_Entry], str | None]:
            request = self._service.commentThreads().list(
                part="snippet,replies",
                allThreadsRelatedToChannelId=channel_id,
                order="time",
                maxResults=self._size(THREADS_PAGE),
                pageToken=token,
            )
            try:
                response = self._call(request, "listing the comments on the channel's videos")
            except CommentsDisabled:
                log.info("YouTube: comments are disabled on channel %s.", channel_id)
                return [], None
            entries = [self._thread_entry(t, stop) for t in _items(response, "commentThreads.list")]
            return entries, _next_token(response)

        return page

    def _thread_entry(self, thread: Mapping[str, Any], stop: datetime) -> _Entry:
        snippet = _dict(thread.get("snippet"))
        top = _dict(snippet.get("topLevelComment"))
        if not top:
            raise MalformedPayload("YouTube: a comment thread has no topLevelComment.")
        video_id = _str(snippet.get("videoId")) or None
        comment = self._map_comment(top, video_id=video_id)
        replies = [
            r for r in _dict(thread.get("replies")).get("comments") or [] if isinstance(r, dict)
        ]
        total = snippet.get("totalReplyCount")
        # Past the walk's floor the thread is not read: spare the quota of its replies.
        if isinstance(total, int) and total > len(replies) and comment.created_at >= stop:
            replies = self._all_replies(comment.platform_id, video_id) or replies
        items = [comment]
        items.extend(self._map_comment(r, video_id=video_id) for r in replies)
        return _Entry(comment.created_at, items)

    def _all_replies(self, parent_id: str, video_id: str | None) -> list[dict[str, Any]]:
        """Every reply to ``parent_id`` (``comments.list``); [] if the video's comments are off."""
        replies: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request = self._service.comments().list(
                part="snippet",
                parentId=parent_id,
                maxResults=self._size(COMMENTS_PAGE),
                pageToken=token,
                textFormat="plainText",
            )
            try:
                response = self._call(request, f"listing the replies to comment {parent_id}")
            except CommentsDisabled:
                log.info("YouTube: comments are disabled on video %s; skipped.", video_id)
                return []
            replies.extend(_items(response, "comments.list"))
            token = _next_token(response)
            if token is None:
                return replies

    def _search_page(
        self, channel_id: str
    ) -> Callable[[str | None, datetime], tuple[list[_Entry], str | None]]:
        def page(token: str | None, stop: datetime) -> tuple[list[_Entry], str | None]:
            request = self._service.search().list(
                part="snippet",
                q=self.query,
                type="video",
                order="date",
                publishedAfter=iso_z(stop),
                maxResults=self._size(SEARCH_PAGE),
                pageToken=token,
            )
            response = self._call(request, "searching videos", cost="search")
            entries = []
            for raw in _items(response, "search.list"):
                item = self.map_item(raw, ItemKind.POST)
                own = _dict(raw.get("snippet")).get("channelId") == channel_id
                entries.append(_Entry(item.created_at, [] if own else [item]))
            return entries, _next_token(response)

        return page

    # --- mapping ---------------------------------------------------------------------------

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A comment, playlist item, search result or video resource as a NormalizedItem.

        The resource's ``kind`` decides; a comment is a COMMENT or, with a ``parentId``, a
        REPLY, whatever ``kind`` says.
        """
        resource = _str(raw.get("kind"))
        snippet = _dict(raw.get("snippet"))
        if resource == "youtube#comment":
            return self._map_comment(raw, video_id=None)
        if resource == "youtube#playlistItem":
            details = _dict(raw.get("contentDetails"))
            video_id = _str(details.get("videoId")) or _str(
                _dict(snippet.get("resourceId")).get("videoId")
            )
            published = details.get("videoPublishedAt") or snippet.get("publishedAt")
            return _video_item(raw, video_id, snippet, published)
        if resource == "youtube#searchResult":
            video_id = _str(_dict(raw.get("id")).get("videoId"))
            unescaped = {
                key: html.unescape(value)
                if key in _ESCAPED_IN_SEARCH and isinstance(value, str)
                else value
                for key, value in snippet.items()
            }
            return _video_item(raw, video_id, unescaped, snippet.get("publishedAt"))
        if resource == "youtube#video":
            return _video_item(raw, _str(raw.get("id")), snippet, snippet.get("publishedAt"))
        raise MalformedPayload(f"YouTube: cannot read a resource of kind '{resource[:40]}'.")

    def _map_comment(self, raw: Mapping[str, Any], *, video_id: str | None) -> NormalizedItem:
        snippet = _dict(raw.get("snippet"))
        comment_id = _str(raw.get("id"))
        created_at = parse_time(snippet.get("publishedAt"))
        if not comment_id or created_at is None:
            raise MalformedPayload("YouTube: a comment has no id or no publishedAt.")
        if "textOriginal" not in snippet and "textDisplay" not in snippet:
            raise MalformedPayload(f"YouTube: comment {comment_id} has no text.")
        video = _str(snippet.get("videoId")) or video_id
        parent = _str(snippet.get("parentId")) or None
        author_id = _str(_dict(snippet.get("authorChannelId")).get("value"))
        author_url = _str(snippet.get("authorChannelUrl"))
        handle = author_url.rsplit("/", 1)[-1] if "/@" in author_url else author_id
        if video:
            url = f"{_WATCH}{video}&lc={comment_id}"
        else:  # a comment on the channel itself
            url = (
                f"https://www.youtube.com/channel/{_str(snippet.get('channelId'))}?lc={comment_id}"
            )
        likes = snippet.get("likeCount")
        # textOriginal is the text as written (YouTube guarantees it only to the comment's
        # author); textDisplay is HTML, read as text.
        text = (
            _str(snippet.get("textOriginal")) or html_to_text(_str(snippet.get("textDisplay")))[0]
        )
        return NormalizedItem(
            platform_id=comment_id,
            kind=ItemKind.REPLY if parent else ItemKind.COMMENT,
            text=text,
            created_at=created_at,
            author=NormalizedAuthor(
                platform_id=author_id,
                handle=handle or _str(snippet.get("authorDisplayName")),
                display_name=_str(snippet.get("authorDisplayName")),
                url=author_url,
            ),
            thread_id=video,
            parent_id=parent or video,
            url=url,
            urls=_comment_links(text, snippet),
            metrics={"likes": likes} if isinstance(likes, int) else {},
            raw=dict(raw),
        )

    # --- actions ---------------------------------------------------------------------------

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer a comment (``comments.insert``) or comment on a video (``commentThreads.insert``).

        A reply to a reply goes to its top-level comment: YouTube threads have one level.
        """
        if item.kind == ItemKind.POST:
            body = {
                "snippet": {
                    "channelId": self._channel_id(),
                    "videoId": item.platform_id,
                    "topLevelComment": {"snippet": {"textOriginal": text}},
                }
            }
            request = self._service.commentThreads().insert(part="snippet", body=body)
            answer = self._call(
                request, f"commenting on video {item.platform_id}", "write", create=True
            )
            return self._result(answer, "Commented on the YouTube video.", video=item.platform_id)
        parent = item.platform_id
        if item.kind == ItemKind.REPLY:
            parent = item.parent_id or _str(_dict(item.raw.get("snippet")).get("parentId"))
            if not parent:
                raise ConfigurationError("YouTube: this reply's top-level comment is unknown.")
        body = {"snippet": {"parentId": parent, "textOriginal": text}}
        request = self._service.comments().insert(part="snippet", body=body)
        answer = self._call(request, f"replying to comment {parent}", "write", create=True)
        return self._result(answer, "Replied on YouTube.", video=item.thread_id)

    @staticmethod
    def _result(answer: Any, detail: str, video: str | None = None) -> ActionResult:
        """The answer to a write; ``video``: the video a new comment is under (its link is
        the video's with ``lc=<comment id>``, as YouTube links a comment)."""
        if not isinstance(answer, dict) or not _str(answer.get("id")):
            raise MalformedPayload("YouTube: the answer has no resource id.")
        resource_id = str(answer["id"])
        video = _str(_dict(answer.get("snippet")).get("videoId")) or video
        return ActionResult(
            ok=True,
            platform_id=resource_id,
            detail=detail,
            raw=answer,
            url=f"{_WATCH}{video}&lc={resource_id}" if video else "",
        )

    def set_moderation_status(
        self, item: ItemRef, status: str, *, ban_author: bool = False
    ) -> ActionResult:
        """``comments.setModerationStatus``: ``heldForReview``, ``published`` or ``rejected``.

        ``ban_author`` (only with ``rejected``) also rejects the author's future comments
        on the channel.
        """
        if item.kind == ItemKind.POST:
            raise UnsupportedAction(
                "Not supported by the platform: YouTube moderates comments, not videos: a video's visibility is changed in "
                "YouTube Studio."
            )
        if status not in ("heldForReview", "published", "rejected"):
            raise ConfigurationError(f"YouTube: unknown moderation status '{status[:30]}'.")
        if ban_author and status != "rejected":
            raise ConfigurationError("YouTube bans an author only when rejecting a comment.")
        params: dict[str, Any] = {"id": item.platform_id, "moderationStatus": status}
        if ban_author:
            params["banAuthor"] = True
        request = self._service.comments().setModerationStatus(**params)
        self._call(request, f"moderating comment {item.platform_id}", "write")
        return ActionResult(
            ok=True, platform_id=item.platform_id, detail=f"YouTube moderation status: {status}."
        )

    def hide(self, item: ItemRef) -> ActionResult:
        """Hold the comment for review: it leaves public view until published again."""
        return self.set_moderation_status(item, "heldForReview")

    def unhide(self, item: ItemRef) -> ActionResult:
        """Publish a comment held for review (a rejected one cannot be published again)."""
        return self.set_moderation_status(item, "published")

    def delete(self, item: ItemRef) -> ActionResult:
        """Reject the comment: removed from public view with its replies (final).

        ``comments.delete`` only deletes the channel's own comments; rejecting is how
        YouTube lets a channel remove a viewer's comment.
        """
        return self.set_moderation_status(item, "rejected")

    def edit(self, item: ItemRef, text: str) -> ActionResult:
        """Change the title (first line) and description (the rest) of the channel's video."""
        if item.kind != ItemKind.POST:
            raise UnsupportedAction(
                "Beffroi edits the channel's videos (title and description) on YouTube, "
                "not comments."
            )
        title, description = _title_and_description(text)
        if not title:
            raise ConfigurationError("YouTube: a video needs a title (the first line).")
        if len(title) > TITLE_MAX or "<" in title or ">" in title:
            raise ConfigurationError(
                f"YouTube: a video title has at most {TITLE_MAX} characters and no < or >."
            )
        what = f"reading video {item.platform_id}"
        videos = _items(
            self._call(self._service.videos().list(part="snippet", id=item.platform_id), what),
            "videos.list",
        )
        if not videos:
            raise NotFound(f"YouTube: video {item.platform_id} was not found.")
        current = _dict(videos[0].get("snippet"))
        snippet: dict[str, Any] = {
            "title": title,
            "description": description,
            "categoryId": _str(current.get("categoryId")),
        }
        # videos.update replaces the whole snippet: keep what the edit does not change.
        for kept in ("tags", "defaultLanguage", "defaultAudioLanguage"):
            if current.get(kept):
                snippet[kept] = current[kept]
        request = self._service.videos().update(
            part="snippet", body={"id": item.platform_id, "snippet": snippet}
        )
        answer = self._call(request, f"updating video {item.platform_id}", "write")
        return self._result(answer, "Video title and description updated on YouTube.")

    # --- publishing ------------------------------------------------------------------------

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Upload one video: the text's first line is its title, the rest its description.

        ``videos.insert part=snippet,status`` through the resumable upload protocol: the file
        is read from the library (:func:`~beffroi.connectors.posting.download`, at most
        :data:`UPLOAD_MAX_BYTES`), a session is opened with the video resource (title,
        description, ``categoryId``, ``defaultLanguage`` where set; ``privacyStatus`` and
        ``selfDeclaredMadeForKids: false``), then the file is sent in chunks
        (:meth:`_upload`). The answer is the video as a sync maps it, and says its privacy as
        YouTube gives it back: YouTube locks private the videos uploaded through a Google
        Cloud project it has not audited (videos.insert reference, since July 2020), whatever
        was asked.

        YouTube has no idempotency key (``idempotency_key`` is not sent): an upload whose
        outcome cannot be told is :class:`OutcomeUnknown`, looked for with
        :meth:`own_posts_since`.
        """
        title, description = _title_and_description(text)
        problem = _metadata_problem(title, description)
        if problem:
            raise Refused(f"YouTube: {problem}")
        if len(media) != 1 or media[0].kind != "video":
            raise UnsupportedAction(
                "YouTube: a post there is one video, with the text as its title (first line) "
                "and description; attach exactly one video and nothing else."
            )
        file = download(media[0], label=self.label, max_bytes=UPLOAD_MAX_BYTES)
        mime_type = file.mime_type
        if not (mime_type.startswith("video/") or mime_type == "application/octet-stream"):
            raise Refused(f"YouTube: media 1 is not a video file ({mime_type[:60]}).")
        if not file.content:
            raise Refused("YouTube: media 1 is an empty file.")
        snippet: dict[str, Any] = {
            "title": title,
            "description": description,
            "categoryId": self.category_id,
        }
        if self.default_language:
            snippet["defaultLanguage"] = self.default_language
        body = {
            "snippet": snippet,
            "status": {"privacyStatus": self.privacy_status, "selfDeclaredMadeForKids": False},
        }
        request = self._service.videos().insert(
            part="snippet,status",
            body=body,
            media_body=_chunked_upload(file.content, mime_type, self.upload_chunk),
        )
        request.uri = _upload_address(request.uri, self.base_url)
        answer = self._upload(request, len(file.content), "uploading the video")
        return self._published(answer)

    def _upload(self, request: Any, size: int, what: str) -> Any:
        """Send a resumable upload to its end; the created video resource.

        Each request is made once (``next_chunk(num_retries=0)``); when one fails with a 5xx
        or a broken connection, the next call asks YouTube how many bytes it holds
        (``PUT`` with ``Content-Range: bytes */<size>``, answered 308 with a ``Range``) and
        sends the rest from there, at most :data:`UPLOAD_RESUMES` times in a row. An upload
        that had all its bytes sent may be complete: the status query then answers with the
        video, never a second one. If the resumes run out after the last chunk may have
        arrived, the outcome is :class:`OutcomeUnknown`; before that, no video exists.
        """
        for key in (UPLOAD_QUOTA_KEY, self._key):
            left = RATE_GATE.wait_left(key)
            if left > 0:
                wait = f"{left / 3600:.1f} h" if left >= 3600 else f"{left:.0f} s"
                raise RateLimited(
                    f"YouTube: uploads wait for the quota or rate limit to reset (in {wait}).",
                    left,
                )
        self.quota_used += QUOTA_COST["upload"]
        resumes = 0
        may_be_complete = False
        while True:
            try:
                _, answer = request.next_chunk(num_retries=0)
            except Exception as exc:
                error = translate_upload_error(exc, what)
                if error is None:
                    raise
                error.__cause__ = exc
                # The video exists once YouTube holds the last byte: a failure while the last
                # chunk was on its way, that does not say it was not processed (a lost answer,
                # a 500/502/504), leaves that open.
                last_chunk = (
                    request.resumable_uri is not None
                    and request.resumable_progress + self.upload_chunk >= size
                )
                may_be_complete = may_be_complete or (
                    last_chunk and isinstance(outcome_of_create(error), OutcomeUnknown)
                )
                if not isinstance(error, TransientError) or isinstance(error, RateLimited):
                    raise error from exc
                if resumes >= UPLOAD_RESUMES:
                    if may_be_complete:
                        raise OutcomeUnknown(
                            f"{error} YouTube may have received the whole video: it is not "
                            "uploaded again by itself."
                        ) from exc
                    raise error from exc
                resumes += 1
                log.info("YouTube: upload interrupted (%s); resuming (%d).", error, resumes)
                time.sleep(self.backoff * 2.0**resumes)
                continue
            if answer is not None:
                return answer
            resumes = 0  # a chunk arrived: the upload goes on

    def _published(self, answer: Any) -> ActionResult:
        """The result of an upload: the video, its address, its item and its privacy."""
        video_id = _str(answer.get("id")) if isinstance(answer, dict) else ""
        if not video_id:
            raise OutcomeUnknown(
                "YouTube finished the upload without giving the video's id: it may be "
                "published. It is not uploaded again by itself."
            )
        try:
            item: NormalizedItem | None = self.map_item(answer, ItemKind.POST)
        except MalformedPayload:  # the video exists: the next sync brings it in
            item = None
        asked = self.privacy_status
        given = _str(_dict(answer.get("status")).get("privacyStatus"))
        if given == asked:
            detail = f"Video uploaded to YouTube ({given})."
        elif given == "private":
            detail = (
                f"Video uploaded to YouTube, but YouTube made it private although {asked} "
                "was asked: YouTube locks private the videos uploaded through a Google Cloud "
                "project it has not audited."
            )
        else:
            detail = (
                f"Video uploaded to YouTube; YouTube gives its privacy as "
                f"'{given or 'unknown'}' ({asked} was asked)."
            )
        return ActionResult(
            ok=True,
            platform_id=video_id,
            detail=detail,
            raw=answer,
            url=f"{_WATCH}{video_id}",
            item=item,
        )

    def comment_on_own_post(
        self, platform_id: str, text: str, *, idempotency_key: str = ""
    ) -> ActionResult:
        """The first comment: a top-level comment of the channel under its video
        (``commentThreads.insert``, as :meth:`reply` on a video); a refusal in YouTube's
        words is :class:`Refused`."""
        with refusals_typed():
            return self.reply(ItemRef(platform_id, ItemKind.POST), text)

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a video gathered (``videos.list part=statistics``): ``likes``, ``comments``
        and ``views``, those YouTube gives (a hidden like count is left out)."""
        request = self._service.videos().list(part="statistics", id=platform_id)
        videos = _items(
            self._call(request, f"reading the metrics of video {platform_id}"), "videos.list"
        )
        if not videos:
            raise NotFound(f"YouTube: video {platform_id} was deleted or is not visible.")
        statistics = _whole_numbers(_dict(videos[0].get("statistics")))
        return counts_of(
            statistics, {"likeCount": "likes", "commentCount": "comments", "viewCount": "views"}
        )

    def own_posts_since(self, since: datetime) -> list[OwnPost]:
        """The channel's videos uploaded at or after ``since``, newest first, at most
        :data:`~beffroi.connectors.base.OWN_POSTS_LIMIT`: its uploads playlist
        (``playlistItems.list``, newest first), read until a video older than ``since``.

        A video's text is its title, a line break and its description (what
        :meth:`publish` sent); its time is when it was added to the uploads playlist, that is
        uploaded (a private video has no publication time).
        """
        uploads = _str(
            _dict(_dict(self.channel().get("contentDetails")).get("relatedPlaylists")).get(
                "uploads"
            )
        )
        posts: list[OwnPost] = []
        token: str | None = None
        while uploads:
            request = self._service.playlistItems().list(
                part="snippet,contentDetails",
                playlistId=uploads,
                maxResults=self._size(PLAYLIST_PAGE),
                pageToken=token,
            )
            response = self._call(request, "listing the channel's videos")
            for raw in _items(response, "playlistItems.list"):
                snippet = _dict(raw.get("snippet"))
                uploaded = parse_time(snippet.get("publishedAt")) or parse_time(
                    _dict(raw.get("contentDetails")).get("videoPublishedAt")
                )
                if uploaded is None:
                    raise MalformedPayload("YouTube: a video of the channel has no time.")
                if uploaded < since:
                    return posts
                item = self.map_item(raw, ItemKind.POST)
                title, description = _str(snippet.get("title")), _str(snippet.get("description"))
                posts.append(
                    OwnPost(
                        platform_id=item.platform_id,
                        text=f"{title}\n{description}" if description else title,
                        created_at=uploaded,
                        url=item.url,
                        item=item,
                    )
                )
                if len(posts) >= OWN_POSTS_LIMIT:
                    return posts
            token = _next_token(response)
            if token is None:
                break
        return posts

    # --- OAuth -----------------------------------------------------------------------------

    @classmethod
    def accounts_from_token(
        cls, token: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[ConnectedAccount]:
        """The channels of the token's Google account (``channels.list mine=true``)."""
        access_token = _str(token.get("access_token"))
        if not access_token:
            raise AuthError("YouTube: the OAuth answer has no access token; connect again.")
        base_url = api_base_url(settings.get("base_url"), "YouTube", DEFAULT_BASE_URL)
        service = _build_service(access_token, base_url)
        response = retrying(
            lambda: service.channels().list(part="snippet", mine=True).execute(num_retries=0),
            key=token_key(cls.platform, access_token),
            label=cls.label,
            translate=lambda exc: translate_error(exc, "listing the account's channels"),
        )
        credentials = {
            key: token[key]
            for key in ("access_token", "refresh_token", "expires_at", "scope")
            if token.get(key) not in (None, "")
        }
        accounts = []
        for channel in _items(response, "channels.list"):
            channel_id = _str(channel.get("id"))
            if not channel_id:
                continue
            title = _str(_dict(channel.get("snippet")).get("title")) or channel_id
            account_settings = {**settings, "channel_id": channel_id, "title": title}
            if settings.get("base_url"):
                account_settings["base_url"] = base_url
            accounts.append(
                ConnectedAccount(name=title, settings=account_settings, credentials=credentials)
            )
        if not accounts:
            raise NotFound(
                "YouTube: this Google account has no YouTube channel. Create one, or connect "
                "with the account that owns or manages the channel."
            )
        return accounts


def _next_token(response: Any) -> str | None:
    token = response.get("nextPageToken") if isinstance(response, dict) else None
    return token if isinstance(token, str) and token else None


def _build_service(access_token: str, base_url: str) -> Any:
    """The googleapiclient YouTube service from the bundled discovery document, over an
    httplib2 client whose connections are checked by :mod:`beffroi.egress`."""
    import google.oauth2.credentials
    from google_auth_httplib2 import AuthorizedHttp
    from googleapiclient.discovery import build
    from googleapiclient.http import DEFAULT_HTTP_TIMEOUT_SEC

    http = egress.guarded_httplib2(timeout=DEFAULT_HTTP_TIMEOUT_SEC)
    # As googleapiclient's own build_http: YouTube answers 308 to resumable uploads.
    http.redirect_codes = http.redirect_codes - {308}
    credentials = google.oauth2.credentials.Credentials(token=access_token)  # type: ignore[no-untyped-call]
    return build(
        "youtube",
        "v3",
        static_discovery=True,
        http=AuthorizedHttp(credentials, http=http),
        client_options={"api_endpoint": base_url},
        cache_discovery=False,
    )
