"""The file import connector: CSV and NDJSON files, Zeeschuimer exports, limits, errors.

Pure Python: no Django, no database. Run with ``pytest tests/test_fileimport.py -p no:django``.
"""

from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import (
    Action,
    ConfigurationError,
    FetchKind,
    ItemKind,
    ItemRef,
    MalformedPayload,
    UnsupportedAction,
)
from beffroi.connectors.fileimport import (
    BATCH_SIZE,
    FileConnector,
    ImportFormatError,
    ParseReport,
    file_sha256,
    guess_format,
    map_record,
    map_zeeschuimer,
    parse_date,
    parse_file,
    write_rejected,
)

HEADER = "id,text,created_at,author"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def ndjson(*objects: Any) -> str:
    return "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)


def reasons(report: ParseReport) -> dict[int, str]:
    return {error.line: error.reason for error in report.errors}


# --- CSV ------------------------------------------------------------------------------------


def test_good_csv(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.csv",
        "\ufeff"  # Excel's "CSV UTF-8" starts with a byte-order mark
        "id,platform,kind,text,created_at,author,author_id,author_name,url,language,"
        "likes,shares,replies,views,media,parent_id,thread_id,mood\r\n"
        '1,twitter,,"Bonjour, le ""quartier""\r\nsuite https://ville.fr/a.",'
        "2024-05-01T14:03:00+02:00,@mairie,42,Mairie,https://x.com/mairie/status/1,fr,"
        "3,1,0,120,https://cdn.example/a.jpg|https://cdn.example/b.mp4,,,happy\r\n"
        "\r\n"
        "2,instagram,,Merci !,2024-05-01 13:00:00,alice,,,,,,,,,,1,1,\r\n"
        "3,,reply,Réponse,1714572180,bob,,,,,,,,,https://cdn.example/c.ogg,2,1,\r\n",
    )
    report = parse_file(path)
    assert report.ok, report.errors
    assert report.format == "csv"
    assert len(report.sha256) == 64
    assert [row.line for row in report.items] == [2, 5, 6]
    first, second, third = (row.item for row in report.items)

    assert first.platform_id == "1"
    assert first.platform == "x"
    assert first.kind is ItemKind.POST
    assert first.text == 'Bonjour, le "quartier"\nsuite https://ville.fr/a.'
    assert first.created_at == datetime(2024, 5, 1, 12, 3, tzinfo=UTC)
    assert first.author.handle == "mairie"
    assert first.author.platform_id == "42"
    assert first.author.display_name == "Mairie"
    assert first.url == "https://x.com/mairie/status/1"
    assert first.language == "fr"
    assert first.metrics == {"likes": 3, "shares": 1, "replies": 0, "views": 120}
    assert [(m.kind, m.url) for m in first.media] == [
        ("image", "https://cdn.example/a.jpg"),
        ("video", "https://cdn.example/b.mp4"),
    ]
    assert first.urls == ("https://ville.fr/a",)
    assert first.raw["mood"] == "happy"  # unknown columns are kept
    assert first.raw["author"] == "@mairie"
    json.dumps(dict(first.raw))  # JSON-serialisable

    assert second.kind is ItemKind.COMMENT  # parent_id set, no kind
    assert second.parent_id == "1" and second.thread_id == "1"
    assert second.platform == "instagram"
    assert second.created_at == datetime(2024, 5, 1, 13, 0, tzinfo=UTC)
    assert second.author.platform_id == "alice"  # the handle when no author_id
    assert second.metrics == {}

    assert third.kind is ItemKind.REPLY
    assert third.platform == "file"  # the default platform
    assert third.created_at == datetime(2024, 5, 1, 14, 3, tzinfo=UTC)
    assert third.media[0].kind == "audio"


def test_default_platform_and_4cat_style_parent(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "4cat.csv",
        "id,thread_id,parent_id,timestamp,unix_timestamp,body,author,author_fullname\n"
        "C9abc,C9abc,C9abc,2024-05-01 12:03:00,1714564980,Un post,ville,Ville\n",
    )
    report = parse_file(path, default_platform="instagram")
    assert report.ok, report.errors
    item = report.items[0].item
    assert item.platform == "instagram"
    assert item.parent_id is None  # parent_id == id means no parent (4CAT writes it)
    assert item.kind is ItemKind.POST
    assert item.author.display_name == "Ville"
    # unix_timestamp is preferred over timestamp, both are kept in raw
    assert item.created_at == datetime(2024, 5, 1, 12, 3, tzinfo=UTC)
    assert item.raw["timestamp"] == "2024-05-01 12:03:00"


def test_aliases_case_and_semicolons(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "export.csv",
        "Post ID;Body;Published At;Screen-Name;Like_Count;RETWEET_COUNT;Permalink;Lang\n"
        "a1;Salut;2024-05-01T10:00:00Z;Bob;7;2;https://example.org/p/a1;en\n",
    )
    report = parse_file(path)
    assert report.ok, report.errors
    item = report.items[0].item
    assert item.platform_id == "a1"
    assert item.text == "Salut"
    assert item.created_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert item.author.handle == "Bob"
    assert item.metrics == {"likes": 7, "shares": 2}
    assert item.url == "https://example.org/p/a1"
    assert item.language == "en"


def test_tab_separated(tmp_path: Path) -> None:
    path = write(tmp_path, "items.tsv", "text\tdate\tuser\nbonjour\t1714564980\tann\n")
    report = parse_file(path)
    assert report.ok, report.errors
    assert report.items[0].item.author.handle == "ann"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T14:03:00+02:00", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
        ("2024-05-01T12:03:00Z", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
        ("2024-05-01T07:03:00-05:00", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
        ("2024-05-01T12:03:00", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
        ("2024-05-01 12:03:00", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
        ("2024-05-01T12:03:00.250Z", datetime(2024, 5, 1, 12, 3, 0, 250000, tzinfo=UTC)),
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("1714564980", datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
        (" 1714564980.5 ", datetime(2024, 5, 1, 12, 3, 0, 500000, tzinfo=UTC)),
        (1714564980, datetime(2024, 5, 1, 12, 3, tzinfo=UTC)),
    ],
)
def test_parse_date(value: object, expected: datetime) -> None:
    parsed = parse_date(value)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value", ["31/02/2024", "2024-02-31", "yesterday", "", "-5", "1e400", True, None, [1]]
)
def test_parse_date_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_same_instant_same_derived_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "tz.ndjson",
        ndjson(
            {"text": "a", "created_at": "2024-05-01T14:03:00+02:00", "author": "x"},
            {"text": "b", "created_at": 1714564980, "author": "x"},
            {"text": "c", "created_at": "2024-05-01 12:03:00", "author": "x"},
        ),
    )
    report = parse_file(path)
    assert report.ok, report.errors
    assert len({row.item.created_at for row in report.items}) == 1

    twice = write(
        tmp_path,
        "twice.ndjson",
        ndjson(
            {"text": "a", "created_at": "2024-05-01T14:03:00+02:00", "author": "x"},
            {"text": "a", "created_at": 1714564980, "author": "@x"},
        ),
    )
    report = parse_file(twice)
    assert reasons(report) == {
        2: "duplicate row: same platform, author, date and text as line 1",
    }


def test_bad_csv_rows_are_listed_with_line_and_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "id,text,created_at,author,likes,kind,url\n"
        "1,ok,2024-05-01T10:00:00Z,ann,,,\n"  # line 2: fine
        "2,bad date,31/02/2024,ann,,,\n"  # line 3
        "3,,2024-05-01T10:00:00Z,ann,,,\n"  # line 4: no text
        "4,negative,2024-05-01T10:00:00Z,ann,-3,,\n"  # line 5
        "5,kind,2024-05-01T10:00:00Z,ann,,tweet,\n"  # line 6
        "1,again,2024-05-01T10:00:00Z,ann,,,\n"  # line 7: duplicate id
        "6,no author,2024-05-01T10:00:00Z,,,,\n"  # line 8
        "7,link,2024-05-01T10:00:00Z,ann,,,javascript:alert(1)\n"  # line 9
        "8,short,2024-05-01T10:00:00Z\n"  # line 10: missing values
        '9,"never closed,2024-05-01T10:00:00Z,ann,,,\n',  # line 11: to the end
    )
    report = parse_file(path)
    assert not report.ok
    assert [row.item.platform_id for row in report.items] == ["1"]
    assert reasons(report) == {
        3: "column 'created_at': '31/02/2024' is not a date (expected ISO 8601, "
        "e.g. 2024-05-01T14:03:00+02:00, or unix epoch seconds)",
        4: "column 'text' is empty: every row needs a text, media or the item's address (url)",
        5: "column 'likes': '-3' is not a count (expected a whole number, 0 or more, "
        "e.g. 0, 12 or 3400)",
        6: "column 'kind': 'tweet' is not a kind "
        "(expected one of post, comment, reply, message, mention)",
        7: "duplicate id '1', first seen line 2",
        8: "column 'author' is empty: every row needs the author's handle",
        9: "column 'url': 'javascript:alert(1)' is not a web address "
        "(expected http:// or https://)",
        10: "this row has 3 values but the header has 7 columns "
        "(check the separators and the quotes)",
        11: "a quoted value opened here is never closed",
    }
    by_line = {error.line: error for error in report.errors}
    assert by_line[3].text == "2,bad date,31/02/2024,ann,,,"
    assert by_line[3].message.startswith("line 3: column 'created_at': '31/02/2024'")
    assert str(by_line[7]) == "line 7: duplicate id '1', first seen line 2"


def test_alias_named_in_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "body,published_at,username\nhi,soon,ann\n")
    assert reasons(parse_file(path)) == {
        2: "column 'published_at' (created_at): 'soon' is not a date (expected ISO 8601, "
        "e.g. 2024-05-01T14:03:00+02:00, or unix epoch seconds)"
    }


def test_milliseconds_get_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "ms.csv", "text,created_at,author\nhi,1714564980000,ann\n")
    assert "looks like milliseconds" in reasons(parse_file(path))[2]


def test_missing_required_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "cols.csv", "id,message,when,who\n1,hello,2024-05-01,ann\n")
    with pytest.raises(ImportFormatError) as caught:
        parse_file(path)
    message = str(caught.value)
    assert "lacks the required column(s) 'created_at', 'author'" in message
    assert "found 'id', 'message', 'when', 'who'" in message
    assert "created_at: created_at, unix_timestamp" in message
    assert isinstance(caught.value, ConfigurationError)


def test_csv_without_header(tmp_path: Path) -> None:
    path = write(tmp_path, "nohead.csv", "1,hello,2024-05-01T10:00:00Z,ann\n")
    with pytest.raises(ImportFormatError, match=r"lacks the required column.*must name its"):
        parse_file(path)


def test_empty_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.csv", "\n\n")
    with pytest.raises(ImportFormatError, match="the file is empty"):
        parse_file(path)


def test_ndjson_named_csv(tmp_path: Path) -> None:
    path = write(tmp_path, "oops.csv", ndjson({"text": "a", "created_at": 1, "author": "b"}))
    with pytest.raises(ImportFormatError, match="looks like NDJSON"):
        parse_file(path)


def test_duplicate_header(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", "text,Text,created_at,author\n")
    with pytest.raises(ImportFormatError, match=r"twice \(columns 1 and 2\)"):
        parse_file(path)


def test_blank_rows_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "blank.csv", f"{HEADER}\n,,,\n\n1,a,1714564980,ann\n,,,\n")
    report = parse_file(path)
    assert report.ok and [row.line for row in report.items] == [4]


# --- encodings and limits -------------------------------------------------------------------


def test_non_utf8_line_is_reported(tmp_path: Path) -> None:
    content = (
        f"{HEADER}\n1,ok,1714564980,ann\n".encode()
        + "2,café,1714564980,ann\n".encode("latin-1")
        + b"3,fine,1714564980,ann\n"
    )
    report = parse_file(write(tmp_path, "latin.csv", content))
    assert [row.item.platform_id for row in report.items] == ["1", "3"]
    [error] = report.errors
    assert error.line == 3
    assert error.reason.startswith("the line is not valid UTF-8 text (byte 0xE9 at position 6)")
    assert error.text == "2,caf\\xe9,1714564980,ann"


def test_non_utf8_in_ndjson(tmp_path: Path) -> None:
    content = b'{"text": "ok", "created_at": 1714564980, "author": "a"}\n{"text": "\xff"}\n'
    report = parse_file(write(tmp_path, "bad.ndjson", content))
    assert len(report.items) == 1
    assert report.errors[0].line == 2 and "UTF-8" in report.errors[0].reason


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "sheet.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
    with pytest.raises(ImportFormatError, match=r"binary file.*Excel workbook"):
        parse_file(path)


def test_utf16_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "u16.csv", "text,created_at,author\n".encode("utf-16"))
    with pytest.raises(ImportFormatError, match="UTF-16"):
        parse_file(path)


def test_nul_bytes_later_in_the_file(tmp_path: Path) -> None:
    lines = [f"{n},row {n},1714564980,ann" for n in range(1, 400)]
    content = f"{HEADER}\n" + "\n".join(lines) + "\n400,a\x00b,1714564980,ann\n"
    report = parse_file(write(tmp_path, "nul.csv", content.encode()))
    assert len(report.items) == 399
    assert reasons(report) == {401: "the line contains NUL bytes: this is binary data, not text"}


def test_oversized_row(tmp_path: Path) -> None:
    huge = "x" * 5000
    content = f"{HEADER}\n1,short,1714564980,ann\n2,{huge},1714564980,ann\n3,after,1714564980,ann\n"
    report = parse_file(write(tmp_path, "big.csv", content), max_row_bytes=1000)
    assert [row.item.platform_id for row in report.items] == ["1", "3"]
    [error] = report.errors
    assert error.line == 3
    assert error.reason == "the line is longer than 1,000 bytes, the limit for one row"
    assert error.text.startswith("2,xxx") and error.text.endswith("…")
    assert len(error.text) < 300  # the huge line is not kept


def test_oversized_quoted_field(tmp_path: Path) -> None:
    field = "\n".join(["y" * 90] * 30)  # many short lines, one huge value
    content = f'{HEADER}\n1,"{field}",1714564980,ann\n2,after,1714564980,ann\n'
    before = csv.field_size_limit()
    report = parse_file(write(tmp_path, "field.csv", content), max_row_bytes=1000)
    assert csv.field_size_limit() == before  # the process-wide limit is restored
    assert reasons(report)[2] == "a value is longer than the limit for one row"


def test_oversized_ndjson_line(tmp_path: Path) -> None:
    good = {"text": "ok", "created_at": 1714564980, "author": "a"}
    content = ndjson(good, {**good, "text": "z" * 3000, "id": "2"})
    report = parse_file(write(tmp_path, "big.ndjson", content), max_row_bytes=1000)
    assert len(report.items) == 1
    assert "longer than 1,000 bytes" in reasons(report)[2]


def test_file_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", f"{HEADER}\n" + "1,a,1714564980,ann\n" * 100)
    with pytest.raises(ImportFormatError, match="more than the limit of 1,000 bytes"):
        parse_file(path, max_file_bytes=1000)


def test_formats(tmp_path: Path) -> None:
    assert guess_format(Path("a.CSV")) == "csv"
    assert guess_format(Path("a.jsonl")) == "ndjson"
    assert guess_format(Path("a.ndjson")) == "ndjson"
    assert guess_format(Path("a.txt"), "NDJSON") == "ndjson"
    with pytest.raises(ImportFormatError, match=r"cannot tell the format.*'\.xlsx'"):
        guess_format(Path("a.xlsx"))
    with pytest.raises(ImportFormatError, match="unknown import format 'xml'"):
        guess_format(Path("a.csv"), "xml")
    path = write(tmp_path, "data.txt", f"{HEADER}\n1,a,1714564980,ann\n")
    assert parse_file(path, "csv").ok
    with pytest.raises(ImportFormatError, match="no such file"):
        parse_file(tmp_path / "missing.csv")


# --- NDJSON ---------------------------------------------------------------------------------


def test_good_ndjson(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "items.jsonl",
        ndjson(
            {
                "id": 17,
                "text": "Bonjour",
                "created_at": "2024-05-01T14:03:00+02:00",
                "author": {"id": "99", "handle": "@ville", "name": "Ville"},
                "likes": 4,
                "views": 10.0,
                "media": [
                    "https://cdn.example/a.png",
                    {"url": "https://cdn.example/v", "kind": "video", "description": "clip"},
                ],
                "extra": {"nested": [1, 2]},
            },
        )
        + "\n   \n"
        + ndjson(
            {"Body": "Réponse", "Timestamp": 1714572180, "user": "ann", "parent_id": "17"},
        ),
    )
    report = parse_file(path)
    assert report.ok, report.errors
    first, second = (row.item for row in report.items)
    assert first.platform_id == "17"
    assert first.author.platform_id == "99"
    assert first.author.handle == "ville"
    assert first.author.display_name == "Ville"
    assert first.metrics == {"likes": 4, "views": 10}
    assert [(m.kind, m.url, m.description) for m in first.media] == [
        ("image", "https://cdn.example/a.png", ""),
        ("video", "https://cdn.example/v", "clip"),
    ]
    assert first.raw["extra"] == {"nested": [1, 2]}
    assert second.kind is ItemKind.COMMENT and second.parent_id == "17"
    assert [row.line for row in report.items] == [1, 4]


def test_bad_ndjson_lines(tmp_path: Path) -> None:
    good = {"text": "ok", "created_at": 1714564980, "author": "a"}
    content = (
        ndjson({**good, "id": "1"})
        + '{"text": "oops", \n'  # line 2
        + "[1, 2]\n"  # line 3
        + ndjson({**good, "id": "1"})  # line 4
        + '{"text": "n", "created_at": NaN, "author": "a"}\n'  # line 5
        + ndjson({**good, "id": "2", "likes": -1})  # line 6
        + ndjson({**good, "id": "3", "text": ["a"]})  # line 7
        + ndjson({**good, "id": "4", "likes": True})  # line 8
        + "[" * 100_000
        + "\n"  # line 9
    )
    report = parse_file(write(tmp_path, "bad.ndjson", content))
    assert [row.item.platform_id for row in report.items] == ["1"]
    found = reasons(report)
    assert found[2].startswith("invalid JSON: Expecting property name enclosed in double quotes")
    assert found[3] == "expected a JSON object ({...}) on each line, found a list"
    assert found[4] == "duplicate id '1', first seen line 1"
    assert found[5] == "invalid JSON: NaN is not a number JSON allows"
    assert found[6].startswith("field 'likes': '-1' is not a count")
    assert found[7] == "field 'text': expected text, found a list"
    assert found[8].startswith("field 'likes': 'true' is not a count")
    assert found[9] == "the JSON is nested more than 64 levels deep (the limit)"
    assert report.errors[0].text == '{"text": "oops", '


def test_json_array_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "array.ndjson", '[\n  {"text": "a"}\n]\n')
    with pytest.raises(ImportFormatError, match="JSON array"):
        parse_file(path)


# --- Zeeschuimer / 4CAT ---------------------------------------------------------------------


def envelope(source_platform: str, data: dict[str, Any], item_id: str = "1") -> dict[str, Any]:
    """One line of a Zeeschuimer export, as the extension writes it."""
    return {
        "nav_index": "1:1:0",
        "item_id": item_id,
        "timestamp_collected": 1715000000000,
        "source_platform": source_platform,
        "source_platform_url": f"https://www.{source_platform}/",
        "source_url": f"https://www.{source_platform}/api/timeline",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "data": data,
    }


X_TWEET: dict[str, Any] = {
    "__typename": "Tweet",
    "rest_id": "1790000000000000001",
    "core": {
        "user_results": {
            "result": {
                "__typename": "User",
                "rest_id": "44196397",
                "is_blue_verified": True,
                "legacy": {
                    "screen_name": "VilleDeTest",
                    "name": "Ville de Test",
                    "followers_count": 12000,
                    "profile_image_url_https": "https://pbs.twimg.com/profile_images/1/a.jpg",
                },
            }
        }
    },
    "views": {"count": "5321", "state": "EnabledWithCount"},
    "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
    "legacy": {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "conversation_id_str": "1790000000000000000",
        "in_reply_to_status_id_str": "1790000000000000000",
        "in_reply_to_screen_name": "someone",
        "full_text": "@someone Merci pour votre message ! https://t.co/abc",
        "lang": "fr",
        "favorite_count": 12,
        "retweet_count": 3,
        "reply_count": 1,
        "quote_count": 0,
        "user_id_str": "44196397",
        "id_str": "1790000000000000001",
        "entities": {
            "hashtags": [],
            "user_mentions": [{"screen_name": "someone"}],
            "urls": [
                {
                    "url": "https://t.co/abc",
                    "display_url": "ville.fr/x",
                    "expanded_url": "https://ville.fr/x",
                }
            ],
        },
        "extended_entities": {
            "media": [
                {
                    "type": "photo",
                    "media_url_https": "https://pbs.twimg.com/media/F1.jpg",
                    "ext_alt_text": "Le beffroi",
                },
                {
                    "type": "video",
                    "media_url_https": "https://pbs.twimg.com/ext_tw_video_thumb/1.jpg",
                    "video_info": {
                        "variants": [
                            {"content_type": "application/x-mpegURL", "url": "https://v/1.m3u8"},
                            {
                                "content_type": "video/mp4",
                                "bitrate": 256000,
                                "url": "https://v/lo.mp4",
                            },
                            {
                                "content_type": "video/mp4",
                                "bitrate": 2176000,
                                "url": "https://v/hi.mp4",
                            },
                        ]
                    },
                },
            ]
        },
    },
}

IG_POST: dict[str, Any] = {
    "id": "3300000000000000001_55555",
    "pk": "3300000000000000001",
    "code": "C9abcDEFgh",
    "taken_at": 1714564980,
    "media_type": 8,
    "product_type": "carousel_container",
    "caption": {"pk": "17900000000000000", "text": "Fête de la musique au beffroi #ville"},
    "user": {
        "pk": "55555",
        "username": "ville_de_test",
        "full_name": "Ville de Test",
        "is_verified": True,
        "profile_pic_url": "https://scontent.cdninstagram.com/p.jpg",
    },
    "owner": {"pk": "55555", "id": "55555"},
    "like_count": 321,
    "comment_count": 14,
    "like_and_view_counts_disabled": False,
    "carousel_media": [
        {
            "media_type": 1,
            "accessibility_caption": "Photo by Ville de Test.",
            "image_versions2": {
                "candidates": [
                    {"url": "https://scontent.cdninstagram.com/1.jpg?stp=1", "width": 1080}
                ]
            },
        },
        {
            "media_type": 2,
            "video_versions": [
                {"url": "https://scontent.cdninstagram.com/2.mp4?efg=1", "type": 101}
            ],
            "image_versions2": {"candidates": [{"url": "https://scontent.cdninstagram.com/2.jpg"}]},
        },
    ],
    "_zs_instagram_view": "feed",
}

TIKTOK_POST: dict[str, Any] = {
    "id": "7360000000000000001",
    "desc": "Visite du beffroi #patrimoine",
    "createTime": "1714564980",
    "textLanguage": "fr",
    "author": {
        "id": "6800000000000000000",
        "uniqueId": "villedetest",
        "nickname": "Ville de Test",
        "verified": False,
    },
    "authorStats": {"followerCount": 3400, "heartCount": 90000, "videoCount": 120},
    "stats": {"diggCount": 1500, "shareCount": 42, "commentCount": 87, "playCount": 25000},
    "statsV2": {
        "diggCount": "1500",
        "shareCount": "42",
        "commentCount": "87",
        "playCount": "25000",
    },
    "video": {
        "id": "7360000000000000001",
        "duration": 30,
        "cover": "https://p16-sign.tiktokcdn.com/cover.jpeg?x-expires=1715000000",
        "playAddr": "https://v16-webapp.tiktok.com/play.mp4?x",
        "downloadAddr": "https://v16-webapp.tiktok.com/download.mp4?x",
    },
    "music": {"id": "1", "title": "son original - villedetest", "playUrl": ""},
    "challenges": [{"id": "1", "title": "patrimoine"}],
    "duetInfo": {"duetFromId": "0"},
}

TIKTOK_COMMENT: dict[str, Any] = {
    "cid": "7361000000000000001",
    "id": "7361000000000000001",
    "aweme_id": "7360000000000000001",
    "text": "Super visite !",
    "create_time": 1714570000,
    "digg_count": 5,
    "reply_id": "0",
    "reply_to_reply_id": "0",
    "reply_comment_total": 2,
    "comment_language": "fr",
    "stick_position": 0,
    "user": {"uid": "700", "unique_id": "fan_du_nord", "nickname": "Fan du Nord"},
    "share_info": {
        "url": "https://www.tiktok.com/@villedetest/video/7360000000000000001?share_comment_id=1",
        "title": "Visite du beffroi",
    },
}


def test_zeeschuimer_x(tmp_path: Path) -> None:
    line = envelope("x.com", X_TWEET, "1790000000000000001")
    report = parse_file(write(tmp_path, "zeeschuimer-export-x.com.ndjson", ndjson(line)))
    assert report.ok, report.errors
    item = report.items[0].item
    assert item.platform == "x"
    assert item.platform_id == "1790000000000000001"
    assert item.kind is ItemKind.COMMENT  # answers the conversation's root
    assert item.thread_id == item.parent_id == "1790000000000000000"
    assert item.text == "@someone Merci pour votre message ! https://t.co/abc"
    assert item.created_at == datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)
    assert item.author.handle == "VilleDeTest"
    assert item.author.platform_id == "44196397"
    assert item.author.display_name == "Ville de Test"
    assert item.author.url == "https://x.com/VilleDeTest"
    assert item.author.extra == {"followers": 12000, "verified": True}
    assert item.url == "https://x.com/VilleDeTest/status/1790000000000000001"
    assert item.language == "fr"
    assert item.metrics == {"likes": 12, "shares": 3, "replies": 1, "views": 5321, "quotes": 0}
    assert [(m.kind, m.url, m.description) for m in item.media] == [
        ("image", "https://pbs.twimg.com/media/F1.jpg", "Le beffroi"),
        ("video", "https://v/hi.mp4", ""),
    ]
    # the t.co wrapper in the text is the link above, expanded: not a link of its own
    assert item.urls == ("https://ville.fr/x",)
    assert item.raw == line


def test_zeeschuimer_x_variants() -> None:
    # 2025 format: screen_name under core; a retweet; twitter.com as source
    tweet = copy.deepcopy(X_TWEET)
    user = tweet["core"]["user_results"]["result"]
    user["core"] = {"screen_name": "NouveauNom", "name": "Nouveau"}
    del user["legacy"]["screen_name"], user["legacy"]["name"]
    legacy = tweet["legacy"]
    legacy["in_reply_to_status_id_str"] = None
    legacy["conversation_id_str"] = tweet["rest_id"]
    legacy["lang"] = "qme"
    legacy["retweeted_status_result"] = {
        "result": {
            "__typename": "Tweet",
            "core": {"user_results": {"result": {"legacy": {"screen_name": "Source"}}}},
            "legacy": {"full_text": "Le texte entier du message d'origine"},
        }
    }
    item = map_zeeschuimer(envelope("twitter.com", tweet))
    assert item.author.handle == "NouveauNom" and item.author.display_name == "Nouveau"
    assert item.kind is ItemKind.POST and item.parent_id is None
    assert item.text == "RT @Source: Le texte entier du message d'origine"
    assert item.language is None

    # an older "adaptive" capture: id and user outside "core"
    old = {
        "id": 42,
        "type": "adaptive",
        "legacy": {**X_TWEET["legacy"], "id_str": "42", "in_reply_to_status_id_str": None},
        "user": {"screen_name": "ancien", "name": "Ancien", "id_str": "7"},
    }
    item = map_zeeschuimer(envelope("twitter.com", old))
    assert item.platform_id == "42" and item.author.handle == "ancien"


def test_zeeschuimer_instagram(tmp_path: Path) -> None:
    line = envelope("instagram.com", IG_POST)
    grid = copy.deepcopy(IG_POST)
    grid["pk"] = "3300000000000000002"
    del grid["taken_at"]
    ad = {**IG_POST, "pk": "3", "product_type": "ad"}
    content = ndjson(line, envelope("instagram.com", grid), envelope("instagram.com", ad))
    report = parse_file(write(tmp_path, "ig.ndjson", content))
    item = report.items[0].item
    assert item.platform == "instagram"
    assert item.platform_id == "3300000000000000001"
    assert item.kind is ItemKind.POST
    assert item.text == "Fête de la musique au beffroi #ville"
    assert item.created_at == datetime(2024, 5, 1, 12, 3, tzinfo=UTC)
    assert item.author.handle == "ville_de_test"
    assert item.author.platform_id == "55555"
    assert item.author.display_name == "Ville de Test"
    assert item.url == "https://www.instagram.com/p/C9abcDEFgh/"
    assert item.metrics == {"likes": 321, "replies": 14}
    assert [(m.kind, m.url) for m in item.media] == [
        ("image", "https://scontent.cdninstagram.com/1.jpg?stp=1"),
        ("video", "https://scontent.cdninstagram.com/2.mp4?efg=1"),
    ]
    assert item.media[0].description == "Photo by Ville de Test."
    assert reasons(report) == {
        2: "instagram.com item (Zeeschuimer): the item has no date: Zeeschuimer captured it "
        "from a grid or thumbnail view, which leaves the date out",
        3: "instagram.com item (Zeeschuimer): this item is an advertisement, not a post "
        "(4CAT skips them too)",
    }


def test_zeeschuimer_instagram_without_caption() -> None:
    post = {**IG_POST, "caption": None}
    item = map_zeeschuimer(envelope("instagram.com", post))
    assert item.text == ""


def test_zeeschuimer_tiktok(tmp_path: Path) -> None:
    content = ndjson(
        envelope("tiktok.com", TIKTOK_POST), envelope("tiktok-comments", TIKTOK_COMMENT)
    )
    report = parse_file(write(tmp_path, "tiktok.ndjson", content))
    assert report.ok, report.errors
    video, comment = (row.item for row in report.items)
    assert video.platform == "tiktok"
    assert video.platform_id == "7360000000000000001"
    assert video.kind is ItemKind.POST
    assert video.text == "Visite du beffroi #patrimoine"
    assert video.created_at == datetime(2024, 5, 1, 12, 3, tzinfo=UTC)
    assert video.author.handle == "villedetest"
    assert video.author.platform_id == "6800000000000000000"
    assert video.url == "https://www.tiktok.com/@villedetest/video/7360000000000000001"
    assert video.metrics == {"likes": 1500, "shares": 42, "replies": 87, "views": 25000}
    assert video.media[0].url == "https://v16-webapp.tiktok.com/download.mp4?x"
    assert video.language == "fr"

    assert comment.platform == "tiktok"
    assert comment.kind is ItemKind.COMMENT
    assert comment.thread_id == comment.parent_id == "7360000000000000001"
    assert comment.author.handle == "fan_du_nord"
    assert comment.metrics == {"likes": 5, "replies": 2}

    answer = {**TIKTOK_COMMENT, "cid": "2", "reply_id": "7361000000000000001"}
    item = map_zeeschuimer(envelope("tiktok-comments", answer))
    assert item.kind is ItemKind.REPLY and item.parent_id == "7361000000000000001"


def test_zeeschuimer_errors(tmp_path: Path) -> None:
    broken_tiktok = {**TIKTOK_POST, "createTime": "hier"}
    no_author = {**TIKTOK_POST, "author": None}
    content = ndjson(
        envelope("linkedin.com", {"urn": "1"}),
        envelope("x.com", {"rest_id": "1"}),
        envelope("tiktok.com", broken_tiktok),
        envelope("tiktok.com", no_author),
        envelope("x.com", {**X_TWEET, "legacy": {**X_TWEET["legacy"], "created_at": "hier"}}),
    )
    report = parse_file(write(tmp_path, "z.ndjson", content))
    assert report.items == []
    found = reasons(report)
    assert found[1].startswith(
        "field 'source_platform': 'linkedin.com' is not supported by the file import "
        "(supported: instagram.com,"
    )
    assert found[2] == (
        "x.com item (Zeeschuimer): field 'data.legacy' is missing: this is not a post X sent"
    )
    assert found[3].startswith(
        "tiktok.com item (Zeeschuimer): field 'data.createTime': 'hier' is not a date"
    )
    assert found[4] == (
        "tiktok.com item (Zeeschuimer): field 'data.author.uniqueId' is empty: "
        "every row needs the author's handle"
    )
    assert found[5].startswith("x.com item (Zeeschuimer): field 'data.legacy.created_at': 'hier'")


def test_mixed_platforms_in_one_file(tmp_path: Path) -> None:
    content = ndjson(
        envelope("x.com", X_TWEET),
        envelope("instagram.com", IG_POST),
        {"text": "à la main", "created_at": 1714564980, "author": "agent", "platform": "facebook"},
    )
    report = parse_file(write(tmp_path, "mixed.ndjson", content))
    assert report.ok, report.errors
    assert [row.item.platform for row in report.items] == ["x", "instagram", "facebook"]


# --- stable ids, rejected rows --------------------------------------------------------------


def test_derived_ids_are_stable(tmp_path: Path) -> None:
    content = "text,created_at,author\nun,1714564980,ann\ndeux,1714564980,ann\n"
    first = parse_file(write(tmp_path, "a.csv", content))
    again = parse_file(write(tmp_path, "b.csv", content))
    ids = [row.item.platform_id for row in first.items]
    assert ids == [row.item.platform_id for row in again.items]
    assert len(set(ids)) == 2
    assert all(len(i) == 64 and int(i, 16) >= 0 for i in ids)
    assert first.sha256 == again.sha256 == file_sha256(tmp_path / "a.csv")

    # the same row written differently (offset, @, spaces) is the same item
    other = "text,created_at,author\n un ,2024-05-01T14:03:00+02:00,@ann\n"
    assert parse_file(write(tmp_path, "c.csv", other)).items[0].item.platform_id == ids[0]
    # another platform gives another id
    platform = "text,created_at,author,platform\nun,1714564980,ann,x\n"
    assert parse_file(write(tmp_path, "d.csv", platform)).items[0].item.platform_id != ids[0]


def test_write_rejected(tmp_path: Path) -> None:
    content = f'{HEADER}\n1,ok,1714564980,ann\n2,"a, ""b""",never,ann\n3,,1714564980,ann\n'
    report = parse_file(write(tmp_path, "r.csv", content))
    target = tmp_path / "r.csv.rejected.csv"
    assert write_rejected(target, report.errors) == 2
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["line", "reason", "original"]
    assert rows[1][0] == "3"
    assert rows[1][1].startswith("column 'created_at': 'never' is not a date")
    assert rows[1][2] == '2,"a, ""b""",never,ann'
    assert rows[2] == [
        "4",
        "column 'text' is empty: every row needs a text, media or the item's address (url)",
        "3,,1714564980,ann",
    ]


# --- the connector --------------------------------------------------------------------------


def test_map_record_and_map_item() -> None:
    row = {"text": "hello", "created_at": "1714564980", "author": "ann"}
    item = map_record(row)
    assert item.platform == "file" and item.kind is ItemKind.POST
    connector = FileConnector({}, {})
    assert connector.map_item(row, ItemKind.MENTION).kind is ItemKind.MENTION
    with pytest.raises(MalformedPayload, match="column 'created_at': 'x' is not a date"):
        connector.map_item({**row, "created_at": "x"}, ItemKind.POST)
    assert connector.map_item(envelope("x.com", X_TWEET), ItemKind.POST).platform == "x"


def test_connector_fetch_in_batches(tmp_path: Path) -> None:
    count = 2 * BATCH_SIZE + 3
    rows = "".join(f"{n},row {n},{1714564980 + n},ann\n" for n in range(count))
    path = write(tmp_path, "many.csv", f"{HEADER}\n{rows}")
    connector = FileConnector({"path": str(path)}, {})
    assert connector.platform == "file" and connector.label == "File import"
    assert connector.fetches == frozenset({FetchKind.FILE})
    assert connector.options["path"].required is False

    batches = list(connector.fetch({}))
    assert [len(batch.items) for batch in batches] == [BATCH_SIZE, BATCH_SIZE, 3]
    sha = parse_file(path).sha256
    assert [dict(batch.cursor) for batch in batches] == [
        {"path": str(path), "sha256": sha, "items": BATCH_SIZE},
        {"path": str(path), "sha256": sha, "items": 2 * BATCH_SIZE},
        {"path": str(path), "sha256": sha, "items": count},
    ]
    assert batches[2].items[-1].platform_id == str(count - 1)

    # resuming after the first batch yields the rest; a finished file yields nothing
    resumed = list(connector.fetch(batches[0].cursor))
    assert [len(batch.items) for batch in resumed] == [BATCH_SIZE, 3]
    assert list(connector.fetch(batches[-1].cursor)) == []
    # a changed file is read again from the start
    path.write_text(f"{HEADER}\n{rows}9999,new,1714564980,ann\n", encoding="utf-8")
    assert sum(len(b.items) for b in connector.fetch(batches[-1].cursor)) == count + 1


def test_connector_refuses_invalid_files(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", f"{HEADER}\n1,a,never,ann\n2,,1714564980,ann\n")
    connector = FileConnector({"path": str(path)}, {})
    with pytest.raises(MalformedPayload) as caught:
        list(connector.fetch({}))
    assert str(caught.value).startswith("bad.csv: 2 invalid row(s), nothing was imported: line 2:")
    assert "line 3: column 'text' is empty" in str(caught.value)
    with pytest.raises(ConfigurationError, match="no file to import"):
        list(FileConnector({}, {}).fetch({}))
    ndjson_path = write(tmp_path, "data.txt", ndjson({"text": "a", "created_at": 1, "author": "b"}))
    assert (
        len(list(FileConnector({"path": str(ndjson_path), "format": "ndjson"}, {}).fetch({}))) == 1
    )


def test_connector_cannot_act() -> None:
    connector = FileConnector({}, {})
    ref = ItemRef(platform_id="1")
    calls = [
        lambda: connector.reply(ref, "merci"),
        lambda: connector.hide(ref),
        lambda: connector.unhide(ref),
        lambda: connector.delete(ref),
        lambda: connector.publish("bonjour"),
        lambda: connector.report(ref, "spam"),
    ]
    for call in calls:
        with pytest.raises(UnsupportedAction, match="A file import cannot act on a platform"):
            call()
    assert not any(connector.supports(action) for action in Action)


def test_no_django_import() -> None:
    code = (
        "import sys, beffroi.connectors.fileimport; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
