"""Mastodon, through the Mastodon.py SDK.

What a sync brings back, in this order, each stage in batches of one API page:

1. direct conversations (``conversations()``), each expanded to its direct messages with
   ``status_context``, so that a MESSAGE carries its thread (it runs first for that reason);
2. the connected account's own statuses (posts, and its own replies);
3. the replies under its recent statuses (``status_context(...).descendants``);
4. the statuses that mention it (``notifications(types=["mention"])``);
5. when the ``hashtags`` setting lists tags, the public statuses of other accounts with each
   tag (``timeline_hashtag``, ``GET /api/v1/timelines/tag/:hashtag``), as POSTs;
6. when the ``search`` setting holds queries (one per line), the statuses of other accounts
   found by full-text search (``search_v2``, ``GET /api/v2/search?type=statuses``), as POSTs.
   Mastodon searches all public posts only where the instance has full-text search enabled
   (Elasticsearch/OpenSearch, 4.2+, for posts whose authors opted in); elsewhere it finds
   only posts the account interacted with. Search is not paged with ``Link`` headers: each
   query is read newest-first with ``max_id`` down to the newest status already yielded
   (``search_<hash>_since_id``) or the history limit, then replayed oldest-first.

Cursor: a JSON dict ``{"account_id", "conversations_since_id", "statuses_since_id",
"mentions_since_id"}``, plus ``"tag_<name>_since_id"`` for each listened hashtag. Each ``*_since_id`` is the newest id of its stream already yielded
(for conversations, the id of their last status, which is how Mastodon pages them); the next
sync asks for what is newer with ``min_id`` and walks forward with the ``Link: rel="prev"``
pages, so every batch is strictly newer than the one before and its cursor can be stored as
soon as it is ingested: a crash resumes without losing or re-reading those streams. A key that
is absent means "first sync" for that stream: the last ``history_days`` are read newest-first
(``rel="next"`` pages) and replayed oldest-first with the same guarantee. If the token now
belongs to another account than ``account_id``, the cursor starts afresh.

Replies are not a stream Mastodon can page: they hang under statuses. Each sync re-reads the
replies of the account's statuses of the last ``replies_days`` days (``history_days`` on the
first sync), skipping statuses whose ``replies_count`` is 0. Those replies are yielded again
on each sync; items are unique per platform id downstream, so this is harmless. A reply to an
older status is not lost: Mastodon replies mention the author they answer, so it arrives in
stage 4 as a MENTION (or a MESSAGE when direct). Within one sync an item is yielded once;
after a crash between stage 1 and the others, the resumed sync may meet those DMs again in
stages 2 and 4 (harmless for the same reason).

Hashtags (the ``hashtags`` setting: names separated by spaces or commas, a leading ``#``
allowed, plus those the veille's listening watches put in ``watch_hashtags``) are normalised to their casefolded form and deduplicated. Each tag is its own stream
with its own cursor key, so a tag added later gets its own first sync of ``history_days``.
The account's own statuses, and statuses already yielded by an earlier stage or tag of the
same sync, are skipped; a status carrying two listened tags is yielded once per sync.

Kinds and threads, the same at every stage: a status that answers nothing is a POST (a
MENTION when it came as one) and its own thread; a status with ``in_reply_to_id`` answers that
status, and its thread is the conversation's root: a COMMENT when it answers the root, a REPLY
deeper (a mention stays a MENTION); direct-visibility statuses are MESSAGE. Mastodon does not
say a reply's root: it is known from the context stage, from a status already met in the sync,
or else read once with ``status_context`` and remembered for the rest of the sync. A poll's
options are appended to the text, one per line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from beffroi import egress
from beffroi.connectors.base import (
    OWN_POSTS_LIMIT,
    WATCH_HASHTAGS,
    Action,
    ActionResult,
    AuthError,
    ConfigurationError,
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
    Option,
    OwnPost,
    QuotedItem,
    RateLimited,
    Relation,
    TransientError,
    UnsupportedAction,
    history_days_option,
)
from beffroi.connectors.html_text import html_to_text
from beffroi.connectors.http import outcome_of_create, unreachable
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import MediaFile, as_refusal, counts_of, download_all
from beffroi.connectors.values import clear_text_allowed, positive_int, with_poll_options

log = logging.getLogger(__name__)

#: Seconds before a request to the instance is abandoned.
DEFAULT_TIMEOUT = 30.0
#: Items asked per page (Mastodon caps statuses at 40 and notifications at 80).
PAGE_SIZE = 40
DEFAULT_HISTORY_DAYS = 30
DEFAULT_REPLIES_DAYS = 7
#: Checks of a media still in processing after its upload, and the first wait between two
#: (doubled each time, up to 8 times as long).
MEDIA_POLLS = 12
MEDIA_POLL_SECONDS = 1.0
#: Mastodon's default maximum length of a report comment.
REPORT_COMMENT_MAX = 1000

_VISIBILITY_RANK = {"public": 0, "unlisted": 1, "private": 2, "direct": 3}
_MEDIA_KINDS = {"image": "image", "gifv": "video", "video": "video", "audio": "audio"}
_METRICS = ("replies_count", "reblogs_count", "favourites_count")
#: A status's counts as :meth:`MastodonConnector.post_metrics` names them.
METRIC_NAMES = {"favourites_count": "likes", "reblogs_count": "shares", "replies_count": "comments"}
#: Mastodon's hashtag names: word characters (a middle dot or ZWNJ allowed between them) and
#: not only digits.
_HASHTAG_NAME = re.compile(r"(?=.*[^\W\d])\w+(?:[\u00b7\u200c]+\w+)*")
_HASHTAG_SEPARATORS = re.compile(r"[\s,]+")


CursorState = dict[str, str]


#: What a Mastodon server accepts by default in a status (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="mastodon",
    label="Mastodon",
    max_length=500,
    counting=Counting.GRAPHEMES,
    url_length=23,
    mention_domains_count=False,
    media=MediaLimits(
        kinds=frozenset({"image", "gif", "video"}),
        max_count=4,
        image_types=frozenset(
            {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "image/avif"}
        ),
        video_types=frozenset({"video/mp4", "video/quicktime", "video/webm"}),
        max_image_bytes=16_777_216,
        max_video_bytes=103_809_024,
        alone_kinds=frozenset({"video"}),
    ),
    first_comment=True,
    first_comment_max_length=500,
    max_alt_text=1500,
    notes=(
        "Defaults of a Mastodon server; an instance may change them (its "
        "/api/v2/instance configuration says). 500 characters counted as graphemes "
        "(StatusLengthValidator), every http(s) link as 23, a remote mention @name@server as "
        "@name. Up to 4 attachments, a video alone; image 16 MiB, video 99 MiB; description "
        "(alt text) up to 1,500 characters. The first comment is a reply, a status itself."
    ),
    sources=(
        "https://docs.joinmastodon.org/user/posting/",
        "https://docs.joinmastodon.org/entities/Instance/",
        "https://github.com/mastodon/mastodon/blob/main/app/validators/status_length_validator.rb",
    ),
)


# --- payload helpers -------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        # Mastodon.py parses date-only fields (``last_status_at``) to naive midnights.
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat()
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(value: Any) -> Any:
    """Mastodon.py's objects (AttribAccessDict, datetimes, snowflake ids) as plain JSON data."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _id_of(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int):
        text = str(value)
        return text or None
    return None


def _id_key(value: str) -> tuple[int, str]:
    """Order of Mastodon ids: numeric snowflakes, or fixed-width strings (ULIDs, base62)."""
    return (len(value), value)


def _newest(ids: Sequence[str | None]) -> str | None:
    present = [item for item in ids if item]
    return max(present, key=_id_key) if present else None


def _field(data: Mapping[str, Any], name: str, where: str = "status") -> Any:
    if name not in data or data[name] is None:
        raise MalformedPayload(f"Mastodon: {where} payload has no '{name}'.")
    return data[name]


def parse_hashtags(value: Any) -> tuple[str, ...]:
    """The ``hashtags`` setting as distinct casefolded names without ``#``, in order.

    Names are separated by spaces or commas; a ConfigurationError names an invalid one.
    """
    if value is None:
        return ()
    if not isinstance(value, str):
        raise ConfigurationError("Mastodon: 'hashtags' must be text (tags separated by spaces).")
    tags: list[str] = []
    for word in _HASHTAG_SEPARATORS.split(value):
        name = word.lstrip("#\uff03").casefold()
        if not word:
            continue
        if not _HASHTAG_NAME.fullmatch(name):
            raise ConfigurationError(
                f"Mastodon: '{word[:50]}' is not a valid hashtag for 'hashtags': use letters, "
                "digits and underscores (not only digits), separated by spaces or commas."
            )
        if name not in tags:
            tags.append(name)
    return tuple(tags)


def _poll_options(poll: Any) -> list[str]:
    """The titles of a poll's options (the choices a reader sees under the status)."""
    if not isinstance(poll, Mapping) or not isinstance(poll.get("options"), list):
        return []
    titles = (option.get("title") for option in poll["options"] if isinstance(option, Mapping))
    return [title.strip() for title in titles if isinstance(title, str) and title.strip()]


def _status_text(status: Mapping[str, Any], status_id: str) -> tuple[str, tuple[str, ...]]:
    """A status's text as its reader sees it (content warning first, poll options after)
    and the links of its content."""
    content = _field(status, "content")
    if not isinstance(content, str):
        raise MalformedPayload(f"Mastodon: status {status_id} has a non-text 'content'.")
    text, links = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    return with_poll_options(text, _poll_options(status.get("poll"))), links


def _quoted_status(relation: Relation, status: Mapping[str, Any]) -> QuotedItem | None:
    status_id = _id_of(status.get("id"))
    if status_id is None:
        return None
    account = status.get("account")
    acct = str(account.get("acct") or "") if isinstance(account, Mapping) else ""
    try:
        text = _status_text(status, status_id)[0]
    except MalformedPayload:
        text = ""
    return QuotedItem(
        relation, status_id, text, acct, str(status.get("url") or status.get("uri") or "")
    )


def _quote_of(quote: Any) -> QuotedItem | None:
    """Mastodon 4.5's ``quote``: a Quote (``quoted_status``) or, nested in a quoted status, a
    ShallowQuote (``quoted_status_id``); a quote the author revoked or that was deleted has
    neither, and nothing is carried."""
    if not isinstance(quote, Mapping):
        return None
    if isinstance(status := quote.get("quoted_status"), Mapping):
        return _quoted_status(Relation.QUOTE, status)
    if (status_id := _id_of(quote.get("quoted_status_id"))) is not None:
        return QuotedItem(Relation.QUOTE, status_id, "", "", "")
    return None


def _tag_key(tag: str) -> str:
    return f"tag_{tag}_since_id"


@contextlib.contextmanager
def _version_probe_guard(host: str) -> Iterator[None]:
    """Search with ``max_id`` makes Mastodon.py read the server's version from
    ``/api/v1/instance``; when that read fails, Mastodon.py retries it forever (a recursion).
    Turn that into a retryable error instead of a crash."""
    try:
        yield
    except RecursionError as exc:
        raise TransientError(
            f"Mastodon ({host}): the server's version could not be read; search will be retried."
        ) from exc


def parse_searches(value: Any) -> tuple[str, ...]:
    """The ``search`` setting as distinct queries, one per non-empty line."""
    if value in (None, ""):
        return ()
    if not isinstance(value, str):
        raise ConfigurationError("Mastodon: 'search' must be text (one query per line).")
    queries = (" ".join(line.split()) for line in value.splitlines())
    return tuple(dict.fromkeys(q for q in queries if q))


def _search_key(query: str) -> str:
    digest = hashlib.sha256(query.casefold().encode()).hexdigest()[:12]
    return f"search_{digest}_since_id"


def normalise_base_url(value: str) -> str:
    """``https://host[:port]`` of an instance, or a ConfigurationError saying what is wrong."""
    raw = value.strip()
    if "://" not in raw:
        raw = f"https://{raw}"
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            "Mastodon: base_url must be the instance's address, e.g. https://mastodon.social."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigurationError(
            "Mastodon: base_url must be the instance's address only (e.g. "
            "https://mastodon.social), not a profile or page address."
        )
    if parts.scheme == "http" and not clear_text_allowed(host):
        raise ConfigurationError(
            "Mastodon: base_url must use https; the access token would travel in clear text."
        )
    return f"{parts.scheme}://{parts.netloc}"


# --- the connector ---------------------------------------------------------------------------


class MastodonConnector(Connector):
    """An organisation's Mastodon account: its posts, the replies, mentions and direct messages.

    ``MastodonConnector(settings, credentials, timeout=30.0, page_size=40)``; see the module
    docstring for the cursor and how replies are re-checked.
    """

    platform: ClassVar[str] = "mastodon"
    label: ClassVar[str] = "Mastodon"
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    #: A repeat with the same key is recognised (see :meth:`publish`).
    idempotent_publish: ClassVar[bool] = True
    lists_own_posts: ClassVar[bool] = True
    fetches: ClassVar[frozenset[FetchKind]] = frozenset(
        {
            FetchKind.OWN_POSTS,
            FetchKind.COMMENTS,
            FetchKind.MENTIONS,
            FetchKind.MESSAGES,
            FetchKind.SEARCH,
        }
    )
    actions: ClassVar[frozenset[Action]] = frozenset(
        {Action.REPLY, Action.PRIVATE_REPLY, Action.DELETE, Action.PUBLISH, Action.REPORT}
    )
    not_supported: ClassVar[Mapping[str, str]] = {
        Action.HIDE: "Mastodon has no way to hide replies to your posts: its API lets an "
        "account delete only its own statuses. Report the reply to the moderators, or block or "
        "mute its author, instead.",
        Action.UNHIDE: "Mastodon has no way to hide (or unhide) replies to your posts.",
        Action.EDIT: "Beffroi does not edit Mastodon statuses yet.",
    }
    setup_doc: ClassVar[str] = "connectors/mastodon.md"
    options: ClassVar[Mapping[str, Option]] = {
        "base_url": Option(
            label="Instance URL", help="Address of the Mastodon server, e.g. https://piaille.fr"
        ),
        "access_token": Option(
            label="Access token",
            secret=True,
            help="Token of an application of the account, with the scopes read, "
            "write:statuses, write:media and write:reports.",
        ),
        "history_days": history_days_option(DEFAULT_HISTORY_DAYS),
        "replies_days": Option(
            label="Days during which replies to a post are re-checked",
            required=False,
            default=str(DEFAULT_REPLIES_DAYS),
        ),
        "hashtags": Option(
            label="Hashtags to listen to",
            required=False,
            help="Public posts with these hashtags, separated by spaces or commas (without #)",
        ),
        "search": Option(
            label="Search queries to listen to",
            required=False,
            help="One query per line; needs the instance's full-text search",
        ),
    }

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__(settings, credentials)
        self.base_url = normalise_base_url(str(settings["base_url"]))
        self.host = urlsplit(self.base_url).netloc
        self.history_days = positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, "Mastodon")
        self.replies_days = positive_int(settings, "replies_days", DEFAULT_REPLIES_DAYS, "Mastodon")
        self.hashtags = tuple(
            dict.fromkeys(
                parse_hashtags(settings.get("hashtags"))
                + parse_hashtags(settings.get(WATCH_HASHTAGS))
            )
        )
        self.searches = parse_searches(settings.get("search"))
        self.page_size = page_size
        self._token = str(credentials["access_token"]).strip()
        self._client = Mastodon(
            api_base_url=self.base_url,
            version_check_mode="none",
            ratelimit_method="throw",
            request_timeout=timeout,
            user_agent="beffroi",
            session=egress.guarded_session(),
        )
        # Set after construction: given to the constructor, a token that happens to name an
        # existing file would be read from that file by Mastodon.py.
        self._client.access_token = self._token
        self._me: dict[str, Any] | None = None
        #: Status id -> id of its conversation's root, for the statuses met in this sync.
        self._roots: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<MastodonConnector {self.base_url}>"

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """Required options, a usable instance address, whole numbers of days, valid tags."""
        super().validate_options(settings, credentials)
        normalise_base_url(str(settings["base_url"]))
        positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, "Mastodon")
        positive_int(settings, "replies_days", DEFAULT_REPLIES_DAYS, "Mastodon")
        parse_hashtags(settings.get("hashtags"))
        parse_searches(settings.get("search"))

    # --- errors ----------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        if self._token and len(self._token) >= 4:
            text = text.replace(self._token, "[redacted]")
        return text[:300]

    def _retry_after(self) -> float | None:
        reset = getattr(self._client, "ratelimit_reset", None)
        if reset is None:
            return None
        return max(0.0, float(reset) - time.time())

    def _translate(self, exc: MastodonError, what: str, not_found: str | None) -> ConnectorError:
        where = f"Mastodon ({self.host})"
        args = exc.args
        code = args[1] if len(args) > 1 and isinstance(args[1], int) else None
        said = f" The server said: {self._scrub(str(args[3]))}" if len(args) > 3 and args[3] else ""
        if isinstance(exc, MastodonUnauthorizedError):
            return AuthError(
                f"{where} refused the access token while {what}: it was revoked or has "
                f"expired. Reconnect the account with a new token.{said}"
            )
        if isinstance(exc, MastodonRatelimitError):
            retry_after = self._retry_after()
            when = f"in about {retry_after:.0f} s" if retry_after is not None else "later"
            return RateLimited(
                f"{where} rate limit reached while {what}; try again {when}.", retry_after
            )
        if isinstance(exc, MastodonNotFoundError) or code == 410:
            detail = not_found or "it was deleted or is not visible to this account"
            return NotFound(f"{where}: not found while {what} ({detail}).")
        if isinstance(exc, MastodonNetworkError):
            # Not Mastodon.py's text: it carries the socket's error, which tells ports apart.
            return unreachable(where, exc, f" while {what}")
        if isinstance(exc, MastodonServerError):
            return TransientError(
                f"{where} answered with a server error ({code}) while {what}; try again later."
            )
        if isinstance(exc, MastodonIllegalArgumentError):
            return ConfigurationError(
                f"{where}: invalid request while {what}: {self._scrub(str(exc))}"
            )
        if isinstance(exc, MastodonAPIError):
            if args and isinstance(args[0], str) and args[0].startswith("Could not parse"):
                return MalformedPayload(f"{where} answered with invalid JSON while {what}.")
            if code == 403:
                return AuthError(
                    f"{where} refused the action while {what}: the access token lacks the "
                    f"permission (scope) it needs.{said}"
                )
            return ConnectorError(f"{where} refused the request ({code}) while {what}.{said}")
        return ConnectorError(f"{where}: error while {what}: {self._scrub(str(exc))}")

    @contextlib.contextmanager
    def _api(self, what: str, *, not_found: str | None = None) -> Iterator[None]:
        """Turn Mastodon.py's exceptions raised inside the block into the contract's errors."""
        try:
            yield
        except MastodonError as exc:
            raise self._translate(exc, what, not_found) from exc

    def _entries(self, what: str, value: Any) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedPayload(f"Mastodon ({self.host}): expected a list while {what}.")
        for entry in value:
            if not isinstance(entry, Mapping):
                raise MalformedPayload(
                    f"Mastodon ({self.host}): a list entry is not an object while {what}."
                )
        return value

    def _follow(self, what: str, page: Any, direction: str) -> list[Any]:
        """The next (older) or previous (newer) page announced by the Link header, or []."""
        if not getattr(page, f"_pagination_{direction}", None):
            return []
        fetch = self._client.fetch_next if direction == "next" else self._client.fetch_previous
        with self._api(what):
            result = fetch(page)
        return self._entries(what, result)

    # --- account ---------------------------------------------------------------------------

    def _account(self) -> dict[str, Any]:
        if self._me is None:
            with self._api("verifying the access token"):
                account = self._client.account_verify_credentials()
            if not isinstance(account, Mapping) or _id_of(account.get("id")) is None:
                raise MalformedPayload(
                    f"Mastodon ({self.host}): verify_credentials returned no account id."
                )
            self._me = dict(account)
        return self._me

    def _own_id(self) -> str:
        own = _id_of(self._account()["id"])
        assert own is not None
        return own

    # --- mapping ---------------------------------------------------------------------------

    @classmethod
    def own_account_ids(
        cls, settings: Mapping[str, Any], cursor: Mapping[str, Any]
    ) -> tuple[str, ...]:
        """The account ``verify_credentials`` named at the last sync (kept in the cursor)."""
        account = cursor.get("account_id")
        return (str(account),) if account else ()

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A Mastodon Status (JSON or Mastodon.py object) as a NormalizedItem.

        A POST is its own thread; for other kinds ``thread_id`` is left to the caller, who
        knows the thread (fetch sets it from the status's context).
        """
        return self._map_status(raw, kind, thread_id=None)

    def _map_status(
        self, raw: Mapping[str, Any], kind: ItemKind, *, thread_id: str | None
    ) -> NormalizedItem:
        data = to_json(raw)
        if not isinstance(data, dict):
            raise MalformedPayload("Mastodon: a status payload is not a JSON object.")
        platform_id = _id_of(_field(data, "id"))
        if platform_id is None:
            raise MalformedPayload("Mastodon: status payload has an invalid 'id'.")
        created_at = _parse_datetime(_field(data, "created_at"))
        if created_at is None:
            raise MalformedPayload(
                f"Mastodon: status {platform_id} has an invalid 'created_at' date."
            )
        # A reblog's own content is empty: what its reader sees is the reblogged status.
        reblogged = data.get("reblog") if isinstance(data.get("reblog"), Mapping) else None
        shown: Mapping[str, Any] = reblogged or data
        text, links = _status_text(shown, platform_id)
        mention_urls = {
            mention.get("url")
            for mention in shown.get("mentions") or []
            if isinstance(mention, Mapping)
        }
        if reblogged is not None:
            quoted: QuotedItem | None = _quoted_status(Relation.REPOST, reblogged)
        else:
            quoted = _quote_of(data.get("quote"))
        return NormalizedItem(
            platform_id=platform_id,
            kind=kind,
            text=text,
            created_at=created_at,
            author=self._map_account(_field(data, "account"), platform_id),
            thread_id=thread_id
            if thread_id is not None
            else (platform_id if kind == ItemKind.POST else None),
            parent_id=_id_of(data.get("in_reply_to_id")),
            # A reblog has no page of its own (its uri is the activity's): the reblogged one's.
            url=str(data.get("url") or shown.get("url") or data.get("uri") or ""),
            urls=tuple(link for link in links if link not in mention_urls),
            media=self._map_media(shown.get("media_attachments"), platform_id),
            metrics={
                name: data[name]
                for name in _METRICS
                if isinstance(data.get(name), int) and not isinstance(data.get(name), bool)
            },
            language=shown.get("language") if isinstance(shown.get("language"), str) else None,
            raw=data,
            quoted=quoted,
        )

    @staticmethod
    def _map_account(account: Any, status_id: str) -> NormalizedAuthor:
        if not isinstance(account, Mapping):
            raise MalformedPayload(f"Mastodon: status {status_id} has a non-object 'account'.")
        account_id = _id_of(account.get("id"))
        if account_id is None:
            raise MalformedPayload(f"Mastodon: status {status_id} has an 'account' with no 'id'.")
        acct = account.get("acct")
        if not isinstance(acct, str) or not acct:
            raise MalformedPayload(f"Mastodon: status {status_id} has an 'account' with no 'acct'.")
        extra = {
            key: account[key]
            for key in ("username", "bot", "avatar")
            if account.get(key) is not None
        }
        return NormalizedAuthor(
            platform_id=account_id,
            handle=acct,
            display_name=str(account.get("display_name") or ""),
            url=str(account.get("url") or ""),
            extra=extra,
        )

    @staticmethod
    def _map_media(attachments: Any, status_id: str) -> tuple[Media, ...]:
        if attachments is None:
            return ()
        if not isinstance(attachments, list):
            raise MalformedPayload(
                f"Mastodon: status {status_id} has a non-list 'media_attachments'."
            )
        media = []
        for attachment in attachments:
            if not isinstance(attachment, Mapping):
                continue
            url = attachment.get("url") or attachment.get("remote_url") or ""
            media.append(
                Media(
                    kind=_MEDIA_KINDS.get(str(attachment.get("type")), "other"),
                    url=str(url),
                    description=str(attachment.get("description") or ""),
                )
            )
        return tuple(media)

    @staticmethod
    def _thread_kind(status: Mapping[str, Any], root_id: str | None, top: ItemKind) -> ItemKind:
        """What ``status`` is in its thread; ``top`` is its kind when it answers nothing."""
        if status.get("visibility") == "direct":
            return ItemKind.MESSAGE
        parent = _id_of(status.get("in_reply_to_id"))
        if parent is None or top == ItemKind.MENTION:
            return top
        return ItemKind.COMMENT if parent == root_id else ItemKind.REPLY

    def _in_thread(
        self, status: Mapping[str, Any], top: ItemKind, root_id: str | None = None
    ) -> NormalizedItem:
        """``status`` mapped by what it is in its conversation, at whichever stage it came.

        ``root_id`` is the conversation's root when the caller knows it (from a context);
        otherwise it is found with :meth:`_root_of`.
        """
        status_id = _id_of(status.get("id"))
        if root_id is None and status_id is not None:
            root_id = self._root_of(status, status_id)
        if status_id is not None and root_id is not None:
            self._roots[status_id] = root_id
        return self._map_status(status, self._thread_kind(status, root_id, top), thread_id=root_id)

    def _root_of(self, status: Mapping[str, Any], status_id: str) -> str | None:
        """The id of the conversation's root, reading the status's context only when neither
        it nor its parent was met in this sync; None when the ancestors cannot be read."""
        parent = _id_of(status.get("in_reply_to_id"))
        if parent is None:
            return status_id
        known = self._roots.get(status_id) or self._roots.get(parent)
        if known is not None:
            return known
        context = self._context(status_id, f"reading the thread of status {status_id}")
        if context is None:
            return None
        ancestors, descendants = context
        root = _id_of(ancestors[0].get("id")) if ancestors else None
        if root is not None:
            for entry in (*ancestors, *descendants):
                entry_id = _id_of(entry.get("id"))
                if entry_id is not None:
                    self._roots[entry_id] = root
        return root

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Direct messages, own statuses, replies, mentions, then hashtags (module docstring)."""
        self._me = None  # verify the token, and whose it is, at every sync
        self._roots = {}
        own_id = self._own_id()
        state: CursorState = {
            key: str(value)
            for key, value in (cursor or {}).items()
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value)
        }
        if state.get("account_id") not in (None, own_id):
            log.warning(
                "Mastodon (%s): token now belongs to another account; full resync.", self.host
            )
            state = {}
        state["account_id"] = own_id
        first_sync = "statuses_since_id" not in state
        seen: set[str] = set()

        known_dm = state.get("conversations_since_id")
        yield from self._stream(
            state,
            "conversations_since_id",
            "listing direct conversations",
            lambda **kw: self._client.conversations(**kw),
            entry_id=lambda conversation: _id_of((conversation.get("last_status") or {}).get("id")),
            entry_date=lambda conversation: (conversation.get("last_status") or {}).get(
                "created_at"
            ),
            to_items=lambda page: self._conversation_items(page, seen, known_dm),
        )
        yield from self._stream(
            state,
            "statuses_since_id",
            "listing the account's statuses",
            lambda **kw: self._client.account_statuses(own_id, exclude_reblogs=True, **kw),
            entry_id=lambda status: _id_of(status.get("id")),
            entry_date=lambda status: status.get("created_at"),
            to_items=lambda page: self._own_items(page, seen),
        )
        replies_days = max(self.replies_days, self.history_days if first_sync else 0)
        yield from self._replies(own_id, state, seen, replies_days)
        yield from self._stream(
            state,
            "mentions_since_id",
            "listing mentions",
            lambda **kw: self._client.notifications(types=["mention"], **kw),
            entry_id=lambda notification: _id_of(notification.get("id")),
            entry_date=lambda notification: notification.get("created_at"),
            to_items=lambda page: self._mention_items(page, seen),
        )
        for tag in self.hashtags:
            yield from self._hashtag_stream(tag, own_id, state, seen)
        for query in self.searches:
            yield from self._search_stream(query, own_id, state, seen)

    def _search_stream(
        self, query: str, own_id: str, state: CursorState, seen: set[str]
    ) -> Iterator[FetchBatch]:
        """Statuses found by ``query``, newest-first down to the cursor, replayed oldest-first."""
        key = _search_key(query)
        since = state.get(key)
        cutoff = datetime.now(UTC) - timedelta(days=self.history_days)
        what = f"searching statuses for '{query}'"
        kept: list[Any] = []
        max_id: str | None = None
        while True:
            with self._api(what), _version_probe_guard(self.host):
                result = self._client.search_v2(
                    query,
                    resolve=False,
                    result_type="statuses",
                    # Only filters hashtags; True makes Mastodon.py probe the server's version
                    # (which recurses forever with version_check_mode="none").
                    exclude_unreviewed=False,
                    max_id=max_id,
                    limit=self.page_size,
                )
            page = result.get("statuses") if isinstance(result, Mapping) else None
            if not isinstance(page, list):
                raise MalformedPayload(f"Mastodon ({self.host}): {what}: no 'statuses' list.")
            fresh = [
                status
                for status in page
                if (since is None or _id_key(_id_of(status.get("id")) or "0") > _id_key(since))
                and (
                    since is not None
                    or (_parse_datetime(status.get("created_at")) or cutoff) >= cutoff
                )
            ]
            kept.extend(fresh)
            ids = [i for i in (_id_of(s.get("id")) for s in page) if i]
            if len(fresh) < len(page) or len(page) < self.page_size or not ids:
                break
            oldest = min(ids, key=_id_key)
            if max_id is not None and _id_key(oldest) >= _id_key(max_id):
                break  # the server did not move backward: stop rather than loop
            max_id = oldest
        kept.sort(key=lambda status: _id_key(_id_of(status.get("id")) or "0"))
        for start in range(0, len(kept), self.page_size):
            chunk = kept[start : start + self.page_size]
            newest = _newest([_id_of(status.get("id")) for status in chunk])
            if newest:
                state[key] = newest
            yield FetchBatch(items=self._tagged_items(chunk, own_id, seen), cursor=dict(state))

    def _hashtag_stream(
        self, tag: str, own_id: str, state: CursorState, seen: set[str]
    ) -> Iterator[FetchBatch]:
        """The public statuses of other accounts tagged ``tag``, under ``tag_<tag>_since_id``."""
        yield from self._stream(
            state,
            _tag_key(tag),
            f"listing the statuses tagged #{tag}",
            lambda **kw: self._client.timeline_hashtag(tag, **kw),
            entry_id=lambda status: _id_of(status.get("id")),
            entry_date=lambda status: status.get("created_at"),
            to_items=lambda page: self._tagged_items(page, own_id, seen),
        )

    def _tagged_items(self, page: list[Any], own_id: str, seen: set[str]) -> list[NormalizedItem]:
        items = []
        for status in page:
            account = status.get("account")
            author = _id_of(account.get("id")) if isinstance(account, Mapping) else None
            if status.get("reblog") or author == own_id:
                continue
            item = self._in_thread(status, ItemKind.POST)
            if item.platform_id not in seen:
                seen.add(item.platform_id)
                items.append(item)
        return items

    def _stream(
        self,
        state: CursorState,
        key: str,
        what: str,
        call: Callable[..., Any],
        *,
        entry_id: Callable[[Mapping[str, Any]], str | None],
        entry_date: Callable[[Mapping[str, Any]], Any],
        to_items: Callable[[list[Any]], list[NormalizedItem]],
    ) -> Iterator[FetchBatch]:
        """Batches of a ``min_id``-paginated list, oldest first, advancing ``state[key]``."""

        def emit(entries: list[Any], newest: str | None) -> FetchBatch | None:
            items = to_items(entries)
            current = state.get(key)
            if newest and (current is None or _id_key(newest) > _id_key(current)):
                state[key] = newest
            elif not items:
                return None
            return FetchBatch(items=items, cursor=dict(state))

        since = state.get(key)
        if since is not None:
            with self._api(what):
                result = call(min_id=since, limit=self.page_size)
            page = self._entries(what, result)
            while page:
                prev = getattr(page, "_pagination_prev", None) or {}
                newest = _newest([_id_of(prev.get("min_id")), *(entry_id(e) for e in page)])
                reached = state.get(key)
                batch = emit(list(reversed(page)), newest)
                if batch is not None:
                    yield batch
                if state.get(key) == reached:
                    break  # the server did not move forward: stop rather than loop
                page = self._follow(what, page, "prev")
            return

        # First sync: newest-first back to the history limit, then replay oldest-first.
        cutoff = datetime.now(UTC) - timedelta(days=self.history_days)
        with self._api(what):
            result = call(limit=self.page_size)
        kept = self._walk_back(what, self._entries(what, result), entry_id, entry_date, cutoff)
        kept.reverse()
        for start in range(0, len(kept), self.page_size):
            chunk = kept[start : start + self.page_size]
            batch = emit(chunk, _newest([entry_id(e) for e in chunk]))
            if batch is not None:
                yield batch

    def _walk_back(
        self,
        what: str,
        page: list[Any],
        entry_id: Callable[[Mapping[str, Any]], str | None],
        entry_date: Callable[[Mapping[str, Any]], Any],
        cutoff: datetime,
    ) -> list[Any]:
        """Entries from ``page`` on, newest first, following ``rel="next"`` until ``cutoff``."""
        kept: list[Any] = []
        oldest: str | None = None
        while page:
            ids = [i for i in (entry_id(e) for e in page) if i]
            if oldest is not None and ids and _id_key(max(ids, key=_id_key)) >= _id_key(oldest):
                break  # the server did not move backward: stop rather than loop
            recent = [e for e in page if (_parse_datetime(entry_date(e)) or cutoff) >= cutoff]
            kept.extend(recent)
            if len(recent) < len(page):
                break
            oldest = min(ids, key=_id_key) if ids else oldest
            page = self._follow(what, page, "next")
        return kept

    def _own_items(self, page: list[Any], seen: set[str]) -> list[NormalizedItem]:
        items = []
        for status in page:
            if status.get("reblog"):
                continue
            item = self._in_thread(status, ItemKind.POST)
            if item.platform_id not in seen:
                seen.add(item.platform_id)
                items.append(item)
        return items

    def own_posts_since(self, since: datetime) -> list[OwnPost]:
        """The account's statuses since ``since`` (``GET /api/v1/accounts/:id/statuses``,
        newest first), for a publication whose key Mastodon no longer remembers (it keeps an
        ``Idempotency-Key`` for an hour)."""
        what = "listing the account's recent statuses"
        with self._api(what):
            result = self._client.account_statuses(
                self._own_id(), exclude_reblogs=True, limit=self.page_size
            )
        recent = self._walk_back(
            what,
            self._entries(what, result),
            lambda status: _id_of(status.get("id")),
            lambda status: status.get("created_at"),
            since,
        )
        posts = []
        for status in recent[:OWN_POSTS_LIMIT]:
            item = self._in_thread(status, ItemKind.POST)
            posts.append(
                OwnPost(item.platform_id, item.text, item.created_at, item.url or "", item)
            )
        return posts

    def _replies(
        self, own_id: str, state: CursorState, seen: set[str], days: int
    ) -> Iterator[FetchBatch]:
        what = "listing the account's recent statuses"
        cutoff = datetime.now(UTC) - timedelta(days=days)
        with self._api(what):
            result = self._client.account_statuses(
                own_id, exclude_reblogs=True, limit=self.page_size
            )
        recent = self._walk_back(
            what,
            self._entries(what, result),
            lambda status: _id_of(status.get("id")),
            lambda status: status.get("created_at"),
            cutoff,
        )

        for status in reversed(recent):
            status_id = _id_of(status.get("id"))
            if status_id is None or status.get("replies_count") == 0 or status.get("reblog"):
                continue
            context = self._context(status_id, f"reading the replies to status {status_id}")
            if context is None:
                continue
            ancestors, descendants = context
            root = _id_of(ancestors[0].get("id")) if ancestors else status_id
            items = []
            for reply in descendants:
                item = self._in_thread(reply, ItemKind.COMMENT, root or status_id)
                if item.platform_id not in seen:
                    seen.add(item.platform_id)
                    items.append(item)
            if items:
                yield FetchBatch(items=items, cursor=dict(state))

    def _context(self, status_id: str, what: str) -> tuple[list[Any], list[Any]] | None:
        """Ancestors and descendants of a status; None when it disappeared meanwhile."""
        try:
            with self._api(what):
                context = self._client.status_context(status_id)
        except NotFound:
            log.info(
                "Mastodon (%s): status %s vanished before its replies were read.",
                self.host,
                status_id,
            )
            return None
        if not isinstance(context, Mapping):
            raise MalformedPayload(f"Mastodon ({self.host}): context is not an object ({what}).")
        return (
            self._entries(what, context.get("ancestors")),
            self._entries(what, context.get("descendants")),
        )

    def _mention_items(self, page: list[Any], seen: set[str]) -> list[NormalizedItem]:
        items = []
        for notification in page:
            status = notification.get("status")
            if notification.get("type") != "mention" or not isinstance(status, Mapping):
                continue
            item = self._in_thread(status, ItemKind.MENTION)
            if item.platform_id not in seen:
                seen.add(item.platform_id)
                items.append(item)
        return items

    def _conversation_items(
        self, page: list[Any], seen: set[str], known: str | None
    ) -> list[NormalizedItem]:
        """Each conversation's last status and, newer than ``known``, its direct ancestors."""
        items = []
        for conversation in page:
            last = conversation.get("last_status")
            last_id = _id_of(last.get("id")) if isinstance(last, Mapping) else None
            if last is None or last_id is None:
                continue
            context = self._context(last_id, f"reading direct conversation {last_id}")
            ancestors = context[0] if context else []
            # A reply whose ancestors cannot be read has no known root (as at every stage);
            # a message that answers nothing is its own.
            root = _id_of(ancestors[0].get("id")) if ancestors else None
            if root is None and _id_of(last.get("in_reply_to_id")) is None:
                root = last_id
            chain = [
                status
                for status in ancestors
                if status.get("visibility") == "direct"
                and (known is None or _id_key(_id_of(status.get("id")) or "") > _id_key(known))
            ]
            chain.append(last)
            for status in chain:
                item = (
                    self._in_thread(status, ItemKind.MESSAGE, root)
                    if root is not None
                    else self._map_status(status, ItemKind.MESSAGE, thread_id=None)
                )
                if item.platform_id not in seen:
                    seen.add(item.platform_id)
                    items.append(item)
        return items

    # --- actions ---------------------------------------------------------------------------

    def _result(self, status: Any, detail: str) -> ActionResult:
        data = to_json(status)
        if not isinstance(data, dict) or _id_of(data.get("id")) is None:
            raise MalformedPayload(f"Mastodon ({self.host}): the answer has no status id.")
        url = data.get("url")
        return ActionResult(
            ok=True,
            platform_id=_id_of(data["id"]),
            detail=detail,
            raw=data,
            url=url if isinstance(url, str) else "",
        )

    @staticmethod
    def _idempotency_key(*parts: str) -> str:
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer ``item``, mentioning its author and participants as Mastodon's web app does.

        Visibility is "direct" for a MESSAGE or a direct parent, otherwise "public" unless
        the parent is more restricted (a reply never widens a conversation's audience).
        """
        own_id = self._own_id()
        with self._api(f"reading status {item.platform_id}"):
            parent = self._client.status(item.platform_id)
        if not isinstance(parent, Mapping):
            raise MalformedPayload(f"Mastodon ({self.host}): status {item.platform_id} is empty.")
        parent_visibility = str(parent.get("visibility") or "public")
        visibility = max(
            ("public", parent_visibility),
            key=lambda name: _VISIBILITY_RANK.get(name, 0),
        )
        if item.kind == ItemKind.MESSAGE:
            visibility = "direct"
        body = self._with_mentions(text, parent, own_id)
        with self._api(f"posting a reply to status {item.platform_id}"):
            status = self._client.status_post(
                body,
                in_reply_to_id=item.platform_id,
                visibility=visibility,
                idempotency_key=idempotency_key
                or self._idempotency_key(item.platform_id, visibility, body),
            )
        return self._result(status, f"Replied on Mastodon ({visibility}).")

    def private_reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer the author of ``item`` alone: a "direct" status in reply to it that mentions
        only them (Mastodon shows a direct status to the accounts it mentions, and nobody
        else; the other people of the thread are left out)."""
        with self._api(f"reading status {item.platform_id}"):
            parent = self._client.status(item.platform_id)
        account = parent.get("account") if isinstance(parent, Mapping) else None
        if not isinstance(account, Mapping) or not account.get("acct"):
            raise MalformedPayload(
                f"Mastodon ({self.host}): status {item.platform_id} has no author to answer."
            )
        acct = str(account["acct"])
        if _id_of(account.get("id")) == self._own_id():
            raise UnsupportedAction(
                "Not supported by the platform: this status is the account's own; a private "
                "reply goes to the author of someone else's status."
            )
        body = text if f"@{acct}".lower() in text.lower() else f"@{acct} {text}"
        with self._api(f"posting a private reply to status {item.platform_id}"):
            status = self._client.status_post(
                body,
                in_reply_to_id=item.platform_id,
                visibility="direct",
                idempotency_key=idempotency_key
                or self._idempotency_key(item.platform_id, "direct", body),
            )
        return self._result(status, f"Answered @{acct} in private on Mastodon (direct).")

    @staticmethod
    def _with_mentions(text: str, parent: Mapping[str, Any], own_id: str) -> str:
        accounts = [parent.get("account"), *(parent.get("mentions") or [])]
        handles = []
        for account in accounts:
            if not isinstance(account, Mapping) or _id_of(account.get("id")) == own_id:
                continue
            acct = account.get("acct")
            if isinstance(acct, str) and acct and f"@{acct}".lower() not in text.lower():
                handles.append(f"@{acct}")
        handles = list(dict.fromkeys(handles))
        return f"{' '.join(handles)} {text}" if handles else text

    def delete(self, item: ItemRef) -> ActionResult:
        """Delete a status of the connected account.

        Mastodon only lets an account delete its own statuses; other people's replies can be
        reported (:meth:`report`), not deleted.
        """
        if item.author_id is not None and item.author_id != self._own_id():
            raise UnsupportedAction(
                "Not supported by the platform: Mastodon only lets an account delete its own statuses; this one was written "
                "by someone else. Report it to the instance's moderators instead."
            )
        with self._api(
            f"deleting status {item.platform_id}",
            not_found="it no longer exists, or is not a status of this account: Mastodon only "
            "lets an account delete its own statuses",
        ):
            status = self._client.status_delete(item.platform_id)
        return self._result(status, "Deleted on Mastodon.")

    def report(self, item: ItemRef, reason: str) -> ActionResult:
        """Report the status and its author to the moderators, forwarded to a remote instance."""
        account_id = item.author_id
        if account_id is None:
            with self._api(f"reading status {item.platform_id}"):
                status = self._client.status(item.platform_id)
            account = status.get("account") if isinstance(status, Mapping) else None
            account_id = _id_of(account.get("id")) if isinstance(account, Mapping) else None
            if account_id is None:
                raise MalformedPayload(
                    f"Mastodon ({self.host}): status {item.platform_id} has no author."
                )
        with self._api(f"reporting status {item.platform_id}"):
            report = self._client.report(
                account_id,
                status_ids=[item.platform_id],
                comment=reason[:REPORT_COMMENT_MAX],
                forward=True,
            )
        return self._result(report, "Reported to the Mastodon moderators.")

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a public status, with its media: each file is read from its address and
        uploaded with its description, the alt text (``POST /api/v2/media``), then the status
        names them (``media_ids``). ``idempotency_key`` goes as the ``Idempotency-Key``
        header: Mastodon answers a repeat within an hour with the status already posted.

        The answer's ``item`` is the status as a sync maps it, so that its replies gather
        under it in the inbox.
        """
        files = download_all(media, self.post_limits, label=f"Mastodon ({self.host})")
        media_ids = [self._upload(position, file) for position, file in enumerate(files, 1)]
        with self._publishing("publishing a status", create=True):
            status = self._client.status_post(
                text,
                media_ids=media_ids or None,
                visibility="public",
                idempotency_key=idempotency_key
                or self._idempotency_key("publish", text, *media_ids),
            )
        result = self._result(status, "Published on Mastodon.")
        item = self._map_status(result.raw, ItemKind.POST, thread_id=None)
        return dataclasses.replace(result, item=item)

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a status gathered, as the instance counts it: ``likes`` (favourites),
        ``shares`` (reblogs) and ``comments`` (replies)."""
        with self._api(f"reading status {platform_id}"):
            status = to_json(self._client.status(platform_id))
        if not isinstance(status, dict):
            raise MalformedPayload(f"Mastodon ({self.host}): status {platform_id} is empty.")
        return counts_of(status, METRIC_NAMES)

    @contextlib.contextmanager
    def _publishing(self, what: str, *, create: bool = False) -> Iterator[None]:
        """:meth:`_api` for publishing: a request the server declined with its reasons (422,
        a file it cannot take) is :class:`Refused` in its words; with ``create``, a failure
        after which the status may exist is :class:`OutcomeUnknown` (never sent again here)."""
        try:
            yield
        except MastodonError as exc:
            error = as_refusal(self._translate(exc, what, None))
            error.__cause__ = exc
            raise (outcome_of_create(error) if create else error) from exc

    def _upload(self, position: int, file: MediaFile) -> str:
        """Upload one file with its alt text; its id once the server has processed it (a
        video is processed after the upload: it is waited for, as a status cannot carry an
        attachment still in processing)."""
        what = f"uploading media {position}"
        with self._publishing(what):
            attachment = self._client.media_post(
                io.BytesIO(file.content),
                mime_type=file.mime_type,
                description=file.media.description or None,
                file_name=file.name,
            )
        media_id = _id_of(attachment.get("id")) if isinstance(attachment, Mapping) else None
        if media_id is None:
            raise MalformedPayload(f"Mastodon ({self.host}): the upload answered no media id.")
        for attempt in range(MEDIA_POLLS):
            if attachment.get("url"):
                return media_id
            time.sleep(MEDIA_POLL_SECONDS * min(2**attempt, 8))
            with self._publishing(f"waiting for media {position} to be processed"):
                attachment = self._client.media(media_id)
            if not isinstance(attachment, Mapping):
                raise MalformedPayload(f"Mastodon ({self.host}): media {media_id} is empty.")
        raise TransientError(
            f"Mastodon ({self.host}) is still processing media {position}; the post will be "
            "tried again later."
        )
