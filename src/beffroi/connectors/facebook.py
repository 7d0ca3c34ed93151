"""Facebook Pages, through the Graph API with httpx (:class:`~beffroi.connectors.http.ApiClient`).

What a sync brings back, in this order, each stage in batches of about one API page:

1. the Page's own posts (``GET /{page-id}/published_posts`` with ``since``), read newest
   first as Graph pages them and replayed oldest first;
2. the comments and replies under the Page's recent posts: the posts of the last
   :data:`REREAD_DAYS` days (``history_days`` on the first sync) are listed with their
   comment count, and for each post with comments ``GET /{post-id}/comments?filter=stream&
   order=reverse_chronological`` is read back to the previous sync (less
   :data:`COMMENTS_OVERLAP`), one batch per post. Replies come in the same stream with their
   ``parent``; a comment is a COMMENT, a reply to a comment a REPLY;
3. Messenger conversations (``GET /{page-id}/conversations?platform=messenger``, ordered by
   last update; Graph has no time-based paging there), each updated one read with
   ``GET /{conversation-id}/messages`` back to the previous sync, replayed oldest first as
   MESSAGEs.

What an item carries: the text of a post, comment or message, and the addresses written in
it and those of its shared links (``unshimmed_url``, the address behind Facebook's link shim)
as its links. A post's ``attachments{...}`` (an album's ``subattachments`` one by one) and a
comment's ``attachment{...}`` give its images (``media.image.src``) and videos
(``media.source``); ``full_picture`` only when Graph gives no attachment. A Messenger
message's ``attachments`` and ``sticker`` give its files (:func:`~beffroi.connectors.graph.
message_media`): a photo sent alone is a MESSAGE with an empty text and that image.

Cursor: a JSON dict ``{"page_id", "posts": {"since", "ids"}, "comments_since",
"messages": {"since", "ids"}}``. ``posts`` and ``messages`` are :class:`~beffroi.connectors.
graph.Watermark` s: the time of the newest item stored and the ids stored at that second, so
each batch's cursor can be stored once ingested and a crash loses nothing. Comments hang
under posts and are re-read for the posts of the window on each sync (the connector's
harness says ``rereads``; items are unique per platform id downstream); ``comments_since``
only moves once every post of the window was read. A comment under an older post arrives by
the real-time webhook (:meth:`FacebookConnector.webhook_items`). If ``page_id`` changes, the
cursor starts afresh.

Own posts (:meth:`~beffroi.connectors.graph.GraphConnector.own_posts_since`, read only to
find a publication whose answer was lost): the stage 1 edge, ``GET /{page-id}/published_posts``
(the Page's own posts, not visitors' as ``/feed`` would give) with ``since`` in epoch seconds,
newest first; the text compared is the post's ``message``.

Rate limits: Page tokens are under Meta's Business Use Case limits. Every answer's
``X-App-Usage`` / ``X-Business-Use-Case-Usage`` is read (:func:`~beffroi.connectors.graph.
classify`): at 100 % the token is closed in the rate gate for ``estimated_time_to_regain_
access`` before Meta has to refuse; throttling errors (4, 17, 32, 613, 80001…) become
:class:`RateLimited` with that wait.

Actions:

- reply: ``POST /{comment-or-post-id}/comments`` ``message=``; to a MESSAGE, the Send API
  ``POST /{page-id}/messages`` ``{"recipient": {"id": psid}, "messaging_type": "RESPONSE"}``;
- hide / unhide: ``POST /{comment-id}`` ``is_hidden=true|false``;
- delete: ``DELETE /{comment-id}`` (the Page's own posts too);
- private_reply: ``POST /{page-id}/messages`` ``{"recipient": {"comment_id": id},
  "message": {"text": ...}}`` (once per comment, within 7 days);
- publish: ``POST /{page-id}/feed`` ``message=``; with one image, ``POST /{page-id}/photos``
  ``url=&caption=``;
- edit: ``POST /{post-id}`` ``message=``;
- report: not supported, the Graph API has no endpoint to report content.

Webhooks: :func:`verify_signature` and :func:`verify_subscription` (re-exported from
:mod:`beffroi.connectors.graph`) check a delivery and the subscription handshake;
:meth:`FacebookConnector.webhook_items` maps its comments;
:meth:`FacebookConnector.subscribe_webhooks` subscribes the app to the Page's ``feed``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from beffroi.connectors.base import (
    Action,
    ActionResult,
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
    Option,
    UnsupportedAction,
)
from beffroi.connectors.graph import (
    GRAPH_OPTIONS,
    MESSAGE_ATTACHMENT_FIELDS,
    GraphConnector,
    account_settings,
    id_of,
    iter_pages,
    message_media,
    pages_from_token,
    time_of,
    unshimmed,
    verify_signature,
    verify_subscription,
)
from beffroi.connectors.http import require
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import counts_of, refusals_typed
from beffroi.connectors.values import parse_time, text_links, web_address

__all__ = ["FacebookConnector", "verify_signature", "verify_subscription"]

log = logging.getLogger(__name__)

LABEL = "Facebook"
#: Days during which the comments of a post are re-read on each sync.
REREAD_DAYS = 7
#: How far before the previous sync comments are read again (clocks differ).
COMMENTS_OVERLAP = timedelta(minutes=5)
#: Items per Graph page (Graph's default is 25, its maximum 100).
FACEBOOK = "https://www.facebook.com"

#: What a story attachment (a post's or a comment's) is asked for; an album's photos are its
#: ``subattachments``.
ATTACHMENT_FIELDS = "type,media_type,media,url,unshimmed_url,target"
POST_FIELDS = (
    "id,message,story,created_time,permalink_url,from,full_picture,status_type,shares,"
    f"attachments{{{ATTACHMENT_FIELDS},subattachments}}"
)
#: What :meth:`FacebookConnector.post_metrics` reads of a post.
METRIC_FIELDS = "reactions.summary(total_count).limit(0),comments.summary(true).limit(0),shares"
WINDOW_FIELDS = "id,created_time,comments.limit(0).summary(true)"
COMMENT_FIELDS = (
    "id,message,created_time,from,parent{id},permalink_url,is_hidden,like_count,"
    f"comment_count,attachment{{{ATTACHMENT_FIELDS}}}"
)
CONVERSATION_FIELDS = "id,updated_time,link"
MESSAGE_FIELDS = f"id,created_time,from,to,message,{MESSAGE_ATTACHMENT_FIELDS}"
#: Attachment types that are a video (``media.source`` is the file).
_VIDEO_TYPES = frozenset(
    {"video", "video_inline", "video_autoplay", "video_direct_response", "animated_image_video"}
)
#: Attachment types that are a link to somewhere else (its ``unshimmed_url``).
_LINK_TYPES = frozenset({"link", "share", "native_templates"})


#: What a Facebook Page accepts in a post (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="facebook",
    label=LABEL,
    max_length=63_206,
    counting=Counting.UTF16,
    media=MediaLimits(
        kinds=frozenset({"image", "gif", "video"}),
        max_count=10,
        image_types=frozenset({"image/jpeg", "image/bmp", "image/png", "image/tiff"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=4_000_000,
        alone_kinds=frozenset({"video"}),
    ),
    first_comment=True,
    link_field=True,
    notes=(
        "63,206 characters is the post limit every publisher cites; Meta's API reference "
        "gives none, nor how it counts, so the text is counted in UTF-16 units, the strictest "
        "reading. Photos: JPEG, BMP, PNG, GIF, TIFF, under 4 MB as the photo-upload guide "
        "recommends; several photos are one post (10 kept as a conservative maximum, none is "
        "documented), a video goes alone. A link card (the feed's link) replaces media. No "
        "alt-text field is documented for Page photos: the description goes in the text. The "
        "first comment is a comment of the Page under its post."
    ),
    sources=(
        "https://developers.facebook.com/docs/graph-api/photo-uploads/",
        "https://developers.facebook.com/docs/graph-api/reference/page/photos/",
        "https://developers.facebook.com/docs/graph-api/reference/page/feed/",
    ),
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _author(raw: Any, fallback_id: str = "", fallback_name: str = "") -> NormalizedAuthor:
    """A Graph ``from`` ({id, name}); Graph omits it for people who did not allow apps."""
    person = raw if isinstance(raw, Mapping) else {}
    platform_id = str(person.get("id") or fallback_id)
    name = _text(person.get("name")) or fallback_name
    return NormalizedAuthor(
        platform_id=platform_id,
        handle=name or platform_id or "unknown",
        display_name=name,
        url=f"{FACEBOOK}/{platform_id}" if platform_id else "",
    )


def story_attachment(attachment: Any) -> tuple[tuple[Media, ...], tuple[str, ...]]:
    """The media and the shared links of a story attachment (a post's or a comment's).

    An album (``subattachments``) is its photos and videos one by one, not its cover; a
    video is ``media.source`` (its page when Graph gives no file); a shared link is its
    address (``unshimmed_url``, else ``url`` through the shim), its preview image left out;
    a photo or sticker is ``media.image.src``. A photo's ``url`` is its Facebook page, not
    a shared link.
    """
    if not isinstance(attachment, Mapping):
        return (), ()
    subattachments = _dig(attachment, "subattachments", "data")
    if isinstance(subattachments, list) and subattachments:
        media: list[Media] = []
        links: list[str] = []
        for sub in subattachments:
            sub_media, sub_links = story_attachment(sub)
            media.extend(sub_media)
            links.extend(sub_links)
        return tuple(media), tuple(links)
    kind = _text(attachment.get("media_type")) or _text(attachment.get("type"))
    image = web_address(_dig(attachment, "media", "image", "src"))
    if kind in _VIDEO_TYPES:
        video = web_address(_dig(attachment, "media", "source")) or web_address(
            attachment.get("url")
        )
        return ((Media("video", video),) if video else ()), ()
    if kind in _LINK_TYPES or (not image and kind not in ("photo", "sticker")):
        link = unshimmed(attachment.get("unshimmed_url")) or unshimmed(attachment.get("url"))
        return (), ((link,) if link else ())
    return ((Media("image", image),) if image else ()), ()


def story_attachments(edge: Any) -> tuple[tuple[Media, ...], tuple[str, ...]]:
    """The media and shared links of a post's ``attachments`` edge (``{"data": [...]}``)."""
    data = edge.get("data") if isinstance(edge, Mapping) else None
    media: list[Media] = []
    links: list[str] = []
    for attachment in data if isinstance(data, list) else []:
        found_media, found_links = story_attachment(attachment)
        media.extend(found_media)
        links.extend(found_links)
    return tuple(dict.fromkeys(media)), tuple(dict.fromkeys(links))


def links_of(text: str, shared: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The addresses written in ``text`` then the shared ones, once each."""
    return tuple(dict.fromkeys((*text_links(text), *shared)))


def post_url(post_id: str) -> str:
    """A link to a post from its ``{page-id}_{post-id}`` id."""
    page, _, post = post_id.partition("_")
    return f"{FACEBOOK}/{page}/posts/{post}" if post else f"{FACEBOOK}/{post_id}"


def comment_url(post_id: str, comment_id: str) -> str:
    """A link to a comment under its post."""
    return f"{post_url(post_id)}?comment_id={comment_id.rpartition('_')[2]}"


def post_of_comment(page_id: str, comment_id: str) -> str:
    """The post id of a comment: Graph's comment ids are ``{post-object-id}_{comment}`` and
    post ids ``{page-id}_{post-object-id}``; older comments (and some webhooks) carry the
    whole post id, ``{page-id}_{post-object-id}_{comment}``."""
    parts = comment_id.split("_")
    if len(parts) >= 3:
        return f"{parts[0]}_{parts[1]}"
    return f"{page_id}_{parts[0]}" if len(parts) == 2 else ""


class FacebookConnector(GraphConnector):
    """A Facebook Page: its posts, the comments under them and its Messenger conversations.

    ``FacebookConnector(settings, credentials, page_size=25, timeout=30.0, retries=…,
    backoff=…, max_wait=…)``; see the module docstring for the cursor.
    """

    platform: ClassVar[str] = "facebook"
    label: ClassVar[str] = LABEL
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    fetches: ClassVar[frozenset[FetchKind]] = frozenset(
        {FetchKind.OWN_POSTS, FetchKind.COMMENTS, FetchKind.MESSAGES}
    )
    actions: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.REPLY,
            Action.HIDE,
            Action.UNHIDE,
            Action.DELETE,
            Action.PRIVATE_REPLY,
            Action.PUBLISH,
            Action.EDIT,
        }
    )
    options: ClassVar[Mapping[str, Option]] = {
        "page_id": Option(label="Page ID", help="Numeric id of the Facebook Page"),
        "access_token": Option(
            label="Page access token",
            secret=True,
            help="Set by connecting the Page with Facebook Login",
        ),
        **GRAPH_OPTIONS,
    }
    account_setting: ClassVar[str] = "page_id"
    account_what: ClassVar[str] = "the Page"
    posts_key: ClassVar[str] = "posts"
    inbound_key: ClassVar[str] = "messages"
    own_text_field: ClassVar[str] = "message"
    not_supported: ClassVar[Mapping[str, str]] = {
        "report": "The Graph API has no endpoint to report a comment or a profile to "
        "Facebook; report it from Facebook itself (hide or delete it here).",
    }
    setup_doc: ClassVar[str] = "connectors/facebook.md"

    @property
    def page_id(self) -> str:
        """The Page's numeric id."""
        return self.account_id

    # --- fetch (the stages of GraphConnector.fetch) ----------------------------------------

    def _posts_since(self, since: int) -> Iterator[NormalizedItem]:
        """The Page's published posts from ``since`` on."""
        pages = iter_pages(
            self._client,
            f"{self.page_id}/published_posts",
            {"fields": POST_FIELDS, "since": since, "limit": self.page_size},
            LABEL,
            "the Page's posts",
        )
        return (self.map_item(raw, ItemKind.POST) for page in pages for raw in page)

    def _comments(
        self, state: dict[str, Any], now: datetime, history_start: datetime, seen: set[str]
    ) -> Iterator[FetchBatch]:
        previous = parse_time(state.get("comments_since"))
        window_start = history_start if previous is None else now - timedelta(days=REREAD_DAYS)
        floor = previous if previous is not None else history_start
        started = datetime.now(UTC)
        posts: list[str] = []
        for page in iter_pages(
            self._client,
            f"{self.page_id}/published_posts",
            {
                "fields": WINDOW_FIELDS,
                "since": int(window_start.timestamp()),
                "limit": self.page_size,
            },
            LABEL,
            "the Page's recent posts",
        ):
            for raw in page:
                if _dig(raw, "comments", "summary", "total_count") == 0:
                    continue  # nothing to read under this post
                posts.append(id_of(raw, LABEL, "a post"))
        for post_id in posts:
            try:
                items = self._comments_of(post_id, floor, seen)
            except NotFound:
                log.info("Facebook: post %s vanished before its comments were read", post_id)
                continue
            if items:
                yield FetchBatch(items, dict(state))
        state["comments_since"] = (started - COMMENTS_OVERLAP).isoformat()

    def _comments_of(self, post_id: str, floor: datetime, seen: set[str]) -> list[NormalizedItem]:
        items: list[NormalizedItem] = []
        for page in iter_pages(
            self._client,
            f"{post_id}/comments",
            {
                "filter": "stream",
                "order": "reverse_chronological",
                "fields": COMMENT_FIELDS,
                "limit": self.page_size,
            },
            LABEL,
            "the comments of a post",
        ):
            older = False
            for raw in page:
                item = self._comment_item(raw, post_id)
                if item.created_at < floor:
                    older = True  # newest first: the rest was read by an earlier sync
                    break
                if item.platform_id not in seen:
                    seen.add(item.platform_id)
                    items.append(item)
            if older:
                break
        items.reverse()  # oldest first, like the other stages
        return items

    def _inbound_since(self, floor: datetime) -> Iterator[NormalizedItem]:
        """The messages since ``floor`` of the conversations updated since then."""
        for page in iter_pages(
            self._client,
            f"{self.page_id}/conversations",
            {"platform": "messenger", "fields": CONVERSATION_FIELDS, "limit": self.page_size},
            LABEL,
            "the Page's conversations",
        ):
            for conversation in page:
                if time_of(conversation, "updated_time", LABEL, "a conversation") < floor:
                    return  # ordered by last update: the rest has nothing new
                yield from self._messages_of(conversation, floor)

    def _messages_of(
        self, conversation: Mapping[str, Any], floor: datetime
    ) -> Iterator[NormalizedItem]:
        conversation_id = id_of(conversation, LABEL, "a conversation")
        link = conversation.get("link")
        for page in iter_pages(
            self._client,
            f"{conversation_id}/messages",
            {"fields": MESSAGE_FIELDS, "limit": self.page_size},
            LABEL,
            "the messages of a conversation",
        ):
            for raw in page:
                item = self._message_item(raw, conversation_id, link)
                if item.created_at < floor:
                    return  # newest first
                yield item

    # --- mapping ---------------------------------------------------------------------------

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A Graph Post, Comment or Message as a :class:`NormalizedItem`."""
        if not isinstance(raw, Mapping):
            raise MalformedPayload(f"{LABEL}: an item is not an object.")
        if kind is ItemKind.POST:
            return self._post_item(raw)
        if kind is ItemKind.MESSAGE:
            return self._message_item(raw, None, None)
        platform_id = id_of(raw, LABEL, "a comment")
        return self._comment_item(raw, post_of_comment(self.page_id, platform_id))

    def _post_item(self, raw: Mapping[str, Any]) -> NormalizedItem:
        platform_id = id_of(raw, LABEL, "a post")
        permalink = raw.get("permalink_url")
        picture = web_address(raw.get("full_picture"))
        shares = raw.get("shares")
        share_count = shares.get("count") if isinstance(shares, Mapping) else None
        text = _text(raw.get("message")) or _text(raw.get("story"))
        media, shared = story_attachments(raw.get("attachments"))
        if not media and picture and "attachments" not in raw:
            media = (Media("image", picture),)  # Graph gave no attachment to read
        return NormalizedItem(
            platform_id=platform_id,
            kind=ItemKind.POST,
            text=text,
            created_at=time_of(raw, "created_time", LABEL, "a post"),
            author=_author(raw.get("from"), self.page_id),
            thread_id=platform_id,
            url=permalink if isinstance(permalink, str) and permalink else post_url(platform_id),
            urls=links_of(text, shared),
            media=media,
            metrics={"shares": share_count} if isinstance(share_count, int) else {},
            raw=dict(raw),
        )

    def _comment_item(self, raw: Mapping[str, Any], post_id: str) -> NormalizedItem:
        platform_id = id_of(raw, LABEL, "a comment")
        parent = raw.get("parent")
        parent_id = str(parent.get("id")) if isinstance(parent, Mapping) else None
        permalink = raw.get("permalink_url")
        text = _text(raw.get("message"))
        media, shared = story_attachment(raw.get("attachment"))
        # Under the names the other platforms use, so that likes add up across them.
        metrics = {
            name: raw[key]
            for key, name in (("like_count", "likes"), ("comment_count", "replies"))
            if isinstance(raw.get(key), int) and not isinstance(raw.get(key), bool)
        }
        return NormalizedItem(
            platform_id=platform_id,
            kind=ItemKind.REPLY if parent_id else ItemKind.COMMENT,
            text=text,
            created_at=time_of(raw, "created_time", LABEL, "a comment"),
            author=_author(raw.get("from")),
            thread_id=post_id or None,
            parent_id=parent_id or post_id or None,
            url=(
                permalink
                if isinstance(permalink, str) and permalink
                else comment_url(post_id, platform_id)
            ),
            urls=links_of(text, shared),
            media=media,
            metrics=metrics,
            raw=dict(raw),
        )

    def _message_item(
        self, raw: Mapping[str, Any], conversation_id: str | None, link: Any
    ) -> NormalizedItem:
        platform_id = id_of(raw, LABEL, "a message")
        if isinstance(link, str) and link.startswith("https://"):
            url = link
        elif isinstance(link, str) and link.startswith("/"):
            url = f"{FACEBOOK}{link}"
        else:
            url = self._inbox()
        # A photo, voice clip or sticker sent alone has no ``message``: the item's text stays
        # empty and the files are its media.
        text = _text(raw.get("message"))
        return NormalizedItem(
            platform_id=platform_id,
            kind=ItemKind.MESSAGE,
            text=text,
            created_at=time_of(raw, "created_time", LABEL, "a message"),
            author=_author(raw.get("from")),
            thread_id=conversation_id,
            url=url,
            urls=links_of(text),
            media=message_media(raw),
            raw=dict(raw),
        )

    # --- OAuth and webhooks ----------------------------------------------------------------

    @classmethod
    def accounts_from_token(
        cls, token: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[ConnectedAccount]:
        """One account per Page the user manages, holding the Page's token.

        ``settings`` may carry ``base_url`` and, from the web flow, the Meta app's
        ``client_id`` and ``client_secret`` (used for the long-lived exchange, never kept).
        """
        return [
            ConnectedAccount(
                name=str(page.get("name") or page["id"]),
                settings=account_settings(
                    settings, page_id=str(page["id"]), page_name=page.get("name")
                ),
                credentials={"access_token": page["access_token"]},
            )
            for page in pages_from_token(token, settings, label=LABEL, platform=cls.platform)
        ]

    @classmethod
    def webhook_items(cls, payload: Mapping[str, Any]) -> Iterator[tuple[str, NormalizedItem]]:
        """The comments added or edited in a ``page`` webhook delivery, with their Page id.

        Removals, hides and other feed items (posts, reactions) are skipped; the signature
        must have been checked with :func:`verify_signature` first.
        """
        if payload.get("object") != "page":
            return
        entries = payload.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping):
                continue
            page_id = str(entry.get("id") or "")
            changes = entry.get("changes")
            for change in changes if isinstance(changes, list) else []:
                if not isinstance(change, Mapping) or change.get("field") != "feed":
                    continue
                value = change.get("value")
                if not isinstance(value, Mapping) or value.get("item") != "comment":
                    continue
                if value.get("verb") not in ("add", "edited"):
                    continue
                yield page_id, _webhook_comment(value)

    def on_connected(self) -> None:
        """Subscribe the app to the Page's comments as soon as the Page is connected."""
        self.subscribe_webhooks()

    def subscribe_webhooks(self, fields: tuple[str, ...] = ("feed",)) -> ActionResult:
        """Subscribe the app to the Page's real-time changes (``POST /{page-id}/
        subscribed_apps`` ``subscribed_fields=feed``): Meta only delivers a Page's webhooks
        (and its Instagram account's) once the Page has subscribed the app."""
        payload = self._post(
            f"{self.page_id}/subscribed_apps",
            data={"subscribed_fields": ",".join(fields)},
            create=False,
        )
        return self._done(payload, self.page_id, "webhooks subscribed")

    # --- actions ---------------------------------------------------------------------------

    def _post(self, path: str, *, create: bool = True, **kwargs: Any) -> dict[str, Any]:
        """A write (``create``: it posts something, never sent twice by itself; False for
        the idempotent ones: hiding, unhiding, editing, subscribing)."""
        response = self._client.post(path, create=create, **kwargs)
        return require(response, dict, LABEL, "the answer")

    def _done(
        self, payload: Mapping[str, Any], platform_id: str | None, detail: str, url: str = ""
    ) -> ActionResult:
        ok = payload.get("success", True) is not False
        return ActionResult(
            ok=ok, platform_id=platform_id, detail=detail, raw=dict(payload), url=url
        )

    def _inbox(self) -> str:
        """The Page's Messenger inbox, where a person reads the conversation (a message
        sent through the Send API has no address of its own)."""
        return f"https://business.facebook.com/latest/inbox/messenger?asset_id={self.page_id}"

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer a comment or post publicly, or a Messenger message in the conversation."""
        if item.kind is ItemKind.MESSAGE:
            if not item.author_id:
                raise MalformedPayload(f"{LABEL}: the message has no author to answer.")
            payload = self._post(
                f"{self.page_id}/messages",
                json={
                    "recipient": {"id": item.author_id},
                    "messaging_type": "RESPONSE",
                    "message": {"text": text},
                },
            )
            return self._done(
                payload, _str(payload.get("message_id")), "message sent", self._inbox()
            )
        payload = self._post(f"{item.platform_id}/comments", data={"message": text})
        comment_id = _str(payload.get("id"))
        post_id = item.thread_id or (item.platform_id if item.kind is ItemKind.POST else None)
        return self._done(
            payload,
            comment_id,
            "reply published",
            comment_url(post_id, comment_id) if post_id and comment_id else "",
        )

    def hide(self, item: ItemRef) -> ActionResult:
        """Hide a comment from everyone but its author and friends (``is_hidden=true``)."""
        payload = self._post(item.platform_id, data={"is_hidden": "true"}, create=False)
        return self._done(payload, item.platform_id, "comment hidden")

    def unhide(self, item: ItemRef) -> ActionResult:
        """Show a hidden comment again (``is_hidden=false``)."""
        payload = self._post(item.platform_id, data={"is_hidden": "false"}, create=False)
        return self._done(payload, item.platform_id, "comment shown again")

    def delete(self, item: ItemRef) -> ActionResult:
        """Delete a comment on the Page's posts, or one of the Page's own posts."""
        payload = require(self._client.json("DELETE", item.platform_id), dict, LABEL, "the answer")
        return self._done(payload, item.platform_id, "deleted")

    def private_reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer the author of a comment in Messenger (once per comment, within 7 days)."""
        payload = self._post(
            f"{self.page_id}/messages",
            json={"recipient": {"comment_id": item.platform_id}, "message": {"text": text}},
        )
        return self._done(
            payload, _str(payload.get("message_id")), "private reply sent", self._inbox()
        )

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a post on the Page, as the Pages API documents it:

        - text alone: ``POST /{page-id}/feed`` with ``message``, and ``link`` (the last
          address of the text, where the desk writes the post's link) for its card;
        - one image: ``POST /{page-id}/photos`` with its public ``url``, the text as
          ``caption`` and the alt text as ``alt_text_custom``;
        - several images: each an unpublished photo (``published=false``), then one
          ``POST /{page-id}/feed`` naming them in ``attached_media``.

        Facebook fetches each image from its address. The answer's ``item`` is the post read
        back (``GET /{post-id}``) as a sync maps it; None if that read fails (the post is
        published all the same). A video is to be published from Facebook itself.
        """
        if any(medium.kind not in ("image", "gif") for medium in media):
            raise UnsupportedAction(
                "Facebook: Beffroi publishes a text, a link or images (by their public "
                "address); a video is to be published from Facebook itself."
            )
        with refusals_typed():
            if not media:
                data = {"message": text}
                links = text_links(text)
                if links:
                    data["link"] = links[-1]
                payload = self._post(f"{self.page_id}/feed", data=data)
                post_id = _str(payload.get("id"))
            elif len(media) == 1:
                payload = self._post(
                    f"{self.page_id}/photos", data={**_photo(media[0]), "caption": text}
                )
                post_id = _str(payload.get("post_id")) or _str(payload.get("id"))
            else:
                attached = {
                    f"attached_media[{index}]": json.dumps({"media_fbid": photo_id})
                    for index, photo_id in enumerate(self._unpublished_photo(m) for m in media)
                }
                payload = self._post(f"{self.page_id}/feed", data={"message": text, **attached})
                post_id = _str(payload.get("id"))
        if not post_id:
            raise MalformedPayload(f"{LABEL}: the answer to the publication has no post id.")
        item = self._published_item(post_id)
        return ActionResult(
            ok=True,
            platform_id=post_id,
            detail="post published",
            raw=dict(payload),
            url=item.url if item is not None else post_url(post_id),
            item=item,
        )

    def _unpublished_photo(self, medium: Media) -> str:
        """Upload one image of a multi-photo post, not shown until the post names it (sent
        again, it makes one more hidden photo, never a second post: not a create)."""
        payload = self._post(
            f"{self.page_id}/photos", data={**_photo(medium), "published": "false"}, create=False
        )
        photo_id = _str(payload.get("id"))
        if not photo_id:
            raise MalformedPayload(f"{LABEL}: the answer to a photo upload has no id.")
        return photo_id

    def _published_item(self, post_id: str) -> NormalizedItem | None:
        """The post just published, read back as a sync reads it; None if it cannot be read
        now (the publication stands)."""
        try:
            raw = require(
                self._client.get(post_id, params={"fields": POST_FIELDS}), dict, LABEL, "a post"
            )
            return self._post_item(raw)
        except ConnectorError as exc:
            log.warning(
                "Facebook: post %s is published but could not be read back: %s", post_id, exc
            )
            return None

    def comment_on_own_post(
        self, platform_id: str, text: str, *, idempotency_key: str = ""
    ) -> ActionResult:
        """The Page's first comment under its own post ``platform_id``
        (``POST /{post-id}/comments``)."""
        with refusals_typed():
            payload = self._post(f"{platform_id}/comments", data={"message": text})
        comment_id = _str(payload.get("id"))
        if not comment_id:
            raise MalformedPayload(f"{LABEL}: the answer to the comment has no id.")
        return self._done(
            payload, comment_id, "comment published", comment_url(platform_id, comment_id)
        )

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a post of the Page gathered: ``likes`` (its reactions), ``comments`` and
        ``shares`` (``GET /{post-id}`` with the summaries of its edges)."""
        raw = require(
            self._client.get(platform_id, params={"fields": METRIC_FIELDS}),
            dict,
            LABEL,
            "a post",
        )
        found = {
            "likes": _dig(raw, "reactions", "summary", "total_count"),
            "comments": _dig(raw, "comments", "summary", "total_count"),
            "shares": _dig(raw, "shares", "count"),
        }
        return counts_of(found, {name: name for name in found})

    def edit(self, item: ItemRef, text: str) -> ActionResult:
        """Change the text of one of the Page's posts."""
        payload = self._post(item.platform_id, data={"message": text}, create=False)
        return self._done(payload, item.platform_id, "post edited")


def _dig(value: Any, *keys: str) -> Any:
    """``value[k1][k2]…``, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _photo(medium: Media) -> dict[str, str]:
    """A Page photo's parameters: its public address, and its alt text where there is one."""
    data = {"url": medium.url}
    if medium.description:
        data["alt_text_custom"] = medium.description
    return data


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _webhook_comment(value: Mapping[str, Any]) -> NormalizedItem:
    """A comment of a ``feed`` change (``created_time`` is epoch seconds there)."""
    comment_id = _str(value.get("comment_id"))
    post_id = _str(value.get("post_id")) or ""
    if not comment_id:
        raise MalformedPayload(f"{LABEL}: a webhook comment has no comment_id.")
    created = value.get("created_time")
    if isinstance(created, int | float) and not isinstance(created, bool):
        created_at = datetime.fromtimestamp(float(created), tz=UTC)
    else:
        parsed = parse_time(created)
        if parsed is None:
            raise MalformedPayload(f"{LABEL}: a webhook comment has no valid created_time.")
        created_at = parsed
    parent_id = _str(value.get("parent_id")) or post_id
    text = _text(value.get("message"))
    # A comment's photo or video comes as its address (``photo``, ``video``).
    photo, video = web_address(value.get("photo")), web_address(value.get("video"))
    return NormalizedItem(
        platform_id=comment_id,
        kind=ItemKind.REPLY if parent_id and parent_id != post_id else ItemKind.COMMENT,
        text=text,
        created_at=created_at,
        author=_author(value.get("from")),
        thread_id=post_id or None,
        parent_id=parent_id or None,
        url=comment_url(post_id, comment_id) if post_id else f"{FACEBOOK}/{comment_id}",
        urls=links_of(text),
        media=(
            *((Media("image", photo),) if photo else ()),
            *((Media("video", video),) if video else ()),
        ),
        raw=dict(value),
    )
