"""``beffroi eval requests``: detection and routing metrics on a tiny file, by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from beffroi.analysis.requests.detect import RequestDetector
from beffroi.analysis.requests.evaluate import routing_metrics
from beffroi.cli import main

# text, is request (dataset's label), category
ROWS = [
    ("Huge pothole on Station Road, my car was damaged, please repair it", "1", "roads"),
    ("Garbage has not been collected on Hill Road for a week, it stinks", "1", "garbage"),
    ("Potholes all over MG Road after the rain, fix them please", "1", "roads"),
    # A positive that reads as plain chatter: the detector misses it (a false negative)
    # and the router, which learned nothing like it, sends it to "garbage".
    ("What a beautiful sunset over the sea tonight", "1", "roads"),
    ("Happy new year to everyone in the city!", "0", ""),
    ("Just watched the new movie, highly recommend it", "0", ""),
]
LEARN = [
    ("Pothole on the main road near the school, dangerous", "1", "roads"),
    ("The road is full of potholes, repair needed", "1", "roads"),
    ("Broken road surface and potholes near the market", "1", "roads"),
    ("Garbage piling up near the market, not collected", "1", "garbage"),
    ("Bins overflowing with garbage, nobody collects", "1", "garbage"),
    ("Garbage dumped on the street for days", "1", "garbage"),
    ("Huge pothole on Station Road, my car was damaged, please repair it", "1", "roads"),
]


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "complaint", "category"])
        writer.writerows(rows)
    return path


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["eval", "requests", *args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.output[result.output.index("{") :])
    return report


def test_detection_metrics(tmp_path: Path, shipped_detector: RequestDetector) -> None:
    data = _write(tmp_path / "tweets.csv", ROWS)
    report = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "complaint",
        "--positive", "1",
    )  # fmt: skip
    # 3 of 4 requests found (the sunset is missed), no false alarm:
    assert (report["true_positives"], report["false_negatives"]) == (3, 1)
    assert (report["false_positives"], report["true_negatives"]) == (0, 2)
    assert report["precision"] == 1.0
    assert report["recall"] == 0.75
    assert report["f1"] == round(2 * 1.0 * 0.75 / 1.75, 4)
    assert "routing_accuracy" not in report


def test_routing_after_learning_leaves_learned_rows_out(
    tmp_path: Path, shipped_detector: RequestDetector
) -> None:
    data = _write(tmp_path / "tweets.csv", ROWS)
    learn = _write(tmp_path / "learn.csv", LEARN)
    report = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "complaint",
        "--positive", "1", "--category-column", "category", "--train-from", str(learn),
        "--train-limit", "6",
    )  # fmt: skip
    # The 7th learning row is beyond --train-limit: the row sharing its text stays in.
    assert report["learned_routing_examples"] == 6
    assert report["left_out_as_learned"] == 0
    assert report["routing_n"] == 4
    # Roads, garbage and roads are right, the sunset ("roads") goes to garbage:
    # roads tp 2 fn 1 -> F1 0.8; garbage tp 1 fp 1 -> F1 2/3.
    assert report["routing_accuracy"] == 0.75
    assert report["routing_macro_f1"] == round((0.8 + 2 / 3) / 2, 4)
    assert report["routing_categories"] == 2

    every = _run(
        "--input", str(data), "--text-column", "text", "--label-column", "complaint",
        "--positive", "1", "--category-column", "category", "--train-from", str(learn),
        "--train-limit", "7",
    )  # fmt: skip
    assert every["left_out_as_learned"] == 1
    assert every["n"] == 5 and every["routing_n"] == 3


def test_routing_metrics_by_hand() -> None:
    metrics = routing_metrics(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert metrics.accuracy == 0.5
    # a: tp1 fn1 -> 2/3; b: tp1 fp2 -> 0.5; c: fn1 -> 0
    assert abs(metrics.macro_f1 - (2 / 3 + 0.5 + 0.0) / 3) < 1e-9
    assert metrics.categories == 3


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    data = _write(tmp_path / "tweets.csv", ROWS)
    result = CliRunner().invoke(
        main,
        ["eval", "requests", "--input", str(data), "--text-column", "body",
         "--label-column", "complaint", "--positive", "1"],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "no column 'body'" in result.output


def test_corpus_cross_validation_over_groups() -> None:
    from beffroi.analysis.requests.corpus import load_corpus
    from beffroi.analysis.requests.evaluate import corpus_cross_validation

    result = corpus_cross_validation(folds=3, use_embedding=False, every=8)
    assert result.folds == 3
    assert result.detection.n == len(load_corpus()[::8])  # every row measured once
    # Unseen templates are harder than seen ones, but far better than chance.
    assert result.detection.f1 > 0.7
    assert result.routing.accuracy > 0.3
    assert result.routing.categories == 13
