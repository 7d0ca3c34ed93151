"""Snapchat: importing the account's data export (the ``snapchat`` platform).

Snapchat has no public API that gives an institution its messages or the replies to its
stories, and none to answer or moderate them. What an account can get is its own data: in
the Snapchat app or on accounts.snapchat.com, *My Data* → export with *Export JSON files*
turned on. Snapchat then sends a ``.zip`` whose ``json/chat_history.json`` (older exports:
``chat_history.json`` at the root) holds the saved chat messages. Beffroi imports that
file, or the whole ``.zip``: :func:`parse_export` reads and validates it entirely before
anything is stored, exactly like :mod:`beffroi.connectors.fileimport` does for CSV and
NDJSON, and returns the same :class:`~beffroi.connectors.fileimport.ParseReport`.

Shapes understood
=================

Current exports: an object keyed by conversation (the other person's username, or an id for
a group chat), each a list of messages::

    {"jeanne.d": [{"From": "jeanne.d", "Media Type": "TEXT", "Created": "2024-05-01
    12:03:00 UTC", "Content": "Bonjour", "Conversation Title": null, "IsSender": false,
    "Created(microseconds)": 1714564980123, "IsSaved": false, "Media IDs": ""}]}

Older exports: ``{"Received Saved Chat History": [{"From", "Media Type", "Created",
"Text"}], "Sent Saved Chat History": [{"To", "Media Type", "Created", "Text"}]}`` (also
``Received Chat History`` / ``Sent Chat History``); their texts are HTML-escaped.

Mapping
=======

Each message with a text becomes a MESSAGE item of platform ``snapchat``: ``text`` is
``Content`` (``Text``), ``created_at`` comes from ``Created(microseconds)`` when given (which
despite its name is usually in milliseconds; both are recognised) else from ``Created``, the
author is ``From`` (in older exports the ``username`` setting for sent messages, ``me`` when
it is empty), ``thread_id`` is the conversation. The export gives no message ids: the id is
derived as :mod:`~beffroi.connectors.fileimport` derives it (sha256 of platform, author, date
and text), so importing the same export again adds nothing. There is no address of a message
on Snapchat: ``url`` is empty, and the author's ``url`` is the public profile address
``https://www.snapchat.com/add/<username>``. ``raw`` is the export's message verbatim.

Messages without text (snaps, photos and videos whose files are not in the JSON, stickers,
calls, status lines) carry nothing Beffroi can read: they are counted in
:attr:`SnapchatReport.skipped`, not refused. A message that is not an object, has no usable
date or no sender is refused with its line number and the reason; so is a second message with
the same sender, date and text, and one holding text no database stores (NUL, a lone
surrogate; :func:`~beffroi.connectors.fileimport.check_json`). An export without a single
message is refused as empty, like an empty CSV or NDJSON file.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import quote

from beffroi.connectors.base import (
    Action,
    AuthMethod,
    Connector,
    FetchKind,
    ItemKind,
    MalformedPayload,
    NormalizedItem,
    Option,
    UnsupportedAction,
)
from beffroi.connectors.fileimport import (
    DEFAULT_MAX_FILE_BYTES,
    FileConnector,
    ImportFormatError,
    ParsedRow,
    ParseReport,
    RowError,
    check_json,
    check_text,
    escape_unstorable,
    file_sha256,
    json_type,
    map_record,
)
from beffroi.connectors.post_limits import Counting, MediaLimits, PostLimits

PLATFORM: Final = "snapchat"
#: The file of the export that holds chat messages.
CHAT_FILE: Final = "chat_history.json"
#: Who sent a message of an older export's "Sent … Chat History" when no username is set.
DEFAULT_OWNER: Final = "me"
_OLD_SECTION = re.compile(r"(Received|Sent) (?:\w+ )*Chat History")
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_MAX_SHOWN = 200


#: What Snapchat's Spotlight accepts, as far as it is documented (see
#: docs/publishing-limits.md): Snapchat has no publishing API, a person posts from the app.
POST_LIMITS: Final = PostLimits(
    platform=PLATFORM,
    label="Snapchat",
    max_length=80,
    counting=Counting.UTF16,
    requires_media=True,
    media=MediaLimits(
        kinds=frozenset({"video"}),
        max_count=1,
        video_types=frozenset({"video/mp4"}),
        min_video_seconds=5,
        max_video_seconds=60,
    ),
    notes=(
        "No publishing API: Beffroi reads the account's data export and a person posts from "
        "the app. Spotlight takes vertical videos of 5 to 60 seconds with sound (Snapchat "
        "support). The text length, file types and sizes are not documented: 80 UTF-16 units "
        "and MP4 are kept as conservative values."
    ),
    sources=("https://help.snapchat.com/hc/en-us/articles/7012287256596",),
)


class ExportFormatError(ImportFormatError):
    """The file is not a Snapchat chat export Beffroi can read; the message says why."""


@dataclass
class SnapchatReport(ParseReport):
    """A :class:`ParseReport` plus the messages skipped because they have no text."""

    #: Skipped messages by ``Media Type`` (``MEDIA``, ``STICKER``, ``SNAP``…).
    skipped: Counter[str] = field(default_factory=Counter)


# --- reading the export ----------------------------------------------------------------------


def _read_export(path: Path, max_file_bytes: int) -> bytes:
    """The bytes of ``chat_history.json``, from the file itself or from the export's zip."""
    if not path.is_file():
        raise ExportFormatError(f"{path}: no such file (or not a regular file)")
    size = path.stat().st_size
    if size > max_file_bytes:
        raise ExportFormatError(
            f"{path.name}: the file is {size:,} bytes, more than the limit of "
            f"{max_file_bytes:,} bytes"
        )
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        raise ExportFormatError(
            f"{path.name}: this is the HTML version of the export; request the export again "
            "from Snapchat's My Data with 'Export JSON files' turned on and import "
            f"json/{CHAT_FILE} or the .zip"
        )
    if not zipfile.is_zipfile(path):
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and info.filename.rsplit("/", 1)[-1] == CHAT_FILE
        ]
        if not members:
            raise ExportFormatError(
                f"{path.name}: the archive holds no {CHAT_FILE}; request the export from "
                "Snapchat's My Data with 'Chat History' selected and 'Export JSON files' "
                "turned on"
            )
        # json/chat_history.json in current exports; the shortest path otherwise.
        member = min(
            members,
            key=lambda info: (not info.filename.endswith("json/" + CHAT_FILE), len(info.filename)),
        )
        if member.file_size > max_file_bytes:
            raise ExportFormatError(
                f"{path.name}: {member.filename} is {member.file_size:,} bytes once "
                f"uncompressed, more than the limit of {max_file_bytes:,} bytes"
            )
        with archive.open(member) as handle:
            data = handle.read(max_file_bytes + 1)
        if len(data) > max_file_bytes:
            raise ExportFormatError(f"{path.name}: {member.filename} is too big")
        return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One message of the export: its section (conversation), line and value."""

    section: str
    line: int
    value: Any
    text: str


class _Walker:
    """Walks ``{"section": [message, ...], ...}`` keeping each message's line number."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name = text, name
        self.decoder = json.JSONDecoder(parse_constant=_reject_constant)
        self.position = 0
        self._counted_to, self._line = 0, 1

    def line_at(self, index: int) -> int:
        if index >= self._counted_to:
            self._line += self.text.count("\n", self._counted_to, index)
        else:
            self._line = self.text.count("\n", 0, index) + 1
        self._counted_to = index
        return self._line

    def _skip(self) -> None:
        match = _WHITESPACE.match(self.text, self.position)
        self.position = match.end() if match else self.position

    def _expect(self, *chars: str) -> str:
        self._skip()
        char = self.text[self.position : self.position + 1]
        if char not in chars:
            shown = " or ".join(repr(c) for c in chars)
            found = repr(char) if char else "the end of the file"
            raise self._error(f"expected {shown}, found {found}")
        self.position += 1
        return char

    def _value(self) -> Any:
        self._skip()
        try:
            value, self.position = self.decoder.raw_decode(self.text, self.position)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(
                f"{self.name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        except (ValueError, RecursionError) as exc:
            raise self._error(str(exc) or "nested too deeply") from None
        return value

    def _error(self, reason: str) -> ExportFormatError:
        line = self.line_at(self.position)
        return ExportFormatError(f"{self.name}: not a Snapchat chat export: line {line}: {reason}")

    def entries(self, errors: list[RowError]) -> Iterator[_Entry]:
        """Each message; a section that is not a list becomes an error in ``errors``."""
        self._expect("{")
        self._skip()
        if self.text.startswith("}", self.position):
            self.position += 1
        else:
            while True:
                self._skip()
                key_line = self.line_at(self.position)
                key = self._value()
                if not isinstance(key, str):  # pragma: no cover - JSON keys are strings
                    raise self._error("expected a conversation name")
                self._expect(":")
                self._skip()
                if self.text.startswith("[", self.position):
                    yield from self._list(key)
                else:
                    start = self.position
                    value = self._value()
                    errors.append(
                        RowError(
                            key_line,
                            f"conversation '{_short(key)}': expected a list of messages, "
                            f"found {json_type(value)}",
                            self.text[start : self.position][:_MAX_SHOWN],
                        )
                    )
                if self._expect(",", "}") == "}":
                    break
        self._skip()
        if self.position < len(self.text):
            raise self._error("unexpected content after the export's object")

    def _list(self, section: str) -> Iterator[_Entry]:
        self.position += 1  # "["
        self._skip()
        if self.text.startswith("]", self.position):
            self.position += 1
            return
        while True:
            self._skip()
            start = self.position
            line = self.line_at(start)
            value = self._value()
            yield _Entry(section, line, value, self.text[start : self.position][:_MAX_SHOWN])
            if self._expect(",", "]") == "]":
                return


# --- mapping one message ---------------------------------------------------------------------


def _short(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = escape_unstorable(text)
    return text if len(text) <= 60 else text[:59] + "…"


def _created(message: Mapping[str, Any]) -> datetime:
    """When the message was sent: ``Created(microseconds)`` (µs or ms) or ``Created``."""
    stamp = message.get("Created(microseconds)")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
        # Named microseconds, usually milliseconds: tell them apart by their size.
        seconds = stamp / 1e6 if stamp > 1e14 else stamp / 1e3 if stamp > 1e11 else stamp
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    created = message.get("Created")
    if isinstance(created, str) and created.strip():
        text = created.strip().removesuffix(" UTC")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    raise MalformedPayload(
        f"field 'Created': {_short(created)!s} is not a date (expected "
        "'YYYY-MM-DD HH:MM:SS UTC' as Snapchat writes it)"
    )


def map_message(
    message: Mapping[str, Any], *, conversation: str, owner: str = ""
) -> NormalizedItem | None:
    """One message of the export as a MESSAGE item, or None when it has no text.

    ``conversation`` is the section it was found in (a conversation, or an older export's
    ``Received/Sent … Chat History``). Raises :class:`MalformedPayload` (the reason).
    """
    old = _OLD_SECTION.fullmatch(conversation)
    sent = bool(old and old.group(1) == "Sent")
    raw_text = message.get("Content", message.get("Text"))
    if raw_text is not None and not isinstance(raw_text, str):
        name = "Content" if "Content" in message else "Text"
        raise MalformedPayload(f"field '{name}': expected text, found {json_type(raw_text)}")
    text = html.unescape(raw_text or "") if old else (raw_text or "")
    if not text.strip():
        return None
    created_at = _created(message)
    author: object
    thread: object
    if sent:
        author, thread = owner or DEFAULT_OWNER, message.get("To")
    else:
        author = message.get("From")
        thread = author if old else conversation
    if not isinstance(author, str) or not author.strip():
        raise MalformedPayload("field 'From' is empty: every message needs its sender")
    if not isinstance(thread, str) or not thread.strip():
        raise MalformedPayload("field 'To' is empty: every sent message needs its recipient")
    record: dict[str, Any] = {
        "text": text,
        "created_at": created_at.isoformat(),
        "author": author.strip(),
        "kind": ItemKind.MESSAGE.value,
        "thread_id": thread.strip()[:255],
    }
    if _USERNAME.fullmatch(author.strip()):
        record["author_url"] = f"https://www.snapchat.com/add/{quote(author.strip())}"
    item = map_record(record, default_platform=PLATFORM, default_kind=ItemKind.MESSAGE)
    return replace(item, raw=dict(message))


def parse_export(
    path: Path | str,
    *,
    owner: str = "",
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> SnapchatReport:
    """Read and validate a Snapchat export (``chat_history.json`` or the export's ``.zip``).

    ``owner`` is the account's username (who sent the "Sent" messages of older exports).
    Raises :class:`ExportFormatError` (an :class:`ImportFormatError`) when the file as a
    whole cannot be read; each bad message is a :class:`RowError` of the report.
    """
    path = Path(path)
    data = _read_export(path, max_file_bytes)
    report = SnapchatReport(path=path, format="snapchat", sha256=file_sha256(path))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportFormatError(
            f"{path.name}: not UTF-8 text (byte 0x{data[exc.start]:02X} at position "
            f"{exc.start + 1}); import the chat_history.json Snapchat sent, unchanged"
        ) from None
    if not text.strip():
        raise ExportFormatError(f"{path.name}: the file is empty")
    first: dict[tuple[str, str, str], int] = {}
    for entry in _Walker(text, path.name).entries(report.errors):
        where = f"conversation '{_short(entry.section)}': "
        if not isinstance(entry.value, dict):
            report.errors.append(
                RowError(
                    entry.line,
                    f"{where}expected a message object, found {json_type(entry.value)}",
                    entry.text,
                )
            )
            continue
        try:
            check_text(entry.section, "the conversation's name")
            check_json(entry.value)
            item = map_message(entry.value, conversation=entry.section, owner=owner)
        except MalformedPayload as exc:
            report.errors.append(RowError(entry.line, f"{where}{exc}", entry.text))
            continue
        if item is None:
            media_type = entry.value.get("Media Type")
            report.skipped[str(media_type) if isinstance(media_type, str) else "?"] += 1
            continue
        key = (item.author.handle, item.created_at.isoformat(), item.text)
        seen_at = first.setdefault(key, entry.line)
        if seen_at != entry.line:
            report.errors.append(
                RowError(
                    entry.line,
                    f"{where}duplicate message: same sender, date and text as line {seen_at}",
                    entry.text,
                )
            )
            continue
        report.items.append(ParsedRow(entry.line, item))
    if not report.items and not report.errors and not report.skipped:
        raise ExportFormatError(
            f"{path.name}: the file is empty: the export holds no chat message; request it "
            "from Snapchat's My Data with 'Chat History' selected"
        )
    report.errors.sort(key=lambda error: error.line)
    return report


# --- the connector ---------------------------------------------------------------------------

_NO_API: Final = (
    "Snapchat has no public API for an institution's messages: Beffroi only imports the "
    "account's data export, so answer and moderate in the Snapchat app."
)


class SnapchatImportConnector(FileConnector):
    """Messages imported from a Snapchat data export; it cannot act on Snapchat."""

    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "Snapchat (data export)"
    post_limits: ClassVar[PostLimits | None] = POST_LIMITS
    auth: ClassVar[AuthMethod] = AuthMethod.FILE
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.FILE})
    actions: ClassVar[frozenset[Action]] = frozenset()
    options: ClassVar[Mapping[str, Option]] = {
        "path": Option(
            label="File",
            required=False,
            help=(
                "The Snapchat export to import: the .zip from My Data, or its "
                "json/chat_history.json."
            ),
        ),
        "username": Option(
            label="Account username",
            required=False,
            help="The account's Snapchat username (names the sender of its own messages in "
            "older exports).",
        ),
    }
    not_supported: ClassVar[Mapping[str, str]] = {str(action): _NO_API for action in Action}
    setup_doc: ClassVar[str] = "connectors/snapchat.md"

    def parse(self, path: Path, fmt: str | None = None) -> SnapchatReport:
        """:func:`parse_export` with this source's ``username`` (``fmt`` is not used: the
        export's shape is recognised)."""
        return parse_export(path, owner=str(self.settings.get("username") or ""))

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """Map one message of a current export (its ``From`` is the conversation)."""
        conversation = str(raw.get("Conversation Title") or raw.get("From") or "")
        item = map_message(
            raw, conversation=conversation, owner=str(self.settings.get("username") or "")
        )
        if item is None:
            raise MalformedPayload("the message has no text (a snap, media or sticker)")
        return item

    def _unsupported(self, action: Action) -> UnsupportedAction:
        # The platform's reason (FileConnector's message speaks of generic files).
        return Connector._unsupported(self, action)


__all__ = [
    "ExportFormatError",
    "SnapchatImportConnector",
    "SnapchatReport",
    "map_message",
    "parse_export",
]
