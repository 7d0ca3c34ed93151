"""Importing a Snapchat data export (chat_history.json, or the export's zip)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    AuthMethod,
    ConfigurationError,
    ItemKind,
    ItemRef,
    MalformedPayload,
    UnsupportedAction,
)
from beffroi.connectors.fileimport import ImportFormatError
from beffroi.connectors.registry import connector_class
from beffroi.connectors.snapchat import (
    ExportFormatError,
    SnapchatImportConnector,
    parse_export,
)
from tests.connectors.contract import drain

CURRENT = {
    "jeanne.d": [
        {
            "From": "jeanne.d",
            "Media Type": "TEXT",
            "Created": "2024-05-01 12:03:00 UTC",
            "Content": "Bonjour, la piscine est-elle ouverte ?",
            "Conversation Title": None,
            "IsSender": False,
            "Created(microseconds)": 1714564980123,
            "IsSaved": False,
            "Media IDs": "",
        },
        {
            "From": "ville.exemple",
            "Media Type": "TEXT",
            "Created": "2024-05-01 12:05:00 UTC",
            "Content": "Oui, jusqu'à 20 h.",
            "Conversation Title": None,
            "IsSender": True,
            "Created(microseconds)": 1714565100456,
            "IsSaved": True,
            "Media IDs": "",
        },
        {
            "From": "jeanne.d",
            "Media Type": "MEDIA",
            "Created": "2024-05-01 12:06:00 UTC",
            "Content": None,
            "Conversation Title": None,
            "IsSender": False,
            "Created(microseconds)": 1714565160000,
            "IsSaved": False,
            "Media IDs": "b~EiQSFTM0",
        },
    ],
    "7d0c1b2a-group": [
        {
            "From": "paul_m",
            "Media Type": "TEXT",
            "Created": "2024-05-02 08:00:00 UTC",
            "Content": "Merci pour l'info",
            "Conversation Title": "Quartier Nord",
            "IsSender": False,
            "Created(microseconds)": 1714636800000,
        }
    ],
}

OLD = {
    "Received Saved Chat History": [
        {
            "From": "jeanne.d",
            "Media Type": "TEXT",
            "Created": "2022-07-22 19:28:21 UTC",
            "Text": "C&#39;est ferm\u00e9 ?",
        },
        {"From": "jeanne.d", "Media Type": "STICKER", "Created": "2022-07-22 19:29:00 UTC"},
    ],
    "Sent Saved Chat History": [
        {
            "To": "jeanne.d",
            "Media Type": "TEXT",
            "Created": "2022-07-22 19:30:00 UTC",
            "Text": "Oui, d&eacute;sol&eacute;s",
        }
    ],
}


def write(tmp_path: Path, payload: Any, name: str = "chat_history.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def test_current_export_becomes_messages(tmp_path: Path) -> None:
    report = parse_export(write(tmp_path, CURRENT))
    assert report.ok
    assert report.skipped == {"MEDIA": 1}
    items = [row.item for row in report.items]
    assert [i.text for i in items] == [
        "Bonjour, la piscine est-elle ouverte ?",
        "Oui, jusqu'à 20 h.",
        "Merci pour l'info",
    ]
    first = items[0]
    assert first.platform == "snapchat"
    assert first.kind is ItemKind.MESSAGE
    assert first.created_at == datetime(2024, 5, 1, 12, 3, 0, 123000, tzinfo=UTC)
    assert first.author.handle == "jeanne.d"
    assert first.author.url == "https://www.snapchat.com/add/jeanne.d"
    assert first.thread_id == "jeanne.d"
    assert first.url == ""
    assert first.raw == CURRENT["jeanne.d"][0]
    assert len(first.platform_id) == 64  # derived, as fileimport derives ids
    assert items[1].author.handle == "ville.exemple"
    assert items[2].thread_id == "7d0c1b2a-group"
    # Real line numbers of the pretty-printed file.
    lines = (tmp_path / "chat_history.json").read_text().splitlines()
    assert lines[report.items[0].line - 1].strip() == "{"
    assert '"From": "jeanne.d"' in lines[report.items[0].line]


def test_ids_are_stable_across_imports(tmp_path: Path) -> None:
    first = parse_export(write(tmp_path, CURRENT))
    again = parse_export(write(tmp_path, CURRENT, "again.json"))
    assert [r.item.platform_id for r in first.items] == [r.item.platform_id for r in again.items]


def test_old_export_shape(tmp_path: Path) -> None:
    report = parse_export(write(tmp_path, OLD), owner="ville.exemple")
    assert report.ok and report.skipped == {"STICKER": 1}
    received, sent = (row.item for row in report.items)
    assert received.text == "C'est fermé ?"
    assert (received.author.handle, received.thread_id) == ("jeanne.d", "jeanne.d")
    assert sent.text == "Oui, désolés"
    assert (sent.author.handle, sent.thread_id) == ("ville.exemple", "jeanne.d")
    assert sent.created_at == datetime(2022, 7, 22, 19, 30, tzinfo=UTC)
    without_owner = parse_export(write(tmp_path, OLD, "b.json"))
    assert without_owner.items[1].item.author.handle == "me"


def test_zip_export_is_read(tmp_path: Path) -> None:
    archive = tmp_path / "mydata~1714564980.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("html/chat_history.html", "<html></html>")
        zf.writestr("json/chat_history.json", json.dumps(CURRENT))
        zf.writestr("json/snap_history.json", "{}")
    report = parse_export(archive)
    assert report.ok and len(report.items) == 3


def test_malformed_messages_are_reported_with_reasons(tmp_path: Path) -> None:
    export = {
        "jeanne.d": [
            {"From": "jeanne.d", "Media Type": "TEXT", "Created": "hier", "Content": "a"},
            "not a message",
            {
                "From": "",
                "Media Type": "TEXT",
                "Created": "2024-05-01 12:00:00 UTC",
                "Content": "b",
            },
            {"From": "x", "Media Type": "TEXT", "Created": "2024-05-01 12:00:00 UTC", "Content": 3},
            {
                "From": "x",
                "Media Type": "TEXT",
                "Created": "2024-05-01 12:00:00 UTC",
                "Content": "c",
            },
            {
                "From": "x",
                "Media Type": "TEXT",
                "Created": "2024-05-01 12:00:00 UTC",
                "Content": "c",
            },
        ],
        "broken": {"From": "x"},
    }
    report = parse_export(write(tmp_path, export))
    reasons = [error.reason for error in report.errors]
    assert len(report.items) == 1
    assert len(reasons) == 6
    assert "field 'Created': hier is not a date" in reasons[0]
    assert "expected a message object, found text" in reasons[1]
    assert "field 'From' is empty" in reasons[2]
    assert "field 'Content': expected text, found a number" in reasons[3]
    assert "duplicate message" in reasons[4]
    assert "conversation 'broken': expected a list of messages, found an object" in reasons[5]
    assert all(error.line > 1 for error in report.errors)
    assert report.errors[1].text == '"not a message"'


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "chat_history.json", "empty"),
        (b'{"a": [', "chat_history.json", "not valid JSON"),
        (b"[1, 2]", "chat_history.json", "expected '{'"),
        (b'{"a": []} trailing', "chat_history.json", "after the export's object"),
        (b"\xff\xfe{", "chat_history.json", "not UTF-8"),
        (b"<html></html>", "chat_history.html", "HTML version"),
        (b'{"a": [NaN]}', "chat_history.json", "NaN"),
    ],
)
def test_malformed_files_are_refused(
    tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFormatError, match=message):
        parse_export(path)


def test_zip_without_chat_history_and_oversized_files(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("json/memories_history.json", "{}")
    with pytest.raises(ExportFormatError, match=r"no chat_history\.json"):
        parse_export(archive)
    with pytest.raises(ExportFormatError, match="limit"):
        parse_export(write(tmp_path, CURRENT), max_file_bytes=100)
    with pytest.raises(ExportFormatError, match="no such file"):
        parse_export(tmp_path / "missing.json")


def test_connector_fetches_and_resumes(tmp_path: Path) -> None:
    path = write(tmp_path, CURRENT)
    connector = SnapchatImportConnector({"path": str(path)}, {})
    items, cursor = drain(connector, {})
    assert len(items) == 3 and cursor["items"] == 3
    assert drain(connector, cursor)[0] == []


def test_connector_refuses_an_export_with_invalid_messages(tmp_path: Path) -> None:
    path = write(tmp_path, {"a": [{"From": "a", "Created": "x", "Content": "y"}]})
    with pytest.raises(MalformedPayload, match="1 invalid row"):
        drain(SnapchatImportConnector({"path": str(path)}, {}), {})
    with pytest.raises(ConfigurationError, match="no file to import"):
        drain(SnapchatImportConnector({}, {}), {})


def test_connector_declares_no_actions_with_the_reason() -> None:
    assert connector_class("snapchat") is SnapchatImportConnector
    connector = SnapchatImportConnector({}, {})
    assert connector.auth is AuthMethod.FILE
    assert connector.platform == "snapchat" and connector.label == "Snapchat (data export)"
    assert not connector.actions
    assert set(connector.not_supported) == {str(a) for a in Action}
    with pytest.raises(UnsupportedAction, match=r"Not supported by the platform.*no public API"):
        connector.reply(ItemRef("1"), "x")
    with pytest.raises(UnsupportedAction, match="Not supported by the platform"):
        connector.publish("x")


def test_map_item_maps_one_message() -> None:
    item = SnapchatImportConnector({}, {}).map_item(CURRENT["jeanne.d"][0], ItemKind.MESSAGE)
    assert item.kind is ItemKind.MESSAGE and item.text.startswith("Bonjour")
    with pytest.raises(MalformedPayload, match="no text"):
        SnapchatImportConnector({}, {}).map_item(CURRENT["jeanne.d"][2], ItemKind.MESSAGE)
