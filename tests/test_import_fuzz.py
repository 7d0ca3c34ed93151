"""Fuzzing ``beffroi import`` (issue 11): whatever the file holds, the command ends with 0 (every
valid row stored, the count it prints is the count in the database) or 2 (nothing stored, a
message naming the row or the file), never with a traceback or a partial import."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import traceback
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from beffroi.audit.models import AuditEvent
from beffroi.cli import main
from beffroi.connectors.fileimport import DEFAULT_MAX_ROW_BYTES
from beffroi.items.models import Item

# Mostly valid values, so that whole files get stored too, mixed with hostile ones: what no
# database stores (lone surrogates, NUL), separators and quotes, a field over the row limit.
HOSTILE_CHARS = st.sampled_from(["\ud800", "\udfff", "\x00", "\n", "\r", '"', ",", ";", "\t"])
SHORT_TEXT = st.text(alphabet=st.one_of(st.characters(), HOSTILE_CHARS), max_size=8)
HUGE = st.just(None).map(lambda _: "x" * (DEFAULT_MAX_ROW_BYTES + 1))
TEXT = st.one_of(
    st.text(min_size=1, max_size=30).map(lambda text: "t " + text),
    st.text(min_size=1, max_size=30).map(lambda text: "t " + text),
    st.text(alphabet=st.one_of(st.characters(), HOSTILE_CHARS), max_size=30),
    st.sampled_from(["", " ", "=1+1", "@mairie"]),
    HUGE,
)
HANDLE = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True), SHORT_TEXT)
DATE = st.one_of(
    st.integers(min_value=0, max_value=2 * 10**9),
    st.integers(min_value=0, max_value=2 * 10**9),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["2024-05-01T14:03:00+02:00", "2024-05-01 12:03:00", "31/02/2024", ""]),
    SHORT_TEXT,
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | SHORT_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(SHORT_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)
COLUMNS = st.lists(
    st.sampled_from(["text", "created_at", "author", "id", "likes", "url", "kind", "parent_id"])
    | SHORT_TEXT,
    min_size=1,
    max_size=6,
)
ROW = st.fixed_dictionaries(
    {"text": TEXT, "created_at": DATE, "author": HANDLE},
    optional={"id": HANDLE, "likes": JSON_VALUE, "url": SHORT_TEXT, "extra": JSON_VALUE},
)
# Rows a correct exporter writes: the whole file is stored.
SAFE_TEXT = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30
)
VALID_ROW = st.fixed_dictionaries(
    {
        "text": SAFE_TEXT.map(lambda text: "t " + text),
        "created_at": st.integers(min_value=0, max_value=2 * 10**9),
        "author": st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True),
    },
    optional={
        "likes": st.integers(min_value=0, max_value=10**6),
        "extra": st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | SAFE_TEXT,
            lambda children: (
                st.lists(children, max_size=3) | st.dictionaries(SAFE_TEXT, children, max_size=3)
            ),
            max_leaves=6,
        ),
    },
)
# Raw lines dropped anywhere in the file: bad UTF-8, binary, JSON nested very deeply.
RAW_LINE = st.one_of(
    st.binary(max_size=20),
    st.sampled_from([b"\xff\xfe", b"\xed\xa0\x80", b"caf\xe9", b"\x00\x00", b"[]", b"{", b"null"]),
    st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=60, max_value=200).map(
        lambda depth: (
            b'{"text": "t", "created_at": 1, "author": "a", "x": '
            + b"[" * depth
            + b"]" * depth
            + b"}"
        )
    ),
)


@st.composite
def import_files(draw: Any) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(["csv", "ndjson"]))
    hostile = draw(st.booleans())
    if hostile:
        rows = draw(st.lists(ROW, max_size=6))
    else:
        rows = [{"id": f"r{n}", **row} for n, row in enumerate(draw(st.lists(VALID_ROW)))]
    lines: list[bytes] = []
    if fmt == "csv":
        standard = ["id", "text", "created_at", "author", "likes"]
        columns = draw(st.one_of(st.just(standard), COLUMNS)) if hostile else standard
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
        # Surrogates become bytes that are not UTF-8, as a broken exporter writes them.
        lines = buffer.getvalue().encode("utf-8", "surrogatepass").splitlines(keepends=True)
    else:
        lines = [json.dumps(row).encode() + b"\n" for row in rows]
    for raw in draw(st.lists(RAW_LINE, max_size=2)) if hostile else []:
        lines.insert(draw(st.integers(min_value=0, max_value=len(lines))), raw + b"\n")
    return fmt, b"".join(lines)


names = itertools.count()


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(generated=import_files())
def test_import_is_all_or_nothing_and_never_crashes(
    org: Any, tmp_path: Path, generated: tuple[str, bytes]
) -> None:
    fmt, content = generated
    source = f"fuzz-{next(names)}"
    path = tmp_path / f"{source}.{fmt}"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["import", str(path), "--org", org.slug, "--source", source])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        pytest.fail(f"traceback:\n{trace}\noutput:\n{result.output}")
    assert result.exit_code in (0, 2), result.output
    event(f"exit code {result.exit_code}")
    stored = Item.objects.filter(organization=org, source__name=source).count()
    if result.exit_code == 0:
        reported = re.search(r"Imported (\d+) new item\(s\); 0 already there", result.output)
        assert reported is not None, result.output
        assert int(reported.group(1)) == stored > 0
        audit = AuditEvent.objects.get(action="source.import", after__file=path.name)
        assert audit.after["created"] == stored
    else:
        assert stored == 0, result.output
        assert "Nothing was imported" in result.output or "nothing was imported" in result.output
        assert re.search(r"line \d+", result.output) or path.name in result.output
        assert not AuditEvent.objects.filter(action="source.import", after__file=path.name).exists()
