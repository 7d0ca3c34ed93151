"""EU DSA statements of reasons, from decisions, with the Transparency Database's field names.

Only restrictions are statements (hide → visibility disabled, delete → content removed); an
item kept needs none. Field names and values follow the Transparency Database API; they are
checked by :func:`beffroi.charter.dsa.validate_statement`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from beffroi.moderation.models import Decision

VISIBILITY = {
    Decision.Action.HIDE: "DECISION_VISIBILITY_CONTENT_DISABLED",
    Decision.Action.DELETE: "DECISION_VISIBILITY_CONTENT_REMOVED",
}

#: Decisions that are statements of reasons: restrictions in force or that were in force.
STATEMENT_STATUSES = (
    Decision.Status.APPLIED,
    Decision.Status.UNDONE,
    Decision.Status.OVERTURNED,
)


def statement_decisions(organization: Any) -> Any:
    return (
        Decision.objects.filter(
            organization=organization,
            action__in=list(VISIBILITY),
            status__in=STATEMENT_STATUSES,
        )
        .select_related("item", "organization")
        .order_by("created_at", "id")
    )


def _automated_decision(decision: Decision) -> str:
    if decision.automated and decision.confirmed_by_id is None:
        return "AUTOMATED_DECISION_FULLY"
    if decision.detectors:
        return "AUTOMATED_DECISION_PARTIALLY"
    return "AUTOMATED_DECISION_NOT_AUTOMATED"


def statement(decision: Decision) -> dict[str, Any]:
    """The statement of reasons for one restrictive decision."""
    charter = decision.charter_snapshot or {}
    item = decision.item
    legal_reference = str(charter.get("legal_reference") or "")
    clause = str(charter.get("clause") or decision.clause or "")
    facts = " ".join(
        part
        for part in (
            f"Comment published on {item.platform} on {item.created_at.date().isoformat()}.",
            f"Charter category: {charter.get('name') or decision.category or 'unspecified'}.",
            f"Moderator's note: {decision.note}" if decision.note else "",
        )
        if part
    )
    body: dict[str, Any] = {
        "decision_visibility": [VISIBILITY[Decision.Action(decision.action)]],
        "category": charter.get("dsa_category") or "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "application_date": decision.created_at.date().isoformat(),
        "content_date": item.created_at.date().isoformat(),
        "decision_facts": facts[:5000],
        "source_type": "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if decision.detectors else "No",
        "automated_decision": _automated_decision(decision),
        "puid": f"beffroi-{decision.organization.slug}-{decision.pk}",
        "territorial_scope": ["FR"],
    }
    if item.language and len(item.language) == 2:
        body["content_language"] = item.language.upper()
    specifications = [str(s) for s in charter.get("dsa_specifications") or []]
    if specifications:
        body["category_specification"] = specifications
    ground = str(charter.get("dsa_decision_ground") or "")
    if not ground:
        illegal = bool(legal_reference)
    else:
        illegal = ground == "DECISION_GROUND_ILLEGAL_CONTENT"
    if illegal:
        body["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        body["illegal_content_legal_ground"] = (legal_reference or "unspecified")[:500]
        body["illegal_content_explanation"] = (clause or facts)[:2000]
    else:
        body["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        body["incompatible_content_ground"] = (
            f"Usage charter, category {charter.get('name') or decision.category}"
        )[:500]
        body["incompatible_content_explanation"] = (clause or facts)[:2000]
        body["incompatible_content_illegal"] = "No"
    return body


def statements(organization: Any) -> Iterator[dict[str, Any]]:
    for decision in statement_decisions(organization).iterator():
        yield statement(decision)


#: CSV columns (lists are joined with "|").
CSV_FIELDS = (
    "puid",
    "application_date",
    "content_date",
    "decision_visibility",
    "decision_ground",
    "category",
    "category_specification",
    "illegal_content_legal_ground",
    "illegal_content_explanation",
    "incompatible_content_ground",
    "incompatible_content_explanation",
    "incompatible_content_illegal",
    "content_type",
    "content_language",
    "automated_detection",
    "automated_decision",
    "source_type",
    "territorial_scope",
    "decision_facts",
)


def csv_row(body: dict[str, Any]) -> list[str]:
    row = []
    for name in CSV_FIELDS:
        value = body.get(name, "")
        row.append("|".join(value) if isinstance(value, list) else str(value))
    return row
