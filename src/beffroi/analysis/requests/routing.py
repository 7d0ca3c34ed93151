"""Routing: which service of the town should handle a request.

First the organization's *ordered rules*: each has a condition (keywords, or a query in the
watch query language of :mod:`beffroi.analysis.watch_query`, and optionally platforms,
sources and authors), a target service and what happens next: ``stop`` (the rule decides) or
``continue`` (the rule assigns its service, later rules may still override it). A rule in
*shadow* mode is evaluated and reported but changes nothing: that is how a new rule is tried
before it is trusted. When no live rule matched, the *learned router* decides: a classifier
over services (:class:`~.detect.TextClassifier`), trained on the corpus's requests plus the
community managers' corrections, which weigh more. A shadow model can be run beside it.

A :class:`RoutingDecision` says which rule or the model decided, with what confidence.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from beffroi.analysis.requests.corpus import SERVICES
from beffroi.analysis.requests.detect import (
    CORRECTION_WEIGHT,
    RequestExample,
    TextClassifier,
    cache_dir,
    cached_corpus_model,
    corpus_examples,
    train_text_classifier,
)
from beffroi.analysis.watch_query import Query, WatchDocument, parse

__all__ = [
    "Message",
    "Router",
    "RoutingDecision",
    "RoutingRule",
    "RuleMatch",
    "ServiceModel",
    "default_service_model",
    "train_service_model",
]

Then = Literal["stop", "continue"]
#: Who decided when nothing did: no live rule matched and no model is configured.
UNROUTED = "autre"


@dataclass(frozen=True)
class Message:
    """What routing looks at in an incoming item."""

    text: str
    author_handle: str = ""
    platform: str = ""
    source: str = ""  # the organization's source (page, account, watch) it came through
    language: str = ""

    def document(self) -> WatchDocument:
        return WatchDocument.from_text(
            self.text,
            author_handle=self.author_handle,
            language=self.language,
            platform=self.platform,
        )


def _quoted(keyword: str) -> str:
    return '"' + keyword.replace('"', " ").strip() + '"'


@dataclass(frozen=True)
class RoutingRule:
    """One routing rule. ``keywords`` (any of them, as whole words, accents and case
    ignored) and ``query`` (watch query syntax) must both match when both are given; empty
    ``platforms``, ``sources`` or ``authors`` mean any. A rule needs at least one condition.
    A bad query raises :class:`~beffroi.analysis.watch_query.WatchQueryError`."""

    name: str
    service: str
    keywords: tuple[str, ...] = ()
    query: str = ""
    platforms: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    then: Then = "stop"
    shadow: bool = False
    _compiled: tuple[Query, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.then not in ("stop", "continue"):
            raise ValueError(f"rule {self.name!r}: then must be 'stop' or 'continue'")
        compiled: list[Query] = []
        words = [k for k in self.keywords if k.strip()]
        if words:
            compiled.append(parse(" OR ".join(_quoted(k) for k in words)))
        if self.query.strip():
            compiled.append(parse(self.query))
        if not compiled and not (self.platforms or self.sources or self.authors):
            raise ValueError(f"rule {self.name!r} has no condition")
        object.__setattr__(self, "_compiled", tuple(compiled))

    def matches(self, message: Message, document: WatchDocument | None = None) -> bool:
        if self.platforms and message.platform.casefold() not in {
            p.casefold() for p in self.platforms
        }:
            return False
        if self.sources and message.source not in self.sources:
            return False
        if self.authors:
            handle = message.author_handle.lstrip("@").casefold()
            if handle not in {a.lstrip("@").casefold() for a in self.authors}:
                return False
        if not self._compiled:
            return True
        doc = document if document is not None else message.document()
        return all(query.matches(doc) for query in self._compiled)


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    service: str
    shadow: bool
    then: Then


@dataclass(frozen=True)
class RoutingDecision:
    """``decided_by``: ``"rule"``, ``"model"`` or ``"default"``; ``rule`` names the rule.
    ``matches``: every rule that matched, in order, shadow ones included (until a live
    ``stop``). ``shadow_service``: what the decision would be with the shadow rules live,
    when that differs; ``shadow_model_service``: the shadow model's choice, if one runs."""

    service: str
    decided_by: Literal["rule", "model", "default"]
    confidence: float
    rule: str = ""
    model: str = ""
    matches: tuple[RuleMatch, ...] = ()
    shadow_service: str | None = None
    shadow_model_service: str | None = None


# --- The learned router ------------------------------------------------------------------------


class ServiceModel:
    """A classifier over services (or any category names it was trained on)."""

    def __init__(self, model: TextClassifier) -> None:
        self.model = model

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def services(self) -> tuple[str, ...]:
        return self.model.labels

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        return self.model.predict(texts)


def train_service_model(
    corrections: Sequence[RequestExample] = (),
    *,
    base: Sequence[RequestExample] | None = None,
    correction_weight: float = CORRECTION_WEIGHT,
    use_embedding: bool = True,
    balance: bool = True,
) -> ServiceModel:
    """Train on ``base`` (default: the corpus's requests) plus routed ``corrections``
    (examples with a ``service``), each weighing ``correction_weight`` base examples. With
    ``base=[]`` it learns only the corrections' categories (a data set's own names)."""
    seeded = base is None
    pool = corpus_examples() if base is None else list(base)
    base_examples = [e for e in pool if e.service]
    routed = [e for e in corrections if e.service]
    examples = [*base_examples, *routed]
    model = train_text_classifier(
        [e.text for e in examples],
        [e.service for e in examples],
        [1.0] * len(base_examples) + [correction_weight] * len(routed),
        use_embedding=use_embedding,
        embedding_cache=cache_dir() if seeded else None,
        cached_count=len(base_examples) if seeded else 0,
        balance=balance,
        corrections=len(routed),
    )
    return ServiceModel(model)


_default_lock = threading.Lock()


@lru_cache(maxsize=2)
def _default(use_embedding: bool) -> ServiceModel:
    return ServiceModel(
        cached_corpus_model(
            "router",
            [use_embedding, SERVICES],
            Path(__file__),
            lambda: train_service_model(use_embedding=use_embedding).model,
        )
    )


def default_service_model(use_embedding: bool = True) -> ServiceModel:
    """The router trained on the corpus's requests, cached like the detector."""
    with _default_lock:
        return _default(use_embedding)


# --- Rules, then the model ---------------------------------------------------------------------


def _apply_rules(
    rules: Sequence[RoutingRule], message: Message, *, shadow_live: bool
) -> tuple[str | None, str, list[RuleMatch]]:
    """(service, deciding rule, matches) of the rules; shadow rules count only when
    ``shadow_live``."""
    document = message.document()
    service: str | None = None
    deciding = ""
    matches: list[RuleMatch] = []
    for rule in rules:
        if not rule.matches(message, document):
            continue
        matches.append(RuleMatch(rule.name, rule.service, rule.shadow, rule.then))
        if rule.shadow and not shadow_live:
            continue
        service, deciding = rule.service, rule.name
        if rule.then == "stop":
            break
    return service, deciding, matches


class Router:
    """Ordered rules, then the learned model (``None``: the :data:`UNROUTED` service)."""

    def __init__(
        self,
        rules: Sequence[RoutingRule] = (),
        model: ServiceModel | None = None,
        *,
        shadow_model: ServiceModel | None = None,
        default_service: str = UNROUTED,
    ) -> None:
        self.rules = tuple(rules)
        self.model = model
        self.shadow_model = shadow_model
        self.default_service = default_service

    def route(self, message: Message) -> RoutingDecision:
        return self.route_many([message])[0]

    def route_many(self, messages: Sequence[Message]) -> list[RoutingDecision]:
        """Decisions for many messages; the models see all the texts left in one batch."""
        ruled = [_apply_rules(self.rules, m, shadow_live=False) for m in messages]
        needing_model = [i for i, (service, _, _) in enumerate(ruled) if service is None]
        predicted: dict[int, tuple[str, float]] = {}
        if self.model is not None and needing_model:
            texts = [messages[i].text for i in needing_model]
            predicted = dict(zip(needing_model, self.model.predict(texts), strict=True))
        shadow_predicted: list[tuple[str, float]] = []
        if self.shadow_model is not None:
            shadow_predicted = self.shadow_model.predict([m.text for m in messages])
        decisions: list[RoutingDecision] = []
        for index, (message, (service, rule, matches)) in enumerate(
            zip(messages, ruled, strict=True)
        ):
            if service is not None:
                decision = RoutingDecision(service, "rule", 1.0, rule=rule, matches=tuple(matches))
            elif index in predicted:
                label, probability = predicted[index]
                assert self.model is not None
                decision = RoutingDecision(
                    label, "model", round(probability, 4), model=self.model.version,
                    matches=tuple(matches),
                )  # fmt: skip
            else:
                decision = RoutingDecision(
                    self.default_service, "default", 0.0, matches=tuple(matches)
                )
            shadow_service: str | None = None
            if any(m.shadow for m in matches):
                live, _, _ = _apply_rules(self.rules, message, shadow_live=True)
                if live is not None and live != decision.service:
                    shadow_service = live
            decisions.append(
                RoutingDecision(
                    decision.service,
                    decision.decided_by,
                    decision.confidence,
                    rule=decision.rule,
                    model=decision.model,
                    matches=decision.matches,
                    shadow_service=shadow_service,
                    shadow_model_service=shadow_predicted[index][0] if shadow_predicted else None,
                )
            )
        return decisions
