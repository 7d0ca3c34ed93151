"""A loopback YouTube Data API v3 that answers as Google documents it.

Resources (``youtube#channel``, ``youtube#playlistItem``, ``youtube#commentThread``,
``youtube#comment``, ``youtube#searchResult``, ``youtube#video``), list envelopes
(``kind``, ``etag``, ``nextPageToken``, ``pageInfo``, ``items``) and Google's error body
``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``.
Lists are served newest first (``order=time`` / ``order=date``; the uploads playlist);
``commentThreads`` embed at most 5 replies and only published comments are listed.

Each request's method, path, query parameters and JSON body are checked against what the
connector must send; anything else gets 400 with YouTube's ``invalidParameter`` error body.

Video uploads (``videos.insert``) follow Google's "Resumable uploads" guide for the YouTube
Data API: ``POST /upload/youtube/v3/videos?uploadType=resumable&part=…`` with the video
resource as JSON and the file's size and type in ``X-Upload-Content-Length`` /
``X-Upload-Content-Type`` opens a session, answered 200 with its address in ``Location``
and no body; the file goes in ``PUT`` requests to that address with ``Content-Range: bytes
<first>-<last>/<size>`` (every chunk but the last a multiple of 256 KiB), each answered
``308 Resume Incomplete`` with the ``Range: bytes=0-<last byte held>`` the server holds,
the last one ``201 Created`` with the video resource; ``PUT`` with ``Content-Range:
bytes */<size>`` and no body asks for the status (308 with the ``Range`` held, none when
nothing is; the video once complete). The bytes received are kept per video
(:attr:`FakeYouTube.uploaded`), so a test checks the whole file arrived, once. Failures are
switched on per test: :attr:`FakeYouTube.failing_chunks` (a chunk answered 503 after the
server kept part of it), :attr:`FakeYouTube.lost_completion_answers` (the answer to the
request that completed the upload is lost), :attr:`FakeYouTube.uploads_left` (the channel's
daily upload limit, ``uploadLimitExceeded``), :attr:`FakeYouTube.unverified_project` (every
upload locked private, as YouTube does for an unaudited API project), and through
:meth:`~tests.fakes.loopback.LoopbackServer.script` the session's errors (quota, 401…).
"""

from __future__ import annotations

import base64
import html
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

API = "/youtube/v3"
UPLOAD = "/upload/youtube/v3"
EMBEDDED_REPLIES = 5
#: The resumable protocol's unit: every chunk but the last is a multiple of it.
UPLOAD_GRANULE = 256 * 1024
#: videoCategories.list ids a video can take (assignable) in most regions.
CATEGORIES = frozenset(
    {"1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"}
)
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_STATUS_QUERY = re.compile(r"bytes \*/(\d+)")

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def google_error(
    code: int,
    reason: str,
    message: str,
    domain: str = "global",
    headers: dict[str, str] | None = None,
) -> Reply:
    """Google's documented error reply."""
    return Reply(
        code,
        {
            "error": {
                "code": code,
                "message": message,
                "errors": [{"message": message, "domain": domain, "reason": reason}],
                "status": _STATUS_NAMES.get(code, "UNKNOWN"),
            }
        },
        headers=headers or {},
    )


def quota_exceeded() -> Reply:
    return google_error(
        403,
        "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
        "youtube.quota",
    )


def rate_limit_exceeded(status: int = 403, reason: str = "rateLimitExceeded") -> Reply:
    return google_error(status, reason, "Rate Limit Exceeded", "usageLimits")


def auth_error() -> Reply:
    return google_error(
        401,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential.",
    )


def insufficient_permissions() -> Reply:
    return google_error(
        403, "insufficientPermissions", "Request had insufficient authentication scopes."
    )


def forbidden() -> Reply:
    return google_error(
        403,
        "forbidden",
        "The comment thread could not be retrieved due to insufficient permissions.",
        "youtube.commentThread",
    )


def backend_error(code: int = 503) -> Reply:
    return google_error(code, "backendError", "The service is currently unavailable.")


def upload_limit_exceeded() -> Reply:
    """videos.insert's refusal once the channel has uploaded its daily number of videos."""
    return google_error(
        400,
        "uploadLimitExceeded",
        "The user has exceeded the number of videos they may upload.",
        "youtube.video",
    )


def upload_forbidden() -> Reply:
    """The core ``forbidden`` error, as videos.insert answers an upload it does not allow."""
    return google_error(
        403, "forbidden", "Access forbidden. The request may not be properly authorized."
    )


def comments_disabled() -> Reply:
    return google_error(
        403,
        "commentsDisabled",
        'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a></code> parameter has disabled comments.',
        "youtube.commentThread",
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Thread:
    video_id: str
    top: dict[str, Any]
    replies: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Upload:
    """One resumable upload session: what was asked and the bytes held so far."""

    resource: dict[str, Any]
    parts: list[str]
    size: int
    mime_type: str
    received: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


class FakeYouTube(LoopbackServer):
    """The YouTube Data API of one channel, its videos, comments and search results."""

    token = "ya29.a0-fake-youtube-access-token-0123456789"
    channel_id = "UCbeffroiFakeChannel00001"
    uploads_id = "UUbeffroiFakeChannel00001"
    channel_title = "Mairie de Beffroi"
    unavailable_body = backend_error().payload

    def __init__(self) -> None:
        super().__init__()
        self.clock = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
        self._ids = itertools.count(1)
        self.videos: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, _Thread] = {}
        self.search_results: list[dict[str, Any]] = []
        self.moderation: dict[str, str] = {}
        self.banned: set[str] = set()
        self.disabled_videos: set[str] = set()
        self.token_valid = True
        self.sessions: dict[str, _Upload] = {}
        #: The bytes of each uploaded video, as received.
        self.uploaded: dict[str, bytes] = {}
        #: videos.list ``statistics`` by video id (YouTube sends the counts as strings).
        self.statistics: dict[str, dict[str, str]] = {}
        #: The next N chunks are answered 503 after the server kept the first half of them.
        self.failing_chunks = 0
        #: The next N answers that say an upload is complete never reach the client.
        self.lost_completion_answers = 0
        #: Videos the channel may still upload today (None: no limit reached in tests).
        self.uploads_left: int | None = None
        #: The API project is not audited: YouTube locks every uploaded video private.
        self.unverified_project = False

    # --- seeding ---------------------------------------------------------------------------

    def tick(self, minutes: int = 1) -> datetime:
        with self.lock:
            self.clock += timedelta(minutes=minutes)
            return self.clock

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def add_video(
        self, title: str = "Conseil municipal", description: str = "Ordre du jour"
    ) -> str:
        with self.lock:
            video_id = self._id("vid")
            self.videos[video_id] = {
                "kind": "youtube#video",
                "etag": f"etag-{video_id}",
                "id": video_id,
                "snippet": {
                    "publishedAt": _stamp(self.tick()),
                    "channelId": self.channel_id,
                    "title": title,
                    "description": description,
                    "thumbnails": {
                        "default": {
                            "url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                            "width": 120,
                            "height": 90,
                        },
                        "high": {
                            "url": f"https://i.ytimg.com/vi/{video_id}/hqdefault.jpg",
                            "width": 480,
                            "height": 360,
                        },
                    },
                    "channelTitle": self.channel_title,
                    "tags": ["mairie", "conseil"],
                    "categoryId": "25",
                    "liveBroadcastContent": "none",
                    "localized": {"title": title, "description": description},
                },
            }
            return video_id

    def _comment(
        self, comment_id: str, video_id: str, text: str, author: str, parent: str | None
    ) -> dict[str, Any]:
        published = _stamp(self.tick())
        snippet: dict[str, Any] = {
            "channelId": self.channel_id,
            "videoId": video_id,
            "textDisplay": html.escape(text).replace("\n", "<br>"),
            "textOriginal": text,
            "authorDisplayName": f"@{author}",
            "authorProfileImageUrl": f"https://yt3.ggpht.com/{author}=s48-c-k-c0x00ffffff-no-rj",
            "authorChannelUrl": f"http://www.youtube.com/@{author}",
            "authorChannelId": {"value": f"UC{author:0>22}"[:24]},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 2,
            "publishedAt": published,
            "updatedAt": published,
        }
        if parent:
            snippet["parentId"] = parent
        return {
            "kind": "youtube#comment",
            "etag": f"etag-{comment_id}",
            "id": comment_id,
            "snippet": snippet,
        }

    def add_comment(self, video_id: str, text: str = "Bravo !", author: str = "citoyen") -> str:
        with self.lock:
            comment_id = self._id("Ugz")
            top = self._comment(comment_id, video_id, text, author, None)
            self.threads[comment_id] = _Thread(video_id, top)
            self.moderation[comment_id] = "published"
            return comment_id

    def add_reply(self, thread_id: str, text: str = "Merci", author: str = "voisine") -> str:
        with self.lock:
            thread = self.threads[thread_id]
            reply_id = f"{thread_id}.{self._id('AaBb')}"
            thread.replies.append(self._comment(reply_id, thread.video_id, text, author, thread_id))
            self.moderation[reply_id] = "published"
            return reply_id

    def add_search_result(
        self, title: str = "Reportage sur Beffroi", channel_id: str = "UCotherChannel0000000001"
    ) -> str:
        with self.lock:
            video_id = self._id("srch")
            self.search_results.append(
                {
                    "kind": "youtube#searchResult",
                    "etag": f"etag-{video_id}",
                    "id": {"kind": "youtube#video", "videoId": video_id},
                    "snippet": {
                        "publishedAt": _stamp(self.tick()),
                        "channelId": channel_id,
                        "title": title,
                        "description": "Un reportage",
                        "thumbnails": {
                            "default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg"}
                        },
                        "channelTitle": "Télé locale",
                        "liveBroadcastContent": "none",
                        "publishTime": "",
                    },
                }
            )
            self.search_results[-1]["snippet"]["publishTime"] = self.search_results[-1]["snippet"][
                "publishedAt"
            ]
            return video_id

    # --- views -----------------------------------------------------------------------------

    def channel(self, parts: set[str]) -> dict[str, Any]:
        resource: dict[str, Any] = {
            "kind": "youtube#channel",
            "etag": "etag-channel",
            "id": self.channel_id,
        }
        if "snippet" in parts:
            resource["snippet"] = {
                "title": self.channel_title,
                "description": "La chaîne officielle",
                "customUrl": "@mairiedebeffroi",
                "publishedAt": "2015-03-01T09:00:00Z",
                "thumbnails": {},
                "localized": {"title": self.channel_title, "description": ""},
            }
        if "contentDetails" in parts:
            resource["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": self.uploads_id}
            }
        return resource

    def playlist_item(self, position: int, video: dict[str, Any]) -> dict[str, Any]:
        snippet = video["snippet"]
        return {
            "kind": "youtube#playlistItem",
            "etag": f"etag-pl-{video['id']}",
            "id": base64.b64encode(f"{self.uploads_id}.{video['id']}".encode()).decode(),
            "snippet": {
                "publishedAt": snippet["publishedAt"],
                "channelId": self.channel_id,
                "title": snippet["title"],
                "description": snippet["description"],
                "thumbnails": snippet["thumbnails"],
                "channelTitle": self.channel_title,
                "playlistId": self.uploads_id,
                "position": position,
                "resourceId": {"kind": "youtube#video", "videoId": video["id"]},
                "videoOwnerChannelTitle": self.channel_title,
                "videoOwnerChannelId": self.channel_id,
            },
            "contentDetails": {
                "videoId": video["id"],
                "videoPublishedAt": snippet["publishedAt"],
            },
        }

    def published_replies(self, thread: _Thread) -> list[dict[str, Any]]:
        return [r for r in thread.replies if self.moderation.get(r["id"]) == "published"]

    def thread_resource(self, thread: _Thread) -> dict[str, Any]:
        replies = self.published_replies(thread)
        resource: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": f"etag-thread-{thread.top['id']}",
            "id": thread.top["id"],
            "snippet": {
                "channelId": self.channel_id,
                "videoId": thread.video_id,
                "topLevelComment": thread.top,
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            },
        }
        if replies:
            resource["replies"] = {"comments": replies[:EMBEDDED_REPLIES]}
        return resource

    # --- protocol ----------------------------------------------------------------------------

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        if not self.token_valid or request.authorization != f"Bearer {self.token}":
            return auth_error()
        return None

    @staticmethod
    def _bad(message: str, reason: str = "invalidParameter") -> Reply:
        return google_error(400, reason, message, "youtube.parameter")

    def _params(
        self, request: RecordedRequest, required: dict[str, str | None], optional: set[str]
    ) -> dict[str, str] | Reply:
        """The query as a flat dict, or a 400 naming the first unexpected parameter.

        ``required`` maps a name to its exact expected value (None: any value).
        """
        params = {name: values[0] for name, values in request.query.items()}
        allowed = set(required) | optional | {"alt"}
        for name in params:
            if name not in allowed:
                return self._bad(f"Unexpected parameter '{name}'.")
        if params.get("alt", "json") != "json":
            return self._bad("alt must be json.")
        for name, expected in required.items():
            if name not in params:
                return self._bad(
                    f"No filter selected. Expected parameter '{name}'.", "missingRequiredParameter"
                )
            if expected is not None and params[name] != expected:
                return self._bad(
                    f"Parameter '{name}' has value '{params[name]}', expected '{expected}'."
                )
        return params

    def _page(
        self,
        kind: str,
        items: list[dict[str, Any]],
        params: dict[str, str],
        largest: int,
    ) -> Reply:
        try:
            size = int(params.get("maxResults", "5"))
        except ValueError:
            return self._bad("Invalid value for maxResults.")
        if not 1 <= size <= largest:
            return self._bad(f"maxResults must be between 1 and {largest}.")
        offset = 0
        token = params.get("pageToken")
        if token:
            try:
                prefix, _, number = base64.b64decode(token.encode()).decode().partition(":")
                offset = int(number)
                assert prefix == kind
            except Exception:
                return self._bad("The page token is invalid.", "invalidPageToken")
        chunk = items[offset : offset + size]
        payload: dict[str, Any] = {
            "kind": f"youtube#{kind}ListResponse",
            "etag": f"etag-{kind}-{offset}",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
            "items": chunk,
        }
        if offset + size < len(items):
            payload["nextPageToken"] = base64.b64encode(f"{kind}:{offset + size}".encode()).decode()
        return Reply(200, payload)

    def handle(self, request: RecordedRequest) -> Reply:
        route = (request.method, request.path)
        handlers = {
            ("GET", f"{API}/channels"): self._channels,
            ("GET", f"{API}/playlistItems"): self._playlist_items,
            ("GET", f"{API}/commentThreads"): self._comment_threads,
            ("GET", f"{API}/comments"): self._comments,
            ("GET", f"{API}/search"): self._search,
            ("GET", f"{API}/videos"): self._videos,
            ("PUT", f"{API}/videos"): self._update_video,
            ("POST", f"{UPLOAD}/videos"): self._start_upload,
            ("PUT", f"{UPLOAD}/videos"): self._upload_chunk,
            ("POST", f"{API}/comments"): self._insert_comment,
            ("POST", f"{API}/commentThreads"): self._insert_thread,
            ("POST", f"{API}/comments/setModerationStatus"): self._set_moderation_status,
        }
        handler = handlers.get(route)
        if handler is None:
            return google_error(404, "notFound", "Not Found")
        with self.lock:
            return handler(request)

    def _channels(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"part": None}, {"mine", "id"})
        if isinstance(params, Reply):
            return params
        if ("mine" in params) == ("id" in params):
            return self._bad("Specify exactly one of mine and id.", "incompatibleParameters")
        if "mine" in params and params["mine"] != "true":
            return self._bad("mine must be true.")
        parts = set(params["part"].split(","))
        if not parts <= {"snippet", "contentDetails", "id"}:
            return self._bad("Unexpected part.")
        items = (
            [] if params.get("id", self.channel_id) != self.channel_id else [self.channel(parts)]
        )
        return Reply(
            200,
            {
                "kind": "youtube#channelListResponse",
                "etag": "etag-channels",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            },
        )

    def _playlist_items(self, request: RecordedRequest) -> Reply:
        params = self._params(
            request,
            {"part": "snippet,contentDetails", "playlistId": None, "maxResults": None},
            {"pageToken"},
        )
        if isinstance(params, Reply):
            return params
        if params["playlistId"] != self.uploads_id:
            return google_error(
                404,
                "playlistNotFound",
                "The playlist identified with the request's playlistId parameter cannot be found.",
                "youtube.playlistItem",
            )
        newest_first = sorted(
            self.videos.values(), key=lambda v: v["snippet"]["publishedAt"], reverse=True
        )
        items = [self.playlist_item(i, v) for i, v in enumerate(newest_first)]
        return self._page("playlistItem", items, params, 50)

    def _comment_threads(self, request: RecordedRequest) -> Reply:
        params = self._params(
            request,
            {
                "part": "snippet,replies",
                "allThreadsRelatedToChannelId": None,
                "order": "time",
                "maxResults": None,
            },
            {"pageToken"},
        )
        if isinstance(params, Reply):
            return params
        if params["allThreadsRelatedToChannelId"] != self.channel_id:
            return google_error(
                404,
                "channelNotFound",
                "The channel identified by the allThreadsRelatedToChannelId parameter could not be found.",
                "youtube.commentThread",
            )
        threads = [
            self.thread_resource(t)
            for t in sorted(
                self.threads.values(),
                key=lambda t: t.top["snippet"]["publishedAt"],
                reverse=True,
            )
            if self.moderation.get(t.top["id"]) == "published"
        ]
        return self._page("commentThread", threads, params, 100)

    def _comments(self, request: RecordedRequest) -> Reply:
        params = self._params(
            request,
            {"part": "snippet", "parentId": None, "maxResults": None, "textFormat": "plainText"},
            {"pageToken"},
        )
        if isinstance(params, Reply):
            return params
        thread = self.threads.get(params["parentId"])
        if thread is None:
            return google_error(
                404,
                "commentNotFound",
                "One or more of the comments identified by the parentId parameter could not be found.",
                "youtube.comment",
            )
        if thread.video_id in self.disabled_videos:
            return comments_disabled()
        return self._page("comment", self.published_replies(thread), params, 100)

    def _search(self, request: RecordedRequest) -> Reply:
        params = self._params(
            request,
            {
                "part": "snippet",
                "q": None,
                "type": "video",
                "order": "date",
                "publishedAfter": None,
                "maxResults": None,
            },
            {"pageToken"},
        )
        if isinstance(params, Reply):
            return params
        after = params["publishedAfter"]
        results = sorted(
            (
                r
                for r in self.search_results
                if r["snippet"]["publishedAt"] > after
                and params["q"].casefold() in r["snippet"]["title"].casefold()
            ),
            key=lambda r: r["snippet"]["publishedAt"],
            reverse=True,
        )
        return self._page("search", results, params, 50)

    def video_view(self, video_id: str, parts: list[str]) -> dict[str, Any]:
        """The video resource with the parts asked for (``statistics`` as YouTube counts)."""
        video = self.videos[video_id]
        view = {key: video[key] for key in ("kind", "etag", "id")}
        for part in parts:
            if part == "statistics":
                view["statistics"] = self.statistics.get(
                    video_id,
                    {"viewCount": "0", "likeCount": "0", "favoriteCount": "0", "commentCount": "0"},
                )
            elif part in video:
                view[part] = video[part]
        return view

    def _videos(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"part": None, "id": None}, set())
        if isinstance(params, Reply):
            return params
        parts = params["part"].split(",")
        if not set(parts) <= {"snippet", "status", "statistics"}:
            return self._bad("Unexpected part.")
        items = [self.video_view(params["id"], parts)] if params["id"] in self.videos else []
        return Reply(
            200,
            {
                "kind": "youtube#videoListResponse",
                "etag": "etag-videos",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
                "items": items,
            },
        )

    def _update_video(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"part": "snippet"}, set())
        if isinstance(params, Reply):
            return params
        body = request.body
        if not isinstance(body, dict) or set(body) != {"id", "snippet"}:
            return self._bad("The request body must be a video resource with id and snippet.")
        video = self.videos.get(str(body["id"]))
        if video is None:
            return google_error(
                404,
                "videoNotFound",
                "The video that you are trying to update cannot be found.",
                "youtube.video",
            )
        snippet = body["snippet"]
        if (
            not isinstance(snippet, dict)
            or not snippet.get("title")
            or not snippet.get("categoryId")
        ):
            return self._bad(
                "The request metadata must specify a title and a categoryId.",
                "invalidVideoMetadata",
            )
        # videos.update replaces the snippet: what is not sent is removed.
        kept = {
            k: video["snippet"][k]
            for k in ("publishedAt", "channelId", "channelTitle", "thumbnails")
        }
        video["snippet"] = {**kept, **snippet}
        return Reply(200, video)

    def _insert_comment(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"part": "snippet"}, set())
        if isinstance(params, Reply):
            return params
        body = request.body
        snippet = body.get("snippet") if isinstance(body, dict) else None
        if (
            not isinstance(body, dict)
            or set(body) != {"snippet"}
            or not isinstance(snippet, dict)
            or set(snippet) != {"parentId", "textOriginal"}
        ):
            return self._bad(
                "The comment resource must have snippet.parentId and snippet.textOriginal."
            )
        thread = self.threads.get(str(snippet["parentId"]))
        if thread is None:
            return google_error(
                404,
                "parentCommentNotFound",
                "The parent comment could not be found.",
                "youtube.comment",
            )
        if thread.video_id in self.disabled_videos:
            return comments_disabled()
        reply_id = self.add_reply(thread.top["id"], str(snippet["textOriginal"]), "mairiedebeffroi")
        return Reply(200, next(r for r in thread.replies if r["id"] == reply_id))

    def _insert_thread(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"part": "snippet"}, set())
        if isinstance(params, Reply):
            return params
        body = request.body
        snippet = body.get("snippet") if isinstance(body, dict) else None
        top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
        if (
            not isinstance(snippet, dict)
            or set(body) != {"snippet"}
            or set(snippet) != {"channelId", "videoId", "topLevelComment"}
            or not isinstance(top, dict)
            or set(top) != {"snippet"}
            or set(top["snippet"]) != {"textOriginal"}
        ):
            return self._bad("The commentThread resource is not as documented.")
        if snippet["videoId"] not in self.videos:
            return google_error(
                404, "videoNotFound", "The video could not be found.", "youtube.commentThread"
            )
        comment_id = self.add_comment(
            str(snippet["videoId"]), str(top["snippet"]["textOriginal"]), "mairiedebeffroi"
        )
        return Reply(200, self.thread_resource(self.threads[comment_id]))

    def _set_moderation_status(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"id": None, "moderationStatus": None}, {"banAuthor"})
        if isinstance(params, Reply):
            return params
        if request.raw_body:
            return self._bad("Do not provide a request body when calling this method.")
        status = params["moderationStatus"]
        if status not in ("heldForReview", "published", "rejected"):
            return self._bad("Invalid moderationStatus.")
        if params.get("banAuthor", "false") == "true" and status != "rejected":
            return self._bad(
                "The banAuthor parameter can only be used if the moderationStatus parameter value is rejected.",
                "banWithoutReject",
            )
        ids = params["id"].split(",")
        if any(i not in self.moderation for i in ids):
            return google_error(
                404,
                "commentNotFound",
                "One or more comments that the request is trying to update cannot be found.",
                "youtube.comment",
            )
        if status == "published" and any(self.moderation[i] == "rejected" for i in ids):
            return self._bad("A rejected comment cannot be published again.", "processingFailure")
        for comment_id in ids:
            self.moderation[comment_id] = status
        if params.get("banAuthor") == "true":
            self.banned.update(ids)
        return Reply(204, None)

    # --- uploads (the resumable protocol) ----------------------------------------------------

    def _dispatch(self, request: RecordedRequest) -> tuple[Reply, bool] | None:
        """As every fake, and the answer that completes an upload lost while
        :attr:`lost_completion_answers` says so (the connection closes unanswered)."""
        outcome = super()._dispatch(request)
        with self.lock:
            if (
                outcome is not None
                and self.lost_completion_answers > 0
                and (request.method, request.path) == ("PUT", f"{UPLOAD}/videos")
                and outcome[0].status in (200, 201)
            ):
                self.lost_completion_answers -= 1
                return None
        return outcome

    def _start_upload(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"uploadType": "resumable", "part": None}, set())
        if isinstance(params, Reply):
            return params
        parts = params["part"].split(",")
        if not set(parts) <= {"snippet", "status", "contentDetails", "id"}:
            return self._bad("Unexpected part.")
        size = request.header("X-Upload-Content-Length") or ""
        mime_type = request.header("X-Upload-Content-Type") or ""
        if not size.isdigit():
            return self._bad("X-Upload-Content-Length must give the file's size.")
        if not (mime_type.startswith("video/") or mime_type == "application/octet-stream"):
            return self._bad("The media's MIME type must be video/* or application/octet-stream.")
        if not (request.header("Content-Type") or "").startswith("application/json"):
            return self._bad("The request body must be a JSON video resource.")
        body = request.body
        snippet = body.get("snippet") if isinstance(body, dict) else None
        status = body.get("status") if isinstance(body, dict) else None
        if (
            not isinstance(snippet, dict)
            or not isinstance(status, dict)
            or set(body) != {"snippet", "status"}
            or not set(snippet) <= {"title", "description", "categoryId", "defaultLanguage"}
            or set(status) != {"privacyStatus", "selfDeclaredMadeForKids"}
        ):
            return self._bad("The video resource is not as documented.", "invalidVideoMetadata")
        title, description = snippet.get("title"), snippet.get("description", "")
        if not isinstance(title, str) or not 0 < len(title) <= 100 or "<" in title or ">" in title:
            return self._bad(
                "The request metadata specifies an invalid or empty video title.", "invalidTitle"
            )
        if (
            not isinstance(description, str)
            or len(description.encode()) > 5000
            or "<" in description
            or ">" in description
        ):
            return self._bad(
                "The request metadata specifies an invalid video description.",
                "invalidDescription",
            )
        if snippet.get("categoryId") not in CATEGORIES:
            return self._bad(
                "The snippet.categoryId property specifies an invalid category ID.",
                "invalidCategoryId",
            )
        if status["privacyStatus"] not in ("public", "unlisted", "private"):
            return self._bad("The privacy status is invalid.", "invalidVideoMetadata")
        if self.uploads_left is not None and self.uploads_left <= 0:
            return upload_limit_exceeded()
        upload_id = self._id("AEnB2U")
        self.sessions[upload_id] = _Upload(dict(body), parts, int(size), mime_type)
        location = (
            f"{self.base_url}{UPLOAD}/videos?uploadType=resumable&upload_id={upload_id}"
            f"&part={params['part']}"
        )
        return Reply(200, raw=b"", headers={"Location": location})

    def _held(self, upload: _Upload) -> Reply:
        """308 Resume Incomplete with the bytes held (no Range when there are none)."""
        headers = {"Range": f"bytes=0-{len(upload.received) - 1}"} if upload.received else {}
        return Reply(308, raw=b"", headers=headers)

    def _upload_chunk(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"uploadType": "resumable", "upload_id": None}, {"part"})
        if isinstance(params, Reply):
            return params
        upload = self.sessions.get(params["upload_id"])
        if upload is None:
            return google_error(404, "notFound", "The upload session does not exist.")
        if upload.video_id is not None:  # complete: the session answers with the video
            return Reply(201, self.video_view(upload.video_id, upload.parts))
        content_range = request.header("Content-Range") or ""
        query = _STATUS_QUERY.fullmatch(content_range)
        if query:
            if request.raw_body or int(query[1]) != upload.size:
                return self._bad("A status query has no body and gives the file's size.")
            return self._held(upload)
        span = _RANGE.fullmatch(content_range)
        chunk = request.raw_body
        if span is None:
            return self._bad("Content-Range must be bytes <first>-<last>/<size>.")
        first, last, size = (int(value) for value in span.groups())
        # The guide: a client sends on from the Range the server gave, never anything else.
        if size != upload.size or first != len(upload.received) or last - first + 1 != len(chunk):
            return self._bad(
                f"Content-Range {content_range} does not follow the "
                f"{len(upload.received)} bytes held of {upload.size}."
            )
        final = last + 1 == size
        if not final and len(chunk) % UPLOAD_GRANULE:
            return self._bad("A chunk other than the last must be a multiple of 256 KiB.")
        if self.failing_chunks > 0:
            self.failing_chunks -= 1
            upload.received += chunk[: len(chunk) // 2 // UPLOAD_GRANULE * UPLOAD_GRANULE]
            return backend_error(503)
        upload.received += chunk
        if not final:
            return self._held(upload)
        upload.video_id = self._create_video(upload)
        return Reply(201, self.video_view(upload.video_id, upload.parts))

    def _create_video(self, upload: _Upload) -> str:
        """The video an upload made, in the channel's uploads, with its bytes kept."""
        video_id = self._id("vid")
        asked = upload.resource["snippet"]
        snippet: dict[str, Any] = {
            "publishedAt": _stamp(self.tick()),
            "channelId": self.channel_id,
            "title": asked["title"],
            "description": asked.get("description", ""),
            "thumbnails": {
                "default": {
                    "url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                    "width": 120,
                    "height": 90,
                }
            },
            "channelTitle": self.channel_title,
            "categoryId": asked["categoryId"],
            "liveBroadcastContent": "none",
            "localized": {"title": asked["title"], "description": asked.get("description", "")},
        }
        if asked.get("defaultLanguage"):
            snippet["defaultLanguage"] = asked["defaultLanguage"]
        privacy = upload.resource["status"]["privacyStatus"]
        self.videos[video_id] = {
            "kind": "youtube#video",
            "etag": f"etag-{video_id}",
            "id": video_id,
            "snippet": snippet,
            "status": {
                "uploadStatus": "uploaded",
                "privacyStatus": "private" if self.unverified_project else privacy,
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": False,
                "selfDeclaredMadeForKids": upload.resource["status"]["selfDeclaredMadeForKids"],
            },
        }
        self.uploaded[video_id] = bytes(upload.received)
        if self.uploads_left is not None:
            self.uploads_left -= 1
        return video_id


class VideoLibrary(LoopbackServer):
    """The media library's public addresses, as the publishing desk gives them to a
    connector: ``GET /media/<name>`` serves a stored file with its type."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}

    def add(self, name: str, content: bytes, mime_type: str = "video/mp4") -> str:
        """Store a file; its address."""
        self.files[name] = (content, mime_type)
        return f"{self.base_url}/media/{name}"

    def handle(self, request: RecordedRequest) -> Reply:
        found = self.files.get(request.path.removeprefix("/media/"))
        if request.method != "GET" or found is None:
            return Reply(404, raw=b"Not Found", content_type="text/plain")
        content, mime_type = found
        return Reply(200, raw=content, content_type=mime_type)
