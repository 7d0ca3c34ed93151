"""The charter Beffroi ships covers every detector category with valid DSA values."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.analysis.moderation.signals import CATEGORIES
from beffroi.charter import dsa
from beffroi.charter.yaml_io import load_default_charter


@pytest.fixture(scope="module")
def categories() -> dict[str, dict[str, Any]]:
    return {category["slug"]: category for category in load_default_charter().categories}


def test_it_covers_exactly_the_detector_categories(categories: dict[str, Any]) -> None:
    assert list(categories) == list(CATEGORIES)


def test_every_category_reads_in_french_and_english(categories: dict[str, Any]) -> None:
    for slug, category in categories.items():
        for language in ("fr", "en"):
            assert len(category["name"][language]) > 3, slug
            assert len(category["clause"][language]) > 80, slug
        assert category["clause"]["fr"] != category["clause"]["en"], slug


def test_every_category_maps_to_valid_dsa_values(categories: dict[str, Any]) -> None:
    for slug, category in categories.items():
        mapping = category["dsa"]
        assert mapping["category"] in dsa.STATEMENT_CATEGORIES, slug
        assert mapping["decision_ground"] in dsa.DECISION_GROUNDS, slug
        assert mapping["specification"], slug
        for keyword in mapping["specification"]:
            assert keyword in dsa.CATEGORY_SPECIFICATIONS, (slug, keyword)
            assert dsa.keyword_fits(mapping["category"], keyword), (slug, keyword)


def test_a_statement_built_from_each_category_validates(categories: dict[str, Any]) -> None:
    """What the decision side builds from a category passes the Transparency Database checks."""
    for slug, category in categories.items():
        mapping = category["dsa"]
        statement: dict[str, Any] = {
            "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"],
            "decision_ground": mapping["decision_ground"],
            "content_type": ["CONTENT_TYPE_TEXT"],
            "category": mapping["category"],
            "category_specification": mapping["specification"],
            "territorial_scope": ["FR"],
            "content_date": "2026-10-01",
            "application_date": "2026-10-01",
            "decision_facts": category["clause"]["en"],
            "source_type": "SOURCE_VOLUNTARY",
            "automated_detection": "Yes",
            "automated_decision": "AUTOMATED_DECISION_FULLY",
            "puid": f"demo-{slug}",
        }
        if mapping["specification_other"]:
            statement["category_specification_other"] = mapping["specification_other"]
        if mapping["decision_ground"] == dsa.DECISION_GROUND_ILLEGAL:
            statement["illegal_content_legal_ground"] = category["legal_reference"]
            statement["illegal_content_explanation"] = category["clause"]["en"]
        else:
            statement["incompatible_content_ground"] = f"Charter: {category['name']['en']}"
            statement["incompatible_content_explanation"] = category["clause"]["en"]
        assert dsa.validate_statement(statement) == [], slug


def test_french_legal_references(categories: dict[str, Any]) -> None:
    assert "421-2-5" in categories["terrorism"]["legal_reference"]
    assert "29 juillet 1881" in categories["hate"]["legal_reference"]
    assert "art. 24" in categories["hate"]["legal_reference"]
    assert "222-17" in categories["threat"]["legal_reference"]
    assert "RGPD" in categories["personal_data"]["legal_reference"]
    assert categories["off_topic"]["legal_reference"] == ""
    for slug, category in categories.items():
        if category["dsa"]["decision_ground"] == dsa.DECISION_GROUND_ILLEGAL:
            assert category["legal_reference"], slug


def test_default_thresholds(categories: dict[str, Any]) -> None:
    for slug in ("terrorism", "threat", "hate"):
        assert (categories[slug]["hide_at"], categories[slug]["review_at"]) == (0.9, 0.5)
    assert (categories["insult"]["hide_at"], categories["insult"]["review_at"]) == (0.95, 0.6)
    assert categories["off_topic"]["hide_at"] is None
    assert categories["off_topic"]["review_at"] == 0.8
    assert categories["disinformation"]["hide_at"] is None
    assert categories["disinformation"]["review_at"] is not None
    assert categories["terrorism"]["severity"] == 4
    for slug, category in categories.items():
        assert category["auto_delete"] is False, slug
        assert category["enabled"] is True and category["shadow"] is False, slug
