"""Coordinated behaviour: copy-pasta, rewordings, co-link and co-post networks.

Modelled on VIGINUM's D3lta (the same text pushed by many accounts) and on QUT's
coordination-network-toolkit (accounts that share the same link or the same message within a
short time window). Plain Python over plain data (a sequence of :class:`Post`), no Django.

Method
------
- **Normalisation.** Texts are NFKC-normalised and case-folded; URLs and ``@mentions`` are
  removed, hashtag signs dropped (the word is kept), punctuation turned into spaces and runs of
  spaces collapsed. Texts shorter than ``min_chars`` once normalised ("merci !", "+1") are
  ignored by the text detectors: they are too common to mean anything.
- **Copy-pasta** (``kind="copy"``). Posts with the same normalised text (grouped by hash) by at
  least ``min_accounts`` *distinct* accounts. One account repeating itself is not a campaign.
- **Rewordings** (``kind="reworded"``). Every distinct normalised text is cut into character
  5-shingles, hashed in numpy (a polynomial rolling hash and a 64-bit finaliser, stable across
  processes, unlike Python's salted ``hash()``); MinHash signatures (``num_perm`` multiply-shift
  permutations, minimum per text by ``np.minimum.reduceat``) are banded (LSH, ``bands`` bands
  of ``num_perm // bands`` rows); each text sharing a band bucket is compared with the
  bucket's first text and with the one before it (linear, not all pairs), and the pair is kept
  when the Jaccard similarity estimated on the whole signature (share of equal minima) reaches
  ``threshold`` (0.65: on the synthetic benchmark at 1M posts 0.6 lets in chains of
  unrelated short texts made of common words — precision 0.975 — and 0.7 loses a tenth of
  the rewordings). Kept pairs are merged (connected
  components); a component with more than one distinct text and ``min_accounts`` distinct
  accounts is a rewording campaign, one with a single text is a copy campaign. Optionally
  (``translations=True``) one original per component is embedded with the multilingual
  Universal Sentence Encoder and components whose originals have a cosine >= 0.7 are merged
  (translations of one message score about 0.72-0.82, texts on the same topic about 0.5).
- **Co-link / co-post networks** (``kind="colink"`` / ``"copost"``). URLs are normalised
  (lower-case host without ``www.``, no fragment, tracking parameters such as ``utm_*``,
  ``fbclid`` or ``gclid`` removed, other parameters sorted, no trailing slash). Two posts of two
  different accounts with the same URL (or the same normalised text) less than ``window``
  seconds apart (60 s, coordination-network-toolkit's default) are one co-action; the account
  graph is weighted by the number of co-actions; edges below ``min_weight`` are dropped and each
  connected group of at least ``min_accounts`` accounts is a campaign.

**Fingerprints.** What the detectors need of a post (its normalised text's stable hash, that
text's MinHash signature, its normalised URLs) depends on that post only: :func:`fingerprint`
computes it once, and :func:`detect_coordination_fingerprinted` detects over fingerprints
made earlier (in batches, stored, read back) exactly what :func:`detect_coordination` finds
over the posts. Original texts are asked for only where a campaign shows them (and, with
translations, one per cluster), so a sliding window keeps fingerprints, not texts.

Everything runs over numpy arrays (sorting, ``searchsorted``, ``reduceat``) so that a million
posts fit in a couple of minutes on two cores; see :mod:`beffroi.analysis.coordination_bench`.

Exports: :func:`coordination_graph` (a ``networkx`` graph, accounts as nodes, edges weighted by
co-actions), :func:`to_graphml` (opens in Gephi) and :func:`campaigns_to_csv`.
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import networkx as nx
import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from beffroi.analysis.text_bound import analysed_text

__all__ = [
    "Campaign",
    "CampaignKind",
    "Fingerprint",
    "Post",
    "campaigns_to_csv",
    "colink_network",
    "coordination_graph",
    "copost_network",
    "detect_coordination",
    "detect_coordination_fingerprinted",
    "find_copypasta",
    "fingerprint",
    "minhash_signatures",
    "normalize_text",
    "normalize_url",
    "text_key",
    "to_graphml",
]

CampaignKind = Literal["copy", "reworded", "colink", "copost"]
ALL_KINDS: tuple[CampaignKind, ...] = ("copy", "reworded", "colink", "copost")

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]


@dataclass(frozen=True, slots=True)
class Post:
    """One public post. ``created_at`` must be time-zone aware."""

    id: str
    account: str
    text: str
    created_at: datetime
    urls: tuple[str, ...] = ()
    language: str = ""


@dataclass(frozen=True, slots=True)
class Campaign:
    """A group of accounts acting together on the same content.

    ``shared`` holds the shared texts (up to five distinct originals) or normalised URLs;
    ``score`` is the number of distinct accounts for a copy, that number times the mean
    verified similarity for rewordings, and the total weight (co-actions) for the networks.
    ``edges`` (account, account, co-actions) is filled for the network kinds.
    """

    kind: CampaignKind
    accounts: tuple[str, ...]
    post_ids: tuple[str, ...]
    shared: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    score: float
    edges: tuple[tuple[str, str, int], ...] = field(default=(), compare=False, repr=False)

    @property
    def size(self) -> int:
        """Number of distinct accounts."""
        return len(self.accounts)


# --------------------------------------------------------------------------- normalisation

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION_RE = re.compile(r"(?<!\w)@[\w.]+(?:@[\w.-]+)?")
_NON_WORD_RE = re.compile(r"[\W_]+")


def normalize_text(text: str) -> str:
    """Text reduced for comparison: NFKC, casefold, no URLs/mentions/``#``/punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _URL_RE.sub(" ", text)
    text = _MENTION_RE.sub(" ", text)
    return _NON_WORD_RE.sub(" ", text).strip()


_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gclsrc",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "si",
        "spm",
        "mkt_tok",
        "wt.mc_id",
        "xtor",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "at_")


@lru_cache(maxsize=1 << 18)
def normalize_url(url: str) -> str:
    """Canonical URL: ``https``, lower-case host without ``www.`` or default port, no
    fragment, tracking parameters (``utm_*``, ``fbclid``...) removed, the others sorted, no
    trailing slash."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.lower()
    if host.startswith("www."):
        host = host[4:]
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_EXACT and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))


# --------------------------------------------------------------------------- fingerprints


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the detectors need of one post, computed once by :func:`fingerprint` and kept
    (a sliding window stores these rather than normalising and shingling its posts again).

    ``text_key`` is a stable hash of the normalised text, ``None`` when that text is shorter
    than ``min_chars``; ``signature`` its MinHash (``num_perm`` little-endian ``uint32``),
    ``b""`` when there is no text or signatures were not asked for; ``urls`` the post's
    normalised URLs (``Post.urls`` and those in the text), distinct and sorted.
    """

    id: str
    account: str
    created_at: datetime
    text_key: int | None = None
    signature: bytes = b""
    urls: tuple[str, ...] = ()
    language: str = ""


_TEXT_URL_RE = re.compile(r"https?://[^\s<>\"')\]]+", re.IGNORECASE)


def _aware(post_id: str, created: datetime) -> float:
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError(f"post {post_id!r}: created_at must be time-zone aware")
    return created.timestamp()


def text_key(normalised: str) -> int:
    """Stable signed 64-bit key of a normalised text (fits a database ``bigint``)."""
    digest = hashlib.blake2b(normalised.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def _url_keys(post: Post) -> tuple[str, ...]:
    found = set(post.urls)
    if "http" in post.text:
        found.update(m.rstrip(".,;:!?") for m in _TEXT_URL_RE.findall(post.text))
    # Sorted: the order of a set of strings changes from one process to the next.
    return tuple(sorted({normalize_url(url) for url in found}))


def fingerprint(
    posts: Sequence[Post],
    *,
    min_chars: int = 25,
    num_perm: int = 64,
    shingle_size: int = 5,
    seed: int = 1,
    texts: bool = True,
    signatures: bool = True,
    links: bool = True,
    n_jobs: int = 1,
) -> list[Fingerprint]:
    """One :class:`Fingerprint` per post, in order: the per-post work of the detectors.

    A post's fingerprint depends on that post only (and the parameters), so fingerprints
    made in several batches, stored and read back detect the same campaigns as one batch.
    ``texts=False`` (co-links only) skips the texts, ``signatures=False`` (no rewordings)
    the MinHash, ``links=False`` (no co-links) the URLs. Raises ``ValueError`` on a naive ``created_at``.
    """
    keys: list[int | None] = []
    rows: list[int] = []  # per post, its row in to_sign (-1: none)
    to_sign: list[str] = []
    row_of_key: dict[int, int] = {}
    by_raw: dict[str, tuple[int | None, int]] = {}
    for post in posts:
        _aware(post.id, post.created_at)
        if not texts:
            keys.append(None)
            rows.append(-1)
            continue
        known = by_raw.get(post.text)
        if known is None:
            norm = normalize_text(analysed_text(post.text))
            if len(norm) < min_chars:
                known = (None, -1)
            else:
                key = text_key(norm)
                row = row_of_key.setdefault(key, len(to_sign))
                if row == len(to_sign):
                    to_sign.append(norm)
                known = (key, row)
            by_raw[post.text] = known
        keys.append(known[0])
        rows.append(known[1])
    blobs: list[bytes] = []
    if signatures and to_sign:
        sig = minhash_signatures(
            to_sign, num_perm=num_perm, shingle_size=shingle_size, seed=seed, n_jobs=n_jobs
        ).astype("<u4", copy=False)
        blobs = [row.tobytes() for row in sig]
    return [
        Fingerprint(
            post.id,
            post.account,
            post.created_at,
            key,
            blobs[row] if blobs and row >= 0 else b"",
            _url_keys(post) if links else (),
            post.language,
        )
        for post, key, row in zip(posts, keys, rows, strict=True)
    ]


# --------------------------------------------------------------------------- preparation

#: Original texts of posts given by index (what a campaign shows, what gets embedded): read
#: only for the few posts that need one, so that a stored window is not read for its texts.
Originals = Callable[[Sequence[int]], list[str]]


@dataclass(slots=True)
class _Prepared:
    prints: Sequence[Fingerprint]
    ids: list[str]
    seconds: NDArray[np.float64]  # POSIX timestamps
    account: I64  # account code per post
    accounts: list[str]  # code -> account
    text_id: I64  # distinct normalised text per post, -1 when shorter than min_chars
    first_raw: list[int]  # text id -> index of the first post carrying it
    originals: Originals


def _prepare(prints: Sequence[Fingerprint], originals: Originals) -> _Prepared:
    """Codes for accounts and texts (by order of first appearance)."""
    n = len(prints)
    seconds = np.empty(n, dtype=np.float64)
    account = np.empty(n, dtype=np.int64)
    text_id = np.empty(n, dtype=np.int64)
    account_codes: dict[str, int] = {}
    text_codes: dict[int, int] = {}
    first_raw: list[int] = []
    for i, fp in enumerate(prints):
        seconds[i] = _aware(fp.id, fp.created_at)
        account[i] = account_codes.setdefault(fp.account, len(account_codes))
        if fp.text_key is None:
            text_id[i] = -1
            continue
        tid = text_codes.setdefault(fp.text_key, len(first_raw))
        if tid == len(first_raw):
            first_raw.append(i)
        text_id[i] = tid
    ids = [fp.id for fp in prints]
    return _Prepared(
        prints, ids, seconds, account, list(account_codes), text_id, first_raw, originals
    )


def _signatures(prep: _Prepared) -> NDArray[np.uint32]:
    """The MinHash signature of each distinct text (that of its first post)."""
    blobs = [prep.prints[i].signature for i in prep.first_raw]
    sizes = {len(blob) for blob in blobs}
    if len(sizes) != 1 or 0 in sizes or next(iter(sizes)) % 4:
        raise ValueError("rewordings need fingerprints with signatures of one size")
    flat = np.frombuffer(b"".join(blobs), dtype="<u4")
    return flat.reshape(len(blobs), -1).astype(np.uint32, copy=False)


def _post_originals(posts: Sequence[Post]) -> Originals:
    return lambda indices: [posts[i].text for i in indices]


def _window_seconds(window: float | timedelta) -> float:
    value = window.total_seconds() if isinstance(window, timedelta) else float(window)
    if value < 0:
        raise ValueError("window must be positive")
    return value


def _when(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


# --------------------------------------------------------------------------- MinHash / LSH

_ROLL = np.uint64(0x100000001B3)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)


def _fmix64(h: U64) -> U64:
    h ^= h >> np.uint64(33)
    h *= _FMIX1
    h ^= h >> np.uint64(33)
    h *= _FMIX2
    h ^= h >> np.uint64(33)
    return h


def _shingle_hashes(texts: Sequence[str], k: int) -> tuple[U64, I64]:
    """Stable 64-bit hashes of the character k-shingles and each text's first shingle index."""
    padded = [t if len(t) >= k else t.ljust(k, "\0") for t in texts]
    lengths = np.fromiter((len(t) for t in padded), dtype=np.int64, count=len(padded))
    cps = np.frombuffer("".join(padded).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cp = cps.astype(np.uint64)
    n_windows = cp.size - k + 1
    h = cp[:n_windows].copy()
    with np.errstate(over="ignore"):
        for m in range(1, k):
            h *= _ROLL
            h += cp[m : m + n_windows]
        h = _fmix64(h)
    ends = np.cumsum(lengths)
    doc = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)[:n_windows]
    valid = np.arange(n_windows, dtype=np.int64) + k <= ends[doc]
    counts = lengths - k + 1
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    return h[valid], offsets


def _perm_params(num_perm: int, seed: int) -> tuple[U64, U64]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def _signature_batch(texts: Sequence[str], a: U64, b: U64, k: int) -> NDArray[np.uint32]:
    h, offsets = _shingle_hashes(texts, k)
    sig = np.empty((len(texts), a.size), dtype=np.uint32)
    tmp = np.empty_like(h)
    shift = np.uint64(32)
    with np.errstate(over="ignore"):
        for j in range(a.size):
            np.multiply(h, a[j], out=tmp)
            np.add(tmp, b[j], out=tmp)
            np.right_shift(tmp, shift, out=tmp)
            sig[:, j] = np.minimum.reduceat(tmp, offsets)
    return sig


def minhash_signatures(
    texts: Sequence[str],
    *,
    num_perm: int = 64,
    shingle_size: int = 5,
    seed: int = 1,
    batch_size: int = 20_000,
    n_jobs: int = 1,
) -> NDArray[np.uint32]:
    """MinHash signatures ``(len(texts), num_perm)`` of the character shingles of ``texts``.

    Stable across processes and machines for the same ``seed``. The share of equal columns of
    two signatures estimates the Jaccard similarity of their shingle sets.
    """
    a, b = _perm_params(num_perm, seed)
    if not texts:
        return np.zeros((0, num_perm), dtype=np.uint32)
    chunks = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
    if n_jobs > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            parts = list(pool.map(lambda c: _signature_batch(c, a, b, shingle_size), chunks))
    else:
        parts = [_signature_batch(c, a, b, shingle_size) for c in chunks]
    return np.concatenate(parts, axis=0)


def _lsh_pairs(sig: NDArray[np.uint32], bands: int) -> tuple[I64, I64]:
    """Candidate pairs over the LSH bands: each bucket member with the bucket's first member
    and with the member before it (linear in the bucket size, unlike all pairs)."""
    n, num_perm = sig.shape
    rows = num_perm // bands
    left: list[I64] = []
    right: list[I64] = []
    idx = np.arange(n, dtype=np.int64)
    for band in range(bands):
        key = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for col in range(band * rows, (band + 1) * rows):
                key ^= sig[:, col].astype(np.uint64)
                key = _fmix64(key + np.uint64(col))
        order = np.argsort(key, kind="stable")
        sk = key[order]
        new_group = np.empty(n, dtype=bool)
        new_group[:1] = True
        new_group[1:] = sk[1:] != sk[:-1]
        group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
        member = ~new_group
        left.append(order[group_start[member]])  # the bucket's first text
        right.append(order[member])
        left.append(order[np.flatnonzero(member) - 1])  # and the previous one in the bucket
        right.append(order[member])
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    lo = np.concatenate(left)
    hi = np.concatenate(right)
    code = np.unique(np.minimum(lo, hi) * n + np.maximum(lo, hi))
    return code // n, code % n


def _verified_pairs(
    sig: NDArray[np.uint32], bands: int, threshold: float
) -> tuple[I64, I64, NDArray[np.float64]]:
    i, j = _lsh_pairs(sig, bands)
    sims = np.empty(i.size, dtype=np.float64)
    step = 200_000
    for s in range(0, i.size, step):
        sims[s : s + step] = (sig[i[s : s + step]] == sig[j[s : s + step]]).mean(axis=1)
    keep = sims >= threshold
    return i[keep], j[keep], sims[keep]


def _components(n: int, i: I64, j: I64) -> I64:
    graph = coo_matrix((np.ones(i.size, dtype=np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def _translation_pairs(
    texts: Sequence[str], threshold: float, block: int = 2048
) -> tuple[I64, I64]:
    """Pairs of texts whose multilingual embeddings have a cosine >= ``threshold``.

    Exact: blocked matrix products, quadratic in ``len(texts)`` but far cheaper than the
    embedding itself (about 800 texts/s) up to some 10^5 texts.
    """
    from beffroi.analysis.moderation.embedding import embed

    vectors = embed(list(texts))
    left: list[I64] = []
    right: list[I64] = []
    for start in range(0, len(texts), block):
        sims = vectors[start : start + block] @ vectors[start:].T
        rows, cols = np.nonzero(sims >= threshold)
        ahead = cols > rows  # each pair once, no self-pairs
        left.append(rows[ahead].astype(np.int64) + start)
        right.append(cols[ahead].astype(np.int64) + start)
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(left), np.concatenate(right)


# --------------------------------------------------------------------------- copy-pasta


def _groups(labels: I64) -> list[I64]:
    """Indices grouped by label (labels >= 0), largest groups first not guaranteed."""
    order = np.argsort(labels, kind="stable")
    sl = labels[order]
    cuts = np.flatnonzero(np.diff(sl)) + 1
    return [g for g in np.split(order, cuts) if g.size and labels[g[0]] >= 0]


def _distinct_accounts_per(labels: I64, account: I64, n_labels: int) -> I64:
    ok = labels >= 0
    pairs = np.unique(labels[ok] * (int(account.max(initial=0)) + 1) + account[ok])
    return np.bincount(pairs // (int(account.max(initial=0)) + 1), minlength=n_labels).astype(
        np.int64
    )


def _copypasta(
    prep: _Prepared,
    *,
    min_accounts: int,
    rewordings: bool,
    threshold: float,
    bands: int,
    translations: bool = False,
    translation_threshold: float = 0.7,
    involved: NDArray[np.bool_] | None = None,
) -> list[Campaign]:
    """``involved``: when given, only the campaigns holding one of these posts are made."""
    n_texts = len(prep.first_raw)
    if n_texts == 0:
        return []
    text_cluster = np.arange(n_texts, dtype=np.int64)
    text_sim = np.ones(n_texts, dtype=np.float64)
    if rewordings and n_texts > 1:
        sig = _signatures(prep)
        i, j, sims = _verified_pairs(sig, bands, threshold)
        text_cluster = _components(n_texts, i, j)
        if translations:  # one original per cluster, embedded, exact cosine
            _, reps = np.unique(text_cluster, return_index=True)
            originals = prep.originals([prep.first_raw[int(k)] for k in reps])
            ti, tj = _translation_pairs(originals, translation_threshold)
            i, j = np.concatenate((i, reps[ti])), np.concatenate((j, reps[tj]))
            sims = np.concatenate((sims, np.full(ti.size, translation_threshold)))
            text_cluster = _components(n_texts, i, j)
        # mean similarity of the pairs kept, per cluster
        total = np.bincount(text_cluster[i], weights=sims, minlength=n_texts)
        count = np.bincount(text_cluster[i], minlength=n_texts)
        text_sim = np.where(count > 0, total / np.maximum(count, 1), 1.0)
    post_cluster = np.where(prep.text_id >= 0, text_cluster[np.maximum(prep.text_id, 0)], -1)
    distinct = _distinct_accounts_per(post_cluster, prep.account, n_texts)
    selected = distinct >= min_accounts
    labels = np.where((post_cluster >= 0) & selected[np.maximum(post_cluster, 0)], post_cluster, -1)
    drafts: list[tuple[I64, int, int, list[int]]] = []
    for group in _groups(labels):
        if involved is not None and not involved[group].any():
            continue
        tids, tid_counts = np.unique(prep.text_id[group], return_counts=True)
        # originals of the most frequent texts first
        top = tids[np.argsort(-tid_counts, kind="stable")][:5]
        shown = [prep.first_raw[int(t)] for t in top]
        drafts.append((group, int(post_cluster[group[0]]), int(tids.size), shown))
    # The originals shown, read at once (from a database, one query rather than one a campaign).
    texts = iter(prep.originals([post for *_, shown in drafts for post in shown]))
    campaigns: list[Campaign] = []
    for group, cluster, n_tids, shown in drafts:
        shared = tuple(next(texts) for _ in shown)
        accounts = sorted({prep.accounts[a] for a in np.unique(prep.account[group]).tolist()})
        times = prep.seconds[group]
        order = group[np.argsort(times, kind="stable")]
        reworded = n_tids > 1
        campaigns.append(
            Campaign(
                kind="reworded" if reworded else "copy",
                accounts=tuple(accounts),
                post_ids=tuple(prep.ids[int(p)] for p in order),
                shared=shared,
                first_seen=_when(float(times.min())),
                last_seen=_when(float(times.max())),
                score=float(len(accounts)) * (float(text_sim[cluster]) if reworded else 1.0),
            )
        )
    return campaigns


# --------------------------------------------------------------------------- networks


def _coaction_pairs(
    key: I64, seconds: NDArray[np.float64], window: float, max_pairs_per_post: int
) -> tuple[I64, I64]:
    """Post index pairs (i, j) with the same key (>= 0) at most ``window`` seconds apart."""
    valid = np.flatnonzero(key >= 0)
    if valid.size < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    k = key[valid]
    t = seconds[valid]
    order = np.lexsort((t, k))
    k = k[order]
    t = t[order]
    idx = valid[order]
    # end of the time window of each post inside its key's run (runs are contiguous)
    run_start = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    run_end = np.append(run_start[1:], k.size)
    end = np.empty(k.size, dtype=np.int64)
    t_rel = t - t.min()
    span = float(t_rel.max()) + window + 1.0
    # one sortable float per (key rank, time): key rank * span + time
    rank = np.repeat(np.arange(run_start.size, dtype=np.float64), run_end - run_start)
    if run_start.size * span < 2.0**52:
        combined = rank * span + t_rel
        end = np.searchsorted(combined, combined + window, side="right").astype(np.int64)
    else:  # pragma: no cover - astronomically long spans: per run
        for s, e in zip(run_start.tolist(), run_end.tolist(), strict=True):
            end[s:e] = s + np.searchsorted(t[s:e], t[s:e] + window, side="right")
    start = np.arange(k.size, dtype=np.int64)
    counts = np.minimum(end - start - 1, max_pairs_per_post)
    counts = np.maximum(counts, 0)
    total = int(counts.sum())
    first = np.repeat(start, counts)
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    second = first + 1 + offset
    return idx[first], idx[second]


def _network(
    prep: _Prepared,
    key: I64,
    key_values: Callable[[list[int]], list[str]],
    kind: CampaignKind,
    *,
    window: float,
    min_accounts: int,
    min_weight: int,
    max_pairs_per_post: int,
    post_index: I64 | None = None,
    involved: NDArray[np.bool_] | None = None,
) -> list[Campaign]:
    """``key[r]`` is the content key of row r, ``post_index[r]`` its post (identity if None);
    ``key_values`` gives the content of keys (read only for the campaigns made);
    ``involved``: when given, only the campaigns holding one of these posts are made."""
    seconds = prep.seconds if post_index is None else prep.seconds[post_index]
    pi, pj = _coaction_pairs(key, seconds, window, max_pairs_per_post)
    if post_index is not None:
        ri, rj = pi, pj
        pi, pj = post_index[pi], post_index[pj]
    else:
        ri, rj = pi, pj
    ai, aj = prep.account[pi], prep.account[pj]
    differ = ai != aj
    pi, pj, ai, aj, ri = pi[differ], pj[differ], ai[differ], aj[differ], ri[differ]
    del rj
    n_acc = len(prep.accounts)
    if pi.size == 0:
        return []
    lo, hi = np.minimum(ai, aj), np.maximum(ai, aj)
    codes, inverse, weights = np.unique(lo * n_acc + hi, return_inverse=True, return_counts=True)
    strong = weights >= min_weight
    e_lo, e_hi, e_w = codes[strong] // n_acc, codes[strong] % n_acc, weights[strong]
    if e_lo.size == 0:
        return []
    labels = _components(n_acc, e_lo, e_hi)
    sizes = np.bincount(labels[np.unique(np.concatenate((e_lo, e_hi)))], minlength=n_acc)
    keep_pair = strong[inverse] & (sizes[labels[lo]] >= min_accounts)
    if not keep_pair.any():
        return []
    pair_label = labels[lo[keep_pair]]
    pair_posts_i, pair_posts_j, pair_rows = pi[keep_pair], pj[keep_pair], ri[keep_pair]
    edge_label = labels[e_lo]
    edge_order = np.argsort(edge_label, kind="stable")
    sorted_edge_label = edge_label[edge_order]
    drafts: list[tuple[I64, NDArray[np.float64], list[int], tuple[tuple[str, str, int], ...]]] = []
    for group in _groups(pair_label):
        label = int(pair_label[group[0]])
        posts = np.unique(np.concatenate((pair_posts_i[group], pair_posts_j[group])))
        if involved is not None and not involved[posts].any():
            continue
        times = prep.seconds[posts]
        posts = posts[np.argsort(times, kind="stable")]
        keys, key_counts = np.unique(key[pair_rows[group]], return_counts=True)
        shown = [int(x) for x in keys[np.argsort(-key_counts, kind="stable")]]
        s, e = np.searchsorted(sorted_edge_label, [label, label + 1])
        edges_idx = edge_order[s:e]
        edges = tuple(
            (prep.accounts[int(x)], prep.accounts[int(y)], int(w))
            for x, y, w in zip(e_lo[edges_idx], e_hi[edges_idx], e_w[edges_idx], strict=True)
        )
        drafts.append((posts, times, shown, edges))
    values = iter(key_values([k for _, _, shown, _ in drafts for k in shown]))
    campaigns: list[Campaign] = []
    for posts, times, shown, edges in drafts:
        shared = tuple(next(values) for _ in shown)
        accounts = sorted({name for x, y, _ in edges for name in (x, y)})
        campaigns.append(
            Campaign(
                kind=kind,
                accounts=tuple(accounts),
                post_ids=tuple(prep.ids[int(p)] for p in posts),
                shared=shared,
                first_seen=_when(float(times.min())),
                last_seen=_when(float(times.max())),
                score=float(sum(w for _, _, w in edges)),
                edges=edges,
            )
        )
    return campaigns


def _colink(
    prep: _Prepared,
    window: float,
    min_accounts: int,
    min_weight: int,
    max_pairs: int,
    involved: NDArray[np.bool_] | None = None,
) -> list[Campaign]:
    url_codes: dict[str, int] = {}
    rows_post: list[int] = []
    rows_key: list[int] = []
    for i, fp in enumerate(prep.prints):
        # fingerprint() gives each URL once; one built by hand might not
        for url in fp.urls if len(fp.urls) < 2 else dict.fromkeys(fp.urls):
            rows_post.append(i)
            rows_key.append(url_codes.setdefault(url, len(url_codes)))
    if not rows_post:
        return []
    values = list(url_codes)
    return _network(
        prep,
        np.asarray(rows_key, dtype=np.int64),
        lambda codes: [values[code] for code in codes],
        "colink",
        window=window,
        min_accounts=min_accounts,
        min_weight=min_weight,
        max_pairs_per_post=max_pairs,
        post_index=np.asarray(rows_post, dtype=np.int64),
        involved=involved,
    )


def _copost(
    prep: _Prepared,
    window: float,
    min_accounts: int,
    min_weight: int,
    max_pairs: int,
    involved: NDArray[np.bool_] | None = None,
) -> list[Campaign]:
    return _network(
        prep,
        prep.text_id,
        lambda tids: prep.originals([prep.first_raw[tid] for tid in tids]),
        "copost",
        window=window,
        min_accounts=min_accounts,
        min_weight=min_weight,
        max_pairs_per_post=max_pairs,
        involved=involved,
    )


# --------------------------------------------------------------------------- public API

_TEXT_KINDS = frozenset({"copy", "reworded", "copost"})


def find_copypasta(
    posts: Sequence[Post],
    *,
    min_accounts: int = 3,
    min_chars: int = 25,
    rewordings: bool = True,
    threshold: float = 0.65,
    num_perm: int = 64,
    bands: int = 16,
    shingle_size: int = 5,
    n_jobs: int = 1,
    translations: bool = False,
    translation_threshold: float = 0.7,
) -> list[Campaign]:
    """Copy-pasta (``"copy"``) and rewording (``"reworded"``) campaigns; see the module doc.

    ``translations=True`` also joins texts whose multilingual embeddings
    (:func:`beffroi.analysis.moderation.embedding.embed`, about 800 texts/s) have a cosine of
    at least ``translation_threshold``: the same message translated. Off by default: slow.
    """
    prints = fingerprint(
        posts,
        min_chars=min_chars,
        num_perm=num_perm,
        shingle_size=shingle_size,
        signatures=rewordings,
        links=False,
        n_jobs=n_jobs,
    )
    return _copypasta(
        _prepare(prints, _post_originals(posts)),
        min_accounts=min_accounts,
        rewordings=rewordings,
        threshold=threshold,
        bands=bands,
        translations=translations,
        translation_threshold=translation_threshold,
    )


def colink_network(
    posts: Sequence[Post],
    *,
    window: float | timedelta = 60.0,
    min_accounts: int = 3,
    min_weight: int = 1,
    max_pairs_per_post: int = 1000,
) -> list[Campaign]:
    """Co-link campaigns: accounts sharing the same normalised URL within ``window`` seconds.

    URLs come from ``Post.urls`` and from the text. ``max_pairs_per_post`` bounds the pairs
    counted from one post in a burst (a viral link shared by thousands in a minute).
    """
    prints = fingerprint(posts, texts=False, signatures=False)
    prep = _prepare(prints, _post_originals(posts))
    return _colink(prep, _window_seconds(window), min_accounts, min_weight, max_pairs_per_post)


def copost_network(
    posts: Sequence[Post],
    *,
    window: float | timedelta = 60.0,
    min_accounts: int = 3,
    min_weight: int = 1,
    min_chars: int = 25,
    max_pairs_per_post: int = 1000,
) -> list[Campaign]:
    """Co-post campaigns: accounts posting the same normalised text within ``window`` seconds."""
    prints = fingerprint(posts, min_chars=min_chars, signatures=False, links=False)
    prep = _prepare(prints, _post_originals(posts))
    return _copost(prep, _window_seconds(window), min_accounts, min_weight, max_pairs_per_post)


def _wanted(kinds: Iterable[CampaignKind]) -> set[CampaignKind]:
    wanted = set(kinds)
    unknown = wanted - set(ALL_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {sorted(unknown)}")
    return wanted


def detect_coordination(
    posts: Sequence[Post],
    *,
    kinds: Iterable[CampaignKind] = ALL_KINDS,
    min_accounts: int = 3,
    min_chars: int = 25,
    window: float | timedelta = 60.0,
    min_weight: int = 1,
    threshold: float = 0.65,
    num_perm: int = 64,
    bands: int = 16,
    shingle_size: int = 5,
    max_pairs_per_post: int = 1000,
    n_jobs: int = 1,
    translations: bool = False,
    translation_threshold: float = 0.7,
) -> list[Campaign]:
    """All the campaigns of the requested ``kinds``, highest score first.

    Posts are validated and fingerprinted once (:func:`fingerprint`), then
    :func:`detect_coordination_fingerprinted` runs. Raises ``ValueError`` on a naive
    ``created_at``. Parameters are those of :func:`find_copypasta`, :func:`colink_network`
    and :func:`copost_network`; ``translations`` needs ``"reworded"`` in ``kinds``.
    """
    wanted = _wanted(kinds)
    seconds = _window_seconds(window)
    prints = fingerprint(
        posts,
        min_chars=min_chars,
        num_perm=num_perm,
        shingle_size=shingle_size,
        texts=bool(wanted & _TEXT_KINDS),
        signatures="reworded" in wanted,
        links="colink" in wanted,
        n_jobs=n_jobs,
    )
    return _detect(
        _prepare(prints, _post_originals(posts)),
        wanted,
        min_accounts=min_accounts,
        window=seconds,
        min_weight=min_weight,
        threshold=threshold,
        bands=bands,
        max_pairs_per_post=max_pairs_per_post,
        translations=translations,
        translation_threshold=translation_threshold,
        involved=None,
    )


def detect_coordination_fingerprinted(
    fingerprints: Sequence[Fingerprint],
    originals: Callable[[Sequence[str]], Sequence[str]],
    *,
    kinds: Iterable[CampaignKind] = ALL_KINDS,
    min_accounts: int = 3,
    window: float | timedelta = 60.0,
    min_weight: int = 1,
    threshold: float = 0.65,
    bands: int = 16,
    max_pairs_per_post: int = 1000,
    translations: bool = False,
    translation_threshold: float = 0.7,
    involving: Collection[str] | None = None,
) -> list[Campaign]:
    """:func:`detect_coordination` over fingerprints made earlier (:func:`fingerprint`, with
    the same ``min_chars``, ``num_perm`` and ``shingle_size`` for all), in the same order.

    ``originals(post_ids)`` gives the original texts of these posts: asked only for the
    texts the campaigns show and, with ``translations``, for one text per cluster of
    texts. ``involving``: when given, only the campaigns holding one of these post ids are
    made (a sliding window wants the campaigns its new posts are in).
    """
    wanted = _wanted(kinds)
    seconds = _window_seconds(window)

    def by_index(indices: Sequence[int]) -> list[str]:
        if not len(indices):
            return []
        texts = list(originals([fingerprints[i].id for i in indices]))
        if len(texts) != len(indices):
            raise ValueError("originals() must give one text per post id")
        return texts

    prep = _prepare(fingerprints, by_index)
    involved = None
    if involving is not None:
        chosen = set(involving)
        involved = np.fromiter((pid in chosen for pid in prep.ids), dtype=bool, count=len(prep.ids))
    return _detect(
        prep,
        wanted,
        min_accounts=min_accounts,
        window=seconds,
        min_weight=min_weight,
        threshold=threshold,
        bands=bands,
        max_pairs_per_post=max_pairs_per_post,
        translations=translations,
        translation_threshold=translation_threshold,
        involved=involved,
    )


def _detect(
    prep: _Prepared,
    wanted: set[CampaignKind],
    *,
    min_accounts: int,
    window: float,
    min_weight: int,
    threshold: float,
    bands: int,
    max_pairs_per_post: int,
    translations: bool,
    translation_threshold: float,
    involved: NDArray[np.bool_] | None,
) -> list[Campaign]:
    out: list[Campaign] = []
    if wanted & {"copy", "reworded"}:
        found = _copypasta(
            prep,
            min_accounts=min_accounts,
            rewordings="reworded" in wanted,
            threshold=threshold,
            bands=bands,
            translations=translations,
            translation_threshold=translation_threshold,
            involved=involved,
        )
        out.extend(c for c in found if c.kind in wanted)
    if "colink" in wanted:
        out.extend(_colink(prep, window, min_accounts, min_weight, max_pairs_per_post, involved))
    if "copost" in wanted:
        out.extend(_copost(prep, window, min_accounts, min_weight, max_pairs_per_post, involved))
    out.sort(key=lambda c: (-c.score, c.first_seen, c.kind))
    return out


# --------------------------------------------------------------------------- exports


def coordination_graph(campaigns: Iterable[Campaign], *, max_clique: int = 50) -> Any:
    """``networkx.Graph`` of the accounts; edge ``weight`` = number of co-actions.

    Network campaigns contribute their edges; a copy or rewording campaign links its accounts
    pairwise (weight 1 per campaign), or, above ``max_clique`` accounts, each account to the
    campaign's first account only. Node attributes: ``campaigns`` (count), ``kinds`` and
    ``posts`` (campaign posts counted per campaign, as text: GraphML has no lists).
    """
    graph = nx.Graph()
    kinds_of: dict[str, set[str]] = {}
    count_of: dict[str, int] = {}

    def add_edge(a: str, b: str, w: int, kind: str) -> None:
        if graph.has_edge(a, b):
            graph[a][b]["weight"] += w
            graph[a][b]["kinds"] = ",".join(sorted({*graph[a][b]["kinds"].split(","), kind}))
        else:
            graph.add_edge(a, b, weight=w, kinds=kind)

    for campaign in campaigns:
        for account in campaign.accounts:
            kinds_of.setdefault(account, set()).add(campaign.kind)
            count_of[account] = count_of.get(account, 0) + 1
            graph.add_node(account)
        if campaign.edges:
            for a, b, w in campaign.edges:
                add_edge(a, b, w, campaign.kind)
        elif len(campaign.accounts) <= max_clique:
            accs = campaign.accounts
            for x in range(len(accs)):
                for y in range(x + 1, len(accs)):
                    add_edge(accs[x], accs[y], 1, campaign.kind)
        else:
            hub = campaign.accounts[0]
            for other in campaign.accounts[1:]:
                add_edge(hub, other, 1, campaign.kind)
    for account, kinds in kinds_of.items():
        graph.nodes[account]["label"] = account
        graph.nodes[account]["campaigns"] = count_of[account]
        graph.nodes[account]["kinds"] = ",".join(sorted(kinds))
    return graph


def to_graphml(campaigns_or_graph: Iterable[Campaign] | Any, path: str | Path) -> None:
    """Write a GraphML file (Gephi, Cytoscape) of the coordination graph.

    Accepts the campaigns (see :func:`coordination_graph`) or a ready ``networkx`` graph.
    """
    graph = (
        campaigns_or_graph
        if isinstance(campaigns_or_graph, nx.Graph)
        else coordination_graph(campaigns_or_graph)
    )
    nx.write_graphml(graph, str(path))


CSV_FIELDS = (
    "kind",
    "size",
    "score",
    "first_seen",
    "last_seen",
    "accounts",
    "post_ids",
    "shared",
)


def campaigns_to_csv(campaigns: Iterable[Campaign], file: str | Path | IO[str]) -> None:
    """Write one row per campaign; list fields are joined with ``" | "``."""
    if isinstance(file, str | Path):
        with open(file, "w", encoding="utf-8", newline="") as handle:
            _write_csv(campaigns, handle)
    else:
        _write_csv(campaigns, file)


def _write_csv(campaigns: Iterable[Campaign], handle: IO[str]) -> None:
    writer = csv.writer(handle)
    writer.writerow(CSV_FIELDS)
    for c in campaigns:
        writer.writerow(
            [
                c.kind,
                c.size,
                f"{c.score:.3f}",
                c.first_seen.isoformat(),
                c.last_seen.isoformat(),
                " | ".join(c.accounts),
                " | ".join(c.post_ids),
                " | ".join(s.replace("\n", " ") for s in c.shared),
            ]
        )
