"""What triggered a verdict and why a case was opened, as sentences (``moderation.wording``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from beffroi.moderation.display import explanation_rows
from beffroi.moderation.wording import (
    case_reason,
    cited_category,
    detector_name,
    trigger,
    triggers,
)


@pytest.mark.parametrize(
    ("detector", "detail", "sentence"),
    [
        ("rules", "rule:fr.threat.tu_vas_payer", "Charter rule fr.threat.tu_vas_payer"),
        ("rules", "match:tu vas payer", "The words “tu vas payer” matched a rule"),
        ("rules", "dampened:negation", "counted for less: a negation comes before it"),
        ("classifier", "embedding", "The meaning of the whole text (sentence model)"),
        ("classifier", "emoji_folded_hands", "The emoji 🙏 weighed towards this category"),
        ("classifier", "tilleuls", "The word “tilleuls” weighed towards this category"),
        ("openai", "label:harassment", "The service classed it as “harassment”"),
        ("openai", "model:omni-moderation-latest", "Model: omni-moderation-latest"),
        ("openai", "flagged", "The service flagged it"),
    ],
)
def test_each_trigger_reads_as_a_sentence(detector: str, detail: str, sentence: str) -> None:
    with translation.override("en"):
        assert trigger(detector, detail) == sentence


def test_the_engine_shorthand_is_never_shown_as_is() -> None:
    stored = [
        "rules: rule:fr.insult.abruti",
        "rules: match:abruti",
        "classifier: emoji_folded_hands",
    ]
    with translation.override("en"):
        rows = triggers(explanation_rows(stored))
    assert [name for name, _ in rows] == ["Charter rules", "Charter rules", "Classifier"]
    for _name, sentence in rows:
        assert not sentence.startswith(("rule:", "match:", "emoji_"))
    # An unknown detector keeps its own name; its detail is shown as written.
    assert detector_name("homemade") == "homemade"
    assert trigger("homemade", "something") == "something"


def test_a_case_reason_follows_the_reader_language() -> None:
    # Written in French when the case was opened, read in English with today's category name.
    with translation.override("fr"):
        written = case_reason("Doubtful: threat (55%)")
        assert _plain(written) == "Douteux : threat (55 %)"
    with translation.override("en"):
        assert case_reason(written, "threat", "Threats") == "Doubtful: Threats (55%)"
        assert case_reason("Contestation d’une décision") == "Appeal against a decision"
        # A person's note stays as written.
        assert case_reason("Voir avec le service voirie") == "Voir avec le service voirie"
    with translation.override("fr"):
        assert case_reason("Appeal against a decision") == "Contestation d’une décision"
        french = case_reason("Doubtful: insult (70%)", "insult", "Injures")
        assert _plain(french) == "Douteux : Injures (70 %)"


def _plain(text: str) -> str:
    """French typography puts no-break spaces before colons and percent signs."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.django_db
def test_the_cited_category_is_named_in_the_reader_language(
    org: Any, source: Any, make_user: Any
) -> None:
    from beffroi.audit.services import Actor
    from beffroi.charter.services import ensure_default_charter
    from beffroi.moderation.services import decide
    from tests.web.factories import make_author, make_item

    live = ensure_default_charter(org)
    insult = live.categories.get(slug="insult")
    item = make_item(source, make_author(org, "someone"), "c1", text="Espèce de malotru")
    moderator = make_user("agent", org=org, role="moderator")
    with translation.override("fr"):  # decided in French: the record holds the French clause
        decision = decide(Actor(moderator, "ui"), item, "hide", category="insult")
    assert decision.clause == insult.clause_fr
    with translation.override("en"):
        assert cited_category(decision) == (insult.name_en, insult.clause_en)
    with translation.override("fr"):
        assert cited_category(decision) == (insult.name_fr, insult.clause_fr)
    # A category the cited version does not have: the record, as written.
    decision.category = "gone"
    assert cited_category(decision) == (decision.charter_snapshot["name"], decision.clause)
    decision.charter_snapshot = {}
    assert cited_category(decision)[0] == "gone"
