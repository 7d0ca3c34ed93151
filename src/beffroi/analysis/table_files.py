"""Reading the evaluation commands' table files (CSV, TSV, or another delimiter)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from beffroi.analysis.moderation.evaluate import EvaluationError


def dialect_of(content: str, path: Path) -> type[csv.Dialect]:
    """Excel quoting with the delimiter of the header line (sniffing the quoting from the
    header alone gets doubled quotes wrong)."""
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    first_line = content.split("\n", 1)[0]
    delimiter = max(",\t;|", key=first_line.count)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter
    return Dialect


def open_table(path: Path, columns: Sequence[str]) -> csv.DictReader[str]:
    """The rows of the UTF-8 table file ``path``, which must have ``columns``; an unreadable,
    empty or incomplete file is an :class:`EvaluationError` naming what is wrong."""
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise EvaluationError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise EvaluationError(f"{path} is not UTF-8 text") from error
    if not content.strip():
        raise EvaluationError(f"{path} is empty")
    reader = csv.DictReader(io.StringIO(content, newline=""), dialect=dialect_of(content, path))
    found = [column for column in (reader.fieldnames or []) if column is not None]
    for column in columns:
        if column not in found:
            known = ", ".join(repr(c) for c in found) or "none"
            raise EvaluationError(f"{path}: no column {column!r} (columns: {known})")
    return reader
