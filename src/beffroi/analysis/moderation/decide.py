"""From detector signals to a verdict, by the organization's charter (pure, Django-free).

The charter says, per category, at which confidence an item is hidden at once and at which it
goes to a person; below both it is kept. A category (or a whole charter version) in shadow
mode yields the same verdict marked ``shadow``: it is recorded, never acted on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from beffroi.analysis.moderation.signals import Signal


class Verdict(StrEnum):
    KEEP = "keep"
    REVIEW = "review"
    HIDE = "hide"


@dataclass(frozen=True)
class CategoryPolicy:
    """What the charter says about one category."""

    slug: str
    name: str
    clause: str = ""
    legal_reference: str = ""
    severity: int = 2
    hide_at: float | None = None
    review_at: float | None = 0.5
    shadow: bool = False
    enabled: bool = True
    auto_delete: bool = False
    dsa_decision_ground: str = ""
    dsa_category: str = ""
    dsa_specifications: tuple[str, ...] = ()


@dataclass(frozen=True)
class CharterPolicy:
    """One charter version, as the decision engine needs it."""

    version: int
    categories: Mapping[str, CategoryPolicy]
    shadow: bool = False
    #: Identifies the version in the database (rules are looked up by it).
    key: int = 0

    def category(self, slug: str) -> CategoryPolicy | None:
        policy = self.categories.get(slug)
        return policy if policy is not None and policy.enabled else None


@dataclass(frozen=True)
class Judgement:
    """The verdict on one text, with everything needed to explain it."""

    verdict: Verdict
    category: str
    score: float
    shadow: bool
    signals: tuple[Signal, ...] = field(default_factory=tuple)

    @property
    def evidence(self) -> tuple[str, ...]:
        """What triggered the verdict's category, detector by detector."""
        return tuple(
            f"{signal.detector}: {item}"
            for signal in self.signals
            if signal.category == self.category
            for item in signal.evidence
        )

    @property
    def detectors(self) -> dict[str, str]:
        return {signal.detector: signal.detector_version for signal in self.signals}

    def scores(self) -> dict[str, dict[str, float]]:
        """Category → detector → score, for the record."""
        table: dict[str, dict[str, float]] = {}
        for signal in self.signals:
            table.setdefault(signal.category, {})[signal.detector] = round(signal.score, 4)
        return table


def category_scores(signals: Iterable[Signal]) -> dict[str, float]:
    """Each category's score: the most confident detector's.

    The maximum keeps the explanation simple (one detector, its evidence) and lets a precise
    rule decide alone where the classifier hesitates.
    """
    scores: dict[str, float] = {}
    for signal in signals:
        scores[signal.category] = max(scores.get(signal.category, 0.0), signal.score)
    return scores


def _rank(verdict: Verdict) -> int:
    return {Verdict.KEEP: 0, Verdict.REVIEW: 1, Verdict.HIDE: 2}[verdict]


def judge(signals: Sequence[Signal], policy: CharterPolicy) -> Judgement:
    """The strongest verdict any enabled category calls for; severity breaks ties."""
    best: tuple[int, int, float, str] | None = None
    best_verdict = Verdict.KEEP
    for slug, score in category_scores(signals).items():
        category = policy.category(slug)
        if category is None:
            continue
        if category.hide_at is not None and score >= category.hide_at:
            verdict = Verdict.HIDE
        elif category.review_at is not None and score >= category.review_at:
            verdict = Verdict.REVIEW
        else:
            verdict = Verdict.KEEP
        key = (_rank(verdict), category.severity, score, slug)
        if best is None or key > best:
            best, best_verdict = key, verdict
    if best is None:
        return Judgement(Verdict.KEEP, "", 0.0, policy.shadow, tuple(signals))
    category = policy.categories[best[3]]
    return Judgement(
        verdict=best_verdict,
        category=best[3],
        score=best[2],
        shadow=policy.shadow or category.shadow,
        signals=tuple(signals),
    )
