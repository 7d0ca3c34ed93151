"""The library as CSV and JSON: an export imports back as it was, and a wrong file is refused
as a whole with every problem, its row and its column, and nothing stored."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest

from beffroi import config, egress
from beffroi.audit.models import AuditEvent
from beffroi.core.exports import csv_cell
from beffroi.counterspeech import services
from beffroi.counterspeech.io import read_entries, undefuse
from beffroi.counterspeech.models import Entry, EntryVersion
from beffroi.counterspeech.services import ImportRefused
from beffroi.counterspeech.validation import SourceData
from tests.counterspeech.conftest import entry_data

pytestmark = pytest.mark.django_db

#: What the export writes for its reader and the import does not read.
INFORMATIONAL = {"state", "library", "version", "uses"}


def _library(desk: Any) -> None:
    """Entries whose texts a spreadsheet would take for formulas, on several lines, in three
    languages and scripts, with and without sources and dates."""
    services.create_entry(
        desk.ctx(desk.writer),
        entry_data(
            title="-20 % de cambriolages",
            strategy="facts",
            targets=["migrants", "people_of_colour"],
            topics=["sécurité", "chiffres 2026"],
            licence="CC-BY-4.0",
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
            texts=[
                (
                    "fr",
                    "=Les chiffres : -20 %, +3 % ailleurs; -5 % en ville.\nSource : la préfecture.",
                ),
                ("en", "@everyone burglaries fell, -20%."),
                ("ar", "انخفضت السرقات بنسبة 20٪."),
            ],
            sources=[
                SourceData("https://www.example.org/stats?annee=2026&x=1", "Statistiques, -20 %"),
                SourceData("https://www.example.org/prefecture", ""),
            ],
        ),
    )
    services.create_entry(
        desk.ctx(desk.writer),
        entry_data(
            title="Empathie",
            strategy="empathy",
            tone="warm",
            targets=[],
            topics=[],
            licence="all-rights-reserved",
            texts=[("fr", "Je comprends votre colère ; parlons-en.")],
            sources=[],
        ),
        submit=True,
    )


def _comparable(document: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(
        ({k: v for k, v in e.items() if k not in INFORMATIONAL} for e in document["entries"]),
        key=lambda e: e["title"],
    )


@pytest.mark.parametrize("file_format", ["csv", "json"])
def test_an_export_imports_back_as_it_was(desk: Any, cell: Any, file_format: str) -> None:
    _library(cell)
    exported = services.export_entries(cell.ctx(cell.viewer), file_format)
    imported = services.import_entries(desk.ctx(desk.admin), exported.encode(), file_format)
    assert len(imported) == 2
    assert {entry.state for entry in imported} == {Entry.State.DRAFT}
    assert {entry.author for entry in imported} == {desk.admin}
    assert {entry.origin for entry in imported} == {Entry.Origin.IMPORTED}
    assert set(
        EntryVersion.objects.filter(entry__in=imported).values_list("reason", flat=True)
    ) == {"imported"}
    again = json.loads(services.export_entries(desk.ctx(desk.viewer), "json"))
    original = json.loads(services.export_entries(cell.ctx(cell.viewer), "json"))
    assert _comparable(again) == _comparable(original)
    # The texts that a spreadsheet would run came back as written.
    texts = {e["title"]: e["texts"] for e in again["entries"]}
    assert texts["-20 % de cambriolages"]["fr"].startswith("=Les chiffres : -20 %, +3 %")
    assert texts["-20 % de cambriolages"]["en"] == "@everyone burglaries fell, -20%."
    # One audit event for the whole file.
    event = AuditEvent.objects.get(action="counter_speech.import")
    assert event.organization == desk.org and event.after["entries"] == 2


def test_the_csv_is_one_row_per_entry_with_a_column_per_language_and_safe_cells(
    desk: Any,
) -> None:
    _library(desk)
    exported = services.export_entries(desk.ctx(desk.viewer), "csv")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 2
    assert list(rows[0])[-3:] == ["text_ar", "text_en", "text_fr"]
    by_title = {undefuse(row["title"]): row for row in rows}
    first = by_title["-20 % de cambriolages"]
    # Nothing starts as a formula in a spreadsheet.
    assert first["title"].startswith("'-") and first["text_fr"].startswith("'=")
    assert first["text_en"].startswith("'@")
    assert first["targets"] == "migrants|people_of_colour"
    assert first["sources"].splitlines()[1] == "https://www.example.org/prefecture"
    assert by_title["Empathie"]["text_en"] == "" and by_title["Empathie"]["state"] == "in_review"


def test_a_semicolon_csv_from_a_french_spreadsheet_is_read(desk: Any) -> None:
    content = (
        "\ufeffstrategy;title;text_fr;valid_until;targets;tone\n"
        "facts;Eau;L'eau est potable.;31/12/2026;Migrants|WOMEN;Calm\n"
    ).encode()
    [entry] = services.import_entries(desk.ctx(desk.admin), content, "csv", submit=True)
    assert entry.state == Entry.State.IN_REVIEW
    assert entry.valid_until == date(2026, 12, 31)
    assert entry.targets == ["migrants", "women"] and entry.tone == "calm"


def test_undefuse_reverses_the_export_defusing() -> None:
    for text in ["=1+1", "-20 %", "a, -b; =c", "@x", "+33 1 23", "plain", "'quoted'"]:
        assert undefuse(csv_cell(text)) == text


def _refused(desk: Any, content: bytes, file_format: str = "csv") -> list[str]:
    with pytest.raises(ImportRefused) as refused:
        services.import_entries(desk.ctx(desk.admin), content, file_format)
    assert not Entry.objects.exists()
    assert not AuditEvent.objects.filter(action="counter_speech.import").exists()
    return refused.value.sentences


def test_a_file_not_in_utf8_is_refused(desk: Any) -> None:
    content = "strategy,text_fr\nfacts,L'été est chaud\n".encode("cp1252")
    [sentence] = _refused(desk, content)
    assert "not UTF-8 text" in sentence and "byte 26" in sentence


def test_missing_and_unknown_columns_are_refused(desk: Any) -> None:
    sentences = _refused(desk, b"title,strategie,text_fr,text_fr\nEau,facts,x,y\n")
    assert "Column 'strategy': the column is missing: every entry has a strategy." in sentences
    assert any(
        s.startswith("Column 'strategie': the library reads no such column") for s in sentences
    )
    assert "Column 'text_fr': the column appears twice." in sentences
    assert _refused(desk, b"strategy,title\nfacts,Eau\n") == [
        "Column 'text_xx': no text column: give one per language (text_fr, text_en…)."
    ]


def test_every_bad_row_is_reported_with_its_row_and_column(desk: Any) -> None:
    content = (
        b"strategy,text_fr,text_en,targets,licence,valid_from,sources\n"
        b"facts,Bon,,,,,\n"  # row 2: fine
        b"insult,Texte,,,,,\n"  # row 3
        b"facts,,,,,,\n"  # row 4: no text at all
        b"facts,Texte,,martians,GPL,2026-13-01,\n"  # row 5
        b'facts,Texte,,,,,"ftp://example.org/a\nhttps://example.org/b Titre"\n'  # row 6
        b"facts,Texte,,,,\n"  # row 7: a cell short
    )
    sentences = _refused(desk, content)
    assert sentences == [
        "Row 3, column 'strategy': 'insult' is not a strategy; the strategies are: facts, "
        "denouncing, empathy, humour, hypocrisy, question, consequences, positive, other.",
        "Row 4: Write the entry's text in at least one language.",
        "Row 5, column 'licence': 'GPL' is not a licence the library knows; the licences are: "
        "etalab-2.0, CC-BY-4.0, CC-BY-SA-4.0, CC0-1.0, all-rights-reserved.",
        "Row 5, column 'targets': 'martians' is not a targeted group; the groups are: muslims, "
        "jews, migrants, lgbt, women, disabilities, people_of_colour, roma_travellers, "
        "elected_officials, public_agents, other.",
        "Row 5, column 'valid_from': '2026-13-01' is not a day (write it 2026-12-31).",
        "Row 6, column 'sources': 'ftp://example.org/a' is not a web address (it must start "
        "with https:// or http://).",
        "Row 7: it has 6 cells where the header has 7.",
    ]


def test_an_internal_address_is_refused_unless_the_operator_allowed_it(
    desk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(egress.ENV_VARIABLE, raising=False)
    for address in (
        "http://127.0.0.1:8000/admin",
        "http://0x7f000001/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/",
        "https://intranet/",
        "https://nas.local/",
    ):
        content = f"strategy,text_fr,sources\nfacts,Texte,{address}\n".encode()
        [sentence] = _refused(desk, content)
        assert sentence.startswith("Row 2, column 'sources': '")
        assert "points inside the server's own network" in sentence, address
    monkeypatch.setenv(egress.ENV_VARIABLE, "127.0.0.1")
    content = b"strategy,text_fr,sources\nfacts,Texte,http://127.0.0.1:8000/page\n"
    assert len(services.import_entries(desk.ctx(desk.admin), content, "csv")) == 1


def test_a_language_given_twice_in_json_is_refused(desk: Any) -> None:
    content = b'{"entries": [{"strategy": "facts", "texts": {"fr": "Un", "fr": "Deux"}}]}'
    assert _refused(desk, content, "json") == [
        "Entry 1, field 'texts.fr': The language fr is given twice."
    ]


def test_malformed_json_is_refused_with_where_and_why(desk: Any) -> None:
    [sentence] = _refused(desk, b'{"entries": [{"strategy": "facts",}]}', "json")
    assert sentence.startswith("The file is not valid JSON (line 1, column 35")
    sentences = _refused(
        desk,
        json.dumps(
            {
                "entries": [
                    {"strategy": "facts", "texts": {"fr": ""}},
                    {"strategy": "facts", "texts": {"fr": "x"}, "targets": "women", "colour": 1},
                    "not an object",
                ]
            }
        ).encode(),
        "json",
    )
    assert sentences == [
        "Entry 1, field 'texts.fr': The text in fr is empty.",
        "Entry 2, field 'colour': the library reads no such field.",
        "Entry 2, field 'targets': must be a list of texts.",
        "Entry 3: an entry is an object with named fields.",
    ]


def test_a_file_too_large_is_refused_before_it_is_read(desk: Any) -> None:
    content = b"strategy,text_fr\n" + b"a" * config.MAX_UPLOAD_BYTES
    assert _refused(desk, content) == ["The file is larger than 10 MB."]


def test_too_many_entries_are_refused(desk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from beffroi.counterspeech import io as library_io

    monkeypatch.setattr(library_io, "MAX_ENTRIES", 2)
    content = b"strategy,text_fr\nfacts,a\nfacts,b\nfacts,c\n"
    assert _refused(desk, content) == ["The file holds more than 2 entries: split it."]


def test_an_entry_is_not_imported_twice(desk: Any) -> None:
    _library(desk)
    exported = services.export_entries(desk.ctx(desk.viewer), "json").encode()
    with pytest.raises(ImportRefused) as refused:
        services.import_entries(desk.ctx(desk.admin), exported, "json")
    assert len(refused.value.sentences) == 2
    assert refused.value.sentences[0].startswith(
        "Entry 1, field 'key': an entry with this key is already in the library"
    )
    assert Entry.objects.count() == 2


def test_reading_reports_nothing_for_a_good_file() -> None:
    rows, problems = read_entries(b"strategy,text_fr,topics\nhumour,Rions-en,a|b| a \n", "csv")
    assert problems == []
    assert rows[0].number == 2 and rows[0].data.topics == ("a", "b")
    assert rows[0].data.title == "Rions-en"
