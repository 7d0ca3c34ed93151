"""The learned moderation classifier: offline, multilingual, retrained on the organization's
own decisions.

Representation (chosen by measuring, see ``docs/moderation.md``): two logistic regressions
whose probabilities are averaged,

- one over character n-grams (2 to 5, within word boundaries, TF-IDF) of the normalized text:
  it sees spellings, slurs and evasions, and explains itself by the n-grams that weighed most;
- one over the multilingual Universal Sentence Encoder embedding of the text: it sees
  meaning, and carries what it learns in one language over to the others.

The model is multi-class over the charter categories it has examples of plus ``none``; each
category's probability is a :class:`~.signals.Signal`. Organization decisions weigh more
than the seed corpus in training, because they state the organization's own line.

Serialised models are pickles (scikit-learn objects) behind a header: only load models this
instance wrote itself; a pickle from elsewhere can run code.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import sklearn
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from beffroi.analysis.moderation.signals import CATEGORIES, Signal

__all__ = [
    "LabelledText",
    "ModerationClassifier",
    "Representation",
    "default_classifier",
    "default_training_set",
    "train",
]

Representation = Literal["char", "use", "char+use"]
REPRESENTATIONS: tuple[str, ...] = get_args(Representation)
DEFAULT_REPRESENTATION: Representation = "char+use"
NONE = "none"
LABELS: tuple[str, ...] = (*CATEGORIES, NONE)

#: Bumped whenever training or the serialised layout changes: part of every version and key.
FORMAT_VERSION = 1
_MAGIC = b"BEFFROI-MODERATION-CLASSIFIER\n"

#: Weight of one organization decision relative to one seed example (see :func:`train`).
ORGANIZATION_WEIGHT = 4.0
#: Share of the averaged probability that comes from the character model.
CHAR_SHARE = 0.5
#: Inverse regularisation strengths, measured on the seed corpus by cross-validation.
CHAR_C = 10.0
USE_C = 10.0
#: Signals below this probability are left out; the decision engine would keep them anyway.
MIN_SIGNAL = 0.05
#: Evidence (the n-grams that weighed most) is worked out for signals at least this strong.
EVIDENCE_FROM = 0.25


@dataclass(frozen=True)
class LabelledText:
    """A text and the charter category (or ``none``) a person or the seed corpus gave it."""

    text: str
    category: str
    language: str = ""

    def __post_init__(self) -> None:
        if self.category not in LABELS:
            raise ValueError(f"unknown category {self.category!r}; expected one of {LABELS}")


# --- Text preparation -------------------------------------------------------------------------


def _casefold(text: str) -> str:
    return " ".join(text.casefold().split())


def _normalizer() -> tuple[Any, str]:
    """The project's normalizer and a fingerprint of its source, or a plain casefold."""
    try:
        from beffroi.analysis.moderation import normalize as module
    except ImportError:  # pragma: no cover - normalize.py is part of the package
        return None, "casefold"
    source = Path(module.__file__ or "").read_bytes() if module.__file__ else b""
    return module.normalize, hashlib.sha256(source).hexdigest()[:12]


@lru_cache(maxsize=1)
def _normalizer_cached() -> tuple[Any, str]:
    return _normalizer()


def normalized_text(text: str) -> str:
    """What the character model reads: the folded text of :mod:`.normalize`."""
    function, _ = _normalizer_cached()
    if function is None:
        return _casefold(text)
    return str(function(text).text)


#: A tweet's furniture: links and @mentions. Ordinary messages to a town are full of them, and
#: the seed corpus holds them almost only in spam and harassment, so the model would read them
#: as evidence (docs/moderation.md, "Citizens are not haters"). The model reads the text
#: without them; the rules still read everything (a link to a known scam, a doxxing mention).
_FURNITURE = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.@])@\w[\w.]*")


def classifier_reading(text: str) -> str:
    """What the model reads of a message: the text without its links and @mentions."""
    if "@" not in text and "http" not in text and "www." not in text:
        return text
    return " ".join(_FURNITURE.sub(" ", text).split())


def _readings(originals: Sequence[str], normalized: Sequence[str]) -> tuple[list[str], list[str]]:
    """The texts and normalized texts as the model reads them (see :func:`classifier_reading`)."""
    texts: list[str] = []
    folded: list[str] = []
    for original, form in zip(originals, normalized, strict=True):
        reading = classifier_reading(original)
        texts.append(reading)
        folded.append(form if reading == original else normalized_text(reading))
    return texts, folded


def _use_input(original: str) -> str:
    # The encoder's own tokenizer handles case and accents; it only needs the evasions that
    # break its word pieces undone, and runs of letters shortened.
    return " ".join(original.split())


# --- The model --------------------------------------------------------------------------------


class ModerationClassifier:
    """A trained classifier; a :class:`~.signals.Detector`."""

    name = "classifier"

    def __init__(
        self,
        *,
        representation: Representation,
        labels: Sequence[str],
        vectorizer: TfidfVectorizer | None,
        char_model: LogisticRegression | None,
        use_model: LogisticRegression | None,
        char_share: float,
        version: str,
        trained_on: int,
        organization_examples: int = 0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.representation: Representation = representation
        self.labels: tuple[str, ...] = tuple(labels)
        self._vectorizer = vectorizer
        self._char_model = char_model
        self._use_model = use_model
        self.char_share = char_share
        self.version: str = version
        self.trained_on: int = trained_on
        self.organization_examples = organization_examples
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._none_index = self.labels.index(NONE) if NONE in self.labels else -1
        self._features: list[str] | None = None
        self._features_lock = threading.Lock()

    # Probabilities -----------------------------------------------------------------------

    def _char_probabilities(self, normalized: Sequence[str]) -> tuple[NDArray[np.float64], Any]:
        assert self._vectorizer is not None and self._char_model is not None
        matrix = self._vectorizer.transform(normalized)
        return _aligned(self._char_model, matrix, self.labels), matrix

    def _use_probabilities(self, originals: Sequence[str]) -> NDArray[np.float64]:
        from beffroi.analysis.moderation.embedding import embed

        assert self._use_model is not None
        vectors = embed([_use_input(text) for text in originals])
        return _aligned(self._use_model, vectors, self.labels)

    def _probabilities(
        self, originals: Sequence[str], normalized: Sequence[str]
    ) -> tuple[NDArray[np.float64], Any]:
        matrix = None
        if self._char_model is not None and self._use_model is not None:
            char, matrix = self._char_probabilities(normalized)
            use = self._use_probabilities(originals)
            return self.char_share * char + (1.0 - self.char_share) * use, matrix
        if self._char_model is not None:
            return self._char_probabilities(normalized)
        return self._use_probabilities(originals), matrix

    def _read(
        self, originals: Sequence[str], normalized: Sequence[str]
    ) -> tuple[NDArray[np.float64], Any, list[str]]:
        """Probabilities of the texts as the model reads them (:func:`classifier_reading`),
        with the matrix and normalized texts read; a text left empty (nothing but links and
        mentions) is ``none`` for sure: there is nothing for the model to judge."""
        texts, folded = _readings(originals, normalized)
        table, matrix = self._probabilities(texts, folded)
        if self._none_index >= 0:
            for row, text in enumerate(texts):
                if not text.strip():
                    table[row, :] = 0.0
                    table[row, self._none_index] = 1.0
        return table, matrix, folded

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Every label's probability (``none`` included) for each text."""
        if not texts:
            return []
        table, _, _ = self._read(texts, [normalized_text(t) for t in texts])
        return [dict(zip(self.labels, map(float, row), strict=True)) for row in table]

    def violation_probability(self, texts: Sequence[str]) -> list[float]:
        """P(any category but ``none``) for each text, for binary use."""
        if not texts:
            return []
        table, _, _ = self._read(texts, [normalized_text(t) for t in texts])
        if self._none_index < 0:
            return [1.0] * len(texts)
        return [float(1.0 - row[self._none_index]) for row in table]

    # Detector ----------------------------------------------------------------------------

    def score(self, texts: Sequence[str]) -> list[list[Signal]]:
        """Signals per text: each category at least :data:`MIN_SIGNAL` likely, with evidence."""
        return self.score_normalized(texts, [normalized_text(t) for t in texts])

    def score_normalized(
        self, originals: Sequence[str], normalized: Sequence[str]
    ) -> list[list[Signal]]:
        """:meth:`score` for texts whose normalized form the caller already has."""
        if not originals:
            return []
        table, matrix, normalized = self._read(originals, normalized)
        results: list[list[Signal]] = []
        for row_number, row in enumerate(table):
            signals: list[Signal] = []
            for index, label in enumerate(self.labels):
                probability = float(row[index])
                if label == NONE or probability < MIN_SIGNAL:
                    continue
                evidence: tuple[str, ...] = ()
                if probability >= EVIDENCE_FROM:
                    evidence = self._evidence(matrix, row_number, index, normalized[row_number])
                signals.append(
                    Signal(self.name, self.version, label, round(probability, 4), evidence)
                )
            signals.sort(key=lambda signal: -signal.score)
            results.append(signals)
        return results

    def _feature_names(self) -> list[str]:
        with self._features_lock:
            if self._features is None:
                assert self._vectorizer is not None
                self._features = [str(f) for f in self._vectorizer.get_feature_names_out()]
            return self._features

    def _evidence(self, matrix: Any, row: int, label_index: int, text: str) -> tuple[str, ...]:
        """The words holding the n-grams that pushed most towards this label, then "embedding"."""
        words: list[str] = []
        if matrix is not None and self._char_model is not None:
            words = self.top_words(matrix, row, label_index, text)
        if self._use_model is not None:
            words.append("embedding")
        return tuple(words)

    def top_words(
        self, matrix: Any, row: int, label_index: int, text: str, limit: int = 3
    ) -> list[str]:
        assert self._char_model is not None
        classes = [str(c) for c in self._char_model.classes_]
        label = self.labels[label_index]
        if label not in classes:
            return []
        coefficients = self._char_model.coef_
        if coefficients.shape[0] == 1:  # two labels: one row, pointing to the second
            weights = coefficients[0] if classes.index(label) == 1 else -coefficients[0]
        else:
            weights = coefficients[classes.index(label)]
            if NONE in classes:  # relative to "none": what makes it this rather than acceptable
                weights = weights - coefficients[classes.index(NONE)]
        vector = matrix.getrow(row)
        contributions = vector.data * weights[vector.indices]
        order = np.argsort(-contributions)
        names = self._feature_names()
        tokens = re.findall(r"\w+", text)
        found: list[str] = []
        for position in order[:12]:
            if contributions[position] <= 0:
                break
            gram = names[vector.indices[position]].strip()
            if len(gram) < 2:
                continue
            for token in tokens:
                if gram in token and token not in found:
                    found.append(token)
                    break
            if len(found) >= limit:
                break
        return found

    # Serialisation -----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Header + pickle. Load only bytes this instance wrote (pickles can run code)."""
        state = {
            "format": FORMAT_VERSION,
            "sklearn": sklearn.__version__,
            "representation": self.representation,
            "labels": self.labels,
            "vectorizer": self._vectorizer,
            "char_model": self._char_model,
            "use_model": self._use_model,
            "char_share": self.char_share,
            "version": self.version,
            "trained_on": self.trained_on,
            "organization_examples": self.organization_examples,
            "metadata": self.metadata,
        }
        header = json.dumps(
            {"format": FORMAT_VERSION, "version": self.version, "sklearn": sklearn.__version__}
        ).encode()
        return _MAGIC + header + b"\n" + pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> ModerationClassifier:
        if not data.startswith(_MAGIC):
            raise ValueError("not a Beffroi moderation classifier")
        header_line, _, payload = data[len(_MAGIC) :].partition(b"\n")
        header = json.loads(header_line)
        if header.get("format") != FORMAT_VERSION:
            raise ValueError(
                f"classifier format {header.get('format')} is not {FORMAT_VERSION}: retrain it"
            )
        state = pickle.loads(payload)  # noqa: S301 - only models this instance wrote
        return cls(
            representation=state["representation"],
            labels=state["labels"],
            vectorizer=state["vectorizer"],
            char_model=state["char_model"],
            use_model=state["use_model"],
            char_share=state["char_share"],
            version=state["version"],
            trained_on=state["trained_on"],
            organization_examples=state["organization_examples"],
            metadata=state["metadata"],
        )


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
        out[:, labels.index(label)] = probabilities[:, column]
    return out


# --- Training ---------------------------------------------------------------------------------


def default_training_set() -> list[LabelledText]:
    """The seed corpus the project wrote (``data/seed/*.yaml``), all languages."""
    from beffroi.analysis.moderation.seed_corpus import seed_examples

    return [LabelledText(e.text, e.category, e.language) for e in seed_examples()]


def _cache_dir() -> Path:
    from beffroi.config import home

    return home() / "cache" / "moderation"


def _training_key(
    texts: Sequence[str],
    labels: Sequence[str],
    weights: Sequence[float],
    representation: str,
    char_share: float,
) -> str:
    _, normalizer = _normalizer_cached()
    digest = hashlib.sha256(
        json.dumps([FORMAT_VERSION, representation, char_share, CHAR_C, USE_C, normalizer]).encode()
    )
    for text, label, weight in zip(texts, labels, weights, strict=True):
        digest.update(f"{label}\x00{weight:.6g}\x00{text}\x01".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _sample_weights(labels: Sequence[str], origin_weights: Sequence[float]) -> NDArray[np.float64]:
    """Origin weight × class balance (rare categories count as much, in total, as common ones)."""
    totals: dict[str, float] = {}
    for label, weight in zip(labels, origin_weights, strict=True):
        totals[label] = totals.get(label, 0.0) + weight
    mean = sum(totals.values()) / len(totals)
    return np.array(
        [w * mean / totals[label] for label, w in zip(labels, origin_weights, strict=True)]
    )


def train(
    examples: Sequence[LabelledText],
    *,
    base: Sequence[LabelledText] | None = None,
    representation: Representation = DEFAULT_REPRESENTATION,
    organization_weight: float = ORGANIZATION_WEIGHT,
    char_share: float = CHAR_SHARE,
    embedding_cache: Path | None = None,
) -> ModerationClassifier:
    """Train on ``base`` (default: the seed corpus) plus ``examples``, the organization's
    decisions, each of which weighs ``organization_weight`` seed examples.

    ``embedding_cache``: where embeddings of ``base`` are kept between trainings (default: the
    cache directory when ``base`` is the seed corpus).
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}")
    seeded = base is None
    base_examples = list(default_training_set() if base is None else base)
    texts = [e.text for e in base_examples] + [e.text for e in examples]
    labels = [e.category for e in base_examples] + [e.category for e in examples]
    origin = [1.0] * len(base_examples) + [organization_weight] * len(examples)
    if len(set(labels)) < 2:
        raise ValueError(
            "training needs examples of at least two labels (e.g. a category and none)"
        )
    weights = _sample_weights(labels, origin)
    label_set = sorted(set(labels))
    key = _training_key(texts, labels, origin, representation, char_share)

    vectorizer: TfidfVectorizer | None = None
    char_model: LogisticRegression | None = None
    use_model: LogisticRegression | None = None
    if "char" in representation:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=1,
            max_features=300_000,
            dtype=np.float32,
        )
        matrix = vectorizer.fit_transform([normalized_text(t) for t in texts])
        char_model = LogisticRegression(C=CHAR_C, max_iter=2000)
        char_model.fit(matrix, labels, sample_weight=weights)
    if "use" in representation:
        from beffroi.analysis.moderation.embedding import cached_embed, embed

        cache = (
            embedding_cache if embedding_cache is not None else (_cache_dir() if seeded else None)
        )
        base_vectors = cached_embed([_use_input(e.text) for e in base_examples], cache)
        extra = embed([_use_input(e.text) for e in examples])
        vectors = np.vstack([base_vectors, extra]) if len(extra) else base_vectors
        use_model = LogisticRegression(C=USE_C, max_iter=2000)
        use_model.fit(vectors, labels, sample_weight=weights)

    share = (
        char_share if representation == "char+use" else (1.0 if representation == "char" else 0.0)
    )
    return ModerationClassifier(
        representation=representation,
        labels=label_set,
        vectorizer=vectorizer,
        char_model=char_model,
        use_model=use_model,
        char_share=share,
        version=f"{representation}-{key[:12]}-n{len(texts)}",
        trained_on=len(texts),
        organization_examples=len(examples),
        metadata={
            "labels": dict(Counter(labels)),
            "organization_weight": organization_weight,
            "sklearn": sklearn.__version__,
        },
    )


# --- The default model, cached ---------------------------------------------------------------

_default_lock = threading.Lock()


@lru_cache(maxsize=2)
def _default(representation: Representation) -> ModerationClassifier:
    from beffroi.analysis.moderation.seed_corpus import seed_hash

    _, normalizer = _normalizer_cached()
    key = hashlib.sha256(
        json.dumps(
            [FORMAT_VERSION, seed_hash(), normalizer, representation, sklearn.__version__]
        ).encode()
    ).hexdigest()[:24]
    path = _cache_dir() / f"classifier-{representation.replace('+', '-')}-{key}.bin"
    if path.exists():
        try:
            return ModerationClassifier.from_bytes(path.read_bytes())
        except Exception:  # noqa: S110 - a stale or broken cache file is rebuilt below
            pass
    model = train([], representation=representation)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(model.to_bytes())
    temporary.replace(path)
    return model


def default_classifier(
    representation: Representation = DEFAULT_REPRESENTATION,
) -> ModerationClassifier:
    """The classifier trained on the seed corpus; trained once, then read from the cache
    directory (``$BEFFROI_HOME/cache/moderation``) keyed by the corpus hash."""
    with _default_lock:
        return _default(representation)
