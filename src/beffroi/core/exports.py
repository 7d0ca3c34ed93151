"""CSV exports streamed to the browser, safe to open in a spreadsheet.

Two dialects: the comma of RFC 4180 (what programs read) and the semicolon that Excel
expects where the decimal separator is a comma, as in French (``?sep=semicolon``). Either
way every cell is quoted, so a separator inside a cell never splits it in a spreadsheet set
to the other dialect, and a formula prefix is defused at the start of a cell and after
every separator inside it: a spreadsheet that splits a cell anyway still shows text.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO, Any

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

#: A spreadsheet would run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A formula start right after a separator (blank space between them too).
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t]\s*)([=+\-@])")
#: ``?sep=`` values and the delimiter each one means.
DELIMITERS = {"comma": ",", "semicolon": ";"}


class _Echo:
    def write(self, value: str) -> str:
        return value


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'\2", _text(value))
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def delimiter_of(request: HttpRequest | None) -> str:
    """The delimiter the person asked for (``?sep=semicolon`` for French Excel), else a comma."""
    if request is None:
        return ","
    return DELIMITERS.get(request.GET.get("sep", ""), ",")


def csv_lines(
    header: list[str], rows: Iterable[Iterable[Any]], delimiter: str = ","
) -> Iterator[str]:
    """The lines of a CSV file, one at a time, so a large export never sits in memory; with
    semicolons (a spreadsheet set to French) the file starts with a byte order mark."""
    writer = csv.writer(_Echo(), delimiter=delimiter, quoting=csv.QUOTE_ALL)
    if delimiter == ";":
        yield "\ufeff"  # Excel reads the file as UTF-8 only with a byte order mark
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def write_csv(
    handle: IO[str], header: list[str], rows: Iterable[Iterable[Any]], delimiter: str = ","
) -> None:
    """Write a CSV file with the same safe cells as the downloads (the command line's exports)."""
    handle.writelines(csv_lines(header, rows, delimiter))


def stream_csv(
    header: list[str],
    rows: Iterable[Iterable[Any]],
    filename: str,
    request: HttpRequest | None = None,
) -> StreamingHttpResponse:
    """A CSV download written row by row."""
    lines = csv_lines(header, rows, delimiter_of(request))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
