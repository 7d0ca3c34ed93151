"""The classifier first asks whether a text breaks the charter at all (the calibrated gate),
then which category; it learns from everyday messages written by hand; it explains itself by
words that can be reasons (docs/moderation.md, "The learned classifier")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from beffroi.analysis.moderation import classifier as classifier_module
from beffroi.analysis.moderation.classifier import (
    NONE,
    LabelledText,
    ModerationClassifier,
    classifier_reading,
    default_classifier,
    default_training_set,
    letter_scripts,
    train,
)
from beffroi.analysis.moderation.seed_corpus import (
    EVERYDAY_DIR,
    LANGUAGES,
    load_everyday,
    seed_examples,
)


def _toy_base() -> list[LabelledText]:
    return [
        *(LabelledText(f"je vais te tuer {i}, tu vas payer", "threat") for i in range(10)),
        *(LabelledText(f"sale vermine numéro {i}, dégage", "hate") for i in range(10)),
        *(LabelledText(f"espèce d'abruti {i}", "insult") for i in range(10)),
        *(LabelledText(f"la piscine ouvre à {i} heures ?", "none") for i in range(20)),
        *(LabelledText(f"merci pour le marché de noël {i}", "none") for i in range(20)),
    ]


def test_everyday_messages_are_part_of_what_the_model_learns() -> None:
    for language in LANGUAGES:
        everyday = load_everyday(language)
        labels = {example.category for example in everyday}
        # Mostly legitimate messages, and the charter's categories written as people write.
        assert sum(example.category == NONE for example in everyday) >= 400, language
        assert {"hate", "threat", "insult"} <= labels, language
        assert all(example.origin == "everyday" for example in everyday)
        # Every message has letters to read: one without (🙏🙏🙏, +1) would teach nothing.
        unread = [e.text for e in everyday if not letter_scripts(classifier_reading(e.text))]
        assert unread == [], language
    origins = {example.origin for example in seed_examples()}
    assert {"everyday", "template", "hand"} <= origins
    training = default_training_set()
    texts = [example.text for example in training]
    assert len(texts) == len({" ".join(t.casefold().split()) for t in texts})
    assert len(seed_examples(everyday=None)) < len(texts)
    # A message written once, in its own words, counts for several template sentences.
    everyday_texts = {example.text for example in seed_examples() if example.origin == "everyday"}
    weights = {example.weight for example in training if example.text in everyday_texts}
    assert weights == {classifier_module.EVERYDAY_WEIGHT} and classifier_module.EVERYDAY_WEIGHT > 1
    assert {example.weight for example in training if example.text not in everyday_texts} == {1.0}


def test_an_example_that_weighs_more_pulls_the_model_more() -> None:
    with pytest.raises(ValueError, match="weight must be positive"):
        LabelledText("merci", "none", weight=0)
    ambiguous = "la piscine, tu vas payer"
    light = train([], base=_toy_base(), representation="char")
    heavy = train(
        [],
        base=[*_toy_base(), LabelledText(ambiguous, "none", weight=30.0)],
        representation="char",
    )
    plain = train([], base=[*_toy_base(), LabelledText(ambiguous, "none")], representation="char")
    assert heavy.violation_probability([ambiguous])[0] < plain.violation_probability([ambiguous])[0]
    assert (
        plain.violation_probability([ambiguous])[0] <= light.violation_probability([ambiguous])[0]
    )
    assert heavy.version != plain.version  # the weights are part of what names a model


def test_an_unknown_label_in_the_everyday_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fr.yaml").write_text(
        'language: fr\nexamples:\n  gossip:\n    - "Il paraît que…"\n', encoding="utf-8"
    )
    with pytest.raises(ValueError, match="unknown label 'gossip'"):
        load_everyday("fr", tmp_path)
    assert load_everyday("en", tmp_path) == []  # no file: nothing
    assert EVERYDAY_DIR.is_dir()


def test_the_gate_is_calibrated_and_the_probabilities_add_up() -> None:
    model = train([], base=_toy_base(), representation="char")
    gate = model.metadata["gate"]
    assert gate["slope"] > 0  # calibration keeps the order of the scores
    for row in model.probabilities(["je vais te tuer, tu vas payer", "la piscine ouvre à 9 h ?"]):
        assert sum(row.values()) == pytest.approx(1.0)
    threat, pool = model.probabilities(["je vais te tuer, tu vas payer", "la piscine ouvre ?"])
    assert max(threat, key=threat.get) == "threat"  # type: ignore[arg-type]
    assert pool[NONE] > 0.5


def test_a_model_with_one_category_and_none_still_trains() -> None:
    base = [
        *(LabelledText(f"sale vermine {i}", "hate") for i in range(8)),
        *(LabelledText(f"bonne journée {i}", "none") for i in range(8)),
    ]
    model = train([], base=base, representation="char")
    hateful, kind = model.probabilities(["sale vermine", "bonne journée"])
    assert hateful["hate"] > 0.5 > kind["hate"]
    assert hateful["hate"] + hateful[NONE] == pytest.approx(1.0)


def test_a_stored_model_of_the_earlier_flat_layout_still_loads() -> None:
    """Organizations' retrained models stored before the gate (format 1) keep working."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = ["je vais te tuer", "tu vas payer cher", "bonne journée", "merci la mairie"]
    labels = ["threat", "threat", NONE, NONE]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5))
    matrix = vectorizer.fit_transform(texts)
    flat = ModerationClassifier(
        representation="char",
        labels=sorted(set(labels)),
        vectorizer=vectorizer,
        char_model=LogisticRegression(C=10).fit(matrix, labels),
        use_model=None,
        char_share=1.0,
        version="char-flat",
        trained_on=4,
    )
    data = flat.to_bytes()
    magic = classifier_module._MAGIC
    header_line, _, payload = data[len(magic) :].partition(b"\n")
    header = json.loads(header_line)
    header["format"] = 1
    old = magic + json.dumps(header).encode() + b"\n" + payload
    loaded = ModerationClassifier.from_bytes(old)
    row = loaded.probabilities(["je vais te tuer"])[0]
    assert row["threat"] > row[NONE]
    assert sum(row.values()) == pytest.approx(1.0)
    header["format"] = 99
    with pytest.raises(ValueError, match="retrain it"):
        ModerationClassifier.from_bytes(magic + json.dumps(header).encode() + b"\n" + payload)


@pytest.mark.parametrize(
    "word", ["va", "the", "les", "في", "emoji_thinking_face", "2024", "ok", "embedding"]
)
def test_grammar_words_numbers_and_emoji_names_are_never_a_reason(word: str) -> None:
    assert not classifier_module._may_be_a_reason(word) or word == "embedding"


def test_explanations_cite_words_that_can_be_reasons() -> None:
    model = default_classifier()
    texts = [
        "Bjr les pots de yaourt ça va dans le bac jaune maintenant ? 🤔",
        "Sale bougnoule rentre chez toi",
        "Espèce de connard, tu vas voir ce qui va t'arriver",
        "You people are vermin and should go back where you came from",
    ]
    for signals in model.score(texts):
        for signal in signals:
            words = [word for word in signal.evidence if word != "embedding"]
            assert all(classifier_module._may_be_a_reason(word) for word in words), signal
            # "embedding" stands alone: it says the meaning, not the words, carried it.
            assert not (words and "embedding" in signal.evidence), signal
    ordinary = model.probabilities([texts[0]])[0]
    assert ordinary[NONE] > 0.5
    slur = model.score([texts[1]])[0]
    assert any("bougnoule" in signal.evidence for signal in slur)


def test_a_decision_s_own_weight_multiplies_the_organization_weight() -> None:
    # Half a threat of the toy corpus: decided acceptable once, and once weighing eight.
    ambiguous = "tu vas payer"
    once = train([LabelledText(ambiguous, "none")], base=_toy_base(), representation="char")
    twice = train(
        [LabelledText(ambiguous, "none", weight=8.0)], base=_toy_base(), representation="char"
    )
    threat_once = once.probabilities([ambiguous])[0]["threat"]
    threat_twice = twice.probabilities([ambiguous])[0]["threat"]
    assert 0 < threat_twice < threat_once
    assert twice.version != once.version


_PETS = ["chats", "chiens", "lapins", "poneys", "hamsters", "furets", "canaris", "tortues"]


def _negation_base() -> list[LabelledText]:
    # "ne", "pas" and "déteste" occur on both sides: what differs is how they are put together.
    return [
        *(LabelledText(f"je déteste les {pet}", "hate") for pet in _PETS),
        *(LabelledText(f"les {pet} ne sont pas des êtres, je déteste", "hate") for pet in _PETS),
        *(LabelledText(f"je ne déteste pas les {pet}", "none") for pet in _PETS),
        *(LabelledText(f"les {pet} sont des êtres, pas de haine", "none") for pet in _PETS),
    ]


def test_word_pairs_are_features_when_seen_twice() -> None:
    vectorizer = classifier_module._ngram_vectorizer()
    vectorizer.fit(["je ne déteste pas les chats", "je ne déteste pas les chiens", "une fois"])
    names = {
        classifier_module._FEATURE_PREFIX.sub("", str(n))
        for n in vectorizer.get_feature_names_out()
    }
    assert {"ne déteste", "ne déteste pas", " dét"} <= names
    assert "une fois" not in names  # seen once: a word pair must recur to be a feature
    assert "déteste" not in names  # single words are the characters' part


def test_a_negation_is_told_from_what_it_negates() -> None:
    model = train([], base=_negation_base(), representation="char")
    hateful, negated = model.probabilities(
        ["je déteste les souris", "je ne déteste pas les souris"]
    )
    assert hateful["hate"] > 0.5 > negated["hate"]
    # A word pair that carried the verdict is cited by its words that can be a reason.
    signal = model.score(["je déteste les souris"])[0][0]
    assert signal.category == "hate" and "deteste" in signal.evidence  # read folded
    assert not {"je", "les"} & set(signal.evidence)


def test_a_stored_model_of_the_previous_format_still_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Format 3: one character vectorizer, no word pairs (organizations' retrained models).
    monkeypatch.setattr(
        classifier_module,
        "_ngram_vectorizer",
        lambda: classifier_module.TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
        ),
    )
    model = train([], base=_toy_base(), representation="char")
    stored = model.to_bytes().replace(b'"format": 4', b'"format": 3', 1)
    assert b'"format": 3' in stored
    loaded = ModerationClassifier.from_bytes(stored)
    texts = ["sale vermine numéro 42, dégage", "la piscine ouvre à 9 heures ?"]
    assert loaded.score(texts) == model.score(texts)
    assert loaded.score(texts)[0][0].category == "hate" and not loaded.score(texts)[1]


def test_a_word_pair_that_carried_the_verdict_is_cited_by_its_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = train([], base=_negation_base(), representation="char")
    names = model._feature_names()
    # Only the pair pushes: the explanation must come from it, by its words that are reasons.
    weights = np.zeros(len(names))
    weights[names.index("deteste les")] = 1.0
    monkeypatch.setattr(model, "_char_weights", lambda label: weights)
    text = classifier_module.normalized_text("je déteste les souris")
    matrix = model._vectorizer.transform([text])
    assert model.top_words(matrix, 0, model.labels.index("hate"), text) == ["deteste"]


def test_the_encoder_reads_spaced_out_letters_joined() -> None:
    assert classifier_module._use_input("contempt for M u s l i m s") == "contempt for Muslims"
    assert classifier_module._use_input("Il y a  à boire") == "Il y a à boire"
