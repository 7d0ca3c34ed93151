"""Analysis reads a very long text as its head and tail, through one function: detectors,
the sentence encoder, language identification and the veille's cleaners all get the bound."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from beffroi.analysis import text_bound
from beffroi.analysis.claims.retrieval import clean_query
from beffroi.analysis.coordination import Post, find_copypasta
from beffroi.analysis.language import detect_language
from beffroi.analysis.moderation import embedding
from beffroi.analysis.moderation.normalize import normalize
from beffroi.analysis.narratives import clean_text
from beffroi.analysis.text_bound import HEAD_CHARS, LIMIT, OMISSION, TAIL_CHARS, analysed_text

HEAD = "Début du commentaire. "
TAIL = " Fin du commentaire."
LONG = HEAD + "x" * 100_000 + TAIL


def test_ordinary_texts_are_read_whole() -> None:
    long_comment = "La piscine est fermée depuis trois semaines. " * 100  # 4,500 characters
    for text in ("", "bonjour", long_comment, "a" * LIMIT):
        assert analysed_text(text) is text
        assert not text_bound.is_cut(text)


def test_a_longer_text_is_read_as_its_head_and_tail() -> None:
    read = analysed_text(LONG)
    assert text_bound.is_cut(LONG)
    assert read == LONG[:HEAD_CHARS] + OMISSION + LONG[-TAIL_CHARS:]
    assert len(read) == LIMIT and read.startswith(HEAD) and read.endswith(TAIL)
    assert analysed_text(read) == read  # cutting twice changes nothing
    assert analysed_text("a" * (LIMIT + 1)) != "a" * (LIMIT + 1)


def test_normalization_language_and_cleaners_read_the_bound() -> None:
    normalized = normalize(LONG)
    assert normalized.original == analysed_text(LONG)
    assert len(normalized.text) <= LIMIT + 10 and "fin du commentaire" in normalized.text
    assert len(clean_text(LONG)) <= LIMIT and clean_text(LONG).endswith(TAIL.strip())
    assert len(clean_query(LONG)) <= LIMIT
    french = "Bonjour, la mairie ferme la piscine municipale samedi pour des travaux. " * 2_000
    assert detect_language(french) == "fr"


def test_the_sentence_encoder_never_sees_more_than_the_bound(monkeypatch: Any) -> None:
    seen: list[int] = []

    class Recorder:
        def encode(self, texts: Sequence[str]) -> Any:
            seen.extend(len(text) for text in texts)
            return np.ones((len(texts), embedding.DIMENSIONS), dtype=np.float32)

    monkeypatch.setattr(embedding, "_encoder", Recorder)
    vectors = embedding.embed(["court", "z" * 4 * 1024 * 1024])
    assert vectors.shape == (2, embedding.DIMENSIONS)
    assert sorted(seen) == [len("court"), LIMIT]


def test_copies_are_compared_on_the_bound() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    # Long texts that differ only in their middle: what analysis reads is one same copy (read
    # whole, they would be near-duplicates: a rewording).
    posts = [
        Post(str(n), f"compte{n}", HEAD + "y" * 50_000 + str(n) * 10 + "y" * 50_000 + TAIL, moment)
        for n in range(3)
    ]
    found = find_copypasta(posts, min_accounts=3)
    assert [campaign.kind for campaign in found] == ["copy"]


@pytest.mark.parametrize("size", [LIMIT + 1, 4 * 1024 * 1024])
def test_the_bound_holds_at_any_length(size: int) -> None:
    assert len(analysed_text("é" * size)) == LIMIT
