"""RSS and Atom feeds recorded by other projects (tests/corpus/rss/), through the feed
connector's mapping as a sync does it.

A file is one feed body. It is parsed as :meth:`FeedConnector.fetch` parses it (feedparser
given the bytes and no base URL, the feed's own ``<language>`` before any HTTP header) and
each entry goes through :func:`~beffroi.connectors.rss.map_entry` with the id
:func:`~beffroi.connectors.rss.entry_ids` gives it among its feed's; the item is then stored
and read back (:meth:`FeedConnector.map_item` on its ``raw`` after a JSON round trip), as the
reprocessing of stored items does.

The address each feed was fetched from is not recorded: the feed's own ``rel="self"`` link
stands for it, else its channel link (relative links resolve the same way against both on
the recorded sites). The fetch time is a fixed moment far from every recorded date, so an
entry dated with it is seen.

The checks compare with feedparser's reading of the entry (the record) and with the entry's
strings read independently here (dates, HTML), not with Beffroi's helpers.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser

from beffroi.connectors.base import ItemKind
from beffroi.connectors.rss import FeedConnector, entry_ids, map_entry, to_json
from tests.fidelity import common
from tests.fidelity.common import ISO_639_1, error_text, item_of, mapped
from tests.fidelity.model import Check, Outcome

PLATFORM = "rss"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: When the feeds are "read": after every recorded date, so that it cannot pass for one.
FETCHED_AT = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
_PLACEHOLDER = "https://feed.invalid/feed.xml"

#: Markup left in a text.
_TAG = re.compile(r"</?(?:p|br|a|img|div|span|strong|em|ul|li|figure|iframe)\b[^>]*>", re.I)
_ANY_TAG = re.compile(r"<[^>]+>")
_HREF = re.compile(r"<a\b[^>]*?\bhref\s*=\s*([\"'])(.*?)\1", re.I | re.S)
_IMG = re.compile(r"<img\b[^>]*>", re.I | re.S)
_SRC = re.compile(r"\bsrc\s*=\s*([\"'])(.*?)\1", re.I | re.S)
#: A 1×1 tracking pixel (FeedBurner's), not a picture.
_PIXEL = re.compile(r"\b(?:width|height)\s*=\s*[\"']?1[\"'\s/>]", re.I)
_WORD = re.compile(r"\w+")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@cache
def _connector() -> FeedConnector:
    # Only map_item is used: no request is made.
    return FeedConnector({"url": _PLACEHOLDER}, {})


def _address(feed: Mapping[str, Any]) -> str:
    """Where the feed stands: its ``rel="self"`` link, else its channel link."""
    for link in feed.get("links") or ():
        href = str(link.get("href") or "")
        if link.get("rel") == "self" and href.startswith(("http://", "https://")):
            return href
    channel = str(feed.get("link") or "")
    return channel if channel.startswith(("http://", "https://")) else _PLACEHOLDER


def read(path: Path) -> Iterator[Outcome]:
    """Every entry of one recorded feed, mapped as a sync maps it, then stored and reread."""
    relative = str(path.relative_to(CORPUS))
    # As FeedConnector.fetch: the bytes, no base URL, no HTTP language header.
    parsed = feedparser.parse(path.read_bytes())
    feed = {**parsed.feed, "http_language": None}
    entries = list(parsed.entries)
    if parsed.bozo and not entries and not parsed.feed.get("title"):
        yield Outcome(relative, "(feed)", {}, error="MalformedPayload: not a feed")
        return
    address = _address(parsed.feed)
    ids = entry_ids(entries)
    counts = Counter(ids)
    for index, (entry, identifier) in enumerate(zip(entries, ids, strict=True)):
        payload = to_json(dict(entry))
        context: dict[str, Any] = {
            "address": address,
            "feed_language": parsed.feed.get("language"),
            "same_id": counts[identifier],
        }
        ref = f"{index}:{identifier}"
        try:
            item = map_entry(entry, feed, address, FETCHED_AT, identifier)
        except Exception as exc:  # one bad entry must not hide the others
            yield Outcome(relative, ref, payload, error=error_text(exc), context=context)
            continue
        try:
            stored = json.loads(json.dumps(dict(item.raw)))
            context["reread"] = _connector().map_item(stored, ItemKind.POST)
        except Exception as exc:  # said in the context: survives_storage fails
            context["reread_error"] = error_text(exc)
        yield Outcome(relative, ref, payload, item=item, context=context)


# --- what the entry says, read here -------------------------------------------------------


def _plain(value: Any) -> str:
    """HTML as words, stripped here with a regex (not with Beffroi's parser)."""
    text = html.unescape(_ANY_TAG.sub(" ", str(value or "")))
    return " ".join(text.split())


def _words(value: str) -> list[str]:
    return _WORD.findall(value.lower())


def _contents(payload: Mapping[str, Any]) -> list[str]:
    return [
        str(content.get("value") or "")
        for content in payload.get("content") or ()
        if isinstance(content, Mapping) and content.get("value")
    ]


def _body(payload: Mapping[str, Any]) -> str:
    """The entry's fullest text (its content or its summary), as HTML."""
    bodies = [*_contents(payload), str(payload.get("summary") or "")]
    return max(bodies, key=lambda body: len(_words(_plain(body))))


def _date(value: str) -> datetime | None:
    """A feed date read here: RFC 822 (English names), ISO 8601, ``YYYY/M/D h:mm:ss``."""
    value = value.strip()
    slashed = _SLASHED.match(value)
    if slashed:
        year, month, day, hour, minute, second = (int(part or 0) for part in slashed.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _date_string(payload: Mapping[str, Any]) -> str:
    for key in ("published", "updated"):
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _declared_language(outcome: Outcome) -> str:
    """The entry's ``xml:lang`` (on its title or body), else its feed's ``<language>``."""
    payload = outcome.payload
    details: list[Any] = [c for c in payload.get("content") or () if isinstance(c, Mapping)]
    details += [payload.get("summary_detail"), payload.get("title_detail")]
    for detail in details:
        if isinstance(detail, Mapping) and detail.get("language"):
            return str(detail["language"])
    return str(outcome.context.get("feed_language") or "")


def _primary(tag: str) -> str:
    return re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()


def _author_name(payload: Mapping[str, Any]) -> str:
    detail = payload.get("author_detail")
    name = detail.get("name") if isinstance(detail, Mapping) else None
    return str(name or payload.get("author") or "").strip()


def _enclosures(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(url, type) of the entry's enclosures and ``media:content``."""
    found = [
        (str(link.get("href") or ""), str(link.get("type") or ""))
        for link in payload.get("links") or ()
        if isinstance(link, Mapping) and link.get("rel") == "enclosure"
    ]
    found += [
        (str(media.get("url") or ""), str(media.get("type") or media.get("medium") or ""))
        for media in payload.get("media_content") or ()
        if isinstance(media, Mapping)
    ]
    return [(url, kind) for url, kind in found if url]


def _hrefs(outcome: Outcome) -> list[str]:
    """The web links of the entry's body, resolved against the feed's address."""
    base = str(outcome.context.get("address") or "")
    found = []
    for _, href in _HREF.findall(_body(outcome.payload)):
        href = html.unescape(href).strip()
        if href and not href.startswith(("#", "mailto:", "javascript:", "tel:")):
            url = urljoin(base, href)
            if url.startswith(("http://", "https://")):
                found.append(url)
    return found


def _pictures_only(outcome: Outcome) -> list[str]:
    """The pictures of an entry whose body is pictures and no words, resolved."""
    body = _body(outcome.payload)
    if _words(_plain(body)):
        return []
    base = str(outcome.context.get("address") or "")
    pictures = []
    for tag in _IMG.findall(body):
        src = _SRC.search(tag)
        if src and not _PIXEL.search(tag):
            pictures.append(urljoin(base, html.unescape(src.group(2)).strip()))
    return pictures


def _has_text(outcome: Outcome) -> bool:
    payload = outcome.payload
    return outcome.item is not None and bool(_plain(payload.get("title")) or _plain(_body(payload)))


def _fuller_content(outcome: Outcome) -> bool:
    if outcome.item is None:
        return False
    summary = len(_words(_plain(outcome.payload.get("summary"))))
    return any(len(_words(_plain(body))) > summary for body in _contents(outcome.payload))


def _keeps_content(outcome: Outcome) -> bool:
    words = set(_words(item_of(outcome).text))
    content = max((_words(_plain(body)) for body in _contents(outcome.payload)), key=len)
    kept = sum(1 for word in content if word in words)
    return kept >= 0.9 * len(content)


def _title_kept(outcome: Outcome) -> bool:
    # Without white space: inline markup (``ft<sup>2</sup>``) adds none, the regex would.
    title = "".join(_plain(outcome.payload.get("title")).split())
    return "".join(item_of(outcome).text.split()).startswith(title)


def _addresses(outcome: Outcome) -> list[str]:
    """The item's address, links, media and author addresses."""
    item = item_of(outcome)
    urls = [item.url, *item.urls, *(media.url for media in item.media), item.author.url]
    return [url for url in urls if url]


def _has_link(outcome: Outcome) -> bool:
    return outcome.item is not None and bool(outcome.payload.get("link"))


def _url_is_link(outcome: Outcome) -> bool:
    expected = urljoin(str(outcome.context["address"]), str(outcome.payload["link"]))
    return item_of(outcome).url == expected


def _language_declared(outcome: Outcome) -> bool:
    return outcome.item is not None and _primary(_declared_language(outcome)) in ISO_639_1


def _has_enclosure(outcome: Outcome) -> bool:
    return outcome.item is not None and bool(_enclosures(outcome.payload))


def _enclosures_kept(outcome: Outcome) -> bool:
    base = str(outcome.context["address"])
    kept = {media.url for media in item_of(outcome).media}
    return all(urljoin(base, url) in kept for url, _ in _enclosures(outcome.payload))


def _typed_enclosure(outcome: Outcome) -> bool:
    return outcome.item is not None and any(
        kind.split("/")[0] in ("image", "video", "audio")
        for _, kind in _enclosures(outcome.payload)
    )


def _media_kinds(outcome: Outcome) -> bool:
    base = str(outcome.context["address"])
    kinds = {media.url: media.kind for media in item_of(outcome).media}
    return all(
        kinds.get(urljoin(base, url)) == kind.split("/")[0]
        for url, kind in _enclosures(outcome.payload)
        if kind.split("/")[0] in ("image", "video", "audio")
    )


CHECKS: tuple[Check, ...] = (
    common.text_present(
        _has_text,
        "the item has text where the entry has a title, a summary or a content",
        name="text_not_empty",
    ),
    Check(
        "title_kept",
        "the item's text starts with the entry's title (as plain text)",
        _title_kept,
        lambda o: o.item is not None and bool(_plain(o.payload.get("title"))),
    ),
    Check(
        "full_content_not_summary",
        "where the entry's content says more than its summary, the text keeps ≥90% of the "
        "content's words (the article, not the excerpt)",
        _keeps_content,
        _fuller_content,
    ),
    common.no_html_entities("no HTML entity (&amp; &#39; &eacute;…) is left in the text"),
    Check(
        "no_html_markup",
        "no HTML tag (<p>, <a href>, <br>…) is left in the text",
        lambda o: not _TAG.search(item_of(o).text),
    ),
    common.created_at_is(
        "created_at_is_the_entry_date",
        "created_at equals the entry's published (else updated) date, read here",
        lambda o: _date(_date_string(o.payload)),
        dated=True,
    ),
    Check(
        "date_not_fetch_time",
        "an entry with a date string is not dated with the time the feed was read",
        lambda o: item_of(o).created_at != FETCHED_AT and "date_unread" not in item_of(o).raw,
        lambda o: o.item is not None and bool(_date_string(o.payload)),
    ),
    common.links_absolute(
        "the item's address, links, media and author address are absolute http(s) URLs",
        links=_addresses,
        applies=mapped,
    ),
    Check(
        "url_is_entry_link",
        "the item's address is the entry's <link>, resolved against the feed's address",
        _url_is_link,
        _has_link,
    ),
    common.links_kept(
        _hrefs,
        "every web link (<a href>) of the entry's body is among the item's links",
        name="body_links_extracted",
    ),
    common.language_is_iso_639_1(
        "the language is None or an ISO 639-1 code", name="language_iso_639_1"
    ),
    Check(
        "language_is_declared_one",
        "where the entry (xml:lang) or its feed (<language>) declares a language, it is "
        "that language's primary code",
        lambda o: item_of(o).language == _primary(_declared_language(o)),
        _language_declared,
    ),
    common.author_present("the author has an id and a handle (the entry's author, else the feed)"),
    Check(
        "author_name_kept",
        "where the entry names its author, that name is the author's display name",
        lambda o: item_of(o).author.display_name == _author_name(o.payload),
        lambda o: o.item is not None and bool(_author_name(o.payload)),
    ),
    Check(
        "enclosures_kept",
        "every enclosure and media:content of the entry is among the item's media",
        _enclosures_kept,
        _has_enclosure,
    ),
    Check(
        "media_kind_from_type",
        "an enclosure typed image/, video/ or audio/ is a media of that kind",
        _media_kinds,
        _typed_enclosure,
    ),
    Check(
        "picture_post_keeps_picture",
        "an entry whose body is only pictures (no words) has them among its media",
        lambda o: set(_pictures_only(o)) <= {media.url for media in item_of(o).media},
        lambda o: o.item is not None and bool(_pictures_only(o)),
    ),
    Check(
        "id_unique_in_feed",
        "no other entry of the feed gets the same id (none is collapsed into another)",
        lambda o: o.context.get("same_id") == 1,
    ),
    Check(
        "survives_storage",
        "the stored entry (raw, through JSON) maps back to the same item (map_item)",
        lambda o: o.context.get("reread") == o.item,
    ),
)
