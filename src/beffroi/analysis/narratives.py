"""Narratives: short posts clustered into stories, incrementally, across languages.

Each incoming item is cleaned (links, @mentions, a copied tweet's signature), embedded with
the multilingual Universal Sentence Encoder (the offline encoder of the moderation classifier:
the same story in French, English and Arabic lands close together) and compared by cosine
with the centroid of every open cluster:

- at or above ``threshold`` it joins the nearest cluster (its centroid is the normalised
  running mean of its members' vectors);
- below, it starts a **candidate**. A candidate becomes a **narrative** once it holds
  ``min_items`` items (an item alone is not a story); a candidate that gets no item for
  ``candidate_window`` is dropped, which bounds the number of open clusters.

The cost of a batch is its embedding plus one product with the centroid matrix: it does not
depend on the number of items seen before. Keywords are class-based TF-IDF (c-TF-IDF, as in
BERTopic) over the words of each cluster against all clusters, from word counts kept up to
date as items arrive; representative items are the members closest to the centroid.

Analysts can :meth:`~NarrativeClusterer.rename`, :meth:`~NarrativeClusterer.merge` and
:meth:`~NarrativeClusterer.split` narratives. :func:`timeline`, :func:`growth` and
:func:`resurgences` describe how narratives rise and fall. The whole state goes through
:meth:`~NarrativeClusterer.to_dict` / :meth:`~NarrativeClusterer.from_dict` (JSON-safe) so a
web application can keep one clusterer per organization and continue later.

Plain Python over plain data: usable from a notebook, no Django.
"""

from __future__ import annotations

import base64
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from beffroi.analysis.text_bound import analysed_text

__all__ = [
    "CANDIDATE_WINDOW",
    "MIN_ITEMS",
    "MIN_TEXT_LENGTH",
    "THRESHOLD",
    "Assignment",
    "Embedder",
    "Growth",
    "Narrative",
    "NarrativeClusterer",
    "NarrativeItem",
    "Resurgence",
    "Summary",
    "Timeline",
    "clean_text",
    "growth",
    "headline",
    "keywords_of",
    "resurgences",
    "timeline",
    "tokens",
]

Embedder = Callable[[Sequence[str]], NDArray[np.float32]]

#: Cosine similarity from which an item joins a cluster. Chosen on the CLEF 2020 dev split
#: (``python -m beffroi.analysis.narratives_eval``, see docs/veille-narratives.md): the best
#: pairwise F1 of the clustering (0.426; 0.575 gives 0.423, 0.55 0.355, 0.65 0.351). With this
#: encoder, translations of one sentence score about 0.7-0.85, unrelated posts 0.1-0.3.
THRESHOLD = 0.6
#: Items a candidate needs to become a narrative.
MIN_ITEMS = 3
#: A candidate that gets no new item for this long is dropped.
CANDIDATE_WINDOW = timedelta(days=7)
#: Cleaned texts shorter than this (in characters) are ignored: too little to tell a story.
MIN_TEXT_LENGTH = 15
#: Candidates within ``threshold`` of a narrative's centroid join it after each batch
#: (:meth:`NarrativeClusterer._absorb_candidates`).
ABSORB = True
#: Keywords and representative items reported per narrative.
KEYWORDS = 8
REPRESENTATIVES = 3
STATE_VERSION = 1

_URL = re.compile(r"(?:https?://|pic\.twitter\.com/|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@\w+:?")
_RETWEET = re.compile(r"^\s*RT\b:?", re.IGNORECASE)
# The signature a tweet carries when copied from its embed code: "— Name (@handle) May 5, 2020".
_EMBED_SIGNATURE = re.compile(r"\s+[—-]\s+[^—]*\(@\w+\)\s+\w+\.? \d{1,2}, \d{4}\s*$")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_ARABIC_MARKS = re.compile(r"[\u064B-\u065F\u0670\u0640]")  # harakat, dagger alif, tatweel
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu)['’]")

STOP_WORDS: frozenset[str] = frozenset(
    # English
    """a about after again all also am an and any are as at be because been before being but
    by can could did do does doing down during each few for from further had has have having
    he her here hers him his how i if in into is it its just me more most my no nor not now of
    off on once only or other our out over own same she should so some such than that the
    their them then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours amp via rt
    get got one new like says said says just people know see""".split()
    # French
    + """au aux avec ce ces cet cette dans de des du elle elles en et eux il ils je la le les
    leur leurs lui ma mais me même mes moi mon ne nos notre nous on ou où par pas pour qu que
    qui sa se ses son sur ta te tes toi ton tu un une vos votre vous est sont été être avoir
    ont fait faire plus tout tous toute toutes très bien aussi comme donc car ni si y là ça
    cela ceci rien encore déjà sans sous entre vers chez après avant""".split()
    # Arabic
    + """في من على إلى الى عن مع هذا هذه ذلك تلك التي الذي الذين هو هي هم نحن انت أنت أنا انا
    كان كانت يكون ما لا لم لن قد ثم أو او و ف ب ل كل بعد قبل عند حتى إن ان أن كما لكن بين
    عليه عليها فيه فيها منه منها هناك هنا أي اي غير بل ايضا أيضا""".split()
)


def clean_text(text: str) -> str:
    """A post's text without links, @mentions, a retweet marker or a copied tweet's signature
    (read up to the analysis bound: a member keeps this text in the narrative state)."""
    text = _EMBED_SIGNATURE.sub("", analysed_text(text))
    text = _URL.sub(" ", text)
    text = _RETWEET.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """Lower-cased words of at least 3 letters that are not stop words (fr/en/ar); a French
    elision is dropped ("l'eau" → "eau"), Arabic diacritics and tatweel are removed."""
    words: list[str] = []
    for match in _WORD.finditer(_ARABIC_MARKS.sub("", text.lower())):
        word = _ELISION.sub("", match.group()).replace("’", "'")
        if len(word) < 3 or word in STOP_WORDS or word.isdigit():
            continue
        words.append(word)
    return words


def keywords_of(
    counts: Counter[str], totals: Counter[str], classes: int, total_words: int, k: int = KEYWORDS
) -> list[str]:
    """The ``k`` words of one class with the highest c-TF-IDF weight.

    ``counts``: word frequencies in the class; ``totals``: in all classes together;
    ``classes``: number of classes; ``total_words``: sum of ``totals``. The weight is
    ``tf(t, c) / |c| * log(1 + A / f(t))`` with ``A`` the average number of words per class
    and ``f(t)`` the frequency of ``t`` over all classes (BERTopic's c-TF-IDF). Ties go to
    the alphabetically first word, so that the result is stable.
    """
    size = sum(counts.values())
    if not size or not classes:
        return []
    average = total_words / classes
    scored = [
        (-(count / size) * math.log(1.0 + average / max(totals.get(word, 0), count)), word)
        for word, count in counts.items()
    ]
    scored.sort()
    return [word for _, word in scored[:k]]


@dataclass(frozen=True)
class NarrativeItem:
    """One post to cluster; ``created_at`` must be timezone-aware."""

    id: str
    text: str
    created_at: datetime
    language: str = ""


@dataclass
class Narrative:
    """A story: a snapshot of one cluster that reached ``min_items`` items (or was made by an
    analyst). ``centroid`` is the normalised mean of its members' embeddings."""

    id: str
    centroid: NDArray[np.float32]
    item_ids: list[str]
    first_seen: datetime
    last_seen: datetime
    keywords: list[str] = field(default_factory=list)
    representative_ids: list[str] = field(default_factory=list)
    languages: dict[str, int] = field(default_factory=dict)
    name: str | None = None
    #: Per language of its members: the text of the member closest to the centroid among
    #: those in that language, and the keywords of those members; ``""``: over all members.
    summaries: dict[str, Summary] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.item_ids)

    @property
    def label(self) -> str:
        """The analyst's name, else its most representative post and keywords."""
        summary = self.summaries.get("")
        return self.name or (summary.label if summary else ", ".join(self.keywords[:3]) or self.id)

    def label_in(self, language: str) -> str:
        """:attr:`label` read in ``language`` when some members are written in it."""
        summary = self.summaries.get(language) or self.summaries.get("")
        return self.name or (summary.label if summary else self.label)


#: Characters of the representative post in a narrative's label.
HEADLINE_CHARACTERS = 80
#: Keywords in a narrative's label.
LABEL_KEYWORDS = 3


def headline(text: str, limit: int = HEADLINE_CHARACTERS) -> str:
    """``text`` on one line, cut after a word within ``limit`` characters, with "…"."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-–—«»\"'") + "…"


@dataclass(frozen=True)
class Summary:
    """What a narrative says, for a reader: its most representative post (trimmed) and the
    words that set it apart from the other narratives."""

    text: str
    keywords: tuple[str, ...]

    @property
    def label(self) -> str:
        words = ", ".join(self.keywords[:LABEL_KEYWORDS])
        return f"« {headline(self.text)} » ({words})" if words else f"« {headline(self.text)} »"

    def as_dict(self) -> dict[str, Any]:
        return {"text": headline(self.text), "keywords": list(self.keywords)}


Status = Literal["narrative", "candidate", "ignored"]


@dataclass(frozen=True)
class Assignment:
    """Where one item of a batch went, as of the end of the batch.

    ``similarity``: cosine with the centroid of the cluster it joined, before it joined
    (for an item that started a candidate: with the nearest cluster, 0 when there was none).
    ``promoted``: this item made its candidate a narrative. ``reason`` says why an item was
    ignored (``"too short"``, ``"duplicate"``).
    """

    item_id: str
    status: Status
    cluster_id: str | None
    similarity: float
    promoted: bool = False
    reason: str = ""

    @property
    def narrative_id(self) -> str | None:
        return self.cluster_id if self.status == "narrative" else None


@dataclass
class _Member:
    id: str
    text: str
    created_at: datetime
    language: str
    vector: NDArray[np.float32]
    words: list[str]


@dataclass
class _Cluster:
    id: str
    members: list[_Member]
    total: NDArray[np.float64]
    words: Counter[str]
    promoted: bool = False
    name: str | None = None

    @property
    def centroid(self) -> NDArray[np.float32]:
        norm = float(np.linalg.norm(self.total))
        result: NDArray[np.float32] = (self.total / (norm or 1.0)).astype(np.float32)
        return result

    @property
    def first_seen(self) -> datetime:
        return min(member.created_at for member in self.members)

    @property
    def last_seen(self) -> datetime:
        return max(member.created_at for member in self.members)


def _default_embedder() -> Embedder:
    from beffroi.analysis.moderation.embedding import embed

    return embed


def _normalised(vectors: NDArray[np.float32]) -> NDArray[np.float32]:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: NDArray[np.float32] = (vectors / norms).astype(np.float32)
    return result


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
    return moment


class NarrativeClusterer:
    """Incremental clustering of items into narratives; see the module's documentation.

    ``embedder=None`` uses the multilingual sentence encoder; any function from texts to an
    (n, d) float32 matrix will do (rows are normalised here).
    """

    def __init__(
        self,
        *,
        threshold: float = THRESHOLD,
        min_items: int = MIN_ITEMS,
        candidate_window: timedelta | None = CANDIDATE_WINDOW,
        min_text_length: int = MIN_TEXT_LENGTH,
        embedder: Embedder | None = None,
        absorb: bool = ABSORB,
    ) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise ValueError("threshold must be a cosine similarity, between -1 and 1")
        if min_items < 1:
            raise ValueError("min_items must be at least 1")
        if candidate_window is not None and candidate_window <= timedelta(0):
            raise ValueError("candidate_window must be positive (or None: candidates stay)")
        self.threshold = threshold
        self.min_items = min_items
        self.candidate_window = candidate_window
        self.min_text_length = min_text_length
        self.absorb = absorb
        self._embedder = embedder
        self._clusters: dict[str, _Cluster] = {}
        self._item_cluster: dict[str, str] = {}
        self._words: Counter[str] = Counter()
        self._next_id = 1
        self._clock: datetime | None = None
        # Centroid matrix: one row per open cluster, in ``_order``; rebuilt after removals.
        self._order: list[str] = []
        self._matrix: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._rows: dict[str, int] = {}
        self._stale = True

    # -- incoming items -------------------------------------------------------------------

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self._embedder is None:
            self._embedder = _default_embedder()
        vectors = np.asarray(self._embedder(texts), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError("the embedder must return one row per text")
        return _normalised(vectors)

    def _rebuild(self, dimensions: int) -> None:
        self._order = list(self._clusters)
        capacity = max(16, 2 * len(self._order))
        self._matrix = np.zeros((capacity, dimensions), dtype=np.float32)
        for row, cluster_id in enumerate(self._order):
            self._matrix[row] = self._clusters[cluster_id].centroid
        self._rows = {cluster_id: row for row, cluster_id in enumerate(self._order)}
        self._stale = False

    def _append_row(self, cluster: _Cluster) -> None:
        if len(self._order) == self._matrix.shape[0]:
            grown = np.zeros((2 * self._matrix.shape[0], self._matrix.shape[1]), np.float32)
            grown[: len(self._order)] = self._matrix[: len(self._order)]
            self._matrix = grown
        self._rows[cluster.id] = len(self._order)
        self._matrix[len(self._order)] = cluster.centroid
        self._order.append(cluster.id)

    def _new_id(self) -> str:
        identifier = f"n{self._next_id}"
        self._next_id += 1
        return identifier

    def _join(self, cluster: _Cluster, member: _Member) -> None:
        cluster.members.append(member)
        cluster.total += member.vector
        cluster.words.update(set(member.words))
        self._words.update(set(member.words))
        self._item_cluster[member.id] = cluster.id

    def _drop(self, cluster_id: str) -> None:
        cluster = self._clusters.pop(cluster_id)
        self._words.subtract(cluster.words)
        self._words = +self._words
        for member in cluster.members:
            self._item_cluster.pop(member.id, None)
        self._stale = True

    def _expire_candidates(self) -> None:
        if self.candidate_window is None or self._clock is None:
            return
        limit = self._clock - self.candidate_window
        for cluster_id in [
            cluster.id
            for cluster in self._clusters.values()
            if not cluster.promoted and cluster.last_seen < limit
        ]:
            self._drop(cluster_id)

    def add(self, items: Iterable[NarrativeItem]) -> list[Assignment]:
        """Cluster a batch of new items, in the given order; one assignment per item."""
        items = list(items)
        results: list[Assignment | None] = [None] * len(items)
        kept: list[tuple[int, NarrativeItem, str]] = []
        batch_ids: set[str] = set()
        for index, item in enumerate(items):
            _aware(item.created_at, f"item {item.id!r}: created_at")
            text = clean_text(item.text)
            if item.id in self._item_cluster or item.id in batch_ids:
                results[index] = Assignment(item.id, "ignored", None, 0.0, reason="duplicate")
            elif len(text) < self.min_text_length:
                results[index] = Assignment(item.id, "ignored", None, 0.0, reason="too short")
            else:
                batch_ids.add(item.id)
                kept.append((index, item, text))
        if kept:
            newest = max(item.created_at for _, item, _ in kept)
            self._clock = newest if self._clock is None else max(self._clock, newest)
        self._expire_candidates()
        if not kept:
            return [result for result in results if result is not None]
        vectors = self._embed([text for _, _, text in kept])
        dimensions = vectors.shape[1]
        known = next(iter(self._clusters.values()), None)
        if known is not None and known.total.shape[0] != dimensions:
            raise ValueError("the embedder's dimensions changed")
        if self._stale or self._matrix.shape[1] != dimensions:
            self._rebuild(dimensions)
        joined: list[tuple[int, str, float, bool]] = []
        for (index, item, text), vector in zip(kept, vectors, strict=True):
            member = _Member(item.id, text, item.created_at, item.language, vector, tokens(text))
            open_rows = len(self._order)
            best_row, best = -1, 0.0
            if open_rows:
                similarities = self._matrix[:open_rows] @ vector
                best_row = int(np.argmax(similarities))
                best = float(similarities[best_row])
            promoted = False
            if best_row >= 0 and best >= self.threshold:
                cluster = self._clusters[self._order[best_row]]
                self._join(cluster, member)
                self._matrix[best_row] = cluster.centroid
                if not cluster.promoted and len(cluster.members) >= self.min_items:
                    cluster.promoted = promoted = True
            else:
                cluster = _Cluster(
                    self._new_id(), [], np.zeros(vector.shape, np.float64), Counter()
                )
                self._clusters[cluster.id] = cluster
                self._join(cluster, member)
                cluster.promoted = promoted = self.min_items <= 1
                self._append_row(cluster)
            joined.append((index, cluster.id, best, promoted))
        if self.absorb:
            self._absorb_candidates()
        for index, cluster_id, similarity, promoted in joined:
            cluster_id = self._item_cluster.get(items[index].id, cluster_id)
            status: Status = "narrative" if self._clusters[cluster_id].promoted else "candidate"
            results[index] = Assignment(items[index].id, status, cluster_id, similarity, promoted)
        return [result for result in results if result is not None]

    def _absorb_candidates(self) -> None:
        """Candidates whose centroid has come within ``threshold`` of a narrative's join it.

        An item is compared with the centroids as they stand when it arrives; a story's
        centroid moves as its narrative grows, and rewordings that arrived early (or in
        another language) end up close to it while alone in a candidate of their own."""
        narratives = [cluster for cluster in self._clusters.values() if cluster.promoted]
        candidates = [cluster for cluster in self._clusters.values() if not cluster.promoted]
        if not narratives or not candidates:
            return
        centroids = np.stack([cluster.centroid for cluster in narratives])
        for candidate in candidates:
            similarities = centroids @ candidate.centroid
            best = int(np.argmax(similarities))
            if float(similarities[best]) < self.threshold:
                continue
            target = narratives[best]
            for member in candidate.members:
                target.members.append(member)
                self._item_cluster[member.id] = target.id
            target.total += candidate.total
            target.words.update(candidate.words)
            del self._clusters[candidate.id]
            self._stale = True

    # -- reading --------------------------------------------------------------------------

    def _snapshot(self, cluster: _Cluster, keywords: int, representatives: int) -> Narrative:
        centroid = cluster.centroid
        vectors = np.stack([member.vector for member in cluster.members])
        closeness = vectors @ centroid
        best = np.argsort(-closeness, kind="stable")[:representatives]
        languages = Counter(member.language for member in cluster.members if member.language)
        classes, total_words = len(self._clusters), sum(self._words.values())
        summaries: dict[str, Summary] = {}
        # Over all members, then for each language: a reader is shown the story in theirs.
        for language in ["", *sorted(languages)]:
            chosen = [
                n
                for n, member in enumerate(cluster.members)
                if not language or member.language == language
            ]
            closest = max(chosen, key=lambda n: (float(closeness[n]), -n))
            words: Counter[str] = Counter()
            for n in chosen:
                words.update(set(cluster.members[n].words))
            summaries[language] = Summary(
                cluster.members[closest].text,
                tuple(keywords_of(words, self._words, classes, total_words, keywords)),
            )
        return Narrative(
            id=cluster.id,
            centroid=centroid,
            item_ids=[member.id for member in cluster.members],
            first_seen=cluster.first_seen,
            last_seen=cluster.last_seen,
            keywords=keywords_of(
                cluster.words,
                self._words,
                len(self._clusters),
                sum(self._words.values()),
                keywords,
            ),
            representative_ids=[cluster.members[int(i)].id for i in best],
            languages=dict(sorted(languages.items())),
            name=cluster.name,
            summaries=summaries,
        )

    def narratives(
        self, *, keywords: int = KEYWORDS, representatives: int = REPRESENTATIVES
    ) -> list[Narrative]:
        """Every narrative (candidates excluded), the largest first."""
        found = [
            self._snapshot(cluster, keywords, representatives)
            for cluster in self._clusters.values()
            if cluster.promoted
        ]
        found.sort(key=lambda narrative: (-narrative.size, narrative.first_seen, narrative.id))
        return found

    def narrative(
        self, narrative_id: str, *, keywords: int = KEYWORDS, representatives: int = REPRESENTATIVES
    ) -> Narrative:
        return self._snapshot(self._narrative(narrative_id), keywords, representatives)

    def candidates(self) -> dict[str, list[str]]:
        """Open candidates: their id and item ids."""
        return {
            cluster.id: [member.id for member in cluster.members]
            for cluster in self._clusters.values()
            if not cluster.promoted
        }

    def cluster_of(self, item_id: str) -> str | None:
        """The narrative or candidate an item belongs to, if any."""
        return self._item_cluster.get(item_id)

    def item_times(self) -> dict[str, datetime]:
        """``created_at`` of every item in a narrative, for :func:`timeline` and friends."""
        return {
            member.id: member.created_at
            for cluster in self._clusters.values()
            if cluster.promoted
            for member in cluster.members
        }

    def texts(self, item_ids: Iterable[str]) -> dict[str, str]:
        """The cleaned texts of some items (those still held)."""
        wanted = set(item_ids)
        return {
            member.id: member.text
            for cluster in self._clusters.values()
            for member in cluster.members
            if member.id in wanted
        }

    # -- analyst operations ---------------------------------------------------------------

    def _narrative(self, narrative_id: str) -> _Cluster:
        cluster = self._clusters.get(narrative_id)
        if cluster is None or not cluster.promoted:
            raise KeyError(f"no narrative {narrative_id!r}")
        return cluster

    def rename(self, narrative_id: str, name: str | None) -> Narrative:
        """Give a narrative a name (``None`` or blank: back to its keywords)."""
        cluster = self._narrative(narrative_id)
        cluster.name = (name or "").strip() or None
        return self._snapshot(cluster, KEYWORDS, REPRESENTATIVES)

    def merge(self, a: str, b: str) -> Narrative:
        """Move every item of narrative ``b`` into ``a``; ``b`` disappears. ``a`` keeps its
        name, or takes ``b``'s when it has none."""
        if a == b:
            raise ValueError("cannot merge a narrative with itself")
        target, source = self._narrative(a), self._narrative(b)
        target.members.extend(source.members)
        target.total += source.total
        target.words.update(source.words)
        target.name = target.name or source.name
        for member in source.members:
            self._item_cluster[member.id] = target.id
        del self._clusters[source.id]
        self._stale = True
        return self._snapshot(target, KEYWORDS, REPRESENTATIVES)

    def split(self, narrative_id: str, item_ids: Iterable[str]) -> Narrative:
        """Move the given items of a narrative into a new narrative (an analyst's decision:
        it is one whatever its size); both centroids are recomputed from their members."""
        cluster = self._narrative(narrative_id)
        moving = set(item_ids)
        if not moving:
            raise ValueError("no item to split off")
        unknown = moving - {member.id for member in cluster.members}
        if unknown:
            raise ValueError(f"not in narrative {narrative_id!r}: {', '.join(sorted(unknown))}")
        if len(moving) == len(cluster.members):
            raise ValueError("a split must leave at least one item in the narrative")
        staying = [member for member in cluster.members if member.id not in moving]
        leaving = [member for member in cluster.members if member.id in moving]
        created = _Cluster(self._new_id(), [], np.zeros_like(cluster.total), Counter())
        created.promoted = True
        for part, members in ((cluster, staying), (created, leaving)):
            part.members = list(members)
            part.total = np.sum([m.vector for m in members], axis=0, dtype=np.float64)
            part.words = Counter(word for m in members for word in set(m.words))
        self._clusters[created.id] = created
        for member in leaving:
            self._item_cluster[member.id] = created.id
        self._stale = True
        return self._snapshot(created, KEYWORDS, REPRESENTATIVES)

    # -- state ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state: settings, every open cluster with its members (id, cleaned text,
        time, language) and their vectors (float32, little-endian, base64)."""
        clusters = []
        for cluster in self._clusters.values():
            vectors = np.stack([m.vector for m in cluster.members]).astype("<f4")
            clusters.append(
                {
                    "id": cluster.id,
                    "promoted": cluster.promoted,
                    "name": cluster.name,
                    "dimensions": int(vectors.shape[1]),
                    "vectors": base64.b64encode(vectors.tobytes()).decode("ascii"),
                    "members": [
                        [m.id, m.text, m.created_at.isoformat(), m.language]
                        for m in cluster.members
                    ],
                }
            )
        window = self.candidate_window
        return {
            "version": STATE_VERSION,
            "threshold": self.threshold,
            "min_items": self.min_items,
            "candidate_window_seconds": None if window is None else window.total_seconds(),
            "min_text_length": self.min_text_length,
            "absorb": self.absorb,
            "next_id": self._next_id,
            "clock": None if self._clock is None else self._clock.isoformat(),
            "clusters": clusters,
        }

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, embedder: Embedder | None = None
    ) -> NarrativeClusterer:
        """A clusterer from :meth:`to_dict`'s output, ready to take more items."""
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown narrative state version {data.get('version')!r}")
        window = data["candidate_window_seconds"]
        clusterer = cls(
            threshold=float(data["threshold"]),
            min_items=int(data["min_items"]),
            candidate_window=None if window is None else timedelta(seconds=float(window)),
            min_text_length=int(data["min_text_length"]),
            embedder=embedder,
            # States saved before absorption existed take it up from now on.
            absorb=bool(data.get("absorb", ABSORB)),
        )
        clusterer._next_id = int(data["next_id"])
        clusterer._clock = None if data["clock"] is None else datetime.fromisoformat(data["clock"])
        for entry in data["clusters"]:
            raw = base64.b64decode(entry["vectors"])
            vectors = np.frombuffer(raw, dtype="<f4").reshape(-1, int(entry["dimensions"]))
            if vectors.shape[0] != len(entry["members"]):
                raise ValueError(f"cluster {entry['id']!r}: vectors and members differ in number")
            cluster = _Cluster(
                str(entry["id"]),
                [],
                np.zeros(vectors.shape[1], np.float64),
                Counter(),
                promoted=bool(entry["promoted"]),
                name=entry.get("name"),
            )
            clusterer._clusters[cluster.id] = cluster
            for (item_id, text, created_at, language), vector in zip(
                entry["members"], vectors, strict=True
            ):
                member = _Member(
                    str(item_id),
                    str(text),
                    datetime.fromisoformat(created_at),
                    str(language),
                    vector.astype(np.float32),
                    tokens(str(text)),
                )
                clusterer._join(cluster, member)
        return clusterer


# -- how narratives rise and fall --------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Timeline:
    """Items per bucket: ``counts[narrative_id][i]`` items in ``[buckets[i], buckets[i] +
    bucket)``. Buckets are contiguous (empty ones included), aligned on ``origin``."""

    buckets: list[datetime]
    counts: dict[str, list[int]]
    bucket: timedelta


def _times(narrative: Narrative, items_times: Mapping[str, datetime]) -> list[datetime]:
    return sorted(
        _aware(items_times[item_id], f"time of {item_id!r}")
        for item_id in narrative.item_ids
        if item_id in items_times
    )


def timeline(
    narratives: Sequence[Narrative],
    items_times: Mapping[str, datetime],
    bucket: timedelta = timedelta(days=1),
    *,
    origin: datetime = EPOCH,
) -> Timeline:
    """Counts per bucket per narrative, from the first to the last bucket with an item (for a
    chart of narratives rising and falling). Items missing from ``items_times`` are skipped."""
    if bucket <= timedelta(0):
        raise ValueError("bucket must be positive")
    _aware(origin, "origin")
    indices: dict[str, list[int]] = {
        narrative.id: [(moment - origin) // bucket for moment in _times(narrative, items_times)]
        for narrative in narratives
    }
    every = [index for values in indices.values() for index in values]
    if not every:
        return Timeline([], {narrative.id: [] for narrative in narratives}, bucket)
    low, high = min(every), max(every)
    buckets = [origin + bucket * index for index in range(low, high + 1)]
    counts: dict[str, list[int]] = {}
    for narrative_id, values in indices.items():
        row = [0] * len(buckets)
        for index in values:
            row[index - low] += 1
        counts[narrative_id] = row
    return Timeline(buckets, counts, bucket)


@dataclass(frozen=True)
class Growth:
    """Items in the last ``window`` before ``now`` against the ``window`` before that.

    ``ratio`` is smoothed, ``(recent + 1) / (previous + 1)``, so that it is defined for a
    narrative that was silent (1 → 0 items is 0.5, 0 → 4 is 5.0)."""

    narrative_id: str
    recent: int
    previous: int
    change: int
    ratio: float


def growth(
    narratives: Sequence[Narrative],
    items_times: Mapping[str, datetime],
    now: datetime,
    window: timedelta = timedelta(hours=24),
) -> list[Growth]:
    """Growth of each narrative, the fastest growing first (by ``change``, then ``ratio``)."""
    _aware(now, "now")
    if window <= timedelta(0):
        raise ValueError("window must be positive")
    results = []
    for narrative in narratives:
        moments = _times(narrative, items_times)
        recent = sum(1 for moment in moments if now - window < moment <= now)
        previous = sum(1 for moment in moments if now - 2 * window < moment <= now - window)
        results.append(
            Growth(narrative.id, recent, previous, recent - previous, (recent + 1) / (previous + 1))
        )
    results.sort(key=lambda g: (-g.change, -g.ratio, g.narrative_id))
    return results


@dataclass(frozen=True)
class Resurgence:
    """A narrative that got an item at ``at`` after ``quiet_for`` without any (its previous
    item was at ``previous``); ``items`` counts the items of the new wave until the next
    quiet spell."""

    narrative_id: str
    at: datetime
    previous: datetime
    quiet_for: timedelta
    items: int


def resurgences(
    narratives: Sequence[Narrative],
    items_times: Mapping[str, datetime],
    quiet: timedelta = timedelta(days=3),
    *,
    since: datetime | None = None,
) -> list[Resurgence]:
    """Every time a narrative came back after at least ``quiet`` without items, in time
    order (only those from ``since`` on, when given)."""
    if quiet <= timedelta(0):
        raise ValueError("quiet must be positive")
    found: list[Resurgence] = []
    for narrative in narratives:
        moments = _times(narrative, items_times)
        waves = [0] + [i for i in range(1, len(moments)) if moments[i] - moments[i - 1] >= quiet]
        for number, start in enumerate(waves[1:], start=1):
            end = waves[number + 1] if number + 1 < len(waves) else len(moments)
            at = moments[start]
            if since is not None and at < since:
                continue
            previous = moments[start - 1]
            found.append(Resurgence(narrative.id, at, previous, at - previous, end - start))
    found.sort(key=lambda r: (r.at, r.narrative_id))
    return found
