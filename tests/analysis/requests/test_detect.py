"""Request detection: clear cases in three languages, learning from corrections."""

from __future__ import annotations

import pytest

from beffroi.analysis.requests.corpus import load_corpus
from beffroi.analysis.requests.detect import (
    RequestDetector,
    RequestExample,
    TextClassifier,
    fold,
    train_detector,
)

REQUESTS = [
    "Bonjour, quand passe la collecte des déchets verts dans le quartier des Acacias ?",
    "le lampadaire rue des Ecoles est eteint depuis une semaine, merci de faire qqch",
    "Comment faire une carte d'identité pour ma fille de 8 ans ?",
    "Huge pothole on Station Road near the bakery, please fix it before someone gets hurt",
    "No water supply in our street since yesterday morning, please help",
    "مصباح الشارع أمام بيتي مطفأ منذ أسبوعين، أرجو إصلاحه",
    "كيف أحصل على شهادة ميلاد لابني؟",
]
OTHERS = [
    "Merci à toute l'équipe pour ce magnifique feu d'artifice !",
    "Trop beau le coucher de soleil ce soir 😍",
    "Gagnez 500€ par jour depuis chez vous, cliquez ici https://bit.ly/xyz",
    "Happy new year to everyone in the city!",
    "شكراً جزيلاً على الاحتفال الرائع",
]


def test_clear_requests_and_non_requests(shipped_detector: RequestDetector) -> None:
    detections = shipped_detector.detect(REQUESTS + OTHERS)
    flagged = [d.is_request for d in detections]
    assert flagged == [True] * len(REQUESTS) + [False] * len(OTHERS), [
        d.probability for d in detections
    ]
    assert all(0.0 <= d.probability <= 1.0 for d in detections)
    assert detections[0].model == shipped_detector.version


def test_fold_hides_accounts_links_and_numbers() -> None:
    assert fold("@MairieX Le Lampadaire n°12 https://t.co/a") == "_at_ le lampadaire n°0 _url_"
    assert fold("لا يوجد ماء") == "لا يوجد ماء"


def _small_base() -> list[RequestExample]:
    rows = load_corpus()[::10]
    return [RequestExample(row.text, row.is_request, row.service) for row in rows]


def test_learning_from_corrections_changes_a_prediction() -> None:
    # A town where reports about the fête foraine are requests for the police (noise,
    # parking): the corpus says chatter about the fête is not a request.
    text = "La fête foraine sur la place ce soir avec les manèges à fond"
    base = _small_base()
    before = train_detector(base=base, use_embedding=False)
    assert before.detect([text])[0].is_request is False
    corrections = [
        RequestExample("La fête foraine avec les manèges à fond jusqu'à minuit", True),
        RequestExample("Fête foraine sur la place, musique à fond ce soir", True),
        RequestExample("Les manèges de la fête foraine à fond sur la place", True),
    ]
    after = train_detector(corrections, base=base, use_embedding=False)
    assert after.detect([text])[0].is_request is True
    assert after.model.corrections == 3
    assert after.version != before.version


def test_model_round_trips_through_bytes() -> None:
    detector = train_detector(base=_small_base(), use_embedding=False)
    copy = TextClassifier.from_bytes(detector.model.to_bytes())
    texts = REQUESTS[:3] + OTHERS[:2]
    assert copy.probabilities(texts) == detector.model.probabilities(texts)
    with pytest.raises(ValueError, match="not a Beffroi requests model"):
        TextClassifier.from_bytes(b"something else")


def test_training_needs_both_labels() -> None:
    with pytest.raises(ValueError, match="two labels"):
        train_detector(base=[RequestExample("a", True), RequestExample("b", True)])
