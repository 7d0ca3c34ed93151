"""Counter-speech retrieval: meaning across languages with the real sentence encoder, the
target boost, the author's language first at equal relevance, why each entry was chosen."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from beffroi.analysis.counterspeech.retrieval import (
    MEANING,
    SAME_LANGUAGE,
    SAME_TARGET,
    SHARED_WORDS,
    CounterSpeechEntry,
    CounterSpeechIndex,
    Embedder,
    Weights,
    hateful_background,
)

LIBRARY = [
    CounterSpeechEntry(
        "water",
        "Tap water in our town is tested every week and it is safe to drink.",
        "en",
        ("residents",),
        "facts",
    ),
    CounterSpeechEntry(
        "refugees",
        "Refugees fled war and most of them work and pay taxes like everyone else.",
        "en",
        ("migrants",),
        "facts",
    ),
    CounterSpeechEntry(
        "women",
        "Women are as capable as men in every job, including leading a country.",
        "en",
        ("women",),
        "facts",
    ),
    CounterSpeechEntry(
        "muslims",
        "Most Muslims in France are peaceful neighbours who condemn terrorism.",
        "en",
        ("muslims",),
        "facts",
    ),
]


def test_a_french_post_finds_the_english_reply_of_the_same_meaning() -> None:
    # A few ordinary hateful posts to calibrate against (the default, the moderation seed
    # corpus, takes seconds to embed).
    background = [
        ("Les étrangers dehors.", "fr"),
        ("Go back to your country.", "en"),
        ("I hate them all.", "en"),
    ]
    index = CounterSpeechIndex(LIBRARY, background=background)
    posts = [
        "Les réfugiés sont des parasites qui vivent de nos impôts.",
        "Les femmes sont incapables de diriger un pays.",
    ]
    first = [suggestions[0] for suggestions in index.rank_many(posts, ["fr", "fr"], top=2)]
    assert [suggestion.entry.id for suggestion in first] == ["refugees", "women"]
    assert MEANING in first[0].why
    assert SHARED_WORDS not in first[0].why  # no word in common: the encoder found it
    assert first[0].evidence.words == 0.0 and first[0].evidence.meaning > 0.2


def _toy_embedder(axes: dict[str, int]) -> Embedder:
    """Embeds a text by how often it says each keyword (a fixed, readable space)."""

    def embed(texts: Sequence[str]) -> NDArray[np.float32]:
        vectors = np.full((len(texts), len(axes) + 1), 0.01, dtype=np.float32)
        for row, text in enumerate(texts):
            for word, axis in axes.items():
                vectors[row, axis] += text.lower().count(word)
        return vectors

    return embed


#: The closest entry in meaning to "jews jews jews migrants" defends migrants, but the
#: library's entries for Jews, taken together, are closer: the post is predicted to
#: target Jews, and the boost puts the reply for Jews first.
TARGETED = [
    CounterSpeechEntry("m1", "jews jews migrants", targets=("MIGRANTS",)),
    CounterSpeechEntry("m2", "migrants", targets=("MIGRANTS",)),
    CounterSpeechEntry("j1", "jews women", targets=("JEWS",)),
    CounterSpeechEntry("j2", "jews", targets=("JEWS",)),
]
AXES = {"jews": 0, "migrants": 1, "women": 2}


def test_the_predicted_target_raises_the_replies_for_that_group() -> None:
    query = "jews jews jews migrants"
    plain = CounterSpeechIndex(
        TARGETED,
        embedder=_toy_embedder(AXES),
        weights=Weights(words=0.0, characters=0.0, target=0.0, specificity=0.0),
        background=(),
    )
    assert plain.targets == ("JEWS", "MIGRANTS")
    probabilities = plain.predict_targets([query])[0]
    assert probabilities[0] > 0.99  # JEWS
    assert plain.rank(query, top=1)[0].entry.id == "m1"
    boosted = CounterSpeechIndex(
        TARGETED,
        embedder=_toy_embedder(AXES),
        weights=Weights(words=0.0, characters=0.0, target=1.0, specificity=0.0),
        background=(),
    )
    gain = boosted.scores([query])[0] - plain.scores([query])[0]
    assert gain == pytest.approx(
        [probabilities[1], probabilities[1], probabilities[0], probabilities[0]]
    )
    top = boosted.rank(query, top=1)[0]
    assert top.entry.id == "j2" and SAME_TARGET in top.why
    assert top.evidence.target == pytest.approx(probabilities[0])


def test_no_target_evidence_without_declared_targets() -> None:
    entries = [CounterSpeechEntry("a", "jews"), CounterSpeechEntry("b", "women")]
    index = CounterSpeechIndex(
        entries, embedder=_toy_embedder({"jews": 0, "women": 1}), background=()
    )
    assert index.predict_targets(["jews"]).shape == (1, 0)
    assert index.rank("jews", top=1)[0].evidence.target == 0.0


def test_the_authors_language_first_at_equal_relevance() -> None:
    entries = [
        CounterSpeechEntry("en", "water safe", "en"),
        CounterSpeechEntry("fr", "water safe", "fr"),
        CounterSpeechEntry("other", "women", "fr"),
    ]
    # Specificity off: the two twins resemble each other, and an entry's resemblance to
    # the library is not counted across languages, which would decide the tie alone.
    index = CounterSpeechIndex(
        entries,
        embedder=_toy_embedder({"water": 0, "women": 1}),
        background=(),
        weights=Weights(specificity=0.0),
    )
    assert index.rank("water", "fr", top=1)[0].entry.id == "fr"
    assert index.rank("water", "EN", top=1)[0].entry.id == "en"
    assert SAME_LANGUAGE in index.rank("water", "en", top=1)[0].why


def test_words_only_is_the_tfidf_baseline() -> None:
    index = CounterSpeechIndex(LIBRARY, use_meaning=False)
    suggestions = index.rank("Is the tap water safe to drink?", top=2)
    assert suggestions[0].entry.id == "water" and SHARED_WORDS in suggestions[0].why
    assert [suggestion.rank for suggestion in suggestions] == [1, 2]
    assert suggestions[0].score > suggestions[1].score
    assert not index.uses_meaning and suggestions[0].evidence.meaning == 0.0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        CounterSpeechIndex([])
    with pytest.raises(ValueError, match="top must"):
        CounterSpeechIndex(LIBRARY, use_meaning=False).rank("x", top=0)
    with pytest.raises(ValueError, match="one language"):
        CounterSpeechIndex(LIBRARY, use_meaning=False).scores(["x"], ["fr", "en"])


def test_meaning_is_calibrated_against_ordinary_hate_speech() -> None:
    # "hate" is in every hateful post: the generic entry is close to all of them, so its
    # closeness to this post says less than the specific entry's.
    entries = [
        CounterSpeechEntry("generic", "hate hate hate jews", "en"),
        CounterSpeechEntry("specific", "jews jews", "en"),
        CounterSpeechEntry("other", "women", "en"),
    ]
    background = [(text, "en") for text in ["hate women", "hate", "hate hate", "hate migrants"]]
    embedder = _toy_embedder({"hate": 0, "jews": 1, "women": 2, "migrants": 3})
    weights = Weights(words=0.0, characters=0.0, specificity=0.0)
    query = "hate hate jews"
    raw = CounterSpeechIndex(entries, embedder=embedder, weights=weights, background=())
    assert raw.rank(query, top=1)[0].entry.id == "generic"
    calibrated = CounterSpeechIndex(
        entries, embedder=embedder, weights=weights, background=background
    )
    assert calibrated.rank(query, top=1)[0].entry.id == "specific"


def test_the_default_background_is_the_hateful_part_of_the_seed_corpus() -> None:
    background = hateful_background()
    languages = {language for _, language in background}
    assert {"fr", "en", "ar"} <= languages and len(background) > 1000
    texts = {text for text, _ in background}
    assert "I hate Africans." in texts  # a hateful seed example
