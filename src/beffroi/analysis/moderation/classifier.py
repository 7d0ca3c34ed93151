"""The learned moderation classifier: offline, multilingual, retrained on the organization's
own decisions.

Representation (chosen by measuring, see ``docs/moderation.md``): two logistic regressions
whose probabilities are averaged,

- one over character n-grams (2 to 5, within word boundaries) and word pairs and triples
  (TF-IDF) of the normalized text: the characters see spellings, slurs and evasions, the word
  pairs what a word alone cannot say ("don't hate", "nothing against"); it explains itself by
  the n-grams that weighed most;
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
import unicodedata
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
from sklearn.pipeline import FeatureUnion

from beffroi.analysis.moderation.normalize import join_spaced_letters
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
FORMAT_VERSION = 4
#: Older layouts :meth:`ModerationClassifier.from_bytes` still reads (1: flat over the labels;
#: 2: read "RT" and "via", and texts without a letter; 3: character n-grams only).
READABLE_FORMATS = (1, 2, 3, 4)
_MAGIC = b"BEFFROI-MODERATION-CLASSIFIER\n"

#: Weight of one organization decision relative to one seed example (see :func:`train`).
ORGANIZATION_WEIGHT = 4.0
#: Weight of one everyday message written by hand relative to one template-expanded sentence
#: of the seed corpus: each was written once, in its own words, where a template gives dozens
#: of near-copies (chosen on the dev splits, docs/moderation.md, "The learned classifier").
EVERYDAY_WEIGHT = 4.0
#: The gate's two classes: whether a text breaks the charter at all.
VIOLATION = "violation"
#: Folds of the out-of-fold scores the gate is calibrated on.
CALIBRATION_FOLDS = 3
#: Share of the averaged probability that comes from the character model.
CHAR_SHARE = 0.5
#: Inverse regularisation strengths, measured on the seed corpus by cross-validation.
CHAR_C = 10.0
USE_C = 10.0
#: Signals below this probability are left out; the decision engine would keep them anyway.
MIN_SIGNAL = 0.05
#: Evidence (the n-grams that weighed most) is worked out for signals at least this strong.
EVIDENCE_FROM = 0.25
#: An n-gram is cited as evidence when it carried at least this share of what pushed the text
#: towards the label.
EVIDENCE_SHARE = 0.04


@lru_cache(maxsize=1)
def _grammar_words() -> frozenset[str]:
    """Function words of the seed corpus's languages (the ``stop-words`` package's lists),
    and the forms of the commonest verbs: they weigh in a model, but are never a reason."""
    from stop_words import get_stop_words

    words: set[str] = set()
    for language in ("fr", "en", "ar"):
        words.update(_casefold(word) for word in get_stop_words(language))
    words.update(_EXTRA_GRAMMAR_WORDS)
    return frozenset(words)


_EXTRA_GRAMMAR_WORDS = frozenset(
    "va vas vont aller allez allons est sont suis sera seront etait etaient fait font faire "
    "dit dire peut peux veut veux vais avez avons ont cest ca ici quoi bjr slt stp svp mdr "
    "lol pls plz thx get got gets going gonna wanna".split()
)


def _may_be_a_reason(token: str) -> bool:
    return (
        len(token) >= 3
        and not token.startswith("emoji_")
        and not any(character.isdigit() for character in token)
        and token not in _grammar_words()
    )


@dataclass(frozen=True)
class LabelledText:
    """A text and the charter category (or ``none``) a person or the seed corpus gave it."""

    text: str
    category: str
    language: str = ""
    #: How many ordinary examples this one counts for in training (see :data:`EVERYDAY_WEIGHT`).
    weight: float = 1.0

    def __post_init__(self) -> None:
        if self.category not in LABELS:
            raise ValueError(f"unknown category {self.category!r}; expected one of {LABELS}")
        if not self.weight > 0:
            raise ValueError(f"an example's weight must be positive, not {self.weight!r}")


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


#: What is left of a retweet's "RT @account:" and a share's "via @account" once the mention
#: is gone.
_SHARE_MARKS = re.compile(r"^RT\s*:?\s*|\s+via\s*$")


def classifier_reading(text: str) -> str:
    """What the model reads of a message: the text without its links and @mentions (nor the
    "RT" and "via" that announced them)."""
    if "@" not in text and "http" not in text and "www." not in text:
        return text
    return _SHARE_MARKS.sub("", " ".join(_FURNITURE.sub(" ", text).split())).strip()


#: The writing systems the default model reads (its corpus: French, English, Arabic); a model
#: records those of its own training set (``metadata["scripts"]``).
DEFAULT_SCRIPTS = ("ARABIC", "LATIN")
#: Texts of its training set, mostly in a writing system, for a model to be said to read it.
SCRIPT_MIN_TEXTS = 20


def letter_scripts(text: str) -> Counter[str]:
    """How many of the text's letters are in each writing system (the first word of each
    letter's Unicode name: LATIN, ARABIC, DEVANAGARI, CYRILLIC...)."""
    scripts: Counter[str] = Counter()
    for character in text:
        if character.isalpha():
            scripts[unicodedata.name(character, "UNKNOWN").split(" ", 1)[0]] += 1
    return scripts


def main_script(text: str) -> str | None:
    """The writing system of most of the text's letters (``None``: no letter at all)."""
    scripts = letter_scripts(text)
    return scripts.most_common(1)[0][0] if scripts else None


def trained_scripts(texts: Sequence[str]) -> tuple[str, ...]:
    """The writing systems that at least :data:`SCRIPT_MIN_TEXTS` of ``texts`` are mostly in."""
    counts = Counter(script for text in texts if (script := main_script(text)) is not None)
    return tuple(sorted(script for script, count in counts.items() if count >= SCRIPT_MIN_TEXTS))


def readable(reading: str, scripts: Sequence[str]) -> bool:
    """Whether a model that learned from ``scripts`` has something to judge in ``reading``: at
    least one letter, and at least half of them in those writing systems. Emoji, numbers and
    punctuation alone, or a language in a script the model never saw, would only give it
    noise to read as a verdict (docs/moderation.md, "Citizens are not haters")."""
    counts = letter_scripts(reading)
    letters = sum(counts.values())
    return letters > 0 and 2 * sum(counts[script] for script in scripts) >= letters


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
    # The encoder's own tokenizer handles case and accents; letters spaced out to evade a filter
    # ("M u s l i m s") are joined so that its word pieces see the word. Leetspeak is left:
    # undoing it here turned Arabizi ("3" for ع) into nonsense (MLMA Arabic −1.4 F1).
    return " ".join(join_spaced_letters(original).split())


def _ngram_vectorizer() -> FeatureUnion:
    """The n-gram model's features, one TF-IDF each: character n-grams within words, and word
    pairs and triples (seen in at least two training texts), which carry what a word alone
    cannot ("don't hate", "nothing against", "are not"). Words alone are left to the
    characters (with them, HateCheck English lost half a point)."""
    return FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    sublinear_tf=True,
                    min_df=1,
                    max_features=300_000,
                    dtype=np.float32,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(2, 3),
                    token_pattern=r"(?u)\b\w+\b",  # noqa: S106 - a pattern, not a password
                    sublinear_tf=True,
                    min_df=2,
                    dtype=np.float32,
                ),
            ),
        ]
    )


#: The prefixes a :class:`FeatureUnion` puts before its parts' feature names.
_FEATURE_PREFIX = re.compile(r"^(?:chars|words)__")


# --- The model --------------------------------------------------------------------------------


@dataclass
class Gate:
    """Whether a text breaks the charter at all (``violation`` against ``none``), before
    which category it would be: two binary logistic regressions (character n-grams, sentence
    encoder) averaged, then calibrated (Platt) on out-of-fold scores of the training set, with
    the two classes weighing the same. A text the models know little about is then near
    one half, not spread over nine categories that leave ``none`` a tenth."""

    char_model: LogisticRegression | None
    use_model: LogisticRegression | None
    char_share: float
    slope: float = 1.0
    intercept: float = 0.0

    def raw(self, matrix: Any, vectors: NDArray[np.float32] | None) -> NDArray[np.float64]:
        parts: list[tuple[float, NDArray[np.float64]]] = []
        if self.char_model is not None:
            parts.append((self.char_share, _violation(self.char_model, matrix)))
        if self.use_model is not None:
            parts.append((1.0 - self.char_share, _violation(self.use_model, vectors)))
        if len(parts) == 1:
            return parts[0][1]
        return sum((share * values for share, values in parts), np.zeros(len(parts[0][1])))

    def probability(self, matrix: Any, vectors: NDArray[np.float32] | None) -> NDArray[np.float64]:
        return _platt(self.raw(matrix, vectors), self.slope, self.intercept)


def _violation(model: LogisticRegression, features: Any) -> NDArray[np.float64]:
    classes = [str(c) for c in model.classes_]
    column = np.asarray(model.predict_proba(features), dtype=np.float64)[
        :, classes.index(VIOLATION)
    ]
    result: NDArray[np.float64] = column
    return result


def _logit(probabilities: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(probabilities, 1e-6, 1.0 - 1e-6)
    result: NDArray[np.float64] = np.log(clipped / (1.0 - clipped))
    return result


def _platt(raw: NDArray[np.float64], slope: float, intercept: float) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(slope * _logit(raw) + intercept)))
    return result


class ModerationClassifier:
    """A trained classifier; a :class:`~.signals.Detector`."""

    name = "classifier"

    def __init__(
        self,
        *,
        representation: Representation,
        labels: Sequence[str],
        vectorizer: TfidfVectorizer | FeatureUnion | None,
        char_model: LogisticRegression | None,
        use_model: LogisticRegression | None,
        char_share: float,
        version: str,
        trained_on: int,
        organization_examples: int = 0,
        metadata: dict[str, Any] | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.representation: Representation = representation
        self.labels: tuple[str, ...] = tuple(labels)
        self._vectorizer = vectorizer
        self._char_model = char_model
        self._use_model = use_model
        # With a gate, the two models above share the violation among the categories; without
        # (format 1), they are flat over the categories and ``none``.
        self._gate = gate
        self.char_share = char_share
        self.version: str = version
        self.trained_on: int = trained_on
        self.organization_examples = organization_examples
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._none_index = self.labels.index(NONE) if NONE in self.labels else -1
        self._features: list[str] | None = None
        self._features_lock = threading.Lock()

    # Probabilities -----------------------------------------------------------------------

    def _probabilities(
        self, originals: Sequence[str], normalized: Sequence[str]
    ) -> tuple[NDArray[np.float64], Any]:
        matrix = None
        vectors = None
        if self._vectorizer is not None:
            matrix = self._vectorizer.transform(normalized)
        if self._use_model is not None:
            from beffroi.analysis.moderation.embedding import embed

            vectors = embed([_use_input(text) for text in originals])
        table = self._mixed(self._char_model, matrix, self._use_model, vectors)
        if self._gate is None:
            return table, matrix
        violation = self._gate.probability(matrix, vectors)
        table *= violation[:, None]
        table[:, self._none_index] = 1.0 - violation
        return table, matrix

    def _mixed(
        self,
        char_model: LogisticRegression | None,
        matrix: Any,
        use_model: LogisticRegression | None,
        vectors: NDArray[np.float32] | None,
    ) -> NDArray[np.float64]:
        """The two models' probabilities (columns in :attr:`labels` order), averaged."""
        char = _aligned(char_model, matrix, self.labels) if char_model is not None else None
        use = _aligned(use_model, vectors, self.labels) if use_model is not None else None
        if char is not None and use is not None:
            result: NDArray[np.float64] = self.char_share * char + (1.0 - self.char_share) * use
            return result
        found = char if char is not None else use
        assert found is not None
        return found

    def _read(
        self, originals: Sequence[str], normalized: Sequence[str]
    ) -> tuple[NDArray[np.float64], Any, list[str]]:
        """Probabilities of the texts as the model reads them (:func:`classifier_reading`),
        with the matrix and normalized texts read; a text left empty (nothing but links and
        mentions) or that the model cannot read (:func:`readable`) is ``none`` for sure: there
        is nothing for the model to judge, and the rules still read it."""
        texts, folded = _readings(originals, normalized)
        table, matrix = self._probabilities(texts, folded)
        if self._none_index >= 0:
            for row, text in enumerate(texts):
                if not readable(text, self.scripts):
                    table[row, :] = 0.0
                    table[row, self._none_index] = 1.0
        return table, matrix, folded

    @property
    def scripts(self) -> tuple[str, ...]:
        """The writing systems the model learned from (models from before it was recorded:
        those of the default corpus)."""
        return tuple(self.metadata.get("scripts") or DEFAULT_SCRIPTS)

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
                self._features = [
                    _FEATURE_PREFIX.sub("", str(f))
                    for f in self._vectorizer.get_feature_names_out()
                ]
            return self._features

    def _evidence(self, matrix: Any, row: int, label_index: int, text: str) -> tuple[str, ...]:
        """The words whose n-grams pushed most towards this label, then "embedding" when the
        sentence model, not the words, carried the probability."""
        words: list[str] = []
        if matrix is not None and self._char_model is not None:
            words = self.top_words(matrix, row, label_index, text)
        if self._use_model is not None and not words:
            words.append("embedding")
        return tuple(words)

    def top_words(
        self, matrix: Any, row: int, label_index: int, text: str, limit: int = 3
    ) -> list[str]:
        """Up to ``limit`` words of ``text`` holding the n-grams that weighed most towards
        the label, relative to ``none``. Only words that can be a reason are cited: not the
        grammar words of French, English or Arabic ("va", "the", "في"), not numbers, not
        emoji names, not words of fewer than three letters; and only n-grams that carried a
        real share of the push (a word that tipped nothing is no reason)."""
        weights = self._char_weights(self.labels[label_index])
        if weights is None:
            return []
        vector = matrix.getrow(row)
        contributions = vector.data * weights[vector.indices]
        positive = contributions[contributions > 0]
        if not len(positive):
            return []
        floor = EVIDENCE_SHARE * float(positive.sum())
        order = np.argsort(-contributions)
        names = self._feature_names()
        tokens = [token for token in re.findall(r"\w+", text) if _may_be_a_reason(token)]
        found: list[str] = []
        for position in order[:24]:
            if contributions[position] < floor:
                break
            gram = names[vector.indices[position]].strip()
            if len(gram) < 3:
                continue
            # A character n-gram is cited by the word holding it; a word pair or triple by its
            # words that may be a reason.
            pair = gram.split() if " " in gram else None
            for token in tokens:
                if token in found or not (token in pair if pair else gram in token):
                    continue
                found.append(token)
                if pair is None or len(found) >= limit:
                    break
            if len(found) >= limit:
                break
        return found

    def _char_weights(self, label: str) -> NDArray[np.float64] | None:
        """Per n-gram, how much it pushes a text towards ``label`` rather than acceptable:
        towards a violation (the gate) and towards this category among the others."""
        if self._char_model is None:
            return None
        classes = [str(c) for c in self._char_model.classes_]
        coefficients = getattr(self._char_model, "coef_", None)
        category: NDArray[np.float64] | None = None
        if coefficients is not None and label in classes:
            if coefficients.shape[0] == 1:  # two labels: one row, pointing to the second
                category = coefficients[0] if classes.index(label) == 1 else -coefficients[0]
            else:
                category = coefficients[classes.index(label)]
                if NONE in classes:  # flat: relative to "none"
                    category = category - coefficients[classes.index(NONE)]
        gate = self._gate.char_model if self._gate is not None else None
        if gate is None:
            return category
        gate_classes = [str(c) for c in gate.classes_]
        towards = gate.coef_[0] if gate_classes.index(VIOLATION) == 1 else -gate.coef_[0]
        result: NDArray[np.float64] = towards if category is None else towards + category
        return result

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
            "gate": self._gate,
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
        if header.get("format") not in READABLE_FORMATS:
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
            gate=state.get("gate"),
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
    """The seed corpus the project wrote (``data/seed/*.yaml``, expanded, and the everyday
    messages of ``data/everyday/*.yaml``, each weighing :data:`EVERYDAY_WEIGHT`), all
    languages."""
    from beffroi.analysis.moderation.seed_corpus import seed_examples

    return [
        LabelledText(
            e.text, e.category, e.language, EVERYDAY_WEIGHT if e.origin == "everyday" else 1.0
        )
        for e in seed_examples()
    ]


def _cache_dir() -> Path:
    from beffroi.config import cache_dir

    return cache_dir() / "moderation"


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
    decisions, each of which weighs ``organization_weight`` seed examples; every example's
    own ``weight`` multiplies what it counts for.

    ``embedding_cache``: where embeddings of ``base`` are kept between trainings (default: the
    cache directory when ``base`` is the seed corpus).
    """
    if representation not in REPRESENTATIONS:
        raise ValueError(f"representation must be one of {REPRESENTATIONS}")
    seeded = base is None
    base_examples = list(default_training_set() if base is None else base)
    every = [*base_examples, *examples]
    origin_of = [example.weight for example in base_examples] + [
        organization_weight * example.weight for example in examples
    ]
    # The model learns from what it will read: the text without its links and mentions; a
    # text without a letter teaches nothing (it would judge none, see ``readable``).
    readings = [classifier_reading(example.text) for example in every]
    kept = [i for i, reading in enumerate(readings) if letter_scripts(reading)]
    texts = [readings[i] for i in kept]
    labels = [every[i].category for i in kept]
    origin = [origin_of[i] for i in kept]
    violating = np.array([label != NONE for label in labels])
    if len(set(labels)) < 2 or violating.all() or not violating.any():
        raise ValueError(
            "training needs examples of at least two labels (e.g. a category and none)"
        )
    label_set = sorted(set(labels))
    key = _training_key(texts, labels, origin, representation, char_share)
    share = (
        char_share if representation == "char+use" else (1.0 if representation == "char" else 0.0)
    )

    matrix: Any = None
    vectors: NDArray[np.float32] | None = None
    vectorizer: TfidfVectorizer | FeatureUnion | None = None
    if "char" in representation:
        vectorizer = _ngram_vectorizer()
        matrix = vectorizer.fit_transform([normalized_text(t) for t in texts])
    if "use" in representation:
        from beffroi.analysis.moderation.embedding import cached_embed, embed

        cache = (
            embedding_cache if embedding_cache is not None else (_cache_dir() if seeded else None)
        )
        base_count = sum(1 for i in kept if i < len(base_examples))
        base_vectors = cached_embed([_use_input(t) for t in texts[:base_count]], cache)
        extra = embed([_use_input(t) for t in texts[base_count:]])
        vectors = np.vstack([base_vectors, extra]) if len(extra) else base_vectors

    gate_labels = np.where(violating, VIOLATION, NONE)
    gate_weights = _sample_weights(list(gate_labels), origin)
    gate = _train_gate(matrix, vectors, gate_labels, gate_weights, share)
    # Which category, among the violating texts, each category weighing the same in all.
    rows = np.flatnonzero(violating)
    category_labels = [labels[i] for i in rows]
    category_weights = _sample_weights(category_labels, [origin[i] for i in rows])
    char_model = (
        _fit(CHAR_C, matrix[rows], category_labels, category_weights)
        if matrix is not None
        else None
    )
    use_model = (
        _fit(USE_C, vectors[rows], category_labels, category_weights)
        if vectors is not None
        else None
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
            "gate": {"slope": round(gate.slope, 4), "intercept": round(gate.intercept, 4)},
            "scripts": list(trained_scripts(texts)),
        },
        gate=gate,
    )


def _fit(
    strength: float, features: Any, labels: Sequence[str], weights: NDArray[np.float64]
) -> Any:
    """A logistic regression, or, when every example has one label, that label for sure."""
    if len(set(labels)) < 2:
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior").fit(features, labels)
    return LogisticRegression(C=strength, max_iter=2000).fit(
        features, labels, sample_weight=weights
    )


def _train_gate(
    matrix: Any,
    vectors: NDArray[np.float32] | None,
    labels: NDArray[np.str_],
    weights: NDArray[np.float64],
    share: float,
) -> Gate:
    """The violation gate, calibrated on out-of-fold scores (when each class has enough
    examples for the folds)."""

    def fitted(rows: NDArray[np.intp]) -> Gate:
        return Gate(
            char_model=_fit(CHAR_C, matrix[rows], list(labels[rows]), weights[rows])
            if matrix is not None
            else None,
            use_model=_fit(USE_C, vectors[rows], list(labels[rows]), weights[rows])
            if vectors is not None
            else None,
            char_share=share,
        )

    everything = np.arange(len(labels))
    gate = fitted(everything)
    if min(Counter(labels.tolist()).values()) < 2 * CALIBRATION_FOLDS:
        return gate
    from sklearn.model_selection import StratifiedKFold

    out_of_fold = np.zeros(len(labels))
    folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=0)
    for training, held_out in folds.split(everything, labels):
        part = fitted(training)
        out_of_fold[held_out] = part.raw(
            matrix[held_out] if matrix is not None else None,
            vectors[held_out] if vectors is not None else None,
        )
    platt = LogisticRegression(C=1e4).fit(
        _logit(out_of_fold)[:, None], labels == VIOLATION, sample_weight=weights
    )
    gate.slope = float(platt.coef_[0][0])
    gate.intercept = float(platt.intercept_[0])
    return gate


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
