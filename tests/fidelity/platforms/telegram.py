"""Telegram: public channel web previews (``t.me/s/<channel>``) saved by other projects
(tests/corpus/telegram/), through :class:`~beffroi.connectors.telegram.TelegramConnector` as
a web sync maps them.

A whole preview page goes through the connector's own page reading (``_web_page``, answered
with the recorded page instead of t.me), then each post through ``map_item``; a file holding
one post's markup as the recording project cut it out of a page (no channel history around
it, which ``_web_page`` would refuse) goes through the same parser and the same per-post
payload. Each post is mapped alone, so that one that raises does not hide the others.

The checks read each post's markup (kept verbatim in the payload's ``html``) on their own,
with regular expressions, not through Beffroi's parser, so that they can fail.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from beffroi.connectors.base import ItemKind
from beffroi.connectors.telegram import TelegramConnector, parse_channel_page
from tests.fidelity import common
from tests.fidelity.common import mapped, words
from tests.fidelity.model import Check, Outcome

PLATFORM = "telegram"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"

_TAG = re.compile(r"<[^>]+>")
_DIV = re.compile(r"<div\b|</div\s*>", re.IGNORECASE)
_TEXT_START = re.compile(r'<div class="tgme_widget_message_text js-message_text[^"]*"[^>]*>')
_DATE = re.compile(r'class="tgme_widget_message_date"[^>]*>\s*<time\s+datetime="([^"]+)"')
_VIEWS = re.compile(r'<span class="tgme_widget_message_views">([^<]*)</span>')
_OWNER = re.compile(
    r'class="tgme_widget_message_owner_name"[^>]*>\s*<span[^>]*>([^<]*)</span>', re.DOTALL
)
_SIGNATURE = re.compile(r'class="tgme_widget_message_from_author"[^>]*>(.*?)</span>', re.DOTALL)
_POLL_QUESTION = re.compile(r'class="tgme_widget_message_poll_question"[^>]*>([^<]*)<')
_POLL_OPTION = re.compile(r'class="tgme_widget_message_poll_option_text"[^>]*>([^<]*)<')
_FORWARD = re.compile(
    r'class="tgme_widget_message_forwarded_from_name"(?:\s+href="([^"]*)")?[^>]*>\s*'
    r"<span[^>]*>([^<]*)</span>",
    re.DOTALL,
)
_REPLY = re.compile(r'class="tgme_widget_message_reply"\s+href="([^"]*)"')
_TAG_OPEN = re.compile(r"<(a|i|div|video|audio)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r'([a-zA-Z][\w-]*)="([^"]*)"')
_BACKGROUND = re.compile(r"background-image:\s*url\('([^']+)'\)")
_DOCUMENT = re.compile(r'class="tgme_widget_message_document_title[^"]*"[^>]*>(.*?)</div>', re.S)
_LINK_PREVIEW = re.compile(r'<a class="tgme_widget_message_link_preview"[^>]*>(.*?)</a>', re.S)
_HREF = re.compile(r'<a\s[^>]*?href="(https?://[^"]+)"')
_MULTIPLIERS = {"": 1, "K": 1_000, "M": 1_000_000}


# --- reading -------------------------------------------------------------------------------


class _RecordedPage:
    """Answers the connector's one request with the recorded page, as t.me would."""

    def __init__(self, page: str) -> None:
        self.page = page

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.Response(
            200, text=self.page, request=httpx.Request(method, f"https://t.me{path}")
        )


def _connector(channel: str) -> TelegramConnector:
    # The web method needs nothing to connect; no request leaves (see _RecordedPage).
    return TelegramConnector({"channels": channel}, {})


def read(path: Path) -> Iterator[Outcome]:
    """Every post of one saved page (or one post's saved markup), mapped as a web sync does."""
    relative = str(path.resolve().relative_to(CORPUS))
    page = path.read_text(encoding="utf-8")
    parsed = parse_channel_page(page)
    if not parsed.posts:
        return
    channel = parsed.posts[0].channel.lower()
    connector = _connector(channel)
    if parsed.has_history:
        # A whole preview page: the connector's own page reading, as production reads it.
        payloads = connector._web_page(_RecordedPage(page), channel, {})  # type: ignore[arg-type]
    else:
        payloads = [post.payload() for post in parsed.posts]
    for payload in payloads:
        ref = f"{payload.get('channel')}/{payload.get('id')}"
        try:
            item = connector.map_item(payload, ItemKind.POST)
        except Exception as exc:  # one bad post must not hide the others
            yield Outcome(relative, ref, payload, error=f"{type(exc).__name__}: {exc}")
            continue
        yield Outcome(relative, ref, payload, item=item)


# --- what was sent (read from the post's markup) --------------------------------------------


def _markup(outcome: Outcome) -> str:
    return str(outcome.payload.get("html") or "")


def _text_markup(post: str) -> str:
    """The inner markup of the post's own text (not the quoted text of a reply header)."""
    start = _TEXT_START.search(post)
    if start is None:
        return ""
    depth, position = 1, start.end()
    for tag in _DIV.finditer(post, start.end()):
        depth += -1 if tag.group(0).startswith("</") else 1
        if depth == 0:
            return post[start.end() : tag.start()]
        position = tag.end()
    return post[start.end() : position]


def _plain(markup: str) -> str:
    markup = re.sub(r"<br\s*/?>", " ", markup, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", markup))


def _sent_text(outcome: Outcome) -> str:
    return words(_plain(_text_markup(_markup(outcome))))


def _poll(outcome: Outcome) -> tuple[str, list[str]] | None:
    post = _markup(outcome)
    question = _POLL_QUESTION.search(post)
    if question is None:
        return None
    options = [words(html.unescape(option)) for option in _POLL_OPTION.findall(post)]
    return words(html.unescape(question.group(1))), options


def _forward(outcome: Outcome) -> tuple[str, str] | None:
    """(name, address) of the channel or person a forwarded post comes from."""
    found = _FORWARD.search(_markup(outcome))
    if found is None:
        return None
    return words(html.unescape(found.group(2))), html.unescape(found.group(1) or "")


def _forward_id(address: str) -> str | None:
    parts = urlsplit(address).path.strip("/").split("/")
    if len(parts) == 2 and parts[1].isdigit():
        return f"{parts[0].lower()}/{parts[1]}"
    return None


def _tags(markup: str, name: str) -> list[tuple[set[str], dict[str, str]]]:
    """(classes, attributes) of every ``<name …>`` tag, whatever the attributes' order."""
    found = []
    for tag, attributes in _TAG_OPEN.findall(markup):
        if tag.lower() == name:
            values = {k: html.unescape(v) for k, v in _ATTRIBUTE.findall(attributes)}
            found.append((set(values.get("class", "").split()), values))
    return found


def _backgrounds(markup: str, suffix: str) -> list[str]:
    """Background images of the elements with a class ending in ``suffix``."""
    urls = []
    for name in ("a", "i", "div"):
        for classes, values in _tags(markup, name):
            if any(c.endswith(suffix) for c in classes):
                urls += _BACKGROUND.findall(values.get("style", ""))
    return urls


def _photos(outcome: Outcome) -> list[str]:
    return _backgrounds(_markup(outcome), "_photo_wrap")


def _thumbs(markup: str) -> list[str]:
    return _backgrounds(markup, "_thumb")


def _voices(outcome: Outcome) -> list[str]:
    return [
        values["src"]
        for classes, values in _tags(_markup(outcome), "audio")
        if "tgme_widget_message_voice" in classes and values.get("src")
    ]


def _documents(outcome: Outcome) -> list[str]:
    return [words(_plain(title)) for title in _DOCUMENT.findall(_markup(outcome))]


def _own_videos(outcome: Outcome) -> list[str]:
    """The post's own videos: not the video of a link preview (the linked post's)."""
    return [
        values["src"]
        for classes, values in _tags(_markup(outcome), "video")
        if values.get("src") and not any(c.startswith("link_preview") for c in classes)
    ]


def _preview_media(outcome: Outcome) -> set[str]:
    """Media of the link preview: the linked page's, not the post's."""
    urls: set[str] = set()
    for preview in _LINK_PREVIEW.findall(_markup(outcome)):
        urls.update(v["src"] for _, v in _tags(preview, "video") if v.get("src"))
        urls.update(_thumbs(preview))
        urls.update(_backgrounds(preview, "_image"))
    return urls


def _own_media(outcome: Outcome) -> set[str]:
    return (
        set(_photos(outcome))
        | set(_own_videos(outcome))
        | set(_voices(outcome))
        | set(_thumbs(_markup(outcome)))
    )


def _text_links(outcome: Outcome) -> list[str]:
    return [html.unescape(u) for u in _HREF.findall(_text_markup(_markup(outcome)))]


def _views(outcome: Outcome) -> int | None:
    found = _VIEWS.search(_markup(outcome))
    match = re.fullmatch(r"([0-9.]+)([KM]?)", found.group(1).strip()) if found else None
    if match is None:
        return None
    return round(float(match.group(1)) * _MULTIPLIERS[match.group(2)])


def _date(outcome: Outcome) -> datetime | None:
    found = _DATE.search(_markup(outcome))
    return datetime.fromisoformat(found.group(1)) if found else None


def _channel(outcome: Outcome) -> str:
    found = re.search(r'data-post="([^"/]+)/\d+"', _markup(outcome))
    return found.group(1) if found else ""


def _message_id(outcome: Outcome) -> str:
    found = re.search(r'data-post="[^"/]+/(\d+)"', _markup(outcome))
    return found.group(1) if found else ""


def _owner(outcome: Outcome) -> str | None:
    found = _OWNER.search(_markup(outcome))
    return words(html.unescape(found.group(1))) if found else None


def _reply_parent(outcome: Outcome) -> str | None:
    found = _REPLY.search(_markup(outcome))
    return _forward_id(html.unescape(found.group(1))) if found else None


def _media_of(outcome: Outcome, kind: str) -> list[str]:
    return [m.url for m in outcome.item.media if m.kind == kind]


# --- the checks ----------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    common.text_present(
        lambda o: _sent_text(o) or _poll(o),
        "The text is not empty where the post has words or a poll.",
    ),
    Check(
        "text_complete",
        "Every word of the post's text is in the item's text, in order: nothing cut, nothing "
        "taken from the reply header or the link preview.",
        passes=lambda o: _sent_text(o) in words(o.item.text),
        applies=lambda o: mapped(o) and bool(_sent_text(o)),
    ),
    common.no_html_in_text(_TAG),
    Check(
        "poll_kept",
        "A poll's question and every option are carried (in the text).",
        passes=lambda o: all(
            part in words(o.item.text)
            for part in (_poll(o)[0], *_poll(o)[1])  # type: ignore[index]
        ),
        applies=lambda o: mapped(o) and _poll(o) is not None,
    ),
    common.created_at_is(
        "created_at_is_the_post_date",
        "created_at is the post's <time datetime> (not the fetch time).",
        _date,
        dated=True,
    ),
    Check(
        "author_present",
        "The author is the channel of data-post (id and handle), with its displayed name.",
        passes=lambda o: (
            o.item.author.platform_id == _channel(o).lower()
            and o.item.author.handle.lower() == _channel(o).lower()
            and o.item.author.display_name == _owner(o)
        ),
        applies=lambda o: mapped(o) and bool(_channel(o)) and _owner(o) is not None,
    ),
    Check(
        "signature_kept",
        "The author signature of a signed channel post is kept.",
        passes=lambda o: (
            o.item.author.extra.get("signature")
            == words(_plain(_SIGNATURE.search(_markup(o)).group(1)))  # type: ignore[union-attr]
        ),
        applies=lambda o: mapped(o) and _SIGNATURE.search(_markup(o)) is not None,
    ),
    Check(
        "url_is_the_post",
        "The item's address is the post's public address https://t.me/<channel>/<id>.",
        passes=lambda o: (
            o.item.url.lower() == f"https://t.me/{_channel(o)}/{_message_id(o)}".lower()
        ),
        applies=lambda o: mapped(o) and bool(_channel(o)),
    ),
    common.links_kept(_text_links, "Every absolute link of the text is among the item's links."),
    common.links_absolute("Every link is an absolute http(s) URL."),
    common.links_not_own_media(_own_media, "No link is an address of the post's own media."),
    common.photo_is_the_image(
        _photos,
        "Every photo of the post is carried as an image, at its file's address.",
        name="photos_kept",
    ),
    common.video_is_the_file(
        lambda o: [[url] for url in _own_videos(o)],
        "Every video of the post (round videos included) is carried as a video at its file's "
        "address, not its thumbnail.",
        thumbnails=lambda o: set(_thumbs(_markup(o))),
    ),
    Check(
        "voice_kept",
        "A voice message is carried as audio, at its file's address.",
        passes=lambda o: all(u in _media_of(o, "audio") for u in _voices(o)),
        applies=lambda o: mapped(o) and bool(_voices(o)),
    ),
    Check(
        "document_kept",
        "A document is carried (kind other, its title as description; the preview gives it no "
        "address of its own).",
        passes=lambda o: all(
            any(m.kind == "other" and m.description == title for m in o.item.media)
            for title in _documents(o)
        ),
        applies=lambda o: mapped(o) and bool(_documents(o)),
    ),
    Check(
        "link_preview_not_own_media",
        "The video or image of a link preview (the linked post's) is not listed as the post's "
        "own media.",
        passes=lambda o: not {m.url for m in o.item.media} & _preview_media(o),
        applies=lambda o: mapped(o) and bool(_preview_media(o)),
    ),
    common.count_kept(
        "views_kept", "The view count is the one displayed (1.2K → 1200).", "views", _views
    ),
    common.language_is_iso_639_1("The language is None or an ISO 639-1 code."),
    Check(
        "reply_parent_set",
        "A reply to a post of the same channel has that post as parent_id, and a thread_id "
        "that is not its own id.",
        passes=lambda o: (
            o.item.parent_id == _reply_parent(o) and o.item.thread_id != o.item.platform_id
        ),
        applies=lambda o: mapped(o) and _reply_parent(o) is not None,
    ),
    Check(
        "forward_carried",
        "A forwarded post carries what it reposts (relation repost): the original's author "
        "name, address and id where the preview links it.",
        passes=lambda o: common.carries(
            o,
            "repost",
            author=_forward(o)[0],  # type: ignore[index]
            url=_forward(o)[1],  # type: ignore[index]
            platform_id=_forward_id(_forward(o)[1]),  # type: ignore[index]
        ),
        applies=lambda o: mapped(o) and _forward(o) is not None,
    ),
    Check(
        "not_a_repost_without_forward",
        "A post that is not forwarded carries no repost.",
        passes=lambda o: getattr(o.item, "quoted", None) is None,
        applies=lambda o: mapped(o) and _forward(o) is None,
    ),
)
