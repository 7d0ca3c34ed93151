"""Measure the out-of-the-box detectors on a labelled file (``beffroi eval moderation``).

Binary evaluation: a row is positive when its label is one of the ``--positive`` values (or,
with ``!``, none of them); an item is flagged when the detectors' combined score reaches the
threshold. The combination is the decision engine's: per category, the most confident
detector; here the rule detector's score and the classifier's probability for the evaluated
categories (their sum: the probability that the text breaks the charter in one of them).

Learning first (``--train-from``): the first N labelled rows of a file become organization
decisions (positive → ``--category``, negative → ``none``) and the classifier is retrained on
the seed corpus plus those, exactly as the organization's retraining does. When the training
file is the evaluated file, the training rows are left out of the evaluation.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from beffroi.analysis.moderation.signals import CATEGORIES, Signal

__all__ = [
    "BinaryMetrics",
    "EvaluationError",
    "LabelledRow",
    "PositiveLabels",
    "binary_metrics",
    "evaluate",
    "read_labelled_rows",
]

#: Flag an item when its combined score reaches this (the default charter's review level).
DEFAULT_THRESHOLD = 0.5
#: Items scored per call: large enough for batched embedding, small enough for the progress bar.
BATCH_SIZE = 128


class EvaluationError(Exception):
    """A problem with the input that the user must fix (bad file, missing column…)."""


@dataclass(frozen=True)
class PositiveLabels:
    """Which label values count as positive.

    ``values``: the positive values (``"hateful"``), or, when ``negated``, the negative ones
    (``"!normal"``: everything but ``normal`` is positive). With a ``separator``, a cell holds
    several labels (MLMA's ``offensive_hateful``): it is positive when one of them is positive.
    """

    values: frozenset[str]
    negated: bool = False
    separator: str | None = None

    @classmethod
    def parse(cls, spec: str, separator: str | None = None) -> PositiveLabels:
        spec = spec.strip()
        negated = spec.startswith("!")
        if negated:
            spec = spec[1:]
        values = frozenset(v.strip().casefold() for v in spec.split(",") if v.strip())
        if not values:
            raise EvaluationError("--positive needs at least one label value")
        return cls(values, negated, separator or None)

    def is_positive(self, cell: str) -> bool:
        cell = cell.strip().casefold()
        labels = [p.strip() for p in cell.split(self.separator)] if self.separator else [cell]
        if self.negated:
            return any(label not in self.values for label in labels)
        return any(label in self.values for label in labels)

    def describe(self) -> str:
        values = ",".join(sorted(self.values))
        return f"!{values}" if self.negated else values


@dataclass(frozen=True)
class LabelledRow:
    line: int  # 1-based data row number in the file (header excluded)
    text: str
    label: str
    positive: bool


def _sniff_dialect(sample: str, path: Path) -> type[csv.Dialect] | csv.Dialect:
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    first_line = sample.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",\t;|")
    except csv.Error:
        return csv.excel_tab if "\t" in first_line else csv.excel


def read_labelled_rows(
    path: Path,
    text_column: str,
    label_column: str,
    positive: PositiveLabels,
    limit: int | None = None,
) -> list[LabelledRow]:
    """The labelled rows of a CSV or TSV file (delimiter sniffed); rows without text skipped."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise EvaluationError(f"cannot read {path}: {error.strerror or error}") from error
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise EvaluationError(f"{path} is not UTF-8 text") from error
    if not content.strip():
        raise EvaluationError(f"{path} is empty")
    reader = csv.DictReader(io.StringIO(content, newline=""), dialect=_sniff_dialect(content, path))
    columns = [c for c in (reader.fieldnames or []) if c is not None]
    for column in (text_column, label_column):
        if column not in columns:
            known = ", ".join(repr(c) for c in columns) or "none"
            raise EvaluationError(f"{path}: no column {column!r} (columns: {known})")
    rows: list[LabelledRow] = []
    try:
        for number, record in enumerate(reader, start=1):
            text = (record.get(text_column) or "").strip()
            label = (record.get(label_column) or "").strip()
            if not text or not label:
                continue
            rows.append(LabelledRow(number, text, label, positive.is_positive(label)))
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as error:
        raise EvaluationError(f"{path}: malformed CSV ({error})") from error
    if not rows:
        raise EvaluationError(f"{path}: no row has both a text and a label")
    return rows


@dataclass(frozen=True)
class BinaryMetrics:
    n: int
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return (self.true_positives + self.true_negatives) / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "positives": self.true_positives + self.false_negatives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "accuracy": round(self.accuracy, 4),
            "threshold": self.threshold,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "true_negatives": self.true_negatives,
        }


def binary_metrics(
    truth: Sequence[bool], scores: Sequence[float], threshold: float
) -> BinaryMetrics:
    tp = fp = fn = tn = 0
    for positive, score in zip(truth, scores, strict=True):
        flagged = score >= threshold
        if flagged and positive:
            tp += 1
        elif flagged:
            fp += 1
        elif positive:
            fn += 1
        else:
            tn += 1
    return BinaryMetrics(len(truth), threshold, tp, fp, fn, tn)


class _Classifier(Protocol):
    name: str
    version: str

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


class _Rules(Protocol):
    name: str
    version: str

    def score(self, texts: Sequence[str]) -> list[list[Signal]]: ...


def combined_scores(
    texts: Sequence[str],
    classifier: _Classifier | None,
    rules: _Rules | None,
    categories: Sequence[str] = CATEGORIES,
) -> list[float]:
    """Per text: the larger of the best rule score and the classifier's probability that the
    text falls in one of ``categories``."""
    wanted = set(categories)
    scores = [0.0] * len(texts)
    if classifier is not None:
        for i, table in enumerate(classifier.probabilities(texts)):
            scores[i] = sum(p for label, p in table.items() if label in wanted)
    if rules is not None:
        for i, signals in enumerate(rules.score(texts)):
            for signal in signals:
                if signal.category in wanted:
                    scores[i] = max(scores[i], signal.score)
    return [min(1.0, s) for s in scores]


@dataclass
class Evaluation:
    metrics: BinaryMetrics
    items_per_second: float
    seconds: float
    scores: list[float] = field(repr=False)
    detectors: dict[str, str] = field(default_factory=dict)


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def evaluate(
    rows: Sequence[LabelledRow],
    classifier: _Classifier | None,
    rules: _Rules | None,
    *,
    categories: Sequence[str] = CATEGORIES,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Score every row (timed: items per second through the detectors) and count."""
    texts = [row.text for row in rows]
    scores: list[float] = []
    started = time.perf_counter()
    for batch in _batches(texts, BATCH_SIZE):
        scores.extend(combined_scores(batch, classifier, rules, categories))
        if progress is not None:
            progress(len(batch))
    seconds = time.perf_counter() - started
    detectors = {d.name: d.version for d in (classifier, rules) if d is not None}
    return Evaluation(
        metrics=binary_metrics([row.positive for row in rows], scores, threshold),
        items_per_second=len(rows) / seconds if seconds > 0 else 0.0,
        seconds=seconds,
        scores=scores,
        detectors=detectors,
    )
