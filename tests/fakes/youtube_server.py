"""A loopback YouTube Data API v3 that answers as Google documents it.

Resources (``youtube#channel``, ``youtube#playlistItem``, ``youtube#commentThread``,
``youtube#comment``, ``youtube#searchResult``, ``youtube#video``), list envelopes
(``kind``, ``etag``, ``nextPageToken``, ``pageInfo``, ``items``) and Google's error body
``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``.
Lists are served newest first (``order=time`` / ``order=date``; the uploads playlist);
``commentThreads`` embed at most 5 replies and only published comments are listed.

Each request's method, path, query parameters and JSON body are checked against what the
connector must send; anything else gets 400 with YouTube's ``invalidParameter`` error body.
"""

from __future__ import annotations

import base64
import html
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

API = "/youtube/v3"
EMBEDDED_REPLIES = 5

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

    def _videos(self, request: RecordedRequest) -> Reply:
        params = self._params(request, {"part": "snippet", "id": None}, set())
        if isinstance(params, Reply):
            return params
        video = self.videos.get(params["id"])
        items = [video] if video else []
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
