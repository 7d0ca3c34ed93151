"""What the Facebook and Instagram connectors share: Meta's Graph API.

- :data:`GRAPH_VERSION` and :data:`DEFAULT_BASE_URL`: every request goes to
  ``{base_url}/{GRAPH_VERSION}/...`` with the token in an ``Authorization: Bearer`` header
  (never in the address, so that it cannot end up in a log line).
- :func:`classify` reads Graph's documented error body ``{"error": {"message", "type",
  "code", "error_subcode", "fbtrace_id"}}`` and its usage headers: code 190 (and 102) is an
  expired or revoked token, 10 and 200-299 a missing permission, 4, 17, 32, 613 and
  80001-80014 throttling, 100 with subcode 33 a vanished object, 1 and 2 (and HTTP 5xx) a
  passing failure; Meta declining an answer (10900, a comment already answered in private;
  10 with subcode 2018278, a Messenger answer outside the 24-hour window) is a refusal. ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` give the percentage of
  the window spent; at 100 the token is closed in the rate gate, even on a 200, for
  ``estimated_time_to_regain_access`` (minutes) when Meta says, else
  :data:`DEFAULT_THROTTLE_WAIT`.
- :func:`iter_pages` walks Graph's cursor pagination (``paging.cursors.after`` while
  ``paging.next`` is present).
- :class:`Watermark` and :func:`replay_batches`: a stream read newest-first (Graph's order)
  is replayed oldest-first in batches whose cursor is "everything up to this time, and these
  ids at that very second", so a batch's cursor can be stored as soon as it is ingested.
- :data:`META_OAUTH` and :func:`pages_from_token`: Facebook Login, the exchange of the user
  token for a long-lived one (whose Page tokens do not expire) and the Pages it manages.
- :func:`verify_signature` and :func:`verify_subscription`: the two halves of Meta's
  webhooks (the ``X-Hub-Signature-256`` of a delivery and the GET handshake).
- :func:`message_media` and :func:`unshimmed`: what Messenger and Instagram messages share
  (``attachments{mime_type,name,image_data,video_data,file_url}`` and ``sticker``), and the
  address behind Meta's ``l.facebook.com/l.php?u=`` link shim.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx

from beffroi.connectors.base import (
    OWN_POSTS_LIMIT,
    AuthError,
    AuthMethod,
    ConfigurationError,
    ConnectorError,
    FetchBatch,
    MalformedPayload,
    Media,
    NormalizedItem,
    NotFound,
    OAuthSpec,
    Option,
    OwnPost,
    RateLimited,
    Refused,
    TransientError,
    history_days_option,
)
from beffroi.connectors.http import (
    ApiClient,
    HttpConnector,
    HttpOptions,
    Verdict,
    default_classify,
    require,
    token_key,
)
from beffroi.connectors.values import api_base_url, parse_time, positive_int, web_address

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")

#: The Graph API version every request names.
GRAPH_VERSION = "v21.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"
#: Seconds a throttled token stays closed when Meta gives no estimate (its windows roll
#: over an hour; asking again at once is what gets an app blocked).
DEFAULT_THROTTLE_WAIT = 300.0
#: Usage percentage at which Meta starts refusing calls.
FULL_USAGE = 100

#: Facebook Login for Business, for both connectors: one consent gives the Pages and their
#: Instagram professional accounts. Meta gives no refresh token: a long-lived user token is
#: exchanged for Page tokens that do not expire.
#: Days read back on a first sync, and items asked per page (Graph allows up to 100).
DEFAULT_HISTORY_DAYS = 30
PAGE_SIZE = 25

META_OAUTH = OAuthSpec(
    authorize_url=f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth",
    token_url=f"{DEFAULT_BASE_URL}/{GRAPH_VERSION}/oauth/access_token",
    scopes=(
        "pages_show_list",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
        "pages_manage_posts",
        "pages_manage_metadata",
        "pages_messaging",
        "instagram_basic",
        "instagram_manage_comments",
        "instagram_content_publish",
        "instagram_manage_messages",
        "business_management",
    ),
    scope_separator=",",
    refreshable=False,
)

_THROTTLING = frozenset({4, 17, 32, 613, *range(80001, 80015)})
_PERMISSION_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
#: Meta's tokens start with EAA; they never belong in a message.
_TOKEN_LIKE = re.compile(r"EAA[A-Za-z0-9]{10,}|access_token=[^&\s]+")
_AUTH_SUBCODES = {
    458: "the app was removed from the account",
    459: "the user must log in to Facebook to confirm their account",
    460: "the password of the account that connected it was changed",
    463: "the token has expired",
    464: "the user is not confirmed",
    467: "the token is no longer valid (the user logged out or revoked it)",
    492: "the user lost their role on the Page",
}
#: Code 10's subcode for a Messenger answer outside the 24-hour window (not a permission).
_OUTSIDE_WINDOW = 2018278
#: A comment already answered in private (Meta allows one private reply per comment).
_ALREADY_REPLIED = 10900


# --- settings --------------------------------------------------------------------------------

#: The settings both Graph connectors declare after their account id and token.
GRAPH_OPTIONS: Mapping[str, Option] = {
    "base_url": Option(
        label="Graph API address",
        required=False,
        default=DEFAULT_BASE_URL,
        help="Leave empty to use https://graph.facebook.com",
    ),
    "history_days": history_days_option(DEFAULT_HISTORY_DAYS),
}


def normalise_base_url(value: Any, label: str) -> str:
    """``https://host[:port]`` of the Graph API (default the real one), or ConfigurationError."""
    return api_base_url(value, label, DEFAULT_BASE_URL, keep_path=True)


# --- errors ---------------------------------------------------------------------------------


def scrub(text: str, limit: int = 300) -> str:
    """``text`` without anything that looks like a token, cut to ``limit`` characters."""
    return _TOKEN_LIKE.sub("[redacted]", text)[:limit]


def _usage_percent(usage: Mapping[str, Any]) -> float:
    values = [usage.get(k) for k in ("call_count", "total_cputime", "total_time")]
    return max((float(v) for v in values if isinstance(v, int | float)), default=0.0)


def usage_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds to keep the token closed when a usage header says 100 %, else None.

    ``X-App-Usage`` (and ``X-Page-Usage``) hold ``{"call_count", "total_cputime",
    "total_time"}`` percentages; ``X-Business-Use-Case-Usage`` holds, per business object, a
    list of the same with ``estimated_time_to_regain_access`` in minutes.
    """
    headers = {name.lower(): value for name, value in headers.items()}
    waits: list[float] = []
    spent = False
    for name in ("x-app-usage", "x-page-usage"):
        usage = _json_header(headers.get(name))
        if isinstance(usage, Mapping) and _usage_percent(usage) >= FULL_USAGE:
            spent = True
    buc = _json_header(headers.get("x-business-use-case-usage"))
    if isinstance(buc, Mapping):
        for entries in buc.values():
            for usage in entries if isinstance(entries, list) else []:
                if not isinstance(usage, Mapping):
                    continue
                minutes = usage.get("estimated_time_to_regain_access")
                if isinstance(minutes, int | float) and minutes > 0:
                    waits.append(float(minutes) * 60.0)
                if _usage_percent(usage) >= FULL_USAGE:
                    spent = True
    if waits:
        return max(waits)
    return DEFAULT_THROTTLE_WAIT if spent else None


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _permission_of(message: str) -> str:
    names = [n for n in _PERMISSION_NAME.findall(message) if n in META_OAUTH.scopes]
    if names:
        return ", ".join(dict.fromkeys(names))
    return "the permission this call needs"


def classify(response: httpx.Response, label: str) -> Verdict:
    """What a Graph answer means (see the module docstring)."""
    close_for = usage_wait(response.headers)
    error = _graph_error(response)
    if error is None:
        if response.status_code >= 500:
            return Verdict(
                TransientError(
                    f"{label} failed (HTTP {response.status_code}); it will be retried."
                ),
                close_for,
            )
        if response.status_code >= 400:
            return default_classify(response, label)
        return Verdict(None, close_for)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    said = scrub(str(error.get("message") or ""))
    trace = error.get("fbtrace_id")
    where = f" (fbtrace_id {trace})" if isinstance(trace, str) and trace else ""
    if code in (190, 102):
        reason = _AUTH_SUBCODES.get(subcode or 0, "the token has expired or was revoked")
        return Verdict(
            AuthError(
                f"{label} refused the access token: {reason}. Reconnect the account in "
                f"Beffroi (Sources, Reconnect).{where}"
            )
        )
    if code in _THROTTLING:
        wait = close_for if close_for is not None else DEFAULT_THROTTLE_WAIT
        return Verdict(
            RateLimited(
                f"{label} rate limit reached (Graph error {code}: {said}); "
                f"access comes back in about {wait / 60:.0f} min.",
                wait,
            ),
            wait,
        )
    if code == 10 and subcode == _OUTSIDE_WINDOW:
        return Verdict(
            Refused(
                f"{label}: the person last wrote more than 24 hours ago; Messenger only lets a "
                "Page answer within 24 hours of their last message."
            )
        )
    if code == _ALREADY_REPLIED:
        return Verdict(
            Refused(
                f"{label}: this comment was already answered in private; Meta allows one "
                f"private reply per comment, within 7 days of it (Graph error {code}: {said})."
            )
        )
    if code == 10 or (code is not None and 200 <= code <= 299):
        return Verdict(
            AuthError(
                f"{label}: the access token lacks {_permission_of(said)} (Graph error {code}: "
                f"{said}). Grant it in the Meta app and reconnect the account in Beffroi."
            )
        )
    if code == 100 and subcode == 33:
        return Verdict(NotFound(f"{label}: the object does not exist or is not visible: {said}"))
    if code in (1, 2) or response.status_code >= 500:
        return Verdict(
            TransientError(f"{label} had a temporary failure (Graph error {code}); retry later.")
        )
    return Verdict(ConnectorError(f"{label} refused the request (Graph error {code}): {said}"))


def _graph_error(response: httpx.Response) -> Mapping[str, Any] | None:
    if response.status_code < 400 and b'"error"' not in response.content[:20]:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else None


def graph_client(
    base_url: str, token: str, *, label: str, platform: str, **options: Any
) -> ApiClient:
    """An :class:`ApiClient` for ``{base_url}/{GRAPH_VERSION}/`` with ``token`` as Bearer."""
    return ApiClient(
        f"{base_url}/{GRAPH_VERSION}/",
        label=label,
        key=token_key(platform, token),
        classify=lambda response: classify(response, label),
        headers={"Authorization": f"Bearer {token}"},
        **options,
    )


class GraphConnector(HttpConnector):
    """What a Facebook Page and an Instagram account share: one numeric account id setting
    (``account_setting``), the Graph API address, the days of history, Meta's OAuth, an
    :class:`ApiClient` closed with the connector, and the order of a sync (:meth:`fetch`).

    A sync reads the account's own posts (:meth:`_posts_since`), the comments under its
    recent posts (:meth:`_comments`), then what others address to it (:meth:`_inbound_since`:
    a Page's Messenger messages, the media an Instagram account is tagged in). The posts and
    the inbound stream are read newest first and replayed oldest first, each under a
    :class:`Watermark` in the cursor (``posts_key``, ``inbound_key``).
    :meth:`own_posts_since` reads the same own posts, from a given time only.
    """

    #: The setting naming the account the connector reads (``page_id``, ``ig_user_id``).
    account_setting: ClassVar[str]
    #: What that account is, for the error message (``the Page``).
    account_what: ClassVar[str]
    #: The cursor keys of the own posts' and of the inbound stream's watermarks.
    posts_key: ClassVar[str]
    inbound_key: ClassVar[str]
    #: The field of an own post that holds its text (``message``, ``caption``).
    own_text_field: ClassVar[str]
    auth: ClassVar[AuthMethod] = AuthMethod.OAUTH2
    oauth: ClassVar[OAuthSpec | None] = META_OAUTH
    lists_own_posts: ClassVar[bool] = True

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        page_size: int = PAGE_SIZE,
        **http: Unpack[HttpOptions],
    ) -> None:
        super().__init__(settings, credentials, **http)
        self.account_id = str(settings[self.account_setting]).strip()
        self.base_url = normalise_base_url(settings.get("base_url"), self.label)
        self.history_days = positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, self.label)
        self.page_size = max(1, min(page_size, 100))
        self._client = graph_client(
            self.base_url,
            str(credentials["access_token"]).strip(),
            label=self.label,
            platform=self.platform,
            **self.http_options,
        )

    def close(self) -> None:
        """Close the Graph API connections."""
        self._client.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.account_setting}={self.account_id}>"

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Own posts, then comments under recent ones, then the inbound stream (see the class
        docstring); a cursor of another account starts afresh."""
        state: dict[str, Any] = dict(cursor)
        if state.get(self.account_setting) != self.account_id:
            state = {self.account_setting: self.account_id}
        now = datetime.now(UTC)
        history_start = now - timedelta(days=self.history_days)
        seen: set[str] = set()
        since = Watermark.from_cursor(state, self.posts_key).unix_since()
        posts = self._posts_since(since or int(history_start.timestamp()))
        yield from self._store_new(state, self.posts_key, posts, seen)
        yield from self._comments(state, now, history_start, seen)
        floor = Watermark.from_cursor(state, self.inbound_key).since or history_start
        yield from self._store_new(state, self.inbound_key, self._inbound_since(floor), seen)
        yield FetchBatch([], dict(state))

    @abstractmethod
    def _posts_since(self, since: int) -> Iterator[NormalizedItem]:
        """The account's posts published from ``since`` (epoch seconds, inclusive) on, newest
        first, read page by page as they are consumed."""

    def own_posts_since(self, since: datetime) -> list[OwnPost]:
        """The account's own posts created at or after ``since``, newest first, at most
        :data:`~beffroi.connectors.base.OWN_POSTS_LIMIT`: the edge a sync reads
        (:meth:`_posts_since`, ``since`` in epoch seconds), mapped as a sync maps it.

        Graph's times have a one-second grain, so ``since`` counts from the start of its
        second: a post of that very second is kept. Pages are read only while they are
        needed: the edge comes newest first, and reading stops at the first older post (where
        Graph did not apply ``since`` itself) or at the limit. The text is the post's own
        (``own_text_field``), without what Graph adds for a post with none (a story).
        """
        floor = since.astimezone(UTC).replace(microsecond=0)
        found: list[OwnPost] = []
        for item in self._posts_since(int(floor.timestamp())):
            if item.created_at < floor:
                break
            text = item.raw.get(self.own_text_field)
            found.append(
                OwnPost(
                    platform_id=item.platform_id,
                    text=text if isinstance(text, str) else "",
                    created_at=item.created_at,
                    url=item.url,
                    item=item,
                )
            )
            if len(found) >= OWN_POSTS_LIMIT:
                break
        return found

    @abstractmethod
    def _comments(
        self, state: dict[str, Any], now: datetime, history_start: datetime, seen: set[str]
    ) -> Iterator[FetchBatch]:
        """The comments under the recent posts not in ``seen``, a batch per post; notes in
        ``state`` how far they were read."""

    @abstractmethod
    def _inbound_since(self, floor: datetime) -> Iterator[NormalizedItem]:
        """What others addressed to the account from ``floor`` on (possibly more)."""

    def _store_new(
        self,
        state: dict[str, Any],
        key: str,
        items: Iterable[NormalizedItem],
        seen: set[str],
    ) -> Iterator[FetchBatch]:
        """The items not stored yet (after the watermark under ``state[key]``, not yielded by
        this sync), oldest first in batches, the watermark advancing with each batch."""
        mark = Watermark.from_cursor(state, key)
        entries: list[tuple[datetime, str, NormalizedItem]] = []
        for item in items:
            if mark.is_new(item.created_at, item.platform_id) and item.platform_id not in seen:
                seen.add(item.platform_id)
                entries.append((item.created_at, item.platform_id, item))
        for batch, latest, ids in replay_batches(entries, self.page_size):
            mark = mark.after(latest, ids)
            state[key] = mark.to_cursor()
            yield FetchBatch(batch, dict(state))

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """Required options, a numeric account id, a usable Graph address, whole days."""
        super().validate_options(settings, credentials)
        if not str(settings[cls.account_setting]).strip().isdigit():
            raise ConfigurationError(
                f"{cls.label}: {cls.account_setting} must be {cls.account_what}'s numeric id."
            )
        normalise_base_url(settings.get("base_url"), cls.label)
        positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, cls.label)


# --- payloads -------------------------------------------------------------------------------


def time_of(raw: Mapping[str, Any], name: str, label: str, what: str) -> datetime:
    """The aware datetime ``raw[name]`` or MalformedPayload."""
    moment = parse_time(raw.get(name))
    if moment is None:
        raise MalformedPayload(f"{label}: {what} has no valid '{name}'.")
    return moment


def id_of(raw: Mapping[str, Any], label: str, what: str) -> str:
    """The non-empty string id of ``raw`` or MalformedPayload."""
    value = raw.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"{label}: {what} has no 'id'.")
    return value


def objects(payload: Any, label: str, what: str) -> list[Mapping[str, Any]]:
    """``payload["data"]`` as a list of objects, or MalformedPayload."""
    body = require(payload, dict, label, what)
    data = require(body.get("data", []), list, label, f"{what} data")
    for entry in data:
        require(entry, dict, label, f"an entry of {what}")
    return data


def iter_pages(
    client: ApiClient, path: str, params: Mapping[str, Any], label: str, what: str
) -> Iterator[list[Mapping[str, Any]]]:
    """Each page of an edge, following ``paging.cursors.after`` while ``paging.next`` is set."""
    query = dict(params)
    while True:
        payload = client.get(path, params=query)
        yield objects(payload, label, what)
        paging = payload.get("paging") if isinstance(payload, dict) else None
        if not isinstance(paging, Mapping) or not paging.get("next"):
            return
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, Mapping) else None
        if not isinstance(after, str) or not after:
            raise MalformedPayload(f"{label}: {what} has a next page but no 'after' cursor.")
        query["after"] = after


def nested_page(raw: Mapping[str, Any], name: str) -> tuple[list[Mapping[str, Any]], bool]:
    """The entries of a nested edge (``replies{...}``) and whether it has more pages."""
    edge = raw.get(name)
    if not isinstance(edge, Mapping):
        return [], False
    data = edge.get("data")
    entries = [e for e in data if isinstance(e, Mapping)] if isinstance(data, list) else []
    paging = edge.get("paging")
    return entries, isinstance(paging, Mapping) and bool(paging.get("next"))


#: The fields of a message's attachments (Messenger and Instagram messages alike) and its
#: sticker: a message can be an image, a video, a voice clip or a file with no text at all.
MESSAGE_ATTACHMENT_FIELDS = "attachments{mime_type,name,image_data,video_data,file_url},sticker"
#: Meta's link shims: the ``url`` of a shared link passes through them (``?u=`` holds it).
_LINK_SHIMS = frozenset({"l.facebook.com", "lm.facebook.com", "l.messenger.com", "l.instagram.com"})


def unshimmed(url: Any) -> str:
    """The address behind Meta's link shim (``https://l.facebook.com/l.php?u=…``), else
    ``url`` itself; "" when it is not an http(s) address."""
    address = web_address(url)
    if not address:
        return ""
    parts = urlsplit(address)
    if (parts.hostname or "").lower() in _LINK_SHIMS:
        target = parse_qs(parts.query).get("u", [""])[0]
        return web_address(target) or address
    return address


def _media_kind(mime_type: Any) -> str:
    family = mime_type.partition("/")[0] if isinstance(mime_type, str) else ""
    return family if family in ("image", "video", "audio") else "other"


def message_media(raw: Mapping[str, Any]) -> tuple[Media, ...]:
    """The files of a Messenger or Instagram message: ``attachments.data[]`` (an image's
    ``image_data.url``, a video's ``video_data.url``, else ``file_url`` with the kind its
    ``mime_type`` says), each with the file's ``name``, and the ``sticker`` image."""
    media: list[Media] = []
    attachments = raw.get("attachments")
    data = attachments.get("data") if isinstance(attachments, Mapping) else None
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, Mapping):
            continue
        name = entry.get("name")
        name = name if isinstance(name, str) else ""
        image, video = entry.get("image_data"), entry.get("video_data")
        if isinstance(image, Mapping) and web_address(image.get("url")):
            media.append(Media("image", web_address(image.get("url")), name))
        elif isinstance(video, Mapping) and web_address(video.get("url")):
            media.append(Media("video", web_address(video.get("url")), name))
        elif web_address(entry.get("file_url")):
            kind = _media_kind(entry.get("mime_type"))
            media.append(Media(kind, web_address(entry.get("file_url")), name))
    sticker = web_address(raw.get("sticker"))
    if sticker:
        media.append(Media("image", sticker))
    return tuple(media)


# --- cursors --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Watermark:
    """How far a time-ordered stream was stored: a time and the ids seen at that second.

    Graph's times have a one-second grain: keeping the ids of the last second lets the next
    sync ask ``since`` that second (inclusive) without yielding those again or losing one
    published in the same second after the read.
    """

    since: datetime | None = None
    ids: frozenset[str] = frozenset()

    @classmethod
    def from_cursor(cls, cursor: Mapping[str, Any], key: str) -> Watermark:
        """The watermark stored under ``key`` (an empty one when absent or unreadable)."""
        value = cursor.get(key)
        if not isinstance(value, Mapping):
            return cls()
        ids = value.get("ids")
        return cls(
            parse_time(value.get("since")),
            frozenset(str(i) for i in ids) if isinstance(ids, list) else frozenset(),
        )

    def to_cursor(self) -> dict[str, Any]:
        """The JSON form stored in a cursor."""
        since = self.since.isoformat() if self.since else None
        return {"since": since, "ids": sorted(self.ids)}

    def is_new(self, moment: datetime, item_id: str) -> bool:
        """Whether an item at ``moment`` was not stored yet."""
        if self.since is None:
            return True
        return moment > self.since or (moment == self.since and item_id not in self.ids)

    def after(self, moment: datetime, item_ids: Sequence[str]) -> Watermark:
        """The watermark once items at ``moment`` (the batch's latest) are stored."""
        if self.since is not None and moment == self.since:
            return Watermark(moment, self.ids | frozenset(item_ids))
        return Watermark(moment, frozenset(item_ids))

    def unix_since(self) -> int | None:
        """``since`` for Graph's time-based paging (inclusive, epoch seconds)."""
        return int(self.since.timestamp()) if self.since else None


def replay_batches(
    entries: Sequence[tuple[datetime, str, T]], size: int
) -> Iterator[tuple[list[T], datetime, list[str]]]:
    """``entries`` (time, id, item) oldest first, in batches of about ``size`` that never
    split one second: each with the batch's latest time and the ids at that time."""
    ordered = sorted(entries, key=lambda e: (e[0], e[1]))
    batch: list[tuple[datetime, str, T]] = []
    for index, entry in enumerate(ordered):
        batch.append(entry)
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if len(batch) >= size and (following is None or following[0] != entry[0]):
            yield _closed(batch)
            batch = []
    if batch:
        yield _closed(batch)


def _closed(batch: list[tuple[datetime, str, T]]) -> tuple[list[T], datetime, list[str]]:
    latest = batch[-1][0]
    return [e[2] for e in batch], latest, [e[1] for e in batch if e[0] == latest]


# --- OAuth ----------------------------------------------------------------------------------


def pages_from_token(
    token: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    label: str,
    platform: str,
    client_factory: Callable[[str, str], ApiClient] | None = None,
) -> list[Mapping[str, Any]]:
    """The Pages a user token manages, each with its Page token and Instagram account.

    With ``client_id`` and ``client_secret`` in ``settings`` (the web flow), the short-lived
    user token is first exchanged for a long-lived one, so that the Page tokens do not
    expire. Returns ``/me/accounts`` entries (``id``, ``name``, ``access_token``,
    ``instagram_business_account``).
    """
    user_token = str(token.get("access_token") or "").strip()
    if not user_token:
        raise ConfigurationError(f"{label}: the OAuth answer holds no access token.")
    base_url = normalise_base_url(settings.get("base_url"), label)

    def client_for(bearer: str) -> ApiClient:
        if client_factory is not None:
            return client_factory(base_url, bearer)
        return graph_client(base_url, bearer, label=label, platform=platform)

    client_id, client_secret = settings.get("client_id"), settings.get("client_secret")
    if client_id and client_secret:
        with client_for(user_token) as client:
            exchanged = require(
                client.get(
                    "oauth/access_token",
                    params={
                        "grant_type": "fb_exchange_token",
                        "client_id": str(client_id),
                        "client_secret": str(client_secret),
                        "fb_exchange_token": user_token,
                    },
                ),
                dict,
                label,
                "the token exchange answer",
            )
        long_lived = exchanged.get("access_token")
        if not isinstance(long_lived, str) or not long_lived:
            raise MalformedPayload(f"{label}: the token exchange answer has no access_token.")
        user_token = long_lived
    pages: list[Mapping[str, Any]] = []
    with client_for(user_token) as client:
        for page in iter_pages(
            client,
            "me/accounts",
            {"fields": "id,name,access_token,instagram_business_account{id,username}"},
            label,
            "the list of Pages",
        ):
            pages.extend(page)
    for entry in pages:
        id_of(entry, label, "a Page")
        if not isinstance(entry.get("access_token"), str):
            raise MalformedPayload(
                f"{label}: a Page has no access_token; the account needs a task on the Page."
            )
    return pages


def account_settings(settings: Mapping[str, Any], **values: Any) -> dict[str, Any]:
    """Settings of a connected account: ``values`` and the base URL, never the app secret."""
    kept = {"base_url": settings["base_url"]} if settings.get("base_url") else {}
    return {**kept, **{k: v for k, v in values.items() if v not in (None, "")}}


# --- webhooks -------------------------------------------------------------------------------


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` (``X-Hub-Signature-256``) is ``sha256=`` + the HMAC-SHA256 of the
    raw ``body`` with the app secret, compared in constant time."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256=").strip().lower(), expected)


def signature_of(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_subscription(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to answer Meta's GET handshake, or None to refuse it."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    challenge = params.get("hub.challenge")
    return challenge if challenge else None
