"""Reading a CSV or NDJSON file whole, every row checked, into a :class:`ParseReport`.

Bytes to lines (UTF-8, a byte-order mark dropped, UTF-16 and binary files refused, lines
longer than ``max_row_bytes`` skipped without being held), lines to CSV rows or JSON
objects, and each row to an item: a Zeeschuimer line by its mapping, anything else by its
columns. The file's size and each row's length are bounded; ids must be unique in the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from beffroi.connectors.base import ItemKind, MalformedPayload, NormalizedItem
from beffroi.connectors.fileimport.columns import (
    REQUIRED_COLUMNS,
    check_default_platform,
    derived_id,
    header_columns,
    map_columns,
)
from beffroi.connectors.fileimport.report import ImportFormatError, ParsedRow, ParseReport, RowError
from beffroi.connectors.fileimport.storable import MAX_JSON_DEPTH, check_json, excerpt, json_type
from beffroi.connectors.fileimport.zeeschuimer import is_zeeschuimer, map_zeeschuimer

DEFAULT_MAX_FILE_BYTES: Final = 200 * 1024 * 1024
DEFAULT_MAX_ROW_BYTES: Final = 4 * 1024 * 1024
FORMATS: Final = ("csv", "ndjson")
_UTF8_BOM = b"\xef\xbb\xbf"

# csv.field_size_limit() is process-wide: changed and restored under this lock.
_CSV_LIMIT_LOCK = threading.Lock()


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


def map_record(
    record: Mapping[str, Any],
    *,
    default_platform: str = "file",
    default_kind: ItemKind | None = None,
) -> NormalizedItem:
    """Map one CSV row or NDJSON object (see the columns in ``docs/import-format.md``).

    Raises :class:`MalformedPayload` whose message is the reason, for a person.
    """
    noun = "column" if all(isinstance(v, str) for v in record.values()) else "field"
    return _map(
        record,
        default_platform=check_default_platform(default_platform),
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
    if is_zeeschuimer(record):
        return map_zeeschuimer(record)
    return map_columns(
        record, default_platform=default_platform, default_kind=default_kind, noun=noun
    )


def guess_format(path: Path, fmt: str | None = None) -> str:
    """``csv`` or ``ndjson``, from ``fmt`` when given, else from the file's extension."""
    if fmt is not None:
        wanted = fmt.strip().lower().lstrip(".")
        wanted = {"jsonl": "ndjson", "tsv": "csv"}.get(wanted, wanted)
        if wanted not in FORMATS:
            raise ImportFormatError(f"unknown import format '{excerpt(fmt)}': use csv or ndjson")
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
    """Read and validate the whole file; ``docs/import-format.md`` describes the formats.

    Raises :class:`ImportFormatError` when the file as a whole cannot be imported.
    """
    path = Path(path)
    fmt = guess_format(path, fmt)
    platform = check_default_platform(default_platform)
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
        if item.platform_id == derived_id(item):
            return f"duplicate row: same platform, author, date and text as line {first}"
        return f"duplicate id '{excerpt(item.platform_id)}', first seen line {first}"


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
            columns = header_columns(header, name, header_line.number)
            _csv_rows(reader, consumed, columns, report, platform)
        finally:
            csv.field_size_limit(previous)


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
