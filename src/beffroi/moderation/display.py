"""How moderation data is shown: what is blurred, detector scores as rows, badge styles, why
an item was flagged and the timeline of its decisions (the case page and the item panel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beffroi.analysis.moderation.decide import CategoryPolicy
from beffroi.items.models import Item
from beffroi.moderation.evidence import verify
from beffroi.moderation.models import Decision

#: Categories whose text is blurred until a person reveals it (hateful and violent content).
SENSITIVE_CATEGORIES = frozenset({"hate", "terrorism", "threat", "harassment"})
#: From this charter severity (1 low … 4 critical), any category is blurred too.
SENSITIVE_SEVERITY = 3

#: Badge style of each platform status (the badge also carries the words).
PLATFORM_BADGES: dict[str, str] = {
    Decision.PlatformStatus.DONE: "badge-ok",
    Decision.PlatformStatus.PENDING: "badge-warn",
    Decision.PlatformStatus.FAILED: "badge-error",
    Decision.PlatformStatus.UNSUPPORTED: "badge-neutral",
    Decision.PlatformStatus.NOT_NEEDED: "badge-neutral",
}

#: Badge style of each decision status.
STATUS_BADGES: dict[str, str] = {
    Decision.Status.APPLIED: "badge-ok",
    Decision.Status.PROPOSED: "badge-warn",
    Decision.Status.SHADOW: "badge-neutral",
    Decision.Status.UNDONE: "badge-neutral",
    Decision.Status.OVERTURNED: "badge-error",
    Decision.Status.SUPERSEDED: "badge-neutral",
}


def is_sensitive(category: str, severity: int | None = None) -> bool:
    return category in SENSITIVE_CATEGORIES or (severity or 0) >= SENSITIVE_SEVERITY


def item_is_sensitive(item: Item, severities: dict[str, int] | None = None) -> bool:
    """Whether an item's text should be blurred, from what the detectors found in it."""
    analysis = item.analysis if isinstance(item.analysis, dict) else {}
    if analysis.get("verdict") in (None, "", "keep"):
        return False
    category = str(analysis.get("category") or "")
    return is_sensitive(category, (severities or {}).get(category))


@dataclass(frozen=True)
class DetectorScore:
    category: str
    category_name: str
    detector: str
    score: float

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def detector_rows(scores: Any, names: dict[str, str] | None = None) -> list[DetectorScore]:
    """``{category: {detector: score}}`` as rows, the highest scores first."""
    rows: list[DetectorScore] = []
    if not isinstance(scores, dict):
        return rows
    for category, by_detector in scores.items():
        if not isinstance(by_detector, dict):
            continue
        for detector, score in by_detector.items():
            try:
                value = float(score)
            except (TypeError, ValueError):
                continue
            rows.append(
                DetectorScore(
                    str(category), (names or {}).get(category, str(category)), str(detector), value
                )
            )
    rows.sort(key=lambda row: (-row.score, row.category, row.detector))
    return rows


def explanation_rows(explanation: Any) -> list[tuple[str, str]]:
    """``["rules: keyword 'x'", …]`` as (detector, what triggered it) pairs."""
    rows = []
    for entry in explanation if isinstance(explanation, list) else []:
        text = str(entry)
        detector, sep, detail = text.partition(": ")
        rows.append((detector, detail) if sep else ("", text))
    return rows


def percent(score: float | None) -> str:
    return "–" if score is None else f"{round(score * 100)} %"


def why(
    item: Item, basis: Decision | None, category: str, categories: dict[str, CategoryPolicy]
) -> dict[str, Any]:
    """Why the item was flagged: category, clause cited, score per detector, what matched.

    ``basis`` is the decision whose record (scores at the time, charter snapshot) is shown
    where there is one; otherwise the item's analysis and today's charter ``categories``.
    """
    analysis = item.analysis if isinstance(item.analysis, dict) else {}
    names = {slug: policy.name for slug, policy in categories.items()}
    policy = categories.get(category)
    snapshot = (basis.charter_snapshot if basis else None) or {}
    scores = (basis.scores if basis and basis.scores else None) or analysis.get("scores") or {}
    explanation = (basis.explanation if basis and basis.explanation else None) or analysis.get(
        "explanation"
    )
    detectors = (basis.detectors if basis and basis.detectors else None) or analysis.get(
        "detectors"
    )
    score = basis.score if basis and basis.score is not None else analysis.get("score")
    return {
        "category": category,
        "category_name": snapshot.get("name") or names.get(category, category),
        "clause": (basis.clause if basis else "")
        or snapshot.get("clause")
        or (policy.clause if policy else ""),
        "legal_reference": snapshot.get("legal_reference")
        or (policy.legal_reference if policy else ""),
        "severity": snapshot.get("severity") or (policy.severity if policy else None),
        "score": percent(score if isinstance(score, int | float) else None),
        "detector_scores": detector_rows(scores, names),
        "explanation": explanation_rows(explanation),
        "detectors": sorted((detectors or {}).items()) if isinstance(detectors, dict) else [],
        "charter_version": (basis.charter_version if basis else None)
        or analysis.get("charter_version"),
    }


def timeline(item: Item) -> list[dict[str, Any]]:
    """Every decision on the item, oldest first, with its evidence seal and its appeals."""
    decisions = (
        Decision.objects.filter(item=item)
        .select_related("actor", "confirmed_by", "evidence", "reverses")
        .prefetch_related("appeals")
        .order_by("created_at", "id")
    )
    return [
        {
            "decision": decision,
            "status_badge": STATUS_BADGES.get(decision.status, ""),
            "platform_badge": PLATFORM_BADGES.get(decision.platform_status, ""),
            "platform_detail": str((decision.platform_result or {}).get("detail", "")),
            "platform_retry": bool((decision.platform_result or {}).get("retry")),
            "sealed": decision.evidence is not None and verify(decision.evidence),
            "undoable": decision.undoable,
            "appealable": decision.appealable,
            "appeals": list(decision.appeals.all()),
        }
        for decision in decisions
    ]
