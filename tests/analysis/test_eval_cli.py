"""``beffroi eval moderation``: metrics on a labelled file, learning first, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from beffroi.cli import main

ROWS = [
    ("Je vais te tuer, sale connard.", "hateful"),
    ("Fils de pute, on va te retrouver.", "hateful"),
    ("Merci pour l'information sur la piscine municipale.", "non-hateful"),
    ("Quand rouvre la médiathèque ?", "non-hateful"),
    ("Bonne journée à toute l'équipe de la mairie.", "non-hateful"),
]


def _write(path: Path, rows: list[tuple[str, str]], delimiter: str = ",") -> Path:
    lines = [f"id{delimiter}text{delimiter}label"]
    for number, (text, label) in enumerate(rows, start=1):
        quoted = '"' + text.replace('"', '""') + '"'
        lines.append(f"{number}{delimiter}{quoted}{delimiter}{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["eval", "moderation", *args])
    return result.exit_code, result.output


def test_rules_only_counts_every_row(tmp_path: Path) -> None:
    data = _write(tmp_path / "labelled.csv", ROWS)
    code, output = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "label",
        "--positive", "hateful", "--detectors", "rules", "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output[output.index("{") :])
    assert report["n"] == 5
    assert report["positives"] == 2
    assert report["true_positives"] == 2
    assert report["false_positives"] == 0
    assert report["precision"] == 1.0
    assert report["recall"] == 1.0
    assert report["f1"] == 1.0
    assert report["items_per_second"] > 0
    assert set(report["detectors"]) == {"rules"}


def test_negated_positive_and_label_separator(tmp_path: Path) -> None:
    rows = [("Sale connard.", "offensive_hateful"), ("Belle journée.", "normal")]
    data = _write(tmp_path / "mlma.tsv", rows, delimiter="\t")
    code, output = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "label",
        "--positive", "!normal", "--label-separator", "_", "--detectors", "rules", "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output[output.index("{") :])
    assert report["positives"] == 1
    assert report["positive"] == "!normal"


def test_learning_from_the_same_file_leaves_those_rows_out(tmp_path: Path) -> None:
    data = _write(tmp_path / "labelled.csv", ROWS)
    code, output = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "label",
        "--positive", "hateful", "--train-from", str(data), "--train-limit", "2",
        "--detectors", "classifier", "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output[output.index("{") :])
    assert report["trained_on_decisions"] == 2
    assert report["n"] == 3
    assert report["detectors"]["classifier"].endswith(f"-n{_seed_size() + 2}")


def _seed_size() -> int:
    from beffroi.analysis.moderation.classifier import default_training_set

    return len(default_training_set())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text-column", "body"], "no column 'body'"),
        (["--positive", " , "], "--positive needs at least one label value"),
        (["--threshold", "0"], "--threshold"),
        (["--categories", "gossip"], "unknown gossip"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    data = _write(tmp_path / "labelled.csv", ROWS)
    base = {"--text-column": "text", "--label-column": "label", "--positive": "hateful"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [part for pair in base.items() for part in pair]
    code, output = _run("--input", str(data), *flat, "--detectors", "rules")
    assert code != 0
    assert message in output


def test_missing_or_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    common = ["--text-column", "t", "--label-column", "l", "--positive", "x"]
    code, output = _run("--input", str(empty), *common)
    assert code == 1 and "is empty" in output
    code, output = _run("--input", str(tmp_path / "absent.csv"), *common)
    assert code == 1 and "cannot read" in output


def test_learning_by_groups_never_measures_a_learned_group(tmp_path: Path) -> None:
    """HateCheck-style files: cases of one template (and cases referring to it) are one
    group; what is learned and what is measured share none."""
    path = tmp_path / "templates.csv"
    lines = ["id,text,label,templ_id,ref_templ_id"]
    cases = [
        ("Je déteste les {g}.", "hateful", "1", ""),
        ("Je ne déteste pas les {g}.", "non-hateful", "2", "1"),
        ("Les {g} sont des rats.", "hateful", "3", ""),
        ("Les {g} sont formidables.", "non-hateful", "4", ""),
        ("Merci aux {g} du quartier.", "non-hateful", "5", ""),
        ("Les {g} devraient disparaître.", "hateful", "6", ""),
    ]
    number = 0
    for template, label, group, reference in cases:
        for target in ("femmes", "musulmans", "immigrés"):
            number += 1
            lines.append(f'{number},"{template.format(g=target)}",{label},{group},{reference}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = _run(
        "--input", str(path), "--text-column", "text", "--label-column", "label",
        "--positive", "hateful", "--train-from", str(path), "--train-limit", "4",
        "--train-order", "shuffled", "--group-column", "templ_id,ref_templ_id",
        "--detectors", "classifier", "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output[output.index("{") :])
    assert report["trained_on_decisions"] == 4
    # Whole groups were drawn: every row of a touched group is out of what is measured,
    # and templates 1 and 2 go together (2 refers to 1).
    assert report["n"] + report["trained_on_decisions"] + report["left_out_sharing_a_group"] == 18
    assert report["n"] % 3 == 0 and 0 < report["n"] < 18
    assert report["group_columns"] == ["templ_id", "ref_templ_id"]


def test_group_draw_and_exclusion() -> None:
    import random

    from beffroi.analysis.moderation.evaluate import LabelledRow, draw_by_groups, share_no_group

    rows = [
        LabelledRow(1, "a", "x", True, frozenset({"1"})),
        LabelledRow(2, "b", "x", True, frozenset({"1"})),
        LabelledRow(3, "c", "x", False, frozenset({"2", "1"})),  # refers to template 1
        LabelledRow(4, "d", "x", False, frozenset({"3"})),
        LabelledRow(5, "e", "x", False, frozenset()),
    ]
    for seed in range(8):
        drawn = draw_by_groups(rows, 1, random.Random(seed))
        assert len(drawn) == 1
        kept, left_out = share_no_group(rows, drawn)
        lines = {row.line for row in kept}
        if drawn[0].line in (1, 2, 3):
            # Template 1 and the case referring to it are one linked group: none is measured.
            assert lines == {4, 5}
        assert all(not (row.groups & drawn[0].groups) for row in kept)
        assert left_out == len(rows) - len(kept)
    drawn = draw_by_groups(rows, 3, random.Random(0))
    assert len(drawn) == 3


def test_group_column_needs_training(tmp_path: Path) -> None:
    data = _write(tmp_path / "labelled.csv", ROWS)
    code, output = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "label",
        "--positive", "hateful", "--group-column", "id", "--detectors", "rules",
    )  # fmt: skip
    assert code != 0
    assert "--group-column" in output
