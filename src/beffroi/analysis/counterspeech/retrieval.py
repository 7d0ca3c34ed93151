"""Rank a library of counter-speech entries for a hateful post, saying why each was chosen.

A good reply rarely repeats the hate speech's words: it answers it. The evidence, most
weighty first:

- **meaning**: cosine similarity of multilingual Universal Sentence Encoder embeddings
  (the encoder of the moderation classifier, trained among other tasks on matching
  questions to their answers), which also carries a French post to an English reply. Each
  entry's cosine is first *calibrated* against ordinary hate speech (the project's own
  moderation seed corpus, in the entry's language): how far above its usual closeness to
  hateful posts the entry is to this one. A generic reply ("this is hateful, and false") is
  close to every hateful post, so its raw cosine says little;
- **target**: which group the post attacks, *predicted* from its embedding by the nearest
  centroid of the library entries' embeddings grouped by their declared targets (library
  metadata, written by the people who vetted the entries: no other training data); the
  entries for the predicted group are raised by the probability of that group;
- **specificity**: for the same reason, an entry that closely resembles many other entries
  of the library (the mean cosine of its ten nearest entries) is lowered;
- **words**: TF-IDF cosine over word unigrams and over character 3-to-5-grams (inflected
  forms: "patriots" and "patriot"), for the names and places a reply shares with the post.

Words and specificity count only between texts of the same language, when both languages
are known: across languages, the meaning and the target carry the signal.

Meaning and words are standardised per query over the whole library (z-scores) before they
are weighed, as in :mod:`beffroi.analysis.claims.retrieval`, so that no kind's scale
dominates; the weights (:class:`Weights`) were chosen by cross-validation over hate-speech
groups (docs/counter-speech.md). At equal relevance, an entry in the author's language
comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import spmatrix
from sklearn.feature_extraction.text import TfidfVectorizer

from beffroi.analysis.claims.retrieval import clean_query

__all__ = [
    "CounterSpeechEntry",
    "CounterSpeechIndex",
    "Embedder",
    "Evidence",
    "Suggestion",
    "Weights",
    "hateful_background",
]

Embedder = Callable[[Sequence[str]], NDArray[np.float32]]


@dataclass(frozen=True)
class CounterSpeechEntry:
    """A vetted reply: its text, language (ISO code, any case), the groups it defends and
    its strategy (facts, denouncing, empathy, humour, hypocrisy, question, ...)."""

    id: str
    text: str
    language: str = ""
    targets: tuple[str, ...] = ()
    strategy: str = ""


@dataclass(frozen=True)
class Weights:
    """How the kinds of evidence are added (the calibrated meaning counts 1).

    Chosen by cross-validation over hate-speech groups of the Multitarget-CONAN and CONAN
    dev splits (docs/counter-speech.md, "Measured"); ``language`` only breaks near-ties."""

    words: float = 0.2
    characters: float = 0.3
    target: float = 4.0
    specificity: float = 1.0
    language: float = 0.05


#: Why an entry was suggested: these reasons, when their evidence stands out.
MEANING, SHARED_WORDS, SAME_TARGET, SAME_LANGUAGE = (
    "meaning",
    "shared words",
    "same target",
    "same language",
)
#: Standard deviations above the library's average that make meaning or words a reason.
REASON_Z = 1.0
#: Entries whose mean cosine is an entry's resemblance to the rest of the library.
NEIGHBOURS = 10
#: Background posts of a language needed to calibrate its entries on them alone.
BACKGROUND_MIN_POSTS = 30
#: Sharpness of the target prediction: cosine gaps between centroids are small (a few
#: hundredths), so they are divided by this before the softmax.
TARGET_TEMPERATURE = 0.02
#: Moderation seed corpus categories that make an ordinary hateful post.
HATEFUL_CATEGORIES = frozenset({"hate", "insult", "threat"})


@dataclass(frozen=True)
class Evidence:
    """Raw evidence for one entry and one query: the encoder cosine, the word TF-IDF
    cosine, and the predicted probability that the query attacks one of the entry's
    targets."""

    meaning: float
    words: float
    target: float


@dataclass(frozen=True)
class Suggestion:
    entry: CounterSpeechEntry
    score: float
    rank: int
    evidence: Evidence
    why: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Components:
    """(queries × entries) evidence, before weighing."""

    meaning: NDArray[np.float64]  # calibrated, z-scored per query
    words: NDArray[np.float64]  # z-scored per query
    characters: NDArray[np.float64]  # z-scored per query
    target: NDArray[np.float64]  # probability of the entry's targets
    raw_meaning: NDArray[np.float64]
    raw_words: NDArray[np.float64]


def _standardised(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    mean = scores.mean(axis=1, keepdims=True)
    deviation = scores.std(axis=1, keepdims=True)
    deviation[deviation == 0] = 1.0
    result: NDArray[np.float64] = (scores - mean) / deviation
    return result


def _normalised(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: NDArray[np.float32] = (vectors / norms).astype(np.float32)
    return result


def _cosines(queries: spmatrix, documents: spmatrix) -> NDArray[np.float64]:
    return np.asarray((queries @ documents.T).todense(), dtype=np.float64)


def hateful_background() -> list[tuple[str, str]]:
    """(text, language) of the hateful posts of the moderation seed corpus, written by the
    project: what ordinary hate speech looks like, to calibrate entries against."""
    from beffroi.analysis.moderation.seed_corpus import seed_examples

    return [
        (example.text, example.language)
        # The expanded seed files only: the background the weights were chosen on
        # (docs/counter-speech.md); the moderation's everyday messages change on their own.
        for example in seed_examples(everyday=None)
        if example.category in HATEFUL_CATEGORIES
    ]


@lru_cache(maxsize=1)
def _default_background_vectors() -> tuple[tuple[str, ...], NDArray[np.float32]]:
    """The seed corpus background embedded once per process, and on disk between runs."""
    from beffroi.analysis.moderation.embedding import cached_embed
    from beffroi.config import cache_dir

    background = hateful_background()
    vectors = cached_embed([text for text, _ in background], cache_dir() / "counterspeech")
    return tuple(language for _, language in background), _normalised(vectors)


def _default_embedder() -> Embedder:
    from beffroi.analysis.moderation.embedding import embed

    return embed


class CounterSpeechIndex:
    """A searchable counter-speech library.

    ``embedder=None`` uses the sentence encoder; ``use_meaning=False`` keeps the word
    evidence only (TF-IDF cosine over word unigrams: the baseline). ``background`` is the
    (text, language) of ordinary hateful posts that meaning is calibrated against; ``None``
    uses the moderation seed corpus (with the default embedder, or when
    ``seed_background`` says so: another embedder that is the same encoder), ``()``
    calibrates nothing."""

    def __init__(
        self,
        entries: Sequence[CounterSpeechEntry],
        *,
        weights: Weights | None = None,
        use_meaning: bool = True,
        embedder: Embedder | None = None,
        background: Sequence[tuple[str, str]] | None = None,
        seed_background: bool | None = None,
    ) -> None:
        if not entries:
            raise ValueError("a counter-speech index needs at least one entry")
        self.entries: tuple[CounterSpeechEntry, ...] = tuple(entries)
        self.weights = weights or Weights()
        texts = [clean_query(entry.text) for entry in self.entries]
        self._words = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
        self._characters = TfidfVectorizer(
            sublinear_tf=True, dtype=np.float32, analyzer="char_wb", ngram_range=(3, 5)
        )
        self._character_matrix = self._characters.fit_transform(texts)
        try:
            self._word_matrix = self._words.fit_transform(texts)
        except ValueError:  # no word at all in the library (numbers or symbols only)
            self._words = self._characters
            self._word_matrix = self._character_matrix
        self._languages = np.array([entry.language.lower() for entry in self.entries])
        # Targets: the distinct declared groups, and which entries defend each.
        self.targets: tuple[str, ...] = tuple(
            sorted({target for entry in self.entries for target in entry.targets})
        )
        self._membership = np.zeros((len(self.entries), len(self.targets)), dtype=np.float64)
        for row, entry in enumerate(self.entries):
            for target in entry.targets:
                self._membership[row, self.targets.index(target)] = 1.0
        self._embed: Embedder | None = None
        self._vectors = np.zeros((len(self.entries), 0), dtype=np.float32)
        self._centroids = np.zeros((len(self.targets), 0), dtype=np.float32)
        self._centre = np.zeros(len(self.entries), dtype=np.float64)
        self._spread = np.ones(len(self.entries), dtype=np.float64)
        self._specificity = np.zeros(len(self.entries), dtype=np.float64)
        if use_meaning:
            self._embed = embedder or _default_embedder()
            self._vectors = _normalised(self._embed(texts))
            if len(self.targets) >= 2:
                sums = self._membership.T @ self._vectors.astype(np.float64)
                self._centroids = _normalised(sums.astype(np.float32))
            self._specificity = self._specificities()
            use_seed = embedder is None if seed_background is None else seed_background
            self._calibrate(background, use_default=use_seed)

    def _specificities(self) -> NDArray[np.float64]:
        """Minus how much each entry resembles its nearest entries, standardised."""
        count = len(self.entries)
        neighbours = min(NEIGHBOURS, count - 1)
        if neighbours < 1:
            return np.zeros(count, dtype=np.float64)
        resemblance = np.zeros(count, dtype=np.float64)
        for start in range(0, count, 1024):  # blocks: a 10,000-entry square is 400 MB
            block = (self._vectors[start : start + 1024] @ self._vectors.T).astype(np.float64)
            block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
            resemblance[start : start + len(block)] = np.sort(block, axis=1)[:, -neighbours:].mean(
                axis=1
            )
        deviation = resemblance.std()
        result: NDArray[np.float64] = -(resemblance - resemblance.mean()) / (deviation or 1.0)
        return result

    def _calibrate(
        self, background: Sequence[tuple[str, str]] | None, *, use_default: bool
    ) -> None:
        """Each entry's centre and spread of cosine over ordinary hateful posts, of its
        language when there are enough of them, else of all."""
        assert self._embed is not None
        if background is None:
            if not use_default:
                return
            languages, vectors = _default_background_vectors()
        elif not background:
            return
        else:
            languages = tuple(language.lower() for _, language in background)
            vectors = _normalised(self._embed([clean_query(text) for text, _ in background]))
        language_array = np.array(languages)
        # background × entries, in single precision: 3,500 posts × 10,000 entries is 140 MB.
        cosines = vectors @ self._vectors.T
        self._centre = np.median(cosines, axis=0).astype(np.float64)
        self._spread = np.maximum(cosines.std(axis=0), 0.02).astype(np.float64)
        for language in set(self._languages.tolist()):
            rows = language_array == language
            if rows.sum() < BACKGROUND_MIN_POSTS:
                continue
            columns = self._languages == language
            subset = cosines[rows][:, columns]
            self._centre[columns] = np.median(subset, axis=0)
            self._spread[columns] = np.maximum(subset.std(axis=0), 0.02)

    @property
    def uses_meaning(self) -> bool:
        return self._embed is not None

    def predict_targets(self, queries: Sequence[str]) -> NDArray[np.float64]:
        """(queries × :attr:`targets`) probability that each query attacks each group, by
        the nearest centroid of the library's entries per declared target; empty columns
        when the library declares fewer than two groups or meaning is off."""
        cleaned = [clean_query(query) for query in queries]
        return self._target_probabilities(self._query_vectors(cleaned))

    def _query_vectors(self, cleaned: Sequence[str]) -> NDArray[np.float32]:
        if self._embed is None:
            return np.zeros((len(cleaned), 0), dtype=np.float32)
        return _normalised(self._embed(cleaned))

    def _target_probabilities(self, vectors: NDArray[np.float32]) -> NDArray[np.float64]:
        if self._centroids.shape[1] == 0 or vectors.shape[1] == 0:
            return np.zeros((len(vectors), 0), dtype=np.float64)
        logits = (vectors @ self._centroids.T).astype(np.float64) / TARGET_TEMPERATURE
        logits -= logits.max(axis=1, keepdims=True)
        exponentials = np.exp(logits)
        result: NDArray[np.float64] = exponentials / exponentials.sum(axis=1, keepdims=True)
        return result

    def _components(self, queries: Sequence[str]) -> _Components:
        cleaned = [clean_query(query) for query in queries]
        raw_words = _cosines(self._words.transform(cleaned), self._word_matrix)
        words = _standardised(raw_words)
        zeros = np.zeros_like(raw_words)
        if self._embed is None:
            return _Components(zeros, words, zeros, zeros, zeros, raw_words)
        characters = _standardised(
            _cosines(self._characters.transform(cleaned), self._character_matrix)
        )
        vectors = self._query_vectors(cleaned)
        raw_meaning = (vectors @ self._vectors.T).astype(np.float64)
        meaning = _standardised((raw_meaning - self._centre) / self._spread)
        probabilities = self._target_probabilities(vectors)
        target = (
            np.minimum(probabilities @ self._membership.T, 1.0) if probabilities.shape[1] else zeros
        )
        return _Components(meaning, words, characters, target, raw_meaning, raw_words)

    def _fused(
        self,
        components: _Components,
        query_languages: Sequence[str | None],
        weights: Weights | None = None,
    ) -> NDArray[np.float64]:
        weights = weights or self.weights
        if self._embed is None:
            fused = components.words.copy()
        else:
            fused = (
                components.meaning
                + weights.words * components.words
                + weights.characters * components.characters
                + weights.target * components.target
                + weights.specificity * self._specificity
            )
        for row, language in enumerate(query_languages):
            if not language:
                continue
            same = self._languages == language.lower()
            fused[row] += weights.language * same
            if self._embed is not None:
                # Across languages, shared words are names and noise, and an entry's
                # resemblance to the others did not help either (docs/counter-speech.md):
                # only the meaning and the target count.
                other = ~same & (self._languages != "")
                fused[row, other] -= (
                    weights.words * components.words[row, other]
                    + weights.characters * components.characters[row, other]
                    + weights.specificity * self._specificity[other]
                )
        return fused

    def _languages_of(
        self, queries: Sequence[str], query_languages: Sequence[str | None] | None
    ) -> Sequence[str | None]:
        languages = query_languages if query_languages is not None else [None] * len(queries)
        if len(languages) != len(queries):
            raise ValueError("one language (or None) per query")
        return languages

    def scores(
        self, queries: Sequence[str], query_languages: Sequence[str | None] | None = None
    ) -> NDArray[np.float64]:
        """(queries × entries) fused scores; higher is a better reply."""
        languages = self._languages_of(queries, query_languages)
        return self._fused(self._components(queries), languages)

    def scores_by_weights(
        self,
        queries: Sequence[str],
        candidates: Sequence[Weights],
        query_languages: Sequence[str | None] | None = None,
    ) -> Iterator[tuple[Weights, NDArray[np.float64]]]:
        """The fused scores under each of ``candidates`` (the evidence computed once): what
        choosing the weights by cross-validation reads."""
        languages = self._languages_of(queries, query_languages)
        components = self._components(queries)
        for weights in candidates:
            yield weights, self._fused(components, languages, weights)

    def rank_many(
        self,
        queries: Sequence[str],
        query_languages: Sequence[str | None] | None = None,
        *,
        top: int = 5,
    ) -> list[list[Suggestion]]:
        """The ``top`` best entries for each query, best first, with their evidence."""
        if top < 1:
            raise ValueError("top must be at least 1")
        languages = self._languages_of(queries, query_languages)
        if not queries:
            return []
        components = self._components(queries)
        table = self._fused(components, languages)
        top = min(top, len(self.entries))
        results: list[list[Suggestion]] = []
        for row, scores in enumerate(table):
            best = np.argpartition(-scores, top - 1)[:top]
            best = best[np.argsort(-scores[best], kind="stable")]
            results.append(
                [
                    self._suggestion(
                        components, row, int(index), rank, float(scores[index]), languages[row]
                    )
                    for rank, index in enumerate(best, start=1)
                ]
            )
        return results

    def rank(
        self, query_text: str, query_language: str | None = None, *, top: int = 5
    ) -> list[Suggestion]:
        """The ``top`` best entries for one post, best first, each with why."""
        return self.rank_many([query_text], [query_language], top=top)[0]

    def _suggestion(
        self,
        components: _Components,
        row: int,
        index: int,
        rank: int,
        score: float,
        language: str | None,
    ) -> Suggestion:
        why: list[str] = []
        if self._embed is not None and components.meaning[row, index] >= REASON_Z:
            why.append(MEANING)
        if components.raw_words[row, index] > 0 and components.words[row, index] >= REASON_Z:
            why.append(SHARED_WORDS)
        if components.target[row, index] >= 0.5:
            why.append(SAME_TARGET)
        entry = self.entries[index]
        if language and entry.language.lower() == language.lower():
            why.append(SAME_LANGUAGE)
        return Suggestion(
            entry=entry,
            score=score,
            rank=rank,
            evidence=Evidence(
                meaning=float(components.raw_meaning[row, index]),
                words=float(components.raw_words[row, index]),
                target=float(components.target[row, index]),
            ),
            why=tuple(why),
        )
