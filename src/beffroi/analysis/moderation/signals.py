"""What every detector returns, so the decision engine can treat them all alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

# Charter category slugs shared by the default charter, the rule lists and the classifier.
CATEGORIES: tuple[str, ...] = (
    "hate",
    "terrorism",
    "threat",
    "harassment",
    "insult",
    "defamation",
    "personal_data",
    "spam",
    "disinformation",
    "impersonation",
    "off_topic",
)


@dataclass(frozen=True)
class Signal:
    """One detector's opinion on one text for one charter category.

    ``score`` is in [0, 1]; ``evidence`` names what triggered it (matched words, rule ids,
    the n-grams that weighed most) so a moderator and an auditor can see why.
    """

    detector: str
    detector_version: str
    category: str
    score: float
    evidence: tuple[str, ...] = field(default_factory=tuple)


class Detector(Protocol):
    """A detector scores a batch of texts; it returns one list of signals per text."""

    name: str
    version: str

    def score(self, texts: Sequence[str]) -> list[list[Signal]]:
        """Score each text (raw, as posted); signals below any interest may be omitted."""
        ...
