"""From a model's own labels to the charter's categories, and from scores to signals.

Each backend names things its own way (``toxic``, ``identity_hate``, ``LABEL_1``,
``hate/threatening``); the charter has one list of categories
(:data:`~beffroi.analysis.moderation.signals.CATEGORIES`). A label maps to zero, one or
several categories; a category's score is the highest score among the labels mapped to it,
and the signal's evidence names the model and the label that gave it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from beffroi.analysis.moderation.backends.errors import BackendConfigurationError
from beffroi.analysis.moderation.signals import CATEGORIES, Signal
from beffroi.analysis.text_bound import analysed_text

#: Label → categories; an empty tuple drops the label.
LabelMap = dict[str, tuple[str, ...]]

#: A binary model whose labels say nothing (``LABEL_0``/``LABEL_1``) maps its positive label
#: to this category unless ``category=`` says otherwise: the mildest reading, so that an
#: unknown model never hides a comment under the heavier clauses (hate, threat) by default.
GENERIC_DEFAULT_CATEGORY = "insult"

# Labels that say "nothing wrong here" (``non-toxic``, ``NOT``, ``nothate``, ``neutral``).
_NEGATIVE_PREFIXES = ("non", "not", "no_")
_NEGATIVE = frozenset(
    {
        "neutral", "normal", "clean", "safe", "ok", "okay", "none", "acceptable",
        "appropriate", "benign", "ham", "legit", "legitimate", "negative", "label_0", "0",
        "false", "no",
    }
)  # fmt: skip
_GENERIC_POSITIVE = frozenset({"label_1", "1", "true", "yes"})
# First match wins, so the more specific categories come first (``identity_hate`` is hate,
# ``severe_toxic`` an insult).
_GUESSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("terrorism", ("terror", "extremis", "jihad", "radicali")),
    ("threat", ("threat", "violen", "menace")),
    (
        "hate",
        (
            "hate", "identity", "racis", "sexis", "homophob", "transphob", "xenophob",
            "antisemit", "islamophob", "misogyn", "discriminat",
        ),
    ),
    ("harassment", ("harass", "bully", "stalk")),
    ("personal_data", ("doxx", "personal_data", "pii")),
    ("spam", ("spam", "scam", "phish", "fraud")),
    ("disinformation", ("disinfo", "misinfo", "fake_news", "propaganda")),
    (
        "insult",
        (
            "insult", "toxic", "offens", "obscen", "profan", "abus", "vulgar", "rude", "swear",
            "curse", "aggress", "severe",
        ),
    ),
)  # fmt: skip
# Short labels of well-known data sets: HS (hate speech), OFF (OLID offensive), ABU (abusive),
# HOF (HASOC hate-offensive).
_EXACT = {"hs": "hate", "off": "insult", "abu": "insult", "hof": "insult"}


def normalize_label(label: str) -> str:
    """``Identity-Hate`` → ``identity_hate``: how labels are compared."""
    return re.sub(r"[\s\-/.]+", "_", label.strip().lower())


def guess_category(label: str) -> str | None:
    """The charter category a label's name suggests, or None (negative or unknown labels)."""
    name = normalize_label(label)
    if name in _NEGATIVE or name.startswith(_NEGATIVE_PREFIXES):
        return None
    if name in _EXACT:
        return _EXACT[name]
    for category, stems in _GUESSES:
        if any(stem in name for stem in stems):
            return category
    return None


def check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise BackendConfigurationError(
            f"Unknown charter category '{category}'; the categories are: {', '.join(CATEGORIES)}."
        )
    return category


def parse_label_map(value: str) -> LabelMap:
    """``toxic:insult,hate/threatening:hate|threat,sexual:-`` → label → categories.

    ``|`` gives a label several categories; ``-`` (or ``none``) drops it.
    """
    mapping: LabelMap = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        label, sep, target = pair.rpartition(":")
        if not sep or not label.strip():
            raise BackendConfigurationError(
                f"map: '{pair}' is not 'label:category' (e.g. map=toxic:insult,threat:threat)."
            )
        targets = [t.strip() for t in target.split("|") if t.strip()]
        if targets in ([], ["-"], ["none"]):
            mapping[label.strip()] = ()
        else:
            mapping[label.strip()] = tuple(check_category(t) for t in targets)
    return mapping


def _lookup(mapping: Mapping[str, tuple[str, ...]], label: str) -> tuple[str, ...] | None:
    wanted = normalize_label(label)
    for key, value in mapping.items():
        if normalize_label(key) == wanted:
            return value
    return None


def _check_known(names: Iterable[str], labels: Sequence[str], what: str) -> None:
    known = {normalize_label(label) for label in labels}
    unknown = [name for name in names if normalize_label(name) not in known]
    if unknown:
        raise BackendConfigurationError(
            f"{what}: the model has no label {', '.join(map(repr, unknown))}; "
            f"its labels are: {', '.join(labels)}."
        )


def resolve_model_labels(
    labels: Sequence[str],
    *,
    category: str | None = None,
    positive: Sequence[str] | None = None,
    overrides: Mapping[str, tuple[str, ...]] | None = None,
) -> LabelMap:
    """Map the labels of an arbitrary text-classification model to charter categories.

    ``overrides`` (``map=``) win; then, when ``positive`` (``label=``) is given, only those
    labels count, each mapped to ``category`` or to the category its name suggests; otherwise
    every label whose name suggests a category counts (mapped to ``category`` when given),
    and the positive label of a binary ``LABEL_0``/``LABEL_1`` model (or the only output of a
    one-output model) maps to ``category`` or :data:`GENERIC_DEFAULT_CATEGORY`. Raises when no
    label maps to anything.
    """
    overrides = overrides or {}
    if category is not None:
        check_category(category)
    _check_known(overrides, labels, "map")
    if positive is not None:
        _check_known(positive, labels, "label")
    wanted = {normalize_label(name) for name in positive or ()}
    binary = len(labels) == 2
    if len(labels) == 1 and _lookup(overrides, labels[0]) is None:
        # One output (a single logit read through a sigmoid): it is the harmful score itself,
        # whatever its name (often LABEL_0).
        only = labels[0]
        return {only: (category or guess_category(only) or GENERIC_DEFAULT_CATEGORY,)}
    resolved: LabelMap = {}
    for label in labels:
        explicit = _lookup(overrides, label)
        if explicit is not None:
            resolved[label] = explicit
            continue
        guessed = guess_category(label)
        if positive is not None:
            if normalize_label(label) not in wanted:
                continue
            target = category or guessed
            if target is None:
                raise BackendConfigurationError(
                    f"label: the name '{label}' suggests no charter category; "
                    f"add category=<one of {', '.join(CATEGORIES)}>."
                )
            resolved[label] = (target,)
        elif guessed is not None:
            resolved[label] = (category or guessed,)
        elif binary and normalize_label(label) in _GENERIC_POSITIVE:
            resolved[label] = (category or GENERIC_DEFAULT_CATEGORY,)
    if not any(resolved.values()):
        raise BackendConfigurationError(
            f"None of the model's labels ({', '.join(labels)}) maps to a charter category: "
            f"set label=<its harmful labels>&category=<category>, or map=<label>:<category>."
        )
    return {label: cats for label, cats in resolved.items() if cats}


def with_overrides(
    defaults: Mapping[str, tuple[str, ...]], overrides: Mapping[str, tuple[str, ...]] | None
) -> LabelMap:
    """A fixed label table (Detoxify, OpenAI) with the ``map=`` option applied over it."""
    merged: LabelMap = dict(defaults)
    for label, categories in (overrides or {}).items():
        merged[label] = categories
    return {label: cats for label, cats in merged.items() if cats}


def mapping_digest(mapping: Mapping[str, tuple[str, ...]]) -> str:
    """A short hash of a label map: the same model mapped otherwise is another version."""
    canonical = json.dumps(sorted((k, list(v)) for k, v in mapping.items()), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def file_digest(paths: Iterable[Path]) -> str:
    """SHA-256 over the names and bytes of ``paths`` (weights included), read in chunks."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def signals_from_scores(
    scores: Mapping[str, float],
    mapping: Mapping[str, tuple[str, ...]],
    *,
    detector: str,
    version: str,
    model: str,
    min_score: float,
    flagged: Mapping[str, bool] | None = None,
) -> list[Signal]:
    """One signal per category: the best-scoring label mapped to it, in charter order.

    ``flagged`` holds the service's own verdict per label (OpenAI's ``categories``); a
    flagged label adds ``flagged`` to the evidence.
    """
    best: dict[str, tuple[float, str]] = {}
    for label, categories in mapping.items():
        if label not in scores:
            continue
        score = min(1.0, max(0.0, float(scores[label])))
        for category in categories:
            if category not in best or score > best[category][0]:
                best[category] = (score, label)
    signals = []
    for category in CATEGORIES:
        if category not in best or best[category][0] < min_score:
            continue
        score, label = best[category]
        evidence: tuple[str, ...] = (f"model:{model}", f"label:{label}")
        if flagged and flagged.get(label):
            evidence += ("flagged",)
        signals.append(Signal(detector, version, category, score, evidence))
    return signals


class LabelScoringDetector:
    """The shared half of the model backends: a subclass computes each label's probability
    per text (:meth:`probabilities`); this turns them into charter signals."""

    name: str
    version: str
    model_name: str
    mapping: LabelMap
    min_score: float

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        raise NotImplementedError

    def score(self, texts: Sequence[str]) -> list[list[Signal]]:
        return [
            signals_from_scores(
                row,
                self.mapping,
                detector=self.name,
                version=self.version,
                model=self.model_name,
                min_score=self.min_score,
            )
            for row in self.probabilities([analysed_text(text) for text in texts])
        ]
