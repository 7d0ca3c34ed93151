"""How moderation data is shown: what is blurred, detector scores as rows, badge styles, why
an item was flagged, what a decision did on the platform (:func:`platform_effect`, the one
place that says it, in words), what the item's visibility really is, and the timeline of its
decisions (the case page and the item panel)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from beffroi.analysis.moderation.decide import CategoryPolicy
from beffroi.connectors.base import ConnectorError
from beffroi.connectors.registry import connector_class
from beffroi.items.models import Item
from beffroi.moderation.evidence import verify
from beffroi.moderation.models import Decision
from beffroi.sources import failures

#: Categories whose text is blurred until a person reveals it (hateful and violent content).
SENSITIVE_CATEGORIES = frozenset({"hate", "terrorism", "threat", "harassment"})
#: From this charter severity (1 low … 4 critical), any category is blurred too.
SENSITIVE_SEVERITY = 3

Effect = Decision.PlatformEffect

#: Badge style of each platform effect: green only for what the platform did.
EFFECT_BADGES: dict[str, str] = {
    Effect.NOT_NEEDED: "badge-neutral",
    Effect.PENDING: "badge-warn",
    Effect.DONE: "badge-ok",
    Effect.REFUSED: "badge-error",
    Effect.UNSUPPORTED: "badge-neutral",
    Effect.SIMULATED: "badge-neutral",
    Effect.CANCELLED: "badge-neutral",
}

#: Badge style of each decision status (what the organization decided: never green, so that
#: it is not read as "done on the platform", which the platform badge alone says).
STATUS_BADGES: dict[str, str] = {
    Decision.Status.APPLIED: "badge-neutral",
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
        # Today's name and clause, in the reader's language, where the charter still has the
        # category; the record (written in the language of its moment) otherwise.
        "category_name": names.get(category) or snapshot.get("name") or category,
        "clause": (policy.clause if policy else "")
        or (basis.clause if basis else "")
        or snapshot.get("clause"),
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
        .select_related("item", "actor", "confirmed_by", "evidence", "reverses")
        .prefetch_related("appeals")
        .order_by("created_at", "id")
    )
    return [
        {
            "decision": decision,
            "status_badge": STATUS_BADGES.get(decision.status, ""),
            "platform": platform_effect(decision),
            "sealed": decision.evidence is not None and verify(decision.evidence),
            "undoable": decision.undoable,
            "appealable": decision.appealable,
            "appeals": list(decision.appeals.all()),
        }
        for decision in decisions
    ]


# --- what a decision did on the platform -------------------------------------------------------


@lru_cache(maxsize=64)
def platform_name(platform: str) -> str:
    """The platform as people name it (``Facebook``), its slug when no connector knows it."""
    try:
        return str(connector_class(platform).label)
    except ConnectorError:
        return platform.capitalize() if platform else _("the platform")
    except Exception:  # a connector that cannot be imported: the slug still says which one
        return platform.capitalize() if platform else _("the platform")


def _pending_sentence(action: str, name: str) -> str:
    sentences: dict[str, str] = {
        Decision.Action.HIDE: _("Hiding requested, waiting for %(platform)s."),
        Decision.Action.DELETE: _("Deletion requested, waiting for %(platform)s."),
        Decision.Action.UNHIDE: _("Restoring requested, waiting for %(platform)s."),
        Decision.Action.REPLY: _("Reply requested, waiting for %(platform)s."),
        Decision.Action.REPORT: _("Report requested, waiting for %(platform)s."),
    }
    return sentences.get(action, _("Requested, waiting for %(platform)s.")) % {"platform": name}


def _done_sentence(action: str, name: str) -> str:
    sentences: dict[str, str] = {
        Decision.Action.HIDE: _("Hidden on %(platform)s."),
        Decision.Action.DELETE: _("Deleted on %(platform)s."),
        Decision.Action.UNHIDE: _("Shown again on %(platform)s."),
        Decision.Action.REPLY: _("Reply published on %(platform)s."),
        Decision.Action.REPORT: _("Reported to %(platform)s."),
    }
    return sentences.get(action, _("Done on %(platform)s.")) % {"platform": name}


def _refused_sentence(reason: str, name: str) -> str:
    sentences: dict[str, str] = {
        failures.REASON_CREDENTIALS: _(
            "Refused by %(platform)s: the account's access was refused or has expired. "
            "Reconnect the account, then retry."
        ),
        failures.REASON_NOT_FOUND: _(
            "Refused by %(platform)s: the item is no longer there (already removed, or its "
            "author deleted it)."
        ),
        failures.REASON_UNCONFIRMED: _(
            "%(platform)s did not confirm it (its answer was lost, or it failed while "
            "answering): it may have been done. Check on %(platform)s before retrying."
        ),
    }
    return sentences.get(reason, _("Refused by %(platform)s.")) % {"platform": name}


@dataclass(frozen=True)
class PlatformEffectView:
    """What a decision did on the platform, in words, with what a person can do about it."""

    effect: str
    label: str
    badge: str
    sentence: str
    detail: str
    attempts: int
    retry_scheduled: bool
    retryable: bool
    reconnect: bool

    @property
    def shown(self) -> bool:
        """Whether there is anything to say (a keep or an escalation involves no platform)."""
        return self.effect != Effect.NOT_NEEDED

    @property
    def took_effect(self) -> bool:
        return self.effect in (Effect.DONE, Effect.SIMULATED)


def platform_effect(decision: Decision) -> PlatformEffectView:
    """The one way every screen, export and the API say what ``decision`` did on the
    platform: pending, done, refused (a translated sentence; the platform's own words kept in
    ``detail``), not supported, not needed, or simulated on a demo source."""
    effect = decision.platform_effect
    result = decision.platform_result if isinstance(decision.platform_result, dict) else {}
    reason = str(result.get("reason") or "")
    name = platform_name(decision.item.platform)
    if effect == Effect.PENDING:
        if reason == failures.REASON_RATE_LIMITED:
            sentence = _("%(platform)s asked to wait: Beffroi will try again.") % {"platform": name}
        elif reason == failures.REASON_OUTAGE:
            sentence = _("%(platform)s could not be reached: Beffroi will try again.") % {
                "platform": name
            }
        else:
            sentence = _pending_sentence(decision.action, name)
    elif effect == Effect.DONE:
        sentence = _done_sentence(decision.action, name)
    elif effect == Effect.SIMULATED:
        sentence = _("Simulated: a demo source has no account, nothing was sent to %(platform)s.")
        sentence %= {"platform": name}
    elif effect == Effect.REFUSED:
        sentence = _refused_sentence(reason, name)
    elif effect == Effect.UNSUPPORTED:
        if reason == failures.REASON_UPLOAD:
            sentence = _(
                "Imported from a file: Beffroi has no account to act with. Do it on the "
                "platform yourself."
            )
        else:
            sentence = _(
                "%(platform)s does not allow this action to applications: do it on the "
                "platform yourself."
            ) % {"platform": name}
    elif effect == Effect.CANCELLED:
        sentence = _("Not sent: the decision was undone before the platform was asked.")
    else:
        sentence = _("No platform action needed.")
    return PlatformEffectView(
        effect=effect,
        label=decision.get_platform_effect_display(),
        badge=EFFECT_BADGES.get(effect, "badge-neutral"),
        sentence=sentence,
        detail=str(result.get("detail") or ""),
        attempts=decision.platform_attempts,
        retry_scheduled=effect == Effect.PENDING and bool(result.get("retry")),
        retryable=decision.retryable,
        reconnect=decision.retryable and reason == failures.REASON_CREDENTIALS,
    )


@dataclass(frozen=True)
class VisibilityView:
    """The item's visibility as it really is on the platform, and what waits or failed."""

    visibility: str
    label: str
    badge: str
    #: What the organization asked that the platform has not done (or refused), in words.
    note: str
    #: The restriction behind the note (for retry and reconnect), if any.
    decision: Decision | None


def visibility(item: Item, decisions: Iterable[Decision] | None = None) -> VisibilityView:
    """What the item's visibility is (it follows the platform's answer) and, when the latest
    restriction in force is not (yet) done, says so: "hiding requested, waiting for the
    platform", or "still visible: the platform refused"."""
    if decisions is None:
        decisions = Decision.objects.filter(item=item).order_by("-created_at", "-id")
    restriction = next(
        (
            d
            for d in sorted(decisions, key=lambda d: (d.created_at, d.pk), reverse=True)
            if d.status == Decision.Status.APPLIED
            and d.action in (Decision.Action.HIDE, Decision.Action.DELETE)
        ),
        None,
    )
    label = str(Item.Visibility(item.visibility).label)
    badge = "badge-neutral" if item.visibility == Item.Visibility.VISIBLE else "badge-warn"
    note = ""
    if restriction is not None and not restriction.took_effect:
        view = platform_effect(restriction)
        if view.effect in (Effect.REFUSED, Effect.UNSUPPORTED):
            note = _("Still visible on the platform. %(why)s") % {"why": view.sentence}
        else:
            note = view.sentence
        return VisibilityView(item.visibility, label, badge, note, restriction)
    return VisibilityView(item.visibility, label, badge, note, None)
