"""Request detection: is an incoming message a request or complaint for the institution?

Offline, French, English and Arabic. The model is the moderation classifier's recipe (see
``analysis/moderation/classifier.py``) applied to the requests corpus: logistic regressions
over (a) character n-grams and word n-grams of the folded text and (b) the multilingual
Universal Sentence Encoder embedding, whose probabilities are averaged. The embedding
carries what the French examples teach over to English and Arabic messages; the n-grams see
spellings ("lampadère", "svp", "pls").

It learns from the community managers' corrections exactly as moderation learns from
decisions: :func:`train_detector` retrains on the corpus plus the corrections, each of which
weighs :data:`CORRECTION_WEIGHT` corpus examples. The model trained on the corpus alone is
built once and kept in ``$BEFFROI_HOME/cache/requests`` (keyed by the corpus hash).

:class:`TextClassifier` is also the learned router's model (:mod:`.routing`), over services.
Serialised models are pickles behind a header: only load files this instance wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from numpy.typing import NDArray
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from beffroi.analysis.requests.corpus import corpus_hash, load_corpus

__all__ = [
    "CORRECTION_WEIGHT",
    "Detection",
    "RequestDetector",
    "RequestExample",
    "TextClassifier",
    "default_detector",
    "fold",
    "train_detector",
    "train_text_classifier",
]

#: Bumped whenever training or the serialised layout changes: part of every cache key.
FORMAT_VERSION = 1
_MAGIC = b"BEFFROI-REQUESTS-MODEL\n"
#: Weight of one correction relative to one corpus example.
CORRECTION_WEIGHT = 4.0
#: Share of the averaged probability that comes from the n-gram model (the rest: embedding).
NGRAM_SHARE = 0.5
NGRAM_C = 5.0
EMBEDDING_C = 5.0
#: A message is a request when its probability reaches this.
THRESHOLD = 0.5
REQUEST = "request"
#: Words for the word n-grams: runs of word characters, one letter included.
WORD_PATTERN = r"(?u)\b\w+\b"
OTHER = "other"


@dataclass(frozen=True)
class RequestExample:
    """A message and what a person (or the corpus) said of it; ``service`` when routed."""

    text: str
    is_request: bool
    service: str = ""


@dataclass(frozen=True)
class Detection:
    probability: float
    is_request: bool
    model: str


# --- Text preparation -------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w[\w.]*")
_DIGITS = re.compile(r"\d+")


def fold(text: str) -> str:
    """What the n-gram model reads: casefolded, accents off (Latin script), links, mentions
    and numbers replaced by placeholders (so one city's account names do not matter)."""
    text = _URL.sub(" _url_ ", text)
    text = _MENTION.sub(" _at_ ", text)
    text = _DIGITS.sub("0", text)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if not (unicodedata.combining(c) and ord(c) < 0x0600))
    return " ".join(kept.split())


def _embedding_input(text: str) -> str:
    return " ".join(_URL.sub("", text).split())


# --- The model -------------------------------------------------------------------------------


class TextClassifier:
    """Multi-class: n-gram and embedding logistic regressions, probabilities averaged."""

    def __init__(
        self,
        *,
        labels: Sequence[str],
        char_vectorizer: TfidfVectorizer,
        word_vectorizer: TfidfVectorizer,
        ngram_model: LogisticRegression,
        embedding_model: LogisticRegression | None,
        ngram_share: float,
        version: str,
        trained_on: int,
        corrections: int = 0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.labels: tuple[str, ...] = tuple(labels)
        self._char_vectorizer = char_vectorizer
        self._word_vectorizer = word_vectorizer
        self._ngram_model = ngram_model
        self._embedding_model = embedding_model
        self.ngram_share = ngram_share if embedding_model is not None else 1.0
        self.version = version
        self.trained_on = trained_on
        self.corrections = corrections
        self.metadata: dict[str, Any] = dict(metadata or {})

    def probability_table(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """(n, len(labels)) probabilities, columns in :attr:`labels` order."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        folded = [fold(t) for t in texts]
        matrix = hstack(
            [self._char_vectorizer.transform(folded), self._word_vectorizer.transform(folded)]
        ).tocsr()
        table = _aligned(self._ngram_model, matrix, self.labels)
        if self._embedding_model is not None and self.ngram_share < 1.0:
            from beffroi.analysis.moderation.embedding import embed

            vectors = embed([_embedding_input(t) for t in texts])
            meaning = _aligned(self._embedding_model, vectors, self.labels)
            table = self.ngram_share * table + (1.0 - self.ngram_share) * meaning
        return table

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        table = self.probability_table(texts)
        return [dict(zip(self.labels, map(float, row), strict=True)) for row in table]

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """The most likely label of each text and its probability."""
        table = self.probability_table(texts)
        best = table.argmax(axis=1) if len(table) else np.zeros(0, dtype=int)
        return [
            (self.labels[int(i)], float(row[int(i)])) for i, row in zip(best, table, strict=True)
        ]

    def to_bytes(self) -> bytes:
        """Header + pickle. Load only bytes this instance wrote (pickles can run code)."""
        state = {
            "labels": self.labels,
            "char_vectorizer": self._char_vectorizer,
            "word_vectorizer": self._word_vectorizer,
            "ngram_model": self._ngram_model,
            "embedding_model": self._embedding_model,
            "ngram_share": self.ngram_share,
            "version": self.version,
            "trained_on": self.trained_on,
            "corrections": self.corrections,
            "metadata": self.metadata,
        }
        header = json.dumps({"format": FORMAT_VERSION, "version": self.version}).encode()
        return _MAGIC + header + b"\n" + pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> TextClassifier:
        if not data.startswith(_MAGIC):
            raise ValueError("not a Beffroi requests model")
        header_line, _, payload = data[len(_MAGIC) :].partition(b"\n")
        if json.loads(header_line).get("format") != FORMAT_VERSION:
            raise ValueError("requests model of another format: retrain it")
        state = pickle.loads(payload)  # noqa: S301 - only models this instance wrote
        return cls(**state)


def _aligned(
    model: LogisticRegression, features: Any, labels: Sequence[str]
) -> NDArray[np.float64]:
    """``predict_proba`` with columns in ``labels`` order (zeros for labels it never saw)."""
    probabilities: NDArray[np.float64] = np.asarray(model.predict_proba(features), dtype=np.float64)
    classes = [str(c) for c in model.classes_]
    if list(labels) == classes:
        return probabilities
    out = np.zeros((probabilities.shape[0], len(labels)))
    for column, label in enumerate(classes):
        out[:, list(labels).index(label)] = probabilities[:, column]
    return out


def _balanced(labels: Sequence[str], origin: Sequence[float]) -> NDArray[np.float64]:
    """Origin weight × class balance: every label weighs as much in total."""
    totals: dict[str, float] = {}
    for label, weight in zip(labels, origin, strict=True):
        totals[label] = totals.get(label, 0.0) + weight
    mean = sum(totals.values()) / len(totals)
    return np.array([w * mean / totals[label] for label, w in zip(labels, origin, strict=True)])


def train_text_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    origin_weights: Sequence[float],
    *,
    use_embedding: bool = True,
    ngram_share: float = NGRAM_SHARE,
    embedding_cache: Path | None = None,
    cached_count: int = 0,
    balance: bool = True,
    corrections: int = 0,
) -> TextClassifier:
    """Fit the two regressions. ``embedding_cache``: where the embeddings of the first
    ``cached_count`` texts (the corpus) are kept between trainings; ``balance``: weigh every
    label as much in total; ``corrections``: how many of the texts are corrections (the
    last ones), for the record."""
    if len(set(labels)) < 2:
        raise ValueError("training needs examples of at least two labels")
    weights = (
        _balanced(labels, origin_weights)
        if balance
        else np.asarray(origin_weights, dtype=np.float64)
    )
    folded = [fold(t) for t in texts]
    char_vectorizer = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, max_features=200_000,
        dtype=np.float32,
    )  # fmt: skip
    word_vectorizer = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=WORD_PATTERN,
        max_features=100_000, dtype=np.float32,
    )  # fmt: skip
    matrix = hstack(
        [char_vectorizer.fit_transform(folded), word_vectorizer.fit_transform(folded)]
    ).tocsr()
    ngram_model = LogisticRegression(C=NGRAM_C, max_iter=3000)
    ngram_model.fit(matrix, list(labels), sample_weight=weights)
    embedding_model: LogisticRegression | None = None
    if use_embedding:
        from beffroi.analysis.moderation.embedding import cached_embed, embed

        inputs = [_embedding_input(t) for t in texts]
        head = cached_embed(inputs[:cached_count], embedding_cache) if cached_count else None
        tail = embed(inputs[cached_count:])
        vectors = np.vstack([head, tail]) if head is not None else tail
        embedding_model = LogisticRegression(C=EMBEDDING_C, max_iter=3000)
        embedding_model.fit(vectors, list(labels), sample_weight=weights)
    digest = hashlib.sha256(json.dumps([FORMAT_VERSION, ngram_share, use_embedding]).encode())
    for text, label, weight in zip(texts, labels, origin_weights, strict=True):
        digest.update(f"{label}\x00{weight:.6g}\x00{text}\x01".encode("utf-8", "surrogatepass"))
    return TextClassifier(
        labels=sorted(set(labels)),
        char_vectorizer=char_vectorizer,
        word_vectorizer=word_vectorizer,
        ngram_model=ngram_model,
        embedding_model=embedding_model,
        ngram_share=ngram_share,
        version=f"{digest.hexdigest()[:12]}-n{len(texts)}",
        trained_on=len(texts),
        corrections=corrections,
        metadata={"labels": dict(Counter(labels)), "sklearn": sklearn.__version__},
    )


# --- Detection -------------------------------------------------------------------------------


class RequestDetector:
    """Says whether messages are requests for the institution, with a probability."""

    name = "requests"

    def __init__(self, model: TextClassifier, threshold: float = THRESHOLD) -> None:
        self.model = model
        self.threshold = threshold

    @property
    def version(self) -> str:
        return self.model.version

    def request_probability(self, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        table = self.model.probability_table(texts)
        column = self.model.labels.index(REQUEST)
        return [float(p) for p in table[:, column]]

    def detect(self, texts: Sequence[str]) -> list[Detection]:
        return [
            Detection(round(p, 4), p >= self.threshold, self.version)
            for p in self.request_probability(texts)
        ]


def cache_dir() -> Path:
    from beffroi.config import cache_dir

    return cache_dir() / "requests"


def corpus_examples() -> list[RequestExample]:
    return [RequestExample(r.text, r.is_request, r.service) for r in load_corpus()]


def train_detector(
    corrections: Sequence[RequestExample] = (),
    *,
    base: Sequence[RequestExample] | None = None,
    correction_weight: float = CORRECTION_WEIGHT,
    use_embedding: bool = True,
    threshold: float = THRESHOLD,
) -> RequestDetector:
    """Train on ``base`` (default: the corpus) plus ``corrections``, each of which weighs
    ``correction_weight`` corpus examples."""
    seeded = base is None
    base_examples = list(corpus_examples() if base is None else base)
    examples = [*base_examples, *corrections]
    model = train_text_classifier(
        [e.text for e in examples],
        [REQUEST if e.is_request else OTHER for e in examples],
        [1.0] * len(base_examples) + [correction_weight] * len(corrections),
        use_embedding=use_embedding,
        embedding_cache=cache_dir() if seeded else None,
        cached_count=len(base_examples) if seeded else 0,
        corrections=len(corrections),
    )
    return RequestDetector(model, threshold)


_default_lock = threading.Lock()


def cached_corpus_model(
    name: str, options: list[Any], code: Path, train: Callable[[], TextClassifier]
) -> TextClassifier:
    """A model trained on the corpus, kept in the cache directory under a key of what made it
    (the format, the corpus, ``options``, scikit-learn and the ``code`` that trains it):
    trained once, then read; written whole or not at all."""
    key = hashlib.sha256(
        json.dumps([FORMAT_VERSION, corpus_hash(), *options, sklearn.__version__]).encode()
        + code.read_bytes()
    ).hexdigest()[:24]
    path = cache_dir() / f"{name}-{key}.bin"
    if path.exists():
        try:
            return TextClassifier.from_bytes(path.read_bytes())
        except Exception:  # noqa: S110 - a stale or broken cache file is rebuilt below
            pass
    model = train()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(model.to_bytes())
    temporary.replace(path)
    return model


@lru_cache(maxsize=2)
def _default(use_embedding: bool) -> RequestDetector:
    return RequestDetector(
        cached_corpus_model(
            "detector",
            [use_embedding],
            Path(__file__),
            lambda: train_detector(use_embedding=use_embedding).model,
        )
    )


def default_detector(use_embedding: bool = True) -> RequestDetector:
    """The detector trained on the corpus; trained once, then read from the cache directory
    (``$BEFFROI_HOME/cache/requests``)."""
    with _default_lock:
        return _default(use_embedding)
