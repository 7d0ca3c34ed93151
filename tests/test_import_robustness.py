"""Imports are all or nothing, whatever the file holds (issue 11): what no database stores is
refused with its row, a row the database refuses all the same undoes the import, an empty
file is an error in every format, and JSON may not nest deeper than the limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from django.db import DataError

from beffroi.audit.models import AuditEvent
from beffroi.cli import main
from beffroi.connectors.fileimport import (
    MAX_JSON_DEPTH,
    ImportFormatError,
    UnstorableJSON,
    check_json,
    parse_file,
)
from beffroi.connectors.snapchat import parse_export
from beffroi.items.models import Item
from beffroi.sources.models import Source


def ndjson_rows(count: int, bad: int | None = None, value: str = "\ud800") -> str:
    lines = []
    for number in range(1, count + 1):
        text = f"bonjour {number}" + (f" {value}" if number == bad else "")
        row = {"id": str(number), "text": text, "created_at": 1714564980 + number, "author": "a"}
        lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.fixture
def run(db: Any) -> Any:
    def invoke(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def nested(depth: int) -> Any:
    value: Any = "fond"
    for _ in range(depth):
        value = {"a": [value]}
    return value


# --- what no database stores ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"text": "a\ud800b"}, "field 'text' contains \\ud800, half of a UTF-16 surrogate pair"),
        ({"author": {"name": "x\x00"}}, "field 'author.name' contains a NUL character (\\u0000)"),
        ({"raw": [1, {"\udfff": 2}]}, "field 'raw[1].\\udfff': its name contains \\udfff"),
        ({"n": float("inf")}, "field 'n': inf is not a number JSON allows"),
        (nested(40), "the JSON is nested more than 64 levels deep (the limit)"),
    ],
)
def test_check_json_names_what_cannot_be_stored(value: Any, reason: str) -> None:
    with pytest.raises(UnstorableJSON) as caught:
        check_json(value)
    assert str(caught.value).startswith(reason)
    assert caught.value.too_deep == reason.startswith("the JSON is nested")


def test_check_json_accepts_ordinary_data_up_to_the_limit() -> None:
    check_json({"text": "Bonjour 👋 مرحبا", "list": [1, 2.5, None, True], "deep": nested(31)})
    assert MAX_JSON_DEPTH == 64


def test_ndjson_rows_storage_cannot_take_are_refused_by_line(tmp_path: Path) -> None:
    good = {"created_at": 1714564980, "author": "a"}
    zeeschuimer = {
        "source_platform": "tiktok.com",
        "data": {"id": "9", "desc": "vidéo", "createTime": 1714564980, "author": "\ud83d"},
    }
    lines = [
        {**good, "id": "1", "text": "ok"},
        {**good, "id": "2", "text": "lone \ud800 surrogate"},
        {**good, "id": "3", "text": "NUL \x00 here"},
        {**good, "id": "4", "text": "t", "extra": {"deep": nested(70)}},
        zeeschuimer,
    ]
    content = "\n".join(json.dumps(line) for line in lines) + "\n"
    # JSON's grammar allows 1e999; Python reads it as infinity, which PostgreSQL refuses.
    content += '{"id": "6", "text": "t", "author": "a", "created_at": 1, "views_raw": 1e999}\n'
    content += '{"id": "7", "text": "t", "author": "a", "created_at": 1, "x": ' + "[" * 5000 + "\n"
    report = parse_file(write(tmp_path, "rows.ndjson", content))
    assert [row.line for row in report.items] == [1]
    reasons = {error.line: error.reason for error in report.errors}
    assert reasons[2].startswith("field 'text' contains \\ud800")
    assert reasons[3].startswith("field 'text' contains a NUL character")
    assert reasons[4] == "the JSON is nested more than 64 levels deep (the limit)"
    assert reasons[5].startswith("field 'data.author' contains \\ud83d")
    assert reasons[6] == "field 'views_raw': inf is not a number JSON allows"
    assert reasons[7] == "the JSON is nested more than 64 levels deep (the limit)"
    assert all("\ud800" not in reason and "\x00" not in reason for reason in reasons.values())


def test_snapchat_messages_storage_cannot_take_are_refused(tmp_path: Path) -> None:
    message = {"From": "jeanne", "Media Type": "TEXT", "Created": "2024-05-01 12:03:00 UTC"}
    export = {
        "jeanne": [{**message, "Content": "Bonjour"}, {**message, "Content": "bad \ud800"}],
        "bad\x00name": [{**message, "Content": "Salut"}],
    }
    report = parse_export(write(tmp_path, "chat_history.json", json.dumps(export, indent=1)))
    assert [row.item.text for row in report.items] == ["Bonjour"]
    reasons = sorted(error.reason for error in report.errors)
    assert "the conversation's name contains a NUL character" in reasons[0]
    assert "conversation 'bad\\u0000name'" in reasons[0]
    assert "field 'Content' contains \\ud800" in reasons[1]


# --- empty files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("empty.ndjson", b""),
        ("empty.jsonl", b"\n  \n\n"),
        ("header.csv", b"text,created_at,author\n\n"),
    ],
)
def test_an_empty_file_is_an_error_in_every_format(
    tmp_path: Path, name: str, content: bytes
) -> None:
    with pytest.raises(ImportFormatError, match=f"^{name}: the file is empty"):
        parse_file(write(tmp_path, name, content))


@pytest.mark.parametrize("content", [b"", b"{}", b'{"jeanne": [], "paul": []}'])
def test_an_empty_snapchat_export_is_an_error(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ImportFormatError, match="the file is empty"):
        parse_export(write(tmp_path, "chat_history.json", content))


@pytest.mark.parametrize("name", ["empty.csv", "empty.ndjson", "zeeschuimer.jsonl"])
def test_cli_refuses_an_empty_file_with_exit_code_2(
    run: Any, org: Any, tmp_path: Path, name: str
) -> None:
    result = run("import", str(write(tmp_path, name, b"")), "--org", org.slug, "--source", "S")
    assert result.exit_code == 2, result.output
    assert f"Error: {name}: the file is empty" in result.output
    assert "Nothing was imported." in result.output
    assert not Item.objects.exists()
    # The source the command would have made for the file is not left behind, empty.
    assert not Source.objects.filter(organization=org, name="S").exists()
    assert not AuditEvent.objects.filter(action="source.create").exists()


def test_cli_refuses_an_empty_snapchat_export_with_exit_code_2(
    run: Any, org: Any, tmp_path: Path
) -> None:
    Source.objects.create(organization=org, name="Snap", platform="snapchat", kind="import")
    path = write(tmp_path, "chat_history.json", b"{}")
    result = run("import", str(path), "--org", org.slug, "--source", "Snap")
    assert result.exit_code == 2, result.output
    assert "the file is empty" in result.output


# --- all or nothing -------------------------------------------------------------------------


def test_cli_import_with_an_unstorable_row_stores_nothing(
    run: Any, org: Any, tmp_path: Path
) -> None:
    # The probe: 600 rows, the 550th with a lone surrogate; before, 500 rows were committed,
    # the command ended with a traceback (exit 1) and no audit event.
    path = write(tmp_path, "export.ndjson", ndjson_rows(600, bad=550))
    result = run("import", str(path), "--org", org.slug, "--source", "S")
    assert result.exit_code == 2, result.output
    assert "1 invalid row(s); nothing was imported." in result.output
    assert "line 550: field 'text' contains \\ud800" in result.output
    assert not Item.objects.exists()
    assert not AuditEvent.objects.filter(action="source.import").exists()
    assert not Source.objects.filter(organization=org, name="S").exists()

    skipped = run("import", str(path), "--org", org.slug, "--source", "S", "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert "Imported 599 new item(s)" in skipped.output
    assert "Created file source 'S'." in skipped.output
    assert Item.objects.count() == 599
    assert AuditEvent.objects.filter(action="source.import", channel="cli").count() == 1


def test_a_row_the_database_refuses_undoes_the_whole_import(
    run: Any, org: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Defence in depth: should the database refuse a row the validation let through, the
    # batches already stored are undone and the row is named.
    from beffroi.sources import imports

    real_ingest = imports.ingest

    def refusing(source: Any, items: Any) -> Any:
        if any(item.platform_id == "550" for item in items):
            raise DataError("value refused by the database")
        return real_ingest(source, items)

    monkeypatch.setattr(imports, "ingest", refusing)
    path = write(tmp_path, "export.ndjson", ndjson_rows(600))
    result = run("import", str(path), "--org", org.slug, "--source", "S")
    assert result.exit_code == 2, result.output
    assert "line 550: the database cannot store this row: value refused" in result.output
    assert not Item.objects.exists()
    assert not AuditEvent.objects.filter(action="source.import").exists()


# --- fact-check libraries (ClaimReview) -----------------------------------------------------


def test_claim_review_nested_too_deeply_is_a_clear_error() -> None:
    from beffroi.analysis.claims.library import (
        LibraryImportError,
        NestingTooDeep,
        claims_from_csv,
        claims_from_html,
        claims_from_json,
    )

    for depth in (5000, 100):  # Python's parser gives up; parsed, but over the limit
        deep = '{"@type": "ClaimReview", "x": ' + "[" * depth + "]" * depth + "}"
        with pytest.raises(NestingTooDeep):
            claims_from_json(deep)
        with pytest.raises(NestingTooDeep):
            claims_from_html(f'<script type="application/ld+json">{deep}</script>')
    review = {"@type": "ClaimReview", "claimReviewed": "a\u0000b", "reviewRating": "Faux"}
    with pytest.raises(LibraryImportError, match="NUL"):
        claims_from_json(json.dumps(review))
    with pytest.raises(LibraryImportError) as caught:
        claims_from_csv("claim,verdict\nLe maire\x00,Faux\nUn,Faux,en trop\n")
    assert "line 2: column 'claim' contains a NUL character" in str(caught.value)
    assert "line 3: more values than the header has columns" in str(caught.value)
    shallow = {"@graph": [{"@type": "ClaimReview", "claimReviewed": "X", "reviewRating": "Faux"}]}
    assert [claim.text for claim in claims_from_json(json.dumps(shallow))] == ["X"]
