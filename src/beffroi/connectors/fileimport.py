"""Importing items from a CSV or NDJSON file (the ``file`` platform).

The whole file is read and every row validated before anything is returned: a
:class:`ParseReport` lists the valid rows and, for each invalid one, its line number, a
reason a person can act on and the original text. Nothing here touches Django.

Formats
=======

``csv``  (``.csv``, ``.tsv``)
    UTF-8 text (a byte-order mark is accepted), a header line naming the columns, one item
    per row. The separator is guessed from the header: comma, semicolon or tab. Values may
    be quoted and span several lines, as spreadsheets write them.
``ndjson``  (``.ndjson``, ``.jsonl``)
    One JSON object per line with the same field names as the CSV columns; ``author`` may
    also be an object ``{"id": ..., "handle": ..., "name": ...}``, ``media`` and ``urls``
    lists. Lines exported by Zeeschuimer or 4CAT (``{"source_platform": ..., "data":
    {...}}``) are recognised and mapped for X/Twitter, Instagram, Threads, TikTok and TikTok
    comments (see ``docs/import-format.md``).

Blank lines, and CSV rows whose cells are all empty, are skipped.

Columns
=======

Header names are matched case-insensitively; spaces, dots and hyphens count as
underscores (``Created At`` is ``created_at``). Where several columns mean the same field,
the first one in the alias list below wins and the others are only kept in ``raw``.

=============  ========  =================================================================
column         required  meaning, accepted values and aliases
=============  ========  =================================================================
text           yes       The item's text. May be empty only when ``media`` is given.
                         Aliases: body, content, message, caption, full_text.
created_at     yes       When it was published: ISO 8601 (``2024-05-01T14:03:00+02:00``,
                         ``2024-05-01T12:03:00Z``), unix epoch seconds (``1714564980``) or
                         ``YYYY-MM-DD HH:MM:SS``. A date without offset is taken as UTC.
                         Aliases: unix_timestamp, published_at, timestamp, date, created,
                         published, posted_at, datetime, time.
author         yes       The author's handle (a leading ``@`` is dropped).
                         Aliases: username, user, screen_name, handle, author_handle,
                         author_username, account.
id             no        The platform's id of the item, unique in the file, at most 255
                         characters. When absent a stable id is derived: the sha256 (hex)
                         of platform, author, created_at (UTC) and text, so importing the
                         same file again yields the same ids.
                         Aliases: platform_id, item_id, post_id.
platform       no        ``x``, ``instagram``, ``tiktok``, ``mastodon``… (``twitter`` and
                         domain names such as ``twitter.com`` are understood). Default: the
                         source's platform (``file``). Aliases: source_platform, network.
kind           no        post, comment, reply, message or mention. Default: ``comment``
                         when ``parent_id`` is set, else ``post``.
thread_id      no        Id of the conversation's root post. Alias: conversation_id.
parent_id      no        Id of the item this one answers. A parent_id equal to the row's own
                         id (4CAT writes that for posts) means no parent.
                         Aliases: in_reply_to_id, in_reply_to, reply_to.
author_id      no        The author's platform id (default: the handle).
                         Aliases: user_id, account_id.
author_name    no        The author's display name. Aliases: author_fullname, author_full,
                         display_name, author_display_name, full_name.
author_url     no        Address of the author's profile (http or https).
url            no        Address of the item (http or https, at most 1000 characters).
                         Aliases: link, permalink, post_url.
language       no        Language code such as ``fr`` or ``pt-BR`` (``und`` means unknown).
                         Aliases: lang, language_guess.
likes          no        Non-negative integers, stored as metrics.
shares                   likes: like_count, num_likes, favorite_count, favourite_count;
replies                  shares: share_count, retweet_count, retweets, repost_count,
views                    reposts, num_shares; replies: reply_count, comment_count,
                         num_comments, comments; views: view_count, play_count, plays,
                         impression_count, impressions.
media          no        Addresses of attachments, separated by spaces or ``|``; the kind
                         (image, video, audio, other) is guessed from the extension.
                         Aliases: media_urls, attachments.
urls           no        Links the item shares, separated by spaces or ``|`` (links found
                         in the text are added).
=============  ========  =================================================================

Every other column is kept, with the whole row, in the item's ``raw`` data.

Errors
======

Problems with the file as a whole (unknown format, too big, binary or UTF-16, empty, no
header or missing required columns) raise :class:`ImportFormatError`. Problems with a row
become a :class:`RowError` whose ``reason`` reads, for example::

    column 'created_at': '31/02/2024' is not a date (expected ISO 8601, e.g.
    2024-05-01T14:03:00+02:00, or unix epoch seconds)

A file with nothing to import (no byte, only blank lines, a CSV header without rows) is an
:class:`ImportFormatError` too, whatever its format.

Hostile files are bounded: the file size (``max_file_bytes``, 200 MiB by default) and the
length of one line (``max_row_bytes``, 4 MiB) are limited, CSV fields may not exceed the
row limit, and JSON may not nest deeper than :data:`MAX_JSON_DEPTH` levels or use
NaN/Infinity. What no database stores is refused with its row, before anything is stored:
the NUL character and lone UTF-16 surrogates (``\\ud800``), anywhere in a row, keys included
(:func:`check_json`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, ClassVar, Final
from urllib.parse import urlsplit

from beffroi.connectors.base import (
    Action,
    AuthMethod,
    ConfigurationError,
    Connector,
    FetchBatch,
    FetchKind,
    ItemKind,
    MalformedPayload,
    Media,
    NormalizedAuthor,
    NormalizedItem,
    Option,
    UnsupportedAction,
)
from beffroi.connectors.values import web_address

__all__ = [
    "ALIASES",
    "BATCH_SIZE",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_ROW_BYTES",
    "FORMATS",
    "MAX_JSON_DEPTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ZEESCHUIMER_PLATFORMS",
    "FileConnector",
    "ImportFormatError",
    "ParseReport",
    "ParsedRow",
    "RowError",
    "UnstorableJSON",
    "check_json",
    "check_text",
    "escape_unstorable",
    "file_sha256",
    "guess_format",
    "map_record",
    "map_zeeschuimer",
    "parse_date",
    "parse_file",
    "write_rejected",
]

DEFAULT_MAX_FILE_BYTES: Final = 200 * 1024 * 1024
DEFAULT_MAX_ROW_BYTES: Final = 4 * 1024 * 1024
#: Valid rows per :class:`FetchBatch`.
BATCH_SIZE: Final = 500
#: Deepest nesting of JSON accepted (Zeeschuimer's posts nest about 20 levels): deeper data
#: would exhaust Python's recursion when stored or shown.
MAX_JSON_DEPTH: Final = 64
FORMATS: Final = ("csv", "ndjson")

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
    "url": ("link", "permalink", "post_url"),
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
    "media": ("media_urls", "attachments"),
    "urls": (),
}

#: Zeeschuimer's ``source_platform`` values this module maps, and the platform they become.
ZEESCHUIMER_PLATFORMS: Final[Mapping[str, str]] = {
    "twitter.com": "x",
    "x.com": "x",
    "instagram.com": "instagram",
    "threads.net": "threads",
    "threads.com": "threads",
    "tiktok.com": "tiktok",
    "tiktok-comments": "tiktok",
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
_MAX_SHOWN = 80
_MAX_COUNT = 2**53
_MAX_EPOCH = 10**11
_UTF8_BOM = b"\xef\xbb\xbf"
#: Characters no database stores as text: NUL (PostgreSQL) and lone UTF-16 surrogates (not
#: characters at all; neither UTF-8 nor SQLite nor PostgreSQL take them).
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")
_DATE_HELP = "expected ISO 8601, e.g. 2024-05-01T14:03:00+02:00, or unix epoch seconds"
_PLATFORM_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", re.IGNORECASE)
_EPOCH_RE = re.compile(r"[+-]?\d+(\.\d+)?")
_COUNT_RE = re.compile(r"\d{1,16}")
_SPLIT_RE = re.compile(r"[\s|]+")
_TEXT_URL_RE = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_NAME_RE = re.compile(r"[\s.\-]+")
_X_DATE_RE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\w{3}) (\d{1,2}) (\d{2}):(\d{2}):(\d{2}) "
    r"([+-])(\d{2})(\d{2}) (\d{4})"
)
_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_MEDIA_KINDS: Final[Mapping[str, str]] = {
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "webp", "avif", "heic", "bmp"), "image"),
    **dict.fromkeys(("mp4", "mov", "webm", "m4v", "m3u8", "avi", "mkv"), "video"),
    **dict.fromkeys(("mp3", "m4a", "ogg", "oga", "opus", "wav", "flac", "aac"), "audio"),
}

# csv.field_size_limit() is process-wide: changed and restored under this lock.
_CSV_LIMIT_LOCK = threading.Lock()


# --- public data ----------------------------------------------------------------------------


class ImportFormatError(ConfigurationError):
    """The file as a whole cannot be imported: the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ParsedRow:
    """A valid row: the number of the line it starts on and its item."""

    line: int
    item: NormalizedItem


@dataclass(frozen=True, slots=True)
class RowError:
    """An invalid row: the line it starts on, why it was refused and its original text."""

    line: int
    reason: str
    text: str

    @property
    def message(self) -> str:
        """``line 7: column 'created_at': …`` — the reason with its line number."""
        return f"line {self.line}: {self.reason}"

    def __str__(self) -> str:
        return self.message


@dataclass
class ParseReport:
    """What :func:`parse_file` found: valid rows, invalid rows, and the file's digest."""

    path: Path
    format: str
    sha256: str = ""
    items: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row is valid."""
        return not self.errors


# --- reading lines --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    #: What the parser reads (always ends with a newline).
    text: str
    #: What a person is shown (without the line ending; shortened for oversized lines).
    original: str
    problem: str | None = None


def _read_lines(handle: IO[bytes], digest: Any, max_row_bytes: int) -> Iterator[_Line]:
    number = 0
    while True:
        chunk = handle.readline(max_row_bytes + 1)
        if not chunk:
            return
        digest.update(chunk)
        number += 1
        if number == 1 and chunk.startswith(_UTF8_BOM):
            chunk = chunk[len(_UTF8_BOM) :]
        oversized = False
        if len(chunk) > max_row_bytes and not chunk.endswith(b"\n"):
            oversized = True
            while True:  # skip the rest of the line without holding it
                rest = handle.readline(64 * 1024)
                if not rest:
                    break
                digest.update(rest)
                if rest.endswith(b"\n"):
                    break
        body = chunk.rstrip(b"\r\n")
        if oversized or len(body) > max_row_bytes:
            preview = body[:200].decode("utf-8", "replace") + "…"
            yield _Line(
                number,
                "\n",
                preview,
                f"the line is longer than {max_row_bytes:,} bytes, the limit for one row",
            )
            continue
        problem = None
        if b"\x00" in body:
            problem = "the line contains NUL bytes: this is binary data, not text"
            body = body.replace(b"\x00", b"")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = body.decode("utf-8", "backslashreplace")
            problem = problem or (
                f"the line is not valid UTF-8 text (byte 0x{body[exc.start]:02X} at position "
                f"{exc.start + 1}); save the file with the UTF-8 encoding "
                "(in a spreadsheet: 'CSV UTF-8')"
            )
        yield _Line(number, text + "\n", text, problem)


def _check_start(handle: IO[bytes], name: str) -> None:
    head = handle.read(8192)
    handle.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFormatError(
            f"{name}: the file is encoded as UTF-16; save it as UTF-8 "
            "(in a spreadsheet: 'CSV UTF-8') and import it again"
        )
    if b"\x00" in head:
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        hint = " (it looks like a zip archive or an Excel workbook)" if head[:2] == b"PK" else ""
        raise ImportFormatError(
            f"{name}: this is a binary file, not CSV or NDJSON text{hint}: line {line} holds NUL "
            "bytes. Export the data as CSV (UTF-8) or NDJSON and import that file"
        )


def file_sha256(path: Path) -> str:
    """The file's sha256, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- values ---------------------------------------------------------------------------------


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = escape_unstorable(text).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def json_type(value: object) -> str:
    """What a JSON value is, in words for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class UnstorableJSON(MalformedPayload):
    """Parsed JSON that no database stores: nested too deeply, NUL, a lone surrogate,
    NaN or Infinity. ``too_deep`` tells the first case apart (it has its own message)."""

    def __init__(self, reason: str, *, too_deep: bool = False) -> None:
        super().__init__(reason)
        self.too_deep = too_deep


def escape_unstorable(text: str) -> str:
    """``text`` with the characters :func:`check_text` refuses written as escapes
    (``\\u0000``), so that a message quoting it can be printed and stored."""
    return _UNSTORABLE_RE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def check_json(value: object, *, noun: str = "field", max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`UnstorableJSON` when parsed JSON holds what no database stores.

    Walks ``value`` without recursion (it may be nested deeper than Python recurses) and
    names the first offending place, e.g. ``field 'author.name' contains a NUL character``.
    """
    # (value, its parent's path, its key or index, depth); a path is only spelled out for
    # containers and for the error, so long flat lists cost little.
    pending: list[tuple[object, str, str | int | None, int]] = [(value, "", None, 0)]
    while pending:
        current, parent, key, depth = pending.pop()
        if isinstance(current, str):
            if _UNSTORABLE_RE.search(current):
                check_text(current, _place(noun, _path(parent, key)))
            continue
        if isinstance(current, float) and not math.isfinite(current):
            raise UnstorableJSON(
                f"{_place(noun, _path(parent, key))}: {current} is not a number JSON allows"
            )
        if not isinstance(current, dict | list):
            continue
        if depth >= max_depth:
            raise UnstorableJSON(
                f"the JSON is nested more than {max_depth} levels deep (the limit)",
                too_deep=True,
            )
        path = _path(parent, key)
        if isinstance(current, list):
            pending.extend(
                (item, path, index, depth + 1) for index, item in reversed(list(enumerate(current)))
            )
            continue
        for name in current:
            if _UNSTORABLE_RE.search(str(name)):
                check_text(str(name), f"{_place(noun, _path(path, str(name)))}: its name")
        pending.extend(
            (item, path, str(name), depth + 1) for name, item in reversed(current.items())
        )


def _place(noun: str, path: str) -> str:
    return f"{noun} '{escape_unstorable(path)}'" if path else "a value"


def _path(parent: str, key: str | int | None) -> str:
    if key is None:
        return parent
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_text(text: str, what: str) -> None:
    """Raise :class:`UnstorableJSON` when ``text`` holds a character no database stores;
    ``what`` names it in the message (``field 'text'``)."""
    match = _UNSTORABLE_RE.search(text)
    if match is None:
        return
    char = match.group()
    problem = (
        "a NUL character (\\u0000)"
        if char == "\x00"
        else f"\\u{ord(char):04x}, half of a UTF-16 surrogate pair and not a character"
    )
    raise UnstorableJSON(
        f"{what} contains {problem}, which cannot be stored; remove it or export the data again"
    )


def _normalize_name(name: str) -> str:
    return _NAME_RE.sub("_", name.strip().lower()).strip("_")


def _canonical_map(names: Iterable[str]) -> dict[str, str]:
    """Canonical column -> the name (as written) that provides it."""
    by_normal: dict[str, str] = {}
    for name in names:
        by_normal.setdefault(_normalize_name(name), name)
    found: dict[str, str] = {}
    for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS):
        for candidate in (column, *ALIASES.get(column, ())):
            if candidate in by_normal:
                found[column] = by_normal[candidate]
                break
    return found


class _DateError(ValueError):
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
        raise _DateError()
    elif isinstance(value, int | float):
        moment = _from_epoch(float(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            if not _EPOCH_RE.fullmatch(text):
                raise _DateError() from None
            moment = _from_epoch(float(text))
    else:
        raise _DateError()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise _DateError()
    if seconds >= _MAX_EPOCH:
        raise _DateError("it looks like milliseconds: give seconds since 1970 (divide by 1000)")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _x_date(value: object) -> datetime:
    """X's ``Wed Oct 10 20:19:24 +0000 2018``, independent of the locale."""
    match = _X_DATE_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or match.group(1) not in _MONTHS:
        raise _DateError()
    month, day, hour, minute, second = match.group(1, 2, 3, 4, 5)
    sign, off_h, off_m, year = match.group(6, 7, 8, 9)
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        moment = datetime(
            int(year),
            _MONTHS[month],
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:
        raise _DateError() from None
    return moment.astimezone(UTC)


def _media_kind(url: str) -> str:
    path = urlsplit(url).path.lower()
    extension = path.rsplit(".", 1)[-1] if "." in path.rsplit("/", 1)[-1] else ""
    return _MEDIA_KINDS.get(extension, "other")


def _text_urls(text: str) -> list[str]:
    return [match.rstrip(".,;:!?)]}") for match in _TEXT_URL_RE.findall(text)]


def _normalize_platform(value: str) -> str:
    name = value.strip().lower()
    name = name.removeprefix("www.")
    return _PLATFORM_ALIASES.get(name, name)


class _Record:
    """One row's values by canonical column, with the names to show in messages."""

    def __init__(self, values: Mapping[str, Any], names: Mapping[str, str], noun: str) -> None:
        self.values = values
        self.names = names
        self.noun = noun

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def label(self, key: str) -> str:
        name = self.names.get(key, key)
        if _normalize_name(name) == key or self.noun != "column":
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
                f"{self.label(key)}: '{_short(text)}' is {len(text)} characters long; "
                f"the limit is {limit}"
            )
        return text

    def ident(self, key: str) -> str | None:
        text = self.text(key, limit=_MAX_ID)
        if text is not None and any(char in text for char in "\r\n\t"):
            raise MalformedPayload(
                f"{self.label(key)}: '{_short(text)}' is not an id (it contains line breaks "
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
            hint = exc.hint if isinstance(exc, _DateError) and exc.hint else _DATE_HELP
            raise MalformedPayload(
                f"{self.label(key)}: '{_short(value)}' is not a date ({hint})"
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
                f"{self.label(key)}: '{_short(value)}' is not a count (expected a whole "
                "number, 0 or more, e.g. 0, 12 or 3400)"
            )
        return number

    def web_address(self, key: str, value: object) -> str:
        if not isinstance(value, str) or not web_address(value):
            raise MalformedPayload(
                f"{self.label(key)}: '{_short(value)}' is not a web address (expected "
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
        found: list[Media] = []
        for entry in self._entries(key):
            kind, url, description = entry
            url = self.web_address(key, url)
            found.append(Media(kind=kind or _media_kind(url), url=url, description=description))
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


def _author(record: _Record) -> tuple[str, str | None, str, str]:
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
        record = _Record(inner, names, record.noun)
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


def _build_item(
    record: _Record,
    *,
    default_platform: str,
    default_kind: ItemKind | None = None,
    raw: Mapping[str, Any],
    allow_empty_text: bool = False,
    author_extra: Mapping[str, Any] | None = None,
) -> NormalizedItem:
    """Validate one record and turn it into an item; raises MalformedPayload (the reason)."""
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise MalformedPayload(f"{record.label('text')}: expected text, found {json_type(text)}")
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    media = record.media("media")
    if not text and not media and not allow_empty_text:
        raise MalformedPayload(f"{record.label('text')} is empty: every row needs a text")
    created_at = record.date("created_at")
    handle, author_id, author_name, author_url = _author(record)

    platform = default_platform
    given_platform = record.text("platform")
    if given_platform is not None:
        platform = _normalize_platform(given_platform)
        if not _PLATFORM_RE.fullmatch(platform):
            raise MalformedPayload(
                f"{record.label('platform')}: '{_short(given_platform)}' is not a platform name "
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
                f"{record.label('kind')}: '{_short(kind_text)}' is not a kind "
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
                f"{record.label('language')}: '{_short(language)}' is not a language code "
                "(e.g. fr, en or pt-BR, at most 8 characters)"
            )

    metrics = {name: n for name in METRIC_COLUMNS if (n := record.count(name)) is not None}
    for name in record.values:
        if name.startswith("metric_") and (n := record.count(name)) is not None:
            metrics[name.removeprefix("metric_")] = n

    urls = list(dict.fromkeys([*record.url_list("urls"), *_text_urls(text)]))

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
        url=record.url("url"),
        urls=tuple(urls),
        media=media,
        metrics=metrics,
        language=language,
        raw=dict(raw),
        platform=platform,
    )
    if platform_id is None:
        item = replace(item, platform_id=_derived_id(item))
    return item


def _derived_id(item: NormalizedItem) -> str:
    """sha256 (hex) of platform, author handle, date (UTC, ISO 8601) and text."""
    key = "\x1f".join(
        (item.platform or "", item.author.handle, item.created_at.isoformat(), item.text)
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def map_record(
    record: Mapping[str, Any],
    *,
    default_platform: str = "file",
    default_kind: ItemKind | None = None,
) -> NormalizedItem:
    """Map one CSV row or NDJSON object (see the module's column table).

    Raises :class:`MalformedPayload` whose message is the reason, for a person.
    """
    noun = "column" if all(isinstance(v, str) for v in record.values()) else "field"
    return _map(
        record,
        default_platform=_check_default_platform(default_platform),
        default_kind=default_kind,
        noun=noun,
    )


def _map(
    record: Mapping[str, Any],
    *,
    default_platform: str,
    default_kind: ItemKind | None,
    noun: str,
) -> NormalizedItem:
    if _is_zeeschuimer(record):
        return map_zeeschuimer(record)
    names = _canonical_map(record.keys())
    values = {column: record[name] for column, name in names.items()}
    return _build_item(
        _Record(values, names, noun),
        default_platform=default_platform,
        default_kind=default_kind,
        raw=record,
    )


def _check_default_platform(value: str) -> str:
    platform = _normalize_platform(value)
    if not _PLATFORM_RE.fullmatch(platform):
        raise ConfigurationError(f"'{_short(value)}' is not a platform name")
    return platform


# --- Zeeschuimer / 4CAT ---------------------------------------------------------------------


def _is_zeeschuimer(obj: Mapping[str, Any]) -> bool:
    return "source_platform" in obj and isinstance(obj.get("data"), dict)


def _dig(obj: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(obj, list) or not -len(obj) <= key < len(obj):
                return None
            obj = obj[key]
        elif isinstance(obj, dict):
            obj = obj.get(key)
        else:
            return None
    return obj


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


@dataclass
class _Mapped:
    values: dict[str, Any]
    names: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)
    default_kind: ItemKind | None = None


def _map_x(data: Mapping[str, Any]) -> _Mapped:
    """A tweet as X's web API sends it (4CAT's ``twitter-import`` reads the same fields)."""
    tweet: Any = data
    if "rest_id" not in tweet and isinstance(tweet.get("tweet"), dict):
        tweet = tweet["tweet"]  # TweetWithVisibilityResults
    if tweet.get("__typename") in ("TweetTombstone", "TweetUnavailable") or "tombstone" in tweet:
        raise MalformedPayload("this post is unavailable (deleted, withheld or protected)")
    legacy = tweet.get("legacy")
    if not isinstance(legacy, dict):
        raise MalformedPayload("field 'data.legacy' is missing: this is not a post X sent")
    user = _obj(_dig(tweet, "core", "user_results", "result"))
    old_user = _obj(tweet.get("user"))
    handle = _first(
        _dig(user, "core", "screen_name"),
        _dig(user, "legacy", "screen_name"),
        old_user.get("screen_name"),
    )
    tweet_id = _first(tweet.get("rest_id"), legacy.get("id_str"), tweet.get("id"))

    text = _first(_dig(tweet, "note_tweet", "note_tweet_results", "result", "text")) or legacy.get(
        "full_text"
    )
    retweet = _dig(legacy, "retweeted_status_result", "result")
    if isinstance(retweet, dict) and isinstance(retweet.get("tweet"), dict):
        retweet = retweet["tweet"]
    if isinstance(retweet, dict) and isinstance(retweet.get("legacy"), dict):
        rt_user = _dig(retweet, "core", "user_results", "result") or {}
        rt_handle = _first(
            _dig(rt_user, "core", "screen_name"), _dig(rt_user, "legacy", "screen_name")
        )
        rt_text = _first(
            _dig(retweet, "note_tweet", "note_tweet_results", "result", "text"),
            retweet["legacy"].get("full_text"),
        )
        if isinstance(rt_handle, str) and isinstance(rt_text, str):
            text = f"RT @{rt_handle}: {rt_text}"

    try:
        created_at: Any = _x_date(legacy.get("created_at"))
    except _DateError:
        raise MalformedPayload(
            f"field 'data.legacy.created_at': '{_short(legacy.get('created_at'))}' is not a date "
            "in X's format (e.g. Wed Oct 10 20:19:24 +0000 2018)"
        ) from None

    thread_id = legacy.get("conversation_id_str")
    parent_id = legacy.get("in_reply_to_status_id_str")
    kind = None
    if parent_id:
        kind = ItemKind.COMMENT if parent_id == thread_id else ItemKind.REPLY

    media: list[dict[str, Any]] = []
    entities = _dig(legacy, "extended_entities", "media") or _dig(legacy, "entities", "media")
    for entry in entities if isinstance(entities, list) else []:
        if not isinstance(entry, dict):
            continue
        if entry.get("type") in ("video", "animated_gif"):
            variants = [
                v
                for v in _dig(entry, "video_info", "variants") or []
                if isinstance(v, dict) and v.get("content_type") == "video/mp4"
            ]
            best = max(variants, key=lambda v: v.get("bitrate") or 0, default=None)
            url = best.get("url") if best else entry.get("media_url_https")
            media_kind = "video"
        else:
            url, media_kind = entry.get("media_url_https"), "image"
        if url:
            media.append(
                {"kind": media_kind, "url": url, "description": entry.get("ext_alt_text") or ""}
            )
    links = [
        link.get("expanded_url")
        for link in _dig(legacy, "entities", "urls") or []
        if isinstance(link, dict) and link.get("expanded_url")
    ]

    views = _dig(tweet, "views", "count") or _dig(tweet, "ext_views", "count")
    user_legacy = _obj(user.get("legacy")) or old_user
    extra = {
        key: value
        for key, value in (
            ("followers", user_legacy.get("followers_count")),
            ("verified", bool(user.get("is_blue_verified") or user_legacy.get("verified"))),
        )
        if value is not None
    }
    if tweet.get("promoted"):
        extra["promoted_post"] = True
    values = {
        "id": tweet_id,
        "text": text,
        "created_at": created_at,
        "author": handle,
        "author_id": _first(legacy.get("user_id_str"), user.get("rest_id"), old_user.get("id_str")),
        "author_name": _first(_dig(user, "core", "name"), _dig(user, "legacy", "name"))
        or old_user.get("name"),
        "author_url": f"https://x.com/{handle}" if isinstance(handle, str) else None,
        "thread_id": thread_id,
        "parent_id": parent_id,
        "url": f"https://x.com/{handle}/status/{tweet_id}"
        if isinstance(handle, str) and tweet_id
        else None,
        "language": legacy.get("lang"),
        "likes": legacy.get("favorite_count"),
        "shares": legacy.get("retweet_count"),
        "replies": legacy.get("reply_count"),
        "views": views,
        "metric_quotes": legacy.get("quote_count"),
        "media": media,
        "urls": links,
    }
    names = {
        "id": "data.rest_id",
        "text": "data.legacy.full_text",
        "created_at": "data.legacy.created_at",
        "author": "data.core.user_results.result.legacy.screen_name",
        "author_id": "data.legacy.user_id_str",
        "author_name": "data.core.user_results.result.legacy.name",
        "thread_id": "data.legacy.conversation_id_str",
        "parent_id": "data.legacy.in_reply_to_status_id_str",
        "language": "data.legacy.lang",
        "likes": "data.legacy.favorite_count",
        "shares": "data.legacy.retweet_count",
        "replies": "data.legacy.reply_count",
        "views": "data.views.count",
        "metric_quotes": "data.legacy.quote_count",
        "media": "data.legacy.extended_entities.media",
        "urls": "data.legacy.entities.urls",
    }
    return _Mapped(values, names, extra, kind)


def _map_meta(data: Mapping[str, Any], platform: str) -> _Mapped:
    """An Instagram or Threads post as Meta's web API sends it (4CAT's ``instagram``)."""
    node = data
    link = node.get("link")
    if node.get("product_type") == "ad" or (
        isinstance(link, str) and link.startswith("https://www.facebook.com/ads/")
    ):
        raise MalformedPayload("this item is an advertisement, not a post (4CAT skips them too)")
    owner = _obj(node.get("owner"))
    person = _obj(node.get("user"))
    user = {**owner, **{key: value for key, value in person.items() if value is not None}}
    code = _first(node.get("code"), node.get("shortcode"))
    raw_id = node.get("id")
    id_part, _, author_part = raw_id.partition("_") if isinstance(raw_id, str) else ("", "", "")
    item_id = _first(node.get("pk"), id_part or None, raw_id, code)
    handle = user.get("username")
    if not handle:
        raise MalformedPayload(
            "the item has no author: Zeeschuimer captured it from a grid or thumbnail view, "
            "which leaves the author out"
        )
    created = _first(node.get("taken_at"), node.get("taken_at_timestamp"))
    if created is None:
        raise MalformedPayload(
            "the item has no date: Zeeschuimer captured it from a grid or thumbnail view, "
            "which leaves the date out"
        )
    caption = node.get("caption")
    if isinstance(caption, dict):
        text = caption.get("text") or ""
    else:
        text = _dig(node, "edge_media_to_caption", "edges", 0, "node", "text") or ""

    media: list[dict[str, Any]] = []
    nodes = node.get("carousel_media") or [node]
    for entry in nodes if isinstance(nodes, list) else []:
        if not isinstance(entry, dict):
            continue
        video = _first(_dig(entry, "video_versions", 0, "url"), entry.get("video_url"))
        image = _first(
            _dig(entry, "image_versions2", "candidates", 0, "url"), entry.get("display_url")
        )
        description = entry.get("accessibility_caption") or ""
        if video:
            media.append({"kind": "video", "url": video, "description": description})
        elif image:
            media.append({"kind": "image", "url": image, "description": description})

    hidden = bool(node.get("like_and_view_counts_disabled"))
    likes = (
        None
        if hidden
        else _first(node.get("like_count"), _dig(node, "edge_media_preview_like", "count"))
    )
    info = _obj(node.get("text_post_app_info"))
    replies = _first(
        info.get("direct_reply_count"),
        node.get("comment_count"),
        _dig(node, "edge_media_preview_comment", "count"),
        _dig(node, "edge_media_to_comment", "count"),
    )
    if platform == "threads":
        url = f"https://www.threads.com/@{handle}/post/{code}" if code else None
        author_url = f"https://www.threads.com/@{handle}"
    else:
        url = f"https://www.instagram.com/p/{code}/" if code else None
        author_url = f"https://www.instagram.com/{handle}/"
    extra = {"verified": bool(user.get("is_verified"))}
    values = {
        "id": item_id,
        "text": text,
        "created_at": created,
        "author": handle,
        "author_id": _first(user.get("pk"), user.get("id"), author_part or None),
        "author_name": user.get("full_name"),
        "author_url": author_url,
        "thread_id": item_id,
        "url": url,
        "likes": likes,
        "shares": info.get("repost_count"),
        "replies": replies,
        "views": None
        if hidden
        else _first(node.get("play_count"), node.get("view_count"), node.get("video_view_count")),
        "metric_quotes": info.get("quote_count"),
        "media": media,
    }
    names = {
        "id": "data.pk",
        "text": "data.caption.text",
        "created_at": "data.taken_at",
        "author": "data.user.username",
        "author_id": "data.user.pk",
        "author_name": "data.user.full_name",
        "likes": "data.like_count",
        "shares": "data.text_post_app_info.repost_count",
        "replies": "data.comment_count",
        "views": "data.play_count",
        "metric_quotes": "data.text_post_app_info.quote_count",
        "media": "data.carousel_media",
    }
    return _Mapped(values, names, extra, ItemKind.POST)


def _map_tiktok(data: Mapping[str, Any]) -> _Mapped:
    """A TikTok video as TikTok's web API sends it (4CAT's ``tiktok``)."""
    post = data
    author = post.get("author")
    if isinstance(author, dict):
        handle, name, author_id = author.get("uniqueId"), author.get("nickname"), author.get("id")
    else:
        handle, name, author_id = author, post.get("nickname"), None
    stats = _obj(post.get("stats"))
    stats2 = _obj(post.get("statsV2"))
    item_id = post.get("id")
    video = _first(_dig(post, "video", "downloadAddr"), _dig(post, "video", "playAddr"))
    language = post.get("textLanguage")
    values = {
        "id": item_id,
        "text": post.get("desc") or "",
        "created_at": post.get("createTime"),
        "author": handle,
        "author_id": author_id,
        "author_name": name,
        "author_url": f"https://www.tiktok.com/@{handle}" if isinstance(handle, str) else None,
        "thread_id": item_id,
        "url": f"https://www.tiktok.com/@{handle}/video/{item_id}"
        if isinstance(handle, str) and item_id
        else None,
        "language": None if language in (None, "", "un") else language,
        "likes": _first(stats.get("diggCount"), stats2.get("diggCount")),
        "shares": _first(stats.get("shareCount"), stats2.get("shareCount")),
        "replies": _first(stats.get("commentCount"), stats2.get("commentCount")),
        "views": _first(stats.get("playCount"), stats2.get("playCount")),
        "media": [{"kind": "video", "url": video}] if isinstance(video, str) else [],
    }
    names = {
        "id": "data.id",
        "text": "data.desc",
        "created_at": "data.createTime",
        "author": "data.author.uniqueId",
        "author_id": "data.author.id",
        "author_name": "data.author.nickname",
        "language": "data.textLanguage",
        "likes": "data.stats.diggCount",
        "shares": "data.stats.shareCount",
        "replies": "data.stats.commentCount",
        "views": "data.stats.playCount",
        "media": "data.video.downloadAddr",
    }
    extra = {"verified": bool(author.get("verified"))} if isinstance(author, dict) else {}
    return _Mapped(values, names, extra, ItemKind.POST)


def _map_tiktok_comment(data: Mapping[str, Any]) -> _Mapped:
    """A TikTok comment (4CAT's ``tiktok-comments``)."""
    comment = data
    user = _obj(comment.get("user"))
    video_id = comment.get("aweme_id")
    reply_to = comment.get("reply_id")
    answers_comment = reply_to not in (None, "", "0", 0)
    handle = user.get("unique_id")
    values = {
        "id": _first(comment.get("cid"), comment.get("id")),
        "text": comment.get("text") or "",
        "created_at": comment.get("create_time"),
        "author": handle,
        "author_id": user.get("uid"),
        "author_name": user.get("nickname"),
        "author_url": f"https://www.tiktok.com/@{handle}" if isinstance(handle, str) else None,
        "thread_id": video_id,
        "parent_id": reply_to if answers_comment else video_id,
        "url": _dig(comment, "share_info", "url"),
        "language": _first(comment.get("comment_language")),
        "likes": comment.get("digg_count"),
        "replies": comment.get("reply_comment_total"),
    }
    names = {
        "id": "data.cid",
        "text": "data.text",
        "created_at": "data.create_time",
        "author": "data.user.unique_id",
        "author_id": "data.user.uid",
        "author_name": "data.user.nickname",
        "thread_id": "data.aweme_id",
        "parent_id": "data.reply_id",
        "url": "data.share_info.url",
        "language": "data.comment_language",
        "likes": "data.digg_count",
        "replies": "data.reply_comment_total",
    }
    return _Mapped(values, names, {}, ItemKind.REPLY if answers_comment else ItemKind.COMMENT)


def map_zeeschuimer(obj: Mapping[str, Any]) -> NormalizedItem:
    """Map one line of a Zeeschuimer (or 4CAT NDJSON) export: ``{"source_platform", "data"}``.

    ``platform`` is set from ``source_platform``; ``raw`` is the whole line. Raises
    :class:`MalformedPayload` with the reason, for a person.
    """
    source = obj.get("source_platform")
    data = obj.get("data")
    key = source.strip().lower().removeprefix("www.") if isinstance(source, str) else ""
    platform = ZEESCHUIMER_PLATFORMS.get(key)
    if platform is None:
        supported = ", ".join(sorted(ZEESCHUIMER_PLATFORMS))
        raise MalformedPayload(
            f"field 'source_platform': '{_short(source)}' is not supported by the file import "
            f"(supported: {supported}); export the dataset from 4CAT as CSV and import that "
            "file instead"
        )
    if not isinstance(data, dict):
        raise MalformedPayload(f"{key} item: field 'data' is missing or not an object")
    try:
        if platform == "x":
            mapped = _map_x(data)
        elif platform in ("instagram", "threads"):
            mapped = _map_meta(data, platform)
        elif key == "tiktok-comments":
            mapped = _map_tiktok_comment(data)
        else:
            mapped = _map_tiktok(data)
        mapped.values["platform"] = platform
        values = {k: v for k, v in mapped.values.items() if v is not None}
        return _build_item(
            _Record(values, mapped.names, "field"),
            default_platform=platform,
            default_kind=mapped.default_kind,
            raw=obj,
            allow_empty_text=True,
            author_extra=mapped.extra,
        )
    except MalformedPayload as exc:
        raise MalformedPayload(f"{key} item (Zeeschuimer): {exc}") from None
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        raise MalformedPayload(
            f"{key} item (Zeeschuimer): the data is not shaped as expected ({exc!r})"
        ) from None


# --- parsing files --------------------------------------------------------------------------


def guess_format(path: Path, fmt: str | None = None) -> str:
    """``csv`` or ``ndjson``, from ``fmt`` when given, else from the file's extension."""
    if fmt is not None:
        wanted = fmt.strip().lower().lstrip(".")
        wanted = {"jsonl": "ndjson", "tsv": "csv"}.get(wanted, wanted)
        if wanted not in FORMATS:
            raise ImportFormatError(f"unknown import format '{_short(fmt)}': use csv or ndjson")
        return wanted
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".ndjson", ".jsonl"):
        return "ndjson"
    raise ImportFormatError(
        f"{path.name}: cannot tell the format from the extension '{suffix or '(none)'}': name "
        "the file .csv, .ndjson or .jsonl, or give the format (csv or ndjson)"
    )


def parse_file(
    path: Path | str,
    fmt: str | None = None,
    *,
    default_platform: str = "file",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES,
) -> ParseReport:
    """Read and validate the whole file; see the module documentation for the format.

    Raises :class:`ImportFormatError` when the file as a whole cannot be imported.
    """
    path = Path(path)
    fmt = guess_format(path, fmt)
    platform = _check_default_platform(default_platform)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file (or not a regular file)")
    size = path.stat().st_size
    if size > max_file_bytes:
        raise ImportFormatError(
            f"{path.name}: the file is {size:,} bytes, more than the limit of "
            f"{max_file_bytes:,} bytes; split it into smaller files"
        )
    report = ParseReport(path=path, format=fmt)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        _check_start(handle, path.name)
        lines = _read_lines(handle, digest, max_row_bytes)
        if fmt == "csv":
            _parse_csv(lines, report, platform, path.name, max_row_bytes)
        else:
            _parse_ndjson(lines, report, platform, path.name)
        if handle.tell() > max_file_bytes:
            raise ImportFormatError(
                f"{path.name}: the file grew past the limit of {max_file_bytes:,} bytes "
                "while it was read"
            )
    if not report.items and not report.errors:
        # The same rule for every format: a file without a single row is a mistake to
        # report, not an import of nothing.
        if fmt == "csv":
            raise ImportFormatError(
                f"{path.name}: the file is empty: it has a header line but no rows to import"
            )
        raise ImportFormatError(
            f"{path.name}: the file is empty: an NDJSON import needs one JSON object per "
            "line, one line per item"
        )
    report.sha256 = digest.hexdigest()
    report.errors.sort(key=lambda error: error.line)
    return report


class _Seen:
    """Ids already met in the file, to refuse a second occurrence."""

    def __init__(self) -> None:
        self.first_line: dict[str, int] = {}

    def check(self, item: NormalizedItem, line: int) -> str | None:
        first = self.first_line.setdefault(item.platform_id, line)
        if first == line:
            return None
        if item.platform_id == _derived_id(item):
            return f"duplicate row: same platform, author, date and text as line {first}"
        return f"duplicate id '{_short(item.platform_id)}', first seen line {first}"


def _add(
    report: ParseReport,
    seen: _Seen,
    line: int,
    text: str,
    record: Mapping[str, Any],
    *,
    platform: str,
    noun: str,
) -> None:
    try:
        check_json(record, noun=noun)
        item = _map(record, default_platform=platform, default_kind=None, noun=noun)
    except MalformedPayload as exc:
        report.errors.append(RowError(line, str(exc), text))
        return
    duplicate = seen.check(item, line)
    if duplicate is not None:
        report.errors.append(RowError(line, duplicate, text))
        return
    report.items.append(ParsedRow(line, item))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_ndjson(lines: Iterator[_Line], report: ParseReport, platform: str, name: str) -> None:
    seen = _Seen()
    first = True
    for line in lines:
        if line.problem is not None:
            report.errors.append(RowError(line.number, line.problem, line.original))
            continue
        stripped = line.text.strip()
        if not stripped:
            continue
        if first and stripped.startswith("["):
            raise ImportFormatError(
                f"{name}: line {line.number} starts a JSON array; NDJSON needs one JSON object "
                "per line (Zeeschuimer and 4CAT export it that way)"
            )
        first = False
        try:
            obj = json.loads(stripped, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            reason = f"invalid JSON: {exc.msg} (at character {exc.pos + 1})"
            report.errors.append(RowError(line.number, reason, line.original))
            continue
        except RecursionError:
            reason = f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep (the limit)"
            report.errors.append(RowError(line.number, reason, line.original))
            continue
        except ValueError as exc:
            report.errors.append(RowError(line.number, f"invalid JSON: {exc}", line.original))
            continue
        if not isinstance(obj, dict):
            reason = f"expected a JSON object ({{...}}) on each line, found {json_type(obj)}"
            report.errors.append(RowError(line.number, reason, line.original))
            continue
        _add(report, seen, line.number, line.original, obj, platform=platform, noun="field")


def _delimiter(header: str) -> str:
    best, best_count = ",", 0
    for candidate in (",", ";", "\t"):
        try:
            count = len(next(csv.reader([header], delimiter=candidate)))
        except (csv.Error, StopIteration):
            continue
        if count > best_count:
            best, best_count = candidate, count
    return best


def _show_names(names: Sequence[str]) -> str:
    shown = ", ".join(f"'{_short(name)}'" for name in names[:30])
    if len(names) > 30:
        shown += f" and {len(names) - 30} more"
    return shown or "none"


def _parse_csv(
    lines: Iterator[_Line],
    report: ParseReport,
    platform: str,
    name: str,
    max_row_bytes: int,
) -> None:
    # The header: the first non-blank line; it decides the separator.
    header_line: _Line | None = None
    for line in lines:
        if line.problem is not None:
            raise ImportFormatError(f"{name}: line {line.number} (the header): {line.problem}")
        if line.text.strip():
            header_line = line
            break
    if header_line is None:
        raise ImportFormatError(
            f"{name}: the file is empty: a CSV import needs a header line naming the columns "
            f"({', '.join(REQUIRED_COLUMNS)}…) and one line per item"
        )
    if header_line.text.lstrip().startswith("{"):
        raise ImportFormatError(
            f"{name}: line {header_line.number} starts with '{{': this looks like NDJSON (one "
            "JSON object per line), not CSV; name the file .ndjson or give the format ndjson"
        )
    delimiter = _delimiter(header_line.text)
    consumed: list[_Line] = []

    def feed() -> Iterator[str]:
        consumed.append(header_line)
        yield header_line.text
        for line in lines:
            consumed.append(line)
            yield line.text

    with _CSV_LIMIT_LOCK:
        previous = csv.field_size_limit(max_row_bytes)
        try:
            reader = csv.reader(feed(), delimiter=delimiter, strict=True)
            try:
                header = next(reader)
            except csv.Error as exc:
                raise ImportFormatError(
                    f"{name}: line {header_line.number} (the header) is not valid CSV: {exc}"
                ) from None
            columns = _header_columns(header, name, header_line.number)
            _csv_rows(reader, consumed, columns, report, platform)
        finally:
            csv.field_size_limit(previous)


def _header_columns(header: list[str], name: str, number: int) -> list[str]:
    columns = [cell.strip() or f"column_{index}" for index, cell in enumerate(header, start=1)]
    normal: dict[str, int] = {}
    for index, column in enumerate(columns, start=1):
        key = _normalize_name(column)
        if key in normal:
            raise ImportFormatError(
                f"{name}: line {number} (the header) names the column '{_short(column)}' "
                f"twice (columns {normal[key]} and {index}); give each column its own name"
            )
        normal[key] = index
    found = _canonical_map(columns)
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


def _csv_rows(
    reader: Iterator[list[str]],
    consumed: list[_Line],
    columns: list[str],
    report: ParseReport,
    platform: str,
) -> None:
    seen = _Seen()
    while True:
        consumed.clear()
        try:
            row = next(reader)
            error = None
        except StopIteration:
            break
        except csv.Error as exc:
            row, error = [], str(exc)
        if not consumed:
            break
        start = consumed[0].number
        original = "\n".join(line.original for line in consumed)
        problem = next((line for line in consumed if line.problem is not None), None)
        if problem is not None:
            report.errors.append(RowError(problem.number, problem.problem or "", original))
            continue
        if error is not None:
            if "field larger than field limit" in error:
                reason = "a value is longer than the limit for one row"
            elif "unexpected end of data" in error:
                reason = "a quoted value opened here is never closed"
            else:
                reason = f"this row is not valid CSV ({error})"
            report.errors.append(RowError(start, reason, original))
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            reason = (
                f"this row has {len(row)} values but the header has {len(columns)} columns "
                "(check the separators and the quotes)"
            )
            report.errors.append(RowError(start, reason, original))
            continue
        raw = dict(zip(columns, row, strict=True))
        _add(report, seen, start, original, raw, platform=platform, noun="column")


# --- rejected rows --------------------------------------------------------------------------


def write_rejected(path: Path | str, errors: Iterable[RowError]) -> int:
    """Write the rejected rows as CSV (``line``, ``reason``, ``original``); returns the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "reason", "original"])
        for error in errors:
            writer.writerow([error.line, error.reason, error.text])
            count += 1
    return count


# --- the connector --------------------------------------------------------------------------


class FileConnector(Connector):
    """Items read from a CSV or NDJSON file; it cannot act on any platform."""

    platform: ClassVar[str] = "file"
    label: ClassVar[str] = "File import"
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.FILE})
    auth: ClassVar[AuthMethod] = AuthMethod.FILE
    setup_doc: ClassVar[str] = "import-format.md"
    options: ClassVar[Mapping[str, Option]] = {
        "path": Option(
            label="File",
            required=False,
            help="Path of the CSV or NDJSON file to import (see docs/import-format.md).",
        ),
        "format": Option(
            label="Format",
            required=False,
            help="csv or ndjson; guessed from the file's extension when empty.",
        ),
    }

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Parse the file and yield its items by :data:`BATCH_SIZE`.

        The cursor is ``{"path", "sha256", "items"}``: a sync of the same unchanged file
        resumes after the items already yielded. Raises :class:`MalformedPayload` listing
        the first invalid rows when the file has any (nothing is yielded then).
        """
        path = self.settings.get("path")
        if not path:
            raise ConfigurationError(
                f"{self.label}: no file to import; set the 'path' setting or import a file"
            )
        report = self.parse(Path(str(path)), self.settings.get("format") or None)
        if report.errors:
            shown = "; ".join(error.message for error in report.errors[:5])
            more = f" (and {len(report.errors) - 5} more)" if len(report.errors) > 5 else ""
            raise MalformedPayload(
                f"{report.path.name}: {len(report.errors)} invalid row(s), nothing was "
                f"imported: {shown}{more}"
            )
        done = 0
        if cursor.get("sha256") == report.sha256 and cursor.get("path") == str(path):
            done = int(cursor.get("items") or 0)
        items = [row.item for row in report.items]
        for start in range(done, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE]
            yield FetchBatch(
                items=batch,
                cursor={"path": str(path), "sha256": report.sha256, "items": start + len(batch)},
            )

    def parse(self, path: Path, fmt: str | None = None) -> ParseReport:
        """Read and validate the whole file (platforms' export formats override this)."""
        return parse_file(path, fmt, default_platform=self.platform)

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """Map one CSV-style row (or NDJSON object); ``kind`` applies when it has none."""
        return map_record(raw, default_platform=self.platform, default_kind=kind)

    def _unsupported(self, action: Action) -> UnsupportedAction:
        return UnsupportedAction(
            f"A file import cannot act on a platform: '{action}' is not possible on "
            "imported items; act on them on the platform itself."
        )
