"""The library as files: CSV and JSON, read back exactly as they are written.

**CSV** — one row per entry, its texts in one column per language (``text_fr``, ``text_en``,
``text_ar``…, ISO 639-1), UTF-8, comma or semicolon separated (the header tells which; a
byte order mark is welcome). Columns:

- ``strategy`` (required): facts, denouncing, empathy, humour, hypocrisy, question,
  consequences, positive, other;
- ``text_xx`` (at least one column; an empty cell is no text in that language);
- ``title``; ``tone`` (calm, warm, firm, humorous; calm when empty);
- ``targets`` and ``topics``: values separated by ``|`` (``muslims|women``);
- ``licence``: etalab-2.0, CC-BY-4.0, CC-BY-SA-4.0, CC0-1.0, all-rights-reserved (the
  last when empty);
- ``valid_from``, ``valid_until``: a day, ``2026-12-31`` (``31/12/2026`` is read too);
- ``sources``: one per line, the address then, after a space, the page's title;
- ``key``: the entry's identity, written by an export: a key already in the library is
  refused (an entry is not imported twice);
- ``state``, ``library``, ``version``, ``uses``: written by an export for the reader, not read.

Any other column is refused (a misspelt column would otherwise be lost silently). The cells of
an export are defused for spreadsheets (:func:`beffroi.core.exports.csv_cell`: a quote before
a leading ``=``, ``+``, ``-``, ``@``); reading takes that quote away again, so an export
imports as it was.

**JSON** — ``{"format": "beffroi.counter-speech", "version": 1, "entries": [...]}`` (or the list
alone), each entry an object with the same names, ``texts`` an object ``{"fr": "…"}``,
``targets`` and ``topics`` lists, ``sources`` a list of ``{"url": …, "title": …}``.

Reading checks everything before anything is stored and says every problem with its row (or
entry) and column (or field).
"""

from __future__ import annotations

import csv
import io as text_io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from beffroi import config
from beffroi.core.exports import csv_lines
from beffroi.counterspeech.models import Entry
from beffroi.counterspeech.validation import EntryData, Problem, SourceData, check

CSV = "csv"
JSON = "json"
FORMATS = (CSV, JSON)
JSON_FORMAT_NAME = "beffroi.counter-speech"
JSON_VERSION = 1

MAX_BYTES = config.MAX_UPLOAD_BYTES
MAX_ENTRIES = 5000
#: Problems listed at most: a file this wrong is fixed from the first ones.
MAX_PROBLEMS = 500
LIST_SEPARATOR = "|"
TEXT_PREFIX = "text_"

#: The columns (and JSON fields) read, in the order an export writes them.
FIELDS = (
    "key",
    "title",
    "strategy",
    "tone",
    "targets",
    "topics",
    "licence",
    "valid_from",
    "valid_until",
    "sources",
)
#: Written by an export for its reader, ignored on import.
INFORMATIONAL = ("state", "library", "version", "uses")
#: The JSON file's own fields around the list.
JSON_ENVELOPE = ("format", "version", "exported_at", "entries")

_DEFUSED_START = re.compile(r"^'([=+\-@\t\r])")
_DEFUSED_AFTER_SEPARATOR = re.compile(r"([,;\t]\s*)'([=+\-@])")
_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class RowProblem:
    """A problem of a file, where it is: a row of a CSV (numbered as a spreadsheet numbers
    them, the header being row 1) or an entry of a JSON list (from 1); a column or field.
    ``row`` 0: the whole file; ``column`` empty: the whole row."""

    row: int
    column: str
    message: str
    in_json: bool = False

    @property
    def sentence(self) -> str:
        values = {"row": self.row, "column": self.column, "message": self.message}
        if self.row and self.column:
            if self.in_json:
                return _("Entry %(row)d, field '%(column)s': %(message)s") % values
            return _("Row %(row)d, column '%(column)s': %(message)s") % values
        if self.row:
            if self.in_json:
                return _("Entry %(row)d: %(message)s") % values
            return _("Row %(row)d: %(message)s") % values
        if self.column:
            if self.in_json:
                return _("Field '%(column)s': %(message)s") % values
            return _("Column '%(column)s': %(message)s") % values
        return self.message


@dataclass(frozen=True)
class ImportRow:
    """One entry read from the file, checked and cleaned, and where it was."""

    number: int
    data: EntryData


class _Problems:
    def __init__(self, in_json: bool) -> None:
        self.found: list[RowProblem] = []
        self.in_json = in_json

    def add(self, row: int, column: str, message: str) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(RowProblem(row, column, message, self.in_json))
        elif len(self.found) == MAX_PROBLEMS:
            self.found.append(
                RowProblem(0, "", _("More problems were not listed: fix these first."))
            )

    def __bool__(self) -> bool:
        return bool(self.found)


# --- reading ----------------------------------------------------------------------------------


def read_entries(data: bytes, file_format: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """Every entry of the file, checked; and every problem found (nothing may be stored
    unless the list is empty)."""
    in_json = file_format == JSON
    problems = _Problems(in_json)
    if file_format not in FORMATS:
        problems.add(0, "", _("The file must be a CSV or a JSON file."))
        return [], problems.found
    if len(data) > MAX_BYTES:
        problems.add(
            0,
            "",
            _("The file is larger than %(size)d MB.") % {"size": MAX_BYTES // (1024 * 1024)},
        )
        return [], problems.found
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.add(
            0,
            "",
            _(
                "The file is not UTF-8 text (byte %(position)d cannot be read): save it as "
                'UTF-8 (in a spreadsheet, "CSV UTF-8").'
            )
            % {"position": exc.start + 1},
        )
        return [], problems.found
    if "\x00" in text:
        problems.add(0, "", _("The file holds NUL characters: it is not a text file."))
        return [], problems.found
    rows = _read_json(text, problems) if in_json else _read_csv(text, problems)
    if not rows and not problems:
        problems.add(0, "", _("The file holds no entry."))
    return rows, problems.found


def _too_many(problems: _Problems) -> None:
    problems.add(
        0, "", _("The file holds more than %(limit)d entries: split it.") % {"limit": MAX_ENTRIES}
    )


def undefuse(cell: str) -> str:
    """A cell as it was before :func:`beffroi.core.exports.csv_cell` defused it."""
    return _DEFUSED_AFTER_SEPARATOR.sub(r"\1\2", _DEFUSED_START.sub(r"\1", cell))


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def _day(value: Any) -> date:
    """A day written ``2026-12-31`` (or ``31/12/2026``, as a French spreadsheet rewrites it);
    ValueError otherwise."""
    text = str(value).strip()
    found = _DAY_FIRST.match(text)
    if found:
        day, month, year = (int(part) for part in found.groups())
        return date(year, month, day)
    return date.fromisoformat(text)


def _sources_of_cell(cell: str) -> list[SourceData]:
    sources = []
    for line in cell.splitlines():
        line = line.strip()
        if not line:
            continue
        url, _space, title = line.partition(" ")
        sources.append(SourceData(url.strip(), title.strip()))
    return sources


def _record_problems(
    problems: _Problems, number: int, found: Sequence[Problem], *, in_json: bool
) -> None:
    for problem in found:
        column = problem.field
        if column == "texts":
            column = "texts" if in_json else ""
        elif column.startswith(TEXT_PREFIX) and in_json:
            column = f"texts.{column.removeprefix(TEXT_PREFIX)}"
        problems.add(number, column, problem.message)


def _read_csv(text: str, problems: _Problems) -> list[ImportRow]:
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(text_io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        problems.add(0, "", _("The file is empty."))
        return []
    except csv.Error as exc:
        problems.add(1, "", _("The header cannot be read (%(error)s).") % {"error": exc})
        return []
    languages: dict[int, str] = {}
    seen: set[str] = set()
    for index, name in enumerate(header):
        if name in seen:
            problems.add(0, name, _("the column appears twice."))
            continue
        seen.add(name)
        if name.startswith(TEXT_PREFIX):
            languages[index] = name.removeprefix(TEXT_PREFIX)
        elif name not in FIELDS and name not in INFORMATIONAL:
            problems.add(
                0,
                name,
                _(
                    "the library reads no such column; its columns are %(columns)s and one "
                    "text_xx per language (text_fr, text_en…)."
                )
                % {"columns": ", ".join(FIELDS)},
            )
    if "strategy" not in seen:
        problems.add(0, "strategy", _("the column is missing: every entry has a strategy."))
    if not languages:
        problems.add(0, "text_xx", _("no text column: give one per language (text_fr, text_en…)."))
    if problems:
        return []  # the rows cannot be read against a wrong header
    position = {name: index for index, name in enumerate(header)}
    rows: list[ImportRow] = []
    number = 1
    counted = 0
    try:
        for record in reader:
            number += 1
            if not any(cell.strip() for cell in record):
                continue
            counted += 1
            if counted > MAX_ENTRIES:
                _too_many(problems)
                return []
            if len(record) != len(header):
                problems.add(
                    number,
                    "",
                    _("it has %(cells)d cells where the header has %(columns)d.")
                    % {"cells": len(record), "columns": len(header)},
                )
                continue
            row = _csv_row(
                number, [undefuse(cell) for cell in record], position, languages, problems
            )
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        problems.add(number, "", _("the row cannot be read (%(error)s).") % {"error": exc})
    return rows


def _csv_row(
    number: int,
    cells: list[str],
    position: dict[str, int],
    languages: dict[int, str],
    problems: _Problems,
) -> ImportRow | None:
    def cell(name: str) -> str:
        index = position.get(name)
        return cells[index].strip() if index is not None else ""

    dates: dict[str, date | None] = {}
    bad = False
    for name in ("valid_from", "valid_until"):
        dates[name] = None
        if cell(name):
            try:
                dates[name] = _day(cell(name))
            except ValueError:
                problems.add(
                    number,
                    name,
                    _("'%(value)s' is not a day (write it 2026-12-31).") % {"value": cell(name)},
                )
                bad = True
    data = EntryData(
        key=cell("key"),
        title=cell("title"),
        strategy=cell("strategy"),
        tone=cell("tone"),
        targets=_split(cell("targets")),
        topics=_split(cell("topics")),
        licence=cell("licence"),
        valid_from=dates["valid_from"],
        valid_until=dates["valid_until"],
        sources=_sources_of_cell(cells[position["sources"]]) if "sources" in position else (),
        texts=[
            (language, cells[index])
            for index, language in languages.items()
            if cells[index].strip()
        ],
    )
    checked = check(data)
    _record_problems(problems, number, checked.problems, in_json=False)
    if checked.problems or bad:
        return None
    return ImportRow(number, checked.data)


class _JSONObject(dict[str, Any]):
    """A JSON object that remembers the names it was given twice (``json`` keeps the last)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _JSONObject:
    found = _JSONObject(pairs)
    names = [name for name, _value in pairs]
    found.duplicates = tuple(sorted({name for name in names if names.count(name) > 1}))
    return found


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return value
    return None


def _read_json(text: str, problems: _Problems) -> list[ImportRow]:
    try:
        document = json.loads(text, object_pairs_hook=_object)
    except json.JSONDecodeError as exc:
        problems.add(
            0,
            "",
            _("The file is not valid JSON (line %(line)d, column %(column)d: %(error)s).")
            % {"line": exc.lineno, "column": exc.colno, "error": exc.msg},
        )
        return []
    except RecursionError:
        problems.add(0, "", _("The file is nested too deeply to be read."))
        return []
    entries = document
    if isinstance(document, dict):
        for name in document:
            if name not in JSON_ENVELOPE:
                problems.add(0, name, _("the file holds no such field."))
        entries = document.get("entries")
    if not isinstance(entries, list):
        problems.add(
            0, "", _("The file must hold a list of entries (or an object with an 'entries' list).")
        )
        return []
    if len(entries) > MAX_ENTRIES:
        _too_many(problems)
        return []
    rows: list[ImportRow] = []
    for index, raw in enumerate(entries, start=1):
        row = _json_entry(index, raw, problems)
        if row is not None:
            rows.append(row)
    return rows


def _json_entry(number: int, raw: Any, problems: _Problems) -> ImportRow | None:
    if not isinstance(raw, dict):
        problems.add(number, "", _("an entry is an object with named fields."))
        return None
    bad = False
    for name in raw:
        if name not in FIELDS and name not in INFORMATIONAL and name != "texts":
            problems.add(number, name, _("the library reads no such field."))
            bad = True
    for name in ("key", "title", "strategy", "tone", "licence"):
        if raw.get(name) is not None and not isinstance(raw.get(name), str):
            problems.add(number, name, _("must be text."))
            bad = True
    lists: dict[str, list[str]] = {}
    for name in ("targets", "topics"):
        value = _strings(raw.get(name))
        if value is None:
            problems.add(number, name, _("must be a list of texts."))
            bad = True
        lists[name] = value or []
    dates: dict[str, date | None] = {}
    for name in ("valid_from", "valid_until"):
        value = raw.get(name)
        dates[name] = None
        if value in (None, ""):
            continue
        try:
            dates[name] = _day(value)
        except ValueError:
            problems.add(
                number,
                name,
                _("'%(value)s' is not a day (write it 2026-12-31).") % {"value": value},
            )
            bad = True
    texts_raw = raw.get("texts")
    texts: list[tuple[str, str]] = []
    if not isinstance(texts_raw, dict):
        problems.add(number, "texts", _('must be an object of texts by language: {"fr": "…"}.'))
        bad = True
    else:
        for language in getattr(texts_raw, "duplicates", ()):
            problems.add(
                number,
                f"texts.{language}",
                _("The language %(language)s is given twice.") % {"language": language},
            )
            bad = True
        for language, value in texts_raw.items():
            if not isinstance(value, str):
                problems.add(number, f"texts.{language}", _("must be text."))
                bad = True
            else:
                texts.append((language, value))
    sources: list[SourceData] = []
    sources_raw = raw.get("sources") or []
    if not isinstance(sources_raw, list):
        problems.add(number, "sources", _('must be a list of {"url": …, "title": …}.'))
        bad = True
    else:
        for source in sources_raw:
            if isinstance(source, str):
                sources.append(SourceData(source))
            elif (
                isinstance(source, dict)
                and isinstance(source.get("url"), str)
                and isinstance(source.get("title", ""), str)
                and set(source) <= {"url", "title"}
            ):
                sources.append(SourceData(source["url"], source.get("title", "")))
            else:
                problems.add(number, "sources", _('must be a list of {"url": …, "title": …}.'))
                bad = True
    if bad:
        return None
    data = EntryData(
        key=raw.get("key") or "",
        title=raw.get("title") or "",
        strategy=raw.get("strategy") or "",
        tone=raw.get("tone") or "",
        targets=lists["targets"],
        topics=lists["topics"],
        licence=raw.get("licence") or "",
        valid_from=dates["valid_from"],
        valid_until=dates["valid_until"],
        sources=sources,
        texts=texts,
    )
    checked = check(data)
    _record_problems(problems, number, checked.problems, in_json=True)
    if checked.problems:
        return None
    return ImportRow(number, checked.data)


# --- writing ----------------------------------------------------------------------------------


def _library(entry: Entry, own_organization_id: int | None) -> str:
    if entry.organization_id == own_organization_id:
        return ""
    library = getattr(entry.organization, "counter_speech_library", None)
    return (library.public_name if library is not None else "") or entry.organization.name


def _plain(entry: Entry, own_organization_id: int | None) -> dict[str, Any]:
    """An entry as the files write it (texts and sources prefetched by the caller)."""
    return {
        "key": entry.key,
        "title": entry.title,
        "state": entry.state,
        "library": _library(entry, own_organization_id),
        "version": entry.version,
        "uses": entry.use_count,
        "strategy": entry.strategy,
        "tone": entry.tone,
        "targets": list(entry.targets),
        "topics": list(entry.topics),
        "licence": entry.licence,
        "valid_from": entry.valid_from.isoformat() if entry.valid_from else None,
        "valid_until": entry.valid_until.isoformat() if entry.valid_until else None,
        "sources": [
            {"url": source.url, "title": source.title}
            for source in sorted(entry.sources.all(), key=lambda s: (s.position, s.pk))
        ],
        "texts": {
            text.language: text.text for text in sorted(entry.texts.all(), key=lambda t: t.language)
        },
    }


def write_json(entries: Sequence[Entry], own_organization_id: int | None = None) -> str:
    document = {
        "format": JSON_FORMAT_NAME,
        "version": JSON_VERSION,
        "exported_at": timezone.now().isoformat(),
        "entries": [_plain(entry, own_organization_id) for entry in entries],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def write_csv(
    entries: Sequence[Entry], own_organization_id: int | None = None, *, delimiter: str = ","
) -> str:
    plain = [_plain(entry, own_organization_id) for entry in entries]
    languages = sorted({language for entry in plain for language in entry["texts"]})
    header = [
        "key",
        "title",
        "state",
        "library",
        "version",
        "uses",
        *FIELDS[2:],
        *(f"{TEXT_PREFIX}{language}" for language in languages),
    ]
    rows = []
    for entry in plain:
        row: list[Any] = [entry[name] for name in header[:6]]
        row += [
            entry["strategy"],
            entry["tone"],
            LIST_SEPARATOR.join(entry["targets"]),
            LIST_SEPARATOR.join(entry["topics"]),
            entry["licence"],
            entry["valid_from"] or "",
            entry["valid_until"] or "",
            "\n".join(f"{source['url']} {source['title']}".strip() for source in entry["sources"]),
        ]
        row += [entry["texts"].get(language, "") for language in languages]
        rows.append(row)
    return "".join(csv_lines(header, rows, delimiter))
