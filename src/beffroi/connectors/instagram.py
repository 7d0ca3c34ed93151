"""Instagram professional accounts, through the Instagram Graph API (Facebook Login).

Requests go to ``graph.facebook.com`` with the token of the Facebook Page the Instagram
account is linked to, through :class:`~beffroi.connectors.http.ApiClient` (httpx), with the
error and usage-header rules of :mod:`beffroi.connectors.graph`.

What a sync brings back, in this order, each stage in batches of about one API page:

1. the account's media (``GET /{ig-user-id}/media`` with ``since``), read newest first as
   Graph pages them and replayed oldest first, as POSTs;
2. the comments under the media of the last :data:`REREAD_DAYS` days (``history_days`` on
   the first sync) that have comments: ``GET /{ig-media-id}/comments`` with their
   ``replies{...}``; a reply list with more pages is read with
   ``GET /{ig-comment-id}/replies``. Top-level comments are COMMENTs, replies REPLYs; one
   batch per media;
3. the media the account is tagged in (``GET /{ig-user-id}/tags``, newest first), back to the
   previous sync, replayed oldest first as MENTIONs.

What an item carries: a media's caption and a comment's text, with the addresses written in
them as its links. A media's files: an image's ``media_url``; a video's ``media_url`` (the
video file; ``thumbnail_url`` is only its cover, used when Instagram withholds the file); a
carousel's ``children{media_type,media_url,thumbnail_url,permalink}`` one by one (its own
``media_url`` is only the first slide). A message (``map_item`` of a MESSAGE, the
conversations' shape) keeps its files (:func:`~beffroi.connectors.graph.message_media`): a
photo sent alone is a MESSAGE with an empty text and that image.

Cursor: ``{"ig_user_id", "media": {"since", "ids"}, "tags": {"since", "ids"},
"comments_done"}``: ``media`` and ``tags`` are :class:`~beffroi.connectors.graph.Watermark`
s (each batch's cursor can be stored once ingested; a crash loses nothing). Comments hang
under media and are re-read for the media of the window on each sync (items are unique per
platform id downstream); ``comments_done`` records that a first sync read the whole history
once. If ``ig_user_id`` changes, the cursor starts afresh. Instagram gives no link to a
comment: the link back of a comment is its media's permalink.

Own posts (:meth:`~beffroi.connectors.graph.GraphConnector.own_posts_since`, read only to
find a publication whose answer was lost): the stage 1 edge, ``GET /{ig-user-id}/media`` with
``since`` (time-based paging, as the IG User Media reference gives it), newest first, read
only down to the first older media; the text compared is the ``caption``.

Rate limits: Instagram calls are under Meta's Business Use Case limits (about 200 calls per
hour and account, times the account's impressions); ``X-Business-Use-Case-Usage`` is read on
every answer and the token closed at 100 % for ``estimated_time_to_regain_access``.
Publishing is limited to 100 posts per 24 hours by Instagram.

Actions:

- reply: ``POST /{ig-comment-id}/replies`` ``message=`` (to a reply: under its top-level
  comment, Instagram has one level of replies); to a media, ``POST /{ig-media-id}/comments``;
  to a MENTION, ``POST /{ig-user-id}/mentions`` ``media_id=&message=``;
- hide / unhide: ``POST /{ig-comment-id}`` ``hide=true|false``;
- delete: ``DELETE /{ig-comment-id}``;
- private_reply: ``POST /{ig-user-id}/messages`` ``{"recipient": {"comment_id": id},
  "message": {"text": ...}}`` (once per comment, within 7 days);
- publish (an image is required): ``POST /{ig-user-id}/media`` ``image_url=&caption=``, then
  ``GET /{container-id}?fields=status_code`` until ``FINISHED``, then
  ``POST /{ig-user-id}/media_publish`` ``creation_id=``;
- edit and report: not supported by the platform (see ``not_supported``).

Webhooks: :meth:`InstagramConnector.webhook_items` maps the ``comments`` changes of an
``instagram`` delivery (checked first with :func:`~beffroi.connectors.graph.
verify_signature`, the same app secret as Facebook's).
"""

from __future__ import annotations

import dataclasses
import logging
import time
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
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.graph import (
    GRAPH_OPTIONS,
    GraphConnector,
    account_settings,
    id_of,
    iter_pages,
    message_media,
    nested_page,
    pages_from_token,
    time_of,
)
from beffroi.connectors.http import require
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import counts_of, refusals_typed
from beffroi.connectors.values import text_links, web_address

log = logging.getLogger(__name__)

LABEL = "Instagram"
#: Days during which the comments of a media are re-read on each sync.
REREAD_DAYS = 7
INSTAGRAM = "https://www.instagram.com"
#: Where a person reads the account's direct messages (a message has no address of its own).
DIRECT_INBOX = f"{INSTAGRAM}/direct/inbox/"
#: Seconds between two looks at a media container being processed, and how many looks.
POLL_INTERVAL = 2.0
MAX_POLLS = 30

#: A carousel's slides: each an IMAGE or a VIDEO of its own.
CHILDREN_FIELDS = "children{media_type,media_url,thumbnail_url,permalink}"
MEDIA_FIELDS = (
    "id,caption,media_type,media_url,thumbnail_url,permalink,timestamp,username,"
    f"comments_count,like_count,{CHILDREN_FIELDS}"
)
WINDOW_FIELDS = "id,timestamp,permalink,comments_count"
REPLY_FIELDS = "id,text,timestamp,username,from,like_count,hidden,parent_id"
COMMENT_FIELDS = (
    f"id,text,timestamp,username,from,like_count,hidden,media,replies{{{REPLY_FIELDS}}}"
)


#: What Instagram accepts in a post (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="instagram",
    label=LABEL,
    max_length=2200,
    counting=Counting.UTF16,
    requires_media=True,
    media=MediaLimits(
        kinds=frozenset({"image", "video"}),
        max_count=10,
        image_types=frozenset({"image/jpeg"}),
        video_types=frozenset({"video/mp4", "video/quicktime"}),
        max_image_bytes=8_000_000,
        max_video_bytes=300_000_000,
        min_aspect=0.8,
        max_aspect=1.91,
        min_video_seconds=3,
        max_video_seconds=900,
    ),
    max_hashtags=5,
    max_mentions=20,
    first_comment=True,
    notes=(
        "Content Publishing API: caption of 2,200 characters (counted in UTF-16 units, the "
        "strictest reading), 20 @ tags; JPEG images of 8 MB at most, width/height from 4:5 to "
        "1.91:1 (a width outside 320 to 1,440 px is rescaled, not refused); up to 10 items in "
        "a carousel; reels MP4 or MOV, 3 s to 15 min, 300 MB. The API reference still says "
        "30 hashtags, but Instagram announced in December 2025 that a caption takes 5: the "
        "stricter value is kept. Images accept an alt_text (since March 2025, no documented "
        "length). The first comment is a comment of the account under its post."
    ),
    sources=(
        "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media",
        "https://developers.facebook.com/docs/instagram-platform/content-publishing/",
        "http://routenote.com/blog/Instagram-hashtags",
    ),
)


def media_files(raw: Mapping[str, Any]) -> tuple[Media, ...]:
    """The files of an IG Media: a carousel's children one by one, a video's file (its cover
    when Instagram withholds the file, as it does for copyrighted audio), an image."""
    media_type = _text(raw.get("media_type"))
    media_url = web_address(raw.get("media_url"))
    if media_type == "CAROUSEL_ALBUM":
        children = raw.get("children")
        data = children.get("data") if isinstance(children, Mapping) else None
        slides = [
            file
            for child in (data if isinstance(data, list) else [])
            if isinstance(child, Mapping)
            for file in media_files(child)
        ]
        if slides:
            return tuple(slides)
        return (Media("image", media_url),) if media_url else ()
    if media_type == "VIDEO":
        if media_url:
            return (Media("video", media_url),)
        cover = web_address(raw.get("thumbnail_url"))
        return (Media("image", cover),) if cover else ()
    if media_url:
        return (Media("image" if media_type == "IMAGE" else "other", media_url),)
    return ()


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _user(handle: Any, person: Any = None) -> NormalizedAuthor:
    """An Instagram account from a ``username`` and a ``from`` ({id, username})."""
    who = person if isinstance(person, Mapping) else {}
    username = _text(who.get("username")) or _text(handle)
    platform_id = _str(who.get("id")) or ""
    return NormalizedAuthor(
        platform_id=platform_id,
        handle=username or platform_id or "unknown",
        display_name=username,
        url=f"{INSTAGRAM}/{username}/" if username else "",
    )


class InstagramConnector(GraphConnector):
    """An Instagram professional account: its media, their comments, the media it is tagged in.

    ``InstagramConnector(settings, credentials, page_size=25, timeout=30.0, retries=…,
    backoff=…, max_wait=…, poll_interval=2.0)``; see the module docstring for the cursor.
    """

    platform: ClassVar[str] = "instagram"
    label: ClassVar[str] = LABEL
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    fetches: ClassVar[frozenset[FetchKind]] = frozenset(
        {FetchKind.OWN_POSTS, FetchKind.COMMENTS, FetchKind.MENTIONS}
    )
    actions: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.REPLY,
            Action.HIDE,
            Action.UNHIDE,
            Action.DELETE,
            Action.PRIVATE_REPLY,
            Action.PUBLISH,
        }
    )
    options: ClassVar[Mapping[str, Option]] = {
        "ig_user_id": Option(
            label="Instagram account ID",
            help="Numeric id of the Instagram professional account (set when connecting)",
        ),
        "access_token": Option(
            label="Page access token",
            secret=True,
            help="Token of the Facebook Page linked to the account, set by Facebook Login",
        ),
        **GRAPH_OPTIONS,
    }
    account_setting: ClassVar[str] = "ig_user_id"
    account_what: ClassVar[str] = "the account"
    posts_key: ClassVar[str] = "media"
    inbound_key: ClassVar[str] = "tags"
    own_text_field: ClassVar[str] = "caption"
    not_supported: ClassVar[Mapping[str, str]] = {
        "report": "The Instagram API has no endpoint to report a comment or an account; "
        "report it from the Instagram app (hide or delete it here).",
        "edit": "The Instagram API cannot change the caption of a published post (it can only "
        "turn its comments on or off); edit it in the Instagram app.",
    }
    setup_doc: ClassVar[str] = "connectors/instagram.md"

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        *,
        poll_interval: float = POLL_INTERVAL,
        **options: Any,
    ) -> None:
        super().__init__(settings, credentials, **options)
        self.poll_interval = poll_interval

    @property
    def ig_user_id(self) -> str:
        """The Instagram professional account's numeric id."""
        return self.account_id

    # --- fetch (the stages of GraphConnector.fetch) ----------------------------------------

    def _posts_since(self, since: int) -> Iterator[NormalizedItem]:
        """The account's media from ``since`` on."""
        pages = iter_pages(
            self._client,
            f"{self.ig_user_id}/media",
            {"fields": MEDIA_FIELDS, "since": since, "limit": self.page_size},
            LABEL,
            "the account's media",
        )
        return (self.map_item(raw, ItemKind.POST) for page in pages for raw in page)

    def _comments(
        self, state: dict[str, Any], now: datetime, history_start: datetime, seen: set[str]
    ) -> Iterator[FetchBatch]:
        first = not state.get("comments_done")
        window_start = history_start if first else now - timedelta(days=REREAD_DAYS)
        media: list[tuple[str, str]] = []
        for page in iter_pages(
            self._client,
            f"{self.ig_user_id}/media",
            {
                "fields": WINDOW_FIELDS,
                "since": int(window_start.timestamp()),
                "limit": self.page_size,
            },
            LABEL,
            "the account's recent media",
        ):
            for raw in page:
                if raw.get("comments_count") == 0:
                    continue  # nothing to read under this media
                media.append((id_of(raw, LABEL, "a media"), _text(raw.get("permalink"))))
        for media_id, permalink in media:
            try:
                items = self._comments_of(media_id, permalink, seen)
            except NotFound:
                log.info("Instagram: media %s vanished before its comments were read", media_id)
                continue
            if items:
                yield FetchBatch(items, dict(state))
        state["comments_done"] = True

    def _comments_of(self, media_id: str, permalink: str, seen: set[str]) -> list[NormalizedItem]:
        items: list[NormalizedItem] = []

        def add(item: NormalizedItem) -> None:
            if item.platform_id not in seen:
                seen.add(item.platform_id)
                items.append(item)

        for page in iter_pages(
            self._client,
            f"{media_id}/comments",
            {"fields": COMMENT_FIELDS, "limit": self.page_size},
            LABEL,
            "the comments of a media",
        ):
            for raw in page:
                comment = self._comment_item(raw, media_id, permalink, None)
                add(comment)
                replies, more = nested_page(raw, "replies")
                if more:
                    replies = [
                        reply
                        for replies_page in iter_pages(
                            self._client,
                            f"{comment.platform_id}/replies",
                            {"fields": REPLY_FIELDS, "limit": self.page_size},
                            LABEL,
                            "the replies of a comment",
                        )
                        for reply in replies_page
                    ]
                for reply in replies:
                    add(self._comment_item(reply, media_id, permalink, comment.platform_id))
        return items

    def _inbound_since(self, floor: datetime) -> Iterator[NormalizedItem]:
        """The media the account was tagged in since ``floor`` (newest first)."""
        for page in iter_pages(
            self._client,
            f"{self.ig_user_id}/tags",
            {"fields": MEDIA_FIELDS, "limit": self.page_size},
            LABEL,
            "the media the account is tagged in",
        ):
            for raw in page:
                item = self.map_item(raw, ItemKind.MENTION)
                if item.created_at < floor:
                    return  # newest first: the rest was read before
                yield item

    # --- mapping ---------------------------------------------------------------------------

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """An IG Media (POST or MENTION) or IG Comment (COMMENT or REPLY) as an item."""
        if not isinstance(raw, Mapping):
            raise MalformedPayload(f"{LABEL}: an item is not an object.")
        if kind in (ItemKind.POST, ItemKind.MENTION):
            return self._media_item(raw, kind)
        if kind is ItemKind.MESSAGE:
            return _message_item(raw)
        media = raw.get("media")
        media_id = _str(media.get("id")) if isinstance(media, Mapping) else None
        return self._comment_item(raw, media_id or "", "", _str(raw.get("parent_id")))

    def _media_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        platform_id = id_of(raw, LABEL, "a media")
        permalink = _text(raw.get("permalink"))
        caption = _text(raw.get("caption"))
        own = kind is ItemKind.POST
        author = _user(raw.get("username"))
        if own:
            author = NormalizedAuthor(
                self.ig_user_id, author.handle, author.display_name, author.url
            )
        return NormalizedItem(
            platform_id=platform_id,
            kind=kind,
            text=caption,
            created_at=time_of(raw, "timestamp", LABEL, "a media"),
            author=author,
            thread_id=platform_id,
            url=permalink or f"{INSTAGRAM}/",
            urls=text_links(caption),
            media=media_files(raw),
            metrics={
                name: raw[key]
                for key, name in (("like_count", "likes"), ("comments_count", "comments"))
                if isinstance(raw.get(key), int)
            },
            raw=dict(raw),
        )

    def _comment_item(
        self, raw: Mapping[str, Any], media_id: str, permalink: str, parent_id: str | None
    ) -> NormalizedItem:
        platform_id = id_of(raw, LABEL, "a comment")
        parent = parent_id or _str(raw.get("parent_id"))
        text = _text(raw.get("text"))
        return NormalizedItem(
            platform_id=platform_id,
            kind=ItemKind.REPLY if parent else ItemKind.COMMENT,
            text=text,
            created_at=time_of(raw, "timestamp", LABEL, "a comment"),
            author=_user(raw.get("username"), raw.get("from")),
            thread_id=media_id or None,
            parent_id=parent or media_id or None,
            url=permalink or f"{INSTAGRAM}/",
            urls=text_links(text),
            metrics={"likes": raw["like_count"]} if isinstance(raw.get("like_count"), int) else {},
            raw=dict(raw),
        )

    # --- OAuth -----------------------------------------------------------------------------

    @classmethod
    def accounts_from_token(
        cls, token: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[ConnectedAccount]:
        """One account per Page linked to an Instagram professional account (Page token)."""
        accounts: list[ConnectedAccount] = []
        for page in pages_from_token(token, settings, label=LABEL, platform=cls.platform):
            instagram = page.get("instagram_business_account")
            if not isinstance(instagram, Mapping) or not _str(instagram.get("id")):
                continue
            username = _text(instagram.get("username"))
            accounts.append(
                ConnectedAccount(
                    name=f"@{username}" if username else str(instagram["id"]),
                    settings=account_settings(
                        settings,
                        ig_user_id=str(instagram["id"]),
                        username=username,
                        page_id=str(page["id"]),
                    ),
                    credentials={"access_token": page["access_token"]},
                )
            )
        return accounts

    @classmethod
    def webhook_items(cls, payload: Mapping[str, Any]) -> Iterator[tuple[str, NormalizedItem]]:
        """The comments of an ``instagram`` webhook delivery (field ``comments``), each with
        the Instagram account id it concerns.

        A delivery gives no time and no link: the comment is dated by the delivery's
        ``time`` and links to Instagram until a sync reads it. The signature must have been
        checked with :func:`beffroi.connectors.graph.verify_signature` first.
        """
        if payload.get("object") != "instagram":
            return
        entries = payload.get("entry")
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, Mapping):
                continue
            account_id = str(entry.get("id") or "")
            sent = entry.get("time")
            moment = (
                datetime.fromtimestamp(float(sent), tz=UTC)
                if isinstance(sent, int | float) and not isinstance(sent, bool)
                else datetime.now(UTC)
            )
            changes = entry.get("changes")
            for change in changes if isinstance(changes, list) else []:
                if not isinstance(change, Mapping) or change.get("field") != "comments":
                    continue
                value = change.get("value")
                if isinstance(value, Mapping):
                    yield account_id, _webhook_comment(value, moment)

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

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer a comment (under its top-level comment), a media, or a mention."""
        if item.kind is ItemKind.MENTION:
            payload = self._post(
                f"{self.ig_user_id}/mentions",
                data={"media_id": item.platform_id, "message": text},
            )
        elif item.kind is ItemKind.POST:
            payload = self._post(f"{item.platform_id}/comments", data={"message": text})
        else:
            target = item.parent_id if item.kind is ItemKind.REPLY and item.parent_id else None
            if target is None or target == item.thread_id:
                target = item.platform_id
            payload = self._post(f"{target}/replies", data={"message": text})
        # Instagram's comments have no address of their own: the media's (its permalink).
        link = item.url if item.url.startswith("https://") else f"{INSTAGRAM}/"
        return self._done(payload, _str(payload.get("id")), "reply published", link)

    def hide(self, item: ItemRef) -> ActionResult:
        """Hide a comment on the account's media (``hide=true``)."""
        payload = self._post(item.platform_id, data={"hide": "true"}, create=False)
        return self._done(payload, item.platform_id, "comment hidden")

    def unhide(self, item: ItemRef) -> ActionResult:
        """Show a hidden comment again (``hide=false``)."""
        payload = self._post(item.platform_id, data={"hide": "false"}, create=False)
        return self._done(payload, item.platform_id, "comment shown again")

    def delete(self, item: ItemRef) -> ActionResult:
        """Delete a comment on the account's media."""
        payload = require(self._client.json("DELETE", item.platform_id), dict, LABEL, "the answer")
        return self._done(payload, item.platform_id, "comment deleted")

    def private_reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Answer the author of a comment in a direct message (once, within 7 days)."""
        payload = self._post(
            f"{self.ig_user_id}/messages",
            json={"recipient": {"comment_id": item.platform_id}, "message": {"text": text}},
        )
        return self._done(
            payload, _str(payload.get("message_id")), "private reply sent", DIRECT_INBOX
        )

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a post as the Content Publishing API documents it: a media container per
        file (``POST /{ig-user-id}/media`` with ``image_url`` and its ``alt_text``, or a
        video's ``video_url`` as a reel), for several files each a carousel item
        (``is_carousel_item``) then a ``CAROUSEL`` container naming them (``children``),
        the caption on the post's container; once each is processed, ``media_publish``.

        Instagram fetches each file from its public address. The answer's ``item`` is the
        post read back (``GET /{ig-media-id}``) as a sync maps it; None if that read fails.
        """
        if not media:
            raise UnsupportedAction(
                "Instagram: a post needs at least one image or video; Instagram publishes no "
                "text alone."
            )
        if any(medium.kind not in ("image", "video") for medium in media):
            raise UnsupportedAction(
                "Instagram: Beffroi publishes images and videos there (an animated image is "
                "to be converted to a video first)."
            )
        with refusals_typed():
            if len(media) == 1:
                container_id = self._container(media[0], caption=text)
            else:
                children = [self._container(medium, carousel_item=True) for medium in media]
                container_id = self._new_container(
                    {"media_type": "CAROUSEL", "children": ",".join(children), "caption": text}
                )
            self._wait_until_finished(container_id)
            payload = self._post(
                f"{self.ig_user_id}/media_publish", data={"creation_id": container_id}
            )
        media_id = _str(payload.get("id"))
        if not media_id:
            raise MalformedPayload(f"{LABEL}: the answer to the publication has no media id.")
        item = self._published_item(media_id)
        result = self._done(payload, media_id, "post published", item.url if item else "")
        return dataclasses.replace(result, item=item)

    def _container(self, medium: Media, *, caption: str = "", carousel_item: bool = False) -> str:
        """The container of one file (processed before it is used: a carousel's items
        before their carousel, as the API asks)."""
        data: dict[str, str] = {}
        if medium.kind == "video":
            data = {"media_type": "VIDEO" if carousel_item else "REELS", "video_url": medium.url}
        else:
            data = {"image_url": medium.url}
            if medium.description:
                data["alt_text"] = medium.description
        if carousel_item:
            data["is_carousel_item"] = "true"
        else:
            data["caption"] = caption
        container_id = self._new_container(data)
        if carousel_item:
            self._wait_until_finished(container_id)
        return container_id

    def _new_container(self, data: dict[str, str]) -> str:
        # A container is not a post: one made twice expires unused, so it may be sent again.
        container = self._post(f"{self.ig_user_id}/media", data=data, create=False)
        container_id = _str(container.get("id"))
        if not container_id:
            raise MalformedPayload(f"{LABEL}: the media container answer has no id.")
        return container_id

    def _published_item(self, media_id: str) -> NormalizedItem | None:
        """The post just published, read back as a sync reads it; None if it cannot be read
        now (the publication stands)."""
        try:
            raw = require(
                self._client.get(media_id, params={"fields": MEDIA_FIELDS}), dict, LABEL, "a media"
            )
            return self._media_item(raw, ItemKind.POST)
        except ConnectorError as exc:
            log.warning(
                "Instagram: media %s is published but could not be read back: %s", media_id, exc
            )
            return None

    def comment_on_own_post(
        self, platform_id: str, text: str, *, idempotency_key: str = ""
    ) -> ActionResult:
        """The account's first comment under its own media ``platform_id``
        (``POST /{ig-media-id}/comments``)."""
        with refusals_typed():
            payload = self._post(f"{platform_id}/comments", data={"message": text})
        comment_id = _str(payload.get("id"))
        if not comment_id:
            raise MalformedPayload(f"{LABEL}: the answer to the comment has no id.")
        return self._done(payload, comment_id, "comment published")

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a media of the account gathered: ``likes`` and ``comments`` (its counts), and
        ``views`` where its insights give them (``GET /{ig-media-id}/insights?metric=views``;
        left out when Instagram has none for this media)."""
        raw = require(
            self._client.get(platform_id, params={"fields": "like_count,comments_count"}),
            dict,
            LABEL,
            "a media",
        )
        metrics = counts_of(raw, {"like_count": "likes", "comments_count": "comments"})
        try:
            insights = require(
                self._client.get(f"{platform_id}/insights", params={"metric": "views"}),
                dict,
                LABEL,
                "the media's insights",
            )
        except ConnectorError as exc:
            log.info("Instagram: no views for media %s: %s", platform_id, exc)
            return metrics
        for entry in insights.get("data") or []:
            if not isinstance(entry, Mapping) or entry.get("name") != "views":
                continue
            values = entry.get("values")
            if isinstance(values, list) and values and isinstance(values[0], Mapping):
                metrics.update(counts_of(values[0], {"value": "views"}))
        return metrics

    def _wait_until_finished(self, container_id: str) -> None:
        for attempt in range(MAX_POLLS):
            status = require(
                self._client.get(container_id, params={"fields": "status_code"}),
                dict,
                LABEL,
                "the media container",
            ).get("status_code")
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED"):
                raise ConnectorError(
                    f"{LABEL} could not process the image (container {status}); check that its "
                    "address is public and that it is a JPEG within Instagram's limits."
                )
            if status not in ("IN_PROGRESS", None):
                raise MalformedPayload(f"{LABEL}: unknown container status {status!r}.")
            if attempt + 1 < MAX_POLLS:
                time.sleep(self.poll_interval)
        raise TransientError(f"{LABEL} is still processing the image; try publishing again later.")


def _webhook_comment(value: Mapping[str, Any], moment: datetime) -> NormalizedItem:
    """A comment of a ``comments`` change: ``{"id", "text", "from", "media", "parent_id"}``."""
    comment_id = _str(value.get("id"))
    if not comment_id:
        raise MalformedPayload(f"{LABEL}: a webhook comment has no id.")
    media = value.get("media")
    media_id = (_str(media.get("id")) if isinstance(media, Mapping) else None) or None
    parent_id = _str(value.get("parent_id"))
    text = _text(value.get("text"))
    return NormalizedItem(
        platform_id=comment_id,
        kind=ItemKind.REPLY if parent_id else ItemKind.COMMENT,
        text=text,
        created_at=moment,
        author=_user(None, value.get("from")),
        thread_id=media_id,
        parent_id=parent_id or media_id,
        url=f"{INSTAGRAM}/",
        urls=text_links(text),
        raw=dict(value),
    )


def _message_item(raw: Mapping[str, Any]) -> NormalizedItem:
    """An Instagram message (``{"id", "created_time", "from": {"id", "username"}, "message",
    "attachments"}``, as the conversations edge gives it); a photo sent alone has no
    ``message``: its text stays empty and the photo is its media."""
    platform_id = id_of(raw, LABEL, "a message")
    text = _text(raw.get("message"))
    sender = raw.get("from")
    return NormalizedItem(
        platform_id=platform_id,
        kind=ItemKind.MESSAGE,
        text=text,
        created_at=time_of(raw, "created_time", LABEL, "a message"),
        author=_user(None, sender),
        url=DIRECT_INBOX,
        urls=text_links(text),
        media=message_media(raw),
        raw=dict(raw),
    )
