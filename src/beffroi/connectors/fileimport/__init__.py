"""Importing items from a CSV or NDJSON file (the ``file`` platform).

The whole file is read and every row validated before anything is returned: a
:class:`ParseReport` lists the valid rows and, for each invalid one, its line number, a
reason a person can act on and the original text. Nothing here touches Django.

``docs/import-format.md`` is the reference: the formats, the columns and their aliases,
the Zeeschuimer and 4CAT exports, the error messages and the limits. The package's modules:

- :mod:`~beffroi.connectors.fileimport.reading`: bytes to lines, CSV rows or JSON objects,
  each to an item, within the size limits (:func:`parse_file`);
- :mod:`~beffroi.connectors.fileimport.columns`: a row by its column names to an item;
- :mod:`~beffroi.connectors.fileimport.zeeschuimer`: Zeeschuimer and 4CAT lines to items;
- :mod:`~beffroi.connectors.fileimport.storable`: what no database stores, refused
  (:func:`check_json`, also used by the API and the claim libraries);
- :mod:`~beffroi.connectors.fileimport.report`: the report, the refused rows, the error for a
  whole file;
- :mod:`~beffroi.connectors.fileimport.connector`: :class:`FileConnector`.

What the rest of Beffroi uses is named here.
"""

from beffroi.connectors.fileimport.columns import (
    ALIASES,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    check_import_platform,
    import_platforms,
    parse_date,
)
from beffroi.connectors.fileimport.connector import BATCH_SIZE, FileConnector
from beffroi.connectors.fileimport.reading import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_ROW_BYTES,
    FORMATS,
    file_sha256,
    guess_format,
    map_record,
    parse_file,
)
from beffroi.connectors.fileimport.report import (
    ImportFormatError,
    ParsedRow,
    ParseReport,
    RowError,
    write_rejected,
)
from beffroi.connectors.fileimport.storable import (
    MAX_JSON_DEPTH,
    UnstorableJSON,
    check_json,
    check_text,
    escape_unstorable,
    json_type,
)
from beffroi.connectors.fileimport.zeeschuimer import ZEESCHUIMER_PLATFORMS, map_zeeschuimer

__all__ = [
    "ALIASES",
    "BATCH_SIZE",
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_MAX_ROW_BYTES",
    "FORMATS",
    "MAX_JSON_DEPTH",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ZEESCHUIMER_PLATFORMS",
    "FileConnector",
    "ImportFormatError",
    "ParseReport",
    "ParsedRow",
    "RowError",
    "UnstorableJSON",
    "check_import_platform",
    "check_json",
    "check_text",
    "escape_unstorable",
    "file_sha256",
    "guess_format",
    "import_platforms",
    "json_type",
    "map_record",
    "map_zeeschuimer",
    "parse_date",
    "parse_file",
    "write_rejected",
]
