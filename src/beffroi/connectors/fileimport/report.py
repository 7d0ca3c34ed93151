"""What an import found: the valid rows, the refused ones and why, or why the whole file was.

A refused row keeps its line number and its original text; :func:`write_rejected` writes
them as CSV so that they can be fixed and imported again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from beffroi.connectors.base import ConfigurationError, NormalizedItem


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
