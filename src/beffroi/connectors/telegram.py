"""Telegram public channels, read through the web preview (``t.me/s``) or through Telethon.

Both methods listen to public channels (``channels``: usernames separated by spaces or commas)
and bring their posts as POSTs; the method "api" also brings the comments under recent posts
(the messages of the channel's discussion group: the web preview does not show them) as
COMMENTs, and the answers to a comment as REPLYs. Reading a channel gives no moderation
right: hiding, deleting or reporting are "not supported by the platform". With the method
"api" an account that administers the organization's channel publishes there
(:meth:`TelegramConnector.publish`), and the account can answer a post where Telegram lets
anyone answer it: a comment in the channel's discussion group
(``client.send_message(channel, text, comment_to=<post id>)``: Telegram finds the group's
copy of the post and replies to it there), or a comment
(``send_message(<discussion group>, text, reply_to=<comment id>)``, the group as
``messages.getDiscussionMessage`` gives it). A channel without a discussion group, or a group
the account must join first, declines it (:class:`Refused`, with Telegram's error). Beffroi
reads no private chats, so there is nobody to answer in private.

**Comments** (method "api"): after a channel's posts, the posts of the last ``history_days``
already read are listed again (newest first, one request) for their ``replies``
(``MessageReplies``: ``comments`` when the channel has a discussion group, ``max_id`` the newest
message of the post's thread); each post with a message newer than the last one read is read
with ``client.iter_messages(channel, reply_to=<post id>, min_id=<last read>, reverse=True)``
(``messages.getReplies``), at most ``max_pages`` batches per channel and sync. A comment's
platform id is ``<channel>/<post>?comment=<message id>``, the path of its public link; its
parent is the post, or the comment it answers (``reply_to_msg_id`` when ``reply_to_top_id``,
the thread, is another message). Its author is the person (user id, username, name), or the
channel itself when it comments as itself (the author of its posts). The logged-in account's
own comments are brought only when the source declares the account (``user_id``, checked
against ``get_me()``): the desk then knows them as the organization's answers; undeclared
they would read as a citizen's, so they are left out.

**method = "web"** (the default, nothing to connect): ``GET https://t.me/s/<channel>`` is the
public web preview of a channel, an HTML page listing its ~20 latest posts oldest first;
``?before=<id>`` lists the ~20 posts older than ``id`` and ``?after=<id>`` those newer. Each
post is a ``div.tgme_widget_message`` with ``data-post="<channel>/<id>"``; the page is parsed
with the standard library's ``html.parser``. A channel that does not exist, is private or has
its preview disabled is answered with a redirect to ``t.me/<channel>`` (or a contact page
without message history): :class:`NotFound` naming the channel, raised once the other
channels are read. HTTP goes through :class:`~beffroi.connectors.http.ApiClient`: a 429 closes
``t.me`` for the ``Retry-After`` it gave (the limit is per address, not per channel), a 5xx is
retried then handed back as :class:`TransientError`.

**method = "api"**: Telethon (MTProto) logged in as a user account, with ``api_id`` and
``api_hash`` from my.telegram.org and a ``StringSession`` string created once (see
``docs/connectors/telegram.md``). The client is built by :attr:`TelegramConnector.client_factory`
and driven on a private event loop; each batch is one
``client.iter_messages(channel, min_id=<last id>, reverse=True, limit=100)`` through
:func:`~beffroi.connectors.http.retrying` (``FloodWaitError`` → :class:`RateLimited` closing the
session's key; a revoked or unregistered session → :class:`AuthError`; a private or unknown
channel → :class:`NotFound`). :func:`map_message` maps a Telethon ``Message``. Telethon
speaks MTProto to Telegram's own data centres, never to an address a setting gives; the one
address a person supplies, the data centre named in the session string, is checked by
:mod:`beffroi.egress` before connecting.

Order and cursor, the same for both methods (a channel's message ids are the same in both):
``{"channels": {"<channel>": <newest id stored>}}``, and with the method "api"
``"comments": {"<channel>": {"<post id>": <newest comment id read>}}`` for the posts still in
the window. Channels are read one after the other.
A channel with an id is read forward from it (``?after=`` pages, or ``min_id`` batches), each
batch strictly newer than the last, so its cursor can be stored once the batch is ingested. A
channel without one is on its first sync: the web method reads the latest page then older
pages (``?before=``) until ``history_days`` or ``max_pages`` pages are reached, and replays
them oldest first with the same guarantee; the api method starts at ``offset_date`` =
``history_days`` ago with ``reverse=True``. A sync reads at most ``max_pages`` pages (or
batches) forward per channel; the rest comes with the next sync.

``auth`` is :attr:`AuthMethod.NONE`: the default method needs nothing, and the api method's
credentials are optional secrets of the same source (``auth`` is one value per platform).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import urlsplit

import httpx

from beffroi import egress
from beffroi.connectors.base import (
    Action,
    ActionResult,
    AuthError,
    AuthMethod,
    ConfigurationError,
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
    QuotedItem,
    RateLimited,
    Refused,
    Relation,
    TransientError,
    UnsupportedAction,
    history_days_option,
)
from beffroi.connectors.http import (
    DEFAULT_RATE_WAIT,
    ApiClient,
    HttpConnector,
    HttpOptions,
    Verdict,
    default_classify,
    outcome_of_create,
    retry_after_seconds,
    retrying,
    token_key,
    unreachable,
)
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits
from beffroi.connectors.posting import MediaFile, counts_of, download_all
from beffroi.connectors.values import clear_text_allowed, positive_int, with_poll_options

if TYPE_CHECKING:
    from typing_extensions import Unpack

LABEL = "Telegram"
DEFAULT_BASE_URL = "https://t.me"
#: Where links back to posts point, whatever ``base_url`` is (tests point it at a fake).
PUBLIC_URL = "https://t.me"
DEFAULT_HISTORY_DAYS = 7
#: Pages (web, ~20 posts) or batches (api, API_BATCH messages) read per channel and sync.
DEFAULT_MAX_PAGES = 10
API_BATCH = 100
METHODS = ("web", "api")

_SEPARATORS = re.compile(r"[\s,]+")
#: Telegram usernames: 5 to 32 letters, digits and underscores, starting with a letter (a few
#: old ones are shorter, hence 4).
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_URL_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/(?:s/)?", re.I)
_BACKGROUND_URL = re.compile(r"background-image:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
_VIEWS = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*([KMB]?)", re.I)
_MULTIPLIERS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_TEXT_BLOCKS = frozenset({"blockquote", "pre", "p", "div"})

Cursor = dict[str, int]
#: Per channel, per post (its id as a string): the newest comment id read.
CommentCursor = dict[str, dict[str, int]]


#: What a Telegram channel accepts in a message (see docs/publishing-limits.md).
POST_LIMITS = PostLimits(
    platform="telegram",
    label=LABEL,
    max_length=4096,
    counting=Counting.UTF16,
    caption_max_length=1024,
    media=MediaLimits(
        kinds=frozenset({"image", "gif", "video"}),
        max_count=10,
        image_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=10_000_000,
        max_gif_bytes=50_000_000,
        max_video_bytes=50_000_000,
        min_aspect=0.05,
        max_aspect=20,
        alone_kinds=frozenset({"gif"}),
    ),
    notes=(
        "Bot API: a message of 1 to 4,096 characters after entities parsing, a caption of "
        "1,024 (counted in UTF-16 units, the unit of its entity offsets and the stricter reading); a photo of "
        "10 MB, width/height ratio at most 20 and width + height at most 10,000 px (that sum "
        "is not checked here), other files 50 MB; an album holds 2 to 10 photos and videos, "
        "an animation goes alone. Telegram has no alt text and no comment of the channel "
        "under its own message."
    ),
    sources=(
        "https://core.telegram.org/bots/api#sendmessage",
        "https://core.telegram.org/bots/api#sendphoto",
    ),
)


# --- settings --------------------------------------------------------------------------------


def parse_channels(value: Any) -> tuple[str, ...]:
    """The ``channels`` setting as distinct lowercase usernames, in order.

    Accepts ``name``, ``@name``, ``t.me/name`` and ``https://t.me/s/name``, separated by spaces
    or commas; a ConfigurationError names an invalid one.
    """
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{LABEL}: 'channels' must list at least one public channel.")
    names: list[str] = []
    for word in _SEPARATORS.split(value.strip()):
        name = _URL_PREFIX.sub("", word).lstrip("@").strip("/").lower()
        if not _USERNAME.fullmatch(name):
            raise ConfigurationError(
                f"{LABEL}: '{word[:60]}' is not a public channel username for 'channels' "
                "(5 to 32 letters, digits or underscores, e.g. 'durov' or https://t.me/durov)."
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def _base_url(value: Any) -> str:
    url = str(value or DEFAULT_BASE_URL).strip().rstrip("/")
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and clear_text_allowed(parts.hostname or "")
    )
    if not secure or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigurationError(f"{LABEL}: 'base_url' must be an https address such as {url!r}.")
    return url


# --- the web preview -------------------------------------------------------------------------


def parse_views(value: str) -> int | None:
    """``"1.2K"`` → 1200, ``"401"`` → 401, ``"3M"`` → 3000000; None when unreadable."""
    match = _VIEWS.fullmatch(value.strip())
    if not match:
        return None
    number, suffix = match.groups()
    return round(float(number.replace(",", ".")) * _MULTIPLIERS[suffix.upper()])


@dataclass
class WebPost:
    """One ``div.tgme_widget_message`` of a preview page, as read."""

    channel: str
    message_id: int
    start: int
    html: str = ""
    text: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    datetime: str = ""
    views: str = ""
    owner_name: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)
    forwarded_name: list[str] = field(default_factory=list)
    forwarded_url: str = ""
    reply_to: str = ""
    photos: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    voices: list[str] = field(default_factory=list)
    poll_question: list[str] = field(default_factory=list)
    poll_options: list[list[str]] = field(default_factory=list)
    documents: list[list[str]] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """What is kept as ``raw``: the post's HTML verbatim and what was read from it."""
        return {
            "channel": self.channel,
            "id": self.message_id,
            "html": self.html,
            "text": _clean_text("".join(self.text)),
            "links": list(dict.fromkeys(self.links)),
            "datetime": self.datetime,
            "views": self.views.strip(),
            "owner_name": " ".join("".join(self.owner_name).split()),
            "signature": " ".join("".join(self.signature).split()),
            "forwarded_from": {
                "name": " ".join("".join(self.forwarded_name).split()),
                "url": self.forwarded_url,
            },
            "reply_to": self.reply_to,
            "photos": self.photos,
            "videos": self.videos,
            "voices": self.voices,
            "poll": (
                {
                    "question": " ".join("".join(self.poll_question).split()),
                    "options": [" ".join("".join(o).split()) for o in self.poll_options],
                }
                if self.poll_question or self.poll_options
                else None
            ),
            "documents": [" ".join("".join(title).split()) for title in self.documents],
        }


def _clean_text(text: str) -> str:
    lines = text.replace("\xa0", " ").split("\n")
    return "\n".join(line.strip() for line in lines).strip()


class ChannelPageParser(HTMLParser):
    """A ``t.me/s/<channel>`` page: its posts, whether it is a channel preview at all.

    Elements are kept on a stack (badly nested end tags close what they skip), and the parts
    of a post being read (its text, owner, views…) are "roles" of the elements that hold them.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self._line_starts = [0]
        for index, char in enumerate(source):
            if char == "\n":
                self._line_starts.append(index + 1)
        self._stack: list[tuple[str, str | None]] = []
        self._post: WebPost | None = None
        self._post_depth = 0
        self.posts: list[WebPost] = []
        #: ``section.tgme_channel_history``: the page is a channel's preview.
        self.has_history = False
        #: ``div.tgme_page``: t.me's page of a user, bot, group or preview-less channel.
        self.is_contact_page = False

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _roles(self) -> set[str]:
        return {role for _, role in self._stack if role}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        classes = set(values.get("class", "").split())
        if "tgme_channel_history" in classes:
            self.has_history = True
        if "tgme_page" in classes:
            self.is_contact_page = True
        post = self._post
        if post is None and tag == "div" and "tgme_widget_message" in classes:
            channel, _, number = values.get("data-post", "").partition("/")
            if channel and number.isdigit():
                post = self._post = WebPost(channel, int(number), self._offset())
                self._post_depth = len(self._stack)
        role = self._role(post, tag, classes, values) if post is not None else None
        if tag not in _VOID_TAGS:
            self._stack.append((tag, role))

    def _role(
        self, post: WebPost, tag: str, classes: set[str], values: dict[str, str]
    ) -> str | None:
        roles = self._roles()
        if "text" in roles:
            if tag == "br":
                post.text.append("\n")
            elif tag in _TEXT_BLOCKS:
                post.text.append("\n")
            elif tag == "a" and values.get("href", "").startswith(("https://", "http://")):
                post.links.append(values["href"])
            return None
        if "tgme_widget_message_text" in classes and "js-message_text" in classes:
            # The quoted text of a reply is a tgme_widget_message_text too (js-message_reply_text).
            return None if "reply" in roles else "text"
        if "tgme_widget_message_reply" in classes:
            post.reply_to = values.get("href", "")
            return "reply"
        if "tgme_widget_message_owner_name" in classes:
            return "owner"
        if "tgme_widget_message_from_author" in classes:
            return "signature"
        if "tgme_widget_message_views" in classes:
            return "views"
        if "tgme_widget_message_forwarded_from_name" in classes:
            post.forwarded_url = values.get("href", "")
            return "forwarded"
        if "tgme_widget_message_date" in classes:
            return "date"
        if "tgme_widget_message_link_preview" in classes:
            # The preview of a linked page or post: its video and image are the linked one's.
            return "preview"
        if "tgme_widget_message_poll_question" in classes:
            return "poll_question"
        if "tgme_widget_message_poll_option_text" in classes:
            post.poll_options.append([])
            return "poll_option"
        if "tgme_widget_message_document_title" in classes:
            post.documents.append([])
            return "document"
        if tag == "time" and "date" in roles:
            post.datetime = values.get("datetime", "")
        elif "tgme_widget_message_photo_wrap" in classes:
            found = _BACKGROUND_URL.search(values.get("style", ""))
            if found:
                post.photos.append(found.group(1))
        elif tag == "video" and values.get("src") and "preview" not in roles:
            post.videos.append(values["src"])
        elif tag == "audio" and "tgme_widget_message_voice" in classes and values.get("src"):
            post.voices.append(values["src"])
        return None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self._stack):
            return
        end = self._offset()
        while self._stack:
            open_tag, role = self._stack.pop()
            if role == "text" and self._post is not None:
                self._post.text.append("\n")
            if self._post is not None and len(self._stack) == self._post_depth:
                closing = self.source.find(">", end)
                self._post.html = self.source[self._post.start : closing + 1]
                self.posts.append(self._post)
                self._post = None
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        post = self._post
        if post is None:
            return
        roles = self._roles()
        targets = {
            "text": post.text,
            "owner": post.owner_name,
            "signature": post.signature,
            "views": None,
            "forwarded": post.forwarded_name,
            "poll_question": post.poll_question,
            "poll_option": post.poll_options[-1] if post.poll_options else None,
            "document": post.documents[-1] if post.documents else None,
        }
        for role, target in targets.items():
            if role in roles:
                if role == "views":
                    post.views += data
                elif target is not None:
                    target.append(data)


def parse_channel_page(html: str) -> ChannelPageParser:
    """Parse one preview page (see :class:`ChannelPageParser`)."""
    parser = ChannelPageParser(html)
    parser.feed(html)
    parser.close()
    return parser


def _web_classify(response: httpx.Response) -> Verdict:
    """t.me says little: statuses, and ``Retry-After`` on 429."""
    if response.status_code == 429:
        wait = retry_after_seconds(response.headers, DEFAULT_RATE_WAIT)
        return Verdict(RateLimited(f"{LABEL} asked to slow down (HTTP 429).", wait), wait)
    return default_classify(response, LABEL)


# --- mapping -----------------------------------------------------------------------------------


def post_url(channel: str, message_id: int | str) -> str:
    """The public address of a channel post."""
    return f"{PUBLIC_URL}/{channel}/{message_id}"


def _channel_author(channel: str, display_name: str, signature: str) -> NormalizedAuthor:
    return NormalizedAuthor(
        platform_id=channel.lower(),
        handle=channel,
        display_name=display_name or channel,
        url=f"{PUBLIC_URL}/{channel}",
        extra={"signature": signature} if signature else {},
    )


def _reply_parent(channel: str, href: str) -> str | None:
    """``https://t.me/<channel>/<id>`` of a reply header, as a platform id of this channel."""
    parts = urlsplit(href).path.strip("/").split("/")
    if len(parts) == 2 and parts[0].lower() == channel.lower() and parts[1].isdigit():
        return f"{channel.lower()}/{parts[1]}"
    return None


def _forwarded(raw: Mapping[str, Any], text: str) -> QuotedItem | None:
    """What a forwarded post passes on: the original's author and, where the preview links
    it (a public channel's post), its address and id. The text is the post's own: a forward
    shows the original's text as it is."""
    source = raw.get("forwarded_from")
    if not isinstance(source, Mapping) or not (source.get("name") or source.get("url")):
        return None
    url = str(source.get("url") or "")
    parts = urlsplit(url).path.strip("/").split("/")
    original = f"{parts[0].lower()}/{parts[1]}" if len(parts) == 2 and parts[1].isdigit() else None
    return QuotedItem(Relation.REPOST, original, text, str(source.get("name") or ""), url)


def _with_poll(text: str, question: str, options: list[str]) -> str:
    """The post's text, then a poll's question and its options (``- option``, one per line,
    as every connector writes a poll)."""
    block = with_poll_options(question, [option for option in options if option])
    return f"{text}\n\n{block}" if text and block else text or block


def _web_text(raw: Mapping[str, Any]) -> str:
    text = str(raw.get("text") or "")
    poll = raw.get("poll")
    if isinstance(poll, Mapping):
        return _with_poll(
            text, str(poll.get("question") or ""), [str(o) for o in poll.get("options") or ()]
        )
    return text


def _plain(value: Any) -> str:
    """A Telethon text: a string, or (newer layers) a ``TextWithEntities``."""
    if isinstance(value, Mapping):
        value = value.get("text")
    return str(value or "")


def _api_poll(media: Any) -> tuple[str, list[str]] | None:
    if not isinstance(media, Mapping) or media.get("_") != "MessageMediaPoll":
        return None
    poll = media.get("poll")
    if not isinstance(poll, Mapping):
        return None
    answers = [a for a in poll.get("answers") or () if isinstance(a, Mapping)]
    return _plain(poll.get("question")), [_plain(a.get("text")) for a in answers]


def _api_forward(message: Mapping[str, Any], text: str) -> QuotedItem | None:
    """A forwarded message passes on the original's text; its author is the name Telegram
    gives (a hidden user's ``from_name``, a channel's ``post_author``): Telethon's peer ids
    have no public address without another request."""
    header = message.get("fwd_from")
    if not isinstance(header, Mapping):
        return None
    author = str(header.get("from_name") or header.get("post_author") or "")
    return QuotedItem(Relation.REPOST, None, text, author, "")


def _map_web(raw: Mapping[str, Any]) -> NormalizedItem:
    try:
        channel = str(raw["channel"])
        message_id = int(raw["id"])
        created = datetime.fromisoformat(str(raw["datetime"]))
    except (KeyError, TypeError, ValueError):
        raise MalformedPayload(
            f"{LABEL}: a post of the web preview has no channel, id or date as expected."
        ) from None
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    platform_id = f"{channel.lower()}/{message_id}"
    parent = _reply_parent(channel, str(raw.get("reply_to") or ""))
    views = parse_views(str(raw.get("views") or ""))
    link = post_url(channel, message_id)
    media = [Media("image", str(url)) for url in raw.get("photos") or ()]
    media += [Media("video", str(url)) for url in raw.get("videos") or ()]
    media += [Media("audio", str(url)) for url in raw.get("voices") or ()]
    # A document has no public address in the preview: the post's, as the api method does.
    media += [Media("other", link, str(title)) for title in raw.get("documents") or ()]
    text = _web_text(raw)
    return NormalizedItem(
        platform_id=platform_id,
        kind=ItemKind.POST,
        text=text,
        created_at=created.astimezone(UTC),
        author=_channel_author(
            channel, str(raw.get("owner_name") or ""), str(raw.get("signature") or "")
        ),
        thread_id=parent or platform_id,
        parent_id=parent,
        url=link,
        urls=tuple(str(url) for url in raw.get("links") or ()),
        media=tuple(media),
        metrics={"views": views} if views is not None else {},
        raw=dict(raw),
        quoted=_forwarded(raw, str(raw.get("text") or "")),
    )


def to_json(value: Any) -> Any:
    """Telethon's ``to_dict()`` (datetimes, bytes) as plain JSON data."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """Telegram's entity offsets count UTF-16 code units."""
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


def _document_kind(document: Mapping[str, Any]) -> str:
    mime = str(document.get("mime_type") or "")
    for prefix in ("image", "video", "audio"):
        if mime.startswith(f"{prefix}/"):
            return prefix
    return "other"


def _api_media(media: Mapping[str, Any] | None, link: str) -> tuple[list[Media], list[str]]:
    """Attachments (the post's link: MTProto files have no public address) and web pages."""
    if not media:
        return [], []
    kind = media.get("_")
    if kind == "MessageMediaPhoto":
        return [Media("image", link)], []
    if kind == "MessageMediaDocument" and isinstance(media.get("document"), Mapping):
        return [Media(_document_kind(media["document"]), link)], []
    page = media.get("webpage")
    if kind == "MessageMediaWebPage" and isinstance(page, Mapping) and page.get("url"):
        url = str(page["url"])
        return [Media("link", url, str(page.get("title") or ""))], [url]
    return [], []


def _api_message(raw: Mapping[str, Any]) -> tuple[Mapping[str, Any], str, int, datetime]:
    """The stored Telethon message, its channel's username, its id and date."""
    message = raw.get("message")
    channel = str(raw.get("channel") or "")
    if not isinstance(message, Mapping) or message.get("_") != "Message" or not channel:
        raise MalformedPayload(f"{LABEL}: a message from the API is not a Telethon Message.")
    try:
        message_id = int(message["id"])
        created = datetime.fromisoformat(str(message["date"]))
    except (KeyError, TypeError, ValueError):
        raise MalformedPayload(f"{LABEL}: a message from the API has no id or date.") from None
    return message, channel, message_id, _aware_moment(created).astimezone(UTC)


@dataclass(frozen=True)
class _Content:
    """What a Telethon message says, whoever wrote it (a channel post or a comment)."""

    text: str
    urls: tuple[str, ...]
    media: tuple[Media, ...]
    quoted: QuotedItem | None


def _api_content(message: Mapping[str, Any], link: str) -> _Content:
    own_text = str(message.get("message") or "")
    poll = _api_poll(message.get("media"))
    urls: list[str] = []
    for entity in message.get("entities") or ():
        if entity.get("_") == "MessageEntityTextUrl" and entity.get("url"):
            urls.append(str(entity["url"]))
        elif entity.get("_") == "MessageEntityUrl":
            urls.append(_utf16_slice(own_text, int(entity["offset"]), int(entity["length"])))
    media, page_urls = _api_media(message.get("media"), link)
    return _Content(
        text=_with_poll(own_text, *poll) if poll else own_text,
        urls=tuple(dict.fromkeys(urls + page_urls)),
        media=tuple(media),
        quoted=_api_forward(message, own_text),
    )


def _map_api(raw: Mapping[str, Any]) -> NormalizedItem:
    message, channel, message_id, created = _api_message(raw)
    link = post_url(channel, message_id)
    content = _api_content(message, link)
    metrics = {
        name: int(message[name])
        for name in ("views", "forwards")
        if isinstance(message.get(name), int)
    }
    replies = message.get("replies")
    if isinstance(replies, Mapping) and isinstance(replies.get("replies"), int):
        metrics["replies"] = int(replies["replies"])
    reply_to = message.get("reply_to")
    parent = None
    if isinstance(reply_to, Mapping) and reply_to.get("reply_to_msg_id"):
        parent = f"{channel.lower()}/{reply_to['reply_to_msg_id']}"
    platform_id = f"{channel.lower()}/{message_id}"
    return NormalizedItem(
        platform_id=platform_id,
        kind=ItemKind.POST,
        text=content.text,
        created_at=created,
        author=_channel_author(
            channel, str(raw.get("title") or ""), str(message.get("post_author") or "")
        ),
        thread_id=parent or platform_id,
        parent_id=parent,
        url=link,
        urls=content.urls,
        media=content.media,
        metrics=metrics,
        raw=dict(raw),
        quoted=content.quoted,
    )


def comment_id(channel: str, post_id: int | str, message_id: int | str) -> str:
    """The platform id of a comment (or a reply to one) under a channel post: also the path
    of its public link, ``t.me/<channel>/<post>?comment=<id>``."""
    return f"{channel.lower()}/{post_id}?comment={message_id}"


#: A channel post's platform id, or a comment's (:func:`comment_id`).
_ITEM_ID = re.compile(r"(?P<channel>[^/?]+)/(?P<post>[0-9]+)(?:\?comment=(?P<comment>[0-9]+))?")


def _peer_id(peer: Any) -> tuple[str, int] | None:
    """A stored ``Peer``: ("user" or "channel", its id); None when there is none."""
    if not isinstance(peer, Mapping):
        return None
    for kind, key in (
        ("PeerUser", "user_id"),
        ("PeerChannel", "channel_id"),
        ("PeerChat", "chat_id"),
    ):
        if peer.get("_") == kind and isinstance(peer.get(key), int):
            return ("user" if kind == "PeerUser" else "channel", int(peer[key]))
    return None


def _comment_author(raw: Mapping[str, Any], message: Mapping[str, Any]) -> NormalizedAuthor:
    """Who wrote a comment: a person (by user id, with their username and name), the channel
    itself (the same author as its posts: the organization when the channel is its own),
    another channel, or the group itself (an anonymous administrator)."""
    channel = str(raw["channel"])
    stored = raw.get("sender")
    sender: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
    peer = _peer_id(message.get("from_id")) or _peer_id(message.get("peer_id"))
    if peer is None:
        raise MalformedPayload(f"{LABEL}: a comment from the API says nobody wrote it.")
    kind, number = peer
    username = str(sender.get("username") or "")
    url = f"{PUBLIC_URL}/{username}" if username else ""
    if kind == "user":
        name = " ".join(
            part for part in (sender.get("first_name"), sender.get("last_name")) if part
        )
        return NormalizedAuthor(
            platform_id=str(number),
            handle=username,
            display_name=name or username or str(number),
            url=url,
        )
    if number == raw.get("channel_id"):
        return _channel_author(
            channel, str(raw.get("title") or ""), str(message.get("post_author") or "")
        )
    # Another channel, or the group: by its username where it has one, as posts name channels.
    return NormalizedAuthor(
        platform_id=username.lower() or f"channel-{number}",
        handle=username,
        display_name=str(sender.get("title") or username or number),
        url=url,
    )


def _map_comment(raw: Mapping[str, Any]) -> NormalizedItem:
    """A message of a channel's discussion group answering one of its posts: a COMMENT under
    the post, or a REPLY to another comment (``reply_to_top_id`` is the thread, the group's
    copy of the post; ``reply_to_msg_id`` the message answered)."""
    message, channel, message_id, created = _api_message(raw)
    try:
        post_id = int(raw["post"])
    except (KeyError, TypeError, ValueError):
        raise MalformedPayload(f"{LABEL}: a comment from the API names no post.") from None
    post = f"{channel.lower()}/{post_id}"
    parent = post
    reply_to = message.get("reply_to")
    if isinstance(reply_to, Mapping):
        top, answered = reply_to.get("reply_to_top_id"), reply_to.get("reply_to_msg_id")
        if top and answered and answered != top:
            parent = comment_id(channel, post_id, answered)
    platform_id = comment_id(channel, post_id, message_id)
    link = f"{PUBLIC_URL}/{platform_id}"
    content = _api_content(message, link)
    return NormalizedItem(
        platform_id=platform_id,
        kind=ItemKind.COMMENT if parent == post else ItemKind.REPLY,
        text=content.text,
        created_at=created,
        author=_comment_author(raw, message),
        thread_id=post,
        parent_id=parent,
        url=link,
        urls=content.urls,
        media=content.media,
        raw=dict(raw),
        quoted=content.quoted,
    )


def _sender_fields(sender: Any) -> dict[str, Any]:
    """What is kept of a comment's sender (Telethon's ``message.sender``): who it is, never
    more (a user's phone number or status stays out)."""
    if sender is None:
        return {}
    fields: dict[str, Any] = {"_": type(sender).__name__}
    for name in ("id", "username", "first_name", "last_name", "title"):
        value = getattr(sender, name, None)
        if isinstance(value, int | str) and not isinstance(value, bool):
            fields[name] = value
    return fields


def map_comment(
    message: Any, channel_username: str, post_id: int, channel_id: int, title: str = ""
) -> NormalizedItem:
    """A Telethon ``Message`` of the discussion group of ``channel_username`` answering its
    post ``post_id``, as a COMMENT or a REPLY.

    ``raw`` keeps ``message.to_dict()`` (as JSON data) under ``"message"``, its sender's
    identity under ``"sender"``, and the channel's username, id and title and the post's id.
    """
    raw = {
        "channel": channel_username,
        "channel_id": channel_id,
        "title": title,
        "post": post_id,
        "message": to_json(message.to_dict()),
        "sender": _sender_fields(getattr(message, "sender", None)),
    }
    return _map_comment(raw)


def map_message(message: Any, channel_username: str, title: str = "") -> NormalizedItem:
    """A Telethon ``Message`` of ``channel_username`` as a POST.

    ``raw`` keeps ``message.to_dict()`` verbatim (as JSON data) under ``"message"``, with the
    channel's username and title beside it.
    """
    raw = {"channel": channel_username, "title": title, "message": to_json(message.to_dict())}
    return _map_api(raw)


# --- Telethon ----------------------------------------------------------------------------------


class TelethonClient(Protocol):
    """What the connector uses of ``telethon.TelegramClient`` (a test passes a stand-in)."""

    async def connect(self) -> Any: ...

    async def is_user_authorized(self) -> bool: ...

    async def get_entity(self, entity: Any) -> Any: ...

    async def get_me(self) -> Any: ...

    async def __call__(self, request: Any) -> Any: ...

    def iter_messages(self, entity: Any, **kwargs: Any) -> Any: ...

    async def send_message(self, entity: Any, message: str, **kwargs: Any) -> Any: ...

    async def send_file(self, entity: Any, file: Any, **kwargs: Any) -> Any: ...

    async def disconnect(self) -> Any: ...


def telethon_client(connector: TelegramConnector) -> TelethonClient:
    """A real Telethon client on the connector's ``StringSession``."""
    from telethon import TelegramClient
    from telethon.sessions import StringSession

    try:
        session = StringSession(str(connector.credentials["session"]))
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"{LABEL}: the session string is not valid; create a new one as the setup "
            "documentation shows."
        ) from exc
    # The session string names the data centre to dial: one that names an address inside the
    # server's network would make Telethon connect there.
    if session.server_address:
        try:
            egress.check_address(session.server_address, session.port)
        except OSError as exc:
            raise unreachable(LABEL, exc) from exc
    client: TelethonClient = TelegramClient(
        session,
        connector.api_id,
        str(connector.credentials["api_hash"]),
        # Flood waits are ours to handle (retrying(), the rate gate), not slept in Telethon.
        flood_sleep_threshold=0,
        request_retries=1,
    )
    return client


def translate_telethon(exc: Exception, channel: str = "") -> ConnectorError | None:
    """Telethon's errors as connector errors (None: not one it knows)."""
    from telethon import errors

    where = f" '{channel}'" if channel else ""
    if isinstance(exc, errors.FloodWaitError | errors.SlowModeWaitError):
        seconds = float(exc.seconds)
        return RateLimited(f"{LABEL} asked to wait {seconds:.0f} s (flood wait).", seconds)
    if isinstance(exc, errors.UnauthorizedError):
        return AuthError(
            f"{LABEL} refused the session ({type(exc).__name__}): it was revoked or logged out. "
            "Create a new session string and update the source's credentials in Beffroi."
        )
    if isinstance(
        exc,
        errors.ChannelPrivateError | errors.UsernameNotOccupiedError | errors.UsernameInvalidError,
    ):
        return NotFound(f"{LABEL}: the channel{where} does not exist or is not public.")
    declined = {
        errors.MsgIdInvalidError: "the post has no comments (the channel has no discussion "
        "group) or it was deleted",
        errors.ChatGuestSendForbiddenError: "the account must join the channel's discussion "
        "group before commenting",
        errors.ChatWriteForbiddenError: "the account may not write in the discussion group",
        errors.UserBannedInChannelError: "the account is banned from the discussion group",
        errors.ChatRestrictedError: "the discussion group restricts who may write",
    }
    for kind, why in declined.items():
        if isinstance(exc, kind):
            # Telethon's sentence for the error Telegram answered (and the request it ended).
            return Refused(f"{LABEL} declined the comment{where}: {why}. Telegram said: {exc}")
    if isinstance(exc, errors.ServerError | errors.TimedOutError | OSError | TimeoutError):
        return TransientError(f"{LABEL} could not be reached ({type(exc).__name__}).")
    if isinstance(exc, errors.RPCError):
        return MalformedPayload(f"{LABEL} refused the request ({type(exc).__name__}).")
    return None


# --- the connector -----------------------------------------------------------------------------


class TelegramConnector(HttpConnector):
    """Posts of public Telegram channels (listening), by web preview or with Telethon.

    ``TelegramConnector(settings, credentials, timeout=30.0, retries=2, backoff=0.5)``; see
    the module docstring for the order and the cursor.
    """

    platform: ClassVar[str] = "telegram"
    label: ClassVar[str] = LABEL
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.SEARCH})
    #: Commenting on a post and publishing in the organization's channel, with the method
    #: "api" only (see :meth:`allows`).
    actions: ClassVar[frozenset[Action]] = frozenset({Action.REPLY, Action.PUBLISH})
    auth: ClassVar[AuthMethod] = AuthMethod.NONE
    setup_doc: ClassVar[str] = "connectors/telegram.md"
    not_supported: ClassVar[Mapping[str, str]] = {
        **{
            str(action): "Reading public channels gives no moderation rights: Beffroi only "
            "listens to them."
            for action in Action
            if action not in (Action.REPLY, Action.PRIVATE_REPLY, Action.PUBLISH)
        },
        str(Action.PRIVATE_REPLY): "Beffroi reads channels' posts and their comments, no "
        "private chats: there is nobody to answer in private (a comment is answered under it).",
    }
    options: ClassVar[Mapping[str, Option]] = {
        "channels": Option(
            label="Public channels",
            help="Usernames of public channels, separated by spaces or commas "
            "(e.g. durov, https://t.me/telegram)",
        ),
        "method": Option(
            label="Reading method",
            required=False,
            default="web",
            help="'web': the public web preview t.me/s (nothing to connect); "
            "'api': the Telegram API with an account's credentials",
        ),
        "history_days": history_days_option(DEFAULT_HISTORY_DAYS),
        "max_pages": Option(
            label="Pages read per channel and sync",
            required=False,
            default=str(DEFAULT_MAX_PAGES),
            help="About 20 posts per page with the web preview, 100 with the API",
        ),
        "base_url": Option(
            label="Web preview address",
            required=False,
            default=DEFAULT_BASE_URL,
            help="Address of Telegram's web preview (method 'web')",
        ),
        "api_id": Option(
            label="API id",
            required=False,
            help="The api_id of an application created on my.telegram.org (method 'api')",
        ),
        "api_hash": Option(
            label="API hash",
            required=False,
            secret=True,
            help="The api_hash of that application (method 'api')",
        ),
        "session": Option(
            label="Session string",
            required=False,
            secret=True,
            help="A Telethon StringSession created once for the account (method 'api')",
        ),
        "user_id": Option(
            label="Account's user id",
            required=False,
            help="The numeric id of the account the session logs in, printed with the session "
            "string (method 'api'): its comments are the organization's answers",
        ),
        "own_channel": Option(
            label="The organization's channel",
            required=False,
            help="When the channels listed include others': the username of the "
            "organization's own (only its posts and comments are the organization's)",
        ),
    }

    #: Builds the Telethon client (method "api"); tests replace it with a stand-in.
    client_factory: Callable[[TelegramConnector], TelethonClient] = staticmethod(telethon_client)

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        **http: Unpack[HttpOptions],
    ) -> None:
        super().__init__(settings, credentials, **http)
        self.channels = parse_channels(settings.get("channels"))
        self.method = str(settings.get("method") or "web").strip().lower()
        if self.method not in METHODS:
            raise ConfigurationError(f"{LABEL}: 'method' must be 'web' or 'api'.")
        self.base_url = _base_url(settings.get("base_url"))
        self.history_days = positive_int(settings, "history_days", DEFAULT_HISTORY_DAYS, LABEL)
        self.max_pages = positive_int(settings, "max_pages", DEFAULT_MAX_PAGES, LABEL)
        self.api_id = 0
        if self.method == "api":
            missing = [n for n in ("api_hash", "session") if not credentials.get(n)]
            if not str(settings.get("api_id") or "").strip():
                missing.insert(0, "api_id")
            if missing:
                raise ConfigurationError(
                    f"{LABEL}: the method 'api' needs {', '.join(missing)} (see the setup "
                    "documentation)."
                )
            try:
                self.api_id = int(str(settings["api_id"]).strip())
            except ValueError:
                raise ConfigurationError(f"{LABEL}: 'api_id' must be a number.") from None
        user_id = str(settings.get("user_id") or "").strip()
        if user_id and not user_id.isdigit():
            raise ConfigurationError(f"{LABEL}: 'user_id' must be the account's numeric id.")
        #: The logged-in account, as the source declares it (see ``own_author_ids``).
        self.user_id = int(user_id) if user_id else None

    @classmethod
    def allows(cls, action: Action, settings: Mapping[str, Any]) -> bool:
        """Commenting needs an account: the method "api"; the web preview only reads."""
        method = str(settings.get("method") or "web").strip().lower()
        return action in cls.actions and method == "api"

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Yield each channel's new posts oldest first, one page or batch at a time."""
        state: Cursor = {}
        stored = cursor.get("channels")
        if isinstance(stored, Mapping):
            state = {
                str(name): int(value)
                for name, value in stored.items()
                if isinstance(value, int) and not isinstance(value, bool)
            }
        if self.method == "api":
            comments: CommentCursor = {}
            stored = cursor.get("comments")
            if isinstance(stored, Mapping):
                comments = {
                    str(name): {
                        str(post): int(seen)
                        for post, seen in posts.items()
                        if isinstance(seen, int) and not isinstance(seen, bool)
                    }
                    for name, posts in stored.items()
                    if isinstance(posts, Mapping)
                }
            yield from self._fetch_api(state, comments)
        else:
            yield from self._fetch_web(state)

    @classmethod
    def own_account_ids(
        cls, settings: Mapping[str, Any], cursor: Mapping[str, Any]
    ) -> tuple[str, ...]:
        """The channel the ``own_channel`` setting names (a channel's author id is its
        username) and the logged-in account: the others listed are not the organization.
        Without it, nothing is known for sure."""
        try:
            channels = parse_channels(settings.get("own_channel") or "")
        except ConfigurationError:
            return ()
        if not channels:
            return ()
        user = str(settings.get("user_id") or "").strip()
        return (*channels, user) if user else channels

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A stored payload (web preview post or Telethon message) as a POST, or a comment
        of a discussion group as a COMMENT or REPLY."""
        if "post" in raw:
            return _map_comment(raw)
        return _map_api(raw) if "message" in raw else _map_web(raw)

    # --- web ------------------------------------------------------------------------------

    def _fetch_web(self, state: Cursor) -> Iterator[FetchBatch]:
        missing: list[str] = []
        with ApiClient(
            self.base_url,
            label=LABEL,
            key=token_key(self.platform, f"web {self.base_url}"),
            classify=_web_classify,
            headers={"Accept": "text/html"},
            **self.http_options,
        ) as client:
            for channel in self.channels:
                try:
                    if channel in state:
                        pages = self._web_forward(client, channel, state[channel])
                    else:
                        pages = self._web_first_sync(client, channel)
                    for page, newest in pages:
                        state[channel] = newest
                        items = [_map_web(post) for post in page]
                        yield FetchBatch(items, {"channels": dict(state)})
                except NotFound:
                    # The other channels are still read; the error is raised at the end.
                    missing.append(channel)
        if missing:
            raise NotFound(
                f"{LABEL}: no public channel preview for {', '.join(missing)} (t.me/s redirects "
                "to t.me): the channel does not exist, is private or has its preview disabled."
            )

    def _web_page(
        self, client: ApiClient, channel: str, params: Mapping[str, int]
    ) -> list[dict[str, Any]]:
        """The posts of one page, in id order; NotFound when the channel has no preview."""
        response = client.request("GET", f"/s/{channel}", params=dict(params))
        if response.is_redirect:
            raise NotFound(f"{LABEL}: no public channel preview for {channel}.")
        page = parse_channel_page(response.text)
        if not page.has_history:
            if page.is_contact_page:
                raise NotFound(f"{LABEL}: no public channel preview for {channel}.")
            raise MalformedPayload(
                f"{LABEL}: the web preview of {channel} is not the page Telegram serves "
                "(no message history); its markup may have changed."
            )
        posts: dict[int, dict[str, Any]] = {}
        for post in page.posts:
            if post.channel.lower() != channel:
                continue
            if not post.datetime:
                raise MalformedPayload(
                    f"{LABEL}: post {post.message_id} of {channel} has no date in the preview."
                )
            posts[post.message_id] = post.payload()
        return [posts[key] for key in sorted(posts)]

    def _web_forward(
        self, client: ApiClient, channel: str, last_id: int
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """``?after=`` pages from ``last_id``, each with the newest id it holds."""
        for _ in range(self.max_pages):
            page = self._web_page(client, channel, {"after": last_id})
            page = [post for post in page if post["id"] > last_id]
            if not page:
                return
            last_id = int(page[-1]["id"])
            yield page, last_id

    def _web_first_sync(
        self, client: ApiClient, channel: str
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """The latest page and older ones back to ``history_days``, replayed oldest first."""
        cutoff = datetime.now(UTC) - timedelta(days=self.history_days)
        pages: list[list[dict[str, Any]]] = []
        newest = 0
        params: dict[str, int] = {}
        for _ in range(self.max_pages):
            page = self._web_page(client, channel, params)
            if "before" in params:
                page = [post for post in page if post["id"] < params["before"]]
            if not page:
                break
            newest = max(newest, int(page[-1]["id"]))
            recent = [post for post in page if _aware(post["datetime"]) >= cutoff]
            if recent:
                pages.append(recent)
            if len(recent) < len(page) or page[0]["id"] <= 1:
                break
            params = {"before": int(page[0]["id"])}
        if not pages:
            if newest:
                # Nothing in the window: remember the newest post so the next sync reads on.
                yield [], newest
            return
        for page in reversed(pages):
            yield page, int(page[-1]["id"])

    # --- api ------------------------------------------------------------------------------

    def _api_session(self) -> Generator[tuple[TelethonClient, Callable[..., Any]], None, None]:
        """The Telethon client, logged in, and ``run(make, channel="", retries=None)``, which
        runs the coroutine ``make()`` on the connector's own event loop with the rate gate,
        retries (the connector's, or ``retries``) and typed errors; disconnected when the
        generator is closed."""
        key = token_key(self.platform, f"api {self.api_id} {self.credentials.get('session')}")
        loop = asyncio.new_event_loop()
        client: TelethonClient | None = None

        def run(make: Callable[[], Any], channel: str = "", *, retries: int | None = None) -> Any:
            return retrying(
                lambda: loop.run_until_complete(make()),
                key=key,
                label=self.label,
                translate=lambda exc: translate_telethon(exc, channel),
                retries=self.retries if retries is None else retries,
                backoff=self.backoff,
                max_wait=self.max_wait,
            )

        try:
            client = self.client_factory(self)
            run(client.connect)
            if not run(client.is_user_authorized):
                raise AuthError(
                    f"{LABEL}: the session is not logged in. Create a new session string and "
                    "update the source's credentials in Beffroi."
                )
            yield client, run
        finally:
            if client is not None:
                try:
                    loop.run_until_complete(client.disconnect())
                except Exception:  # noqa: S110 (closing: nothing more to do)
                    pass
            loop.close()

    def _fetch_api(self, state: Cursor, comments: CommentCursor) -> Iterator[FetchBatch]:
        missing: list[str] = []
        session = self._api_session()
        try:
            client, run = next(session)
            reader = _ApiReader(self, client, run, state, comments)
            for channel in self.channels:
                try:
                    yield from reader.channel(channel)
                except NotFound:
                    missing.append(channel)
        finally:
            session.close()
        if missing:
            raise NotFound(
                f"{LABEL}: the channel(s) {', '.join(missing)} do not exist, are private or "
                "are not visible to this account."
            )

    # --- actions --------------------------------------------------------------------------

    def reply(self, item: ItemRef, text: str, *, idempotency_key: str = "") -> ActionResult:
        """Comment on a channel post in the channel's discussion group
        (``send_message(channel, text, comment_to=<post id>)``), or answer a comment there
        (``send_message(<discussion group>, text, reply_to=<comment id>)``), with the method
        "api"."""
        if self.method != "api":
            raise UnsupportedAction(
                "Not supported by the platform: the web preview (method 'web') only reads "
                "channels; commenting on a post needs the method 'api' (an account's API "
                "credentials)."
            )
        found = _ITEM_ID.fullmatch(item.platform_id)
        if found is None or not _USERNAME.fullmatch(found["channel"]):
            raise MalformedPayload(
                f"{LABEL}: '{item.platform_id[:60]}' is not a channel post or comment."
            )
        channel, post_id = found["channel"], int(found["post"])
        answered = int(found["comment"]) if found["comment"] else None
        session = self._api_session()
        try:
            client, run = next(session)

            async def comment() -> Any:
                try:
                    entity = await client.get_entity(channel)
                except ValueError as exc:  # Telethon: "No user has ... as username"
                    raise NotFound(f"{LABEL}: the channel '{channel}' does not exist.") from exc
                if answered is None:
                    return await client.send_message(entity, text, comment_to=post_id)
                group = await _discussion_group(client, entity, post_id, _group_of(item.raw))
                return await client.send_message(group, text, reply_to=answered)

            # Never sent again by itself: a comment that timed out may have been posted.
            message = run(comment, channel, retries=0)
        finally:
            session.close()
        sent_id = getattr(message, "id", None)
        if not isinstance(sent_id, int):
            raise MalformedPayload(f"{LABEL}: the comment sent has no message id.")
        raw = to_json(message.to_dict()) if hasattr(message, "to_dict") else {}
        platform_id = comment_id(channel, post_id, sent_id)
        return ActionResult(
            ok=True,
            platform_id=platform_id,
            detail="Commented on the Telegram post."
            if answered is None
            else "Answered the comment on Telegram.",
            raw=raw if isinstance(raw, dict) else {},
            url=f"{PUBLIC_URL}/{platform_id}",
        )

    def publish(
        self, text: str, media: tuple[Media, ...] = (), *, idempotency_key: str = ""
    ) -> ActionResult:
        """Publish a post in the organization's channel (:meth:`_publishing_channel`), with
        the method "api": a text (``send_message``), one file with the text as its caption
        (``send_file``) or an album of 2 to 10 (``send_file`` with a list: the caption goes on
        its first message, the post's id). The text is sent as written (``parse_mode=None``:
        no Markdown read into it). Telegram has no alt text: the media's descriptions are not
        sent. The answer's ``item`` is the message sent as a sync maps it (an album's, with
        every file). Telegram has no idempotency key: a send whose answer was lost is
        :class:`OutcomeUnknown`, never sent again.
        """
        if self.method != "api":
            raise UnsupportedAction(
                "Not supported by the platform: the web preview (method 'web') only reads "
                "channels; publishing needs the method 'api' (an account that administers "
                "the channel)."
            )
        kinds = POST_LIMITS.media.kinds if POST_LIMITS.media is not None else frozenset()
        if any(medium.kind not in kinds for medium in media):
            raise UnsupportedAction(
                f"{LABEL}: Beffroi publishes a text with photos, videos or an animation "
                "there; send other files from Telegram itself."
            )
        channel = self._publishing_channel()
        files = download_all(media, self.post_limits, label=f"{LABEL} ({channel})")
        session = self._api_session()
        try:
            client, run = next(session)

            async def send() -> tuple[Any, Any]:
                from telethon import errors

                entity = await _channel_entity(client, channel)
                try:
                    if not files:
                        return entity, await client.send_message(entity, text, parse_mode=None)
                    named = [_named_stream(file) for file in files]
                    return entity, await client.send_file(
                        entity, named if len(named) > 1 else named[0], caption=text, parse_mode=None
                    )
                except (errors.BadRequestError, errors.ForbiddenError) as exc:
                    known = translate_telethon(exc, channel)
                    if isinstance(known, RateLimited | NotFound):  # slow mode, a private channel
                        raise
                    # Telethon's sentence for what Telegram answered (rights, a caption too long).
                    raise Refused(f"{LABEL} declined the post in '{channel}': {exc}") from exc

            try:
                # Never sent again by itself: a post that timed out may have been published.
                entity, sent = run(send, channel, retries=0)
            except TransientError as exc:
                error = outcome_of_create(exc)
                if error is exc:
                    raise
                raise error from exc
        finally:
            session.close()
        messages = list(sent) if isinstance(sent, list) else [sent]
        if not messages or not all(isinstance(getattr(m, "id", None), int) for m in messages):
            raise MalformedPayload(f"{LABEL}: the post sent has no message id.")
        title = str(getattr(entity, "title", "") or "")
        item = map_message(messages[0], channel, title)
        if len(messages) > 1:
            every = [medium for m in messages for medium in map_message(m, channel, title).media]
            item = dataclasses.replace(item, media=tuple(every))
        return ActionResult(
            ok=True,
            platform_id=item.platform_id,
            detail="Published on Telegram.",
            raw=item.raw,
            url=item.url,
            item=item,
        )

    def _publishing_channel(self) -> str:
        """Where the account publishes: the ``own_channel`` setting, or the one channel
        listed (several listed without it: which one is the organization's is not known)."""
        named = str(self.settings.get("own_channel") or "").strip()
        if named:
            return parse_channels(named)[0]
        if len(self.channels) == 1:
            return self.channels[0]
        raise ConfigurationError(
            f"{LABEL}: several channels are listed; name the organization's own in "
            "'own_channel' to publish there."
        )

    def post_metrics(self, platform_id: str) -> dict[str, int]:
        """What a channel post gathered (``iter_messages(channel, ids=[post])``): ``views``,
        ``shares`` (its forwards) and ``comments`` (the messages of its discussion thread,
        where the channel has a discussion group)."""
        found = _ITEM_ID.fullmatch(platform_id)
        if found is None or found["comment"] or self.method != "api":
            raise UnsupportedAction(
                f"{LABEL}: Beffroi reads back the metrics of a channel post with the method "
                "'api' only."
            )
        channel, post_id = found["channel"], int(found["post"])
        session = self._api_session()
        try:
            client, run = next(session)

            async def read() -> list[Any]:
                entity = await _channel_entity(client, channel)
                return [m async for m in client.iter_messages(entity, ids=[post_id])]

            messages: list[Any] = run(read, channel)
        finally:
            session.close()
        message = messages[0] if messages else None
        if message is None:
            raise NotFound(f"{LABEL}: post {platform_id} was deleted or is not visible.")
        replies = getattr(message, "replies", None)
        counts = {
            "views": getattr(message, "views", None),
            "forwards": getattr(message, "forwards", None),
            "replies": getattr(replies, "replies", None),
        }
        return counts_of(counts, {"views": "views", "forwards": "shares", "replies": "comments"})


async def _channel_entity(client: TelethonClient, channel: str) -> Any:
    """The channel ``channel`` (a username), or :class:`NotFound`."""
    try:
        return await client.get_entity(channel)
    except ValueError as exc:  # Telethon: "No user has ... as username"
        raise NotFound(f"{LABEL}: the channel '{channel}' does not exist.") from exc


def _named_stream(file: MediaFile) -> io.BytesIO:
    """A file's bytes as Telethon sends them: a stream whose ``name`` gives Telegram its type
    (a photo, a video, an animation)."""
    stream = io.BytesIO(file.content)
    stream.name = file.name
    return stream


def _group_of(raw: Mapping[str, Any]) -> int | None:
    """The discussion group a stored comment was read in (its message's ``peer_id``)."""
    message = raw.get("message")
    peer = _peer_id(message.get("peer_id")) if isinstance(message, Mapping) else None
    return peer[1] if peer else None


async def _discussion_group(
    client: TelethonClient, channel: Any, post_id: int, expected: int | None
) -> Any:
    """The discussion group holding the comments of ``post_id``, as Telethon finds it for
    ``comment_to`` (``messages.getDiscussionMessage``: the group's copy of the post, and the
    group with its access hash); NotFound when it is no longer the group a comment was in."""
    from telethon.tl.functions.messages import GetDiscussionMessageRequest

    found = await client(GetDiscussionMessageRequest(peer=channel, msg_id=post_id))
    copy = min(found.messages, key=lambda message: message.id)
    group_id = getattr(copy.peer_id, "channel_id", None)
    group = next((chat for chat in found.chats if chat.id == group_id), None)
    if group is None or (expected is not None and group_id != expected):
        raise NotFound(f"{LABEL}: the comment was in a discussion group the channel no longer has.")
    return group


class _ApiReader:
    """One sync with Telethon: each channel's new posts, then the new comments under its
    recent posts, with the cursor to store after each batch."""

    def __init__(
        self,
        connector: TelegramConnector,
        client: TelethonClient,
        run: Callable[..., Any],
        state: Cursor,
        comments: CommentCursor,
    ) -> None:
        self.connector, self.client, self.run = connector, client, run
        self.state, self.comments = state, comments
        self._me: int | None = None

    def _cursor(self) -> dict[str, Any]:
        cursor: dict[str, Any] = {"channels": dict(self.state)}
        comments = {name: dict(posts) for name, posts in self.comments.items() if posts}
        if comments:
            cursor["comments"] = comments
        return cursor

    def channel(self, channel: str) -> Iterator[FetchBatch]:
        client = self.client

        async def resolve() -> Any:
            try:
                return await client.get_entity(channel)
            except ValueError as exc:  # Telethon: "No user has ... as username"
                raise NotFound(f"{LABEL}: the channel '{channel}' does not exist.") from exc

        entity = self.run(resolve, channel)
        yield from self._posts(channel, entity)
        yield from self._comments(channel, entity)

    def _posts(self, channel: str, entity: Any) -> Iterator[FetchBatch]:
        client, connector = self.client, self.connector
        title = str(getattr(entity, "title", "") or "")
        for _ in range(connector.max_pages):
            last_id = self.state.get(channel)

            async def batch(last_id: int | None = last_id) -> list[Any]:
                options: dict[str, Any] = {"reverse": True, "limit": API_BATCH}
                if last_id is None:
                    options["offset_date"] = datetime.now(UTC) - timedelta(
                        days=connector.history_days
                    )
                else:
                    options["min_id"] = last_id
                return [message async for message in client.iter_messages(entity, **options)]

            messages: list[Any] = self.run(batch, channel)
            if not messages:
                return
            self.state[channel] = max(int(message.id) for message in messages)
            items = [
                map_message(message, channel, title)
                for message in messages
                if type(message).__name__ == "Message"  # not a MessageService (joins, pins…)
            ]
            yield FetchBatch(items, self._cursor())
            if len(messages) < API_BATCH:
                return

    def _own_account(self) -> int:
        """The logged-in account's user id (``get_me``), checked against the ``user_id`` the
        source declares."""
        if self._me is None:
            me = self.run(self.client.get_me)
            self._me = int(getattr(me, "id", 0) or 0)
            declared = self.connector.user_id
            if declared is not None and declared != self._me:
                raise ConfigurationError(
                    f"{LABEL}: the session logs in the account {self._me}, not the 'user_id' "
                    f"{declared} the source declares: correct 'user_id'."
                )
        return self._me

    def _commented_posts(self, channel: str, entity: Any) -> list[Any]:
        """The channel's posts of the last ``history_days`` already read, oldest first, whose
        discussion thread has a comment newer than the last one read (``replies.max_id``)."""
        client, stored = self.client, self.comments.get(channel, {})
        newest_read = self.state.get(channel, 0)
        cutoff = datetime.now(UTC) - timedelta(days=self.connector.history_days)

        async def recent() -> list[Any]:
            # Newest first: one request sees each recent post's current comment count.
            return [message async for message in client.iter_messages(entity, limit=API_BATCH)]

        posts = [
            message
            for message in self.run(recent, channel)
            if type(message).__name__ == "Message"
            and int(message.id) <= newest_read  # the post itself is stored before its comments
            and _aware_moment(message.date) >= cutoff
        ]
        # Posts that left the window are no longer read: their cursor goes.
        self.comments[channel] = {
            str(message.id): stored[str(message.id)]
            for message in posts
            if str(message.id) in stored
        }
        return sorted(
            (
                message
                for message in posts
                if getattr(message.replies, "comments", False)  # it has a discussion group
                and (getattr(message.replies, "max_id", None) or 0) > stored.get(str(message.id), 0)
            ),
            key=lambda message: int(message.id),
        )

    def _comments(self, channel: str, entity: Any) -> Iterator[FetchBatch]:
        """The new comments of recent posts, ``min_id`` batches per post, at most ``max_pages``
        batches per channel and sync (the rest comes with the next sync)."""
        client = self.client
        title = str(getattr(entity, "title", "") or "")
        channel_id = int(getattr(entity, "id", 0) or 0)
        budget = self.connector.max_pages
        before = self.comments.get(channel, {})
        posts = self._commented_posts(channel, entity)
        if self.comments[channel] != before:
            yield FetchBatch([], self._cursor())  # posts that left the window are forgotten
        for post in posts:
            own = self._own_account()
            seen = self.comments[channel].get(str(post.id), 0)
            while budget > 0:
                budget -= 1

                async def batch(post_id: int = int(post.id), seen: int = seen) -> list[Any]:
                    return [
                        message
                        async for message in client.iter_messages(
                            entity, reply_to=post_id, min_id=seen, reverse=True, limit=API_BATCH
                        )
                    ]

                try:
                    messages: list[Any] = self.run(batch, channel)
                except Refused:
                    # MSG_ID_INVALID: the post was deleted, or its channel lost its group.
                    break
                if not messages:
                    break
                seen = max(int(message.id) for message in messages)
                self.comments[channel][str(post.id)] = seen
                items = [
                    map_comment(message, channel, int(post.id), channel_id, title)
                    for message in messages
                    if type(message).__name__ == "Message"
                    # The account's own comments are the organization's answers only where the
                    # source declares the account; otherwise they would read as a citizen's.
                    and (self.connector.user_id is not None or message.sender_id != own)
                ]
                yield FetchBatch(items, self._cursor())
                if len(messages) < API_BATCH:
                    break
            if budget <= 0:
                return


def _aware_moment(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _aware(value: str) -> datetime:
    return _aware_moment(datetime.fromisoformat(value))
