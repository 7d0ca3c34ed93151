"""How moderation data is shown: what is blurred, detector scores as rows, badge styles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beffroi.items.models import Item
from beffroi.moderation.models import Decision

#: Categories whose text is blurred until a person reveals it (hateful and violent content).
SENSITIVE_CATEGORIES = frozenset({"hate", "terrorism", "threat", "harassment"})
#: From this charter severity (1 low … 4 critical), any category is blurred too.
SENSITIVE_SEVERITY = 3

#: Badge style of each platform status (the badge also carries the words).
PLATFORM_BADGES = {
    Decision.PlatformStatus.DONE: "badge-ok",
    Decision.PlatformStatus.PENDING: "badge-warn",
    Decision.PlatformStatus.FAILED: "badge-error",
    Decision.PlatformStatus.UNSUPPORTED: "badge-neutral",
    Decision.PlatformStatus.NOT_NEEDED: "badge-neutral",
}

#: Badge style of each decision status.
STATUS_BADGES = {
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
