"""Importing a file into a file source (command line, web upload, API): CSV or NDJSON, or a
platform's data export (Snapchat), parsed by the source's connector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from beffroi.audit.services import Actor, record
from beffroi.connectors.base import ConfigurationError
from beffroi.connectors.fileimport import FileConnector, ParseReport, RowError, write_rejected
from beffroi.connectors.registry import connector_class
from beffroi.items.ingest import IngestResult, ingest
from beffroi.sources.models import Source

BATCH_SIZE = 500


@dataclass
class ImportReport:
    """What an import did. ``imported`` is False when invalid rows stopped it."""

    path: str
    valid_rows: int = 0
    created: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False
    rejected_path: str | None = None


def import_file(
    actor: Actor,
    source: Source,
    path: Path,
    *,
    fmt: str | None = None,
    skip_invalid: bool = False,
    rejected_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate the whole file, then store its rows.

    If any row is invalid and ``skip_invalid`` is False, nothing is stored. With
    ``skip_invalid`` the valid rows are stored and the rejected ones written to
    ``rejected_path``. Rows already stored (same id) are counted as ``existing``.
    """
    connector = connector_class(source.platform)(source.settings, {})
    if not isinstance(connector, FileConnector):
        raise ConfigurationError(f"{source.name}: files can only be imported into a file source.")
    parsed: ParseReport = connector.parse(path, fmt)
    report = ImportReport(path=str(path), valid_rows=len(parsed.items), errors=list(parsed.errors))
    if parsed.errors and not skip_invalid:
        return report
    if parsed.errors and rejected_path is not None:
        write_rejected(rejected_path, parsed.errors)
        report.rejected_path = str(rejected_path)
    total = IngestResult()
    items = [row.item for row in parsed.items]
    for start in range(0, len(items), BATCH_SIZE):
        with transaction.atomic():
            total += ingest(source, items[start : start + BATCH_SIZE])
        if progress is not None:
            progress(min(start + BATCH_SIZE, len(items)), len(items))
    report.created, report.existing, report.imported = total.created, total.existing, True
    record(
        actor,
        "source.import",
        organization=source.organization,
        obj=source,
        after={
            "file": path.name,
            "created": report.created,
            "existing": report.existing,
            "rejected": len(report.errors),
        },
    )
    return report
