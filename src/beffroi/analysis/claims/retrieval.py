"""Match incoming texts to an organization's library of checked claims, across languages.

Each claim is scored against a query by two kinds of evidence, fused per query:

- **meaning**: cosine similarity of multilingual Universal Sentence Encoder embeddings
  (the same encoder as the moderation classifier), of the claim's statement, of its title
  and of both together — a French tweet finds an English fact-check;
- **words**: TF-IDF cosine over word unigrams (sublinear term frequency), which rewards the
  rare names, numbers and places a claim and its repetitions share.

Scores of each kind are standardised per query over the whole library (z-scores) before
they are added, so that neither kind's scale dominates; ``lexical_share`` weighs the words
against the meaning. Plain Python over plain data: usable from a notebook.

Ranking says which claim an item is closest to; whether it repeats that claim at all is
another question. :meth:`ClaimIndex.calibrate` answers it with the same two kinds of
evidence, each standardised per claim against ordinary posts **in the item's language**
(the organization's own stream): a French claim naming the town is close to every French
post naming the town, and an Arabic post is far from any French claim, so a raw cosine
threshold misses translations and catches the town's name. :meth:`ClaimIndex.calibrated`
gives how far above the ordinary an item is, in standard deviations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer

from beffroi.analysis.text_bound import analysed_text

__all__ = ["Calibration", "Claim", "ClaimIndex", "Match", "clean_query"]

#: Weight of the word evidence against the meaning evidence, chosen on the CLEF 2020 dev
#: split (see docs/veille.md): the meaning carries most of the signal.
LEXICAL_SHARE = 0.2

Embedder = Callable[[Sequence[str]], NDArray[np.float32]]

_URL = re.compile(r"(?:https?://|pic\.twitter\.com/|www\.)\S+", re.IGNORECASE)
# The signature a tweet carries when copied from its embed code: "— Name (@handle) May 5, 2020".
_EMBED_SIGNATURE = re.compile(r"\s+[—-]\s+[^—]*\(@\w+\)\s+\w+\.? \d{1,2}, \d{4}\s*$")
_SPACES = re.compile(r"\s+")


def clean_query(text: str) -> str:
    """A post's text (up to the analysis bound) without links and a copied tweet's signature."""
    text = _EMBED_SIGNATURE.sub("", analysed_text(text))
    text = _URL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class Claim:
    """A checked claim: its statement, and the title of the fact-check that rated it."""

    id: str
    text: str
    title: str = ""


@dataclass(frozen=True)
class Calibration:
    """Per language (``""``: all languages together), the centre and spread of each kind of
    evidence for each claim over ordinary posts: arrays of one value per claim."""

    meaning: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
    words: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
    counts: dict[str, int]


#: Posts of a language needed to calibrate that language on its own (else: all languages).
CALIBRATION_MIN_POSTS = 30


@dataclass(frozen=True)
class Match:
    claim_id: str
    score: float
    rank: int


def _standardised(scores: NDArray[np.float64]) -> NDArray[np.float64]:
    mean = scores.mean(axis=1, keepdims=True)
    deviation = scores.std(axis=1, keepdims=True)
    deviation[deviation == 0] = 1.0
    result: NDArray[np.float64] = (scores - mean) / deviation
    return result


def _default_embedder() -> Embedder:
    from beffroi.analysis.moderation.embedding import embed

    return embed


class ClaimIndex:
    """A searchable claim library. ``embedder=None`` uses the sentence encoder;
    ``use_meaning=False`` keeps the word evidence only (fast, one language)."""

    def __init__(
        self,
        claims: Sequence[Claim],
        *,
        lexical_share: float = LEXICAL_SHARE,
        use_meaning: bool = True,
        embedder: Embedder | None = None,
    ) -> None:
        if not claims:
            raise ValueError("a claim index needs at least one claim")
        if not 0.0 <= lexical_share <= 1.0:
            raise ValueError("lexical_share must be between 0 and 1")
        self.claims: tuple[Claim, ...] = tuple(claims)
        self.lexical_share = lexical_share if use_meaning else 1.0
        documents = [f"{claim.text} {claim.title}".strip() for claim in self.claims]
        self._vectorizer = TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
        try:
            self._lexical = self._vectorizer.fit_transform(documents)
        except ValueError:  # no word at all in the library (numbers or symbols only)
            self._vectorizer = TfidfVectorizer(
                sublinear_tf=True, dtype=np.float32, analyzer="char_wb", ngram_range=(2, 4)
            )
            self._lexical = self._vectorizer.fit_transform(documents)
        self._embed: Embedder | None = None
        self._meaning: list[NDArray[np.float32]] = []
        # The last queries embedded: ranking, similarity and calibrated scores of one batch
        # read the same vectors, and the encoder is the slow part. One tuple, replaced whole,
        # so that threads sharing an index never read a half-written pair.
        self._last: tuple[tuple[str, ...], NDArray[np.float32]] | None = None
        if use_meaning:
            self._embed = embedder or _default_embedder()
            self._meaning = [
                self._normalised(self._embed([claim.text for claim in self.claims])),
                self._normalised(self._embed([claim.title or claim.text for claim in self.claims])),
                self._normalised(self._embed(documents)),
            ]

    @staticmethod
    def _normalised(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        result: NDArray[np.float32] = (vectors / norms).astype(np.float32)
        return result

    def _vectors(self, cleaned: Sequence[str]) -> NDArray[np.float32]:
        assert self._embed is not None
        key = tuple(cleaned)
        last = self._last
        if last is not None and last[0] == key:
            return last[1]
        vectors = self._normalised(self._embed(cleaned))
        self._last = (key, vectors)
        return vectors

    def scores(self, queries: Sequence[str]) -> NDArray[np.float64]:
        """(queries × claims) fused scores; higher is a better match."""
        cleaned = [clean_query(query) for query in queries]
        lexical = np.asarray((self._vectorizer.transform(cleaned) @ self._lexical.T).todense())
        fused = self.lexical_share * _standardised(lexical.astype(np.float64))
        if self._embed is not None and self.lexical_share < 1.0:
            vectors = self._vectors(cleaned)
            meaning = sum(
                (
                    _standardised((vectors @ claims.T).astype(np.float64))
                    for claims in self._meaning
                ),
                start=np.zeros_like(fused),
            )
            # Three meaning views are added, so they are brought back to one view's scale.
            fused = fused + (1.0 - self.lexical_share) * meaning / len(self._meaning)
        return fused

    def similarity(self, queries: Sequence[str]) -> NDArray[np.float64]:
        """(queries × claims) cosine similarities on an absolute scale (0–1), for deciding
        whether the best claim is a match at all: the sentence-encoder cosine of the claim's
        statement and title, or the TF-IDF cosine when meaning is not used."""
        cleaned = [clean_query(query) for query in queries]
        if self._embed is None or not self._meaning:
            lexical = self._vectorizer.transform(cleaned) @ self._lexical.T
            return np.asarray(lexical.todense(), dtype=np.float64)
        vectors = self._vectors(cleaned)
        return np.asarray(vectors @ self._meaning[2].T, dtype=np.float64)

    def evidence(self, queries: Sequence[str]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(queries × claims) raw evidence: the meaning (the mean cosine of the three views
        :meth:`scores` uses; zeros without the encoder) and the words (TF-IDF cosine)."""
        cleaned = [clean_query(query) for query in queries]
        words = np.asarray(
            (self._vectorizer.transform(cleaned) @ self._lexical.T).todense(), dtype=np.float64
        )
        meaning = np.zeros_like(words)
        if self._embed is not None and self._meaning:
            vectors = self._vectors(cleaned)
            meaning = sum(
                ((vectors @ claims.T).astype(np.float64) for claims in self._meaning),
                start=meaning,
            ) / len(self._meaning)
        return meaning, words

    def calibrate(
        self,
        texts: Sequence[str],
        languages: Sequence[str],
        *,
        min_posts: int = CALIBRATION_MIN_POSTS,
    ) -> Calibration | None:
        """How each claim scores against ordinary posts (``texts``, with their languages),
        per language with at least ``min_posts`` posts and over all of them; ``None`` when
        there are fewer than ``min_posts`` posts in all (nothing to compare with).

        The centre is the median and the spread the standard deviation floored at 0.02, so
        that the few posts that do repeat a claim move neither much."""
        if len(texts) != len(languages):
            raise ValueError("one language per text")
        if len(texts) < min_posts:
            return None
        meaning, words = self.evidence(texts)
        groups: dict[str, list[int]] = {"": list(range(len(texts)))}
        for row, language in enumerate(languages):
            groups.setdefault(language or "", []).append(row)

        def stats(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            return np.median(values, axis=0), np.maximum(values.std(axis=0), 0.02)

        kept = {lang: rows for lang, rows in groups.items() if len(rows) >= min_posts or not lang}
        return Calibration(
            meaning={lang: stats(meaning[rows]) for lang, rows in kept.items()},
            words={lang: stats(words[rows]) for lang, rows in kept.items()},
            counts={lang: len(rows) for lang, rows in kept.items()},
        )

    def calibrated(
        self,
        queries: Sequence[str],
        languages: Sequence[str],
        calibration: Calibration,
        *,
        evidence: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> NDArray[np.float64]:
        """(queries × claims): how many standard deviations above ordinary posts of its
        language each query scores for each claim, words and meaning weighed as in
        :meth:`scores` (``lexical_share``)."""
        meaning, words = evidence if evidence is not None else self.evidence(queries)
        result = np.zeros_like(words)
        for row, language in enumerate(languages):
            key = language if language in calibration.meaning else ""
            (m_centre, m_spread), (w_centre, w_spread) = (
                calibration.meaning[key],
                calibration.words[key],
            )
            lexical = (words[row] - w_centre) / w_spread
            if self._embed is None or not self._meaning:
                result[row] = lexical
                continue
            semantic = (meaning[row] - m_centre) / m_spread
            result[row] = self.lexical_share * lexical + (1.0 - self.lexical_share) * semantic
        return result

    def search(self, queries: Sequence[str], k: int = 5) -> list[list[Match]]:
        """The ``k`` best claims for each query, best first."""
        if k < 1:
            raise ValueError("k must be at least 1")
        if not queries:
            return []
        table = self.scores(queries)
        k = min(k, len(self.claims))
        results: list[list[Match]] = []
        for row in table:
            best = np.argpartition(-row, k - 1)[:k]
            best = best[np.argsort(-row[best], kind="stable")]
            results.append(
                [
                    Match(self.claims[index].id, float(row[index]), rank)
                    for rank, index in enumerate(best, start=1)
                ]
            )
        return results
