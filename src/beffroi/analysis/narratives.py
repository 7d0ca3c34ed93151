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
    "Changes",
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
#: A candidate within ``threshold`` of a narrative's centroid joins it at once
#: (:meth:`NarrativeClusterer._settle`).
ABSORB = True
#: Keywords and representative items reported per narrative.
KEYWORDS = 8
REPRESENTATIVES = 3
#: Members kept per cluster to pick its representatives from (the closest to the centroid),
#: and at least this many per language (a reader is shown a post in theirs).
POOL_SIZE = 16
LANGUAGE_POOL = 2
#: 2: clusters as running sums and a pool of representatives, members only when kept.
STATE_VERSION = 2
#: Old clusters (quiet candidates, narratives) are closed each time the clock (the newest
#: item's time) enters a new period of this length.
CLOSE_INTERVAL = timedelta(hours=1)

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
    #: How many items it holds (``item_ids`` is empty when the clusterer keeps no members).
    count: int = 0

    @property
    def size(self) -> int:
        return self.count or len(self.item_ids)

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
    """One open cluster: running sums of its members (what matching and keywords need) and
    a bounded pool of members to pick representatives from; every member only when the
    clusterer keeps them (``keep_members``)."""

    id: str
    total: NDArray[np.float32]
    words: Counter[str] = field(default_factory=Counter)
    promoted: bool = False
    name: str | None = None
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    languages: Counter[str] = field(default_factory=Counter)
    language_words: dict[str, Counter[str]] = field(default_factory=dict)
    pool: list[_Member] = field(default_factory=list)
    members: list[_Member] | None = None

    @property
    def centroid(self) -> NDArray[np.float32]:
        norm = float(np.linalg.norm(self.total))
        result: NDArray[np.float32] = (self.total / (norm or 1.0)).astype(np.float32)
        return result

    def seen(self) -> tuple[datetime, datetime]:
        assert self.first_seen is not None and self.last_seen is not None
        return self.first_seen, self.last_seen

    def add(self, member: _Member) -> None:
        """Count one member in (its vector, words, language and time)."""
        self.count += 1
        self.total += member.vector
        distinct = set(member.words)
        self.words.update(distinct)
        self.languages[member.language] += 1
        self.language_words.setdefault(member.language, Counter()).update(distinct)
        moment = member.created_at
        self.first_seen = moment if self.first_seen is None else min(self.first_seen, moment)
        self.last_seen = moment if self.last_seen is None else max(self.last_seen, moment)
        self.pool.append(member)
        if self.members is not None:
            self.members.append(member)
        if len(self.pool) > 2 * POOL_SIZE:
            self.trim_pool()

    def take(self, other: _Cluster) -> None:
        """Count every member of ``other`` in (an absorbed candidate, a merged narrative)."""
        self.count += other.count
        self.total += other.total
        self.words.update(other.words)
        self.languages.update(other.languages)
        for language, words in other.language_words.items():
            self.language_words.setdefault(language, Counter()).update(words)
        first, last = other.seen()
        self.first_seen = first if self.first_seen is None else min(self.first_seen, first)
        self.last_seen = last if self.last_seen is None else max(self.last_seen, last)
        self.pool.extend(other.pool)
        if self.members is not None and other.members is not None:
            self.members.extend(other.members)
        self.trim_pool()

    def ranked_pool(self) -> list[int]:
        """Positions in the pool, the member closest to the centroid first (ties: earliest)."""
        if not self.pool:
            return []
        closeness = np.stack([member.vector for member in self.pool]) @ self.centroid
        return [int(i) for i in np.argsort(-closeness, kind="stable")]

    def trim_pool(self) -> None:
        """Keep the POOL_SIZE members closest to the centroid and, for each language, its
        LANGUAGE_POOL closest: the representatives (overall and per language) come from
        these. Exact while a cluster has at most POOL_SIZE members; beyond, a member that
        was far from the centroid when the pool was trimmed cannot come back."""
        if len(self.pool) <= POOL_SIZE:
            return
        ranked = self.ranked_pool()
        keep = set(ranked[:POOL_SIZE])
        per_language: Counter[str] = Counter()
        for position in ranked:
            language = self.pool[position].language
            if per_language[language] < LANGUAGE_POOL:
                per_language[language] += 1
                keep.add(position)
        self.pool = [member for n, member in enumerate(self.pool) if n in keep]

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe: the running sums and the pool (vectors float32 little-endian, base64);
        the members too when they are kept."""
        first, last = self.seen()
        data: dict[str, Any] = {
            "id": self.id,
            "promoted": self.promoted,
            "name": self.name,
            "count": self.count,
            "first_seen": first.isoformat(),
            "last_seen": last.isoformat(),
            "total": _encode(self.total.astype("<f4")),
            "words": dict(self.words),
            "language_words": {lang: dict(words) for lang, words in self.language_words.items()},
            "languages": dict(self.languages),
            "pool": _members_dict(self.pool),
        }
        if self.members is not None:
            data["members"] = _members_dict(self.members)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], keep_members: bool) -> _Cluster:
        raw = base64.b64decode(data["total"])
        # Sums were float64 in the first stored clusters: read by their size.
        wide = len(raw) == 8 * int(data["pool"]["dimensions"])
        total = np.frombuffer(raw, dtype="<f8" if wide else "<f4").astype(np.float32)
        members = _members_of(data["members"]) if "members" in data else None
        if keep_members and members is None:
            raise ValueError(f"cluster {data['id']!r}: its members were not kept")
        return cls(
            str(data["id"]),
            total.copy(),
            Counter(data["words"]),
            promoted=bool(data["promoted"]),
            name=data.get("name"),
            count=int(data["count"]),
            first_seen=datetime.fromisoformat(data["first_seen"]),
            last_seen=datetime.fromisoformat(data["last_seen"]),
            languages=Counter(data["languages"]),
            language_words={
                str(lang): Counter(words) for lang, words in data["language_words"].items()
            },
            pool=_members_of(data["pool"]),
            members=members if keep_members else None,
        )


def _encode(array: NDArray[Any]) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")


def _members_dict(members: list[_Member]) -> dict[str, Any]:
    vectors = np.stack([m.vector for m in members]).astype("<f4")
    return {
        "dimensions": int(vectors.shape[1]),
        "vectors": _encode(vectors),
        "rows": [[m.id, m.text, m.created_at.isoformat(), m.language] for m in members],
    }


def _members_of(data: Mapping[str, Any]) -> list[_Member]:
    raw = base64.b64decode(data["vectors"])
    vectors = np.frombuffer(raw, dtype="<f4").reshape(-1, int(data["dimensions"]))
    if vectors.shape[0] != len(data["rows"]):
        raise ValueError("vectors and members differ in number")
    return [
        _Member(
            str(item_id),
            str(text),
            datetime.fromisoformat(created_at),
            str(language),
            vector.astype(np.float32),
            tokens(str(text)),
        )
        for (item_id, text, created_at, language), vector in zip(data["rows"], vectors, strict=True)
    ]


@dataclass
class Changes:
    """What happened to the clusters since the last :meth:`NarrativeClusterer.changes`, for a
    caller that stores them cluster by cluster rather than the whole state.

    ``touched``: clusters created or changed (still open); ``moved``: a cluster that went
    into another (an absorbed candidate, a merged narrative), to where; ``dropped``:
    candidates that expired or were pushed out by newer ones; ``retired``: narratives quiet
    for ``retire_after``, no longer matched (their items stay theirs)."""

    touched: set[str] = field(default_factory=set)
    moved: dict[str, str] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)

    def home(self, cluster_id: str) -> str:
        """Where a cluster's members are now (following moves)."""
        seen = set()
        while cluster_id in self.moved and cluster_id not in seen:
            seen.add(cluster_id)
            cluster_id = self.moved[cluster_id]
        return cluster_id


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

    ``keep_members=False`` keeps only what matching needs (each open cluster's running sums
    and a pool of representatives): memory follows the open clusters, not the items seen, and
    the caller keeps who belongs where from :meth:`add`'s assignments and :meth:`changes`.
    ``max_candidates`` bounds the open candidates (the oldest go first) and ``retire_after``
    closes narratives quiet for that long: with both, memory and the cost of an item stay
    bounded however long the clusterer runs.
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
        keep_members: bool = True,
        max_candidates: int | None = None,
        retire_after: timedelta | None = None,
    ) -> None:
        if not -1.0 <= threshold <= 1.0:
            raise ValueError("threshold must be a cosine similarity, between -1 and 1")
        if min_items < 1:
            raise ValueError("min_items must be at least 1")
        if candidate_window is not None and candidate_window <= timedelta(0):
            raise ValueError("candidate_window must be positive (or None: candidates stay)")
        if max_candidates is not None and max_candidates < 1:
            raise ValueError("max_candidates must be at least 1 (or None: no bound)")
        if retire_after is not None and retire_after <= timedelta(0):
            raise ValueError("retire_after must be positive (or None: narratives stay)")
        self.threshold = threshold
        self.min_items = min_items
        self.candidate_window = candidate_window
        self.min_text_length = min_text_length
        self.absorb = absorb
        self.keep_members = keep_members
        self.max_candidates = max_candidates
        self.retire_after = retire_after
        self._embedder = embedder
        self._clusters: dict[str, _Cluster] = {}
        # Which cluster holds each item: only while members are kept (it grows with them).
        self._item_cluster: dict[str, str] = {}
        self._words: Counter[str] = Counter()
        self._next_id = 1
        self._clock: datetime | None = None
        self._changes = Changes()
        # Centroid matrix: one row per open cluster, in ``_order``; rebuilt after removals.
        self._order: list[str] = []
        self._matrix: NDArray[np.float32] = np.zeros((0, 0), dtype=np.float32)
        self._rows: dict[str, int] = {}
        self._alive: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._told: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._changed_rows: set[int] = set()
        self._stale = True
        # The CLOSE_INTERVAL period of the clock when old clusters were last closed.
        self._tick = 0

    # -- incoming items -------------------------------------------------------------------

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if self._embedder is None:
            self._embedder = _default_embedder()
        vectors = np.asarray(self._embedder(texts), dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise ValueError("the embedder must return one row per text")
        return _normalised(vectors)

    def _rebuild(self, dimensions: int) -> None:
        # In the order the clusters were made (ties go to the oldest), however they were
        # loaded: a clusterer restored from stored clusters matches as the one that saved them.
        self._order = sorted(self._clusters, key=lambda key: (len(key), key))
        capacity = max(16, 2 * len(self._order))
        self._matrix = np.zeros((capacity, dimensions), dtype=np.float32)
        self._alive = np.zeros(capacity, dtype=bool)
        self._told = np.zeros(capacity, dtype=bool)
        for row, cluster_id in enumerate(self._order):
            cluster = self._clusters[cluster_id]
            self._matrix[row] = cluster.centroid
            self._alive[row] = True
            self._told[row] = cluster.promoted
        self._rows = {cluster_id: row for row, cluster_id in enumerate(self._order)}
        self._stale = False

    def _append_row(self, cluster: _Cluster) -> None:
        size = len(self._order)
        if size == self._matrix.shape[0]:
            grown = np.zeros((2 * size, self._matrix.shape[1]), np.float32)
            grown[:size] = self._matrix[:size]
            self._matrix = grown
            self._alive = np.concatenate([self._alive, np.zeros(size, dtype=bool)])
            self._told = np.concatenate([self._told, np.zeros(size, dtype=bool)])
        self._rows[cluster.id] = size
        self._matrix[size] = cluster.centroid
        self._alive[size] = True
        self._told[size] = cluster.promoted
        self._order.append(cluster.id)

    def _retire_row(self, cluster_id: str) -> None:
        """A cluster gone between two rebuilds: its row stays, never matched again."""
        row = self._rows.pop(cluster_id, None)
        if row is not None:
            self._alive[row] = False
            self._matrix[row] = 0.0

    def _refresh_row(self, cluster: _Cluster) -> int:
        row = self._rows[cluster.id]
        self._matrix[row] = cluster.centroid
        self._told[row] = cluster.promoted
        return row

    def _new_id(self) -> str:
        identifier = f"n{self._next_id}"
        self._next_id += 1
        return identifier

    def _new_cluster(self, dimensions: int, cluster_id: str | None = None) -> _Cluster:
        return _Cluster(
            cluster_id or self._new_id(),
            np.zeros(dimensions, np.float32),
            members=[] if self.keep_members else None,
        )

    def _join(self, cluster: _Cluster, member: _Member) -> None:
        cluster.add(member)
        self._words.update(set(member.words))
        if self.keep_members:
            self._item_cluster[member.id] = cluster.id
        self._changes.touched.add(cluster.id)

    def _remove(self, cluster_id: str) -> _Cluster:
        cluster = self._clusters.pop(cluster_id)
        self._changes.touched.discard(cluster_id)
        self._retire_row(cluster_id)
        return cluster

    def _fold(self, source: _Cluster, target: _Cluster) -> None:
        """Every member of ``source`` goes to ``target`` (absorption, an analyst's merge)."""
        target.take(source)
        for member in source.members or ():
            self._item_cluster[member.id] = target.id
        self._remove(source.id)
        self._changes.moved[source.id] = target.id
        self._changes.touched.add(target.id)

    def _drop(self, cluster_id: str, retired: bool = False) -> None:
        cluster = self._remove(cluster_id)
        self._words.subtract(cluster.words)
        self._words = +self._words
        for member in cluster.members or ():
            self._item_cluster.pop(member.id, None)
        (self._changes.retired if retired else self._changes.dropped).add(cluster_id)

    def _close_old(self) -> None:
        """Expire candidates quiet for ``candidate_window``, push out the oldest beyond
        ``max_candidates``, retire narratives quiet for ``retire_after``."""
        if self._clock is None:
            return
        candidates = [c for c in self._clusters.values() if not c.promoted]
        if self.candidate_window is not None:
            limit = self._clock - self.candidate_window
            for cluster in candidates:
                if cluster.seen()[1] < limit:
                    self._drop(cluster.id)
            candidates = [c for c in candidates if c.id in self._clusters]
        if self.max_candidates is not None and len(candidates) > self.max_candidates:
            candidates.sort(key=lambda c: (c.seen()[1], int(c.id[1:] or 0)))
            for cluster in candidates[: len(candidates) - self.max_candidates]:
                self._drop(cluster.id)
        if self.retire_after is not None:
            limit = self._clock - self.retire_after
            for cluster in [c for c in self._clusters.values() if c.promoted]:
                if cluster.seen()[1] < limit:
                    self._drop(cluster.id, retired=True)

    def add(self, items: Iterable[NarrativeItem]) -> list[Assignment]:
        """Cluster a batch of new items, in the given order; one assignment per item.

        The outcome does not depend on how items are cut into batches: each item meets the
        centroids as they stand when it arrives, a candidate that comes within ``threshold``
        of a narrative joins it at once, and old clusters are closed when the clock enters a
        new :data:`CLOSE_INTERVAL`. So scans that read what arrived since the last one find
        what one pass over everything finds.
        """
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
        if not kept:
            return [result for result in results if result is not None]
        vectors = self._embed([text for _, _, text in kept])
        dimensions = vectors.shape[1]
        known = next(iter(self._clusters.values()), None)
        if known is not None and known.total.shape[0] != dimensions:
            raise ValueError("the embedder's dimensions changed")
        # Rows of closed clusters are dropped when they are half the matrix.
        dead = len(self._order) - len(self._rows)
        if self._stale or self._matrix.shape[1] != dimensions or 2 * dead > len(self._order):
            self._rebuild(dimensions)
        joined = self._add_run(kept, vectors)
        for index, cluster_id, similarity, promoted in joined:
            cluster_id = self._changes.home(cluster_id)
            # A cluster closed later in the same batch: a candidate let go, or a retired story.
            cluster = self._clusters.get(cluster_id)
            told = cluster.promoted if cluster else cluster_id in self._changes.retired
            status: Status = "narrative" if told else "candidate"
            results[index] = Assignment(items[index].id, status, cluster_id, similarity, promoted)
        return [result for result in results if result is not None]

    def _add_run(
        self, kept: list[tuple[int, NarrativeItem, str]], vectors: NDArray[np.float32]
    ) -> list[tuple[int, str, float, bool]]:
        # One product for the run against the centroids as they stood before it; the rows
        # an item of this run changed (or added) are compared again, one by one.
        before = len(self._order)
        base = self._matrix[:before] @ vectors.T if before else None
        self._changed_rows = set()
        joined: list[tuple[int, str, float, bool]] = []
        for column, ((index, item, text), vector) in enumerate(zip(kept, vectors, strict=True)):
            moment = item.created_at
            self._clock = moment if self._clock is None else max(self._clock, moment)
            tick = int((self._clock - EPOCH) / CLOSE_INTERVAL)
            if tick != self._tick:
                self._tick = tick
                self._close_old()
            member = _Member(item.id, text, moment, item.language, vector, tokens(text))
            open_rows = len(self._order)
            best_row, best = -1, 0.0
            if open_rows:
                similarities = np.empty(open_rows, dtype=np.float32)
                if base is not None:
                    similarities[:before] = base[:, column]
                fresh = sorted(self._changed_rows.union(range(before, open_rows)))
                if fresh:
                    similarities[fresh] = self._matrix[fresh] @ vector
                similarities[~self._alive[:open_rows]] = -np.inf
                best_row = int(np.argmax(similarities))
                best = float(similarities[best_row])
            promoted = False
            if best_row >= 0 and best >= self.threshold:
                cluster = self._clusters[self._order[best_row]]
                self._join(cluster, member)
                if not cluster.promoted and cluster.count >= self.min_items:
                    cluster.promoted = promoted = True
                self._changed_rows.add(self._refresh_row(cluster))
            else:
                best = best if np.isfinite(best) else 0.0
                cluster = self._new_cluster(vector.shape[0])
                self._clusters[cluster.id] = cluster
                self._join(cluster, member)
                cluster.promoted = promoted = self.min_items <= 1
                self._append_row(cluster)
            if self.absorb:
                self._settle(cluster)
            joined.append((index, cluster.id, best, promoted))
        return joined

    def _similar_rows(self, cluster: _Cluster, narratives: bool) -> NDArray[np.intp]:
        """Open rows of narratives (or of candidates) within ``threshold`` of ``cluster``,
        the closest first."""
        size = len(self._order)
        similarities = self._matrix[:size] @ cluster.centroid
        wanted = self._alive[:size] & (self._told[:size] == narratives)
        wanted &= similarities >= self.threshold
        wanted[self._rows[cluster.id]] = False
        rows = np.flatnonzero(wanted)
        order = np.argsort(-similarities[rows], kind="stable")
        result: NDArray[np.intp] = rows[order]
        return result

    def _settle(self, changed: _Cluster) -> None:
        """Candidates within ``threshold`` of a narrative join it (the closest narrative).

        An item is compared with the centroids as they stand when it arrives; a story's
        centroid moves as its narrative grows, and rewordings that arrived early (or in
        another language) end up close to it while alone in a candidate of their own. Only
        pairs with a cluster that just changed can have come close: the others were looked
        at when they last changed."""
        waiting = [changed]
        while waiting:
            cluster = waiting.pop()
            if cluster.id not in self._clusters:
                continue
            if cluster.promoted:
                near = [
                    self._clusters[self._order[row]] for row in self._similar_rows(cluster, False)
                ]
            else:
                near = [cluster]
            for candidate in near:
                rows = self._similar_rows(candidate, True)
                if not len(rows):
                    continue
                target = self._clusters[self._order[int(rows[0])]]
                self._fold(candidate, target)
                self._changed_rows.add(self._refresh_row(target))
                waiting.append(target)

    # -- reading --------------------------------------------------------------------------

    def _snapshot(self, cluster: _Cluster, keywords: int, representatives: int) -> Narrative:
        centroid = cluster.centroid
        ranked = cluster.ranked_pool()
        pool = cluster.pool
        classes, total_words = len(self._clusters), sum(self._words.values())
        summaries: dict[str, Summary] = {}
        # Over all members, then for each language: a reader is shown the story in theirs.
        for language in ["", *sorted(lang for lang in cluster.languages if lang)]:
            closest = next(
                (n for n in ranked if not language or pool[n].language == language), None
            )
            if closest is None:
                continue
            words = cluster.language_words.get(language) if language else cluster.words
            summaries[language] = Summary(
                pool[closest].text,
                tuple(keywords_of(words or Counter(), self._words, classes, total_words, keywords)),
            )
        first, last = cluster.seen()
        return Narrative(
            id=cluster.id,
            centroid=centroid,
            item_ids=[member.id for member in cluster.members or ()],
            first_seen=first,
            last_seen=last,
            keywords=keywords_of(cluster.words, self._words, classes, total_words, keywords),
            representative_ids=[pool[n].id for n in ranked[:representatives]],
            languages={lang: n for lang, n in sorted(cluster.languages.items()) if lang},
            name=cluster.name,
            summaries=summaries,
            count=cluster.count,
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

    def is_narrative(self, cluster_id: str) -> bool:
        """Whether ``cluster_id`` is an open narrative (not a candidate, not closed)."""
        cluster = self._clusters.get(cluster_id)
        return cluster is not None and cluster.promoted

    def changes(self) -> Changes:
        """What changed since the last call (see :class:`Changes`), and start anew."""
        changes, self._changes = self._changes, Changes()
        return changes

    def _kept(self, what: str) -> None:
        if not self.keep_members:
            raise ValueError(f"{what} needs the members, which this clusterer does not keep")

    def candidates(self) -> dict[str, list[str]]:
        """Open candidates: their id and item ids."""
        self._kept("candidates()")
        return {
            cluster.id: [member.id for member in cluster.members or ()]
            for cluster in self._clusters.values()
            if not cluster.promoted
        }

    def cluster_of(self, item_id: str) -> str | None:
        """The narrative or candidate an item belongs to, if any."""
        self._kept("cluster_of()")
        return self._item_cluster.get(item_id)

    def item_times(self) -> dict[str, datetime]:
        """``created_at`` of every item in a narrative, for :func:`timeline` and friends."""
        self._kept("item_times()")
        return {
            member.id: member.created_at
            for cluster in self._clusters.values()
            if cluster.promoted
            for member in cluster.members or ()
        }

    def texts(self, item_ids: Iterable[str]) -> dict[str, str]:
        """The cleaned texts of some items (those still held)."""
        self._kept("texts()")
        wanted = set(item_ids)
        return {
            member.id: member.text
            for cluster in self._clusters.values()
            for member in cluster.members or ()
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
        self._changes.touched.add(cluster.id)
        return self._snapshot(cluster, KEYWORDS, REPRESENTATIVES)

    def merge(self, a: str, b: str) -> Narrative:
        """Move every item of narrative ``b`` into ``a``; ``b`` disappears. ``a`` keeps its
        name, or takes ``b``'s when it has none."""
        if a == b:
            raise ValueError("cannot merge a narrative with itself")
        target, source = self._narrative(a), self._narrative(b)
        target.name = target.name or source.name
        self._fold(source, target)
        self._stale = True
        return self._snapshot(target, KEYWORDS, REPRESENTATIVES)

    def split(
        self,
        narrative_id: str,
        item_ids: Iterable[str],
        members: Sequence[NarrativeItem] | None = None,
    ) -> Narrative:
        """Move the given items of a narrative into a new narrative (an analyst's decision:
        it is one whatever its size); both are recomputed from their members.

        A clusterer that does not keep its members is given them (``members``: every item
        of the narrative) and embeds them again."""
        cluster = self._narrative(narrative_id)
        moving = set(item_ids)
        if not moving:
            raise ValueError("no item to split off")
        if cluster.members is not None:
            everyone = list(cluster.members)
        else:
            if members is None:
                raise ValueError("split needs the narrative's members (members=)")
            texts = [(item, clean_text(item.text)) for item in members]
            vectors = self._embed([text for _, text in texts]) if texts else np.zeros((0, 0))
            everyone = [
                _Member(item.id, text, item.created_at, item.language, vector, tokens(text))
                for (item, text), vector in zip(texts, vectors, strict=True)
            ]
        unknown = moving - {member.id for member in everyone}
        if unknown:
            raise ValueError(f"not in narrative {narrative_id!r}: {', '.join(sorted(unknown))}")
        if len(moving) >= len(everyone):
            raise ValueError("a split must leave at least one item in the narrative")
        dimensions = cluster.total.shape[0]
        staying = self._new_cluster(dimensions, cluster.id)
        staying.promoted, staying.name = True, cluster.name
        created = self._new_cluster(dimensions)
        created.promoted = True
        self._words.subtract(cluster.words)
        for member in everyone:
            part = created if member.id in moving else staying
            part.add(member)
            self._words.update(set(member.words))
            if self.keep_members:
                self._item_cluster[member.id] = part.id
        self._words = +self._words
        for part in (staying, created):
            part.trim_pool()
            self._clusters[part.id] = part
            self._changes.touched.add(part.id)
        self._stale = True
        return self._snapshot(created, KEYWORDS, REPRESENTATIVES)

    # -- state ----------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """JSON-safe settings and counters, without the clusters (see :meth:`to_dict`)."""
        window = self.candidate_window
        retire = self.retire_after
        return {
            "version": STATE_VERSION,
            "threshold": self.threshold,
            "min_items": self.min_items,
            "candidate_window_seconds": None if window is None else window.total_seconds(),
            "min_text_length": self.min_text_length,
            "absorb": self.absorb,
            "keep_members": self.keep_members,
            "max_candidates": self.max_candidates,
            "retire_after_seconds": None if retire is None else retire.total_seconds(),
            "next_id": self._next_id,
            "tick": self._tick,
            "clock": None if self._clock is None else self._clock.isoformat(),
        }

    def cluster_state(self, cluster_id: str) -> dict[str, Any]:
        """One open cluster, JSON-safe: a caller may store clusters one by one (those
        :meth:`changes` says were touched) and give them back to :meth:`from_dict`."""
        return self._clusters[cluster_id].as_dict()

    def open_clusters(self) -> list[str]:
        return list(self._clusters)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe state: the settings and every open cluster (running sums, the pool of
        representatives, and the members when they are kept)."""
        return self.settings() | {"clusters": [c.as_dict() for c in self._clusters.values()]}

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        embedder: Embedder | None = None,
        clusters: Iterable[Mapping[str, Any]] | None = None,
        keep_members: bool | None = None,
    ) -> NarrativeClusterer:
        """A clusterer from :meth:`to_dict`'s output (or :meth:`settings` with ``clusters``
        stored one by one), ready to take more items.

        A state saved by an earlier version (1: every member with its vector) is read too;
        ``keep_members`` then says whether to keep them (default: yes)."""
        version = data.get("version")
        if version not in (1, STATE_VERSION):
            raise ValueError(f"unknown narrative state version {version!r}")
        window = data["candidate_window_seconds"]
        retire = data.get("retire_after_seconds")
        keep = bool(data.get("keep_members", True)) if keep_members is None else keep_members
        max_candidates = data.get("max_candidates")
        clusterer = cls(
            threshold=float(data["threshold"]),
            min_items=int(data["min_items"]),
            candidate_window=None if window is None else timedelta(seconds=float(window)),
            min_text_length=int(data["min_text_length"]),
            embedder=embedder,
            # States saved before absorption existed take it up from now on.
            absorb=bool(data.get("absorb", ABSORB)),
            keep_members=keep,
            max_candidates=None if max_candidates is None else int(max_candidates),
            retire_after=None if retire is None else timedelta(seconds=float(retire)),
        )
        clusterer._next_id = int(data["next_id"])
        clusterer._tick = int(data.get("tick", 0))
        clusterer._clock = None if data["clock"] is None else datetime.fromisoformat(data["clock"])
        entries = data.get("clusters", []) if clusters is None else clusters
        for entry in entries:
            if version == 1:
                cluster = clusterer._cluster_of_version_1(entry)
            else:
                cluster = _Cluster.from_dict(entry, keep)
                for member in cluster.members or ():
                    clusterer._item_cluster[member.id] = cluster.id
            clusterer._clusters[cluster.id] = cluster
            clusterer._words.update(cluster.words)
        return clusterer

    def _cluster_of_version_1(self, entry: Mapping[str, Any]) -> _Cluster:
        members = _members_of(
            {
                "dimensions": entry["dimensions"],
                "vectors": entry["vectors"],
                "rows": entry["members"],
            }
        )
        cluster = self._new_cluster(members[0].vector.shape[0], str(entry["id"]))
        cluster.promoted, cluster.name = bool(entry["promoted"]), entry.get("name")
        for member in members:
            cluster.add(member)
            if self.keep_members:
                self._item_cluster[member.id] = cluster.id
        cluster.trim_pool()
        return cluster


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
