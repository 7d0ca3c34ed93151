"""EU DSA statements of reasons, from decisions, with the Transparency Database's field names.

Only restrictions are statements (hide → visibility disabled, delete → content removed); an
item kept needs none. Only restrictions that took effect on the platform are statements: one
the platform refused, still waits for, or cannot carry out restricted nothing, so no
statement is issued for it (an export counts them apart: ``not_in_effect``). A demo source's
simulated action is one, and its facts say it was simulated. Field names and values follow the Transparency Database API. An export
(:func:`export_statements`) checks each statement with
:func:`beffroi.charter.dsa.validate_statement` before writing it: a statement the database
would refuse (a charter category mapped to a value it does not know, a date before 2000…) is
left out, and the export says which decisions were left out and why. Exports are audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet

from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.charter.dsa import validate_statement
from beffroi.moderation.models import Decision
from beffroi.organizations.models import Organization

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


def restrictions(
    organization: Any, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Decision]:
    """The organization's restrictions decided within the dates, whatever the platform did."""
    decisions = Decision.objects.for_org(organization).filter(
        action__in=list(VISIBILITY), status__in=STATEMENT_STATUSES
    )
    if date_from is not None:
        decisions = decisions.filter(created_at__date__gte=date_from)
    if date_to is not None:
        decisions = decisions.filter(created_at__date__lte=date_to)
    return decisions


def statement_decisions(
    organization: Any, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Decision]:
    """The organization's restrictions that took effect on the platform (done, or simulated
    on a demo source: :attr:`Decision.took_effect`), oldest first, within the dates."""
    return (
        restrictions(organization, date_from, date_to)
        .filter(platform_status=Decision.PlatformStatus.DONE)
        .select_related("item", "organization")
        .order_by("created_at", "id")
    )


def not_in_effect(
    organization: Any, date_from: date | None = None, date_to: date | None = None
) -> int:
    """How many restrictions within the dates have no statement: the platform refused them,
    has not carried them out yet, or cannot."""
    return (
        restrictions(organization, date_from, date_to)
        .exclude(platform_status=Decision.PlatformStatus.DONE)
        .count()
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
            "Simulated on a demo source: nothing was sent to a platform."
            if decision.platform_effect == Decision.PlatformEffect.SIMULATED
            else "",
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
    """Every statement of the organization, unchecked (an export checks them)."""
    for decision in statement_decisions(organization).iterator():
        yield statement(decision)


@dataclass(frozen=True)
class LeftOut:
    """A decision whose statement of reasons does not validate, and why."""

    decision_id: int
    puid: str
    problems: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision_id, "puid": self.puid, "problems": list(self.problems)}


#: An export's audit event names at most this many of the decisions left out (and counts all).
AUDITED_LEFT_OUT = 100


@dataclass
class StatementsExport:
    """The statements an export writes (those that validate) and the decisions left out.

    The decisions are read twice: once to check every statement (so that what is left out is
    known before the first byte is sent, for a header and a message), once to write them
    without holding them all in memory. Decisions taken between the two readings are not
    part of the export.
    """

    decisions: QuerySet[Decision]
    count: int = 0
    left_out: list[LeftOut] = field(default_factory=list)
    last_id: int = 0
    #: Restrictions within the dates that did not take effect on the platform: no statement.
    not_in_effect: int = 0

    def bodies(self) -> Iterator[dict[str, Any]]:
        """The statements that validate, oldest first."""
        skipped = {entry.decision_id for entry in self.left_out}
        for decision in self.decisions.filter(pk__lte=self.last_id).iterator(chunk_size=500):
            if decision.pk in skipped:
                continue
            # Checked again: nothing unchecked is written, even if a decision changed since
            # (then it joins those left out, which the JSON lists after the statements).
            body, refused = _checked(decision)
            if refused is not None:
                self.left_out.append(refused)
                skipped.add(decision.pk)
                continue
            yield body


def _checked(decision: Decision) -> tuple[dict[str, Any], LeftOut | None]:
    """The decision's statement, and why it is left out when it does not validate."""
    body = statement(decision)
    problems = validate_statement(body)
    refused = LeftOut(decision.pk, str(body["puid"]), tuple(problems)) if problems else None
    return body, refused


def check_statements(decisions: QuerySet[Decision]) -> StatementsExport:
    """Validate the statement of each decision: how many will be written, which are left out."""
    export = StatementsExport(decisions)
    for decision in decisions.iterator(chunk_size=500):
        _body, refused = _checked(decision)
        if refused is not None:
            export.left_out.append(refused)
        else:
            export.count += 1
        export.last_id = max(export.last_id, decision.pk)
    return export


def export_statements(
    actor: Actor,
    organization: Organization,
    fmt: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
) -> StatementsExport:
    """The organization's statements of reasons between the dates, checked, ready to write;
    the export (personal data leaving Beffroi, in bulk) is written to the audit trail."""
    export = check_statements(statement_decisions(organization, date_from, date_to))
    export.not_in_effect = not_in_effect(organization, date_from, date_to)
    record(
        actor,
        AuditAction.MODERATION_STATEMENTS_EXPORTED,
        organization=organization,
        after={
            "format": fmt,
            "date_from": date_from.isoformat() if date_from else None,
            "date_to": date_to.isoformat() if date_to else None,
            "statements": export.count,
            "left_out": len(export.left_out),
            "not_in_effect": export.not_in_effect,
            "left_out_decisions": [e.decision_id for e in export.left_out[:AUDITED_LEFT_OUT]],
        },
    )
    return export


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
