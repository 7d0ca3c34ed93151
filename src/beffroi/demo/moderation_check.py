"""How the moderation judges the demo town's labelled comments: a confusion table of what a
moderator would do (the demo label's expected action) against the charter's verdict.

Not a benchmark (the demo texts were written by the project, as the seed corpus was): a check
that the town a new user tries first is judged as a person would, shown in
docs/moderation.md. The hoax, the campaign and the impersonation are left out: the veille
finds them by what the posts share, not by what one post says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from beffroi.analysis.moderation.decide import CharterPolicy, Verdict, judge
from beffroi.analysis.moderation.evaluate import detector_signals
from beffroi.analysis.moderation.signals import Detector
from beffroi.demo.builder import build_demo_town

__all__ = ["VEILLE_CATEGORIES", "DemoJudgement", "judge_demo_town"]

#: Demo labels the veille finds (by the group of posts), not the moderation of one post.
VEILLE_CATEGORIES = frozenset({"hoax", "campaign", "impersonation"})


@dataclass(frozen=True)
class DemoJudgement:
    """Per (label category, expected action, verdict): how many items; and the items the
    verdict got wrong (a violating one kept, an acceptable one hidden or queued)."""

    table: Counter[tuple[str, str, str]]
    wrong: tuple[tuple[str, str, str, str, str], ...]  # category, expected, verdict, by, text

    @property
    def items(self) -> int:
        return sum(self.table.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "items": self.items,
            "wrong": len(self.wrong),
            "table": [
                {"label": label, "expected": expected, "verdict": verdict, "items": count}
                for (label, expected, verdict), count in sorted(self.table.items())
            ],
            "wrong_items": [
                {"label": label, "expected": expected, "verdict": verdict, "category": by,
                 "text": text}
                for label, expected, verdict, by, text in self.wrong
            ],
        }  # fmt: skip


def judge_demo_town(
    now: datetime, detectors: Sequence[Detector], policy: CharterPolicy
) -> DemoJudgement:
    """Judge every labelled demo comment with ``detectors`` under ``policy``."""
    town = build_demo_town(now)
    rows: list[tuple[str, str, str]] = []
    for source in town.sources:
        for item in source.items:
            label = town.labels.get((source.name, item.platform_id))
            if label is None or not item.text or label.category in VEILLE_CATEGORIES:
                continue
            rows.append((item.text, label.category, label.expected_action))
    table: Counter[tuple[str, str, str]] = Counter()
    wrong: list[tuple[str, str, str, str, str]] = []
    signals = detector_signals(detectors, [text for text, _, _ in rows])
    for (text, category, expected), found in zip(rows, signals, strict=True):
        judgement = judge(found, policy)
        verdict = judgement.verdict.value
        table[(category, expected, verdict)] += 1
        flagged = judgement.verdict is not Verdict.KEEP
        if flagged != (expected in ("hide", "review")):
            wrong.append((category, expected, verdict, judgement.category, text))
    return DemoJudgement(table, tuple(wrong))
