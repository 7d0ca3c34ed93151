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

Legitimate messages (``--benign``): every row is a message the charter must leave alone (a
citizen's testimony, a tweet to a city that is no complaint). Each goes through the
application's own path, the detectors' signals then :func:`~.decide.judge` under a charter
version (Beffroi's default one), and what is measured is the share the charter would hide at
once or send to a person, with what carried those verdicts.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from beffroi.analysis.grouping import Groups
from beffroi.analysis.moderation.decide import (
    CategoryPolicy,
    CharterPolicy,
    Verdict,
    judge,
)
from beffroi.analysis.moderation.signals import CATEGORIES, Detector, Signal
from beffroi.analysis.text_bound import analysed_text

__all__ = [
    "BenignEvaluation",
    "BinaryMetrics",
    "EvaluationError",
    "FlaggedRow",
    "LabelledRow",
    "PositiveLabels",
    "TextRow",
    "binary_metrics",
    "charter_policy",
    "detector_signals",
    "evaluate",
    "evaluate_benign",
    "read_labelled_rows",
    "read_texts",
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
    #: Values of the file's group columns (HateCheck's template ids): rows sharing one are
    #: variations of one sentence, never split between what is learned and what is measured.
    groups: frozenset[str] = frozenset()


def _sniff_dialect(sample: str, path: Path) -> type[csv.Dialect] | csv.Dialect:
    if path.suffix.lower() == ".tsv":
        return csv.excel_tab
    first_line = sample.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",\t;|")
    except csv.Error:
        return csv.excel_tab if "\t" in first_line else csv.excel


def _dict_reader(path: Path, needed: Sequence[str]) -> csv.DictReader[str]:
    """A reader of the CSV or TSV file's records, once the ``needed`` columns are known there."""
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
    for column in needed:
        if column not in columns:
            known = ", ".join(repr(c) for c in columns) or "none"
            raise EvaluationError(f"{path}: no column {column!r} (columns: {known})")
    return reader


def read_labelled_rows(
    path: Path,
    text_column: str,
    label_column: str,
    positive: PositiveLabels,
    limit: int | None = None,
    group_columns: Sequence[str] = (),
) -> list[LabelledRow]:
    """The labelled rows of a CSV or TSV file (delimiter sniffed); rows without text skipped.
    ``group_columns``: columns whose non-empty values are the row's groups."""
    reader = _dict_reader(path, (text_column, label_column, *group_columns))
    rows: list[LabelledRow] = []
    try:
        for number, record in enumerate(reader, start=1):
            text = (record.get(text_column) or "").strip()
            label = (record.get(label_column) or "").strip()
            if not text or not label:
                continue
            groups = frozenset(
                value for column in group_columns if (value := (record.get(column) or "").strip())
            )
            rows.append(LabelledRow(number, text, label, positive.is_positive(label), groups))
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as error:
        raise EvaluationError(f"{path}: malformed CSV ({error})") from error
    if not rows:
        raise EvaluationError(f"{path}: no row has both a text and a label")
    return rows


def draw_by_groups(
    rows: Sequence[LabelledRow], limit: int, rng: random.Random
) -> list[LabelledRow]:
    """``limit`` rows drawn group by group, in random order: the decisions an
    organization took on some kinds of sentence, leaving the other kinds to be measured.
    Groups linked through a row holding several (a case and the template it refers to) are
    drawn together. Rows without a group are groups of their own."""
    groups = Groups()
    keys: list[str] = []
    for row in rows:
        own = sorted(row.groups) or [f"\x00line {row.line}"]
        keys.append(own[0])
        for other in own[1:]:
            groups.join(other, own[0])
    members: dict[str, list[LabelledRow]] = {}
    for row, key in zip(rows, keys, strict=True):
        members.setdefault(groups.find(key), []).append(row)
    order = sorted(members)
    rng.shuffle(order)
    drawn: list[LabelledRow] = []
    for key in order:
        if len(drawn) >= limit:
            break
        drawn.extend(members[key])
    return drawn[:limit]


def share_no_group(
    rows: Sequence[LabelledRow], learned: Sequence[LabelledRow]
) -> tuple[list[LabelledRow], int]:
    """The rows sharing no group with a learned row, and how many were left out."""
    taken = frozenset().union(*(row.groups for row in learned)) if learned else frozenset()
    kept = [row for row in rows if not (row.groups & taken)]
    return kept, len(rows) - len(kept)


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


# --- Legitimate messages: what the charter would do to them -----------------------------------


@dataclass(frozen=True)
class TextRow:
    line: int  # 1-based data row number in the file (header excluded)
    text: str


def read_texts(
    path: Path, text_column: str, where: Mapping[str, str] | None = None
) -> list[TextRow]:
    """The texts of a CSV or TSV file, from the records whose ``where`` columns hold the given
    values (compared stripped and case-folded, as labels are); rows without text skipped."""
    conditions = {column: value.strip().casefold() for column, value in (where or {}).items()}
    reader = _dict_reader(path, (text_column, *conditions))
    rows: list[TextRow] = []
    try:
        for number, record in enumerate(reader, start=1):
            if any(
                (record.get(column) or "").strip().casefold() != value
                for column, value in conditions.items()
            ):
                continue
            text = (record.get(text_column) or "").strip()
            if text:
                rows.append(TextRow(number, text))
    except csv.Error as error:
        raise EvaluationError(f"{path}: malformed CSV ({error})") from error
    if not rows:
        chosen = " and ".join(f"{c}={v}" for c, v in conditions.items())
        raise EvaluationError(f"{path}: no row has a text" + (f" where {chosen}" if chosen else ""))
    return rows


def charter_policy(categories: Sequence[Mapping[str, Any]], version: int = 1) -> CharterPolicy:
    """A charter version's categories in the plain-data layout of the charter files
    (``beffroi.charter.yaml_io``) as the decision engine reads them."""
    policies: dict[str, CategoryPolicy] = {}
    for category in categories:
        slug = str(category["slug"])
        names = category.get("name") or {}
        policies[slug] = CategoryPolicy(
            slug=slug,
            name=str(names.get("en") or names.get("fr") or slug),
            severity=int(category.get("severity") or 2),
            hide_at=category.get("hide_at"),
            review_at=category.get("review_at"),
            shadow=bool(category.get("shadow", False)),
            enabled=bool(category.get("enabled", True)),
            auto_delete=bool(category.get("auto_delete", False)),
        )
    return CharterPolicy(version=version, categories=policies)


def detector_signals(detectors: Sequence[Detector], texts: Sequence[str]) -> list[list[Signal]]:
    """Every detector's signals for each text, merged per text, each text read up to the
    analysis bound: what the application's moderation hands the decision engine
    (``beffroi.moderation.detectors.run``, which a test holds this to)."""
    merged: list[list[Signal]] = [[] for _ in texts]
    if not texts:
        return merged
    bounded = [analysed_text(text) for text in texts]
    for detector in detectors:
        for bucket, signals in zip(merged, detector.score(bounded), strict=True):
            bucket.extend(signals)
    return merged


@dataclass(frozen=True)
class FlaggedRow:
    """A legitimate row the charter would hide or queue, and what carried that verdict."""

    line: int
    verdict: str
    category: str
    score: float
    #: The detector whose score is the category's (the most confident one).
    detector: str
    evidence: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "verdict": self.verdict,
            "category": self.category,
            "score": self.score,
            "detector": self.detector,
            "evidence": list(self.evidence),
        }


def _rate(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


@dataclass
class BenignEvaluation:
    """What a charter version would do to rows that are all legitimate."""

    n: int
    flagged: list[FlaggedRow]
    #: Verdicts of a category (or version) in shadow mode: recorded, never acted on.
    shadow: int
    items_per_second: float
    seconds: float
    detectors: dict[str, str] = field(default_factory=dict)

    @property
    def hidden(self) -> int:
        return sum(1 for row in self.flagged if row.verdict == Verdict.HIDE)

    @property
    def reviewed(self) -> int:
        return sum(1 for row in self.flagged if row.verdict == Verdict.REVIEW)

    def as_dict(self, top: int = 10) -> dict[str, Any]:
        """Rates and counts, then the most frequent categories, deciding detectors and pieces
        of evidence (rule ids, matched words, the classifier's words) among the flagged rows."""
        evidence: Counter[str] = Counter()
        for row in self.flagged:
            evidence.update(set(row.evidence))
        return {
            "n": self.n,
            "hidden": self.hidden,
            "reviewed": self.reviewed,
            "hidden_or_reviewed": self.hidden + self.reviewed,
            "kept": self.n - self.hidden - self.reviewed,
            "shadow": self.shadow,
            "hide_rate": _rate(self.hidden, self.n),
            "review_rate": _rate(self.reviewed, self.n),
            "hide_or_review_rate": _rate(self.hidden + self.reviewed, self.n),
            "top_categories": Counter(row.category for row in self.flagged).most_common(top),
            "top_detectors": Counter(row.detector for row in self.flagged).most_common(top),
            "top_evidence": evidence.most_common(top),
        }


def evaluate_benign(
    rows: Sequence[TextRow],
    detectors: Sequence[Detector],
    policy: CharterPolicy,
    *,
    progress: Callable[[int], None] | None = None,
) -> BenignEvaluation:
    """Judge every row as the application does (timed) and keep those hidden or queued."""
    flagged: list[FlaggedRow] = []
    shadow = 0
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        for row, signals in zip(
            batch, detector_signals(detectors, [row.text for row in batch]), strict=True
        ):
            judgement = judge(signals, policy)
            if judgement.verdict is Verdict.KEEP:
                continue
            if judgement.shadow:
                shadow += 1
                continue
            deciding = max(
                (s for s in signals if s.category == judgement.category), key=lambda s: s.score
            )
            flagged.append(
                FlaggedRow(
                    line=row.line,
                    verdict=judgement.verdict.value,
                    category=judgement.category,
                    score=judgement.score,
                    detector=deciding.detector,
                    evidence=judgement.evidence,
                )
            )
        if progress is not None:
            progress(len(batch))
    seconds = time.perf_counter() - started
    return BenignEvaluation(
        n=len(rows),
        flagged=flagged,
        shadow=shadow,
        items_per_second=len(rows) / seconds if seconds > 0 else 0.0,
        seconds=seconds,
        detectors={d.name: d.version for d in detectors},
    )
