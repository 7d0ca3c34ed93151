"""The DSA Transparency Database vocabulary and the statement validator, on hand-built statements."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.charter import dsa
from beffroi.charter.dsa import validate_statement


def valid_statement(**changes: Any) -> dict[str, Any]:
    """A statement the Transparency Database accepts: a hidden hateful comment."""
    statement: dict[str, Any] = {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_DISABLED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Loi du 29 juillet 1881, art. 24",
        "illegal_content_explanation": "Incitement to hatred against a group for its religion.",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "category": "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
        "category_specification": ["KEYWORD_HATE_SPEECH"],
        "territorial_scope": ["FR"],
        "content_language": "FR",
        "content_date": "2026-10-01",
        "application_date": "2026-10-02",
        "decision_facts": "Comment hidden by the charter clause on hate speech.",
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes",
        "automated_decision": "AUTOMATED_DECISION_PARTIALLY",
        "puid": "ville-test_decision-42",
    }
    statement.update(changes)
    return {key: value for key, value in statement.items() if value is not ...}


def test_a_complete_statement_is_valid() -> None:
    assert validate_statement(valid_statement()) == []


def test_an_incompatible_content_statement_with_every_optional_field_is_valid() -> None:
    statement = valid_statement(
        decision_ground="DECISION_GROUND_INCOMPATIBLE_CONTENT",
        illegal_content_legal_ground=...,
        illegal_content_explanation=...,
        incompatible_content_ground="Charte de modération, article 5 (injures)",
        incompatible_content_explanation="Insult aimed at a municipal employee.",
        incompatible_content_illegal="No",
        decision_visibility=["DECISION_VISIBILITY_CONTENT_REMOVED", "DECISION_VISIBILITY_OTHER"],
        decision_visibility_other="Reply thread closed",
        end_date_visibility_restriction="2026-12-31",
        decision_account="DECISION_ACCOUNT_SUSPENDED",
        account_type="ACCOUNT_TYPE_PRIVATE",
        category_addition=["STATEMENT_CATEGORY_CYBER_VIOLENCE"],
        category_specification=["KEYWORD_CYBER_HARASSMENT", "KEYWORD_OTHER"],
        category_specification_other="Insult",
        decision_ground_reference_url="https://www.ville-test.fr/charte",
        content_id={"EAN-13": "0123456789123"},
        source_type="SOURCE_ARTICLE_16",
        source_identity="A resident's notice",
        automated_detection="No",
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        territorial_scope=["FR", "BE", "NO"],
    )
    assert validate_statement(statement) == []


def test_none_counts_as_absent() -> None:
    assert validate_statement(valid_statement(decision_monetary=None, account_type=None)) == []


def test_an_empty_statement_lists_every_required_field() -> None:
    problems = validate_statement({})
    for name in dsa.REQUIRED_FIELDS:
        assert f"{name}: required." in problems
    assert any(p.startswith("decision_visibility: required when none of") for p in problems)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"reason": "spam"}, "reason: unknown field."),
        ({"category": "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"}, "category: 'STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE' is not an allowed value."),
        ({"decision_ground": "ILLEGAL_CONTENT"}, "decision_ground: 'ILLEGAL_CONTENT' is not an allowed value."),
        ({"automated_detection": True}, "automated_detection: must be a string."),
        ({"automated_decision": "Yes"}, "automated_decision: 'Yes' is not an allowed value."),
        ({"source_type": "SOURCE_OTHER"}, "source_type: 'SOURCE_OTHER' is not an allowed value."),
        ({"content_type": "CONTENT_TYPE_TEXT"}, "content_type: must be a list."),
        ({"content_type": ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_TEXT"]}, "content_type: values are repeated."),
        ({"decision_visibility": ["DECISION_VISIBILITY_HIDDEN"]}, "decision_visibility: 'DECISION_VISIBILITY_HIDDEN' is not an allowed value."),
        ({"territorial_scope": ["FR", "US"]}, "territorial_scope: 'US' is not an allowed value."),
        ({"territorial_scope": ["EL"]}, "territorial_scope: 'EL' is not an allowed value."),
        ({"category_specification": ["KEYWORD_HATE"]}, "category_specification: 'KEYWORD_HATE' is not an allowed value."),
        ({"illegal_content_legal_ground": ...}, "illegal_content_legal_ground: required when decision_ground is DECISION_GROUND_ILLEGAL_CONTENT."),
        ({"illegal_content_explanation": ""}, "illegal_content_explanation: required when decision_ground is DECISION_GROUND_ILLEGAL_CONTENT."),
        ({"decision_visibility": ["DECISION_VISIBILITY_OTHER"]}, "decision_visibility_other: required when decision_visibility includes DECISION_VISIBILITY_OTHER."),
        ({"decision_visibility": ..., "decision_monetary": "DECISION_MONETARY_OTHER"}, "decision_monetary_other: required when decision_monetary is DECISION_MONETARY_OTHER."),
        ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other: required when content_type includes CONTENT_TYPE_OTHER."),
        ({"category_specification": ["KEYWORD_TERRORIST_CONTENT"]}, "category_specification: KEYWORD_TERRORIST_CONTENT does not belong to STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH."),
        ({"content_date": "01/10/2026"}, "content_date: must be a date written YYYY-MM-DD."),
        ({"content_date": "2026-02-30"}, "content_date: must be a date written YYYY-MM-DD."),
        ({"content_date": "1999-12-31"}, "content_date: must be on or after 2000-01-01."),
        ({"application_date": "2019-12-31"}, "application_date: must be on or after 2020-01-01."),
        ({"end_date_visibility_restriction": "2026-10-01"}, "end_date_visibility_restriction: must be on or after application_date."),
        ({"puid": "decision 42"}, "puid: only letters, digits, hyphens and underscores are allowed."),
        ({"puid": "x" * 501}, "puid: longer than 500 characters (501)."),
        ({"decision_facts": "x" * 5001}, "decision_facts: longer than 5000 characters (5001)."),
        ({"illegal_content_explanation": "x" * 2001}, "illegal_content_explanation: longer than 2000 characters (2001)."),
        ({"content_language": "fr"}, "content_language: must be an upper-case ISO 639-1 code such as FR."),
        ({"incompatible_content_illegal": "yes"}, "incompatible_content_illegal: 'yes' is not an allowed value."),
        ({"decision_ground_reference_url": "www.ville.fr"}, "decision_ground_reference_url: must be an http(s) URL."),
        ({"content_id": {"ISBN": "123"}}, "content_id: 'ISBN' is not an accepted identifier."),
        ({"content_id": {"EAN-13": "12"}}, "content_id: an EAN-13 code is 13 digits."),
    ],
)  # fmt: skip
def test_each_problem_is_named(changes: dict[str, Any], expected: str) -> None:
    problems = validate_statement(valid_statement(**changes))
    assert expected in problems, problems


def test_every_problem_is_reported_at_once() -> None:
    problems = validate_statement(
        valid_statement(category="NOPE", puid="a b", content_date="x", extra=1)
    )
    assert len(problems) >= 4


def test_a_keyword_may_belong_to_an_additional_category() -> None:
    statement = valid_statement(
        category_specification=["KEYWORD_HATE_SPEECH", "KEYWORD_TERRORIST_CONTENT"],
        category_addition=["STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY"],
    )
    assert validate_statement(statement) == []


def test_a_statement_must_be_a_mapping() -> None:
    assert validate_statement(["not", "a", "statement"]) == ["A statement must be a JSON object."]  # type: ignore[arg-type]


def test_the_vocabularies_are_consistent() -> None:
    assert set(dsa.KEYWORDS_BY_CATEGORY) == set(dsa.STATEMENT_CATEGORIES)
    grouped = {k for keywords in dsa.KEYWORDS_BY_CATEGORY.values() for k in keywords}
    assert grouped <= set(dsa.CATEGORY_SPECIFICATIONS)
    assert set(dsa.CATEGORY_SPECIFICATIONS) - grouped == {"KEYWORD_OTHER", "KEYWORD_STALKING"}
    assert len(dsa.STATEMENT_CATEGORIES) == 16
    assert len(dsa.EU_COUNTRY_CODES) == 27
    for name in dsa.REQUIRED_FIELDS + dsa.RESTRICTION_FIELDS + tuple(dsa.TEXT_LIMITS):
        assert name in dsa.FIELDS


def test_keyword_fits() -> None:
    assert dsa.keyword_fits(
        "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT"
    )
    assert not dsa.keyword_fits("STATEMENT_CATEGORY_VIOLENCE", "KEYWORD_TERRORIST_CONTENT")
    assert dsa.keyword_fits("STATEMENT_CATEGORY_VIOLENCE", "KEYWORD_OTHER")
    assert dsa.keyword_fits("STATEMENT_CATEGORY_VIOLENCE", "KEYWORD_STALKING")
