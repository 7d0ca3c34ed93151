"""TikTok: listening through the Research API, publishing through the Content Posting API.

TikTok gives no public API to read or moderate the comments of an institution's own account.
Beffroi uses the two APIs it has:

- the **Research API** (only for organisations admitted to TikTok's research programme), with
  a *client* token (``client_key`` and ``client_secret``): public videos matching the
  ``keywords``, ``hashtags`` or ``usernames`` settings, and their comments;
- the **Content Posting API**, with the *user* token of the connected account
  (``access_token``, from the OAuth flow): publishing a video or photos.

A source may hold either set of credentials or both.

What a sync fetches
===================

One query per listened field, in this order: ``keyword`` (the ``keywords`` setting),
``hashtag_name`` (``hashtags``), ``username`` (``usernames``); each
``POST /v2/research/video/query/`` with ``{"query": {"and": [{"operation": "IN",
"field_name": ..., "field_values": [...]}]}, "start_date", "end_date", "max_count": 100}``.
TikTok allows at most 30 days between ``start_date`` and ``end_date``, so a query walks
windows of 30 days from its start date up to today (UTC), each paged with the ``search_id``
and ``cursor`` TikTok returns. After each page of videos, the comments of the page's videos
that have any are read (``POST /v2/research/video/comment/list/``, 100 a page). Videos are
POSTs; a comment whose ``parent_comment_id`` is the video is a COMMENT, any other a REPLY.
The Research API does not name the authors of comments: they get one anonymous author.

Cursor
======

``{"queries": {"<field_name>": {"values": <digest of the listened values>, "done_through":
"YYYYMMDD", "window": {"start", "end", "search_id", "cursor"}}}, "comments": {"pending":
[[video_id, username], ...], "cursor": n}}``. ``done_through`` is the last day of the last
window read to its end; ``window`` is the window in progress (its ``search_id`` and the
``cursor`` of the next page), so a resumed sync asks TikTok for the very next page of the
same search. ``comments.pending`` lists the videos of the last page whose comments are not
all read yet (``cursor``: the next comment page of the first one); a resumed sync finishes
them before going on. Every batch carries the whole cursor as it stands once the batch is
stored, so an interruption anywhere resumes without loss.

The first sync of a query reads the last ``history_days`` days (7 by default). Later syncs
start again at ``done_through``: that day is read again, because TikTok adds videos to the
Research API's index with a delay and the day may not have been over. Its videos and their
comments are therefore yielded again (items are unique per platform id downstream); within
one sync an id is yielded once. When the listened values of a field change, that query
starts afresh. Comments written after a video's window was last read are not fetched again.

Quotas
======

The Research API allows 1,000 requests and 100,000 records a day per research project
(reset at 00:00 UTC). ``rate_limit_exceeded`` (HTTP 429) closes the client for the wait
TikTok gives (``Retry-After``, else 60 s: its windows are one minute);
``daily_quota_limit_exceeded`` closes it until the next UTC midnight. The Content Posting
API allows per user token 20 creator-info queries, 6 post initialisations and 30 status
fetches a minute. The client token (valid 2 hours) is kept in the process until it expires
and requested again when TikTok says it is invalid.

Actions
=======

``publish``: ``POST /v2/post/publish/creator_info/query/`` (the privacy levels the account
allows; the ``privacy_level`` setting must be one of them), then one video (``POST
/v2/post/publish/video/init/``, ``source_info.source = PULL_FROM_URL``) or up to 35 photos
(``POST /v2/post/publish/content/init/``, ``media_type = PHOTO``) pulled by TikTok from
their public addresses, then ``POST /v2/post/publish/status/fetch/`` until
``PUBLISH_COMPLETE`` or ``FAILED`` (a bounded number of times: a post still in moderation
is reported as accepted). Replying, hiding, deleting and reporting are not possible: TikTok's
public APIs have no comment moderation.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final

import httpx

from beffroi.connectors.base import (
    Action,
    ActionResult,
    AuthError,
    AuthMethod,
    ConfigurationError,
    ConnectedAccount,
    ConnectorError,
    FetchBatch,
    FetchKind,
    ItemKind,
    MalformedPayload,
    Media,
    NormalizedAuthor,
    NormalizedItem,
    OAuthSpec,
    Option,
    RateLimited,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.http import (
    DEFAULT_RATE_WAIT,
    ApiClient,
    HttpConnector,
    HttpOptions,
    Verdict,
    require,
    retry_after_seconds,
    token_key,
)
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits

if TYPE_CHECKING:
    from typing_extensions import Unpack

DEFAULT_BASE_URL: Final = "https://open.tiktokapis.com"
LABEL: Final = "TikTok"
#: Fields asked of the Research API's video query.
VIDEO_FIELDS: Final = (
    "id,video_description,create_time,region_code,share_count,view_count,like_count,"
    "comment_count,music_id,hashtag_names,username,voice_to_text"
)
COMMENT_FIELDS: Final = "id,video_id,text,like_count,reply_count,parent_comment_id,create_time"
USER_FIELDS: Final = "open_id,union_id,display_name,username"
#: The listened fields, in the order a sync queries them, and the setting giving each.
QUERY_FIELDS: Final = (
    ("keyword", "keywords"),
    ("hashtag_name", "hashtags"),
    ("username", "usernames"),
)
PAGE_SIZE: Final = 100
#: TikTok allows at most 30 days between start_date and end_date.
WINDOW_DAYS: Final = 30
DEFAULT_HISTORY_DAYS: Final = 7
PRIVACY_LEVELS: Final = (
    "PUBLIC_TO_EVERYONE",
    "MUTUAL_FOLLOW_FRIENDS",
    "FOLLOWER_OF_CREATOR",
    "SELF_ONLY",
)
#: Longest title TikTok accepts, in UTF-16 code units (videos: title; photos: title).
VIDEO_TITLE_LIMIT: Final = 2200
PHOTO_TITLE_LIMIT: Final = 90
PHOTO_DESCRIPTION_LIMIT: Final = 4000
MAX_PHOTOS: Final = 35
#: Scope each family of endpoints needs, named in errors.
RESEARCH_SCOPE: Final = "research.data.basic"
PUBLISH_SCOPE: Final = "video.publish"
USER_SCOPE: Final = "user.info.profile"
#: The commenters the Research API does not name.
ANONYMOUS: Final = NormalizedAuthor(
    platform_id="tiktok:anonymous",
    handle="tiktok-anonymous",
    display_name="TikTok user (the Research API does not name commenters)",
)

_AUTH_CODES: Final = frozenset({"access_token_invalid", "access_token_expired"})
_SCOPE_CODES: Final = frozenset({"scope_not_authorized", "scope_permission_missed"})
_JSON: Final = {"Content-Type": "application/json; charset=UTF-8"}


#: What TikTok accepts in a post (see docs/publishing-limits.md).
POST_LIMITS: Final = PostLimits(
    platform="tiktok",
    label=LABEL,
    max_length=VIDEO_TITLE_LIMIT,
    counting=Counting.UTF16,
    requires_media=True,
    media=MediaLimits(
        kinds=frozenset({"image", "video"}),
        max_count=MAX_PHOTOS,
        image_types=frozenset({"image/jpeg", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
        max_image_bytes=20_000_000,
        max_video_bytes=4_000_000_000,
        max_video_seconds=600,
        alone_kinds=frozenset({"video"}),
    ),
    notes=(
        "Content Posting API: a video's caption (its title) of 2,200 UTF-16 runes; a photo "
        "post's title (the first line, cut by Beffroi) of 90 and description of 4,000. One "
        "video (MP4, WebM or MOV, 4 GB) or up to 35 photos (JPEG or WebP, 20 MB), never "
        "both. 10 minutes is the longest any creator may post; the creator_info query says "
        "each account's own maximum (often 3 minutes). No alt text and no comment through "
        "the API."
    ),
    sources=(
        "https://developers.tiktok.com/doc/content-posting-api-reference-direct-post",
        "https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide",
    ),
)


def _split(value: object) -> list[str]:
    """Values separated by commas or new lines (a leading ``#``/``@`` dropped), deduplicated."""
    if not isinstance(value, str):
        return []
    found: dict[str, None] = {}
    for part in value.replace("\n", ",").split(","):
        cleaned = part.strip().lstrip("#@").strip()
        if cleaned:
            found.setdefault(cleaned, None)
    return list(found)


def video_url(username: str, video_id: str) -> str:
    """The link back to a video (TikTok resolves it whatever the handle when it is unknown)."""
    return f"https://www.tiktok.com/@{username}/video/{video_id}"


def _until_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    return max(1.0, (midnight - now).total_seconds())


def _scope_for(path: str) -> str:
    if "/research/" in path:
        return RESEARCH_SCOPE
    if "/user/info/" in path:
        return USER_SCOPE
    return PUBLISH_SCOPE


def classify(response: httpx.Response) -> Verdict:
    """TikTok's answer as a :class:`Verdict`, from its documented error bodies.

    v2 endpoints answer ``{"error": {"code", "message", "log_id"}}`` (``code`` ``ok`` on
    success); the OAuth token endpoint answers ``{"error", "error_description", "log_id"}``.
    """
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):  # the OAuth shape
        return Verdict(_oauth_error(error, body))
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = str(error.get("message") or "") if isinstance(error, dict) else ""
    log_id = str(error.get("log_id") or "") if isinstance(error, dict) else ""
    if status < 400 and code in ("", "ok"):
        return Verdict()
    detail = f" TikTok said: {message}" if message else ""
    support = f" (log id {log_id})" if log_id else ""
    if code in _AUTH_CODES:
        todo = (
            "check the research project's client key and secret in the source"
            if "/research/" in response.request.url.path
            else "it was revoked or has expired; reconnect the account in Beffroi"
        )
        return Verdict(AuthError(f"{LABEL} refused the access token ({code}): {todo}.{support}"))
    if code in _SCOPE_CODES:
        scope = _scope_for(response.request.url.path)
        what = (
            "the research project is not approved for the Research API, or this scope is not "
            "granted to it"
            if scope == RESEARCH_SCOPE
            else "reconnect the account in Beffroi and grant every requested permission"
        )
        return Verdict(
            AuthError(
                f"{LABEL} refused the request: the permission '{scope}' is missing ({code}); "
                f"{what}.{detail}{support}"
            )
        )
    if code == "daily_quota_limit_exceeded":
        until_midnight = _until_utc_midnight()
        return Verdict(
            RateLimited(
                f"{LABEL}: the daily quota of the Research API is spent (1,000 requests and "
                f"100,000 records a day); it resets at 00:00 UTC.{support}",
                until_midnight,
            ),
            until_midnight,
        )
    if code == "rate_limit_exceeded" or status == 429:
        wait = retry_after_seconds(response.headers, DEFAULT_RATE_WAIT)
        return Verdict(
            RateLimited(f"{LABEL} asked to slow down (rate_limit_exceeded).{support}", wait),
            wait,
        )
    if code == "internal_error" or status >= 500:
        return Verdict(
            TransientError(
                f"{LABEL} failed (HTTP {status}, {code or 'no error code'}); it will be "
                f"retried.{support}"
            )
        )
    if code in ("invalid_params", "invalid_file_upload"):
        return Verdict(
            ConfigurationError(
                f"{LABEL} refused the request's parameters ({code}).{detail}{support}"
            )
        )
    if status in (401, 403):
        return Verdict(
            AuthError(
                f"{LABEL} refused the credentials (HTTP {status}); reconnect the account in "
                f"Beffroi.{support}"
            )
        )
    return Verdict(
        MalformedPayload(
            f"{LABEL} answered an error it does not document (HTTP {status}, "
            f"{code or 'no error code'}).{detail}{support}"
        )
    )


def _oauth_error(error: str, body: Mapping[str, Any]) -> ConnectorError:
    description = str(body.get("error_description") or "")
    log_id = str(body.get("log_id") or "")
    support = f" (log id {log_id})" if log_id else ""
    if error in ("invalid_client", "unauthorized_client", "invalid_grant", "access_denied"):
        return AuthError(
            f"{LABEL} refused the client key and secret ({error}): check the research "
            f"client's credentials in the source.{support}"
        )
    return ConfigurationError(
        f"{LABEL} refused the token request ({error}): {description}{support}"
    )


class _ClientTokens:
    """Research client tokens kept in the process until they expire (TikTok: 2 hours)."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            token, until = self._tokens.get(key, ("", 0.0))
            return token if token and time.monotonic() < until else None

    def put(self, key: str, token: str, expires_in: float) -> None:
        with self._lock:
            # A minute early, so that a token never expires between the check and the call.
            self._tokens[key] = (token, time.monotonic() + max(0.0, expires_in - 60.0))

    def drop(self, key: str) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        """Forget every token (tests)."""
        with self._lock:
            self._tokens.clear()


#: The process-wide client tokens.
CLIENT_TOKENS = _ClientTokens()


class TikTokConnector(HttpConnector):
    """Public TikTok videos and comments (Research API) and publishing (Content Posting API)."""

    platform: ClassVar[str] = "tiktok"
    label: ClassVar[str] = LABEL
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.SEARCH, FetchKind.COMMENTS})
    actions: ClassVar[frozenset[Action]] = frozenset({Action.PUBLISH})
    auth: ClassVar[AuthMethod] = AuthMethod.OAUTH2
    oauth: ClassVar[OAuthSpec | None] = OAuthSpec(
        authorize_url="https://www.tiktok.com/v2/auth/authorize/",
        token_url="https://open.tiktokapis.com/v2/oauth/token/",  # noqa: S106 (an address)
        # user.info.profile: /v2/user/info/ gives the username only with it.
        scopes=("user.info.basic", "user.info.profile", "video.publish"),
        scope_separator=",",
        client_id_param="client_key",
        # TikTok asks for PKCE from desktop and mobile apps only; Beffroi is a web app.
        pkce=False,
    )
    options: ClassVar[Mapping[str, Option]] = {
        "keywords": Option(
            label="Keywords",
            required=False,
            help="Words to listen to in video descriptions (Research API), separated by commas.",
        ),
        "hashtags": Option(
            label="Hashtags",
            required=False,
            help="Hashtags to listen to (Research API), separated by commas, without '#'.",
        ),
        "usernames": Option(
            label="Accounts",
            required=False,
            help="TikTok usernames whose videos to follow (Research API), separated by commas.",
        ),
        "history_days": Option(
            label="Days of history",
            required=False,
            help="How many days back the first sync reads (default 7).",
            default=str(DEFAULT_HISTORY_DAYS),
        ),
        "privacy_level": Option(
            label="Privacy of published posts",
            required=False,
            help=(
                "PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR or SELF_ONLY; "
                "must be one the account allows (default PUBLIC_TO_EVERYONE)."
            ),
            default="PUBLIC_TO_EVERYONE",
        ),
        "base_url": Option(
            label="API address",
            required=False,
            help="TikTok's API base URL (default https://open.tiktokapis.com).",
            default=DEFAULT_BASE_URL,
        ),
        "open_id": Option(
            label="Account id",
            required=False,
            help="The connected account's open_id (set when the account is connected).",
        ),
        "username": Option(
            label="Account username",
            required=False,
            help="The connected account's username (set when the account is connected).",
        ),
        "client_key": Option(
            label="Research client key",
            required=False,
            secret=True,
            help="Client key of the research project admitted to TikTok's Research API.",
        ),
        "client_secret": Option(
            label="Research client secret",
            required=False,
            secret=True,
            help="Client secret of the research project.",
        ),
        "access_token": Option(
            label="Access token",
            required=False,
            secret=True,
            help="The connected account's user token (from connecting the account), to publish.",
        ),
    }
    not_supported: ClassVar[Mapping[str, str]] = {
        str(Action.REPLY): "TikTok's public APIs cannot post comments or replies.",
        str(Action.HIDE): "TikTok's public APIs give no comment moderation (hiding comments).",
        str(Action.UNHIDE): "TikTok's public APIs give no comment moderation.",
        str(Action.DELETE): "TikTok's public APIs cannot delete comments or videos.",
        str(Action.REPORT): "TikTok's public APIs give no way to report content.",
        str(Action.PRIVATE_REPLY): "TikTok's public APIs give no access to direct messages.",
        str(Action.EDIT): "TikTok's public APIs cannot change a published post.",
    }
    setup_doc: ClassVar[str] = "connectors/tiktok.md"

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        poll_interval: float = 3.0,
        poll_attempts: int = 10,
        transport: httpx.BaseTransport | None = None,
        **http: Unpack[HttpOptions],
    ) -> None:
        super().__init__(settings, credentials, **http)
        self.base_url = str(self.settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        self.poll_interval, self.poll_attempts = poll_interval, poll_attempts
        self._client_options: dict[str, Any] = {
            "label": LABEL,
            "classify": classify,
            "transport": transport,
            **self.http_options,
        }
        self._research: ApiClient | None = None
        self._user: ApiClient | None = None
        #: Video id -> author username, for the link back of comments.
        self._authors: dict[str, str] = {}

    # --- options ---------------------------------------------------------------------------

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """At least one usable set: research client (with something to listen to) or a user
        token; each set complete."""
        super().validate_options(settings, credentials)
        has_key, has_secret = (
            bool(credentials.get("client_key")),
            bool(credentials.get("client_secret")),
        )
        listens = any(_split(settings.get(name)) for _, name in QUERY_FIELDS)
        if has_key != has_secret:
            raise ConfigurationError(
                f"{cls.label}: the Research API needs both the client key and the client secret "
                "of the research project."
            )
        if has_key and not listens:
            raise ConfigurationError(
                f"{cls.label}: say what to listen to with the Research API: keywords, hashtags "
                "or usernames."
            )
        if listens and not has_key:
            raise ConfigurationError(
                f"{cls.label}: listening to keywords, hashtags or usernames needs the client key "
                "and client secret of a research project admitted to TikTok's Research API."
            )
        if not has_key and not credentials.get("access_token"):
            raise ConfigurationError(
                f"{cls.label}: give the research project's client key and secret (to listen), "
                "or connect the account (to publish), or both."
            )
        history = settings.get("history_days")
        if history not in (None, ""):
            try:
                days = int(str(history))
            except ValueError:
                days = -1
            if not 1 <= days <= 365:
                raise ConfigurationError(
                    f"{cls.label}: history_days must be a whole number of days from 1 to 365."
                )
        privacy = settings.get("privacy_level")
        if privacy not in (None, "") and privacy not in PRIVACY_LEVELS:
            raise ConfigurationError(
                f"{cls.label}: privacy_level must be one of {', '.join(PRIVACY_LEVELS)}."
            )

    @property
    def history_days(self) -> int:
        return int(str(self.settings.get("history_days") or DEFAULT_HISTORY_DAYS))

    # --- clients ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the clients opened by a sync or a publication."""
        for client in (self._research, self._user):
            if client is not None:
                client.close()
        self._research = self._user = None

    def _research_key(self) -> str:
        client_key = str(self.credentials.get("client_key") or "")
        return token_key("tiktok", f"{self.base_url}\0{client_key}")

    def _research_client(self) -> ApiClient:
        if self._research is None:
            self._research = ApiClient(
                self.base_url, key=self._research_key(), **self._client_options
            )
        return self._research

    def _user_client(self) -> ApiClient:
        token = self.credentials.get("access_token")
        if not token:
            raise ConfigurationError(
                f"{LABEL}: publishing needs the account to be connected (no access token)."
            )
        if self._user is None:
            self._user = ApiClient(
                self.base_url,
                key=token_key("tiktok", str(token)),
                headers={"Authorization": f"Bearer {token}"},
                **self._client_options,
            )
        return self._user

    def _client_token(self) -> str:
        """The research client token, from the process cache or TikTok's token endpoint."""
        key = self._research_key()
        cached = CLIENT_TOKENS.get(key)
        if cached:
            return cached
        answer = self._research_client().post(
            "/v2/oauth/token/",
            data={
                "client_key": self.credentials["client_key"],
                "client_secret": self.credentials["client_secret"],
                "grant_type": "client_credentials",
            },
            headers={"Cache-Control": "no-cache"},
            create=False,
        )
        answer = require(answer, dict, LABEL, "the token answer")
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int | float):
            raise MalformedPayload(f"{LABEL}: the token answer has no access_token/expires_in.")
        CLIENT_TOKENS.put(key, token, float(expires_in))
        return token

    def _research_post(self, path: str, fields: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """One Research API call; a refused client token is renewed once."""
        for attempt in (1, 2):
            token = self._client_token()
            try:
                answer = self._research_client().post(
                    path,
                    params={"fields": fields},
                    json=dict(body),
                    headers={"Authorization": f"Bearer {token}", **_JSON},
                    create=False,  # a query: reading only
                )
            except AuthError:
                CLIENT_TOKENS.drop(self._research_key())
                if attempt == 2:
                    raise
                continue
            return _data(answer)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Yield videos and comments per page; see the module's docstring for the cursor."""
        if not self.credentials.get("client_key"):
            return  # a publish-only source has nothing to read
        state = _copy_state(cursor)
        seen: set[str] = set()
        yield from self._drain_comments(state, seen)
        today = datetime.now(UTC).date()
        for field_name, setting in QUERY_FIELDS:
            values = _split(self.settings.get(setting))
            if not values:
                state["queries"].pop(field_name, None)
                continue
            yield from self._run_query(state, field_name, values, today, seen)

    def _run_query(
        self,
        state: dict[str, Any],
        field_name: str,
        values: list[str],
        today: date,
        seen: set[str],
    ) -> Iterator[FetchBatch]:
        digest = hashlib.sha256(json.dumps(sorted(values)).encode()).hexdigest()[:16]
        query = state["queries"].get(field_name)
        if not isinstance(query, dict) or query.get("values") != digest:
            query = {"values": digest}
            state["queries"][field_name] = query
        while True:
            window = query.get("window")
            if not isinstance(window, dict):
                start = _next_start(query.get("done_through"), today, self.history_days)
                if start is None:
                    return
                end = min(start + timedelta(days=WINDOW_DAYS - 1), today)
                window = {"start": _day(start), "end": _day(end), "search_id": "", "cursor": 0}
                query["window"] = window
            body: dict[str, Any] = {
                "query": {
                    "and": [{"operation": "IN", "field_name": field_name, "field_values": values}]
                },
                "start_date": window["start"],
                "end_date": window["end"],
                "max_count": PAGE_SIZE,
            }
            if window.get("search_id"):
                body["search_id"] = window["search_id"]
                body["cursor"] = int(window.get("cursor") or 0)
            try:
                data = self._research_post("/v2/research/video/query/", VIDEO_FIELDS, body)
            except ConfigurationError:
                if not window.get("search_id"):
                    raise
                # A search TikTok no longer knows (it expires): read the window again.
                window["search_id"], window["cursor"] = "", 0
                continue
            videos = require(data.get("videos", []), list, LABEL, "data.videos")
            items = []
            pending = []
            for raw in videos:
                item = self.map_item(require(raw, dict, LABEL, "a video"), ItemKind.POST)
                if item.platform_id in seen:
                    continue
                seen.add(item.platform_id)
                items.append(item)
                if _count(raw.get("comment_count")):
                    pending.append([item.platform_id, item.author.handle])
            if data.get("has_more") and videos:
                window["search_id"] = str(data.get("search_id") or window.get("search_id") or "")
                window["cursor"] = _int(data.get("cursor"), "data.cursor")
            else:
                query["done_through"] = window["end"]
                query.pop("window", None)
            state["comments"] = {"pending": pending, "cursor": 0}
            yield FetchBatch(items=items, cursor=_snapshot(state))
            yield from self._drain_comments(state, seen)
            if query.get("done_through", "") >= _day(today) and "window" not in query:
                return  # read up to today

    def _drain_comments(self, state: dict[str, Any], seen: set[str]) -> Iterator[FetchBatch]:
        """Read the comments of the pending videos, one page per batch."""
        comments = state["comments"]
        while comments["pending"]:
            video_id, username = comments["pending"][0]
            self._authors[str(video_id)] = str(username)
            data = self._research_post(
                "/v2/research/video/comment/list/",
                COMMENT_FIELDS,
                {"video_id": int(video_id), "max_count": PAGE_SIZE, "cursor": comments["cursor"]},
            )
            page = require(data.get("comments", []), list, LABEL, "data.comments")
            items = []
            for raw in page:
                item = self.map_item(require(raw, dict, LABEL, "a comment"), ItemKind.COMMENT)
                if item.platform_id not in seen:
                    seen.add(item.platform_id)
                    items.append(item)
            if data.get("has_more") and page:
                comments["cursor"] = _int(data.get("cursor"), "data.cursor")
            else:
                comments["pending"] = comments["pending"][1:]
                comments["cursor"] = 0
            yield FetchBatch(items=items, cursor=_snapshot(state))

    # --- mapping ---------------------------------------------------------------------------

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A Research API video (POST) or comment (COMMENT or REPLY, from its parent)."""
        try:
            item_id = _ident(raw.get("id"))
            created_at = datetime.fromtimestamp(int(raw["create_time"]), tz=UTC)
        except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
            raise MalformedPayload(f"{LABEL}: an item has no valid id or create_time.") from exc
        metrics = {
            name: n
            for name, key in (
                ("likes", "like_count"),
                ("shares", "share_count"),
                ("views", "view_count"),
                ("replies", "comment_count" if kind is ItemKind.POST else "reply_count"),
            )
            if (n := _count(raw.get(key))) is not None
        }
        if kind is ItemKind.POST:
            username = str(raw.get("username") or "")
            self._authors[item_id] = username
            text = str(raw.get("video_description") or "")
            author = NormalizedAuthor(
                platform_id=username,
                handle=username,
                url=f"https://www.tiktok.com/@{username}" if username else "",
            )
            return NormalizedItem(
                platform_id=item_id,
                kind=ItemKind.POST,
                text=text,
                created_at=created_at,
                author=author,
                thread_id=item_id,
                url=video_url(username, item_id),
                media=(Media(kind="video", url=video_url(username, item_id)),),
                metrics=metrics,
                raw=dict(raw),
            )
        try:
            video_id = _ident(raw.get("video_id"))
        except (TypeError, ValueError) as exc:
            raise MalformedPayload(f"{LABEL}: a comment has no valid video_id.") from exc
        parent = raw.get("parent_comment_id")
        parent_id = video_id if parent in (None, "", 0, "0") else str(parent)
        return NormalizedItem(
            platform_id=item_id,
            kind=ItemKind.COMMENT if parent_id == video_id else ItemKind.REPLY,
            text=str(raw.get("text") or ""),
            created_at=created_at,
            author=ANONYMOUS,
            thread_id=video_id,
            parent_id=parent_id,
            # TikTok has no address for a comment: the link is its video's.
            url=video_url(self._authors.get(video_id, ""), video_id),
            metrics=metrics,
            raw=dict(raw),
        )

    # --- publishing ------------------------------------------------------------------------

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Post a video or photos (pulled by TikTok from their public https addresses)."""
        videos = [m for m in media if m.kind == "video"]
        images = [m for m in media if m.kind == "image"]
        if not media:
            raise UnsupportedAction(
                f"{LABEL} posts are videos or photos: attach one video or up to "
                f"{MAX_PHOTOS} images."
            )
        if len(videos) + len(images) != len(media) or (videos and (images or len(videos) > 1)):
            raise UnsupportedAction(
                f"{LABEL} posts one video or up to {MAX_PHOTOS} images, not a mix."
            )
        if len(images) > MAX_PHOTOS:
            raise UnsupportedAction(f"{LABEL} photo posts hold at most {MAX_PHOTOS} images.")
        for attachment in media:
            if not attachment.url.startswith("https://"):
                raise ConfigurationError(
                    f"{LABEL} pulls media from public https addresses (on a domain verified in "
                    "the TikTok app's settings); this attachment has none."
                )
        client = self._user_client()
        creator = _data(
            client.post("/v2/post/publish/creator_info/query/", headers=_JSON, create=False)
        )
        options = require(
            creator.get("privacy_level_options", []), list, LABEL, "privacy_level_options"
        )
        privacy = str(self.settings.get("privacy_level") or "PUBLIC_TO_EVERYONE")
        if privacy not in options:
            raise ConfigurationError(
                f"{LABEL}: this account cannot publish with privacy '{privacy}'; it allows "
                f"{', '.join(map(str, options)) or 'nothing'} (set the privacy_level setting)."
            )
        interactions = {"disable_comment": bool(creator.get("comment_disabled"))}
        if videos:
            path = "/v2/post/publish/video/init/"
            body: dict[str, Any] = {
                "post_info": {
                    "title": _truncate_utf16(text, VIDEO_TITLE_LIMIT),
                    "privacy_level": privacy,
                    **interactions,
                    "disable_duet": bool(creator.get("duet_disabled")),
                    "disable_stitch": bool(creator.get("stitch_disabled")),
                },
                "source_info": {"source": "PULL_FROM_URL", "video_url": videos[0].url},
            }
        else:
            path = "/v2/post/publish/content/init/"
            body = {
                "post_info": {
                    "title": _truncate_utf16(text.split("\n", 1)[0], PHOTO_TITLE_LIMIT),
                    "description": _truncate_utf16(text, PHOTO_DESCRIPTION_LIMIT),
                    "privacy_level": privacy,
                    **interactions,
                    "auto_add_music": True,
                },
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_images": [image.url for image in images],
                    "photo_cover_index": 0,
                },
                "post_mode": "DIRECT_POST",
                "media_type": "PHOTO",
            }
        init = _data(client.post(path, json=body, headers=_JSON))
        publish_id = init.get("publish_id")
        if not isinstance(publish_id, str) or not publish_id:
            raise MalformedPayload(f"{LABEL}: the post initialisation gave no publish_id.")
        return self._await_publication(client, publish_id)

    def _await_publication(self, client: ApiClient, publish_id: str) -> ActionResult:
        """Poll the post's status a bounded number of times."""
        status: dict[str, Any] = {}
        for attempt in range(self.poll_attempts):
            if attempt:
                time.sleep(self.poll_interval)
            status = _data(
                client.post(
                    "/v2/post/publish/status/fetch/",
                    json={"publish_id": publish_id},
                    headers=_JSON,
                    create=False,
                )
            )
            state = status.get("status")
            raw = {"publish_id": publish_id, **status}
            if state == "FAILED":
                return ActionResult(
                    ok=False,
                    detail=f"{LABEL} refused the post: {status.get('fail_reason') or 'no reason'}.",
                    raw=raw,
                )
            if state == "PUBLISH_COMPLETE":
                # TikTok's field name, misspelt as documented.
                post_ids = status.get("publicaly_available_post_id") or []
                post_id = str(post_ids[0]) if isinstance(post_ids, list) and post_ids else None
                detail = (
                    f"Published: {video_url(str(self.settings.get('username') or ''), post_id)}"
                    if post_id
                    else "Published (TikTok gives no public id for a private post)."
                )
                return ActionResult(ok=True, platform_id=post_id, detail=detail, raw=raw)
        return ActionResult(
            ok=True,
            detail=(
                f"{LABEL} accepted the post and is still processing or moderating it "
                f"(publish id {publish_id}); it appears on the account once done."
            ),
            raw={"publish_id": publish_id, **status},
        )

    # --- accounts --------------------------------------------------------------------------

    @classmethod
    def accounts_from_token(
        cls, token: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[ConnectedAccount]:
        """The account the user token belongs to: ``open_id`` and ``username`` settings."""
        access_token = token.get("access_token")
        if not access_token:
            raise AuthError(f"{LABEL}: the OAuth answer has no access token.")
        base_url = str(settings.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        with ApiClient(
            base_url,
            label=LABEL,
            key=token_key("tiktok", str(access_token)),
            classify=classify,
            headers={"Authorization": f"Bearer {access_token}"},
        ) as client:
            data = _data(client.get("/v2/user/info/", params={"fields": USER_FIELDS}))
        user = require(data.get("user"), dict, LABEL, "data.user")
        open_id = str(user.get("open_id") or token.get("open_id") or "")
        username = str(user.get("username") or "")
        if not open_id:
            raise MalformedPayload(f"{LABEL}: the user info has no open_id.")
        credentials = {
            key: token[key]
            for key in ("access_token", "refresh_token", "expires_at", "scope")
            if token.get(key) not in (None, "")
        }
        name = f"@{username}" if username else str(user.get("display_name") or LABEL)
        return [
            ConnectedAccount(
                name=name,
                settings={**dict(settings), "open_id": open_id, "username": username},
                credentials=credentials,
            )
        ]


# --- helpers -------------------------------------------------------------------------------


def _data(answer: Any) -> dict[str, Any]:
    """The ``data`` object of a v2 answer."""
    body = require(answer, dict, LABEL, "the answer")
    return require(body.get("data"), dict, LABEL, "data")


def _ident(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise ValueError("not an id")
    return str(value).strip()


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedPayload(f"{LABEL}: {what} is not a non-negative integer as documented.")
    return value


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _day(moment: date) -> str:
    return moment.strftime("%Y%m%d")


def _next_start(done_through: object, today: date, history_days: int) -> date | None:
    """Where a query's next window starts (None: nothing left to read today)."""
    if isinstance(done_through, str) and done_through:
        try:
            last = datetime.strptime(done_through, "%Y%m%d").date()
        except ValueError:
            last = None
        if last is not None:
            # The last day read is read again: it may not have been over, and TikTok indexes
            # videos with a delay. A window ending today already did that in this sync.
            return last if last <= today else None
    return today - timedelta(days=history_days)


def _copy_state(cursor: Mapping[str, Any]) -> dict[str, Any]:
    queries = cursor.get("queries")
    comments = cursor.get("comments")
    pending = comments.get("pending") if isinstance(comments, dict) else None
    return {
        "queries": json.loads(json.dumps(queries)) if isinstance(queries, dict) else {},
        "comments": {
            "pending": [
                [str(p[0]), str(p[1])]
                for p in (pending if isinstance(pending, list) else [])
                if isinstance(p, list) and len(p) == 2
            ],
            "cursor": int(comments.get("cursor") or 0) if isinstance(comments, dict) else 0,
        },
    }


def _snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the state, so that a stored cursor does not change with the next pages."""
    copied: dict[str, Any] = json.loads(json.dumps(state))
    return copied


def _truncate_utf16(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 code units (how TikTok counts), on a character."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        size = len(char.encode("utf-16-le")) // 2
        if used + size > limit:
            break
        kept.append(char)
        used += size
    return "".join(kept)


__all__: Sequence[str] = ("CLIENT_TOKENS", "TikTokConnector", "classify", "video_url")
