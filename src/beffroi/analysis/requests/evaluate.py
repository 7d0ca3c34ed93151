"""Measure request detection and routing on a labelled file (``beffroi eval requests``).

Detection is binary: a row is positive when its label is one of the ``--positive`` values
(or, with ``!``, none of them); the detector flags it when its request probability reaches
the threshold. Routing is measured on the positive rows that have a category: accuracy and
macro-F1 (the unweighted mean of the per-category F1, over the categories found in the truth
or the predictions, as scikit-learn computes it).

Learning first (``--train-from``): the first N routed rows (positive, with a category) of a
file become routing corrections; the router then learns the file's own category names from
them alone (a data set's categories are not the town's services). With ``learn_detection``
the first N labelled rows also become detection corrections, added to the corpus. Rows of the
evaluated file whose text is one of the learned texts are left out of the measure.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from beffroi.analysis.moderation.evaluate import (
    BinaryMetrics,
    EvaluationError,
    PositiveLabels,
    binary_metrics,
)
from beffroi.analysis.table_files import open_table

__all__ = [
    "CorpusCrossValidation",
    "EvaluationError",
    "PositiveLabels",
    "RequestRow",
    "RequestsEvaluation",
    "RoutingMetrics",
    "corpus_cross_validation",
    "evaluate_requests",
    "learned_texts_left_out",
    "read_request_rows",
    "routing_metrics",
]

#: Items scored per call: large enough for batched embedding, small enough for the progress bar.
BATCH_SIZE = 128


@dataclass(frozen=True)
class RequestRow:
    line: int  # 1-based data row number in the file (header excluded)
    text: str
    positive: bool
    category: str = ""


def read_request_rows(
    path: Path,
    text_column: str,
    label_column: str,
    positive: PositiveLabels,
    category_column: str | None = None,
) -> list[RequestRow]:
    """The labelled rows of a CSV or TSV file (delimiter sniffed); rows without text or label
    skipped."""
    wanted = [text_column, label_column] + ([category_column] if category_column else [])
    reader = open_table(path, wanted)
    rows: list[RequestRow] = []
    try:
        for number, record in enumerate(reader, start=1):
            text = (record.get(text_column) or "").strip()
            label = (record.get(label_column) or "").strip()
            if not text or not label:
                continue
            category = (record.get(category_column) or "").strip() if category_column else ""
            rows.append(RequestRow(number, text, positive.is_positive(label), category))
    except csv.Error as error:
        raise EvaluationError(f"{path}: malformed CSV ({error})") from error
    if not rows:
        raise EvaluationError(f"{path}: no row has both a text and a label")
    return rows


def _same_text(text: str) -> str:
    return " ".join(text.casefold().split())


def learned_texts_left_out(
    rows: Sequence[RequestRow], learned: Sequence[RequestRow]
) -> list[RequestRow]:
    """``rows`` without those whose text (case and spacing aside) was learned from."""
    seen = {_same_text(row.text) for row in learned}
    return [row for row in rows if _same_text(row.text) not in seen]


@dataclass(frozen=True)
class RoutingMetrics:
    n: int
    accuracy: float
    macro_f1: float
    categories: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "routing_n": self.n,
            "routing_accuracy": round(self.accuracy, 4),
            "routing_macro_f1": round(self.macro_f1, 4),
            "routing_categories": self.categories,
        }


def routing_metrics(truth: Sequence[str], predicted: Sequence[str]) -> RoutingMetrics:
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    if not truth:
        return RoutingMetrics(0, 0.0, 0.0, 0)
    labels = sorted(set(truth) | set(predicted))
    scores: list[float] = []
    for label in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    return RoutingMetrics(
        len(truth), correct / len(truth), sum(scores) / len(scores), len(set(truth))
    )


class _Detector(Protocol):
    threshold: float

    def request_probability(self, texts: Sequence[str]) -> list[float]: ...


class _Router(Protocol):
    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]: ...


@dataclass
class RequestsEvaluation:
    detection: BinaryMetrics
    routing: RoutingMetrics | None
    seconds: float
    items_per_second: float


def evaluate_requests(
    rows: Sequence[RequestRow],
    detector: _Detector,
    router: _Router | None = None,
    *,
    threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> RequestsEvaluation:
    """Score every row for detection and route the positive rows that have a category."""
    cut = detector.threshold if threshold is None else threshold
    routed = [row for row in rows if row.positive and row.category] if router else []
    scores: list[float] = []
    predicted: list[str] = []
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        scores.extend(detector.request_probability([row.text for row in batch]))
        if progress is not None:
            progress(len(batch))
    if router is not None:
        for start in range(0, len(routed), BATCH_SIZE):
            batch = routed[start : start + BATCH_SIZE]
            predicted.extend(label for label, _ in router.predict([row.text for row in batch]))
            if progress is not None:
                progress(len(batch))
    seconds = time.perf_counter() - started
    return RequestsEvaluation(
        detection=binary_metrics([row.positive for row in rows], scores, cut),
        routing=routing_metrics([row.category for row in routed], predicted)
        if router is not None
        else None,
        seconds=seconds,
        items_per_second=len(rows) / seconds if seconds > 0 else 0.0,
    )


@dataclass(frozen=True)
class CorpusCrossValidation:
    detection: BinaryMetrics
    routing: RoutingMetrics
    folds: int


def corpus_cross_validation(
    folds: int = 5, *, use_embedding: bool = True, every: int = 1
) -> CorpusCrossValidation:
    """Detection and routing measured inside the corpus, ``folds``-fold over template groups
    (a template's expansions are never on both sides): how well the models handle messages
    written unlike any they learned from. ``every``: keep one row in so many (faster)."""
    from beffroi.analysis.requests.corpus import load_corpus
    from beffroi.analysis.requests.detect import OTHER, REQUEST, train_text_classifier

    rows = load_corpus()[::every]
    groups = sorted({row.group for row in rows})
    fold_of = {group: index % folds for index, group in enumerate(groups)}
    truth: list[bool] = []
    scores: list[float] = []
    services: list[str] = []
    routed: list[str] = []
    for fold in range(folds):
        train = [row for row in rows if fold_of[row.group] != fold]
        test = [row for row in rows if fold_of[row.group] == fold]
        detector = train_text_classifier(
            [row.text for row in train],
            [REQUEST if row.is_request else OTHER for row in train],
            [1.0] * len(train),
            use_embedding=use_embedding,
        )
        column = detector.labels.index(REQUEST)
        scores.extend(
            float(p) for p in detector.probability_table([r.text for r in test])[:, column]
        )
        truth.extend(row.is_request for row in test)
        train_requests = [row for row in train if row.is_request]
        test_requests = [row for row in test if row.is_request]
        router = train_text_classifier(
            [row.text for row in train_requests],
            [row.service for row in train_requests],
            [1.0] * len(train_requests),
            use_embedding=use_embedding,
        )
        services.extend(row.service for row in test_requests)
        routed.extend(label for label, _ in router.predict([row.text for row in test_requests]))
    return CorpusCrossValidation(
        binary_metrics(truth, scores, 0.5), routing_metrics(services, routed), folds
    )
