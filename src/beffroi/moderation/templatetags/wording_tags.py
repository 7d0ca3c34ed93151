"""Template filters that read the engine's shorthand into sentences (``moderation.wording``)."""

from __future__ import annotations

from django import template

from beffroi.moderation.models import Decision
from beffroi.moderation.wording import case_reason as reason_sentence
from beffroi.moderation.wording import cited_category as category_cited
from beffroi.moderation.wording import detector_name, triggers

register = template.Library()


@register.filter
def trigger_rows(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``why.explanation`` as (detector's name, sentence) pairs."""
    return triggers(list(rows or []))


@register.filter
def case_reason(case: object, category_name: str = "") -> str:
    """The case's reason in the reader's language (a person's note as written)."""
    return reason_sentence(
        str(getattr(case, "reason", "") or ""),
        str(getattr(case, "category", "") or ""),
        category_name,
    )


@register.filter
def detector_label(detector: str) -> str:
    """A detector by the name a moderator knows it by ("rules" → "Charter rules")."""
    return detector_name(str(detector))


@register.simple_tag
def cited_category(decision: Decision) -> dict[str, str]:
    """``{% cited_category decision as cited %}``: ``cited.name`` and ``cited.clause`` in the
    reader's language (``moderation.wording.cited_category``)."""
    name, clause = category_cited(decision)
    return {"name": name, "clause": clause}


@register.filter
def category_label(decision: Decision) -> str:
    """The category a decision cited, by its name in the reader's language (not its slug)."""
    return category_cited(decision)[0] if decision.category else ""
