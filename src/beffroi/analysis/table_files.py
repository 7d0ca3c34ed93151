"""Reading the evaluation commands' table files (CSV, TSV, or another delimiter)."""

from __future__ import annotations

import csv
from pathlib import Path


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
