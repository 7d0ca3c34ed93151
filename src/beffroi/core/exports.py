"""CSV exports streamed to the browser, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

#: A spreadsheet would run a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif value is None:
        text = ""
    elif hasattr(value, "isoformat"):
        text = (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def stream_csv(
    header: list[str], rows: Iterable[Iterable[Any]], filename: str
) -> StreamingHttpResponse:
    """A CSV download written row by row, so a large export never sits in memory."""
    writer = csv.writer(_Echo())

    def lines() -> Iterable[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
