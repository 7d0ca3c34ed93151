"""The connector contract: every platform is one module that honours it.

A connector turns a platform's payloads into :class:`NormalizedItem` values and performs the
actions the platform's API allows. It knows nothing of Django or of the database: it is
given its settings, its decrypted credentials and the cursor of the last sync, and it yields
batches of items each with the cursor to store once the batch is safely ingested. That makes
every sync resumable: a crash between two batches loses nothing and re-fetching a batch
duplicates nothing (items are unique per source and platform id).

The shape follows 4CAT's data-source contract (options, validate, fetch generator, map item)
plus actions. Unsupported actions raise :class:`UnsupportedAction` with a sentence a person
can read; they never fail silently.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from beffroi.connectors.post_limits import PostLimits

if TYPE_CHECKING:
    from beffroi.connectors.oauth import OAuthClient


#: The most own posts :meth:`Connector.own_posts_since` returns (one or two pages).
OWN_POSTS_LIMIT = 100


class ItemKind(enum.StrEnum):
    """What an item is, whatever the platform calls it."""

    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"
    MESSAGE = "message"
    MENTION = "mention"


class FetchKind(enum.StrEnum):
    """What a connector can fetch."""

    OWN_POSTS = "own_posts"
    COMMENTS = "comments"
    MENTIONS = "mentions"
    MESSAGES = "messages"
    SEARCH = "search"
    #: A live stream read up to the present on each sync (Bluesky's Jetstream).
    STREAM = "stream"
    FILE = "file"


class Action(enum.StrEnum):
    """What a connector may do on the platform."""

    REPLY = "reply"
    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"
    PUBLISH = "publish"
    REPORT = "report"
    #: Answer the author of a public comment in a private message (Facebook's private reply).
    PRIVATE_REPLY = "private_reply"
    #: Change the text (or metadata) of one of the account's own posts or videos.
    EDIT = "edit"


class AuthMethod(enum.StrEnum):
    """How an account is connected."""

    #: The platform's OAuth flow, run from the web application (Meta, X, Google, TikTok).
    OAUTH2 = "oauth2"
    #: An access token the administrator creates on the platform and pastes (Mastodon).
    TOKEN = "token"  # noqa: S105 (a method name)
    #: A handle and an app password (Bluesky).
    APP_PASSWORD = "app_password"  # noqa: S105 (a method name)
    #: API credentials of a user account (Telegram's api_id/api_hash and a session).
    API_CREDENTIALS = "api_credentials"
    #: Nothing: public data (web previews, feeds).
    NONE = "none"
    #: Nothing to connect: files are uploaded.
    FILE = "file"


#: The setting the veille owns on a listening source: the hashtags its watches listen to,
#: separated by spaces. Connectors that listen add them to what the administrator set; no
#: form shows or changes it.
WATCH_HASHTAGS = "watch_hashtags"


# --- errors -------------------------------------------------------------------------------


class ConnectorError(Exception):
    """Base of every error a connector raises; the message is meant for a person."""


class ConfigurationError(ConnectorError):
    """The source's settings or credentials are missing or invalid."""


class AuthError(ConnectorError):
    """The platform refused the credentials (revoked or expired token, wrong password)."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down; ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotFound(ConnectorError):
    """The object (account, status, comment) does not exist or is no longer visible."""


class UnsupportedAction(ConnectorError):
    """The platform's API does not allow this action, or this connector does not do it."""


class Refused(ConnectorError):
    """The platform understood the action and declined it for a reason of its own, said in
    its words (the person does not accept messages from the account, comments are closed,
    the comment was already answered in private): nothing was done, and asking again the
    same way is refused again until that changes."""


class MalformedPayload(ConnectorError):
    """The platform answered something that is not what its documentation promises."""


class TransientError(ConnectorError):
    """A network failure or a 5xx answer: trying again later may work."""


class OutcomeUnknown(TransientError):
    """A request that creates something (a reply, a private reply, a post) failed after it
    was sent: the platform may or may not have acted (the answer was lost to a read timeout
    or a dropped connection, or the platform failed while answering, HTTP 500/502/504).

    Sending it again may post twice, so it is never retried by itself inside the call; what
    called decides (a reply becomes *unknown* and a person checks). It stays a
    :class:`TransientError` for the rest: an idempotent action is safely tried again later.
    """


# --- data -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NormalizedAuthor:
    """A platform account, as far as the platform tells."""

    platform_id: str
    handle: str
    display_name: str = ""
    url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Media:
    """An attachment: its kind (image, video, audio, link, other), address and description."""

    kind: str
    url: str
    description: str = ""


class Relation(enum.StrEnum):
    """How an item carries another one."""

    QUOTE = "quote"  # the author comments on it (X quote, Bluesky record embed, Mastodon quote)
    REPOST = "repost"  # the author passes it on as it is (retweet, reblog)


@dataclass(frozen=True, slots=True)
class QuotedItem:
    """The post an item quotes or reposts, as its reader sees it beside the item.

    ``text`` is empty where the platform sent only a reference (a deleted or withheld post,
    a quote not included in the page); ``url`` then still says where it is.
    """

    relation: Relation
    platform_id: str | None
    text: str
    #: The quoted post's author: their handle, or their name where the platform has no handle.
    author: str
    url: str


@dataclass(frozen=True, slots=True)
class NormalizedItem:
    """One post, comment, reply, private message or mention, from any platform.

    ``platform_id`` is unique within the source; ``thread_id`` is the platform id of the root
    post of the conversation and ``parent_id`` that of the item it answers. ``raw`` is the
    platform's payload kept verbatim (as JSON-compatible data) for evidence.
    """

    platform_id: str
    kind: ItemKind
    text: str
    created_at: datetime
    author: NormalizedAuthor
    thread_id: str | None = None
    parent_id: str | None = None
    url: str = ""
    urls: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    metrics: Mapping[str, int] = field(default_factory=dict)
    language: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    #: Set only where one source carries items of several platforms (a file import).
    platform: str | None = None
    #: The post this one quotes or reposts (moderation and the veille read it with the item).
    quoted: QuotedItem | None = None
    #: The platform's own moderation labels on the post or its author (Bluesky's ``labels``:
    #: ``porn``, ``spam``, ``!warn``…), as the platform names them.
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchBatch:
    """Items fetched together and the cursor to store once they are ingested."""

    items: list[NormalizedItem]
    cursor: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ItemRef:
    """Enough to act on an item: its platform id, its kind and its author's platform id."""

    platform_id: str
    kind: ItemKind = ItemKind.COMMENT
    author_id: str | None = None
    thread_id: str | None = None
    parent_id: str | None = None
    #: The item's stored platform payload, for what an action needs beyond the id (a cid…).
    raw: Mapping[str, Any] = field(default_factory=dict)
    #: The item's address on the platform (where an answer to it can be seen, on platforms
    #: whose answers have no address of their own).
    url: str = ""


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the platform answered to an action."""

    ok: bool
    platform_id: str | None = None
    detail: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)
    #: Where a person sees what was done on the platform (the reply, the private message's
    #: conversation); empty when the platform gives no address.
    url: str = ""
    #: What was created, as the platform returned it (a published post): stored as an item
    #: so that its comments gather under it in the inbox. None where the platform said less.
    item: NormalizedItem | None = None


@dataclass(frozen=True, slots=True)
class OwnPost:
    """One of the connected account's own posts as the platform lists it: what is compared
    with a publication whose answer was lost (:mod:`beffroi.connectors.reconcile`)."""

    platform_id: str
    #: The post's whole text as the platform holds it (a caption; a video's title, a line
    #: break and its description), links as the platform rewrote them.
    text: str
    #: When the platform says it was created (aware).
    created_at: datetime
    url: str = ""
    #: The post as an item of its account (its comments gather under it), where mapped.
    item: NormalizedItem | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One setting or credential a connector needs (4CAT's ``options``)."""

    label: str
    required: bool = True
    secret: bool = False
    help: str = ""
    default: str = ""


def history_days_option(default: int) -> Option:
    """The ``history_days`` setting of the connectors that read back in time: how many days
    the first sync reads (read with :func:`~beffroi.connectors.values.positive_int`)."""
    return Option(label="Days of history on the first sync", required=False, default=str(default))


@dataclass(frozen=True, slots=True)
class OAuthSpec:
    """A platform's OAuth 2.0 authorization-code flow, as its documentation gives it.

    ``client_id_param`` is the name the platform gives the client id in the authorization
    request (TikTok calls it ``client_key``). The web application runs the flow
    (``beffroi.sources.oauth``); the connector then turns the token into accounts with
    :meth:`Connector.accounts_from_token`.
    """

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    pkce: bool = False
    scope_separator: str = " "
    client_id_param: str = "client_id"
    #: Extra parameters of the authorization request (``access_type=offline``…).
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    #: How the client authenticates at the token endpoint: ``client_secret_post`` (in the
    #: body) or ``client_secret_basic`` (HTTP Basic).
    token_auth: str = "client_secret_post"  # noqa: S105 (a method name)
    #: Whether the platform gives refresh tokens (Meta does not: its tokens are long-lived).
    refreshable: bool = True


@dataclass(frozen=True, slots=True)
class ConnectedAccount:
    """An account an OAuth token gives access to (a Facebook Page, a YouTube channel…)."""

    name: str
    settings: Mapping[str, Any]
    credentials: Mapping[str, Any]


def expiry_of(credentials: Mapping[str, Any]) -> datetime | None:
    """When ``credentials`` expire, from their ``expires_at`` (ISO 8601 or epoch seconds)."""
    value = credentials.get("expires_at")
    if value in (None, "", 0):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- the contract ---------------------------------------------------------------------------


class Connector(ABC):
    """A platform, read and acted on.

    Subclasses set the class attributes and implement :meth:`fetch` and :meth:`map_item`;
    they override the action methods the platform allows and list them in ``actions``.
    """

    #: Short machine name stored on sources (``mastodon``, ``file``…).
    platform: ClassVar[str]
    #: Human name of the platform.
    label: ClassVar[str]
    #: What :meth:`fetch` brings back.
    fetches: ClassVar[frozenset[FetchKind]] = frozenset()
    #: Which actions the platform's API allows through this connector.
    actions: ClassVar[frozenset[Action]] = frozenset()
    #: Non-secret settings (instance URL, account handle…) and secret credentials.
    options: ClassVar[Mapping[str, Option]] = {}
    #: How an account is connected, and the OAuth flow where there is one.
    auth: ClassVar[AuthMethod] = AuthMethod.TOKEN
    oauth: ClassVar[OAuthSpec | None] = None
    #: Why the platform does not allow an action or a fetch, in a sentence a person can read
    #: (shown by ``beffroi connectors``, in the interface and in UnsupportedAction).
    not_supported: ClassVar[Mapping[str, str]] = {}
    #: Where an administrator learns what to create on the platform's side (docs anchor).
    setup_doc: ClassVar[str] = ""
    #: What the platform accepts in a published post (length, media, alt text…); None where
    #: Beffroi does not publish there (:mod:`beffroi.connectors.post_limits`).
    post_limits: ClassVar[PostLimits | None] = None
    #: A publication sent again with the same ``idempotency_key`` is recognised by the
    #: platform (no second post): an attempt interrupted during its call may be sent again.
    idempotent_publish: ClassVar[bool] = False
    #: :meth:`own_posts_since` is implemented: a publication whose answer was lost can be
    #: looked for on the account instead of waiting for a person.
    lists_own_posts: ClassVar[bool] = False

    def __init__(self, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        self.validate_options(settings, credentials)
        self.settings = dict(settings)
        self.credentials = dict(credentials)

    @classmethod
    def validate_options(cls, settings: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """Raise :class:`ConfigurationError` naming every required option that is missing."""
        missing = [
            name
            for name, option in cls.options.items()
            if option.required and not (credentials if option.secret else settings).get(name)
        ]
        if missing:
            raise ConfigurationError(
                f"{cls.label}: missing required option(s): {', '.join(sorted(missing))}"
            )

    @abstractmethod
    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Yield what is new since ``cursor`` in batches, each with the cursor to store after it.

        Raises :class:`AuthError`, :class:`RateLimited`, :class:`MalformedPayload`,
        :class:`NotFound` or :class:`TransientError`; batches already yielded stay valid.
        """

    @abstractmethod
    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """Turn one platform payload into a :class:`NormalizedItem` or raise MalformedPayload."""

    @classmethod
    def own_account_ids(
        cls, settings: Mapping[str, Any], cursor: Mapping[str, Any]
    ) -> tuple[str, ...]:
        """The platform ids of the source's own account, when the connector knows them for
        sure (verified with the platform, kept in its cursor, or named by a setting meant for
        it); empty when it does not. A source that knows them may also read others' posts
        (hashtags, searches, others' channels): their authors are not the organization."""
        return ()

    @classmethod
    def allows(cls, action: Action, settings: Mapping[str, Any]) -> bool:
        """Whether a source with these ``settings`` can do ``action``: the platform allows it
        through this connector (``actions``), and the source's settings do not rule it out
        (Telegram's web preview reads only). What the interface offers follows it."""
        return action in cls.actions

    def supports(self, action: Action) -> bool:
        """Whether the platform allows ``action`` through this connector, as it is set up."""
        return self.allows(action, self.settings)

    def _unsupported(self, action: Action) -> UnsupportedAction:
        reason = self.not_supported.get(str(action))
        message = (
            f"Not supported by the platform: {self.label} does not allow the action '{action}'."
        )
        return UnsupportedAction(f"{message} {reason}" if reason else message)

    # --- credentials ---------------------------------------------------------------------

    def _refresh_client(self) -> OAuthClient | None:
        """The instance's OAuth application when a refresh is possible (an :class:`OAuthSpec`
        that refreshes, a refresh token, the application configured), else None."""
        spec = self.oauth
        if spec is None or not spec.refreshable or not self.credentials.get("refresh_token"):
            return None
        from beffroi.connectors import oauth  # the OAuth client library only when needed

        return oauth.client_for(self.platform, spec)

    def can_refresh(self) -> bool:
        """Whether :meth:`refresh_credentials` can renew these credentials."""
        return self._refresh_client() is not None

    def refresh_credentials(self) -> Mapping[str, Any] | None:
        """New credentials from the refresh token, or None when this platform cannot refresh.

        Raises :class:`AuthError` when the platform refuses (revoked refresh token): the
        account must be connected again. The default refreshes with the platform's OAuth
        token endpoint when :meth:`can_refresh`.
        """
        client = self._refresh_client()
        if client is None or self.oauth is None:
            return None
        from beffroi.connectors import oauth

        return oauth.refresh(client, self.oauth, self.credentials)

    @classmethod
    def accounts_from_token(
        cls, token: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[ConnectedAccount]:
        """The accounts an OAuth ``token`` opens (``settings``: the API base URL…).

        The default is one account holding the token itself; platforms where a user token
        leads to other tokens (Facebook Pages) override it.
        """
        credentials = {
            key: token[key]
            for key in ("access_token", "refresh_token", "expires_at", "scope")
            if token.get(key) not in (None, "")
        }
        return [ConnectedAccount(name=cls.label, settings=dict(settings), credentials=credentials)]

    def close(self) -> None:
        """Release what the connector holds open (HTTP connections). Callers close a
        connector once its sync or action is over; the default holds nothing."""
        return None

    def on_connected(self) -> None:
        """Called once an account is connected from the web application (Facebook subscribes
        the app to the Page's real-time changes). Raises a :class:`ConnectorError` when the
        platform refuses; the account stays connected and syncs as usual."""
        return None

    # --- webhooks --------------------------------------------------------------------------

    @classmethod
    def webhook_items(cls, payload: Mapping[str, Any]) -> Iterator[tuple[str, NormalizedItem]]:
        """Items carried by a real-time delivery, each with the platform account it concerns.

        Only platforms with webhooks implement it; the web application verifies the
        signature before calling it.
        """
        raise UnsupportedAction(f"{cls.label} has no real-time deliveries in Beffroi.")

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer ``item`` publicly with ``text``.

        ``idempotency_key`` names this reply (the same for every attempt to send it): a
        connector whose platform honours such a key sends it, so that a repeat of the
        request returns the reply already posted instead of posting it again; the others
        ignore it.
        """
        raise self._unsupported(Action.REPLY)

    def hide(self, item: ItemRef) -> ActionResult:
        """Hide ``item`` from the public while keeping it on the platform."""
        raise self._unsupported(Action.HIDE)

    def unhide(self, item: ItemRef) -> ActionResult:
        """Undo :meth:`hide`."""
        raise self._unsupported(Action.UNHIDE)

    def delete(self, item: ItemRef) -> ActionResult:
        """Delete ``item`` (on most platforms only the account's own items or comments)."""
        raise self._unsupported(Action.DELETE)

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a new post from the connected account.

        ``idempotency_key`` names this publication (the same for every attempt): connectors
        whose platform can tell a repeat say so with :attr:`idempotent_publish`, and a repeat
        with the same key returns the post already published instead of a second one.
        """
        raise self._unsupported(Action.PUBLISH)

    def comment_on_own_post(
        self, platform_id: str, text: str, *, idempotency_key: str = ""
    ) -> ActionResult:
        """Comment under the account's own post ``platform_id`` (a publication's first
        comment, where ``post_limits.first_comment``)."""
        raise self._unsupported(Action.REPLY)

    def own_posts_since(self, since: datetime) -> list[OwnPost]:
        """The account's own posts created at or after ``since`` (aware), newest first, at
        most :data:`OWN_POSTS_LIMIT`: read to find a publication whose answer was lost.
        Raises the same errors as other calls (:class:`AuthError`, :class:`RateLimited`…),
        :class:`UnsupportedAction` where the platform gives no way to list them."""
        raise UnsupportedAction(
            f"{self.label}: Beffroi cannot list the account's own posts here; a person checks "
            "whether the post went out."
        )

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What the account's post gathered: ``likes``, ``shares``, ``comments``, ``views``
        (those the platform gives; others left out)."""
        raise UnsupportedAction(f"{self.label}: Beffroi does not read back post metrics here.")

    def report(self, item: ItemRef, reason: str) -> ActionResult:
        """Report ``item`` or its author to the platform's moderators."""
        raise self._unsupported(Action.REPORT)

    def private_reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer the author of the public comment ``item`` in a private message
        (``idempotency_key``: as for :meth:`reply`)."""
        raise self._unsupported(Action.PRIVATE_REPLY)

    def edit(self, item: ItemRef, text: str) -> ActionResult:
        """Change the text of the account's own post ``item`` (a video's title and
        description on YouTube: first line and the rest)."""
        raise self._unsupported(Action.EDIT)
