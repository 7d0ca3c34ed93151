"""What the fidelity run works on: one mapped record (an :class:`Outcome`) and the field checks
(:class:`Check`) each platform declares over its outcomes.

A platform module (``tests/fidelity/platforms/<name>.py``) declares::

    PLATFORM = "x"                      # the folder under tests/corpus/
    def read(path: Path) -> Iterator[Outcome]: ...   # every record of one recorded file
    CHECKS: tuple[Check, ...] = (...)   # the field checks over those outcomes

``read`` maps each record through Beffroi's own code (the connector's mapping, the file import,
the ClaimReview reader) and yields one Outcome per record, with ``error`` set (and no item)
where the mapping raised: the run fails on any error that is not a refusal the check list
expects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """One record of a recorded file and what Beffroi made of it."""

    #: The recorded file, relative to tests/corpus/.
    file: str
    #: Which record of the file (its platform id, or its index where it has none).
    ref: str
    #: The record as recorded (a post with its page's ``includes``, a feed entry, a JSON-LD
    #: node…): checks compare what was mapped with what was sent.
    payload: Mapping[str, Any]
    #: What Beffroi made of it: a NormalizedItem, a CheckedClaim…; None where it raised.
    item: Any = None
    #: ``ExceptionType: message`` where the mapping raised.
    error: str | None = None
    #: Anything else a check needs (the feed's language, the page's URL…).
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One field check: over the outcomes it ``applies`` to, how many it ``passes``."""

    name: str
    #: What is checked, in a sentence (printed in the report).
    description: str
    passes: Callable[[Outcome], bool]
    applies: Callable[[Outcome], bool] = lambda outcome: outcome.item is not None
