"""X (formerly Twitter), through tweepy's API v2 client, with the user's OAuth 2.0 token.

The account is connected with OAuth 2.0 (authorization code with PKCE); its user access token
is sent as the bearer of every request (user context: X answers as that user sees it).

What a sync brings back, in this order, each stage in batches of one API page (100 posts):

1. the account's own posts (``GET /2/users/:id/tweets``, retweets excluded): POSTs, or
   REPLYs where the account answered someone; their ``conversation_id`` are remembered;
2. the posts that mention it (``GET /2/users/:id/mentions``): MENTIONs, except a post that
   answers the account or belongs to one of its conversations, which is a COMMENT (it answers
   the conversation's root) or a REPLY (it answers a reply);
3. the replies in the account's conversations of the last 7 days, including deep replies that
   do not mention it (``GET /2/tweets/search/recent`` with ``(conversation_id:A OR ...)
   -from:<username>``, as many conversations as fit X's 512-character query);
4. when the ``query`` setting is given, the posts matching it (``GET /2/tweets/search/recent``
   with that query): POSTs, for listening.

Every request asks for ``tweet.fields`` (dates, author, conversation, references, language,
metrics, entities, attachments, ``note_tweet``) and expands ``author_id``,
``attachments.media_keys``, ``attachments.poll_ids`` and ``referenced_tweets.id`` (with its
author): ``includes.users`` gives each item its author, ``includes.media`` its media (a
video's ``variants``), ``includes.polls`` its poll's options (after its text, one ``- option``
line each), ``includes.tweets`` the posts it references (the item's ``quoted``). An item's
``raw`` is ``{"data": <post>, "includes": {"users": [...], "media": [...], "polls": [...],
"tweets": [...]}}``, the shape of X's single-post lookup, with the includes that concern it.

What X sends is mapped as a reader sees it: a post longer than 280 characters has its full
text in ``note_tweet``; a retweet's ``text`` is X's copy, cut short
(``RT @user: …``), so its text is ``RT @user: `` and the original's full text, from
``includes.tweets``; a retweet's ``public_metrics`` are the original's, so a retweet has no
metrics of its own. A video's media URL is its highest-bitrate MP4 variant (it has no
``url``, and its ``preview_image_url`` is the thumbnail). The ``pic.x.com`` links X adds for a
post's own photos and videos are media, not shared links. X's language codes for "no
linguistic content" (``und``, ``zxx``, ``qst``, ``qme``…) become no language, so Beffroi
detects it; ``in`` (X's old code for Indonesian) becomes ``id``. Errors inside a 200 answer
(``"errors": [{"title": "Not Found Error", ...}]``: a deleted author, a withheld post) are
tolerated: X documents them as partial errors beside the data it could give.

Cursor: a JSON dict ``{"user_id", "conversations", "posts", "mentions", "replies",
"search"}``. Each stream's entry holds ``since_id`` (the newest post id of its last complete
pass) and, while a pass is under way, ``pass``: the pass's exact request parameters (its
``since_id`` or first-sync ``start_time``, its query), X's ``next_token`` of the page to read
next and the ``newest_id`` X gave on the pass's first page. X pages newest-first and its
pagination token stays valid for the same parameters, so each page is yielded as soon as it
is read with a cursor that resumes at the next page: an interruption anywhere continues
where it stopped, and when a pass ends its ``newest_id`` becomes the stream's ``since_id``.
Posts newer than that arrive on the next pass. If X refuses a stored token as invalid, the
pass starts again from its ``since_id`` (items are unique per platform id downstream).
``conversations`` lists the account's conversations of the last 7 days (X's recent search
does not reach further). The first sync reads the last 7 days. A ``search`` pass belongs to
its query: a changed ``query`` setting starts that stream afresh. If the cursor belongs to
another ``user_id``, it starts afresh. Within one sync an item is yielded once.

Rate limits and quotas: X answers ``x-rate-limit-limit``, ``x-rate-limit-remaining`` and
``x-rate-limit-reset`` (epoch seconds) per endpoint and user. A 429, or a success whose
``x-rate-limit-remaining`` is 0, closes that endpoint for this token in
:data:`~beffroi.connectors.http.RATE_GATE` until the reset, so Beffroi never asks again in
the window. A monthly usage cap (``"title": "UsageCapExceeded"``, type
``https://api.twitter.com/2/problems/usage-capped``, answered 429 or 403) closes every
endpoint of the token until the first day of the next month (UTC): X gives no reset time
for it, and the cap resets with the project's monthly billing cycle. Every post read counts
towards that cap.

Actions: reply and publish call ``POST /2/tweets`` (``{"text", "reply":
{"in_reply_to_tweet_id"}}``; a publication's images are uploaded first, see
:meth:`XConnector.publish`); a private reply is a Direct Message to the post's author,
``POST /2/dm_conversations/with/:participant_id/messages`` (``{"text"}``, the ``dm.write``
permission; X declines it with a 403 that says why when the person does not accept Direct
Messages from the account); hide and unhide call ``PUT /2/tweets/:id/hidden`` (``{"hidden":
true|false}``; X allows it only for replies in conversations the account started); delete
calls ``DELETE /2/tweets/:id`` for the account's own posts only (X lets an account delete
only its own posts: other people's replies can only be hidden). X's API v2 has no endpoint
to report a post and no edit endpoint.

Own posts (:meth:`XConnector.own_posts_since`, read only to find a publication whose answer
was lost): ``GET /2/users/:id/tweets`` with ``start_time``, retweets excluded, the same fields
and mapping as a sync, newest first, paged with ``pagination_token`` only as far as needed.

tweepy's client hard-codes ``https://api.twitter.com``: :class:`_XSession`, the requests
session tweepy sends through, points its requests at the ``base_url`` option (the loopback
fake in tests), adds a timeout, and carries the bearer token itself so that tweepy's debug
log of request headers never shows it.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import html
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import requests
import tweepy
from tweepy import errors as tweepy_errors

from beffroi import egress
from beffroi.connectors.base import (
    OWN_POSTS_LIMIT,
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
    ItemRef,
    MalformedPayload,
    Media,
    NormalizedAuthor,
    NormalizedItem,
    NotFound,
    OAuthSpec,
    Option,
    OwnPost,
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
    retrying,
    token_key,
    unreachable,
)
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import MediaFile, counts_of, download_all, refusals_typed
from beffroi.connectors.values import api_base_url, parse_time, text_links, with_poll_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

log = logging.getLogger(__name__)

LABEL = "X"
API_BASE_URL = "https://api.x.com"
#: Where links to posts and Direct Message conversations point.
WEB_URL = "https://x.com"
#: The host tweepy writes in every URL; :class:`_XSession` replaces it with ``base_url``.
TWEEPY_HOST = "https://api.twitter.com"
#: What tweepy writes as the bearer; the session sends the real token instead.
_BEARER_PLACEHOLDER = "held-by-the-session"
DEFAULT_TIMEOUT = 30.0
#: Posts per page (X's maximum for these endpoints).
PAGE_SIZE = 100
#: How far back the first sync reads, and how far X's recent search reaches.
HISTORY_DAYS = 7
#: X's longest recent-search query for the self-serve access levels.
QUERY_MAX_LENGTH = 512
#: X's snowflake ids carry their creation time: milliseconds since this epoch, shifted 22 bits.
SNOWFLAKE_EPOCH_MS = 1288834974657

TWEET_FIELDS = (
    "created_at",
    "author_id",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "lang",
    "public_metrics",
    "entities",
    "attachments",
    "note_tweet",
)
EXPANSIONS = (
    "author_id",
    "attachments.media_keys",
    "attachments.poll_ids",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
)
USER_FIELDS = ("username", "name")
MEDIA_FIELDS = ("type", "url", "preview_image_url", "alt_text", "variants")
POLL_FIELDS = ("options",)

#: The smallest ``max_results`` each endpoint accepts (X answers 400 below).
_MIN_RESULTS = {"search_recent": 10, "users_tweets": 5, "users_mentions": 5}
_MEDIA_KINDS = {"photo": "image", "video": "video", "animated_gif": "video"}
#: X's ``lang`` codes that name no language: undetermined, no linguistic content, and its
#: own ``q*`` codes (media links, hashtags, mentions, cashtags only, or too short).
_NO_LANGUAGE = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst"})
#: X's obsolete codes, as ISO 639-1 has them now.
_LANGUAGE_RENAMES = {"in": "id", "iw": "he"}
#: The start of X's copy of a retweet: "RT @user: ".
_RETWEET_PREFIX = re.compile(r"RT @\w{1,15}: ")
#: The display address of the link X appends for a post's own photos and videos.
_MEDIA_LINK_HOSTS = ("pic.x.com/", "pic.twitter.com/")
_USAGE_CAPPED = "https://api.twitter.com/2/problems/usage-capped"
_NOT_ENROLLED = "client-not-enrolled"
_OAUTH1_PERMISSIONS = "https://api.twitter.com/2/problems/oauth1-permissions"
_UNSUPPORTED_AUTH = "https://api.twitter.com/2/problems/unsupported-authentication"

Cursor = dict[str, Any]
#: The endpoints of the rate gate, one window each (X counts its limits per endpoint).
Endpoint = str


#: What X accepts in a post (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="x",
    label=LABEL,
    max_length=280,
    counting=Counting.X_WEIGHTED,
    url_length=23,
    media=MediaLimits(
        kinds=frozenset({"image", "gif", "video"}),
        max_count=4,
        image_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=5_000_000,
        max_gif_bytes=15_000_000,
        max_video_bytes=512_000_000,
        min_width=4,
        min_height=4,
        max_width=8192,
        max_height=8192,
        min_video_seconds=0.5,
        max_video_seconds=140,
        alone_kinds=frozenset({"gif", "video"}),
    ),
    first_comment=True,
    first_comment_max_length=280,
    max_alt_text=1000,
    notes=(
        "Weighted length of twitter-text v3 (X's counting-characters page): most Latin "
        "characters weigh 1, CJK and other scripts 2, any emoji sequence 2, every link 23 "
        "(with or without https://). Up to 4 photos, or 1 GIF, or 1 video; image 5 MB, GIF "
        "15 MB, video 512 MB, 0.5 to 140 s (media upload introduction and best practices; "
        "MB read as 10^6 bytes, the stricter reading). Alt text up to 1,000 characters (X "
        "help on image descriptions). The first comment is a reply to the post, a post itself."
    ),
    sources=(
        "https://docs.x.com/fundamentals/counting-characters",
        "https://docs.x.com/x-api/media/introduction",
        "https://docs.x.com/x-api/media/quickstart/best-practices",
        "https://help.x.com/en/using-x/picture-descriptions",
    ),
)


class _InvalidRequest(ConfigurationError):
    """X answered 400: a parameter (a query, a stale pagination token) is invalid."""


#: The most images X takes in a post.
_MAX_IMAGES = POST_LIMITS.media.max_count if POST_LIMITS.media is not None else 0
#: The media category of a post's image (X's simple upload takes images only).
_IMAGE_CATEGORY = "tweet_image"
#: X's ``public_metrics`` of a post as ``post_metrics`` names them (shares: see there).
_METRIC_NAMES = {"like_count": "likes", "reply_count": "comments", "impression_count": "views"}
#: tweepy's exception for each status, as its client raises them.
_TWEEPY_ERRORS: dict[int, type[tweepy_errors.HTTPException]] = {
    400: tweepy_errors.BadRequest,
    401: tweepy_errors.Unauthorized,
    403: tweepy_errors.Forbidden,
    404: tweepy_errors.NotFound,
    429: tweepy_errors.TooManyRequests,
}


@contextlib.contextmanager
def _publication_refusals() -> Iterator[None]:
    """A publication's refusals typed (:func:`~beffroi.connectors.posting.refusals_typed`),
    and X's 400 (an invalid request: a text too long, a file it cannot take) a
    :class:`Refused` in X's words: what its ``errors`` say beside the generic detail."""
    try:
        with refusals_typed():
            yield
    except _InvalidRequest as exc:
        cause = exc.__cause__
        said = getattr(cause, "api_messages", None) or []
        words = " ".join(str(message) for message in said)
        raise Refused(f"{exc} {words}".strip()) from exc


class _XSession(requests.Session):
    """The requests session tweepy sends through: the ``base_url``, a timeout, the bearer, and
    connections checked by :mod:`beffroi.egress`."""

    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        super().__init__()
        egress.guard_session(self)
        self.base_url = base_url
        self.timeout = timeout
        self._token = token

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        if url.startswith(TWEEPY_HOST):
            request.url = self.base_url + url[len(TWEEPY_HOST) :]
        request.headers["Authorization"] = f"Bearer {self._token}"
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout  # tweepy sets none: a request could hang forever
        return super().send(request, **kwargs)


def snowflake_time(post_id: str) -> datetime | None:
    """When X created the post (or user) ``post_id``, read from its snowflake id."""
    try:
        milliseconds = (int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS
    except ValueError:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)


def _id_key(value: str) -> tuple[int, str]:
    """Order of X ids: decimal snowflakes, longer is newer."""
    return (len(value), value)


def _newest(*ids: str | None) -> str | None:
    present = [value for value in ids if value]
    return max(present, key=_id_key) if present else None


def _str_id(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _start_of_next_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def _problem(response: Any) -> dict[str, Any]:
    """X's error body (``title``, ``detail``, ``type``, ``reason``…), or {} when not JSON."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _referenced(tweet: Mapping[str, Any], kind: str) -> str | None:
    """The id of the post ``tweet`` references as ``kind`` (replied_to, retweeted, quoted)."""
    for reference in tweet.get("referenced_tweets") or []:
        if isinstance(reference, Mapping) and reference.get("type") == kind:
            return _str_id(reference.get("id"))
    return None


def _replied_to(tweet: Mapping[str, Any]) -> str | None:
    return _referenced(tweet, "replied_to")


def _own_kind(post: Mapping[str, Any]) -> ItemKind:
    """What one of the account's own posts is: a REPLY where it answers a post, else a POST."""
    return ItemKind.REPLY if _replied_to(post) else ItemKind.POST


def _full_text(tweet: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The post's whole text and the entities that go with it: ``note_tweet`` when the post
    is longer than 280 characters (``text`` then holds its first 280)."""
    entities: Mapping[str, Any] = {}
    if isinstance(found := tweet.get("entities"), Mapping):
        entities = found
    note = tweet.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(text := note.get("text"), str) and text:
        note_entities = note.get("entities")
        return text, note_entities if isinstance(note_entities, Mapping) else entities
    text = tweet.get("text")
    return (text if isinstance(text, str) else ""), entities


def _poll_ids(post: Mapping[str, Any]) -> set[str]:
    attachments = post.get("attachments")
    ids = attachments.get("poll_ids") if isinstance(attachments, Mapping) else None
    return {str(poll_id) for poll_id in ids or []}


def _poll_options(post: Mapping[str, Any], includes: Mapping[str, Any]) -> list[str]:
    """The labels of the post's poll (``includes.polls``), in their order."""
    wanted = _poll_ids(post)
    for poll in includes.get("polls") or []:
        if isinstance(poll, Mapping) and _str_id(poll.get("id")) in wanted:
            options = [o for o in poll.get("options") or [] if isinstance(o, Mapping)]
            options.sort(
                key=lambda o: int(o["position"]) if isinstance(o.get("position"), int) else 0
            )
            return [str(o["label"]) for o in options if o.get("label")]
    return []


def _included_post(includes: Mapping[str, Any], post_id: str) -> Mapping[str, Any] | None:
    """The referenced post ``post_id`` among the page's ``includes.tweets``."""
    return next(
        (
            tweet
            for tweet in includes.get("tweets") or []
            if isinstance(tweet, Mapping) and _str_id(tweet.get("id")) == post_id
        ),
        None,
    )


def _quoted_post(
    relation: Relation,
    post_id: str,
    post: Mapping[str, Any] | None,
    users: Mapping[str | None, Mapping[str, Any]],
) -> QuotedItem:
    """The post a retweet or quote carries; only its address where the page did not include
    it (deleted, withheld, or not requested)."""
    if post is None:
        return QuotedItem(relation, post_id, "", "", f"https://x.com/i/web/status/{post_id}")
    username = str((users.get(_str_id(post.get("author_id"))) or {}).get("username") or "")
    return QuotedItem(
        relation,
        post_id,
        html.unescape(_full_text(post)[0]),
        username,
        f"https://x.com/{username}/status/{post_id}"
        if username
        else f"https://x.com/i/web/status/{post_id}",
    )


def links_without_quoted_post(links: tuple[str, ...], quoted: QuotedItem | None) -> tuple[str, ...]:
    """The links without the quoted post's own address, which X puts in a quote's text for
    clients that cannot show the quote (it is the item's ``quoted``, not a shared link)."""
    if quoted is None or quoted.relation is not Relation.QUOTE:
        return links
    address = re.compile(
        rf"^https://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status/{quoted.platform_id}\b"
    )
    return tuple(link for link in links if not address.match(link))


def _shared_links(entities: Mapping[str, Any]) -> tuple[str, ...]:
    """The links a post shares, without the ``pic.x.com`` link X adds for its own media."""
    links = []
    for entry in entities.get("urls") or []:
        if not isinstance(entry, Mapping) or not (entry.get("expanded_url") or entry.get("url")):
            continue
        display = str(entry.get("display_url") or "")
        if entry.get("media_key") or display.startswith(_MEDIA_LINK_HOSTS):
            continue
        links.append(str(entry.get("unwound_url") or entry.get("expanded_url") or entry["url"]))
    return tuple(dict.fromkeys(links))


def _language(value: Any) -> str | None:
    """X's ``lang`` as an ISO 639-1 code, or None when X names no language."""
    if not isinstance(value, str) or not value or value in _NO_LANGUAGE:
        return None
    return _LANGUAGE_RENAMES.get(value, value)


def _video_url(entry: Mapping[str, Any]) -> str:
    """The highest-bitrate MP4 among a video's ``variants`` (an HLS playlist has no bitrate)."""
    mp4s: list[tuple[int, str]] = [
        (rate if isinstance(rate := variant.get("bit_rate"), int) else 0, variant["url"])
        for variant in entry.get("variants") or []
        if isinstance(variant, Mapping)
        and variant.get("content_type") == "video/mp4"
        and isinstance(variant.get("url"), str)
    ]
    return max(mp4s)[1] if mp4s else ""


class XConnector(HttpConnector):
    """An organisation's X account: its posts, mentions, replies, and an optional search.

    ``XConnector(settings, credentials, timeout=30.0, page_size=100, retries=2,
    backoff=0.5)``; see the module docstring for the stages and the cursor.
    """

    platform: ClassVar[str] = "x"
    label: ClassVar[str] = LABEL
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    fetches: ClassVar[frozenset[FetchKind]] = frozenset(
        {FetchKind.OWN_POSTS, FetchKind.MENTIONS, FetchKind.COMMENTS, FetchKind.SEARCH}
    )
    actions: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.REPLY,
            Action.PRIVATE_REPLY,
            Action.HIDE,
            Action.UNHIDE,
            Action.PUBLISH,
            Action.DELETE,
        }
    )
    auth: ClassVar[AuthMethod] = AuthMethod.OAUTH2
    oauth: ClassVar[OAuthSpec | None] = OAuthSpec(
        authorize_url="https://x.com/i/oauth2/authorize",
        token_url="https://api.x.com/2/oauth2/token",  # noqa: S106 (an address)
        scopes=(
            "tweet.read",
            "tweet.write",
            "users.read",
            "tweet.moderate.write",
            # Private replies are Direct Messages; X grants dm.write only with dm.read.
            "dm.read",
            "dm.write",
            # A published post's images: POST /2/media/upload and /2/media/metadata.
            "media.write",
            "offline.access",
        ),
        pkce=True,
        token_auth="client_secret_basic",  # noqa: S106 (a method name)
    )
    options: ClassVar[Mapping[str, Option]] = {
        "user_id": Option(
            label="Account id", help="Numeric id of the X account (filled in when connecting)."
        ),
        "username": Option(
            label="Username", help="The account's @username, without @ (filled in when connecting)."
        ),
        "query": Option(
            label="Search query",
            required=False,
            help="Optional: recent public posts matching this X search query are listened to, "
            'e.g. "mairie de Lyon" -is:retweet lang:fr (every post read counts towards the '
            "monthly cap).",
        ),
        "base_url": Option(
            label="API address",
            required=False,
            default=API_BASE_URL,
            help="Address of the X API; leave the default.",
        ),
        "access_token": Option(
            label="Access token",
            secret=True,
            help="OAuth 2.0 user access token (obtained when connecting the account).",
        ),
    }
    not_supported: ClassVar[Mapping[str, str]] = {
        "report": "X's API v2 has no endpoint to report a post or an account; report it in "
        "the X app, or hide the reply.",
        "edit": "X's API v2 cannot edit a post; delete it and publish it again.",
    }
    setup_doc: ClassVar[str] = "connectors/x.md"
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
        self.base_url = api_base_url(settings.get("base_url"), LABEL, API_BASE_URL)
        self.user_id = str(settings["user_id"]).strip()
        self.username = str(settings["username"]).strip().lstrip("@")
        self.query = str(settings.get("query") or "").strip()
        self.page_size = page_size
        token = str(credentials["access_token"]).strip()
        self._token = token
        self._key = token_key(self.platform, token)
        self._client = self._make_client(self.base_url, token, self.timeout)

    def __repr__(self) -> str:
        return f"<XConnector @{self.username}>"

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """Required options, a usable API address and a numeric account id."""
        super().validate_options(settings, credentials)
        api_base_url(settings.get("base_url"), LABEL, API_BASE_URL)
        if not str(settings["user_id"]).strip().isdigit():
            raise ConfigurationError("X: user_id must be the account's numeric id.")

    @staticmethod
    def _make_client(base_url: str, token: str, timeout: float) -> Any:
        # return_type=requests.Response: the raw JSON is kept as evidence and the rate-limit
        # headers of successful answers can be read.
        client = tweepy.Client(bearer_token=_BEARER_PLACEHOLDER, return_type=requests.Response)
        client.session = _XSession(base_url, token, timeout)
        return client

    # --- errors ----------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "[redacted]")
        return text[:300]

    def _call(
        self,
        endpoint: Endpoint,
        what: str,
        call: Callable[..., Any],
        *args: Any,
        forbidden: str = "",
        declined: str = "",
        create: bool = False,
        **params: Any,
    ) -> dict[str, Any]:
        """One request through tweepy with the rate gate, typed errors and retries; its JSON
        (``forbidden`` and ``declined``: what a 403 means for it, see :func:`translate_error`;
        ``create``: it posts something, see :func:`~beffroi.connectors.http.retrying`)."""
        key = f"{self._key}:{endpoint}"

        def once() -> Any:
            RATE_GATE.check(self._key, LABEL)  # a monthly usage cap closes every endpoint
            response = call(*args, user_auth=False, **params)
            remaining = response.headers.get("x-rate-limit-remaining")
            if remaining is not None and remaining.strip() == "0":
                wait = epoch_reset_seconds(response.headers.get("x-rate-limit-reset"))
                RATE_GATE.close(key, DEFAULT_RATE_WAIT if wait is None else wait)
            return response

        response = self._retrying(
            once,
            key=key,
            translate=lambda exc: translate_error(
                exc, what, forbidden, self._key, self._scrub, declined=declined
            ),
            create=create,
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise MalformedPayload(f"X answered something that is not JSON while {what}.") from exc
        if not isinstance(body, dict):
            raise MalformedPayload(f"X answered a JSON value that is not an object while {what}.")
        if body.get("errors"):
            # Partial errors beside the data (a deleted author, a withheld post): documented.
            log.info("X: %d partial error(s) while %s.", len(body["errors"]), what)
        return body

    # --- mapping ---------------------------------------------------------------------------

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A post (``{"data": post, "includes": ...}`` or the bare post) as a NormalizedItem."""
        data = raw.get("data") if isinstance(raw.get("data"), Mapping) else raw
        includes = raw.get("includes") if isinstance(raw.get("includes"), Mapping) else {}
        assert isinstance(data, Mapping) and isinstance(includes, Mapping)
        post_id = _str_id(data.get("id"))
        if post_id is None:
            raise MalformedPayload("X: a post has no 'id'.")
        if not isinstance(data.get("text"), str):
            raise MalformedPayload(f"X: post {post_id} has no 'text'.")
        text, entities = _full_text(data)
        metrics_raw = data.get("public_metrics")
        users = {
            _str_id(user.get("id")): user
            for user in includes.get("users") or []
            if isinstance(user, Mapping)
        }
        retweeted_id = _referenced(data, "retweeted")
        quoted = None
        if retweeted_id is not None:
            # X's public_metrics of a retweet are the original's: not the retweet's own.
            metrics_raw = None
            original = _included_post(includes, retweeted_id)
            prefix = _RETWEET_PREFIX.match(text)
            if original is not None and prefix is not None:
                original_text, entities = _full_text(original)
                text = prefix.group() + original_text
            quoted = _quoted_post(Relation.REPOST, retweeted_id, original, users)
        elif (quoted_id := _referenced(data, "quoted")) is not None:
            quoted = _quoted_post(
                Relation.QUOTE, quoted_id, _included_post(includes, quoted_id), users
            )
        text = with_poll_options(text, _poll_options(data, includes))
        created_at = parse_time(data.get("created_at"))
        if created_at is None:
            raise MalformedPayload(f"X: post {post_id} has no valid 'created_at'.")
        author_id = _str_id(data.get("author_id"))
        if author_id is None:
            raise MalformedPayload(f"X: post {post_id} has no 'author_id'.")
        user = users.get(author_id) or {}
        username = str(user.get("username") or "")
        author = NormalizedAuthor(
            platform_id=author_id,
            handle=username or author_id,
            display_name=str(user.get("name") or ""),
            url=f"https://x.com/{username}" if username else "",
        )
        url = (
            f"https://x.com/{username}/status/{post_id}"
            if username
            else f"https://x.com/i/web/status/{post_id}"
        )
        metrics = {
            str(name): value
            for name, value in (metrics_raw.items() if isinstance(metrics_raw, Mapping) else ())
            if isinstance(value, int) and not isinstance(value, bool)
        }
        return NormalizedItem(
            platform_id=post_id,
            kind=kind,
            text=html.unescape(text),  # X escapes &, < and > in post text
            created_at=created_at,
            author=author,
            thread_id=_str_id(data.get("conversation_id")) or post_id,
            parent_id=_replied_to(data),
            url=url,
            urls=links_without_quoted_post(_shared_links(entities), quoted),
            media=self._media(data, includes),
            metrics=metrics,
            language=_language(data.get("lang")),
            raw={"data": dict(data), "includes": dict(includes)},
            quoted=quoted,
        )

    @staticmethod
    def _media(data: Mapping[str, Any], includes: Mapping[str, Any]) -> tuple[Media, ...]:
        attachments = data.get("attachments")
        keys = attachments.get("media_keys") if isinstance(attachments, Mapping) else None
        if not keys:
            return ()
        by_key = {
            entry.get("media_key"): entry
            for entry in includes.get("media") or []
            if isinstance(entry, Mapping)
        }
        media = []
        for key in keys:
            entry = by_key.get(key)
            if entry is None:
                continue
            # A photo's image is its url; a video's or GIF's is in its variants (its
            # preview_image_url is only the thumbnail).
            media.append(
                Media(
                    kind=_MEDIA_KINDS.get(str(entry.get("type")), "other"),
                    url=str(entry.get("url") or "")
                    or _video_url(entry)
                    or str(entry.get("preview_image_url") or ""),
                    description=str(entry.get("alt_text") or ""),
                )
            )
        return tuple(media)

    def _page_items(
        self,
        body: Mapping[str, Any],
        what: str,
        kind_of: Callable[[Mapping[str, Any]], ItemKind],
        seen: set[str],
    ) -> list[NormalizedItem]:
        """The posts of one page, oldest first, with the includes that concern each."""
        posts = body.get("data") or []
        if not isinstance(posts, list) or not all(isinstance(p, Mapping) for p in posts):
            raise MalformedPayload(f"X: 'data' is not a list of posts while {what}.")
        includes = body.get("includes") or {}
        if not isinstance(includes, Mapping):
            raise MalformedPayload(f"X: 'includes' is not an object while {what}.")
        users = [u for u in includes.get("users") or [] if isinstance(u, Mapping)]
        media = [m for m in includes.get("media") or [] if isinstance(m, Mapping)]
        polls = [p for p in includes.get("polls") or [] if isinstance(p, Mapping)]
        referenced = {
            _str_id(t.get("id")): t
            for t in includes.get("tweets") or []
            if isinstance(t, Mapping) and _str_id(t.get("id"))
        }
        items = []
        for post in reversed(posts):
            post_id = _str_id(post.get("id"))
            if post_id is None or post_id in seen:
                continue
            attachments = post.get("attachments")
            keys = (
                set(attachments.get("media_keys") or [])
                if isinstance(attachments, Mapping)
                else set()
            )
            # The posts it retweets or quotes, and their authors (not the post it answers).
            own_tweets = [
                referenced[ref_id]
                for kind in ("retweeted", "quoted")
                if (ref_id := _referenced(post, kind)) in referenced
            ]
            authors = {_str_id(post.get("author_id"))}
            authors.update(_str_id(t.get("author_id")) for t in own_tweets)
            own_includes: dict[str, Any] = {
                "users": [u for u in users if _str_id(u.get("id")) in authors]
            }
            if keys:
                own_includes["media"] = [m for m in media if m.get("media_key") in keys]
            if poll_ids := _poll_ids(post):
                own_includes["polls"] = [p for p in polls if _str_id(p.get("id")) in poll_ids]
            if own_tweets:
                own_includes["tweets"] = own_tweets
            items.append(self.map_item({"data": post, "includes": own_includes}, kind_of(post)))
            seen.add(post_id)
        return items

    # --- fetch -----------------------------------------------------------------------------

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Own posts, mentions, replies in the account's conversations, then the search."""
        state: Cursor = copy.deepcopy(dict(cursor or {}))
        if state.get("user_id") not in (None, self.user_id):
            log.warning("X: the cursor belongs to another account; full resync.")
            state = {}
        state["user_id"] = self.user_id
        conversations = [
            c for c in state.get("conversations") or [] if isinstance(c, str) and c.isdigit()
        ]
        state["conversations"] = self._recent(conversations)
        seen: set[str] = set()
        since_start = (datetime.now(UTC) - timedelta(days=HISTORY_DAYS)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )

        def remember(items: list[NormalizedItem]) -> None:
            known = list(state["conversations"])
            known.extend(i.thread_id for i in items if i.thread_id and i.thread_id not in known)
            state["conversations"] = self._recent(known)

        yield from self._stream(
            state,
            "posts",
            "users_tweets",
            "listing the account's posts",
            lambda **kw: self._client.get_users_tweets(self.user_id, **kw),
            {"exclude": ["retweets"]},
            since_start,
            "pagination_token",
            lambda body, what: self._page_items(body, what, _own_kind, seen),
            after_page=remember,
        )
        yield from self._stream(
            state,
            "mentions",
            "users_mentions",
            "listing the account's mentions",
            lambda **kw: self._client.get_users_mentions(self.user_id, **kw),
            {},
            since_start,
            "pagination_token",
            lambda body, what: self._page_items(
                body, what, lambda p: self._conversation_kind(p, state, ItemKind.MENTION), seen
            ),
        )
        replies_query = self._replies_query(state["conversations"])
        if replies_query or state.get("replies", {}).get("pass"):
            yield from self._stream(
                state,
                "replies",
                "search_recent",
                "searching the replies to the account's posts",
                lambda **kw: self._client.search_recent_tweets(**kw),
                {"query": replies_query},
                None,
                "next_token",
                lambda body, what: self._page_items(
                    body, what, lambda p: self._conversation_kind(p, state, ItemKind.COMMENT), seen
                ),
            )
        if self.query:
            if state.get("search", {}).get("query") != self.query:
                state["search"] = {"query": self.query}
            yield from self._stream(
                state,
                "search",
                "search_recent",
                "searching recent posts for the listening query",
                lambda **kw: self._client.search_recent_tweets(**kw),
                {"query": self.query},
                None,
                "next_token",
                lambda body, what: self._page_items(body, what, lambda p: ItemKind.POST, seen),
            )

    def _conversation_kind(
        self, post: Mapping[str, Any], state: Cursor, otherwise: ItemKind
    ) -> ItemKind:
        """COMMENT or REPLY for a post in the account's conversations, else ``otherwise``."""
        parent = _replied_to(post)
        conversation = _str_id(post.get("conversation_id"))
        in_ours = conversation in state["conversations"]
        answers_us = _str_id(post.get("in_reply_to_user_id")) == self.user_id
        if parent is None or not (in_ours or answers_us):
            return otherwise
        # Answering the conversation's root: the root is the account's (ours, or answered).
        return ItemKind.COMMENT if parent == conversation else ItemKind.REPLY

    @staticmethod
    def _recent(conversations: list[str]) -> list[str]:
        """Conversation ids of the last HISTORY_DAYS, newest first, without duplicates."""
        cutoff = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
        kept = [c for c in dict.fromkeys(conversations) if (snowflake_time(c) or cutoff) > cutoff]
        return sorted(kept, key=_id_key, reverse=True)

    def _replies_query(self, conversations: list[str]) -> str:
        """``(conversation_id:A OR ...) -from:<username>`` for as many as fit, newest first."""
        suffix = f" -from:{self.username}"
        terms: list[str] = []
        for conversation in conversations:
            candidate = [*terms, f"conversation_id:{conversation}"]
            if len(f"({' OR '.join(candidate)}){suffix}") > QUERY_MAX_LENGTH:
                break
            terms = candidate
        return f"({' OR '.join(terms)}){suffix}" if terms else ""

    def _stream(
        self,
        state: Cursor,
        name: str,
        endpoint: Endpoint,
        what: str,
        call: Callable[..., Any],
        params: Mapping[str, Any],
        first_start: str | None,
        token_param: str,
        to_items: Callable[[Mapping[str, Any], str], list[NormalizedItem]],
        *,
        after_page: Callable[[list[NormalizedItem]], None] | None = None,
    ) -> Iterator[FetchBatch]:
        """One stream's pass (module docstring): pages newest-first, each yielded at once."""
        stream = state.setdefault(name, {})

        def fresh_pass() -> dict[str, Any]:
            request = dict(params)
            since = stream.get("since_id")
            if since:
                request["since_id"] = since
            elif first_start:
                request["start_time"] = first_start
            return {"params": request, "next_token": None, "newest_id": None}

        pending = stream.get("pass")
        resuming = isinstance(pending, dict) and bool(pending.get("next_token"))
        if not isinstance(pending, dict) or not isinstance(pending.get("params"), dict):
            pending = fresh_pass()
        while True:
            request = dict(pending["params"])
            if pending.get("next_token"):
                request[token_param] = pending["next_token"]
            try:
                body = self._call(
                    endpoint,
                    what,
                    call,
                    tweet_fields=list(TWEET_FIELDS),
                    expansions=list(EXPANSIONS),
                    user_fields=list(USER_FIELDS),
                    media_fields=list(MEDIA_FIELDS),
                    poll_fields=list(POLL_FIELDS),
                    max_results=max(self.page_size, _MIN_RESULTS.get(endpoint, 5)),
                    **request,
                )
            except _InvalidRequest:
                if not resuming:
                    raise
                log.warning("X: a stored page token was refused while %s; pass restarted.", what)
                resuming = False
                pending = fresh_pass()
                continue
            resuming = False
            meta = body.get("meta") or {}
            if not isinstance(meta, Mapping):
                raise MalformedPayload(f"X: 'meta' is not an object while {what}.")
            items = to_items(body, what)
            if after_page is not None:
                after_page(items)
            newest = _newest(pending.get("newest_id"), _str_id(meta.get("newest_id")))
            next_token = meta.get("next_token") if body.get("data") else None
            if isinstance(next_token, str) and next_token:
                pending = {
                    "params": pending["params"],
                    "next_token": next_token,
                    "newest_id": newest,
                }
                stream["pass"] = pending
            else:
                stream.pop("pass", None)
                since = _newest(stream.get("since_id"), newest)
                if since:
                    stream["since_id"] = since
                next_token = None
            yield FetchBatch(items=items, cursor=copy.deepcopy(state))
            if next_token is None:
                return

    # --- actions ---------------------------------------------------------------------------

    def _result(
        self, body: Mapping[str, Any], detail: str, platform_id: str | None
    ) -> ActionResult:
        return ActionResult(ok=True, platform_id=platform_id, detail=detail, raw=dict(body))

    def _created(self, body: Mapping[str, Any], detail: str) -> ActionResult:
        data = body.get("data")
        post_id = _str_id(data.get("id")) if isinstance(data, Mapping) else None
        if post_id is None:
            raise MalformedPayload("X: the answer to a new post has no post id.")
        return ActionResult(
            ok=True,
            platform_id=post_id,
            detail=detail,
            raw=dict(body),
            url=f"{WEB_URL}/{self.username}/status/{post_id}",
        )

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer ``item`` publicly (``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``)."""
        body = self._call(
            "tweets_create",
            f"replying to post {item.platform_id}",
            self._client.create_tweet,
            create=True,
            text=text,
            in_reply_to_tweet_id=item.platform_id,
            forbidden="the token lacks the tweet.write permission",
            declined="the post was deleted, is not visible to the account, or its author "
            "limited who may reply",
        )
        return self._created(body, "Replied on X.")

    def private_reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer the post's author in a Direct Message
        (``POST /2/dm_conversations/with/:participant_id/messages``)."""
        author = item.author_id
        if not author or not author.isdigit():
            raise MalformedPayload(f"X: post {item.platform_id} has no author to write to.")
        if author == self.user_id:
            raise UnsupportedAction(
                "Not supported by the platform: this post is the account's own; a private "
                "reply goes to the author of someone else's post."
            )
        body = self._call(
            "dm_create",
            f"sending a Direct Message to the author of post {item.platform_id}",
            self._client.create_direct_message,
            create=True,
            participant_id=author,
            text=text,
            forbidden="the token lacks the dm.write permission (reconnect the account to "
            "grant it), or the X plan does not include Direct Messages",
            declined="the person does not accept Direct Messages from this account",
        )
        data = body.get("data")
        event = _str_id(data.get("dm_event_id")) if isinstance(data, Mapping) else None
        conversation = (
            _str_id(data.get("dm_conversation_id")) if isinstance(data, Mapping) else None
        )
        if event is None or conversation is None:
            raise MalformedPayload("X: the answer to a Direct Message has no event id.")
        return ActionResult(
            ok=True,
            platform_id=event,
            detail="Direct Message sent on X.",
            raw=dict(body),
            url=f"{WEB_URL}/messages/{conversation}",
        )

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a post: its text and up to 4 images (``POST /2/tweets`` with
        ``media.media_ids``).

        Each image is read from the library, uploaded with X's simple upload
        (``POST /2/media/upload``, multipart ``media`` and ``media_category=tweet_image``) and
        given its alt text (``POST /2/media/metadata``) before the post names it. The
        answer's ``item`` is the post as a sync maps it, built from X's answer (its id and
        text) and what Beffroi knows of the account and of the images. X has no idempotency
        key: a post whose answer was lost is :class:`OutcomeUnknown`, never sent again.
        """
        if any(medium.kind != "image" for medium in media):
            raise UnsupportedAction(
                "X: Beffroi publishes a text with up to 4 images there; a video or an "
                "animated GIF goes through X's chunked upload, which it does not use: post "
                "it from X itself."
            )
        if len(media) > _MAX_IMAGES:
            raise Refused(
                f"X takes at most {_MAX_IMAGES} images in a post; this one has {len(media)}."
            )
        files = download_all(media, self.post_limits, label=f"X (@{self.username})")
        uploaded = [self._upload_image(n, file) for n, file in enumerate(files, start=1)]
        # X takes a post of images alone; an empty text is not one it takes.
        params: dict[str, Any] = {"text": text} if text else {}
        if uploaded:
            params["media_ids"] = [media_id for media_id, _ in uploaded]
        with _publication_refusals():
            body = self._call(
                "tweets_create",
                "publishing a post",
                self._client.create_tweet,
                create=True,
                forbidden="the token lacks the tweet.write permission",
                declined="it does not take this post",
                **params,
            )
        result = self._created(body, "Published on X.")
        item = self._published_item(
            body,
            text,
            [(key, file.media.description) for (_, key), file in zip(uploaded, files, strict=True)],
        )
        return dataclasses.replace(result, item=item)

    def _upload_image(self, position: int, file: MediaFile) -> tuple[str, str]:
        """Upload one image and give it its alt text; its media id and media key."""
        what = f"uploading image {position}"
        with _publication_refusals():
            body = self._call(
                "media_upload",
                what,
                self._media_request,
                "/2/media/upload",
                files={"media": (file.name, file.content, file.mime_type)},
                data={"media_category": _IMAGE_CATEGORY, "media_type": file.mime_type},
                forbidden="the token lacks the media.write permission (reconnect the account "
                "to grant it)",
            )
        data = body.get("data")
        media_id = _str_id(data.get("id")) if isinstance(data, Mapping) else None
        media_key = data.get("media_key") if isinstance(data, Mapping) else None
        if media_id is None or not isinstance(media_key, str) or not media_key:
            raise MalformedPayload(f"X: the answer to {what} has no media id or key.")
        description = file.media.description
        if description:
            with _publication_refusals():
                self._call(
                    "media_metadata",
                    f"giving image {position} its alt text",
                    self._client.request,
                    "POST",
                    "/2/media/metadata",
                    json={"id": media_id, "metadata": {"alt_text": {"text": description}}},
                    forbidden="the token lacks the media.write permission (reconnect the "
                    "account to grant it)",
                )
        return media_id, media_key

    def _media_request(self, route: str, *, user_auth: bool = False, **kwargs: Any) -> Any:
        """A multipart ``POST`` tweepy's client has no method for (the media upload), sent
        through its session and failing with tweepy's exceptions, as its own requests do."""
        response = self._client.session.request("POST", TWEEPY_HOST + route, **kwargs)
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status >= 500:
            raise tweepy_errors.TwitterServerError(response)
        raise _TWEEPY_ERRORS.get(status, tweepy_errors.HTTPException)(response)

    def _published_item(
        self, body: Mapping[str, Any], text: str, images: list[tuple[str, str]]
    ) -> NormalizedItem:
        """The post just published as a sync maps it: X's answer has only its id and text,
        so its author is the account, its date that of its snowflake id, its images those
        uploaded (``images``: media key and alt text) and its links those of ``text``
        (X's answer writes them as t.co addresses)."""
        data = body["data"]
        post_id = str(data["id"])
        created = snowflake_time(post_id) or datetime.now(UTC)
        post: dict[str, Any] = {
            **data,
            "author_id": self.user_id,
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "conversation_id": post_id,
        }
        includes: dict[str, Any] = {"users": [{"id": self.user_id, "username": self.username}]}
        if images:
            post["attachments"] = {"media_keys": [key for key, _ in images]}
            includes["media"] = [
                {"media_key": key, "type": "photo", "alt_text": alt} for key, alt in images
            ]
        item = self.map_item({"data": post, "includes": includes}, ItemKind.POST)
        return dataclasses.replace(item, urls=text_links(text))

    def comment_on_own_post(
        self, platform_id: str, text: str, *, idempotency_key: str = ""
    ) -> ActionResult:
        """The first comment under the account's own post: a reply to it, itself a post
        (``POST /2/tweets`` with ``reply.in_reply_to_tweet_id``)."""
        with _publication_refusals():
            return self.reply(ItemRef(platform_id, ItemKind.POST, author_id=self.user_id), text)

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a post gathered (``GET /2/tweets/:id?tweet.fields=public_metrics``):
        ``likes``, ``shares`` (retweets and quotes), ``comments`` (replies) and ``views``
        (impressions, where X gives them)."""
        body = self._call(
            "tweets_lookup",
            f"reading the metrics of post {platform_id}",
            self._client.get_tweet,
            platform_id,
            tweet_fields=["public_metrics"],
        )
        data = body.get("data")
        if not isinstance(data, Mapping):
            raise NotFound(f"X: post {platform_id} was deleted or is not visible.")
        public = data.get("public_metrics")
        if not isinstance(public, Mapping):
            raise MalformedPayload(f"X: post {platform_id} came without its public_metrics.")
        metrics = counts_of(public, _METRIC_NAMES)
        shares = counts_of(public, {"retweet_count": "retweets", "quote_count": "quotes"})
        if shares:
            metrics["shares"] = sum(shares.values())
        return metrics

    def own_posts_since(self, since: datetime) -> list[OwnPost]:
        """The account's posts created at or after ``since``, newest first, at most
        :data:`~beffroi.connectors.base.OWN_POSTS_LIMIT` (``GET /2/users/:id/tweets``).

        X's reference: ``start_time`` is inclusive with a one-second grain, and the timeline
        comes newest first, paged with ``pagination_token``; so the posts of that second made
        before ``since`` are left out here, and paging stops at the first post older than
        ``since``. Retweets are excluded (``exclude=retweets``: a retweet is never a
        publication); replies are kept (a publication's first comment is one). The request
        asks for the fields a sync asks for (``created_at``, ``note_tweet``, ``entities``…)
        and :attr:`OwnPost.item` is the post as a sync maps it. :attr:`OwnPost.text` is the
        text as X holds it: ``note_tweet.text`` for a post longer than 280 characters, links
        as ``t.co`` addresses, ``&``, ``<`` and ``>`` escaped
        (:func:`~beffroi.connectors.reconcile.comparable` reads them so). Every post read
        counts towards the project's monthly cap.
        """
        what = "listing the account's own posts to find an interrupted publication"
        start = since.astimezone(UTC)
        params: dict[str, Any] = {
            "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "exclude": ["retweets"],
        }
        found: list[OwnPost] = []
        seen: set[str] = set()
        while len(found) < OWN_POSTS_LIMIT:
            body = self._call(
                "users_tweets",
                what,
                self._client.get_users_tweets,
                self.user_id,
                tweet_fields=list(TWEET_FIELDS),
                expansions=list(EXPANSIONS),
                user_fields=list(USER_FIELDS),
                media_fields=list(MEDIA_FIELDS),
                poll_fields=list(POLL_FIELDS),
                max_results=max(
                    _MIN_RESULTS["users_tweets"], min(self.page_size, OWN_POSTS_LIMIT - len(found))
                ),
                forbidden="the token lacks the tweet.read permission, or the app's X access "
                "level does not include reading the account's posts (the Free level only "
                "publishes); a person checks whether the post went out",
                **params,
            )
            items = {
                item.platform_id: item for item in self._page_items(body, what, _own_kind, seen)
            }
            older = False
            for post in body.get("data") or []:
                post_id = _str_id(post.get("id"))
                created_at = parse_time(post.get("created_at"))
                if post_id is None or created_at is None:
                    raise MalformedPayload(f"X: a post has no id or created_at while {what}.")
                if created_at < start:
                    older = True
                    break
                found.append(
                    OwnPost(
                        platform_id=post_id,
                        text=_full_text(post)[0],
                        created_at=created_at,
                        url=f"{WEB_URL}/{self.username}/status/{post_id}",
                        item=items.get(post_id),
                    )
                )
                if len(found) >= OWN_POSTS_LIMIT:
                    break
            meta = body.get("meta")
            next_token = meta.get("next_token") if isinstance(meta, Mapping) else None
            if older or not body.get("data") or not isinstance(next_token, str) or not next_token:
                break
            params["pagination_token"] = next_token
        return found

    def _set_hidden(self, item: ItemRef, hidden: bool) -> ActionResult:
        verb = "hiding" if hidden else "unhiding"
        call = self._client.hide_reply if hidden else self._client.unhide_reply
        body = self._call(
            "tweets_hidden",
            f"{verb} reply {item.platform_id}",
            call,
            item.platform_id,
            forbidden="X only lets an account hide replies in conversations it started; if "
            "this reply is in one, reconnect the account to grant tweet.moderate.write",
        )
        data = body.get("data")
        if not isinstance(data, Mapping) or data.get("hidden") is not hidden:
            raise MalformedPayload(f"X: the answer to {verb} a reply does not say it is done.")
        return self._result(body, "Hidden on X." if hidden else "Unhidden on X.", item.platform_id)

    def hide(self, item: ItemRef) -> ActionResult:
        """Hide a reply in one of the account's conversations (``PUT /2/tweets/:id/hidden``)."""
        return self._set_hidden(item, True)

    def unhide(self, item: ItemRef) -> ActionResult:
        """Show again a reply hidden with :meth:`hide`."""
        return self._set_hidden(item, False)

    def delete(self, item: ItemRef) -> ActionResult:
        """Delete one of the account's own posts (``DELETE /2/tweets/:id``).

        X lets an account delete only its own posts; other people's replies can only be
        hidden (:meth:`hide`).
        """
        if item.author_id is not None and item.author_id != self.user_id:
            raise UnsupportedAction(
                "Not supported by the platform: X lets an account delete only its own posts; "
                "this one was written by someone else. Hide the reply instead."
            )
        body = self._call(
            "tweets_delete",
            f"deleting post {item.platform_id}",
            self._client.delete_tweet,
            item.platform_id,
            forbidden="X lets an account delete only its own posts (hide other people's "
            "replies instead), and the token needs the tweet.write permission",
        )
        data = body.get("data")
        if not isinstance(data, Mapping) or data.get("deleted") is not True:
            raise MalformedPayload("X: the answer to a deletion does not say it is done.")
        return self._result(body, "Deleted on X.", item.platform_id)

    # --- OAuth -----------------------------------------------------------------------------

    @classmethod
    def accounts_from_token(
        cls, token: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[ConnectedAccount]:
        """The X account the token belongs to, from ``GET /2/users/me``."""
        access_token = str(token.get("access_token") or "").strip()
        if not access_token:
            raise AuthError("X gave no access token; connect the account again.")
        base_url = api_base_url(settings.get("base_url"), LABEL, API_BASE_URL)
        client = cls._make_client(base_url, access_token, DEFAULT_TIMEOUT)
        key = token_key(cls.platform, access_token)
        what = "reading the connected account"

        def scrub(text: str) -> str:
            return text.replace(access_token, "[redacted]")[:300]

        response = retrying(
            lambda: client.get_me(user_auth=False, user_fields=list(USER_FIELDS)),
            key=f"{key}:users_me",
            label=LABEL,
            translate=lambda exc: translate_error(exc, what, "", key, scrub),
        )
        try:
            body = response.json()
        except ValueError as exc:
            raise MalformedPayload(
                "X answered something that is not JSON for /2/users/me."
            ) from exc
        data = body.get("data") if isinstance(body, dict) else None
        user_id = _str_id(data.get("id")) if isinstance(data, Mapping) else None
        username = data.get("username") if isinstance(data, Mapping) else None
        if user_id is None or not isinstance(username, str) or not username:
            raise MalformedPayload("X: /2/users/me gave no account id or username.")
        account_settings: dict[str, Any] = {"user_id": user_id, "username": username}
        for name in ("base_url", "query"):
            if settings.get(name):
                account_settings[name] = settings[name]
        credentials: dict[str, Any] = {"access_token": access_token}
        if token.get("refresh_token"):
            credentials["refresh_token"] = token["refresh_token"]
        if token.get("scope"):
            credentials["scope"] = token["scope"]
        expires_at = token.get("expires_at")
        if not expires_at and isinstance(token.get("expires_in"), int | float):
            expires_at = int(datetime.now(UTC).timestamp() + float(token["expires_in"]))
        if expires_at:
            credentials["expires_at"] = expires_at
        return [
            ConnectedAccount(
                name=f"@{username}", settings=account_settings, credentials=credentials
            )
        ]


def translate_error(
    exc: Exception,
    what: str,
    forbidden: str,
    token_key_: str,
    scrub: Callable[[str], str],
    *,
    declined: str = "",
) -> ConnectorError | None:
    """tweepy's and requests' exceptions as the contract's errors (None: not one of theirs).

    ``forbidden`` explains a plain 403 for this call (a permission, or what X allows);
    ``declined``, for a call X may decline for a reason of its own, what a 403 that says more
    than "Forbidden" means (a Direct Message to someone who does not accept them): a
    :class:`Refused` with X's words. ``token_key_`` is closed in the rate gate, for every
    endpoint, on a monthly usage cap.
    """
    if isinstance(exc, tweepy_errors.HTTPException):
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        problem = _problem(response)
        title = str(problem.get("title") or "")
        kind = str(problem.get("type") or "")
        said = scrub(str(problem.get("detail") or title or ""))
        said = f" X said: {said}" if said else ""
        if title == "UsageCapExceeded" or kind == _USAGE_CAPPED:
            now = datetime.now(UTC)
            wait = (_start_of_next_month(now) - now).total_seconds()
            RATE_GATE.close(token_key_, wait)
            return RateLimited(
                "X: the project's monthly usage cap is spent; Beffroi reads X again at the start "
                "of next month (or raise the plan in the X developer portal).",
                wait,
            )
        if isinstance(exc, tweepy_errors.TooManyRequests) or status == 429:
            headers = getattr(response, "headers", {}) or {}
            reset = epoch_reset_seconds(headers.get("x-rate-limit-reset"))
            wait = DEFAULT_RATE_WAIT if reset is None else reset
            return RateLimited(
                f"X rate limit reached while {what}; it resets in about {wait:.0f} s.", wait
            )
        if isinstance(exc, tweepy_errors.Unauthorized):
            return AuthError(
                f"X refused the access token while {what}: it was revoked or has expired. "
                "Reconnect the account in Beffroi."
            )
        if isinstance(exc, tweepy_errors.Forbidden):
            if problem.get("reason") == _NOT_ENROLLED:
                needed = scrub(str(problem.get("required_enrollment") or "a paid access level"))
                return AuthError(
                    f"X refused {what}: the developer app is not attached to a Project with the "
                    f"access level this endpoint needs ({needed}). Attach it to a Project on a "
                    "plan that includes it in the X developer portal."
                )
            if kind == _OAUTH1_PERMISSIONS:
                return AuthError(
                    f"X refused {what}: the app lacks the 'Read and write' permission. Set it "
                    "in the app's user authentication settings, then reconnect the account."
                )
            if kind == _UNSUPPORTED_AUTH:
                return AuthError(
                    f"X refused {what}: it needs a user access token. Reconnect the account."
                )
            detail = str(problem.get("detail") or "")
            if declined and detail and detail.casefold() != title.casefold():
                return Refused(f"X declined {what}: {declined}.{said}")
            reason = forbidden or "the token lacks a permission (tweet.read, users.read)"
            return AuthError(f"X refused {what}: {reason}.{said}")
        if isinstance(exc, tweepy_errors.NotFound):
            return NotFound(f"X: not found while {what} (deleted, or not visible).{said}")
        if isinstance(exc, tweepy_errors.TwitterServerError):
            return TransientError(f"X answered a server error ({status}) while {what}.")
        if isinstance(exc, tweepy_errors.BadRequest):
            return _InvalidRequest(f"X refused the request as invalid while {what}.{said}")
        return ConnectorError(f"X refused the request (HTTP {status}) while {what}.{said}")
    if isinstance(exc, requests.Timeout):
        return TransientError(f"X did not answer in time while {what}.")
    if isinstance(exc, requests.RequestException):
        return unreachable("X", exc, f" while {what}")
    return None
