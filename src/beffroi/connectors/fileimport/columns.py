"""One row by column name to a :class:`NormalizedItem`: the columns, their aliases, the header.

The column table, what each column accepts and the messages a refused value gets are in
``docs/import-format.md``. :func:`map_columns` maps a CSV row or an NDJSON object,
:class:`Record` checks its values one by one (text, ids, dates, counts, addresses) and
:func:`build_item` assembles the item, for the Zeeschuimer mapping too.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from beffroi.connectors.base import (
    ConfigurationError,
    ItemKind,
    MalformedPayload,
    Media,
    NormalizedAuthor,
    NormalizedItem,
)
from beffroi.connectors.fileimport.fourcat import is_fourcat_x, read_fourcat_x
from beffroi.connectors.fileimport.report import ImportFormatError
from beffroi.connectors.fileimport.storable import excerpt, json_type
from beffroi.connectors.registry import available
from beffroi.connectors.values import text_links, web_address
from beffroi.connectors.x import links_without_quoted_post

REQUIRED_COLUMNS: Final = ("text", "created_at", "author")
OPTIONAL_COLUMNS: Final = (
    "id",
    "platform",
    "kind",
    "thread_id",
    "parent_id",
    "author_id",
    "author_name",
    "author_url",
    "url",
    "language",
    "likes",
    "shares",
    "replies",
    "views",
    "media",
    "urls",
)
METRIC_COLUMNS: Final = ("likes", "shares", "replies", "views")

#: Other names accepted for each column, in order of preference.
ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "text": ("body", "content", "message", "caption", "full_text"),
    "created_at": (
        "unix_timestamp",
        "published_at",
        "timestamp",
        "date",
        "created",
        "published",
        "posted_at",
        "datetime",
        "time",
    ),
    "author": (
        "username",
        "user",
        "screen_name",
        "handle",
        "author_handle",
        "author_username",
        "account",
    ),
    "id": ("platform_id", "item_id", "post_id"),
    "platform": ("source_platform", "network"),
    "kind": (),
    "thread_id": ("conversation_id",),
    "parent_id": ("in_reply_to_id", "in_reply_to", "reply_to"),
    "author_id": ("user_id", "account_id"),
    "author_name": (
        "author_fullname",
        "author_full",
        "display_name",
        "author_display_name",
        "full_name",
    ),
    "author_url": (),
    "url": ("link", "permalink", "post_url", "tiktok_url"),
    "language": ("lang", "language_guess"),
    "likes": ("like_count", "num_likes", "favorite_count", "favourite_count"),
    "shares": (
        "share_count",
        "retweet_count",
        "retweets",
        "repost_count",
        "reposts",
        "num_shares",
    ),
    "replies": ("reply_count", "comment_count", "num_comments", "comments"),
    "views": ("view_count", "play_count", "plays", "impression_count", "impressions"),
    "media": ("media_urls", "attachments", "video_url"),
    "urls": (),
}

_PLATFORM_ALIASES: Final[Mapping[str, str]] = {
    "twitter": "x",
    "twitter.com": "x",
    "x.com": "x",
    "instagram.com": "instagram",
    "tiktok.com": "tiktok",
    "facebook.com": "facebook",
    "fb": "facebook",
    "youtube.com": "youtube",
    "linkedin.com": "linkedin",
    "threads.net": "threads",
    "threads.com": "threads",
    "bsky.app": "bluesky",
    "bsky": "bluesky",
}

_MAX_ID = 255
#: "Unknown" or "no language" codes (X uses qme, qht… for media-, hashtag-only posts).
_NO_LANGUAGE: Final = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "qst", "un"})
_MAX_URL = 1000
_MAX_COUNT = 2**53
_MAX_EPOCH = 10**11
_DATE_HELP = "expected ISO 8601, e.g. 2024-05-01T14:03:00+02:00, or unix epoch seconds"
_PLATFORM_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", re.IGNORECASE)
_EPOCH_RE = re.compile(r"[+-]?\d+(\.\d+)?")
_COUNT_RE = re.compile(r"\d{1,16}")
#: Addresses in one value: separated by spaces or '|', or by commas as 4CAT writes them
#: (a comma followed by the next address, so that an address's own commas stay).
_SPLIT_RE = re.compile(r"[\s|]+|,(?=https?://)", re.IGNORECASE)
_NAME_RE = re.compile(r"[\s.\-]+")
_MEDIA_KINDS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "bmp"), "image"),
    **dict.fromkeys(("mp4", "mov", "webm", "m4v", "m3u8", "avi", "mkv"), "video"),
    **dict.fromkeys(("mp3", "m4a", "ogg", "oga", "opus", "wav", "flac", "aac"), "audio"),
}


def _is_tco(url: str) -> bool:
    """Whether ``url`` is one of X's ``t.co`` wrappers, whose target X gives elsewhere."""
    try:
        return (urlsplit(url).hostname or "").lower() == "t.co"
    except ValueError:
        return False


def normalize_name(name: str) -> str:
    """A header name as columns are matched: lowercase, spaces, dots and hyphens as ``_``."""
    return _NAME_RE.sub("_", name.strip().lower()).strip("_")


def canonical_map(names: Iterable[str]) -> dict[str, str]:
    """Canonical column -> the name (as written) that provides it."""
    by_normal: dict[str, str] = {}
    for name in names:
        by_normal.setdefault(normalize_name(name), name)
    found: dict[str, str] = {}
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        for candidate in (column, *ALIASES.get(column, ())):
            if candidate in by_normal:
                found[column] = by_normal[candidate]
                break
    return found


class DateError(ValueError):
    """Not a date; ``hint`` says what was expected when a general hint would mislead."""

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def parse_date(value: object) -> datetime:
    """An aware UTC datetime from ISO 8601, unix epoch seconds or ``YYYY-MM-DD HH:MM:SS``.

    A date or time without an offset is taken as UTC. Raises ValueError.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, bool):
        raise DateError()
    elif isinstance(value, int | float):
        moment = _from_epoch(float(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            if not _EPOCH_RE.fullmatch(text):
                raise DateError() from None
            moment = _from_epoch(float(text))
    else:
        raise DateError()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise DateError()
    if seconds >= _MAX_EPOCH:
        raise DateError("it looks like milliseconds: give seconds since 1970 (divide by 1000)")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _media_kind(url: str) -> str:
    path = urlsplit(url).path.lower()
    extension = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return _MEDIA_KINDS.get(extension, "other")


def _normalize_platform(value: str) -> str:
    name = value.strip().lower()
    name = name.removeprefix("www.")
    return _PLATFORM_ALIASES.get(name, name)


class Record:
    """One row's values by canonical column, with the names to show in messages."""

    def __init__(self, values: Mapping[str, Any], names: Mapping[str, str], noun: str) -> None:
        self.values = values
        self.names = names
        self.noun = noun

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def label(self, key: str) -> str:
        name = self.names.get(key, key)
        if normalize_name(name) == key or self.noun != "column":
            return f"{self.noun} '{name}'"
        return f"{self.noun} '{name}' ({key})"

    def text(self, key: str, *, limit: int | None = None) -> str | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise MalformedPayload(f"{self.label(key)}: expected text, found {json_type(value)}")
        text = str(value).strip()
        if not text:
            return None
        if limit is not None and len(text) > limit:
            raise MalformedPayload(
                f"{self.label(key)}: '{excerpt(text)}' is {len(text)} characters long; "
                f"the limit is {limit}"
            )
        return text

    def ident(self, key: str) -> str | None:
        text = self.text(key, limit=_MAX_ID)
        if text is not None and any(char in text for char in "\r\n\t"):
            raise MalformedPayload(
                f"{self.label(key)}: '{excerpt(text)}' is not an id (it contains line breaks "
                "or tabs)"
            )
        return text

    def date(self, key: str) -> datetime:
        value = self.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MalformedPayload(f"{self.label(key)} is empty: every row needs a date")
        try:
            return parse_date(value)
        except (ValueError, OverflowError, OSError) as exc:
            hint = exc.hint if isinstance(exc, DateError) and exc.hint else _DATE_HELP
            raise MalformedPayload(
                f"{self.label(key)}: '{excerpt(value)}' is not a date ({hint})"
            ) from None

    def count(self, key: str) -> int | None:
        value = self.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _COUNT_RE.fullmatch(value.strip()):
            number = int(value.strip())
        if number is None or not 0 <= number <= _MAX_COUNT:
            raise MalformedPayload(
                f"{self.label(key)}: '{excerpt(value)}' is not a count (expected a whole "
                "number, 0 or more, e.g. 0, 12 or 3400)"
            )
        return number

    def web_address(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not web_address(value):
            raise MalformedPayload(
                f"{self.label(key)}: '{excerpt(value)}' is not a web address (expected "
                "http:// or https://)"
            )
        return value.strip()

    def url(self, key: str) -> str:
        text = self.text(key)
        if text is None:
            return ""
        url = self.web_address(key, text)
        if len(url) > _MAX_URL:
            raise MalformedPayload(
                f"{self.label(key)}: the address is {len(url)} characters long; "
                f"the limit is {_MAX_URL}"
            )
        return url

    def url_list(self, key: str) -> list[str]:
        return [self.web_address(key, entry[1]) for entry in self._entries(key)]

    def media(self, key: str) -> tuple[Media, ...]:
        # A column that says what it holds (4CAT's video_url) says the kind of addresses
        # without an extension (TikTok's video addresses have none).
        named = "video" if normalize_name(self.names.get(key, key)) == "video_url" else ""
        found: list[Media] = []
        for entry in self._entries(key):
            kind, url, description = entry
            url = self.web_address(key, url)
            kind = kind or named or _media_kind(url)
            found.append(Media(kind=kind, url=url, description=description))
        return tuple(found)

    def _entries(self, key: str) -> list[tuple[str, object, str]]:
        """(kind, url, description) from ``a b|c``, ``["a", ...]`` or ``[{"url": ...}]``."""
        value = self.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [("", part, "") for part in _SPLIT_RE.split(value.strip()) if part]
        if not isinstance(value, list):
            raise MalformedPayload(
                f"{self.label(key)}: expected addresses separated by spaces or '|', or a list, "
                f"found {json_type(value)}"
            )
        entries: list[tuple[str, object, str]] = []
        for element in value:
            if isinstance(element, dict):
                kind = element.get("kind") or element.get("type") or ""
                description = element.get("description") or ""
                entries.append(
                    (
                        kind if kind in ("image", "video", "audio", "link", "other") else "",
                        element.get("url"),
                        description if isinstance(description, str) else "",
                    )
                )
            else:
                entries.append(("", element, ""))
        return entries


def _author(record: Record) -> tuple[str, str | None, str, str]:
    """(handle, author id, display name, profile url), nested ``author`` objects included."""
    nested = record.get("author")
    if isinstance(nested, dict):
        inner: dict[str, Any] = {}
        names: dict[str, str] = {}
        for key, canonical in (
            ("handle", "author"),
            ("username", "author"),
            ("screen_name", "author"),
            ("id", "author_id"),
            ("name", "author_name"),
            ("display_name", "author_name"),
            ("url", "author_url"),
        ):
            if canonical not in inner and nested.get(key) not in (None, ""):
                inner[canonical] = nested[key]
                names[canonical] = f"author.{key}"
        for canonical in ("author_id", "author_name", "author_url"):
            if record.get(canonical) is not None:
                inner[canonical] = record.get(canonical)
                names[canonical] = record.names.get(canonical, canonical)
        names.setdefault("author", "author.handle")
        record = Record(inner, names, record.noun)
    handle = record.text("author", limit=_MAX_ID)
    if handle is not None:
        handle = handle.removeprefix("@").strip() or None
    if handle is None:
        raise MalformedPayload(
            f"{record.label('author')} is empty: every row needs the author's handle"
        )
    author_id = record.ident("author_id")
    name = record.text("author_name") or ""
    return handle, author_id, name, record.url("author_url")


def build_item(
    record: Record,
    *,
    default_platform: str,
    default_kind: ItemKind | None = None,
    raw: Mapping[str, Any],
    author_extra: Mapping[str, Any] | None = None,
) -> NormalizedItem:
    """Validate one record and turn it into an item; raises MalformedPayload (the reason).

    An item without text is accepted when it has media or its own address (a photo or a
    video without caption), in every format alike.
    """
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise MalformedPayload(f"{record.label('text')}: expected text, found {json_type(text)}")
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    media = record.media("media")
    url = record.url("url")
    if not text and not media and not url:
        raise MalformedPayload(
            f"{record.label('text')} is empty: every row needs a text, media or the item's "
            "address (url)"
        )
    created_at = record.date("created_at")
    handle, author_id, author_name, author_url = _author(record)

    platform = default_platform
    given_platform = record.text("platform")
    if given_platform is not None:
        platform = _normalize_platform(given_platform)
        if not _PLATFORM_RE.fullmatch(platform):
            raise MalformedPayload(
                f"{record.label('platform')}: '{excerpt(given_platform)}' is not a platform name "
                "(lowercase letters, digits, '.', '_' or '-', at most 32 characters, "
                "e.g. x, instagram, mastodon)"
            )

    platform_id = record.ident("id")
    thread_id = record.ident("thread_id")
    parent_id = record.ident("parent_id")
    if parent_id is not None and parent_id == platform_id:
        parent_id = None

    kind_text = record.text("kind")
    if kind_text is not None:
        try:
            kind = ItemKind(kind_text.lower())
        except ValueError:
            choices = ", ".join(member.value for member in ItemKind)
            raise MalformedPayload(
                f"{record.label('kind')}: '{excerpt(kind_text)}' is not a kind "
                f"(expected one of {choices})"
            ) from None
    elif default_kind is not None:
        kind = default_kind
    else:
        kind = ItemKind.COMMENT if parent_id else ItemKind.POST

    language = record.text("language")
    if language is not None:
        language = language.replace("_", "-")
        if language.lower() in _NO_LANGUAGE:
            language = None
        elif len(language) > 8 or not _LANGUAGE_RE.fullmatch(language):
            raise MalformedPayload(
                f"{record.label('language')}: '{excerpt(language)}' is not a language code "
                "(e.g. fr, en or pt-BR, at most 8 characters)"
            )

    metrics = {name: n for name in METRIC_COLUMNS if (n := record.count(name)) is not None}
    for name in record.values:
        if name.startswith("metric_") and (n := record.count(name)) is not None:
            metrics[name.removeprefix("metric_")] = n

    # X wraps every link of a text in t.co; when the record lists the links it shares
    # (X's expanded_url, 4CAT's urls column), a t.co in the text is one of them or the
    # link X adds for the post's own media: never a link of its own.
    shared = record.url_list("urls")
    in_text = text_links(text)
    if "urls" in record.values:
        in_text = tuple(link for link in in_text if not _is_tco(link))
    urls = list(dict.fromkeys([*shared, *in_text]))

    item = NormalizedItem(
        platform_id=platform_id or "",
        kind=kind,
        text=text,
        created_at=created_at,
        author=NormalizedAuthor(
            platform_id=author_id or handle,
            handle=handle,
            display_name=author_name,
            url=author_url,
            extra=dict(author_extra or {}),
        ),
        thread_id=thread_id,
        parent_id=parent_id,
        url=url,
        urls=tuple(urls),
        media=media,
        metrics=metrics,
        language=language,
        raw=dict(raw),
        platform=platform,
    )
    if platform_id is None:
        item = replace(item, platform_id=derived_id(item))
    return item


def derived_id(item: NormalizedItem) -> str:
    """sha256 (hex) of platform, author handle, date (UTC, ISO 8601) and text."""
    key = "\x1f".join(
        (item.platform or "", item.author.handle, item.created_at.isoformat(), item.text)
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def map_columns(
    record: Mapping[str, Any],
    *,
    default_platform: str,
    default_kind: ItemKind | None,
    noun: str,
) -> NormalizedItem:
    """Map one CSV row or NDJSON object by its column names (``noun``: ``column`` or
    ``field``, as messages name them); raises MalformedPayload (the reason)."""
    names = canonical_map(record.keys())
    values = {column: record[name] for column, name in names.items()}
    quoted = None
    if is_fourcat_x(record):
        quoted = read_fourcat_x(record, values)
        if isinstance(values.get("media"), list):
            names["media"] = "images/videos"
    item = build_item(
        Record(values, names, noun),
        default_platform=default_platform,
        default_kind=default_kind,
        raw=record,
    )
    if quoted is None:
        return item
    return replace(item, quoted=quoted, urls=links_without_quoted_post(item.urls, quoted))


def check_default_platform(value: str) -> str:
    """The source's platform name, normalised, as the platform of rows that name none."""
    platform = _normalize_platform(value)
    if not _PLATFORM_RE.fullmatch(platform):
        raise ConfigurationError(f"'{excerpt(value)}' is not a platform name")
    return platform


def import_platforms() -> tuple[str, ...]:
    """The platforms the rows of a file may be given (``beffroi import --platform``): those
    Beffroi has a connector for and those the import understands (threads, linkedin…);
    not ``file``, the platform of rows nothing names."""
    known = {*available(), *_PLATFORM_ALIASES.values()} - {"file"}
    return tuple(sorted(known))


def check_import_platform(value: str) -> str:
    """``value`` (``twitter``, ``TikTok``…) as one of :func:`import_platforms`, or a
    ConfigurationError that lists them."""
    platform = _normalize_platform(value)
    known = import_platforms()
    if platform not in known:
        raise ConfigurationError(
            f"'{excerpt(value)}' is not a platform the import knows; use one of {', '.join(known)}"
        )
    return platform


def _show_names(names: Sequence[str]) -> str:
    shown = ", ".join(f"'{excerpt(name)}'" for name in names[:30])
    if len(names) > 30:
        shown += f" and {len(names) - 30} more"
    return shown or "none"


def header_columns(header: list[str], name: str, number: int) -> list[str]:
    """The CSV header's column names, or ImportFormatError when one is named twice or a
    required one is missing (``name``: the file's, ``number``: the header's line)."""
    columns = [cell.strip() or f"column_{index}" for index, cell in enumerate(header, start=1)]
    normal: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        key = normalize_name(column)
        if key in normal:
            raise ImportFormatError(
                f"{name}: line {number} (the header) names the column '{excerpt(column)}' "
                f"twice (columns {normal[key]} and {index}); give each column its own name"
            )
        normal[key] = index
    found = canonical_map(columns)
    missing = [column for column in REQUIRED_COLUMNS if column not in found]
    if missing:
        accepted = "; ".join(
            f"{column}: {', '.join((column, *ALIASES[column][:4]))}" for column in missing
        )
        raise ImportFormatError(
            f"{name}: the header (line {number}) lacks the required column(s) "
            f"{', '.join(repr(c) for c in missing)}; found {_show_names(columns)}. The first "
            f"line of a CSV file must name its columns; accepted names — {accepted} "
            "(see docs/import-format.md)"
        )
    return columns
