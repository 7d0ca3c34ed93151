"""Importing a file into a file source (command line, web upload, API): CSV or NDJSON, or a
platform's data export (Snapchat), parsed by the source's connector.

An import is all or nothing: the whole file is validated first, then every row is stored
in one transaction with the audit event, so a failure anywhere leaves nothing stored.

An item is identified by its source and its platform id: the same posts imported into
another source are stored again there. That is allowed (a person may want both) and said:
the report counts the rows another source of the organization already holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DataError, IntegrityError, transaction

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.connectors.base import ConfigurationError
from beffroi.connectors.fileimport import (
    FileConnector,
    ParsedRow,
    ParseReport,
    RowError,
    check_import_platform,
    escape_unstorable,
    parse_file,
    write_rejected,
)
from beffroi.connectors.registry import connector_class
from beffroi.items.ingest import IngestResult, ingest
from beffroi.items.models import Item
from beffroi.organizations.models import Organization
from beffroi.sources.models import Source
from beffroi.sources.services import create_source

BATCH_SIZE = 500

#: What storing a row the validation let through can raise (the row's fault, not the
#: database's state): encoding errors (ValueError), data the database refuses, a structure
#: too deep to serialize. A lost connection or a locked database is not in this list.
_ROW_ERRORS = (ValueError, RecursionError, DataError, IntegrityError)


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
    #: Valid rows whose item (same platform and platform id) another source of the
    #: organization already holds, and those sources' names.
    in_other_sources: int = 0
    other_sources: list[str] = field(default_factory=list)


class _Unstorable(Exception):
    """A row that passed validation was refused by the database (the import is undone)."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def import_file(
    actor: Actor,
    source: Source,
    path: Path,
    *,
    fmt: str | None = None,
    platform: str | None = None,
    skip_invalid: bool = False,
    rejected_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate the whole file, then store its rows in one transaction.

    If any row is invalid and ``skip_invalid`` is False, nothing is stored. With
    ``skip_invalid`` the valid rows are stored and the rejected ones written to
    ``rejected_path``. Rows already stored (same id) are counted as ``existing``. A row the
    database refuses all the same stops the import: nothing is stored and that row is
    reported. Raises :class:`~beffroi.connectors.fileimport.ImportFormatError` when the file
    as a whole cannot be imported (empty, wrong format…).

    ``platform`` (one of :func:`~beffroi.connectors.fileimport.import_platforms`) is the
    platform of the rows that name none, a 4CAT CSV export's for example; by default they
    have the source's (``file``). It applies to CSV and NDJSON files, not to a platform's
    own export, which names its platform.
    """
    connector = connector_class(source.platform)(source.settings, {})
    if not isinstance(connector, FileConnector):
        raise ConfigurationError(f"{source.name}: files can only be imported into a file source.")
    parsed: ParseReport
    if platform:
        if connector.platform != FileConnector.platform:
            raise ConfigurationError(
                f"{source.name}: a {connector.label} names its own platform; import it "
                "without choosing one."
            )
        parsed = parse_file(path, fmt, default_platform=check_import_platform(platform))
    else:
        parsed = connector.parse(path, fmt)
    report = ImportReport(path=str(path), valid_rows=len(parsed.items), errors=list(parsed.errors))
    if parsed.errors and not skip_invalid:
        return report
    report.in_other_sources, report.other_sources = _in_other_sources(source, parsed.items)
    try:
        with transaction.atomic():
            total = _store(source, parsed.items, progress)
            record(
                actor,
                AuditAction.SOURCE_IMPORT,
                organization=source.organization,
                obj=source,
                after={
                    "file": path.name,
                    "created": total.created,
                    "existing": total.existing,
                    "rejected": len(report.errors),
                },
            )
    except _Unstorable as refused:
        report.errors = sorted([*report.errors, refused.error], key=lambda error: error.line)
        return report
    if parsed.errors and rejected_path is not None:
        write_rejected(rejected_path, parsed.errors)
        report.rejected_path = str(rejected_path)
    report.created, report.existing, report.imported = total.created, total.existing, True
    return report


def import_file_into(
    actor: Actor,
    organization: Organization,
    source_name: str,
    path: Path,
    **options: Any,
) -> tuple[ImportReport, Source | None, bool]:
    """:func:`import_file` into the organization's source named ``source_name``, created as
    a file source when there is none — and kept only if the import stored the file, so a
    refused file leaves nothing behind, not even an empty source.

    Returns the report, the source (None when a new one was undone) and whether it is new.
    """
    source = Source.objects.filter(organization=organization, name=source_name).first()
    if source is not None:
        return import_file(actor, source, path, **options), source, False
    with transaction.atomic():
        source = create_source(
            actor, organization, name=source_name, platform="file", kind=Source.Kind.IMPORT
        )
        report = import_file(actor, source, path, **options)
        if not report.imported:
            transaction.set_rollback(True)
            return report, None, True
    return report, source, True


def _in_other_sources(source: Source, rows: Sequence[ParsedRow]) -> tuple[int, list[str]]:
    """How many of ``rows`` another source of the organization already holds (the same
    platform and platform id), and those sources' names."""
    by_platform: dict[str, set[str]] = {}
    for row in rows:
        by_platform.setdefault(row.item.platform or source.platform, set()).add(
            row.item.platform_id
        )
    found: set[tuple[str, str]] = set()
    names: set[str] = set()
    others = Item.objects.for_org(source.organization).exclude(source=source)
    for platform, ids in by_platform.items():
        wanted = sorted(ids)
        for start in range(0, len(wanted), BATCH_SIZE):
            matches = others.filter(
                platform=platform, platform_id__in=wanted[start : start + BATCH_SIZE]
            ).values_list("platform_id", "source__name")
            for platform_id, name in matches:
                found.add((platform, platform_id))
                names.add(name)
    return len(found), sorted(names)


def _store(
    source: Source, rows: Sequence[ParsedRow], progress: Callable[[int, int], None] | None
) -> IngestResult:
    """Store ``rows`` by batches, inside the caller's transaction."""
    total = IngestResult()
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        try:
            with transaction.atomic():
                total += ingest(source, [row.item for row in batch])
        except _ROW_ERRORS as exc:
            raise _Unstorable(_refused_row(source, batch, exc)) from exc
        if progress is not None:
            progress(start + len(batch), len(rows))
    return total


def _refused_row(source: Source, batch: Sequence[ParsedRow], exc: BaseException) -> RowError:
    """The first row of ``batch`` the database refuses on its own, to name it.

    Each row is tried in a savepoint that is always rolled back: nothing stays stored.
    """
    for row in batch:
        try:
            with transaction.atomic():
                ingest(source, [row.item])
                transaction.set_rollback(True)
        except _ROW_ERRORS as error:
            reason = f"the database cannot store this row: {escape_unstorable(str(error))}"
            return RowError(row.line, reason, "")
    first, last = batch[0].line, batch[-1].line
    reason = f"lines {first} to {last} cannot be stored together: {escape_unstorable(str(exc))}"
    return RowError(first, reason, "")
