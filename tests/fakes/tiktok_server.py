"""A fake TikTok API (open.tiktokapis.com) on a loopback port.

It answers as TikTok documents its v2 API: every answer carries ``{"data": ..., "error":
{"code", "message", "log_id"}}`` (``code`` is ``"ok"`` on success), errors come with the
documented HTTP status (401 ``access_token_invalid`` / ``scope_not_authorized``, 400
``invalid_params``, 429 ``rate_limit_exceeded`` / ``daily_quota_limit_exceeded``, 500
``internal_error``), and the OAuth token endpoint answers with the OAuth error shape
``{"error", "error_description", "log_id"}``.

Served:

- ``POST /v2/oauth/token/`` (form): ``grant_type=client_credentials`` (Research API);
- ``POST /v2/research/video/query/`` and ``POST /v2/research/video/comment/list/``;
- ``POST /v2/post/publish/creator_info/query/``, ``/video/init/``, ``/content/init/``,
  ``/status/fetch/`` (Content Posting API);
- ``GET /v2/user/info/``.

Each endpoint checks the documented method, query ``fields``, content type and body, and
answers ``invalid_params`` otherwise.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

VIDEO_FIELDS = frozenset(
    {
        "id",
        "video_description",
        "create_time",
        "region_code",
        "share_count",
        "view_count",
        "like_count",
        "comment_count",
        "music_id",
        "hashtag_names",
        "username",
        "effect_ids",
        "playlist_id",
        "voice_to_text",
        "is_stem_verified",
        "favorites_count",
        "video_duration",
    }
)
COMMENT_FIELDS = frozenset(
    {"id", "video_id", "text", "like_count", "reply_count", "parent_comment_id", "create_time"}
)
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")


def error_body(code: str, message: str = "", data: Any = None) -> dict[str, Any]:
    """TikTok's v2 envelope with an error (or ``ok``)."""
    return {
        "data": {} if data is None else data,
        "error": {"code": code, "message": message, "log_id": "20240501120000ABCDEF0123456789"},
    }


def ok(data: Any) -> Reply:
    return Reply(200, error_body("ok", "", data))


def invalid(message: str) -> Reply:
    return Reply(400, error_body("invalid_params", message))


def oauth_error(status: int, error: str, description: str) -> Reply:
    return Reply(
        status,
        {"error": error, "error_description": description, "log_id": "20240501120000OAUTH01"},
    )


@dataclass
class _Search:
    matches: list[dict[str, Any]]


@dataclass
class _Publish:
    kind: str
    body: dict[str, Any]
    polls: int = 0
    post_id: str = ""


@dataclass
class FakeTikTok(LoopbackServer):
    """TikTok's open API with a few videos, comments, a research client and a creator."""

    client_key: str = "research-client-key"
    client_secret: str = "research-client-secret-XYZ"
    user_token: str = "act.user-token-SECRET"
    creator_username: str = "ville.exemple"
    privacy_level_options: list[str] = field(default_factory=lambda: list(PRIVACY_LEVELS))
    #: Status fetches answered PROCESSING_DOWNLOAD before PUBLISH_COMPLETE.
    processing_polls: int = 1
    publish_fails: str | None = None

    def __post_init__(self) -> None:
        super().__init__()
        self.unavailable_body = error_body("internal_error", "Service unavailable")
        self.videos: list[dict[str, Any]] = []
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.research_tokens: set[str] = set()
        self.searches: dict[str, _Search] = {}
        self.publishes: dict[str, _Publish] = {}
        self._ids = itertools.count(7_300_000_000_000_000_001)
        self._tokens = itertools.count(1)

    # --- data ------------------------------------------------------------------------------

    def add_video(
        self,
        description: str,
        *,
        username: str = "habitant.du.coin",
        hashtags: tuple[str, ...] = (),
        hours_ago: float = 1.0,
        comments: int = 0,
    ) -> dict[str, Any]:
        """A public video created ``hours_ago`` hours ago, with ``comments`` comments."""
        created = int(time.time() - hours_ago * 3600)
        video = {
            "id": next(self._ids),
            "video_description": description,
            "create_time": created,
            "region_code": "FR",
            "share_count": 3,
            "view_count": 1200,
            "like_count": 45,
            "comment_count": comments,
            "music_id": 6_900_000_000_000_000_001,
            "hashtag_names": list(hashtags),
            "username": username,
            "voice_to_text": "",
        }
        self.videos.append(video)
        self.comments[video["id"]] = []
        for n in range(comments):
            self.add_comment(video, f"Commentaire {n}")
        return video

    def add_comment(
        self, video: dict[str, Any], text: str, *, parent: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A comment on ``video`` (a reply when ``parent`` is a comment)."""
        comment = {
            "id": next(self._ids),
            "video_id": video["id"],
            "text": text,
            "like_count": 1,
            "reply_count": 0,
            "parent_comment_id": parent["id"] if parent else video["id"],
            "create_time": int(time.time() - 60),
        }
        if parent is not None:
            parent["reply_count"] += 1
        self.comments[video["id"]].append(comment)
        video["comment_count"] = len(self.comments[video["id"]])
        return comment

    # --- auth ------------------------------------------------------------------------------

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        if request.path == "/v2/oauth/token/":
            return None
        scheme, _, token = request.authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return Reply(
                401,
                error_body(
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                ),
            )
        if request.path.startswith("/v2/research/"):
            valid = token in self.research_tokens
        else:
            valid = token == self.user_token
        if not valid:
            return Reply(
                401,
                error_body(
                    "access_token_invalid",
                    "The access token is invalid or not found in the request.",
                ),
            )
        return None

    # --- dispatch --------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        routes = {
            ("POST", "/v2/oauth/token/"): self._token,
            ("POST", "/v2/research/video/query/"): self._video_query,
            ("POST", "/v2/research/video/comment/list/"): self._comment_list,
            ("POST", "/v2/post/publish/creator_info/query/"): self._creator_info,
            ("POST", "/v2/post/publish/video/init/"): self._video_init,
            ("POST", "/v2/post/publish/content/init/"): self._content_init,
            ("POST", "/v2/post/publish/status/fetch/"): self._status_fetch,
            ("GET", "/v2/user/info/"): self._user_info,
        }
        route = routes.get((request.method, request.path))
        if route is None:
            return Reply(404, error_body("invalid_params", f"Unknown endpoint {request.path}"))
        return route(request)

    def _token(self, request: RecordedRequest) -> Reply:
        if "x-www-form-urlencoded" not in (request.header("Content-Type") or ""):
            return oauth_error(400, "invalid_request", "Content-Type must be form-urlencoded.")
        form = request.body if isinstance(request.body, dict) else {}

        def value(name: str) -> str:
            values = form.get(name) or [""]
            return str(values[0])

        if value("grant_type") != "client_credentials":
            return oauth_error(400, "unsupported_grant_type", "Unsupported grant type.")
        if value("client_key") != self.client_key or value("client_secret") != self.client_secret:
            return oauth_error(401, "invalid_client", "Client key or secret is incorrect.")
        token = f"clt.research-token-{next(self._tokens)}"
        self.research_tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 7200, "token_type": "Bearer"})

    @staticmethod
    def _fields(request: RecordedRequest, allowed: frozenset[str]) -> list[str] | Reply:
        raw = (request.query.get("fields") or [""])[0]
        names = [name for name in raw.split(",") if name]
        if not names:
            return invalid("The fields query parameter is required.")
        unknown = [name for name in names if name not in allowed]
        if unknown:
            return invalid(f"Invalid fields: {','.join(unknown)}")
        return names

    @staticmethod
    def _json_body(request: RecordedRequest) -> dict[str, Any] | Reply:
        if "application/json" not in (request.header("Content-Type") or ""):
            return invalid("Content-Type must be application/json.")
        if not isinstance(request.body, dict):
            return invalid("The request body must be a JSON object.")
        return request.body

    def _video_query(self, request: RecordedRequest) -> Reply:
        names = self._fields(request, VIDEO_FIELDS)
        if isinstance(names, Reply):
            return names
        body = self._json_body(request)
        if isinstance(body, Reply):
            return body
        try:
            start = datetime.strptime(str(body["start_date"]), "%Y%m%d").date()
            end = datetime.strptime(str(body["end_date"]), "%Y%m%d").date()
        except (KeyError, ValueError):
            return invalid("start_date and end_date are required, as YYYYMMDD.")
        if end < start or (end - start).days > 30:
            return invalid("end_date must be after start_date and at most 30 days later.")
        max_count = body.get("max_count", 20)
        if not isinstance(max_count, int) or not 1 <= max_count <= 100:
            return invalid("max_count must be between 1 and 100.")
        cursor = body.get("cursor", 0)
        if not isinstance(cursor, int) or cursor < 0:
            return invalid("cursor must be a non-negative integer.")
        search_id = body.get("search_id")
        if search_id:
            search = self.searches.get(str(search_id))
            if search is None:
                return invalid("Invalid search_id.")
        else:
            query = body.get("query")
            conditions = query.get("and") if isinstance(query, dict) else None
            if not isinstance(conditions, list) or not conditions:
                return invalid("query.and must be a non-empty list of conditions.")
            for condition in conditions:
                if (
                    not isinstance(condition, dict)
                    or condition.get("operation") != "IN"
                    or condition.get("field_name") not in ("keyword", "hashtag_name", "username")
                    or not isinstance(condition.get("field_values"), list)
                    or not condition["field_values"]
                ):
                    return invalid(f"Invalid condition: {condition!r}")
            matches = [
                video
                for video in self.videos
                if start <= _day(video["create_time"]) <= end
                and all(_matches(video, condition) for condition in conditions)
            ]
            search_id = f"search-{len(self.searches) + 1}"
            self.searches[search_id] = search = _Search(matches)
        page = search.matches[cursor : cursor + max_count]
        next_cursor = cursor + len(page)
        return ok(
            {
                "videos": [{k: v for k, v in video.items() if k in names} for video in page],
                "cursor": next_cursor,
                "has_more": next_cursor < len(search.matches),
                "search_id": search_id,
            }
        )

    def _comment_list(self, request: RecordedRequest) -> Reply:
        names = self._fields(request, COMMENT_FIELDS)
        if isinstance(names, Reply):
            return names
        body = self._json_body(request)
        if isinstance(body, Reply):
            return body
        video_id = body.get("video_id")
        if not isinstance(video_id, int) or video_id not in self.comments:
            return invalid("video_id must be the id of a public video.")
        max_count = body.get("max_count", 10)
        cursor = body.get("cursor", 0)
        if not isinstance(max_count, int) or not 1 <= max_count <= 100:
            return invalid("max_count must be between 1 and 100.")
        if not isinstance(cursor, int) or cursor < 0:
            return invalid("cursor must be a non-negative integer.")
        comments = self.comments[video_id]
        page = comments[cursor : cursor + max_count]
        next_cursor = cursor + len(page)
        return ok(
            {
                "comments": [{k: v for k, v in c.items() if k in names} for c in page],
                "cursor": next_cursor,
                "has_more": next_cursor < len(comments),
            }
        )

    def _creator_info(self, request: RecordedRequest) -> Reply:
        return ok(
            {
                "creator_avatar_url": "https://p16.tiktokcdn.example/avatar.jpeg",
                "creator_username": self.creator_username,
                "creator_nickname": "Ville Exemple",
                "privacy_level_options": list(self.privacy_level_options),
                "comment_disabled": False,
                "duet_disabled": False,
                "stitch_disabled": True,
                "max_video_post_duration_sec": 600,
            }
        )

    def _check_post_info(self, body: dict[str, Any], limit: int) -> Reply | None:
        info = body.get("post_info")
        if not isinstance(info, dict):
            return invalid("post_info is required.")
        if info.get("privacy_level") not in self.privacy_level_options:
            return invalid("privacy_level must be one of the creator's privacy_level_options.")
        title = info.get("title", "")
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > limit:
            return invalid(f"title is longer than {limit} UTF-16 runes.")
        return None

    def _video_init(self, request: RecordedRequest) -> Reply:
        body = self._json_body(request)
        if isinstance(body, Reply):
            return body
        refusal = self._check_post_info(body, 2200)
        if refusal is not None:
            return refusal
        source = body.get("source_info")
        if (
            not isinstance(source, dict)
            or source.get("source") != "PULL_FROM_URL"
            or not str(source.get("video_url", "")).startswith("https://")
        ):
            return invalid("source_info must be PULL_FROM_URL with a video_url.")
        return self._new_publish("video", body)

    def _content_init(self, request: RecordedRequest) -> Reply:
        body = self._json_body(request)
        if isinstance(body, Reply):
            return body
        if body.get("media_type") != "PHOTO":
            return invalid("media_type must be PHOTO.")
        if body.get("post_mode") not in ("DIRECT_POST", "MEDIA_UPLOAD"):
            return invalid("post_mode must be DIRECT_POST or MEDIA_UPLOAD.")
        refusal = self._check_post_info(body, 90)
        if refusal is not None:
            return refusal
        source = body.get("source_info")
        images = source.get("photo_images") if isinstance(source, dict) else None
        if (
            not isinstance(source, dict)
            or source.get("source") != "PULL_FROM_URL"
            or not isinstance(images, list)
            or not 1 <= len(images) <= 35
            or not isinstance(source.get("photo_cover_index"), int)
        ):
            return invalid("source_info must be PULL_FROM_URL with photo_images.")
        return self._new_publish("photo", body)

    def _new_publish(self, kind: str, body: dict[str, Any]) -> Reply:
        publish_id = f"v_pub_url~v2-1.{next(self._ids)}"
        self.publishes[publish_id] = _Publish(kind, body)
        return ok({"publish_id": publish_id})

    def _status_fetch(self, request: RecordedRequest) -> Reply:
        body = self._json_body(request)
        if isinstance(body, Reply):
            return body
        publish = self.publishes.get(str(body.get("publish_id")))
        if publish is None:
            return invalid("Invalid publish_id.")
        publish.polls += 1
        if publish.polls <= self.processing_polls:
            return ok({"status": "PROCESSING_DOWNLOAD", "uploaded_bytes": 0})
        if self.publish_fails:
            return ok({"status": "FAILED", "fail_reason": self.publish_fails})
        if not publish.post_id:
            publish.post_id = str(next(self._ids))
        return ok({"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [publish.post_id]})

    def _user_info(self, request: RecordedRequest) -> Reply:
        names = self._fields(
            request,
            frozenset({"open_id", "union_id", "avatar_url", "display_name", "username"}),
        )
        if isinstance(names, Reply):
            return names
        user = {
            "open_id": "-000ZZ-open-id",
            "union_id": "c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1",
            "avatar_url": "https://p16.tiktokcdn.example/avatar.jpeg",
            "display_name": "Ville Exemple",
            "username": self.creator_username,
        }
        return ok({"user": {k: v for k, v in user.items() if k in names}})

    # --- documented errors ------------------------------------------------------------------

    def refuse(
        self, path_prefix: str, status: int, code: str, message: str, times: int = 10
    ) -> None:
        """The next ``times`` requests to ``path_prefix`` get TikTok's error ``code``."""
        self.script(path_prefix, Reply(status, error_body(code, message)), times=times)


def _day(epoch: int) -> date:
    return datetime.fromtimestamp(epoch, tz=UTC).date()


def _matches(video: dict[str, Any], condition: dict[str, Any]) -> bool:
    values = [str(v).lower() for v in condition["field_values"]]
    name = condition["field_name"]
    if name == "keyword":
        return any(v in video["video_description"].lower() for v in values)
    if name == "hashtag_name":
        return any(v in [h.lower() for h in video["hashtag_names"]] for v in values)
    return str(video["username"]).lower() in values


def yyyymmdd(moment: date) -> str:
    return moment.strftime("%Y%m%d")


def days_ago(days: int) -> date:
    return (datetime.now(UTC) - timedelta(days=days)).date()
