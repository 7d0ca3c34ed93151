"""The ``file`` platform: a source whose items come from an imported CSV or NDJSON file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Final

from beffroi.connectors.base import (
    Action,
    AuthMethod,
    ConfigurationError,
    Connector,
    FetchBatch,
    FetchKind,
    ItemKind,
    MalformedPayload,
    NormalizedItem,
    Option,
    UnsupportedAction,
)
from beffroi.connectors.fileimport.reading import map_record, parse_file
from beffroi.connectors.fileimport.report import ParseReport

#: Valid rows per :class:`FetchBatch`.
BATCH_SIZE: Final = 500


class FileConnector(Connector):
    """Items read from a CSV or NDJSON file; it cannot act on any platform."""

    platform: ClassVar[str] = "file"
    label: ClassVar[str] = "File import"
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.FILE})
    auth: ClassVar[AuthMethod] = AuthMethod.FILE
    setup_doc: ClassVar[str] = "import-format.md"
    options: ClassVar[Mapping[str, Option]] = {
        "path": Option(
            label="File",
            required=False,
            help="Path of the CSV or NDJSON file to import (see docs/import-format.md).",
        ),
        "format": Option(
            label="Format",
            required=False,
            help="csv or ndjson; guessed from the file's extension when empty.",
        ),
    }

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Parse the file and yield its items by :data:`BATCH_SIZE`.

        The cursor is ``{"path", "sha256", "items"}``: a sync of the same unchanged file
        resumes after the items already yielded. Raises :class:`MalformedPayload` listing
        the first invalid rows when the file has any (nothing is yielded then).
        """
        path = self.settings.get("path")
        if not path:
            raise ConfigurationError(
                f"{self.label}: no file to import; set the 'path' setting or import a file"
            )
        report = self.parse(Path(str(path)), self.settings.get("format") or None)
        if report.errors:
            shown = "; ".join(error.message for error in report.errors[:5])
            more = f" (and {len(report.errors) - 5} more)" if len(report.errors) > 5 else ""
            raise MalformedPayload(
                f"{report.path.name}: {len(report.errors)} invalid row(s), nothing was "
                f"imported: {shown}{more}"
            )
        done = 0
        if cursor.get("sha256") == report.sha256 and cursor.get("path") == str(path):
            done = int(cursor.get("items") or 0)
        items = [row.item for row in report.items]
        for start in range(done, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE]
            yield FetchBatch(
                items=batch,
                cursor={"path": str(path), "sha256": report.sha256, "items": start + len(batch)},
            )

    def parse(self, path: Path, fmt: str | None = None) -> ParseReport:
        """Read and validate the whole file (platforms' export formats override this)."""
        return parse_file(path, fmt, default_platform=self.platform)

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """Map one CSV-style row (or NDJSON object); ``kind`` applies when it has none."""
        return map_record(raw, default_platform=self.platform, default_kind=kind)

    def _unsupported(self, action: Action) -> UnsupportedAction:
        return UnsupportedAction(
            f"A file import cannot act on a platform: '{action}' is not possible on "
            "imported items; act on them on the platform itself."
        )
